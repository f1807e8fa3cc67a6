/* Error codes shared by the kernel, its pure-C libraries and (later) the system call ABI.
 * Values follow Linux's errno numbering so that a negative return reads familiarly. */
#pragma once

#define ERR_PERM      (-1)   /* operation not permitted (missing right) */
#define ERR_NOENT     (-2)   /* no such object / name */
#define ERR_INTR      (-4)   /* the waiting thread was killed */
#define ERR_BADF      (-9)   /* not a capability handle: zero generation, index out of range */
#define ERR_AGAIN     (-11)  /* non-blocking IPC: no partner is waiting; no bits to collect */
#define ERR_NOMEM     (-12)  /* out of memory or quota */
#define ERR_FAULT     (-14)  /* bad address */
#define ERR_BUSY      (-16)  /* object still in use */
#define ERR_EXIST     (-17)  /* already exists */
#define ERR_INVAL     (-22)  /* invalid argument */
#define ERR_NOSPC     (-28)  /* table or buffer full */
#define ERR_PIPE      (-32)  /* IPC partner gone: no receiver can ever take it, or the server died */
#define ERR_RANGE     (-34)  /* value out of range */
#define ERR_TYPE      (-91)  /* capability to the wrong kind of object (Linux's EPROTOTYPE) */
#define ERR_TIMEDOUT  (-110) /* an IPC timeout expired first */
#define ERR_ALREADY   (-114) /* already done: double free, double unmap */
#define ERR_STALE     (-116) /* capability deleted or revoked since the handle was issued */

const char *err_name(int err);
