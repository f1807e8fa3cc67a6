/* ipc_smp: call/reply across CPUs. A server thread pinned on another CPU than the clients
 * serves NCLIENT client threads, pinned on this program's CPU, which call it concurrently,
 * CALLS_EACH times each (100,000 pairs in all), each through its own badged capability. Every
 * reply is checked by the thread that made the call; the server checks that each client's
 * requests arrive in order, exactly once, under that client's badge.
 *
 * The kernel self test starts the program with the argument "ncpus=N". With N >= 2 the server
 * must end up on another CPU (sys_pin returns the CPU it pinned to); with one CPU it simply
 * runs there (the same calls then test the same-CPU paths under contention). Without the
 * argument (a manual run) it tries to move the server and carries on wherever it lands.
 * Expected exit status: 0.
 *   1  setup: endpoint, badged capabilities, pinning
 *   2  the server could not be placed on another CPU although there are several
 *   3  a client's call failed or its reply was not the answer to its own request
 *   4  the server saw a request out of order, under a wrong badge, or failed itself
 *   5  a thread was not on the CPU it was pinned to at the end */
#include "ipc_test.h"

#define NCLIENT    4
#define CALLS_EACH 25000
#define PLACE_TRIES 300

static cap_t ep;
static long ncpus = -1; /* -1: not told */
static long client_cpu;
static volatile long server_cpu = -1;
static volatile int server_placed;

static long parse_ncpus(void)
{
    const char *arg = (const char *)sys_start_arg;
    if (!arg || strncmp(arg, "ncpus=", 6) != 0)
        return -1;
    long n = 0;
    for (const char *p = arg + 6; *p >= '0' && *p <= '9'; p++)
        n = n * 10 + (*p - '0');
    return n;
}

/* Moves the calling thread off client_cpu: unpinned and yielding while the main thread keeps
 * client_cpu busy, it is queued there and an idle CPU steals it; then it pins itself wherever
 * it runs. Returns the CPU it is pinned to. */
static long place_server(void)
{
    long cpu = sys_pin(1);
    if (ncpus == 1)
        return cpu;
    for (int i = 0; i < PLACE_TRIES && cpu == client_cpu; i++) {
        sys_pin(0);
        sys_yield();
        cpu = sys_pin(1);
    }
    return cpu;
}

static int server(void *arg)
{
    (void)arg;
    server_cpu = place_server();
    server_placed = 1;

    uint64_t next[NCLIENT] = {0};
    unsigned errors = 0;
    struct ipc_msg m;
    uint64_t badge;
    long r = ipc_recv(ep, &m, &badge, 0, 0);
    for (;;) {
        EXPECT_EQ(r, 0, "server recv/reply_recv");
        if (ipc_tag_label(m.tag) == OP_EXIT) {
            long cpu = sys_pin(1);
            m = test_msg(OP_EXIT, 2);
            m.w[0] = errors;
            m.w[1] = (uint64_t)cpu;
            EXPECT_EQ(ipc_reply(&m), 0, "server's reply to OP_EXIT");
            return 0;
        }
        uint64_t c = badge - 1;
        if (badge == 0 || c >= NCLIENT || m.w[1] != badge || m.w[0] != next[c] ||
            m.w[2] != (m.w[0] ^ 0xC0FFEE0000000000ull)) {
            if (errors++ < 5)
                printf("ipc_smp: server: badge %lu w0 %lu (want %lu) w1 %lu w2 %#lx\n",
                       (unsigned long)badge, (unsigned long)m.w[0],
                       (unsigned long)(c < NCLIENT ? next[c] : 0), (unsigned long)m.w[1],
                       (unsigned long)m.w[2]);
        } else {
            next[c]++;
        }
        uint64_t w0 = m.w[0], w2 = m.w[2];
        m = test_msg(OP_BADGE, 4);
        m.w[0] = w0 + 1;
        m.w[1] = badge * 3;
        m.w[2] = ~w2;
        m.w[3] = (uint64_t)server_cpu;
        r = ipc_reply_recv(ep, &m, &badge);
    }
}

