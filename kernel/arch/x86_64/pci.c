/* PCI configuration mechanism #1. An access is two port operations (address, then data), so one
 * lock covers the pair: another CPU or an interrupt handler slipping its own address in between
 * would make us read or write the wrong register. BAR sizing holds the lock across the whole
 * write-ones/read/restore sequence for the same reason. */
#include "arch/x86_64/pci.h"

#include <stddef.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/spinlock.h"
#include "lib/err.h"

#define CONFIG_ADDRESS 0xcf8
#define CONFIG_DATA    0xcfc
#define CONFIG_ENABLE  (1u << 31)
#define MULTIFUNCTION  0x80
#define CLASS_BRIDGE   0x06
#define SUBCLASS_P2P   0x04
#define NBUSES         256

static struct spinlock pci_lock = SPINLOCK_INIT;

static void select_reg(unsigned bus, unsigned slot, unsigned fn, unsigned offset)
{
    outl(CONFIG_ADDRESS,
         CONFIG_ENABLE | bus << 16 | (slot & 31) << 11 | (fn & 7) << 8 | (offset & 0xfc));
}

static uint32_t raw_read32(unsigned bus, unsigned slot, unsigned fn, unsigned offset)
{
    select_reg(bus, slot, fn, offset);
    return inl(CONFIG_DATA);
}

static void raw_write32(unsigned bus, unsigned slot, unsigned fn, unsigned offset, uint32_t v)
{
    select_reg(bus, slot, fn, offset);
    outl(CONFIG_DATA, v);
}

static uint32_t locked_read32(unsigned bus, unsigned slot, unsigned fn, unsigned offset)
{
    uint64_t flags = spin_lock_irqsave(&pci_lock);
    uint32_t v = raw_read32(bus, slot, fn, offset);
    spin_unlock_irqrestore(&pci_lock, flags);
    return v;
}

uint32_t pci_read32(const struct pci_dev *d, unsigned offset)
{
    return locked_read32(d->bus, d->slot, d->fn, offset);
}

uint16_t pci_read16(const struct pci_dev *d, unsigned offset)
{
    return pci_read32(d, offset) >> (8 * (offset & 2));
}

uint8_t pci_read8(const struct pci_dev *d, unsigned offset)
{
    return pci_read32(d, offset) >> (8 * (offset & 3));
}

void pci_write32(const struct pci_dev *d, unsigned offset, uint32_t value)
{
    uint64_t flags = spin_lock_irqsave(&pci_lock);
    raw_write32(d->bus, d->slot, d->fn, offset, value);
    spin_unlock_irqrestore(&pci_lock, flags);
}

/* A 16-bit access of its own, not a read-modify-write of the dword: the command register shares
 * its dword with the status register, whose bits are write-one-to-clear. */
void pci_write16(const struct pci_dev *d, unsigned offset, uint16_t value)
{
    uint64_t flags = spin_lock_irqsave(&pci_lock);
    select_reg(d->bus, d->slot, d->fn, offset);
    outw(CONFIG_DATA + (offset & 2), value);
    spin_unlock_irqrestore(&pci_lock, flags);
}

static uint16_t raw_read16(const struct pci_dev *d, unsigned offset)
{
    select_reg(d->bus, d->slot, d->fn, offset);
    return inw(CONFIG_DATA + (offset & 2));
}

static void raw_write16(const struct pci_dev *d, unsigned offset, uint16_t v)
{
    select_reg(d->bus, d->slot, d->fn, offset);
    outw(CONFIG_DATA + (offset & 2), v);
}

static void describe(unsigned bus, unsigned slot, unsigned fn, uint32_t id, struct pci_dev *d)
{
    uint32_t class_rev = locked_read32(bus, slot, fn, PCI_CLASS_REV);
    *d = (struct pci_dev){
        .bus = bus,
        .slot = slot,
        .fn = fn,
        .vendor = id & 0xffff,
        .device = id >> 16,
        .class_code = class_rev >> 24,
        .subclass = class_rev >> 16,
        .prog_if = class_rev >> 8,
        .header_type = (locked_read32(bus, slot, fn, 0x0c) >> 16) & 0x7f,
    };
}

/* Breadth-first over the buses behind bridges with an explicit queue rather than recursion: a
 * misprogrammed bridge chain cannot overflow the kernel stack, and a bus listed twice (a loop)
 * is scanned once. */
