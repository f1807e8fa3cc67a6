/* ipc_notify: notifications. Signals OR bits into a word that one wait collects and clears.
 * Expected exit status: 0.
 *   1  setup
 *   2  bits from several signals are collected once, ORed; then NOTIFY_POLL is ERR_AGAIN;
 *      signalling 0 bits sets nothing
 *   3  a waiter blocked (NOTIFY_FOREVER) in another thread is woken by a signal and gets
 *      exactly its bits; a bounded wait on a later signal works too
 *   4  a wait with a timeout and no signal: ERR_TIMEDOUT, and the word stays empty
 *   5  bit 63 is refused with ERR_INVAL and nothing is ORed in (not even the other bits)
 *   6  two waiters, two signals: each signal is collected by exactly one of them, no bit is
 *      lost or delivered twice, and no waiter returns an empty word
 *   7  rights: a send-only capability cannot wait, a receive-only one cannot signal (ERR_PERM);
 *      a signal through a derived send-only capability reaches the root's waiter
 *   8  once nothing can signal (the last SEND capability deleted, or held by a process that
 *      exited): pending bits are still collected, then waits return ERR_PIPE at once, and a
 *      waiter already blocked is woken with ERR_PIPE */
#include "ipc_test.h"

#define BOUND 5000

struct waiter {
    cap_t n;
    uint64_t ticks;
    volatile int started, done;
    volatile long result;
};

static int waiter(void *p)
{
    struct waiter *w = p;
    w->started = 1;
    w->result = sys_notify_wait(w->n, w->ticks);
    w->done = 1;
    return 0;
}

/* Starts a waiter and gives it time to block in the kernel (the test still passes if it is
 * slower: it then collects the bits without blocking, which the contract also allows). */
static long start_waiter(struct waiter *w)
{
    long tid = test_thread(waiter, w);
    EXPECT(test_wait_flag(&w->started, BOUND), "the waiter thread started");
    sys_sleep(10);
    return tid;
}

/* A notification reachable only through a receive-only and a send-only capability (the
 * all-rights original is deleted; its children stay): deleting *send leaves nothing that can
 * signal it. */
static void split_notification(cap_t *recv, cap_t *send)
{
    cap_t n = (cap_t)EXPECT_OK(sys_notification_create(), "notification_create");
    *recv = (cap_t)EXPECT_OK(sys_cap_derive(n, CAP_RIGHT_RECEIVE, 0), "derive receive-only");
    *send = (cap_t)EXPECT_OK(sys_cap_derive(n, CAP_RIGHT_SEND, 0), "derive send-only");
    EXPECT_EQ(sys_cap_delete(n), 0, "delete the original");
}

