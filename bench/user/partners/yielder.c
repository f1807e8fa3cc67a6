/* yielder: the other process of ubench's yield/cross_as. Yields UB_YIELDER_ROUNDS times, then
 * exits; ubench compares its own yield count at that moment with the rounds (ubench_abi.h).
 * Exit status: 0. */
#include "sys.h"
#include "user/ubench_abi.h"

int main(void)
{
    for (unsigned i = 0; i < UB_YIELDER_ROUNDS; i++)
        sys_yield();
    return 0;
}