unsigned pci_scan(bool (*visit)(const struct pci_dev *d, void *ctx), void *ctx)
{
    uint8_t queue[NBUSES];
    uint8_t queued[NBUSES / 8] = {1};
    unsigned head = 0, tail = 1, count = 0;

    queue[0] = 0;
    while (head < tail) {
        unsigned bus = queue[head++];
        for (unsigned slot = 0; slot < 32; slot++) {
            unsigned nfn = 1;
            for (unsigned fn = 0; fn < nfn; fn++) {
                uint32_t id = locked_read32(bus, slot, fn, PCI_VENDOR_ID);
                if ((id & 0xffff) == 0xffff)
                    continue; /* no function here: the bus master aborts and reads all-ones */
                if (fn == 0 && (locked_read32(bus, slot, 0, 0x0c) >> 16) & MULTIFUNCTION)
                    nfn = 8;
                struct pci_dev d;
                describe(bus, slot, fn, id, &d);
                count++;
                if (visit(&d, ctx))
                    return count;
                if (d.class_code == CLASS_BRIDGE && d.subclass == SUBCLASS_P2P &&
                    d.header_type == 1) {
                    unsigned sec = pci_read8(&d, PCI_SECONDARY_BUS);
                    if (sec && !(queued[sec / 8] & (1u << (sec % 8))) && tail < NBUSES) {
                        queued[sec / 8] |= 1u << (sec % 8);
                        queue[tail++] = sec;
                    }
                }
            }
        }
    }
    return count;
}

struct find_ctx {
    uint16_t vendor, device;
    unsigned index;
    struct pci_dev *out;
    bool found;
};

static bool find_visit(const struct pci_dev *d, void *arg)
{
    struct find_ctx *c = arg;
    if (d->vendor != c->vendor || d->device != c->device)
        return false;
    if (c->index--)
        return false;
    *c->out = *d;
    c->found = true;
    return true;
}

int pci_find(uint16_t vendor, uint16_t device, unsigned index, struct pci_dev *out)
{
    struct find_ctx c = {vendor, device, index, out, false};
    pci_scan(find_visit, &c);
    return c.found ? 0 : ERR_NOENT;
}

static bool is_mem64(uint32_t bar)
{
    return !(bar & 1) && ((bar >> 1) & 3) == 2;
}

int pci_read_bar(const struct pci_dev *d, unsigned n, struct pci_bar *out)
{
    if (n >= PCI_NBARS || d->header_type != 0)
        return ERR_INVAL;
    /* BAR n may be the upper half of a 64-bit BAR that starts below it. */
    for (unsigned i = 0; i < n; i++)
        if (is_mem64(pci_read32(d, PCI_BAR0 + 4 * i)) && ++i == n)
            return ERR_INVAL;

    unsigned off = PCI_BAR0 + 4 * n;
    uint64_t flags = spin_lock_irqsave(&pci_lock);
    /* With decoding on, the all-ones value would briefly claim the top of the address space. */
    uint16_t cmd = raw_read16(d, PCI_COMMAND);
    raw_write16(d, PCI_COMMAND, cmd & ~(PCI_CMD_IO | PCI_CMD_MEM));

    uint32_t lo = raw_read32(d->bus, d->slot, d->fn, off);
    raw_write32(d->bus, d->slot, d->fn, off, 0xffffffffu);
    uint32_t lo_mask = raw_read32(d->bus, d->slot, d->fn, off);
    raw_write32(d->bus, d->slot, d->fn, off, lo);
    uint32_t hi = 0, hi_mask = 0;
    bool wide = is_mem64(lo) && n + 1 < PCI_NBARS;
    if (wide) {
        hi = raw_read32(d->bus, d->slot, d->fn, off + 4);
        raw_write32(d->bus, d->slot, d->fn, off + 4, 0xffffffffu);
        hi_mask = raw_read32(d->bus, d->slot, d->fn, off + 4);
        raw_write32(d->bus, d->slot, d->fn, off + 4, hi);
    }
    raw_write16(d, PCI_COMMAND, cmd);
    spin_unlock_irqrestore(&pci_lock, flags);

    *out = (struct pci_bar){.io = lo & 1, .mem64 = wide, .prefetchable = !(lo & 1) && (lo & 8)};
    if (out->io) {
        uint32_t mask = lo_mask & ~3u;
        if (mask && !(mask >> 16))
            mask |= 0xffff0000u; /* a 16-bit decoder leaves the upper half reading zero */
        out->base = lo & ~3u;
        out->size = mask ? (uint32_t)(~mask + 1) : 0;
        return 0;
    }
    uint64_t mask = (uint64_t)hi_mask << 32 | (lo_mask & ~0xfu);
    if (!wide)
        mask |= 0xffffffff00000000ul;
    out->base = (uint64_t)hi << 32 | (lo & ~0xfu);
    out->size = (lo_mask & ~0xfu) || hi_mask ? ~mask + 1 : 0;
    return 0;
}

void pci_enable(const struct pci_dev *d, uint16_t bits)
{
    uint64_t flags = spin_lock_irqsave(&pci_lock);
    raw_write16(d, PCI_COMMAND, raw_read16(d, PCI_COMMAND) | bits);
    spin_unlock_irqrestore(&pci_lock, flags);
}
