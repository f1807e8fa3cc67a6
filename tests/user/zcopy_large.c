/* zcopy_large: payloads bigger than the zcopy pool's area travel as granted pages, both ways.
 * The program connects to the echo service over zcopy and sends, through the in-place API,
 * payloads on both sides of the pool/grant threshold, 64 KiB, 1 MiB and the largest the
 * transport takes, with a small one between each, checking every byte of every response; a
 * sent grant buffer must have left this address space. Then it sends hand-made
 * TRANSPORT_OP_GRANT messages that lie (an object smaller or bigger than the length needs, no
 * capability, a length the pool would take, a notification instead of memory) and expects each
 * refused with an error while the service keeps serving. The kernel test around it checks that
 * every frame comes back.
 * Expected exit status: 0.
 *   1  setup: endpoint, spawn, connect
 *   2  a payload came back wrong, or a grant buffer stayed mapped
 *   3  the limits: a buffer over the maximum, a send longer than its buffer
 *   4  a lying grant message was not refused
 *   5  the normal call after them failed
 *   6  the service's exit status was not 0 */
#include "echo_test.h"
#include "transport_zcopy.h"

static uint8_t byte_at(size_t len, size_t i)
{
    return (uint8_t)((i * 131 + len * 7 + (i >> 12)) ^ (i >> 7));
}

static void exchange(struct transport *t, size_t len)
{
    void *out;
    EXPECT_EQ(transport_buffer(t, len, &out), 0, "buffer");
    uint8_t *o = out;
    for (size_t i = 0; i < len; i++)
        o[i] = byte_at(len, i);
    const void *in;
    EXPECT_EQ(transport_call_in_place(t, len, &in), (long)len, "call in place");
    const uint8_t *r = in;
    for (size_t i = 0; i < len; i++)
        if (r[i] != (uint8_t)(byte_at(len, i) ^ (0x5a + i * 7))) {
            printf("zcopy_large: %lu bytes: byte %lu is %#x\n", (unsigned long)len,
                   (unsigned long)i, r[i]);
            EXPECT(0, "every byte echoed");
        }
    /* MEM_GRANT_MOVE took the pages away: SYS_MEM_PROTECT refuses an unmapped page. */
    if (len > ZCOPY_AREA_BYTES)
        EXPECT(sys_mem_protect(out, PAGE_SIZE, PROT_READ) != 0, "sent pages left this side");
}

/* A TRANSPORT_OP_GRANT request by hand: `len` in word 0, `cap` (0: none) as its capability. */
static void lying_grant(struct transport *t, uint64_t len, cap_t cap, const char *what)
{
    struct ipc_msg m = {.tag = ipc_tag(transport_label(TRANSPORT_OP_GRANT, 0), 1, cap ? 1 : 0)};
    m.w[0] = len;
    if (cap)
        t->ipcbuf->caps[0] = cap;
    long r = ipc_call(t->ep, &m);
    if (r != 0 || transport_label_op(m.tag) != TRANSPORT_OP_ERROR || (int64_t)m.w[0] >= 0)
        printf("zcopy_large: %s: call %ld, reply op %#x w0 %ld\n", what, r,
               transport_label_op(m.tag), (long)m.w[0]);
    EXPECT_EQ(r, 0, "the lying call itself");
    EXPECT_EQ(transport_label_op(m.tag), TRANSPORT_OP_ERROR, "refused");
}

int main(void)
{
    test_name = "zcopy_large";
    struct transport_config cfg = {.ops = transport_find("zcopy"), .ncpus = 1};
    struct transport t;
    long pid = test_connect_echo(&t, &cfg);
    cap_t ep = t.ep;
    EXPECT_EQ(transport_max_in_place(&t), ZCOPY_GRANT_MAX, "the in-place limit");

    test_stage = 2;
    static const size_t sizes[] = {ZCOPY_AREA_BYTES, ZCOPY_AREA_BYTES + 1, 64 << 10,
                                   1 << 20,          (1 << 20) + 5,        ZCOPY_GRANT_MAX};
    for (unsigned round = 0; round < 2; round++)
        for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            exchange(&t, sizes[i]);
            exchange(&t, 100);
        }

    test_stage = 3;
    void *out;
    EXPECT_EQ(transport_buffer(&t, ZCOPY_GRANT_MAX + 1, &out), ERR_RANGE, "over the maximum");
    EXPECT_EQ(transport_buffer(&t, 64 << 10, &out), 0, "a grant buffer");
    const void *in;
    EXPECT_EQ(transport_call_in_place(&t, (64 << 10) + 1, &in), ERR_RANGE, "longer than it");
    EXPECT_EQ(transport_call_in_place(&t, 64 << 10, &in), 64 << 10, "then sent as asked");

    test_stage = 4;
    cap_t small = (cap_t)EXPECT_OK(sys_memobj_create(2), "a 2-page object");
    lying_grant(&t, 100000, small, "object smaller than the length");
    cap_t big = (cap_t)EXPECT_OK(sys_memobj_create(64), "a 64-page object");
    lying_grant(&t, 100000, big, "object bigger than the length");
    cap_t fits = (cap_t)EXPECT_OK(sys_memobj_create(1), "a 1-page object");
    lying_grant(&t, 4096, fits, "a length the pool would take");
    lying_grant(&t, 100000, 0, "no capability");
    cap_t note = (cap_t)EXPECT_OK(sys_notification_create(), "a notification");
    lying_grant(&t, 100000, note, "a notification for the object");
    cap_t caps[] = {small, big, fits, note};
    for (unsigned i = 0; i < sizeof caps / sizeof caps[0]; i++)
        EXPECT_EQ(sys_cap_delete(caps[i]), 0, "delete this side's copy");

    test_stage = 5;
    exchange(&t, 1 << 20);

    test_stage = 6;
    transport_close(&t);
    int status = -1;
    EXPECT_EQ(sys_wait((int)pid, &status), pid, "wait for echo");
    test_forget_child(pid);
    EXPECT_EQ(status, 0, "echo's exit status");
    EXPECT_EQ(sys_cap_delete(ep), 0, "delete the endpoint");
    printf("zcopy_large: payloads up to %u bytes through granted pages, every byte verified; "
           "lying grants refused\n",
           ZCOPY_GRANT_MAX);
    return 0;
}
