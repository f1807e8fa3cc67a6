/* Kernel console: printf over the serial port, one lock so that lines from different CPUs do
 * not interleave mid-line. */
#include "core/console.h"

#include <stdarg.h>

#include "arch/x86_64/serial.h"
#include "arch/x86_64/spinlock.h"
#include "lib/fmt.h"

static struct spinlock console_lock = SPINLOCK_INIT;

void console_init(void)
{
    serial_init();
}

static void console_sink(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    serial_write(s, n);
}

void console_write(const char *s, size_t n)
{
    uint64_t flags = spin_lock_irqsave(&console_lock);
    serial_write(s, n);
    spin_unlock_irqrestore(&console_lock, flags);
}

int kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    uint64_t flags = spin_lock_irqsave(&console_lock);
    int n = fmt_vformat(console_sink, NULL, fmt, ap);
    spin_unlock_irqrestore(&console_lock, flags);
    va_end(ap);
    return n;
}
