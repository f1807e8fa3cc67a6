/* SMP bring-up: the application processors the ACPI MADT lists, started with INIT-SIPI-SIPI
 * (docs/boot.md, "SMP bring-up"). */
#pragma once

struct acpi_madt;

/* Starts every CPU the MADT lists, up to max_cpus in all (0 = all, capped at MAX_CPUS), one at a
 * time; each runs ap_entry(index) on its own stack with GS, GDT/TSS, IDT and LAPIC ready and
 * interrupts disabled; ap_entry never returns. Returns the number of CPUs running (BSP
 * included) and sets ncpus. A CPU that does not check in within its timeout is reported and skipped. */
unsigned smp_boot(unsigned max_cpus, void (*ap_entry)(unsigned index));

/* The CPUs the firmware lists as enabled, the boot CPU included (1 without a usable MADT): what
 * smp_boot aimed for before max_cpus and MAX_CPUS. Valid after smp_boot. */
unsigned smp_cpus_listed(void);

/* The MADT, parsed on the first call (boot CPU, single-threaded boot only), or NULL when the
 * firmware has no usable one; the parse is reported in the boot log once. */
const struct acpi_madt *firmware_madt(void);
