/* Shared by the IPC test programs (cap_refusals, ipc_transfer, ipc_million, ipc_dead,
 * ipc_notify, ipc_smp) and their partner ipc_echo: the check macros, thread stacks, and the
 * protocol ipc_echo speaks. Header-only because every tests/user/<name>.c is linked as its
 * own program (services/user.mk); a .c here would become a program of its own.
 *
 * A failed check prints one line naming it (program, line, what, got and want with their
 * error names), kills the children the program registered, and exits with the program's
 * current `test_stage`: each program's header lists what its stages cover. Exiting from any
 * thread ends the whole process, so a check may fail in a worker thread too. */
#pragma once
#include "sys.h"

/* Set by each program: its name for messages, and the stage number its checks exit with. */
static const char *test_name = "ipc";
static volatile int test_stage = 1;

/* Child processes to kill on a failed check, so that a failure leaves no server blocked
 * forever on an endpoint (its frames would never come back, and the boot would not notice). */
#define TEST_MAX_CHILDREN 8
static volatile long test_children[TEST_MAX_CHILDREN];

static inline void test_add_child(long pid)
{
    for (int i = 0; i < TEST_MAX_CHILDREN; i++)
        if (test_children[i] == 0) {
            test_children[i] = pid;
            return;
        }
}

static inline void test_forget_child(long pid)
{
    for (int i = 0; i < TEST_MAX_CHILDREN; i++)
        if (test_children[i] == pid)
            test_children[i] = 0;
}

/* Set by the first failing check: a check failing in another thread afterwards (its server
 * being killed, say) is a consequence, not news, and stays quiet. */
static volatile int test_failing;

static inline void test_fail_begin(void)
{
    if (__atomic_exchange_n(&test_failing, 1, __ATOMIC_SEQ_CST))
        sys_thread_exit(test_stage ? test_stage : 1); /* the first failure ends the process */
}

__attribute__((noreturn)) static inline void test_fail_exit(void)
{
    for (int i = 0; i < TEST_MAX_CHILDREN; i++)
        if (test_children[i] > 0) {
            sys_kill((int)test_children[i]);
            sys_wait((int)test_children[i], NULL);
        }
    exit(test_stage ? test_stage : 1);
}

/* Errors print with their names; every value in hex as well, since most are handles, tags
 * or bit masks. */
static inline const char *test_val_name(long v)
{
    return v < 0 && v > -200 ? err_name((int)v) : "-";
}

__attribute__((noreturn)) static inline void test_fail_eq(int line, const char *what, long got,
                                                          long want)
{
    test_fail_begin();
    printf("%s: FAIL stage %d line %d: %s: got %ld %s (%#lx), want %ld %s (%#lx)\n", test_name,
           test_stage, line, what, got, test_val_name(got), (unsigned long)got, want,
           test_val_name(want), (unsigned long)want);
    test_fail_exit();
}

/* EXPECT_EQ(expr, want, "what"): expr must equal want. */
#define EXPECT_EQ(expr, want, what)                                                        \
    do {                                                                                   \
        long expect_got_ = (long)(expr), expect_want_ = (long)(want);                      \
        if (expect_got_ != expect_want_)                                                   \
            test_fail_eq(__LINE__, what, expect_got_, expect_want_);                       \
    } while (0)

/* EXPECT_OK(expr, "what"): expr must be >= 0; evaluates to it. */
#define EXPECT_OK(expr, what)                                                              \
    ({                                                                                     \
        long expect_r_ = (long)(expr);                                                     \
        if (expect_r_ < 0)                                                                 \
            test_fail_eq(__LINE__, what " (an error)", expect_r_, 0);                      \
        expect_r_;                                                                         \
    })

#define EXPECT(cond, what)                                                                 \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            test_fail_begin();                                                             \
            printf("%s: FAIL stage %d line %d: %s (%s)\n", test_name, test_stage, __LINE__,  \
                   what, #cond);                                                           \
            test_fail_exit();                                                              \
        }                                                                                  \
    } while (0)

/* Thread stacks, 1 MiB apart in the program's SYS_MEM_MAP area so that the unmapped space
 * between them catches an overflow; IPC buffers in pages of their own further up. */
#define TEST_STACK_SIZE (16 * 1024)
#define TEST_STACK_AT(i) ((void *)(USER_MAP_BASE + (uint64_t)(i) * 0x100000))
#define TEST_BUF_AREA    (USER_MAP_BASE + 0x40000000ul)

static int test_next_stack;

/* Starts fn(arg) on a fresh stack; fails the test if it cannot. */
static inline long test_thread(int (*fn)(void *), void *arg)
{
    int i = test_next_stack++;
    EXPECT_EQ(sys_mem_map(TEST_STACK_AT(i), TEST_STACK_SIZE, PROT_READ | PROT_WRITE), 0,
              "mem_map a thread stack");
    return EXPECT_OK(thread_start(fn, arg, TEST_STACK_AT(i), TEST_STACK_SIZE), "thread_start");
}

/* A page-aligned IPC buffer of its own for thread slot i (a struct ipc_buffer is 528 bytes,
 * so at the start of a page it never crosses one). */
static inline struct ipc_buffer *test_ipc_buffer(int i)
{
    void *page = (void *)(TEST_BUF_AREA + (uint64_t)i * PAGE_SIZE);
    EXPECT_EQ(sys_mem_map(page, PAGE_SIZE, PROT_READ | PROT_WRITE), 0, "mem_map an IPC buffer");
    EXPECT_EQ(sys_ipc_buffer(page), 0, "sys_ipc_buffer");
    return page;
}

