/* PCI configuration space through the legacy port pair 0xCF8/0xCFC (configuration mechanism #1):
 * every PC chipset and QEMU's i440fx and q35 have it, it needs no ACPI table (MCFG) and no
 * mapping, and what the kernel needs today (find a device, read and size its BARs, turn on memory
 * decoding) touches config space a few dozen times, so the slowness of port I/O does not matter. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define PCI_VENDOR_ID     0x00
#define PCI_DEVICE_ID     0x02
#define PCI_COMMAND       0x04
#define PCI_CLASS_REV     0x08
#define PCI_HEADER_TYPE   0x0e
#define PCI_BAR0          0x10
#define PCI_SECONDARY_BUS 0x19 /* type 1 (bridge) headers */

#define PCI_CMD_IO     (1u << 0)
#define PCI_CMD_MEM    (1u << 1)
#define PCI_CMD_MASTER (1u << 2)

#define PCI_NBARS 6

struct pci_dev {
    uint8_t bus, slot, fn;
    uint8_t header_type; /* without the multi-function bit */
    uint16_t vendor, device;
    uint8_t class_code, subclass, prog_if;
};

struct pci_bar {
    uint64_t base; /* physical address (memory) or port number (I/O) */
    uint64_t size; /* bytes decoded; 0 when the BAR is not implemented */
    bool io, mem64, prefetchable;
};

uint32_t pci_read32(const struct pci_dev *d, unsigned offset);
uint16_t pci_read16(const struct pci_dev *d, unsigned offset);
uint8_t pci_read8(const struct pci_dev *d, unsigned offset);
void pci_write32(const struct pci_dev *d, unsigned offset, uint32_t value);
void pci_write16(const struct pci_dev *d, unsigned offset, uint16_t value);

/* Calls visit for every function reachable from bus 0 through PCI-to-PCI bridges, in bus/slot/
 * function order, until visit returns true. Returns the number of functions visited. */
unsigned pci_scan(bool (*visit)(const struct pci_dev *d, void *ctx), void *ctx);

/* Finds the index-th (from 0) function with this vendor and device ID: 0 or ERR_NOENT. */
int pci_find(uint16_t vendor, uint16_t device, unsigned index, struct pci_dev *out);

/* Reads BAR n of a type 0 header, sizing it by writing all-ones with decoding turned off and
 * restoring everything afterwards. Returns 0, or ERR_INVAL (n out of range, not a type 0 header,
 * n is the upper half of a 64-bit BAR). An unimplemented BAR reads back as size 0. */
int pci_read_bar(const struct pci_dev *d, unsigned n, struct pci_bar *out);

/* Sets bits (PCI_CMD_*) in the command register, keeping the others. */
void pci_enable(const struct pci_dev *d, uint16_t bits);
