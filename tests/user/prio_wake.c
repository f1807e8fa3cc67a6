/* prio_wake: under sched=prio a high-priority thread that wakes up must get the CPU within about
 * a tick, even while lower-priority threads are burning every cycle; it must not wait for their
 * quantum to run out.
 *
 * Design (the simplest one user space can check alone, with no knowledge of the TSC frequency):
 *  1. This thread takes priority HIGH. It measures the tick in TSC units by timing sleep(50)
 *     started on a tick edge (right after a sleep(1) returns), and checks that sleep(K) takes
 *     at most K + SLACK ticks while the CPU is otherwise idle (the timer itself is sound).
 *  2. It starts NHOG hog threads at priority LOW, each spinning on its own counter without
 *     system calls, so only preemption can take the CPU from them. NHOG covers up to NHOG CPUs.
 *  3. ROUNDS times: sleep(K), timing it with rdtsc. Each sleep must see the hog counters move
 *     (the CPU really was busy while we slept) and may take at most K + SLACK ticks; at most
 *     MAX_LATE rounds may exceed that (emulators occasionally lose a tick or two to the host).
 * A scheduler that does not preempt on wake-up (or at the next tick) makes us wait for a hog's
 * quantum, 10 ticks by default, times the hogs queued ahead: nearly every round is then late.
 *
 * What the kernel must provide: sched=prio; a 1 ms tick and SYS_SLEEP at tick granularity;
 * rdtsc usable in ring 3 (CR4.TSD clear) at a constant rate; SYS_SET_PRIO on the caller and on
 * other threads of its process; a quantum of at least K + SLACK + 1 ticks (the default 10 ms),
 * since with shorter quanta even plain round robin passes; at most NHOG CPUs.
 * Under sched=rr this test is expected to fail with status 5 (a negative control).
 *
 * Expected exit status: 0 (under sched=prio).
 *   1  SYS_SET_PRIO failed
 *   2  mapping a hog stack or creating a hog thread failed
 *   3  calibration failed: a sleep returned an error, the tick measured 0 TSC units, or sleeps
 *      were late with an idle CPU (a timer problem, not a scheduling one)
 *   4  the hogs did not run during some sleep (nothing competed: the test proved nothing)
 *   5  more than MAX_LATE of ROUNDS wake-ups were late with the hogs running
 *   6  joining a hog failed */
#include "sys.h"

#define HIGH     20
#define LOW      10
#define NHOG     4
#define K        5
#define SLACK    2
#define ROUNDS   20
#define MAX_LATE 2
#define STACK_SIZE (16 * 1024)
#define STACK_AT(i) ((void *)(USER_MAP_BASE + (uint64_t)(i) * 0x100000))

/* One cache line each, so that hogs on different CPUs do not slow each other down. */
static volatile uint64_t hog_spins[NHOG][8];
static volatile int stop;

static int hog(void *p)
{
    volatile uint64_t *count = p;
    /* A new thread may start at its creator's priority; dropping first thing means it never
     * competes with the creator for a quantum, whatever the kernel's inheritance rule. */
    sys_set_prio(0, LOW);
    while (!stop)
        (*count)++;
    return 0;
}

static uint64_t total_spins(void)
{
    uint64_t sum = 0;
    for (int i = 0; i < NHOG; i++)
        sum += hog_spins[i][0];
    return sum;
}

/* TSC cycles spent in sleep(K); 0 when the sleep itself failed. */
static uint64_t timed_sleep(void)
{
    uint64_t t0 = rdtsc();
    if (sys_sleep(K) != 0)
        return 0;
    return rdtsc() - t0;
}

/* d in hundredths of a tick, printed as ticks with two decimals (printf has no floating point). */
static unsigned long hundredths(uint64_t d, uint64_t tick)
{
    return (unsigned long)(d * 100 / tick);
}

int main(void)
{
    if (sys_set_prio(0, HIGH) != 0)
        return 1;

    if (sys_sleep(1) != 0)
        return 3;
    uint64_t t0 = rdtsc();
    if (sys_sleep(50) != 0)
        return 3;
    uint64_t tick = (rdtsc() - t0) / 50;
    if (tick == 0)
        return 3;
    const uint64_t limit = (K + SLACK) * tick;

    uint64_t idle_worst = 0;
    for (int r = 0; r < 5; r++) {
        uint64_t d = timed_sleep();
        if (d == 0)
            return 3;
        idle_worst = d > idle_worst ? d : idle_worst;
    }
    if (idle_worst > limit) {
        unsigned long h = hundredths(idle_worst, tick);
        printf("prio_wake: tick %lu TSC; sleep(%d) takes up to %lu.%02lu ticks with an idle CPU\n",
               (unsigned long)tick, K, h / 100, h % 100);
        return 3;
    }

    long tids[NHOG];
    for (int i = 0; i < NHOG; i++) {
        if (sys_mem_map(STACK_AT(i), STACK_SIZE, PROT_READ | PROT_WRITE) != 0)
            return 2;
        tids[i] = thread_start(hog, (void *)&hog_spins[i][0], STACK_AT(i), STACK_SIZE);
        if (tids[i] < 0)
            return 2;
        if (sys_set_prio((int)tids[i], LOW) != 0)
            return 1;
    }
    sys_sleep(2); /* let every hog get going */

    int late = 0, idle_rounds = 0;
    uint64_t worst = 0;
    for (int r = 0; r < ROUNDS; r++) {
        uint64_t before = total_spins();
        uint64_t d = timed_sleep();
        if (d == 0)
            return 3;
        if (total_spins() == before)
            idle_rounds++;
        if (d > limit)
            late++;
        worst = d > worst ? d : worst;
    }

    stop = 1;
    int result = 0;
    for (int i = 0; i < NHOG; i++)
        if (sys_thread_join((int)tids[i], NULL) != 0)
            result = 6;

    unsigned long hi = hundredths(idle_worst, tick), hw = hundredths(worst, tick);
    printf("prio_wake: tick %lu TSC; sleep(%d) worst %lu.%02lu ticks idle, %lu.%02lu with %d "
           "hogs; %d of %d late (> %d ticks), %d without hog progress\n", (unsigned long)tick, K,
           hi / 100, hi % 100, hw / 100, hw % 100, NHOG, late, ROUNDS, K + SLACK, idle_rounds);
    if (idle_rounds)
        return 4;
    if (late > MAX_LATE)
        return 5;
    return result;
}
