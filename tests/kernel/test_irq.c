/* Device interrupts through the I/O APIC, raised by real (emulated) devices: the 8254 PIT's
 * channel 0 (ISA IRQ 0, which an MADT override usually moves to GSI 2) and the MC146818 RTC's
 * periodic interrupt (ISA IRQ 8, usually not overridden), so that both the override and the
 * identity route are exercised. Every wait is bounded: an interrupt that never comes is a
 * failure, not a hang. The self tests run on the boot thread, pinned to the boot CPU, which is
 * where device interrupts are delivered. */
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/irq.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"
#include "core/process.h"
#include "core/selftest.h"
#include "core/thread.h"
#include "lib/kstring.h"
#include "sched/sched.h"
#include "lib/err.h"

#define WAIT_US   1000000 /* generous: a TCG vCPU is a host thread that may wait for a core */
#define SETTLE_US 10000   /* after the PIT's output rose: far longer than any delivery takes */

/* 8254: channel 0, lobyte/hibyte access, mode 0 (interrupt on terminal count), binary. Writing
 * this control word drives OUT low and stops the count; writing the count starts it, and OUT
 * rises when it reaches zero (the edge the I/O APIC sees) and stays high until the next control
 * word. Read-back (8254 only, not the 8253): latch channel 0's status, whose bit 7 is OUT. */
#define PIT_CH0         0x40
#define PIT_CMD         0x43
#define PIT_CH0_MODE0   0x30
#define PIT_READ_STATUS 0xe2
#define PIT_STATUS_OUT  0x80
#define PIT_COUNT       1193 /* 1 ms */

/* MC146818 RTC. Bit 7 of the index port disables NMI while the index is set (the usual
 * precaution); register C is read to clear the interrupt flags, which drops IRQ 8. */
#define CMOS_INDEX   0x70
#define CMOS_DATA    0x71
#define CMOS_NMI_OFF 0x80
#define RTC_A        0x0a
#define RTC_B        0x0b
#define RTC_C        0x0c
#define RTC_D        0x0d
#define RTC_A_RATE   0x0f
#define RTC_RATE_1024HZ 6
#define RTC_B_PIE    0x40

struct hits {
    uint64_t n;
    unsigned line;
    bool irq_off;
    unsigned cpu;
};

static void record(unsigned line, void *ctx)
{
    struct hits *h = ctx;
    h->line = line;
    h->irq_off = !(read_rflags() & RFLAGS_IF);
    h->cpu = this_cpu()->index;
    __atomic_fetch_add(&h->n, 1, __ATOMIC_RELEASE);
}

static void never(unsigned line, void *ctx)
{
    (void)line;
    (void)ctx;
}

static uint64_t deadline(uint64_t us)
{
    return rdtsc() + tsc.hz / 1000000 * us;
}

static bool wait_hits(struct hits *h, uint64_t want)
{
    for (uint64_t end = deadline(WAIT_US); rdtsc() < end;)
        if (__atomic_load_n(&h->n, __ATOMIC_ACQUIRE) >= want)
            return true;
    return __atomic_load_n(&h->n, __ATOMIC_ACQUIRE) >= want;
}

static bool wait_unhandled(unsigned line, uint64_t want)
{
    for (uint64_t end = deadline(WAIT_US); rdtsc() < end;)
        if (irq_unhandled(line) >= want)
            return true;
    return irq_unhandled(line) >= want;
}

static void pit_quiet(void)
{
    outb(PIT_CMD, PIT_CH0_MODE0);
}

static void pit_start(void)
{
    outb(PIT_CH0, PIT_COUNT & 0xff);
    outb(PIT_CH0, PIT_COUNT >> 8);
}

static bool pit_out_high(void)
{
    outb(PIT_CMD, PIT_READ_STATUS);
    return inb(PIT_CH0) & PIT_STATUS_OUT;
}

/* One rising edge on IRQ 0, then waits until OUT is high (false if it never is). */
static bool pit_edge(void)
{
    pit_quiet();
    pit_start();
    for (uint64_t end = deadline(WAIT_US); rdtsc() < end;)
        if (pit_out_high())
            return true;
    return false;
}

static uint8_t cmos_read(uint8_t reg)
{
    outb(CMOS_INDEX, CMOS_NMI_OFF | reg);
    return inb(CMOS_DATA);
}

static void cmos_write(uint8_t reg, uint8_t v)
{
    outb(CMOS_INDEX, CMOS_NMI_OFF | reg);
    outb(CMOS_DATA, v);
}

/* Periodic interrupt off and its flag cleared, so IRQ 8 is low; NMI enabled again on the way
 * out, as the PC leaves it. */
static void rtc_quiet(void)
{
    cmos_write(RTC_B, cmos_read(RTC_B) & ~RTC_B_PIE);
    (void)cmos_read(RTC_C);
    outb(CMOS_INDEX, RTC_D);
}

