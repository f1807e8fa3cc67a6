/* Trace rings: set-up, the record path, and export (see trace.h for the model, docs/tracing.md
 * for the host side). */
#include "trace/trace.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/cpufeat.h"
#include "arch/x86_64/pci.h"
#include "arch/x86_64/tsc.h"
#include "core/console.h"
#include "lib/err.h"
#include "lib/fmt.h"
#include "lib/kstring.h"
#include "mm/frames.h"
#include "mm/layout.h"
#include "mm/paging.h"
#include "trace/ring.h"

#define MSR_TSC_AUX     0xc0000103
#define IVSHMEM_VENDOR  0x1af4
#define IVSHMEM_DEVICE  0x1110
#define IVSHMEM_SHM_BAR 2
/* The ioremap window is 256 MiB for every device; a bigger BAR is used only up to this. */
#define SHM_MAP_MAX  (128ul << 20)
#define SHM_MIN_RING 256
/* Serial fallback: 4096 events (128 KiB, an order-5 block) per CPU, so that a full dump over a
 * real 115200-baud line stays under a minute per CPU. */
#define MEM_RING_ORDER  5
#define MEM_RING_EVENTS ((PAGE_SIZE << MEM_RING_ORDER) / sizeof(struct trace_event))

enum sink { SINK_NONE, SINK_IVSHMEM, SINK_MEMORY };

#define T(type) (1u << (type))
static const struct {
    const char *name;
    uint32_t types;
} classes[] = {
    {"syscall", T(TR_SYSCALL_ENTER) | T(TR_SYSCALL_EXIT)},
    {"ipc", T(TR_IPC_SEND) | T(TR_IPC_RECV) | T(TR_IPC_REPLY)},
    {"sched", T(TR_CTX_SWITCH) | T(TR_SCHED_PICK)},
    {"irq", T(TR_IRQ_ENTER) | T(TR_IRQ_EXIT)},
    {"exc", T(TR_EXC_ENTER) | T(TR_PAGE_FAULT) | T(TR_EXC_EXIT)},
    {"mark", T(TR_MARK)},
};
#define NCLASSES (sizeof(classes) / sizeof(classes[0]))

/* Alone on its cache line: every hook in the kernel reads it, nothing on the hot path writes
 * near it. */
uint32_t trace_mask __attribute__((aligned(64), section(".data.read_mostly")));

static struct trace_ring rings[TRACE_MAX_CPUS];
static struct trace_header *hdr;
static struct trace_header mem_header; /* the header when the rings live in kernel frames */
static enum sink sink;
static unsigned ncpus;
static uint64_t ring_events;
static bool use_rdtscp;
static bool finished;
static uint64_t lost_no_ring;
static char sink_desc[96];

static bool word_is(const char *p, size_t len, const char *word)
{
    return strlen(word) == len && !strncmp(p, word, len);
}

int trace_parse_spec(const char *spec, uint32_t *mask, const char **bad, size_t *bad_len)
{
    *mask = 0;
    if (!spec || !*spec || !strcmp(spec, "off"))
        return 0;
    uint32_t m = 0;
    const char *p = spec;
    for (;;) {
        const char *end = p;
        while (*end && *end != ',')
            end++;
        size_t len = end - p;
        bool known = false;
        if (word_is(p, len, "on") || word_is(p, len, "all")) {
            m |= TRACE_ALL_TYPES;
            known = true;
        }
        for (size_t i = 0; i < NCLASSES && !known; i++) {
            if (word_is(p, len, classes[i].name)) {
                m |= classes[i].types;
                known = true;
            }
        }
        if (!known) { /* "off" inside a list is a contradiction, an empty element a typo */
            *bad = p;
            *bad_len = len;
            return ERR_INVAL;
        }
        if (!*end)
            break;
        p = end + 1;
    }
    *mask = m;
    return 0;
}

void trace_format_mask(uint32_t mask, char *buf, size_t size)
{
    if (!size)
        return;
    buf[0] = '\0';
    if (!mask || mask == TRACE_ALL_TYPES) {
        fmt_snprintf(buf, size, "%s", mask ? "all" : "off");
        return;
    }
    size_t n = 0;
    uint32_t rest = mask;
    for (size_t i = 0; i < NCLASSES; i++) {
        if ((mask & classes[i].types) != classes[i].types)
            continue;
        rest &= ~classes[i].types;
        int w = fmt_snprintf(buf + n, size - n, "%s%s", n ? "," : "", classes[i].name);
        if (w < 0 || (size_t)w >= size - n)
            return;
        n += w;
    }
    if (rest) /* set through trace_set_mask with part of a class */
        fmt_snprintf(buf + n, size - n, "%stypes %#x", n ? "," : "", rest);
}