int main(void)
{
    test_name = "ipc_notify";
    test_stage = 1;
    cap_t n = (cap_t)EXPECT_OK(sys_notification_create(), "notification_create");
    EXPECT_EQ(sys_cap_info(n), CAP_INFO(CAP_TYPE_NOTIFICATION, CAP_RIGHTS_ALL), "cap_info");

    test_stage = 2;
    EXPECT_EQ(sys_notify_wait(n, NOTIFY_POLL), ERR_AGAIN, "poll of a fresh notification");
    EXPECT_EQ(sys_signal(n, 0x1), 0, "signal 0x1");
    EXPECT_EQ(sys_signal(n, 0x4), 0, "signal 0x4");
    EXPECT_EQ(sys_signal(n, 0x4), 0, "signal 0x4 again");
    EXPECT_EQ(sys_signal(n, 1ull << 62), 0, "signal bit 62");
    EXPECT_EQ(sys_notify_wait(n, NOTIFY_POLL), 0x5 | (1l << 62), "the ORed bits");
    EXPECT_EQ(sys_notify_wait(n, NOTIFY_POLL), ERR_AGAIN, "poll after collecting");
    EXPECT_EQ(sys_signal(n, 0), 0, "signal of no bits");
    EXPECT_EQ(sys_notify_wait(n, NOTIFY_POLL), ERR_AGAIN, "poll after signalling no bits");
    EXPECT_EQ(sys_signal(n, 0x30), 0, "signal 0x30");
    EXPECT_EQ(sys_notify_wait(n, NOTIFY_FOREVER), 0x30, "wait forever with bits pending");
    EXPECT_EQ(sys_signal(n, 0x40), 0, "signal 0x40");
    EXPECT_EQ(sys_notify_wait(n, 100), 0x40, "bounded wait with bits pending");

    test_stage = 3;
    static struct waiter w1;
    w1 = (struct waiter){.n = n, .ticks = NOTIFY_FOREVER};
    long tid = start_waiter(&w1);
    EXPECT(!w1.done, "the waiter blocks while no bit is set");
    EXPECT_EQ(sys_signal(n, 0x80), 0, "signal the blocked waiter");
    EXPECT(test_wait_flag(&w1.done, BOUND), "the signal wakes the waiter");
    EXPECT_EQ(w1.result, 0x80, "the woken waiter's bits");
    test_join(tid, "join the waiter");
    w1 = (struct waiter){.n = n, .ticks = BOUND};
    tid = start_waiter(&w1);
    EXPECT_EQ(sys_signal(n, 0x100), 0, "signal a waiter with a timeout");
    EXPECT(test_wait_flag(&w1.done, BOUND), "the signal wakes the bounded waiter");
    EXPECT_EQ(w1.result, 0x100, "the bounded waiter's bits");
    test_join(tid, "join the waiter");
    EXPECT_EQ(sys_notify_wait(n, NOTIFY_POLL), ERR_AGAIN, "nothing left after the waiters");

    test_stage = 4;
    EXPECT_EQ(sys_notify_wait(n, 5), ERR_TIMEDOUT, "wait 5 ticks with no signal");
    EXPECT_EQ(sys_notify_wait(n, 1), ERR_TIMEDOUT, "wait 1 tick with no signal");
    EXPECT_EQ(sys_notify_wait(n, NOTIFY_POLL), ERR_AGAIN, "poll after the timeouts");

    test_stage = 5;
    EXPECT_EQ(sys_signal(n, 1ull << 63), ERR_INVAL, "signal bit 63");
    EXPECT_EQ(sys_signal(n, (1ull << 63) | 1), ERR_INVAL, "signal bit 63 with bit 0");
    EXPECT_EQ(sys_notify_wait(n, NOTIFY_POLL), ERR_AGAIN, "nothing ORed by the refused signals");

    test_stage = 6;
    static struct waiter a, b;
    a = (struct waiter){.n = n, .ticks = NOTIFY_FOREVER};
    b = a;
    long ta = start_waiter(&a), tb = start_waiter(&b);
    EXPECT_EQ(sys_signal(n, 0x1000), 0, "first signal to two waiters");
    for (int i = 0; i < BOUND && !a.done && !b.done; i++)
        sys_sleep(1);
    sys_sleep(10); /* would a second waiter wrongly return too? */
    EXPECT(a.done + b.done == 1, "exactly one waiter returns for one signal");
    struct waiter *first = a.done ? &a : &b, *second = a.done ? &b : &a;
    EXPECT_EQ(first->result, 0x1000, "the first waiter's bits");
    EXPECT_EQ(sys_signal(n, 0x2000), 0, "second signal");
    EXPECT(test_wait_flag(&second->done, BOUND), "the second signal wakes the other waiter");
    EXPECT_EQ(second->result, 0x2000, "the second waiter's bits");
    test_join(ta, "join waiter a");
    test_join(tb, "join waiter b");

    test_stage = 7;
    cap_t send = (cap_t)EXPECT_OK(sys_cap_derive(n, CAP_RIGHT_SEND, 0), "derive send-only");
    cap_t recv = (cap_t)EXPECT_OK(sys_cap_derive(n, CAP_RIGHT_RECEIVE, 0), "derive receive-only");
    EXPECT_EQ(sys_notify_wait(send, NOTIFY_POLL), ERR_PERM, "wait on a send-only capability");
    EXPECT_EQ(sys_signal(recv, 1), ERR_PERM, "signal on a receive-only capability");
    w1 = (struct waiter){.n = recv, .ticks = BOUND};
    tid = start_waiter(&w1);
    EXPECT_EQ(sys_signal(send, 0x4000), 0, "signal through the send-only capability");
    EXPECT(test_wait_flag(&w1.done, BOUND), "the waiter on the receive-only capability wakes");
    EXPECT_EQ(w1.result, 0x4000, "bits through derived capabilities");
    test_join(tid, "join the waiter");
    EXPECT_EQ(sys_cap_revoke(n), 2, "revoke the two derived capabilities");
    EXPECT_EQ(sys_signal(send, 1), ERR_STALE, "signal through a revoked capability");
    EXPECT_EQ(sys_cap_delete(n), 0, "delete the notification");

    test_stage = 8;
    split_notification(&recv, &send);
    EXPECT_EQ(sys_signal(send, 0x8), 0, "signal before the last sender goes");
    EXPECT_EQ(sys_cap_delete(send), 0, "delete the last SEND capability");
    EXPECT_EQ(sys_notify_wait(recv, NOTIFY_FOREVER), 0x8, "pending bits outlive the senders");
    EXPECT_EQ(sys_notify_wait(recv, NOTIFY_FOREVER), ERR_PIPE, "nothing can signal: ERR_PIPE");
    EXPECT_EQ(sys_notify_wait(recv, NOTIFY_POLL), ERR_AGAIN, "a poll still just polls");
    EXPECT_EQ(sys_cap_delete(recv), 0, "delete the receive-only capability");

    split_notification(&recv, &send);
    w1 = (struct waiter){.n = recv, .ticks = NOTIFY_FOREVER};
    tid = start_waiter(&w1);
    EXPECT_EQ(sys_cap_delete(send), 0, "delete the last sender under a blocked waiter");
    EXPECT(test_wait_flag(&w1.done, BOUND), "the blocked waiter wakes");
    EXPECT_EQ(w1.result, ERR_PIPE, "the blocked waiter's result");
    test_join(tid, "join the waiter");
    EXPECT_EQ(sys_cap_delete(recv), 0, "delete the receive-only capability");

    split_notification(&recv, &send);
    w1 = (struct waiter){.n = recv, .ticks = NOTIFY_FOREVER};
    tid = start_waiter(&w1);
    long child = EXPECT_OK(sys_spawn_cap("hello", PRIO_DEFAULT, send), "spawn a holder of SEND");
    EXPECT_EQ(sys_cap_delete(send), 0, "the child now holds the only SEND capability");
    int status = -1;
    EXPECT_EQ(sys_wait((int)child, &status), child, "the holder exits");
    EXPECT(test_wait_flag(&w1.done, BOUND), "the holder's exit wakes the waiter");
    EXPECT_EQ(w1.result, ERR_PIPE, "a waiter whose only signaller died");
    test_join(tid, "join the waiter");
    EXPECT_EQ(sys_cap_delete(recv), 0, "delete the receive-only capability");
    printf(
        "ipc_notify: ORed bits, polls, wake-ups, timeouts, bit 63, rights and orphaning behave\n");
    return 0;
}