/* Waits up to `ticks` for *flag to become nonzero, sleeping a tick at a time: how a test
 * bounds a wait for another thread without hanging the boot if the kernel loses a wake-up. */
static inline int test_wait_flag(volatile int *flag, int ticks)
{
    for (int i = 0; i < ticks && !*flag; i++)
        sys_sleep(1);
    return *flag != 0;
}

/* Joins thread tid, failing the test unless it exited with status 0. */
static inline void test_join(long tid, const char *what)
{
    int status = -1;
    EXPECT_EQ(sys_thread_join((int)tid, &status), 0, what);
    EXPECT_EQ(status, 0, what);
}

static inline struct ipc_msg test_msg(uint64_t label, unsigned len)
{
    struct ipc_msg m = {.tag = ipc_tag(label, len, 0)};
    return m;
}

/* ---- ipc_echo's protocol: the request's label selects the operation. ----
 * ipc_echo is spawned with sys_spawn_cap(name, prio, endpoint); it receives on that endpoint
 * (recv once, then reply_recv) until OP_EXIT, and exits 0 unless it saw a bad request. */
enum srv_op {
    OP_SETUP = 1, /* caps 1: a notification, kept for the HELD/REPLIED bits; reply w0 = 0 */
    OP_ECHO,      /* any len: reply the same len, every word complemented */
    OP_SEQ,       /* ipc_million's numbered requests (srv_seq_* below) */
    OP_HOLD,      /* signal SRV_HELD, sleep w0 ticks (0: forever), then reply and signal
                     SRV_REPLY_NOENT or SRV_REPLY_OTHER after its result */
    OP_CAPS,      /* caps 1: a notification (copied): signal w0 on it; reply w0 = its
                     cap_info, w1 = the tag's caps count */
    OP_TAKE_EP,   /* caps 1: an endpoint (moved): reply w0 = its cap_info, w1 = caps count;
                     then ipc_send OP_HELLO with w0 = SRV_HELLO_MAGIC through it */
    OP_BADGE,     /* reply w0 = the badge the request came with, w1 = request w0 + 1 */
    OP_EXIT,      /* reply w0 = the server's error count, then exit */
    OP_HELLO,     /* sent by the server (OP_TAKE_EP) */
    OP_CALL_BACK, /* caps 1: an endpoint (copied); reply w0 = 0, then signal SRV_CALLING and
                     call OP_HELLO through that endpoint, waiting for its reply (the tests
                     kill the server meanwhile) */
};

#define SRV_HELD        (1ull << 0)
#define SRV_REPLY_NOENT (1ull << 1)
#define SRV_REPLY_OTHER (1ull << 2)
#define SRV_CALLING     (1ull << 3)
#define SRV_HELLO_MAGIC 0x48454c4c4f21ull

/* OP_SEQ request for sequence number seq: w0 = seq, w1-w5 derived from it, w6 a checksum of
 * w0-w5, so that a word lost, swapped or stale from the previous message shows. */
static inline uint64_t srv_rotl(uint64_t x, unsigned r)
{
    return (x << r) | (x >> (64 - r));
}

static inline void srv_seq_request(struct ipc_msg *m, uint64_t seq)
{
    m->tag = ipc_tag(OP_SEQ, 7, 0);
    m->w[0] = seq;
    m->w[1] = seq * 0x9E3779B97F4A7C15ull;
    m->w[2] = ~seq;
    m->w[3] = seq ^ 0x5555AAAA5555AAAAull;
    m->w[4] = srv_rotl(seq, 17);
    m->w[5] = seq + 0x0123456789ABCDEFull;
    m->w[6] = m->w[0] ^ srv_rotl(m->w[1], 1) ^ srv_rotl(m->w[2], 2) ^ srv_rotl(m->w[3], 3) ^
              srv_rotl(m->w[4], 4) ^ srv_rotl(m->w[5], 5);
}

/* The reply to request seq: w0 = seq + 1, w1 = request w1 transformed, w2 = 0 (or the
 * server's first wrong sequence number + 1 on an error), w3-w6 derived from seq + 1. */
static inline void srv_seq_reply(struct ipc_msg *m, uint64_t seq, uint64_t status)
{
    m->tag = ipc_tag(OP_SEQ, 7, 0);
    m->w[0] = seq + 1;
    m->w[1] = (seq * 0x9E3779B97F4A7C15ull) ^ 0xFFFF0000FFFF0000ull;
    m->w[2] = status;
    m->w[3] = ~(seq + 1);
    m->w[4] = srv_rotl(seq + 1, 29);
    m->w[5] = (seq + 1) * 3;
    m->w[6] = m->w[0] ^ m->w[1] ^ m->w[3] ^ m->w[4] ^ m->w[5];
}

static inline int srv_msg_equal(const struct ipc_msg *a, const struct ipc_msg *b)
{
    if (a->tag != b->tag)
        return 0;
    for (int i = 0; i < IPC_REG_WORDS; i++)
        if (a->w[i] != b->w[i])
            return 0;
    return 1;
}

/* The word pattern of long messages: word i of a message seeded with s. */
static inline uint64_t test_word(uint64_t s, unsigned i)
{
    return srv_rotl(s * 0x100000001B3ull + i, i % 63 + 1) ^ ((uint64_t)i << 56);
}

#define KILL_STATUS (USER_KILLED_BASE + 256)
