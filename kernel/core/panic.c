#include "core/panic.h"

#include <stdarg.h>

#include "arch/x86_64/cpu.h"
#include "core/console.h"
#include "lib/fmt.h"
#include "trace/trace.h"

#define DEBUG_EXIT_PORT 0xf4

void machine_exit(unsigned code)
{
    /* Under QEMU this ends the VM with a status for the host; on bare metal the port is
     * unclaimed, so fall through to halting for good. */
    outl(DEBUG_EXIT_PORT, code);
    for (;;) {
        irq_disable();
        halt();
    }
}

void panic(const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    irq_disable();
    va_start(ap, fmt);
    fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    kprintf("PANIC: %s\n", msg);
    trace_finish(); /* the events leading up to a panic are the ones worth having */
    machine_exit(EXIT_PANIC);
}
