/* ACPI, as far as SMP bring-up and interrupt routing need it: the RSDP, the RSDT or XSDT, and the
 * processor, I/O APIC and interrupt source override entries of the MADT. Firmware tables are input from outside the kernel: every one is checksummed and
 * bounds-checked, and a malformed one is reported and ignored, never trusted. Pure C: firmware
 * memory is reached through a mapping callback, so the same code runs in the kernel (physmap or
 * ioremap) and in host unit tests (a fake physical memory). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

/* MADT processor entries kept; further ones are only counted (MAX_CPUS is far below this). */
#define ACPI_MAX_CPUS 64
/* Likewise for I/O APICs (PCs have one to a few) and ISA source overrides (at most one per ISA
 * IRQ is meaningful). */
#define ACPI_MAX_IOAPICS   8
#define ACPI_MAX_OVERRIDES 16

/* Interrupt source override flags (MPS INTI flags, ACPI 6.5 table 5.26): 0 in a field means
 * "conforms to the bus", which for ISA is active high and edge triggered. */
#define ACPI_INTI_POLARITY_MASK  0x3
#define ACPI_INTI_ACTIVE_HIGH    0x1
#define ACPI_INTI_ACTIVE_LOW     0x3
#define ACPI_INTI_TRIGGER_MASK   0xc
#define ACPI_INTI_EDGE           0x4
#define ACPI_INTI_LEVEL          0xc

struct acpi_env {
    /* Makes [phys, phys + len) readable and returns its address, or NULL. The parser never
     * releases a mapping, so the callback may hand out permanent ones. */
    const void *(*map)(void *ctx, uint64_t phys, uint64_t len);
    /* One complete sentence, no trailing newline; only valid during the call. */
    void (*report)(void *ctx, const char *message);
    void *ctx;
};

struct acpi_cpu {
    uint32_t apic_id;
    /* MADT "enabled": ready for use now. Otherwise the entry was "online capable": firmware can
     * enable the processor at run time, and until then it must not be started. */
    bool enabled;
};

struct acpi_ioapic {
    uint8_t id;
    uint32_t phys;     /* register base; the MADT gives 32 bits */
    uint32_t gsi_base; /* global system interrupt of its pin 0 */
};

/* ISA IRQ `source` arrives at global system interrupt `gsi`, with these INTI flags. */
struct acpi_override {
    uint8_t source;
    uint32_t gsi;
    uint16_t flags;
};

struct acpi_madt {
    uint64_t phys;         /* of the MADT itself */
    const char *root;      /* "XSDT" or "RSDT": the table that led to it */
    uint64_t lapic_phys;   /* the MADT's local APIC address, or its 64-bit override (type 5) */
    unsigned ncpus;        /* entries in cpus[]: enabled ones first, then online-capable ones */
    unsigned nenabled;
    unsigned noverflow;    /* usable entries beyond ACPI_MAX_CPUS, counted but not kept */
    struct acpi_cpu cpus[ACPI_MAX_CPUS];
    unsigned nioapics;
    unsigned nioapic_overflow; /* beyond ACPI_MAX_IOAPICS: counted, not kept */
    struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
    /* Bus-0 (ISA) overrides with a source IRQ below 16, one per source (the first listed);
     * the others are reported and dropped. */
    unsigned noverrides;
    struct acpi_override overrides[ACPI_MAX_OVERRIDES];
};

/* Looks for the RSDP where the PC BIOS puts it: the first KiB of the EBDA, then
 * 0xE0000..0xFFFFF, on 16-byte boundaries. Returns 0 with *rsdp set, or ERR_NOENT. */
int acpi_find_rsdp(const struct acpi_env *env, uint64_t *rsdp);

/* Finds and parses the MADT through the RSDP at rsdp (the XSDT when the RSDP is version 2 and
 * valid, else the RSDT). Returns 0 with *madt filled, or ERR_NOENT when no valid MADT exists;
 * every reason is reported. */
int acpi_read_madt(const struct acpi_env *env, uint64_t rsdp, struct acpi_madt *madt);
