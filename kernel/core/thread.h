/* Threads: a kernel stack, saved registers and FPU/SSE state, and the scheduler entity that the
 * policy queues. Kernel threads exist now; user threads add an address space and a trap frame. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "sched/sched.h"

enum thread_state { THREAD_READY, THREAD_RUNNING, THREAD_BLOCKED, THREAD_DEAD };

struct thread {
    uint8_t fpu[512] __attribute__((aligned(16))); /* FXSAVE image */
    uint64_t saved_rsp;
    struct sched_entity se;
    enum thread_state state;
    uint32_t tid;
    void *kstack;       /* base of the kernel stack; NULL once released */
    void (*entry)(void *arg);
    void *arg;
    struct thread *joiner; /* blocked in thread_join on this thread */
    struct thread *sleep_next;
    struct vmspace *vs; /* user address space, NULL for kernel threads */
    uint64_t wake_tick;
    int exit_status;
};

/* Picks the policy by name (an unknown name is reported as a boot-option error, counted in the
 * return value, and `fallback` is used instead) and makes the boot flow a thread. */
int threads_init(const char *policy, const char *fallback, uint64_t quantum_us);

struct vmspace;

/* Creates a runnable kernel thread; NULL when memory is exhausted. */
struct thread *thread_create(void (*entry)(void *), void *arg, unsigned prio);
/* The same, running with the address space vs loaded (entry then enters ring 3). */
struct thread *thread_create_in(struct vmspace *vs, void (*entry)(void *), void *arg,
                                unsigned prio);
__attribute__((noreturn)) void thread_exit(int status);
/* Waits for t to exit, frees it and returns its status. */
int thread_join(struct thread *t);
void thread_yield(void);
/* Blocks for at least `ticks` timer ticks (1 ms each). */
void thread_sleep(uint64_t ticks);
void thread_sleep_until(uint64_t tick); /* woken by the first tick at or after `tick` */
struct thread *thread_current(void);
const char *sched_policy_name(void);

/* Timer tick hook: asks the policy whether the running thread's time is up. */
void sched_tick(void);