struct client {
    cap_t cap;
    uint64_t badge;
    long cpu_end;
};

static int client(void *p)
{
    struct client *c = p;
    for (uint64_t i = 0; i < CALLS_EACH; i++) {
        struct ipc_msg m = test_msg(OP_BADGE, 3);
        m.w[0] = i;
        m.w[1] = c->badge;
        m.w[2] = i ^ 0xC0FFEE0000000000ull;
        long r = ipc_call(c->cap, &m);
        if (r != 0 || m.w[0] != i + 1 || m.w[1] != c->badge * 3 ||
            m.w[2] != ~(i ^ 0xC0FFEE0000000000ull) || m.w[3] != (uint64_t)server_cpu) {
            printf("ipc_smp: client %lu call %lu: %ld, reply %lu %lu %#lx cpu %lu\n",
                   (unsigned long)c->badge, (unsigned long)i, r, (unsigned long)m.w[0],
                   (unsigned long)m.w[1], (unsigned long)m.w[2], (unsigned long)m.w[3]);
            EXPECT(0, "a client's reply answers its own request");
        }
    }
    c->cpu_end = sys_pin(1);
    return 0;
}

int main(void)
{
    test_name = "ipc_smp";
    test_stage = 1;
    ncpus = parse_ncpus();
    ep = (cap_t)EXPECT_OK(sys_endpoint_create(), "endpoint_create");
    client_cpu = EXPECT_OK(sys_pin(1), "pin the main thread");

    /* The server starts pinned here (inherited) and moves itself; spinning without system
     * calls keeps this CPU busy meanwhile, which is what makes an idle CPU steal it. */
    long stid = test_thread(server, NULL);
    for (uint64_t spins = 0; !server_placed; spins++) {
        __asm__ volatile("pause");
        if ((spins & 0xffffff) == 0xffffff)
            sys_yield(); /* one CPU, or the server stuck here: let it run its tries */
    }
    test_stage = 2;
    printf("ipc_smp: %ld CPUs (%s), clients on CPU %ld, server on CPU %ld\n", ncpus,
           ncpus < 0 ? "not told" : "told", client_cpu, server_cpu);
    EXPECT(server_cpu >= 0, "the server pinned itself");
    if (ncpus >= 2)
        EXPECT(server_cpu != client_cpu, "the server runs on another CPU than the clients");

    test_stage = 3;
    static struct client c[NCLIENT];
    long tids[NCLIENT];
    for (int i = 0; i < NCLIENT; i++) {
        c[i].badge = (uint64_t)i + 1;
        c[i].cap = (cap_t)EXPECT_OK(sys_cap_derive(ep, CAP_RIGHT_SEND, c[i].badge),
                                    "derive a badged send capability");
    }
    for (int i = 0; i < NCLIENT; i++)
        tids[i] = test_thread(client, &c[i]);
    for (int i = 0; i < NCLIENT; i++)
        test_join(tids[i], "join a client");

    test_stage = 4;
    struct ipc_msg m = test_msg(OP_EXIT, 0);
    EXPECT_EQ(ipc_call(ep, &m), 0, "OP_EXIT call");
    EXPECT_EQ(m.w[0], 0, "requests the server found out of order or misbadged");
    test_join(stid, "join the server");

    test_stage = 5;
    EXPECT_EQ(m.w[1], server_cpu, "the server stayed on its CPU");
    for (int i = 0; i < NCLIENT; i++)
        EXPECT_EQ(c[i].cpu_end, client_cpu, "a client stayed on the clients' CPU");
    EXPECT_EQ(sys_cap_revoke(ep), NCLIENT, "revoke the badged capabilities");
    EXPECT_EQ(sys_cap_delete(ep), 0, "delete the endpoint");
    printf("ipc_smp: %d clients x %d calls across CPUs %ld -> %ld checked\n", NCLIENT,
           CALLS_EACH, client_cpu, server_cpu);
    return 0;
}
