/* Trace rings: recording through the real hooks (including the timer interrupt's), ordering,
 * overwrite accounting, the disabled state, the spec parser and the header the host parses.
 *
 * Tests leave tracing as they found it: when the boot turned tracing on (trace=...), the tests'
 * events join that trace; otherwise they start one themselves (trace_init) and turn it off again,
 * without trace_finish, so an ordinary test=all boot prints no dump. */
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/pci.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"
#include "core/console.h"
#include "core/selftest.h"
#include "lib/err.h"
#include "lib/kstring.h"
#include "trace/ring.h"
#include "trace/trace.h"

#define MARK_TAG 0x7e57u /* arg1 of this file's markers, to tell them from anyone else's */

static bool started_here;

/* Makes sure a trace exists and every type is on; returns the mask to restore. */
static uint32_t trace_begin(void)
{
    if (!trace_ready()) {
        if (trace_init("on"))
            return 0;
        started_here = true;
    }
    return trace_set_mask(TRACE_ALL_TYPES);
}

static void trace_end(uint32_t saved)
{
    trace_set_mask(started_here ? 0 : saved);
}

static void wait_ticks(uint64_t n)
{
    uint64_t until = timer_ticks() + n;
    while (timer_ticks() < until)
        halt();
}

SELFTEST(trace, spec_parsing)
{
    uint32_t m;
    const char *bad = NULL;
    size_t len = 0;
    KCHECK_EQ(trace_parse_spec(NULL, &m, &bad, &len), 0);
    KCHECK_EQ(m, 0);
    KCHECK_EQ(trace_parse_spec("off", &m, &bad, &len), 0);
    KCHECK_EQ(m, 0);
    KCHECK_EQ(trace_parse_spec("on", &m, &bad, &len), 0);
    KCHECK_EQ(m, TRACE_ALL_TYPES);
    KCHECK_EQ(trace_parse_spec("irq,exc", &m, &bad, &len), 0);
    KCHECK_EQ(m, 1u << TR_IRQ_ENTER | 1u << TR_IRQ_EXIT | 1u << TR_EXC_ENTER | 1u << TR_PAGE_FAULT |
                     1u << TR_EXC_EXIT);
    KCHECK_EQ(trace_parse_spec("irq,bogus,exc", &m, &bad, &len), ERR_INVAL);
    KCHECK(len == 5 && !strncmp(bad, "bogus", 5));
    KCHECK_EQ(m, 0);
    KCHECK_EQ(trace_parse_spec("irq,,exc", &m, &bad, &len), ERR_INVAL);
    KCHECK_EQ(len, 0);
    KCHECK_EQ(trace_parse_spec("off,irq", &m, &bad, &len), ERR_INVAL);

    char buf[64];
    trace_format_mask(TRACE_ALL_TYPES, buf, sizeof(buf));
    KCHECK(!strcmp(buf, "all"));
    trace_parse_spec("mark,irq", &m, &bad, &len);
    trace_format_mask(m, buf, sizeof(buf));
    KCHECK(!strcmp(buf, "irq,mark"));
}

/* The private-ring tests drive the same reserve/fill code as the real rings, small enough to
 * wrap many times. */