/* The largest power of two <= x (x > 0). */
static uint64_t pow2_floor(uint64_t x)
{
    return 1ul << (63 - __builtin_clzl(x));
}

/* The rings inside the device's shared memory: the host sees every event the moment it is
 * written, through the file backing the device, with no VM exit and no serial traffic. */
static int setup_ivshmem(void)
{
    struct pci_dev dev;
    struct pci_bar bar;
    if (pci_find(IVSHMEM_VENDOR, IVSHMEM_DEVICE, 0, &dev))
        return ERR_NOENT;
    if (pci_read_bar(&dev, IVSHMEM_SHM_BAR, &bar) || bar.io || !bar.size || !bar.base) {
        kprintf("trace: ivshmem %02x:%02x.%u has no usable BAR%u (base %#lx size %#lx); "
                "using kernel memory\n",
                dev.bus, dev.slot, dev.fn, IVSHMEM_SHM_BAR, bar.base, bar.size);
        return ERR_NOENT;
    }
    uint64_t bytes = bar.size < SHM_MAP_MAX ? bar.size : SHM_MAP_MAX;
    if (bytes < TRACE_HDR_BYTES + TRACE_MAX_CPUS * SHM_MIN_RING * sizeof(struct trace_event)) {
        kprintf("trace: ivshmem shared memory is only %lu KiB; using kernel memory\n",
                bar.size >> 10);
        return ERR_NOSPC;
    }
    pci_enable(&dev, PCI_CMD_MEM);
    uint8_t *base = ioremap(bar.base, bytes);
    if (!base) {
        kprintf("trace: cannot map %lu MiB of ivshmem; using kernel memory\n", bytes >> 20);
        return ERR_NOMEM;
    }
    ncpus = TRACE_MAX_CPUS;
    ring_events = pow2_floor((bytes - TRACE_HDR_BYTES) / (ncpus * sizeof(struct trace_event)));
    hdr = (struct trace_header *)base;
    for (unsigned i = 0; i < ncpus; i++) {
        uint64_t off = TRACE_HDR_BYTES + i * ring_events * sizeof(struct trace_event);
        trace_ring_setup(&rings[i], (struct trace_event *)(base + off), ring_events);
    }
    memset(hdr, 0, TRACE_HDR_BYTES);
    hdr->region_bytes = bytes;
    sink = SINK_IVSHMEM;
    fmt_snprintf(sink_desc, sizeof(sink_desc),
                 "ivshmem %02x:%02x.%u BAR%u at %#lx (%lu MiB, %lu used)", dev.bus, dev.slot,
                 dev.fn, IVSHMEM_SHM_BAR, bar.base, bar.size >> 20,
                 (TRACE_HDR_BYTES + ncpus * ring_events * sizeof(struct trace_event)) >> 20);
    return 0;
}

/* Without the device (bare metal): rings in kernel frames, dumped over serial at the end. */
static int setup_memory(void)
{
    for (unsigned i = 0; i < TRACE_MAX_CPUS; i++) {
        uint64_t phys;
        if (frame_alloc(MEM_RING_ORDER, &phys)) {
            for (unsigned j = 0; j < i; j++)
                frame_free(virt_to_phys(rings[j].slots), MEM_RING_ORDER);
            return ERR_NOMEM;
        }
        trace_ring_setup(&rings[i], phys_to_virt(phys), MEM_RING_EVENTS);
    }
    ncpus = TRACE_MAX_CPUS;
    ring_events = MEM_RING_EVENTS;
    hdr = &mem_header;
    hdr->region_bytes = TRACE_HDR_BYTES + ncpus * ring_events * sizeof(struct trace_event);
    sink = SINK_MEMORY;
    fmt_snprintf(sink_desc, sizeof(sink_desc),
                 "kernel memory (no ivshmem device), dumped over serial by trace_finish");
    return 0;
}

