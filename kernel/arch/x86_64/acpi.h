/* ACPI, as far as SMP bring-up needs it: the RSDP, the RSDT or XSDT, and the processor entries of
 * the MADT. Firmware tables are input from outside the kernel: every one is checksummed and
 * bounds-checked, and a malformed one is reported and ignored, never trusted. Pure C: firmware
 * memory is reached through a mapping callback, so the same code runs in the kernel (physmap or
 * ioremap) and in host unit tests (a fake physical memory). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

/* MADT processor entries kept; further ones are only counted (MAX_CPUS is far below this). */
#define ACPI_MAX_CPUS 64

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

struct acpi_madt {
    uint64_t phys;         /* of the MADT itself */
    const char *root;      /* "XSDT" or "RSDT": the table that led to it */
    uint64_t lapic_phys;   /* the MADT's local APIC address, or its 64-bit override (type 5) */
    unsigned ncpus;        /* entries in cpus[]: enabled ones first, then online-capable ones */
    unsigned nenabled;
    unsigned noverflow;    /* usable entries beyond ACPI_MAX_CPUS, counted but not kept */
    struct acpi_cpu cpus[ACPI_MAX_CPUS];
};

/* Looks for the RSDP where the PC BIOS puts it: the first KiB of the EBDA, then
 * 0xE0000..0xFFFFF, on 16-byte boundaries. Returns 0 with *rsdp set, or ERR_NOENT. */
int acpi_find_rsdp(const struct acpi_env *env, uint64_t *rsdp);

/* Finds and parses the MADT through the RSDP at rsdp (the XSDT when the RSDP is version 2 and
 * valid, else the RSDT). Returns 0 with *madt filled, or ERR_NOENT when no valid MADT exists;
 * every reason is reported. */
int acpi_read_madt(const struct acpi_env *env, uint64_t rsdp, struct acpi_madt *madt);