SELFTEST(trace, ring_overwrites_oldest_and_counts)
{
    static struct trace_event slots[16];
    struct trace_ring r;
    trace_ring_setup(&r, slots, 16);
    for (uint64_t i = 0; i < 10; i++)
        trace_ring_fill(&r, trace_ring_reserve(&r), 100 + i, 0, TR_MARK, 0, i, 0);
    KCHECK_EQ(trace_ring_lost(&r), 0);
    KCHECK(trace_ring_holds(&r, 0) && trace_ring_holds(&r, 9) && !trace_ring_holds(&r, 10));

    for (uint64_t i = 10; i < 40; i++)
        trace_ring_fill(&r, trace_ring_reserve(&r), 100 + i, 3, TR_MARK, 7, i, ~i);
    KCHECK_EQ(r.head, 40);
    KCHECK_EQ(trace_ring_lost(&r), 24);
    KCHECK(!trace_ring_holds(&r, 23) && trace_ring_holds(&r, 24) && trace_ring_holds(&r, 39));
    for (uint64_t seq = 24; seq < 40; seq++) {
        const struct trace_event *e = &slots[seq & 15];
        KCHECK_EQ(e->arg0, seq);
        KCHECK_EQ(e->arg1, ~seq);
        KCHECK_EQ(e->tsc, 100 + seq);
        KCHECK_EQ(e->cpu, 3);
        KCHECK_EQ(e->type, TR_MARK);
        KCHECK_EQ(e->thread, 7);
        KCHECK_EQ(e->flags, 0);
    }
}

SELFTEST(trace, header_describes_rings)
{
    uint32_t saved = trace_begin();
    KCHECK(trace_ready());
    const volatile struct trace_header *h = trace_header();
    KCHECK(h != NULL);
    KCHECK_EQ(h->magic, TRACE_MAGIC);
    KCHECK_EQ(h->version, TRACE_VERSION);
    KCHECK_EQ(h->event_bytes, sizeof(struct trace_event));
    KCHECK_EQ(h->header_bytes, sizeof(struct trace_header));
    KCHECK_EQ(h->state, TRACE_STATE_RUNNING);
    KCHECK_EQ(h->tsc_hz, tsc.hz);
    KCHECK(h->ncpus >= 1 && h->ncpus <= TRACE_MAX_CPUS);
    uint64_t n = trace_ring_events();
    KCHECK(n >= 256 && (n & (n - 1)) == 0);
    KCHECK_EQ(h->ring_events, n);
    for (unsigned i = 0; i < h->ncpus; i++) {
        KCHECK(h->cpu[i].ring_offset >= TRACE_HDR_BYTES);
        KCHECK(h->cpu[i].ring_offset + n * sizeof(struct trace_event) <= h->region_bytes);
        KCHECK(i == 0 || h->cpu[i].ring_offset >= h->cpu[i - 1].ring_offset + n * 32);
    }
    trace_end(saved);
}

/* Markers paced by the TSC while the timer interrupts the loop: the interrupt handler records
 * into the same ring between two markers. Every marker must arrive once, in order, every
 * interrupt as an adjacent enter/exit pair, every stamp no earlier than the one before. */
SELFTEST(trace, records_in_order_with_interrupts)
{
    uint32_t saved = trace_begin();
    KCHECK(trace_ready());
    uint64_t ring = trace_ring_events(), h0 = trace_head(0);
    uint64_t step = tsc.hz / 200000, marks = 0, until = timer_ticks() + 3;
    uint64_t limit = ring / 2 > 4000 ? 4000 : ring / 2;

    while (timer_ticks() < until && marks < limit) {
        uint64_t next = rdtsc() + step;
        trace_event(TR_MARK, marks++, MARK_TAG);
        while (rdtsc() < next)
            cpu_relax();
    }
    uint64_t h1 = trace_head(0);
    trace_end(saved);
    KCHECK(timer_ticks() >= until); /* else the ring would have been too small to hold it */
    KCHECK(h1 - h0 < ring);

    uint64_t seen = 0, irqs = 0, last_tsc = 0;
    bool in_irq = false;
    for (uint64_t seq = h0; seq < h1; seq++) {
        struct trace_event e;
        KCHECK_EQ(trace_read(0, seq, &e), 0);
        KCHECK(e.tsc >= last_tsc);
        last_tsc = e.tsc;
        KCHECK_EQ(e.cpu, 0);
        KCHECK_EQ(e.thread, 0);
        if (e.type == TR_MARK && e.arg1 == MARK_TAG) {
            KCHECK(!in_irq);
            KCHECK_EQ(e.arg0, seen);
            seen++;
        } else if (e.type == TR_IRQ_ENTER) {
            KCHECK(!in_irq);
            in_irq = true;
            irqs += e.arg0 == VEC_APIC_TIMER;
        } else if (e.type == TR_IRQ_EXIT) {
            KCHECK(in_irq);
            in_irq = false;
        }
    }
    KCHECK_EQ(seen, marks);
    KCHECK(irqs >= 2);
}

