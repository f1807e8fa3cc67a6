/* Smoke check of endpoint IPC between two processes: the parent spawns itself as the server
 * (handing it the endpoint), then calls it; exit status 0 when every reply is right and the
 * fast path carried the calls. */
#include "sys.h"

static int server(cap_t ep)
{
    struct ipc_msg m;
    uint64_t badge;
    long r = ipc_recv(ep, &m, &badge, 0, 0);
    for (;;) {
        if (r)
            return 10;
        for (int i = 0; i < IPC_REG_WORDS; i++)
            m.w[i] += 1;
        m.tag = ipc_tag(ipc_tag_label(m.tag), IPC_REG_WORDS, 0);
        r = ipc_reply_recv(ep, &m, &badge);
    }
}

int main(void)
{
    if (sys_start_arg)
        return server((cap_t)sys_start_arg);
    long ep = sys_endpoint_create();
    if (ep < 0)
        return 1;
    long pid = sys_spawn_cap("fastpath_smoke", PRIO_DEFAULT, (uint32_t)ep);
    if (pid < 0)
        return 2;
    struct ipc_stats before, after;
    sys_ipc_ctl(CAP_ROOT_CONTROL, IPC_CTL_STATS, (uint64_t)&before);
    for (uint64_t i = 0; i < 1000; i++) {
        struct ipc_msg m = {.tag = ipc_tag(i, IPC_REG_WORDS, 0)};
        for (int w = 0; w < IPC_REG_WORDS; w++)
            m.w[w] = i * 8 + (uint64_t)w;
        long r = ipc_call((cap_t)ep, &m);
        if (r) {
            printf("fastpath_smoke: call %lu: %ld\n", i, r);
            return 3;
        }
        for (int w = 0; w < IPC_REG_WORDS; w++)
            if (m.w[w] != i * 8 + (uint64_t)w + 1) {
                printf("fastpath_smoke: call %lu word %d: %lu\n", i, w, m.w[w]);
                return 4;
            }
    }
    sys_ipc_ctl(CAP_ROOT_CONTROL, IPC_CTL_STATS, (uint64_t)&after);
    printf("fastpath_smoke: fast calls %lu, slow calls %lu, fast reply_recv %lu, slow %lu\n",
           after.fast_call - before.fast_call, after.slow_call - before.slow_call,
           after.fast_reply_recv - before.fast_reply_recv,
           after.slow_reply_recv - before.slow_reply_recv);
    for (int r = 0; r < IPC_SLOW_REASONS; r++)
        printf("  reason %d: %lu\n", r, after.slow_reason[r] - before.slow_reason[r]);
    sys_kill((int)pid);
    int status;
    sys_wait((int)pid, &status);
    return 0;
}
