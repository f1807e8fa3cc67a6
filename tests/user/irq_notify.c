/* A user-space "driver" receives an interrupt: it binds ISA line 0 (the PIT, which the kernel
 * test irq.user_driver_gets_the_interrupt_as_a_notification fires) to a notification and
 * waits. Also checks SYS_IRQ_BIND's refusals. Exit status 0 when all holds, else the number of
 * the failed check. */
#include "sys.h"

#define PIT_LINE 0
#define BIT      (1ull << 4)

int main(void)
{
    long n = sys_notification_create(), other = sys_notification_create();
    long ep = sys_endpoint_create();
    if (n < 0 || other < 0 || ep < 0)
        return 1;
    if (sys_irq_bind((cap_t)ep, PIT_LINE, (cap_t)n, BIT) != ERR_TYPE)
        return 2; /* an endpoint is no control capability */
    if (sys_irq_bind(CAP_ROOT_CONTROL, 16, (cap_t)n, BIT) != ERR_INVAL)
        return 3;
    if (sys_irq_bind(CAP_ROOT_CONTROL, PIT_LINE, (cap_t)n, 0) != ERR_INVAL)
        return 4;
    if (sys_irq_bind(CAP_ROOT_CONTROL, PIT_LINE, (cap_t)ep, BIT) != ERR_TYPE)
        return 5;
    long r = sys_irq_bind(CAP_ROOT_CONTROL, PIT_LINE, (cap_t)n, BIT);
    if (r) {
        printf("irq_notify: bind: %ld\n", r);
        return 6;
    }
    if (sys_irq_bind(CAP_ROOT_CONTROL, PIT_LINE, (cap_t)other, BIT) != ERR_BUSY)
        return 7;
    /* The kernel test fires the PIT every few ticks until this process has ended. */
    r = sys_notify_wait((cap_t)n, 5000);
    if (r != (long)BIT) {
        printf("irq_notify: wait: %ld\n", r);
        return 8;
    }
    /* Deleting the notification frees the line for another. */
    if (sys_cap_delete((cap_t)n) || sys_irq_bind(CAP_ROOT_CONTROL, PIT_LINE, (cap_t)other, BIT))
        return 9;
    sys_cap_delete((cap_t)other);
    return 0;
}
