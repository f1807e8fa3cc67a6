/* The zcopy transport's page-grant path for payloads bigger than the pool's area
 * (transport_zcopy_grant.c), used by transport_zcopy.c on both sides of a connection. */
#pragma once
#include <stddef.h>

#include "sys.h"
#include "transport_zcopy.h"

struct zc_grant {
    uint8_t *out;     /* where this side writes what it sends: ZCOPY_GRANT_MAX bytes */
    uint8_t *in;      /* where it maps what it receives: the same, plus an unmapped page */
    size_t out_pages; /* mapped at out, not yet granted */
    size_t in_pages;  /* the received object mapped at in */
    cap_t in_obj;     /* its capability */
};

/* Reserves both ranges; ERR_NOMEM when the connection window is full. */
int zc_grant_setup(struct zc_grant *g);
void zc_grant_release(struct zc_grant *g);
/* Unmaps a buffer handed out and never sent. */
void zc_grant_drop_out(struct zc_grant *g);
/* Unmaps the payload received last and deletes its capability. */
void zc_grant_drop_in(struct zc_grant *g);
/* Maps fresh pages at out for len bytes (ZCOPY_AREA_BYTES < len <= ZCOPY_GRANT_MAX). */
int zc_grant_buffer(struct zc_grant *g, size_t len, void **buf);
/* Grants the pages at out away (MEM_GRANT_MOVE) and fills m with the TRANSPORT_OP_GRANT message
 * for len bytes; returns the object's capability, which the caller sends and then deletes, or
 * an error (the buffer is then gone). ERR_NOENT when no buffer of that size was handed out. */
long zc_grant_pack(struct zc_grant *g, size_t len, struct ipc_msg *m);
/* Checks a TRANSPORT_OP_GRANT message and the capabilities it carried (caps: the receiving
 * IPC buffer's) and maps the object read-only at in: the payload's length, or ERR_RANGE (bad
 * length, not exactly one capability, or an object of another size) or ERR_TYPE (not a memory
 * object, or without MAP and READ); on any error every capability it carried is deleted. */
long zc_grant_unpack(struct zc_grant *g, const struct ipc_msg *m, const uint32_t *caps,
                     const void **payload);
