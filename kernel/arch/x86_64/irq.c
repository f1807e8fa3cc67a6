/* ISA device interrupts over the I/O APIC: binding, dispatch, and the bookkeeping that lets a
 * line be unbound while its interrupt may be running on another CPU. See irq.h for when a
 * handler runs relative to the EOI, and why. */
#include "arch/x86_64/irq.h"

#include <stddef.h>

#include "arch/x86_64/apic.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/spinlock.h"
#include "arch/x86_64/trap.h"
#include "core/console.h"
#include "lib/err.h"

_Static_assert(VEC_ISA_LAST - VEC_ISA_FIRST + 1 == IRQ_LINES, "one vector per ISA line");

/* Lines the kernel keeps. 2 is the 8259 cascade: no ISA device has it, and with an I/O APIC its
 * GSI usually carries IRQ 0. The kernel's own devices need none: COM1 (IRQ 4) is polled with its
 * interrupts disabled (serial.c), and TSC calibration polls PIT channel 2's output through port
 * 0x61 (pit.c), which does not involve IRQ 0 (channel 0's output). A line the kernel starts to
 * use belongs here. */
#define RESERVED_LINES (1u << 2)

struct line {
    irq_fn fn;             /* NULL: unbound */
    void *ctx;
    /* The CPU index + 1 running this line's dispatch, 0 when none: irq_unbind waits for it. */
    unsigned running;
    uint64_t count;
    uint64_t unhandled;
};

static struct line lines[IRQ_LINES];
/* Serialises bind, unbind and ack with each other and with the mask an unhandled interrupt sets,
 * so that a dispatch that found no handler cannot mask a line a concurrent bind just unmasked. */
static struct spinlock lock = SPINLOCK_INIT;
static bool available;

bool irq_available(void)
{
    return available;
}

/* Reserved, or its GSI belongs to another line: an override naming that GSI takes it from the
 * line that would reach it by default (on a PC, IRQ 0 -> GSI 2 takes GSI 2 from line 2); of two
 * overrides naming one GSI, the lower line keeps it. */
static bool line_reserved(unsigned line)
{
    if (RESERVED_LINES & (1u << line))
        return true;
    struct ioapic_isa me = ioapic_isa_line(line);
    for (unsigned other = 0; other < IRQ_LINES; other++) {
        struct ioapic_isa o = ioapic_isa_line(other);
        if (other != line && o.gsi == me.gsi && o.overridden && (!me.overridden || other < line))
            return true;
    }
    return false;
}

static void dispatch(struct trap_frame *f)
{
    unsigned n = f->vector - VEC_ISA_FIRST;
    struct line *l = &lines[n];
    struct ioapic_isa where = ioapic_isa_line(n);
    /* Announce, then look (both sequentially consistent): irq_unbind clears fn, then looks at
     * running, so either it sees this dispatch or this dispatch sees NULL. */
    __atomic_store_n(&l->running, this_cpu()->index + 1, __ATOMIC_SEQ_CST);
    irq_fn fn = __atomic_load_n(&l->fn, __ATOMIC_SEQ_CST);
    if (!fn) {
        spin_lock(&lock);
        if (!__atomic_load_n(&l->fn, __ATOMIC_RELAXED))
            ioapic_mask(where.gsi, true);
        spin_unlock(&lock);
        __atomic_fetch_add(&l->unhandled, 1, __ATOMIC_RELAXED);
    } else if (where.level) {
        ioapic_mask(where.gsi, true); /* until irq_ack: see irq.h */
    }
    apic_eoi();
    if (fn) {
        __atomic_fetch_add(&l->count, 1, __ATOMIC_RELAXED);
        fn(n, l->ctx);
    }
    __atomic_store_n(&l->running, 0, __ATOMIC_RELEASE);
}

int irq_bind(unsigned line, irq_fn fn, void *ctx)
{
    if (line >= IRQ_LINES || !fn)
        return ERR_INVAL;
    if (!available)
        return ERR_NOENT;
    if (line_reserved(line))
        return ERR_INVAL;
    struct ioapic_isa where = ioapic_isa_line(line);
    if (!ioapic_has_gsi(where.gsi))
        return ERR_NOENT;
    uint64_t flags = spin_lock_irqsave(&lock);
    struct line *l = &lines[line];
    if (l->fn) {
        spin_unlock_irqrestore(&lock, flags);
        return ERR_BUSY;
    }
    int err = ioapic_route(where.gsi, VEC_ISA_FIRST + line, cpus[0].apic_id, where.level,
                           where.active_low);
    if (!err) {
        l->ctx = ctx;
        /* Release: a dispatch that sees fn sees ctx. */
        __atomic_store_n(&l->fn, fn, __ATOMIC_RELEASE);
        ioapic_mask(where.gsi, false);
    }
    spin_unlock_irqrestore(&lock, flags);
    return err;
}

void irq_unbind(unsigned line)
{
    if (line >= IRQ_LINES || !available)
        return;
    struct line *l = &lines[line];
    uint64_t flags = spin_lock_irqsave(&lock);
    if (l->fn) {
        /* Masked first: no new interrupt once the handler is gone. */
        ioapic_mask(ioapic_isa_line(line).gsi, true);
        __atomic_store_n(&l->fn, NULL, __ATOMIC_SEQ_CST);
    }
    spin_unlock_irqrestore(&lock, flags);
    /* Outside the lock: the running handler may itself bind or unbind another line. A dispatch
     * running on this CPU is the caller's own handler, which cannot be waited for; interrupts
     * are off while comparing so that the caller cannot migrate between the two reads. */
    for (;;) {
        uint64_t f = irq_save();
        unsigned r = __atomic_load_n(&l->running, __ATOMIC_SEQ_CST);
        bool done = !r || r == this_cpu()->index + 1;
        irq_restore(f);
        if (done)
            break;
        cpu_relax();
    }
}

void irq_ack(unsigned line)
{
    if (line >= IRQ_LINES || !available)
        return;
    struct ioapic_isa where = ioapic_isa_line(line);
    if (!where.level)
        return;
    uint64_t flags = spin_lock_irqsave(&lock);
    if (lines[line].fn)
        ioapic_mask(where.gsi, false);
    spin_unlock_irqrestore(&lock, flags);
}

uint64_t irq_count(unsigned line)
{
    return line < IRQ_LINES ? __atomic_load_n(&lines[line].count, __ATOMIC_RELAXED) : 0;
}

uint64_t irq_unhandled(unsigned line)
{
    return line < IRQ_LINES ? __atomic_load_n(&lines[line].unhandled, __ATOMIC_RELAXED) : 0;
}

void irq_init(void)
{
    for (unsigned v = VEC_ISA_FIRST; v <= VEC_ISA_LAST; v++)
        trap_set_handler(v, dispatch);
    ioapic_init(firmware_madt());
    if (!ioapic_present())
        return;
    /* Without interrupt remapping an I/O APIC names its destination in 8 bits. */
    if (cpus[0].apic_id > 0xff) {
        kprintf("irq: the boot CPU's APIC ID %u is beyond the I/O APIC's 8-bit destination; "
                "no device interrupts\n", cpus[0].apic_id);
        return;
    }
    available = true;
}
