/* I/O APICs (Intel 82093AA datasheet; ACPI MADT types 1 and 2): the pins that carry device
 * interrupts to the local APICs. This layer knows pins, global system interrupts (GSIs) and the
 * ISA-to-GSI mapping; which vector a line gets and who handles it is irq.c's business. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct acpi_madt;

/* Where an ISA IRQ line arrives: its GSI (after any MADT source override) and the pin's
 * polarity and trigger mode (ISA default: active high, edge). */
struct ioapic_isa {
    uint32_t gsi;
    bool level;
    bool active_low;
    bool overridden; /* an MADT override names this line */
};

/* Maps every I/O APIC the MADT lists (madt may be NULL: none), masks all their pins and prints
 * one boot log line with what was found. Boot CPU, before interrupts are enabled. */
void ioapic_init(const struct acpi_madt *madt);

/* At least one usable I/O APIC. */
bool ioapic_present(void);

/* ISA IRQ line (0-15) -> where it arrives; meaningful only when ioapic_present(). */
struct ioapic_isa ioapic_isa_line(unsigned line);

/* Replaces what the MADT said about an ISA line; returns the old description. For the self
 * tests: QEMU's firmware describes no ISA line that a device can make level triggered, and the
 * level path must be exercised too. Only with the line unbound. */
struct ioapic_isa ioapic_isa_line_set(unsigned line, struct ioapic_isa where);

/* True when an I/O APIC has a pin for gsi. */
bool ioapic_has_gsi(uint32_t gsi);

/* Programs gsi's redirection entry: fixed delivery of `vector` to the local APIC with physical
 * ID dest (8 bits: there is no interrupt remapping), with the given trigger mode and polarity.
 * The entry is left masked. ERR_NOENT when no I/O APIC has the pin, ERR_INVAL for a vector the
 * 82093AA does not accept (below 0x10 or 0xff) or a destination above 0xff. */
int ioapic_route(uint32_t gsi, uint8_t vector, uint32_t dest, bool level, bool active_low);

/* Sets or clears the pin's mask bit; an edge that arrives while masked is lost (82093AA 3.2.4),
 * a level held across the unmask is delivered then. No-op for a GSI no I/O APIC has. */
void ioapic_mask(uint32_t gsi, bool masked);

/* The pin's mask bit as the I/O APIC holds it (true for a GSI no I/O APIC has). */
bool ioapic_masked(uint32_t gsi);