/* Clears every ring and writes a RUNNING header; tracing must be off. Slots are zeroed too, so
 * that a host scanning the region of a kernel that died before trace_finish finds only this
 * run's events (type 0 = empty slot). */
static void reset(uint32_t mask)
{
    for (unsigned i = 0; i < ncpus; i++) {
        memset(rings[i].slots, 0, ring_events * sizeof(struct trace_event));
        rings[i].head = 0;
    }
    lost_no_ring = 0;
    finished = false;
    uint64_t region = hdr->region_bytes;
    memset(hdr, 0, sizeof(*hdr));
    hdr->version = TRACE_VERSION;
    hdr->header_bytes = sizeof(struct trace_header);
    hdr->event_bytes = sizeof(struct trace_event);
    hdr->ncpus = ncpus;
    hdr->ring_events = ring_events;
    hdr->tsc_hz = tsc.hz;
    hdr->state = TRACE_STATE_RUNNING;
    hdr->type_mask = mask;
    hdr->region_bytes = region;
    hdr->flags = TRACE_FLAG_OVERWRITE | (use_rdtscp ? TRACE_FLAG_RDTSCP : 0);
    if (tsc.source)
        for (size_t i = 0; i + 1 < sizeof(hdr->tsc_source) && tsc.source[i]; i++)
            hdr->tsc_source[i] = tsc.source[i];
    for (unsigned i = 0; i < ncpus; i++)
        hdr->cpu[i].ring_offset =
            sink == SINK_IVSHMEM ? (uint64_t)((uint8_t *)rings[i].slots - (uint8_t *)hdr)
                                 : TRACE_HDR_BYTES + i * ring_events * sizeof(struct trace_event);
    hdr->start_tsc = rdtsc();
    /* The magic last: a host reading a half-written header sees no header at all. */
    __atomic_store_n(&hdr->magic, TRACE_MAGIC, __ATOMIC_RELEASE);
}

void trace_cpu_online(unsigned index)
{
    /* Not use_rdtscp: SMP bring-up calls this before any trace_init has set it. */
    if (cpu.rdtscp)
        wrmsr(MSR_TSC_AUX, index + 1);
}

int trace_init(const char *spec)
{
    uint32_t mask;
    const char *bad;
    size_t bad_len;
    char classes_text[64];

    if (trace_parse_spec(spec, &mask, &bad, &bad_len)) {
        kprintf("cmdline: error: option 'trace': unknown event class '%.*s' in '%s' (known: on, "
                "off, all, syscall, ipc, sched, irq, exc, mark)\n",
                (int)bad_len, bad, spec);
        return ERR_INVAL;
    }
    __atomic_store_n(&trace_mask, 0, __ATOMIC_RELAXED);
    if (!mask) {
        kprintf("trace: off\n");
        return 0;
    }
    if (sink == SINK_NONE) {
        use_rdtscp = cpu.rdtscp;
        if (setup_ivshmem() && setup_memory()) {
            kprintf("trace: error: no memory for the trace rings\n");
            return ERR_NOMEM;
        }
    }
    trace_cpu_online(0);
    reset(mask);
    trace_format_mask(mask, classes_text, sizeof(classes_text));
    kprintf("trace: %s; %u rings x %lu events (%lu KiB each), overwrite oldest, cpu from %s; "
            "classes %s\n",
            sink_desc, ncpus, ring_events, ring_events * sizeof(struct trace_event) >> 10,
            use_rdtscp ? "RDTSCP" : "nothing (no RDTSCP: all events on CPU 0)", classes_text);
    __atomic_store_n(&trace_mask, mask, __ATOMIC_RELEASE);
    return 0;
}

uint32_t trace_set_mask(uint32_t mask)
{
    if (sink == SINK_NONE || finished)
        return 0;
    mask &= TRACE_ALL_TYPES;
    hdr->type_mask |= mask;
    return __atomic_exchange_n(&trace_mask, mask, __ATOMIC_ACQ_REL);
}

static inline uint64_t rdtscp_aux(uint32_t *aux)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(*aux));
    return ((uint64_t)hi << 32) | lo;
}

/* Thread ids arrive with threads; until then every event belongs to "no thread". */
static inline uint32_t current_thread_id(void)
{
    return 0;
}

