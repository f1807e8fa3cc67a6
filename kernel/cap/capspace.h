/* Capability spaces: each process's capability table in kernel memory, the lock that covers
 * every table and every IPC object, the per-type hooks that close and destroy objects, and the
 * capability system calls. The pure table logic is captable.c. */
#pragma once
#include <stdint.h>

#include "arch/x86_64/spinlock.h"
#include "cap/captable.h"

/* One lock for all capability tables (a derivation tree spans tables), endpoint and
 * notification queues and the IPC state of every thread, as seL4 uses one lock for its whole
 * kernel on SMP. Taken with interrupts off. Order: cap_lock, then run-queue locks, then
 * vmspace locks; never with process_lock held. docs/ipc.md has the reasoning. */
extern struct spinlock cap_lock;

struct capspace {
    struct cap_table t;
    unsigned pages; /* frames holding the slots; 0 when there is no table */
};

/* What the kernel does with an object of one type once the table lists it (captable.h): close
 * it (its last RECEIVE or its last SEND capability went, others remain: close looks at
 * recv_refs and send_refs for which side is gone, and may be called more than once) and
 * destroy it (its last capability went; close has not necessarily been called). Both run
 * under cap_lock. */
struct cap_type_ops {
    void (*close)(struct cap_object *obj);
    void (*destroy)(struct cap_object *obj);
    /* Optional: work destroy left for after cap_lock is released (waiting for an interrupt
     * handler that takes it). */
    void (*flush)(void);
};
void cap_type_register(enum cap_type type, const struct cap_type_ops *ops);

/* Boot option quota_caps: the capacity of every process's table. */
extern unsigned cap_quota;

/* Frames a table of cap_quota slots takes (charged to the process by the caller). */
unsigned capspace_pages(void);
/* An empty table of cap_quota slots; ERR_NOMEM. */
int capspace_create(struct capspace *cs);
/* Deletes every capability (closing and destroying objects as they lose their last ones) and
 * frees the table. Interrupts on. */
void capspace_destroy(struct capspace *cs);
/* Under cap_lock: acts on every object of a dead list. */
void cap_drain(struct cap_object *dead);
/* After releasing cap_lock following a cap_drain: the types' deferred work. */
void cap_flush(void);
/* A root process's first capability: the kernel control object (CAP_ROOT_CONTROL). */
int capspace_add_control(struct capspace *cs);
/* A copy of src's capability h (same rights and badge, derived from it) in dst; *out is its
 * handle there. Lookup errors, ERR_NOSPC. */
int capspace_copy(struct capspace *src, cap_handle_t h, struct capspace *dst,
                  cap_handle_t *out);

struct process;
long cap_sys_derive(struct process *self, uint64_t h, uint64_t rights, uint64_t badge);
long cap_sys_delete(struct process *self, uint64_t h);
long cap_sys_revoke(struct process *self, uint64_t h);
long cap_sys_info(struct process *self, uint64_t h);
/* Inserts a root capability with every right to obj (new, refs 0); on failure the caller still
 * owns obj. Returns the handle or an error. */
long cap_sys_insert_new(struct process *self, struct cap_object *obj);
/* The control capability check of SYS_IPC_CTL and SYS_IRQ_BIND. */
int cap_check_control(struct process *self, uint64_t h);