SELFTEST(irq, no_ioapic_means_every_bind_is_noent)
{
    if (irq_available())
        return; /* covered by the other tests */
    for (unsigned line = 0; line < IRQ_LINES; line++)
        KCHECK_EQ(irq_bind(line, never, NULL), ERR_NOENT);
}

SELFTEST(irq, bind_errors)
{
    if (!irq_available())
        return;
    KCHECK_EQ(irq_bind(16, never, NULL), ERR_INVAL);
    KCHECK_EQ(irq_bind(~0u, never, NULL), ERR_INVAL);
    KCHECK_EQ(irq_bind(3, NULL, NULL), ERR_INVAL);
    KCHECK_EQ(irq_bind(2, never, NULL), ERR_INVAL); /* the cascade */
    /* COM2's line: nothing drives it under QEMU, and a UART with OUT2 clear cannot raise it. */
    KCHECK_EQ(irq_bind(3, never, NULL), 0);
    KCHECK_EQ(irq_bind(3, never, NULL), ERR_BUSY);
    KCHECK(!ioapic_masked(ioapic_isa_line(3).gsi));
    irq_unbind(3);
    KCHECK(ioapic_masked(ioapic_isa_line(3).gsi));
    irq_unbind(3);  /* not bound: harmless */
    irq_unbind(16); /* no such line: harmless */
    KCHECK_EQ(irq_bind(3, never, NULL), 0);
    irq_unbind(3);
}

SELFTEST(irq, pit_interrupt_reaches_handler_then_rebind)
{
    static struct hits first, second;
    if (!irq_available())
        return;
    struct ioapic_isa where = ioapic_isa_line(0);
    uint64_t count = irq_count(0), unhandled = irq_unhandled(0);
    pit_quiet();
    KCHECK_EQ(irq_bind(0, record, &first), 0);
    bool edge = pit_edge();
    bool got = wait_hits(&first, 1);
    irq_unbind(0);
    KCHECK(edge);
    KCHECK(got);
    KCHECK_EQ(first.line, 0);
    KCHECK(first.irq_off);
    KCHECK_EQ(first.cpu, 0);
    KCHECK_EQ(irq_count(0), count + 1);
    KCHECK(ioapic_masked(where.gsi));

    /* Unbound and masked: an edge now reaches nobody and is not even counted. */
    edge = pit_edge();
    tsc_delay_us(SETTLE_US);
    KCHECK(edge);
    KCHECK_EQ(__atomic_load_n(&first.n, __ATOMIC_ACQUIRE), 1);
    KCHECK_EQ(irq_unhandled(0), unhandled);

    /* Bound again, to another handler and context. */
    pit_quiet();
    KCHECK_EQ(irq_bind(0, record, &second), 0);
    edge = pit_edge();
    got = wait_hits(&second, 1);
    irq_unbind(0);
    pit_quiet();
    KCHECK(edge);
    KCHECK(got);
    KCHECK_EQ(__atomic_load_n(&first.n, __ATOMIC_ACQUIRE), 1);
    KCHECK_EQ(second.line, 0);
    KCHECK_EQ(irq_count(0), count + 2);
    KCHECK_EQ(irq_unhandled(0), unhandled);
}

SELFTEST(irq, rtc_periodic_interrupt_reaches_handler)
{
    static struct hits h;
    if (!irq_available())
        return;
    uint64_t flags = irq_save();
    rtc_quiet();
    irq_restore(flags);
    KCHECK_EQ(irq_bind(8, record, &h), 0);
    flags = irq_save();
    cmos_write(RTC_A, (cmos_read(RTC_A) & ~RTC_A_RATE) | RTC_RATE_1024HZ);
    cmos_write(RTC_B, cmos_read(RTC_B) | RTC_B_PIE);
    outb(CMOS_INDEX, RTC_D);
    irq_restore(flags);
    /* Register C is not read in the handler, so IRQ 8 stays high after the first period: one
     * edge, one interrupt. */
    bool got = wait_hits(&h, 1);
    irq_unbind(8);
    flags = irq_save();
    rtc_quiet();
    irq_restore(flags);
    KCHECK(got);
    KCHECK_EQ(h.line, 8);
    KCHECK(h.irq_off);
    KCHECK_EQ(h.cpu, 0);
}

/* A level-triggered line is masked before the EOI and stays masked until irq_ack: the RTC,
 * routed as level triggered, holds IRQ 8 high until register C is read, so without the mask the
 * interrupt would come back at once after every EOI. */
