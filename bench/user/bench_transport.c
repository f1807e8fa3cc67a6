/* Request/response round trips through the user-level transport interface (docs/transport.md;
 * issue 5; TARGETS.md IPC-10), over each transport, with the echo service (services/echo) as the
 * server process, spawned by ubench on a new endpoint as echo_client spawns it.
 *
 * transport/<name>/call_reply/size:N: one sample is what a workload does for one call through
 * the in-place API: transport_buffer for N bytes, the request written there (a memcpy of the
 * prepared request), transport_call_in_place, and the client reading the response where it lies
 * (ub_read_words). In between, the echo service receives the request in place, asks for its
 * response buffer and writes each byte of the request mixed with its position (echo_proto.h),
 * then replies in place: the service's per-byte work is in every figure, the same for every
 * transport. Each request's word 0 is its sequence number and the client checks the sum of the
 * response's words against the one the echo's answer must give, outside the timed region.
 *
 * Sizes, on all three: 56 B (the seven data words of one register message: fastpath's fast
 * path, the ring's header slot alone), 64 B (one word more: fastpath's words beyond seven go
 * through both IPC buffers, the ring needs a second slot; zcopy sends two descriptor words
 * whatever the size) and 512 B (fastpath's maximum); 4 KiB (over fastpath's
 * 512 B and the ring's 4088 B) and 64 KiB (over the pool's 32 KiB area: page grants both ways)
 * on zcopy only. Everything runs on ubench's CPU; the echo service inherits the pin. */
#include "libbench/libbench.h"
#include "services/echo/echo_proto.h"
#include "sys.h"
#include "transport.h"
#include "ub_ring.h"
#include "ubench.h"

#define MAX_LEN (64 * 1024)
#define ECHO    "echo"

struct tcase {
    const char *transport;
    size_t len;
};

static const struct tcase cases[] = {
    {"fastpath", 56}, {"ring", 56},    {"zcopy", 56},      {"fastpath", 64},
    {"ring", 64},     {"zcopy", 64},   {"fastpath", 512},  {"ring", 512},
    {"zcopy", 512},   {"zcopy", 4096}, {"zcopy", MAX_LEN},
};

/* The request (word 0 rewritten per sample) and the echo's mixing as 64-bit words. */
static uint64_t req[MAX_LEN / 8], mask[MAX_LEN / 8];

static void prepare(void)
{
    static bool done;
    if (done)
        return;
    uint8_t *m = (uint8_t *)mask, *r = (uint8_t *)req;
    for (size_t i = 0; i < MAX_LEN; i++) {
        m[i] = echo_transform(0, i);
        r[i] = echo_request_byte(1, i);
    }
    done = true;
}

/* The sum of the response's words when the request's word 0 is 0: the echo's answer to word j
 * is req[j] ^ mask[j]. */
static uint64_t answer_base(size_t len)
{
    uint64_t sum = 0;
    for (size_t j = 1; j < len / 8; j++)
        sum += req[j] ^ mask[j];
    return sum;
}

static void bm_transport(struct lb_state *s)
{
    const struct tcase *c = &cases[lb_arg(s)];
    struct transport_config cfg = {transport_find(c->transport), 1};
    if (!cfg.ops) {
        lb_fail(s, ub_msg("no transport named %s in libsys", c->transport));
        return;
    }
    prepare();
    uint64_t base = answer_base(c->len);
    long ep = sys_endpoint_create();
    long pid = ep < 0 ? ep : sys_spawn_cap(ECHO, PRIO_DEFAULT, (cap_t)ep);
    if (pid < 0) {
        lb_fail(s, ub_msg("endpoint or spawn of %s failed: %ld", ECHO, pid));
        if (ep >= 0)
            sys_cap_delete((cap_t)ep);
        return;
    }
    struct transport t;
    int err = transport_connect(&t, &cfg, (cap_t)ep);
    bool ok = !err;
    if (err)
        lb_fail(s, ub_msg("transport_connect over %s failed: %d", c->transport, err));
    else if (transport_max_in_place(&t) < c->len)
        lb_fail(s, ub_msg("%s takes at most %lu bytes in place", c->transport,
                          (unsigned long)transport_max_in_place(&t)));
    for (uint64_t i = 0; ok && lb_next(s); i++) {
        req[0] = i;
        void *out;
        const void *resp = NULL;
        uint64_t t0 = lb_start(s);
        long n = transport_buffer(&t, c->len, &out);
        if (!n) {
            memcpy(out, req, c->len);
            n = transport_call_in_place(&t, c->len, &resp);
        }
        uint64_t sum = n > 0 ? ub_read_words(resp, (size_t)n) : 0;
        lb_stop(s, t0);
        if (n != (long)c->len || sum != base + (i ^ mask[0])) {
            lb_fail(s, ub_msg("call %lu over %s: %ld bytes back, not the echo's answer",
                              (unsigned long)i, c->transport, n));
            ok = false;
        }
    }
    int status = -1;
    if (!err)
        transport_close(&t);
    if (!ok)
        sys_kill((int)pid);
    sys_wait((int)pid, &status);
    if (ok && status != 0)
        lb_fail(s, ub_msg("%s ended with status %d", ECHO, status));
    sys_cap_delete((cap_t)ep);
}

#define TP_DESC(name, size)                                                                        \
    "request/response round trip of " size " each way over the " name " transport, in place, "     \
    "with the echo service process: transport_buffer, writing the request, "                       \
    "transport_call_in_place, reading the response; the echo's per-byte answer included"
LB_BENCHMARK_ARG("transport/fastpath/call_reply/size:56", bm_transport, 0, "IPC-10",
                 TP_DESC("fastpath (the default)", "56 B"));
LB_BENCHMARK_ARG("transport/ring/call_reply/size:56", bm_transport, 1, NULL,
                 TP_DESC("ring", "56 B"));
LB_BENCHMARK_ARG("transport/zcopy/call_reply/size:56", bm_transport, 2, NULL,
                 TP_DESC("zcopy", "56 B"));
LB_BENCHMARK_ARG("transport/fastpath/call_reply/size:64", bm_transport, 3, NULL,
                 TP_DESC("fastpath", "64 B"));
LB_BENCHMARK_ARG("transport/ring/call_reply/size:64", bm_transport, 4, NULL,
                 TP_DESC("ring", "64 B"));
LB_BENCHMARK_ARG("transport/zcopy/call_reply/size:64", bm_transport, 5, NULL,
                 TP_DESC("zcopy", "64 B"));
LB_BENCHMARK_ARG("transport/fastpath/call_reply/size:512", bm_transport, 6, NULL,
                 TP_DESC("fastpath", "512 B"));
LB_BENCHMARK_ARG("transport/ring/call_reply/size:512", bm_transport, 7, NULL,
                 TP_DESC("ring", "512 B"));
LB_BENCHMARK_ARG("transport/zcopy/call_reply/size:512", bm_transport, 8, NULL,
                 TP_DESC("zcopy", "512 B"));
LB_BENCHMARK_ARG("transport/zcopy/call_reply/size:4096", bm_transport, 9, NULL,
                 TP_DESC("zcopy", "4 KiB"));
LB_BENCHMARK_ARG("transport/zcopy/call_reply/size:65536", bm_transport, 10, NULL,
                 TP_DESC("zcopy (page grants both ways)", "64 KiB"));
