#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/trap.h"

#define TICK_US 1000

/* The boot CPU's LAPIC: maps it (xAPIC), enables it and sets cpus[0].apic_id. */
void apic_init(void);
/* An AP's LAPIC, in the boot CPU's mode (x2APIC or xAPIC); starts its tick as timer_init did on
 * the boot CPU, with the same calibration. Sets this CPU's apic_id. After timer_init. */
void apic_init_ap(void);
void apic_eoi(void);
/* The vector is pending in this CPU's IRR: accepted from the bus, not yet delivered (interrupts
 * off, or a higher-priority one in service). */
bool apic_vector_pending(uint8_t vector);
uint32_t apic_id(void);
bool apic_x2(void);

/* Fixed-delivery IPI to CPU cpu_index (physical destination cpus[cpu_index].apic_id) or to every
 * online CPU but this one. Callable from any context. Stores made before the call are visible to
 * the handler on the receiving CPU. */
void apic_send_ipi(unsigned cpu_index, uint8_t vector);
void apic_broadcast_ipi(uint8_t vector);
/* fn runs for IPI vector `vector` (VEC_IPI_FIRST..VEC_IPI_LAST, trap.h) on whichever CPU
 * receives it, interrupts off, after the EOI; NULL removes it. An IPI without a handler is
 * acknowledged and dropped. */
void apic_set_ipi_handler(uint8_t vector, irq_handler fn);

/* MP initialization (smp.c): INIT and STARTUP IPIs to an APIC ID. False when the xAPIC did not
 * finish sending within 100 ms. */
bool apic_send_init(uint32_t apic_id);
bool apic_send_startup(uint32_t apic_id, uint8_t page);

/* Starts the periodic kernel tick (TSC-deadline when available, else LAPIC periodic mode). */
void timer_init(void);
/* The boot CPU's tick count: the kernel's clock. */
uint64_t timer_ticks(void);
const char *timer_mode(void);
