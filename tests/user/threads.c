/* threads: user threads of one process share memory and really run concurrently (or at least
 * interleave): NTHREAD threads each add 1 to a shared counter ITERS times with a locked add,
 * yielding now and then so that their increments interleave on one CPU too. Stacks come from
 * SYS_MEM_MAP. Then SYS_SUSPEND / SYS_RESUME on a spinning thread.
 * Expected exit status: 0.
 *   1  mem_map of a thread stack failed
 *   2  thread creation failed
 *   3  SYS_THREAD_JOIN failed
 *   4  a thread's exit status was not the value its function returned (100 + index)
 *   5  the counter total is not NTHREAD * ITERS (a lost update)
 *   6  a thread saw another pid than the process's, or two threads shared a tid
 *   7  SYS_SUSPEND failed
 *   8  the suspended thread kept running
 *   9  SYS_RESUME failed, or the resumed thread never ran again */
#include "sys.h"

#define NTHREAD     8
#define ITERS       1000
#define STACK_SIZE  (16 * 1024)
/* 1 MiB apart: the unmapped space between stacks is a guard against overflow. */
#define STACK_AT(i) ((void *)(USER_MAP_BASE + (uint64_t)(i) * 0x100000))

static volatile uint64_t counter;

struct worker {
    int index;
    long pid, tid;
};

static int add_worker(void *p)
{
    struct worker *w = p;
    w->pid = sys_getpid();
    w->tid = sys_gettid();
    for (int i = 0; i < ITERS; i++) {
        __asm__ volatile("lock addq $1, %0" : "+m"(counter) : : "memory");
        if (i % 128 == 0)
            sys_yield();
    }
    return 100 + w->index;
}

static volatile int stop;
static volatile uint64_t spins;

static int spinner(void *p)
{
    (void)p;
    while (!stop)
        spins++;
    return 0;
}

static int map_stack(int i)
{
    long r = sys_mem_map(STACK_AT(i), STACK_SIZE, PROT_READ | PROT_WRITE);
    if (r != 0)
        printf("threads: mem_map stack %d: %s\n", i, err_name((int)r));
    return r == 0;
}

static int suspend_resume(void)
{
    if (!map_stack(NTHREAD))
        return 1;
    long tid = thread_start(spinner, NULL, STACK_AT(NTHREAD), STACK_SIZE);
    if (tid < 0)
        return 2;
    /* Sleeping rather than yielding: the spinner may have a lower priority than us. */
    for (int i = 0; i < 100 && spins == 0; i++)
        sys_sleep(1);
    int result = 0;
    if (sys_suspend((int)tid) != 0) {
        result = 7;
    } else {
        uint64_t before = spins;
        sys_sleep(5);
        if (spins != before)
            result = 8;
        uint64_t frozen = spins;
        if (sys_resume((int)tid) != 0) {
            result = result ? result : 9;
        } else {
            for (int i = 0; i < 100 && spins == frozen; i++)
                sys_sleep(1);
            if (spins == frozen)
                result = result ? result : 9;
        }
    }
    /* If suspend or resume failed the spinner may never see this; exiting the process ends it. */
    stop = 1;
    if (result == 0 && sys_thread_join((int)tid, NULL) != 0)
        result = 3;
    return result;
}

int main(void)
{
    static struct worker w[NTHREAD];
    long tids[NTHREAD];

    for (int i = 0; i < NTHREAD; i++) {
        if (!map_stack(i))
            return 1;
        w[i].index = i;
        tids[i] = thread_start(add_worker, &w[i], STACK_AT(i), STACK_SIZE);
        if (tids[i] < 0) {
            printf("threads: thread %d: %s\n", i, err_name((int)tids[i]));
            return 2;
        }
    }
    for (int i = 0; i < NTHREAD; i++) {
        int status = -1;
        long r = sys_thread_join((int)tids[i], &status);
        if (r != 0) {
            printf("threads: join %d: %s\n", i, err_name((int)r));
            return 3;
        }
        if (status != 100 + i) {
            printf("threads: thread %d exited with %d\n", i, status);
            return 4;
        }
    }
    if (counter != NTHREAD * ITERS) {
        printf("threads: counter %lu, want %d\n", (unsigned long)counter, NTHREAD * ITERS);
        return 5;
    }
    long pid = sys_getpid(), self = sys_gettid();
    for (int i = 0; i < NTHREAD; i++) {
        if (w[i].pid != pid || w[i].tid != tids[i] || w[i].tid == self)
            return 6;
        for (int j = 0; j < i; j++)
            if (w[j].tid == w[i].tid)
                return 6;
    }
    int r = suspend_resume();
    if (r)
        printf("threads: suspend/resume: failure %d\n", r);
    else
        printf("threads: %d threads, counter %lu, suspend/resume ok\n", NTHREAD,
               (unsigned long)counter);
    return r;
}
