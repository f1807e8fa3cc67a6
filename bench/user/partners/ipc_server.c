/* ipc_server: the other process of ubench's inter-AS IPC benchmarks (bench/user/bench_ipc.c).
 * ubench spawns it with a copy of an endpoint capability (sys_spawn_cap), pinned to ubench's
 * CPU, and it serves calls on it until told to quit (bench/user/ubench_ipc.h has the protocol).
 * Exit status: UB_IPC_SERVE_*, 0 when it quit as asked. */
#include "sys.h"
#include "user/ubench_ipc.h"

int main(void)
{
    if (!sys_start_arg)
        return UB_IPC_SERVE_NO_CAP;
    return ub_ipc_serve((cap_t)sys_start_arg);
}
