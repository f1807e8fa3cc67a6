/* Per-CPU, cycle-stamped trace event rings (docs/tracing.md).
 *
 * Hooks call trace_event(type, arg0, arg1). With tracing off that is one load of a read-mostly
 * mask, one test against a constant and one not-taken branch: the hooks stay compiled in every
 * build, so a traced and an untraced run execute the same kernel. With tracing on, trace_record
 * stamps the event with RDTSCP, reserves the next slot of this CPU's ring with interrupts off
 * (so an interrupt handler tracing on the same CPU gets its own slot, and stamps stay in slot
 * order), and fills the slot. One writer per ring, no locks, no atomics.
 *
 * Rings overwrite their oldest events (a flight recorder: the end of a run, where the steady
 * state and any crash are, survives); the number overwritten is counted per CPU.
 *
 * Where the events go: into the shared memory of an ivshmem-plain PCI device when QEMU has one
 * (scripts/qemu.sh --trace FILE), so the host reads the rings from FILE with no serial traffic;
 * otherwise into kernel frames, dumped over serial as hex lines by trace_finish.
 * scripts/trace_export.py turns either into Chrome/Perfetto JSON and latency histograms. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace/trace_abi.h"

/* Bit per enum trace_type. Written only by trace_init, trace_set_mask and trace_finish. */
extern uint32_t trace_mask;

#define TRACE_ALL_TYPES (((1u << TR_NTYPES) - 1) & ~1u)

/* The out-of-line half of trace_event; callers use trace_event. Callable from any context,
 * interrupt and exception handlers included. */
void trace_record(enum trace_type type, uint64_t arg0, uint64_t arg1);

/* For a hook whose arguments cost something to compute (a control register read, a lookup):
 * test first, compute only when tracing. Relaxed atomic load, so that the compiler reloads the
 * mask at every hook instead of hoisting it out of a loop around trace_set_mask calls. */
static inline bool trace_enabled(enum trace_type type)
{
    return __builtin_expect((__atomic_load_n(&trace_mask, __ATOMIC_RELAXED) & (1u << type)) != 0,
                            0);
}

static inline void trace_event(enum trace_type type, uint64_t arg0, uint64_t arg1)
{
    if (__builtin_expect(!(__atomic_load_n(&trace_mask, __ATOMIC_RELAXED) & (1u << type)), 1))
        return;
    trace_record(type, arg0, arg1);
}

/* Parses a trace= spec: NULL, "" or "off" -> 0; "on" or "all" -> every type; otherwise a comma
 * list of classes: syscall, ipc, sched, irq, exc, mark ("on"/"all" may be among them). Returns 0
 * and the type mask, or ERR_INVAL with *bad, *bad_len naming the offending element. Prints
 * nothing, touches no state. */
int trace_parse_spec(const char *spec, uint32_t *mask, const char **bad, size_t *bad_len);

/* Starts a trace (from the trace= boot option; tests call it too). Disabled spec: tracing off,
 * nothing else touched, returns 0. Otherwise: finds the ivshmem device or falls back to kernel
 * frames (once per boot; later calls reuse that backing), clears the rings, writes the header,
 * logs one line (sink, ring size, classes) and enables the classes. A bad spec prints a
 * "cmdline: error:" line naming the bad class and returns ERR_INVAL with tracing unchanged;
 * ERR_NOMEM when neither backing can be had. Call with no other CPU tracing. */
int trace_init(const char *spec);

/* Makes RDTSCP report this CPU as ring `index` (IA32_TSC_AUX = index + 1; 0, the reset value,
 * means "no ring", so a CPU that never called this loses its events into lost_no_ring instead of
 * corrupting CPU 0's ring). trace_init does it for the CPU it runs on as index 0; SMP bring-up
 * must call it on each AP with that AP's index before the AP can reach a hook. */
void trace_cpu_online(unsigned index);

/* Replaces the enabled mask (only types; TRACE_ALL_TYPES for everything, 0 for off) and returns
 * the previous one. No effect (returns 0) before trace_init or after trace_finish. */
uint32_t trace_set_mask(uint32_t mask);

/* Stops recording, publishes every ring's head and lost count in the header (state FINISHED),
 * and, for the serial fallback, dumps header and events between TRACE-BEGIN and TRACE-END.
 * Returns the number of events recorded on all CPUs; later calls do nothing and return 0. */
uint64_t trace_finish(void);

/* Introspection, for tests and the log. */
bool trace_ready(void);       /* trace_init succeeded with tracing on once */
const char *trace_sink(void); /* "ivshmem", "memory" (serial dump) or "none" */
const volatile struct trace_header *trace_header(void); /* NULL before trace_init */
uint64_t trace_ring_events(void);                       /* slots per ring */
uint64_t trace_head(unsigned index);                    /* events ever recorded on CPU index */
/* Copies event number seq (0 = the first recorded) of CPU index: 0, or ERR_RANGE when it is not
 * (or no longer) in the ring. */
int trace_read(unsigned index, uint64_t seq, struct trace_event *out);
/* Writes the enabled classes as a spec ("irq,exc", "all", "off") into buf. */
void trace_format_mask(uint32_t mask, char *buf, size_t size);
