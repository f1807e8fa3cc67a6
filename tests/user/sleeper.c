/* sleeper: sleeps SLEEP_TICKS and exits; spawner.c starts 120 of them so that over 100
 * processes are alive at once. 100 ticks rather than a handful, so that the first one is still
 * asleep when the last is spawned even under slow emulation (about 0.8 ms per spawn allowed).
 * Expected exit status: 0.
 *   1  SYS_SLEEP returned an error */
#include "sys.h"

#define SLEEP_TICKS 100

int main(void)
{
    return sys_sleep(SLEEP_TICKS) == 0 ? 0 : 1;
}