static int provoke_breakpoint(void)
{
    struct fault_ctx ctx;
    int r = fault_try(&ctx);
    if (r == 0) {
        __asm__ volatile("int3");
        fault_disarm();
    }
    return r;
}

static int provoke_page_fault(void)
{
    struct fault_ctx ctx;
    int r = fault_try(&ctx);
    if (r == 0) {
        (void)*(volatile uint64_t *)0xdead000ul;
        fault_disarm();
    }
    return r;
}

SELFTEST(trace, exceptions_are_traced)
{
    uint32_t saved = trace_begin();
    KCHECK(trace_ready());
    uint64_t h0 = trace_head(0);
    int bp = provoke_breakpoint(), pf = provoke_page_fault();
    uint64_t h1 = trace_head(0);
    trace_end(saved);
    KCHECK_EQ(bp, 3 + 1);
    KCHECK_EQ(pf, VEC_PF + 1);

    unsigned found = 0; /* bit 0: #BP entry, 1: #BP exit, 2: #PF entry, 3: #PF exit */
    for (uint64_t seq = h0; seq < h1; seq++) {
        struct trace_event e;
        KCHECK_EQ(trace_read(0, seq, &e), 0);
        if (e.type == TR_EXC_ENTER && e.arg0 == 3)
            found |= 1;
        else if (e.type == TR_EXC_EXIT && e.arg0 == 3)
            found |= 2;
        else if (e.type == TR_PAGE_FAULT && e.arg0 == 0xdead000ul && !(e.arg1 & 1))
            found |= 4;
        else if (e.type == TR_EXC_EXIT && e.arg0 == VEC_PF)
            found |= 8;
    }
    KCHECK_EQ(found, 15);
}

/* Tracing off: neither the hooks nor the interrupt path may touch the rings. */
SELFTEST(trace, disabled_records_nothing)
{
    uint32_t saved = trace_begin();
    KCHECK(trace_ready());
    trace_set_mask(0);
    uint64_t h0 = trace_head(0);
    for (int i = 0; i < 100; i++)
        trace_event(TR_MARK, i, MARK_TAG);
    wait_ticks(2);
    uint64_t h1 = trace_head(0);
    trace_set_mask(1u << TR_MARK); /* a class left off stays off */
    wait_ticks(2);
    trace_event(TR_MARK, 0, MARK_TAG);
    uint64_t h2 = trace_head(0);
    trace_end(saved);
    KCHECK_EQ(h1, h0);
    KCHECK_EQ(h2, h1 + 1);
}

/* More events than the ring holds, through the real record path: the oldest are overwritten,
 * the newest survive, and the loss is exactly the excess. Only when this file started the trace,
 * so a boot-time trace is not flooded. */
SELFTEST(trace, wraparound_keeps_newest)
{
    if (trace_ready() && !started_here)
        return;
    uint32_t saved = trace_begin();
    KCHECK(trace_ready());
    trace_set_mask(1u << TR_MARK);
    uint64_t ring = trace_ring_events(), h0 = trace_head(0), n = ring + ring / 2;
    for (uint64_t i = 0; i < n; i++)
        trace_event(TR_MARK, i, MARK_TAG);
    uint64_t h1 = trace_head(0);
    trace_end(saved);
    KCHECK_EQ(h1 - h0, n);
    struct trace_event e;
    KCHECK_EQ(trace_read(0, h1 - ring - 1, &e), ERR_RANGE);
    KCHECK_EQ(trace_read(0, h1 - ring, &e), 0);
    KCHECK_EQ(e.arg0, n - ring);
    KCHECK_EQ(trace_read(0, h1 - 1, &e), 0);
    KCHECK_EQ(e.arg0, n - 1);
    KCHECK_EQ(trace_read(0, h1, &e), ERR_RANGE);
}

