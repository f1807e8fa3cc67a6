/* The trace's binary format: what the kernel writes into the ivshmem region (or dumps over serial)
 * and scripts/trace_export.py reads. Everything is little-endian with fixed offsets; a change to
 * any offset or meaning bumps TRACE_VERSION, and the exporter refuses versions it does not know.
 * Kernel-independent, so the host can include it too. */
#pragma once
#include <stdint.h>

#define TRACE_MAGIC     0x4352545948434154ull /* "TACHYTRC" read as a little-endian u64 */
#define TRACE_VERSION   1
#define TRACE_MAX_CPUS  8
#define TRACE_HDR_BYTES 4096 /* the rings start on the page after the header */

/* Event types. Each is also a bit in the enable mask (1u << type), so there are at most 32 and
 * the enabled test is one AND with a constant. 0 is never written: a zeroed slot is empty. */
enum trace_type {
    TR_NONE = 0,
    TR_SYSCALL_ENTER = 1, /* arg0 = syscall number, arg1 = first argument */
    TR_SYSCALL_EXIT = 2,  /* arg0 = syscall number, arg1 = return value */
    TR_IPC_SEND = 3,      /* arg0 = endpoint object id, arg1 = TRACE_IPC_* path | tag << 8 */
    TR_IPC_RECV = 4,      /* same arguments as TR_IPC_SEND */
    TR_IPC_REPLY = 5,     /* same arguments as TR_IPC_SEND */
    TR_CTX_SWITCH = 6,    /* arg0 = thread switched from, arg1 = thread switched to */
    TR_SCHED_PICK = 7,    /* arg0 = thread picked, arg1 = policy-defined (reason, prediction) */
    TR_IRQ_ENTER = 8,     /* arg0 = vector, arg1 = interrupted rip */
    TR_IRQ_EXIT = 9,      /* arg0 = vector */
    TR_EXC_ENTER = 10,    /* arg0 = vector, arg1 = error code (every exception but #PF) */
    TR_PAGE_FAULT = 11,   /* entry of a #PF: arg0 = faulting address (cr2), arg1 = error code */
    TR_EXC_EXIT = 12,     /* an exception handled and resumed: arg0 = vector, arg1 = resume rip */
    TR_MARK = 13,         /* user/benchmark marker: arg0, arg1 defined by the emitter */
    TR_NTYPES
};

/* TR_IPC_* arg1 bit 0: which path the kernel took. */
#define TRACE_IPC_SLOW 0u
#define TRACE_IPC_FAST 1u

/* 32 bytes, so a ring slot is half a cache line and an index is a shift. The middle word is
 * written last, in one store, so that a slot caught mid-write by a crash has at most stale
 * metadata, never metadata of one event with the stamp of another. */
struct trace_event {
    uint64_t tsc;
    union {
        struct {
            uint16_t cpu;
            uint8_t type;
            uint8_t flags; /* reserved, 0 */
            uint32_t thread;
        };
        uint64_t meta;
    };
    uint64_t arg0, arg1;
};

struct trace_cpu_info {
    uint64_t head;        /* events ever recorded on this CPU; slot = head % ring_events */
    uint64_t lost;        /* events overwritten because the ring wrapped: max(0, head - ring) */
    uint64_t ring_offset; /* bytes from the start of the region to this CPU's ring */
    uint64_t reserved;
};

#define TRACE_STATE_RUNNING  1 /* head/lost not yet published: the host scans the slots */
#define TRACE_STATE_FINISHED 2 /* head/lost are final */

#define TRACE_FLAG_OVERWRITE 1u /* the ring keeps the newest events (always set in version 1) */
#define TRACE_FLAG_RDTSCP    2u /* cpu came from IA32_TSC_AUX, not assumed to be 0 */

struct trace_header {
    uint64_t magic;        /*   0 */
    uint32_t version;      /*   8 */
    uint32_t header_bytes; /*  12: sizeof(struct trace_header) */
    uint32_t event_bytes;  /*  16: sizeof(struct trace_event) */
    uint32_t ncpus;        /*  20: entries used in cpu[] (rings present) */
    uint64_t ring_events;  /*  24: slots per ring, a power of two */
    uint64_t tsc_hz;       /*  32 */
    uint32_t state;        /*  40: TRACE_STATE_* */
    uint32_t type_mask;    /*  44: 1u << type for each enabled type */
    uint64_t start_tsc;    /*  48: when recording began */
    uint64_t finish_tsc;   /*  56: when trace_finish ran, 0 before */
    uint64_t region_bytes; /*  64: size of the whole region (header + rings) */
    uint32_t flags;        /*  72: TRACE_FLAG_* */
    uint32_t reserved0;    /*  76 */
    uint64_t lost_no_ring; /*  80: events from CPUs with no ring (index >= ncpus, or unset) */
    char tsc_source[24];   /*  88: "pit", "cpuid-0x15", ... NUL-padded */
    uint64_t reserved1[2]; /* 112 */
    struct trace_cpu_info cpu[TRACE_MAX_CPUS]; /* 128 */
};

_Static_assert(sizeof(struct trace_event) == 32, "trace event is 32 bytes");
_Static_assert(sizeof(struct trace_header) == 128 + 32 * TRACE_MAX_CPUS, "trace header layout");
_Static_assert(sizeof(struct trace_header) <= TRACE_HDR_BYTES, "trace header fits its page");