void trace_record(enum trace_type type, uint64_t arg0, uint64_t arg1)
{
    uint32_t aux = 1;
    /* Interrupts off across stamp and reservation only: an interrupt can then land neither
     * between the two (which would put a later stamp in an earlier slot) nor inside the
     * reservation (which would hand two events one slot). Filling the slot is safe with
     * interrupts on, because the slot is already ours. */
    uint64_t flags = irq_save();
    uint64_t now = use_rdtscp ? rdtscp_aux(&aux) : rdtsc();
    unsigned index = aux - 1;
    if (__builtin_expect(index >= ncpus, 0)) {
        irq_restore(flags);
        __atomic_fetch_add(&lost_no_ring, 1, __ATOMIC_RELAXED);
        return;
    }
    struct trace_ring *r = &rings[index];
    uint64_t seq = trace_ring_reserve(r);
    irq_restore(flags);
    trace_ring_fill(r, seq, now, index, type, current_thread_id(), arg0, arg1);
}

static void publish(void)
{
    for (unsigned i = 0; i < ncpus; i++) {
        hdr->cpu[i].head = rings[i].head;
        hdr->cpu[i].lost = trace_ring_lost(&rings[i]);
    }
    hdr->lost_no_ring = __atomic_load_n(&lost_no_ring, __ATOMIC_RELAXED);
}

/* One line per 32 bytes, as four little-endian u64s in hex; the END line carries the count of
 * event lines and the wrapping sum of every word printed, so the host notices a lost or garbled
 * line instead of exporting a wrong trace. */
static uint64_t dump_words(const char *tag, const uint64_t *w, uint64_t sum)
{
    kprintf("%s %016lx %016lx %016lx %016lx\n", tag, w[0], w[1], w[2], w[3]);
    return sum + w[0] + w[1] + w[2] + w[3];
}

static void dump_serial(void)
{
    uint64_t sum = 0, events = 0;
    kprintf("TRACE-BEGIN version=%u\n", TRACE_VERSION);
    const uint64_t *h = (const uint64_t *)hdr;
    for (size_t i = 0; i < sizeof(*hdr) / sizeof(uint64_t); i += 4)
        sum = dump_words("TRACE-H", h + i, sum);
    for (unsigned c = 0; c < ncpus; c++) {
        const struct trace_ring *r = &rings[c];
        for (uint64_t seq = trace_ring_lost(r); seq < r->head; seq++, events++)
            sum = dump_words("TRACE-E", (const uint64_t *)&r->slots[seq & r->mask], sum);
    }
    kprintf("TRACE-END events=%lu sum=%016lx\n", events, sum);
}

uint64_t trace_finish(void)
{
    if (sink == SINK_NONE || finished)
        return 0;
    __atomic_store_n(&trace_mask, 0, __ATOMIC_RELEASE);
    finished = true;
    uint64_t total = 0, lost = 0;
    for (unsigned i = 0; i < ncpus; i++) {
        total += rings[i].head;
        lost += trace_ring_lost(&rings[i]);
    }
    publish();
    hdr->finish_tsc = rdtsc();
    hdr->state = TRACE_STATE_FINISHED;
    /* The host may read the file the moment the guest exits: every store must have left the
     * CPU, including ones still in a write-combining buffer. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    kprintf("trace: finished: %lu events recorded, %lu overwritten, %lu from CPUs without a ring, "
            "in %s\n",
            total, lost, hdr->lost_no_ring, sink == SINK_IVSHMEM ? "ivshmem" : "kernel memory");
    if (sink == SINK_MEMORY)
        dump_serial();
    return total;
}

bool trace_ready(void)
{
    return sink != SINK_NONE;
}

const char *trace_sink(void)
{
    return sink == SINK_IVSHMEM ? "ivshmem" : sink == SINK_MEMORY ? "memory" : "none";
}

const volatile struct trace_header *trace_header(void)
{
    return hdr;
}

uint64_t trace_ring_events(void)
{
    return ring_events;
}

uint64_t trace_head(unsigned index)
{
    return index < ncpus ? __atomic_load_n(&rings[index].head, __ATOMIC_RELAXED) : 0;
}

int trace_read(unsigned index, uint64_t seq, struct trace_event *out)
{
    if (index >= ncpus || !trace_ring_holds(&rings[index], seq))
        return ERR_RANGE;
    *out = rings[index].slots[seq & rings[index].mask];
    return 0;
}