static bool count_host_bridge(const struct pci_dev *d, void *ctx)
{
    if (d->bus == 0 && d->slot == 0 && d->fn == 0 && d->class_code == 0x06 && d->subclass == 0)
        *(bool *)ctx = true;
    return false;
}

static bool check_bars(const struct pci_dev *d, void *ctx)
{
    int *bad = ctx;
    if (d->header_type != 0)
        return false;
    for (unsigned n = 0; n < PCI_NBARS; n++) {
        struct pci_bar b;
        uint32_t before = pci_read32(d, PCI_BAR0 + 4 * n);
        if (pci_read_bar(d, n, &b))
            continue; /* upper half of a 64-bit BAR */
        if (pci_read32(d, PCI_BAR0 + 4 * n) != before)
            (*bad)++; /* sizing must restore the BAR */
        if (b.size && ((b.size & (b.size - 1)) || (b.base & (b.size - 1))))
            (*bad)++; /* sizes are powers of two, bases aligned to them */
        if (b.mem64)
            n++;
    }
    return false;
}

SELFTEST(pci, scan_and_bar_sizing)
{
    bool host_bridge = false;
    unsigned n = pci_scan(count_host_bridge, &host_bridge);
    KCHECK(n >= 1);
    KCHECK(host_bridge);
    int bad = 0;
    pci_scan(check_bars, &bad);
    KCHECK_EQ(bad, 0);
    struct pci_dev d;
    KCHECK_EQ(pci_find(0xffff, 0xffff, 0, &d), ERR_NOENT);
    struct pci_bar b;
    KCHECK_EQ(pci_find(0x8086, 0x29c0, 0, &d) == 0 || pci_find(0x8086, 0x1237, 0, &d) == 0, 1);
    KCHECK_EQ(pci_read_bar(&d, PCI_NBARS, &b), ERR_INVAL);
}

/* The price of a hook, for docs/tracing.md; run by name (test=trace_cost), ideally under
 * MODE=icount where the TSC counts instructions: the same loop with and without a hook, tracing
 * off and then on. Reports only; timing never fails a test. */
static __attribute__((noinline)) uint64_t loop_plain(uint64_t n)
{
    uint64_t t0 = tsc_read_fenced();
    for (uint64_t i = 0; i < n; i++)
        __asm__ volatile("" : : "r"(i) : "memory");
    return tsc_read_fenced() - t0;
}

static __attribute__((noinline)) uint64_t loop_hooked(uint64_t n)
{
    uint64_t t0 = tsc_read_fenced();
    for (uint64_t i = 0; i < n; i++) {
        __asm__ volatile("" : : "r"(i) : "memory");
        trace_event(TR_MARK, i, MARK_TAG);
    }
    return tsc_read_fenced() - t0;
}

SELFTEST_EXPLICIT(trace_cost, hook)
{
    const uint64_t n = 1000;
    uint32_t saved = trace_begin();
    KCHECK(trace_ready());
    uint64_t flags = irq_save(); /* no timer interrupt inside a measured loop */
    trace_set_mask(0);
    uint64_t plain = loop_plain(n), off = loop_hooked(n);
    trace_set_mask(1u << TR_MARK);
    uint64_t on = loop_hooked(n);
    irq_restore(flags);
    trace_end(saved);
    kprintf(
        "trace_cost: %lu iterations: plain %lu, hook off %lu (+%lu.%02lu per hook), hook on %lu "
        "(+%lu.%02lu per event) TSC ticks\n",
        n, plain, off, (off - plain) / n, (off - plain) % n / (n / 100), on, (on - plain) / n,
        (on - plain) % n / (n / 100));
}
