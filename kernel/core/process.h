/* Processes: an address space, its threads, a place in the process tree and a share of the
 * machine. One lock (process_lock) covers the tree, every process's thread list, states, wait
 * queues and quota counters: these change at spawn, exit and wait, never on an IPC or
 * scheduling fast path, so one lock costs nothing that matters and keeps the rules simple.
 * Lock order: process_lock before any run queue lock. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/syscall.h"
#include "arch/x86_64/spinlock.h"
#include "cap/capspace.h"
#include "core/thread.h"
#include "mm/vmspace.h"

struct memobj;

/* Exit status of a process ended by SYS_KILL: outside the exception range (docs/abi.md). */
#define PROCESS_KILLED_STATUS (USER_KILLED_BASE + 256)

/* What a process and its descendants may hold together (docs/processes.md, "Quotas"). */
enum process_resource { RES_PROCESSES, RES_THREADS, RES_FRAMES, RES_COUNT };

enum process_state { PROCESS_LIVE, PROCESS_ZOMBIE };

struct process {
    struct vmspace vs;
    struct capspace caps;
    uint32_t pid;
    enum process_state state;
    int exit_status;
    bool exiting;   /* SYS_EXIT, SYS_KILL or a fault set exit_status; threads are being killed */
    bool orphan;    /* its parent ended first: the reaper frees it */
    struct process *parent;   /* NULL: started by the kernel, or orphaned */
    struct process *children; /* linked through sibling */
    struct process *sibling;
    struct process *all_next; /* every process, for lookups by pid */
    struct thread *threads;   /* linked through proc_next; exited ones stay until joined/reaped */
    unsigned live_threads;
    struct waitq child_wq; /* its threads in SYS_WAIT */
    struct waitq exit_wq;  /* kernel waiters in process_wait */
    struct waitq join_wq;  /* its threads in SYS_THREAD_JOIN */
    /* Charged with everything this process holds: itself and each ancestor up the charge_parent
     * chain, which skips ancestors that have ended (docs/processes.md). */
    struct process *charge_parent;
    uint64_t used[RES_COUNT], limit[RES_COUNT];
    struct memobj *memobjs; /* memory objects charged to it (mm/memobj.c); pass on at its end */
    struct process *reap_next;
    uint64_t entry, stack_top, start_arg;
};

/* Longest argument string the kernel hands a program it starts (process_spawn_arg). */
#define PROCESS_ARG_MAX 2048

extern struct spinlock process_lock;
/* Limits of a process the kernel starts (boot options quota_*); children inherit their
 * parent's limits, and every ancestor's limit applies to the whole subtree. */
extern uint64_t process_default_limits[RES_COUNT];

/* The object cache and the reaper thread; after threads_init. */
void process_init(void);
/* Loads the boot module named `name` (len bytes; the basename of its path) into a new address
 * space and starts it at priority prio as a child of parent (NULL: of the kernel, which must
 * then process_wait for it). Returns 0 or ERR_NOENT (no such module), ERR_INVAL (not a valid
 * program; the reason is printed), ERR_NOMEM (memory or quota). */
int process_spawn(struct process *parent, const char *name, size_t len, unsigned prio,
                  struct process **out);
/* The same, handing the program a NUL-terminated copy of arg (arg_len bytes, below
 * PROCESS_ARG_MAX) above its initial stack, with rdi pointing at it (docs/abi.md). */
int process_spawn_arg(struct process *parent, const char *name, size_t len, unsigned prio,
                      const char *arg, size_t arg_len, struct process **out);
/* Whether a boot module carries the program `name` (the rule process_spawn finds it by). */
bool process_module_exists(const char *name);
/* Kernel side: waits for a process the kernel started to end, frees everything it held and
 * returns its exit status. */
int process_wait(struct process *p);
/* The calling thread leaves its process; the last one out ends it with `status` unless an
 * exit, kill or fault already decided the status. */
__attribute__((noreturn)) void process_thread_exit(int status);
/* Ends the caller's whole process with `status` (SYS_EXIT, or a fault in ring 3). */
__attribute__((noreturn)) void process_exit(int status);

/* System calls; `self` is the caller's process. */
long process_sys_spawn(struct process *self, uintptr_t name, size_t len, unsigned prio,
                       uint64_t give_cap);
long process_sys_wait(struct process *self, int64_t pid, uintptr_t status);
long process_sys_kill(struct process *self, int64_t pid);
/* Under process_lock: the process `pid` if it is a descendant of self (SYS_KILL's rule);
 * ERR_NOENT when no process has that pid, ERR_PERM when it is not a descendant. */
int process_find_descendant(struct process *self, int64_t pid, struct process **out);
long process_sys_thread_create(struct process *self, uintptr_t entry, uintptr_t stack_top,
                               uint64_t arg);
long process_sys_thread_join(struct process *self, int64_t tid, uintptr_t status);
long process_sys_suspend(struct process *self, int64_t tid);
long process_sys_resume(struct process *self, int64_t tid);
long process_sys_set_prio(struct process *self, int64_t tid, uint64_t prio);

/* Quotas, under process_lock: charge n of res to p and everything it is accounted under, or
 * return ERR_NOMEM having charged nothing. */
int quota_charge(struct process *p, enum process_resource res, uint64_t n);
void quota_uncharge(struct process *p, enum process_resource res, uint64_t n);
/* The vmspace charge function of every process address space. */
int quota_charge_frames(struct vmspace *vs, int64_t n);

/* Frees a zombie that nobody else can reach any more (process_thread.c uses it for threads). */
void process_free_thread(struct process *p, struct thread *t);
/* A new thread of p that will start in ring 3 at rip with rsp and rdi = arg: charged and
 * linked, not started (thread_start). ERR_NOMEM (memory or quota) or ERR_INTR (p is exiting). */
long process_add_thread(struct process *p, uint64_t rip, uint64_t rsp, uint64_t arg,
                        unsigned prio, struct thread **out);