SELFTEST(irq, level_line_stays_masked_until_acked)
{
    static struct hits h;
    if (!irq_available())
        return;
    struct ioapic_isa where = ioapic_isa_line(8), level = where;
    level.level = true;
    level.active_low = false; /* the RTC's IRQ 8 is active high */
    uint64_t flags = irq_save();
    rtc_quiet();
    irq_restore(flags);
    ioapic_isa_line_set(8, level);
    int err = irq_bind(8, record, &h);
    flags = irq_save();
    cmos_write(RTC_A, (cmos_read(RTC_A) & ~RTC_A_RATE) | RTC_RATE_1024HZ);
    cmos_write(RTC_B, cmos_read(RTC_B) | RTC_B_PIE);
    outb(CMOS_INDEX, RTC_D);
    irq_restore(flags);
    bool first = wait_hits(&h, 1);
    tsc_delay_us(SETTLE_US);
    uint64_t while_masked = __atomic_load_n(&h.n, __ATOMIC_ACQUIRE);
    bool masked = ioapic_masked(level.gsi);
    irq_ack(8); /* the RTC still asserts IRQ 8: it comes again */
    bool again = wait_hits(&h, 2);
    tsc_delay_us(SETTLE_US);
    uint64_t before_quiet = __atomic_load_n(&h.n, __ATOMIC_ACQUIRE);
    flags = irq_save();
    rtc_quiet();
    irq_restore(flags);
    irq_ack(8); /* now quiet: nothing more */
    tsc_delay_us(SETTLE_US);
    uint64_t after_quiet = __atomic_load_n(&h.n, __ATOMIC_ACQUIRE);
    irq_unbind(8);
    ioapic_isa_line_set(8, where);
    KCHECK_EQ(err, 0);
    KCHECK(first);
    KCHECK_EQ(while_masked, 1);
    KCHECK(masked);
    KCHECK(again);
    KCHECK_EQ(before_quiet, 2);
    KCHECK_EQ(after_quiet, 2);
}

/* A pin left live with nobody bound (as firmware might leave one) is masked at its first
 * interrupt and counted; it stays masked. */
SELFTEST(irq, unbound_line_that_fires_is_masked_and_counted)
{
    if (!irq_available())
        return;
    struct ioapic_isa where = ioapic_isa_line(0);
    uint64_t unhandled = irq_unhandled(0);
    pit_quiet();
    KCHECK_EQ(ioapic_route(where.gsi, VEC_ISA_FIRST + 0, cpus[0].apic_id, where.level,
                           where.active_low), 0);
    ioapic_mask(where.gsi, false);
    bool edge = pit_edge();
    bool got = wait_unhandled(0, unhandled + 1);
    bool masked = ioapic_masked(where.gsi);
    ioapic_mask(where.gsi, true);
    KCHECK(edge);
    KCHECK(got);
    KCHECK(masked);
    edge = pit_edge();
    tsc_delay_us(SETTLE_US);
    pit_quiet();
    KCHECK(edge);
    KCHECK_EQ(irq_unhandled(0), unhandled + 1);
}

/* The race irq_unbind documents: an edge the LAPIC has accepted (pending in its IRR, interrupts
 * off) when the line is unbound arrives afterwards, finds no handler, and is only counted. */
SELFTEST(irq, interrupt_in_flight_at_unbind_is_counted_not_delivered)
{
    static struct hits h;
    if (!irq_available())
        return;
    uint64_t unhandled = irq_unhandled(0);
    pit_quiet();
    uint64_t flags = irq_save();
    bool on_boot_cpu = this_cpu()->index == 0;
    int err = irq_bind(0, record, &h);
    bool edge = pit_edge(), pending = false;
    for (uint64_t end = deadline(WAIT_US); !pending && rdtsc() < end;)
        pending = apic_vector_pending(VEC_ISA_FIRST + 0);
    irq_unbind(0);
    irq_restore(flags);
    bool counted = wait_unhandled(0, unhandled + 1);
    pit_quiet();
    KCHECK(on_boot_cpu);
    KCHECK_EQ(err, 0);
    KCHECK(edge);
    KCHECK(pending);
    KCHECK(counted);
    KCHECK_EQ(__atomic_load_n(&h.n, __ATOMIC_ACQUIRE), 0);
    KCHECK(ioapic_masked(ioapic_isa_line(0).gsi));
}

/* tests/user/irq_notify.c binds the PIT's line to a notification and waits: the interrupt must
 * reach ring 3 as notification bits. The PIT fires every few ticks until the program ends, so
 * the test does not depend on when the program gets to wait. */
SELFTEST(irq, user_driver_gets_the_interrupt_as_a_notification)
{
    struct process *p;
    const char *name = "irq_notify";
    if (!irq_available())
        return;
    int err = process_spawn(NULL, name, strlen(name), SCHED_PRIO_DEFAULT, &p);
    KCHECK(err == 0);
    if (err)
        return;
    for (int i = 0; i < 1000 && __atomic_load_n(&p->state, __ATOMIC_ACQUIRE) != PROCESS_ZOMBIE;
         i++) {
        pit_edge();
        thread_sleep(5);
    }
    pit_quiet();
    int status = process_wait(p);
    if (status)
        selftest_fail(__FILE__, __LINE__, "%s ended with %d", name, status);
}
