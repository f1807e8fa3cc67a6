/* zcopy_hostile: the zcopy server refuses descriptors outside the request area of its pool
 * with ERR_RANGE and keeps serving. The program connects to the echo service over zcopy,
 * checks a normal call, then sends raw descriptors (transport_zcopy.h's wire format) that
 * reach past the area, point into the server's response area, start beyond the pool, or whose
 * offset + length wraps around 2^64; each must be answered with TRANSPORT_OP_ERROR and
 * ERR_RANGE, and a normal call afterwards must still be echoed correctly.
 * Expected exit status: 0.
 *   1  setup: endpoint, spawn, connect
 *   2  the normal call before the hostile ones failed or returned wrong bytes
 *   3  a hostile descriptor was not refused with ERR_RANGE (the case is printed)
 *   4  the normal call after them failed or returned wrong bytes
 *   5  the service's exit status was not 0 */
#include "echo_test.h"
#include "transport_zcopy.h"

static uint8_t req[256], resp[256];

static void normal_call(struct transport *t)
{
    for (unsigned i = 0; i < sizeof req; i++)
        req[i] = (uint8_t)(i * 3 + test_stage);
    EXPECT_EQ(transport_call(t, req, sizeof req, resp, sizeof resp), sizeof req, "normal call");
    for (unsigned i = 0; i < sizeof req; i++)
        EXPECT_EQ(resp[i], (uint8_t)(req[i] ^ (0x5a + i * 7)), "echoed byte");
}

int main(void)
{
    test_name = "zcopy_hostile";
    struct transport_config cfg = {.ops = transport_find("zcopy"), .ncpus = 1};
    struct transport t;
    long pid = test_connect_echo(&t, &cfg);
    cap_t ep = t.ep;

    test_stage = 2;
    normal_call(&t);

    test_stage = 3;
    static const struct {
        uint64_t off, len;
        const char *what;
    } bad[] = {
        {ZCOPY_AREA_BYTES - 8, 16, "past the end of the request area"},
        {ZCOPY_RESP_OFF, 16, "in the server's response area"},
        {ZCOPY_POOL_BYTES, 1, "at the end of the pool"},
        {ZCOPY_POOL_BYTES + 4096, 8, "beyond the pool"},
        {8, ~0ull - 7, "offset + length wraps to 0"},
        {~0ull - 15, 32, "offset near 2^64, the sum wraps"},
        {~0ull, 1, "offset 2^64 - 1"},
        {0, ZCOPY_AREA_BYTES + 1, "one byte more than the area"},
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ipc_msg m = {.tag = ipc_tag(transport_label(TRANSPORT_OP_DATA, 0), 2, 0)};
        m.w[0] = bad[i].off;
        m.w[1] = bad[i].len;
        long r = ipc_call(ep, &m);
        if (r != 0 || transport_label_op(m.tag) != TRANSPORT_OP_ERROR ||
            (int64_t)m.w[0] != ERR_RANGE)
            printf("zcopy_hostile: descriptor (%#lx, %#lx) %s: call %ld, reply op %#x w0 %ld\n",
                   (unsigned long)bad[i].off, (unsigned long)bad[i].len, bad[i].what, r,
                   transport_label_op(m.tag), (long)m.w[0]);
        EXPECT_EQ(r, 0, "the hostile call itself");
        EXPECT_EQ(transport_label_op(m.tag), TRANSPORT_OP_ERROR, "refused");
        EXPECT_EQ((int64_t)m.w[0], ERR_RANGE, "refused with ERR_RANGE");
    }

    test_stage = 4;
    normal_call(&t);

    test_stage = 5;
    transport_close(&t);
    int status = -1;
    EXPECT_EQ(sys_wait((int)pid, &status), pid, "wait for echo");
    test_forget_child(pid);
    EXPECT_EQ(status, 0, "echo's exit status");
    EXPECT_EQ(sys_cap_delete(ep), 0, "delete the endpoint");
    printf("zcopy_hostile: %u hostile descriptors refused, the service kept serving\n",
           (unsigned)(sizeof bad / sizeof bad[0]));
    return 0;
}
