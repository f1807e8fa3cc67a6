/* Device interrupts: the 16 ISA lines, routed through the I/O APIC to the boot CPU on vectors
 * VEC_ISA_FIRST + line (trap.h). This is the layer a notification bound to an IRQ sits on: the
 * handler runs in interrupt context and should do no more than signal.
 *
 * When the handler runs: on the boot CPU, interrupts off, after the local APIC EOI. EOI first
 * because the handler may wake a thread that preempts the interrupted one: an EOI held back
 * across that switch would leave the vector's in-service bit set and block every interrupt of
 * its priority class and below (the tick among them) until the switch came back. Nothing is
 * lost: an edge-triggered line that fires again during the handler is held in the LAPIC's IRR
 * and delivered when interrupts are enabled again. A level-triggered line (an MADT override can
 * make an ISA line one) would fire again at once after the EOI while the device still asserts
 * it, so it is masked before the EOI and stays masked until irq_ack.
 *
 * Handlers must tolerate a call with nothing to do: an edge in flight when a line is unbound
 * and rebound reaches the new handler. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define IRQ_LINES 16

typedef void (*irq_fn)(unsigned line, void *ctx);

/* Finds the I/O APICs (MADT), masks every pin and installs the vectors. Boot CPU, after
 * apic_init (the destination is its APIC ID) and before interrupts are enabled. */
void irq_init(void);

/* Device interrupts can be bound at all (a usable I/O APIC that can reach the boot CPU). */
bool irq_available(void);

/* Routes ISA line `line` to fn(line, ctx) and unmasks it. Returns 0, or the first of: ERR_INVAL
 * for a line above 15 or a NULL fn; ERR_NOENT without a usable I/O APIC; ERR_INVAL for a
 * reserved line (2, the 8259 cascade, and any line whose GSI an override gives to another line);
 * ERR_NOENT when no I/O APIC has the line's GSI; ERR_BUSY when the line is bound already. Any
 * context but the line's own handler. */
int irq_bind(unsigned line, irq_fn fn, void *ctx);

/* Masks the line and removes its handler. On return no CPU runs the old handler any more (unless
 * called from that handler itself), so ctx may be freed. Safe for a line that is not bound or
 * does not exist. An edge already accepted by the LAPIC may still arrive; it is then counted as
 * unhandled. Not with a spinlock held that the line's handler takes. */
void irq_unbind(unsigned line);

/* Unmasks a bound level-triggered line after its handler ran (the driver has serviced the device
 * and it no longer asserts the line). No-op for edge-triggered and unbound lines. */
void irq_ack(unsigned line);

/* Per line, since boot: handler calls; and interrupts that found no handler (the line is then
 * masked: it fires again only once bound). */
uint64_t irq_count(unsigned line);
uint64_t irq_unhandled(unsigned line);
