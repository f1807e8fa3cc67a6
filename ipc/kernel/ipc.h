/* The kernel's IPC subsystem as the rest of the kernel sees it: set-up, the system calls that
 * do not go through the IPC entry, and thread teardown. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "ipc/kernel/notification.h"

struct process;
struct thread;

/* Object caches and type hooks; fastpath: the boot option's default (IPC_CTL_FASTPATH). */
void ipc_init(bool fastpath);
long endpoint_sys_create(struct process *self);
long ipc_sys_ctl(struct process *self, uint64_t control, uint64_t op, uint64_t arg);
/* SYS_IPC_BUFFER for the calling thread. */
long ipc_sys_buffer(struct thread *self, uint64_t addr);
void ipc_thread_exit(struct thread *t);
