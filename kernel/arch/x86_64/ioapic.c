/* I/O APIC driver, to the Intel 82093AA datasheet (section 3: IOREGSEL/IOWIN indirect access, the
 * version register, redirection table entries) and ACPI 6.5 5.2.12.5/5.2.12.6 (I/O APIC and
 * interrupt source override entries). Every pin of every I/O APIC is masked at boot: firmware
 * may have left entries live, and an interrupt on a vector nobody expects must not arrive. */
#include "arch/x86_64/ioapic.h"

#include <stddef.h>

#include "arch/x86_64/acpi.h"
#include "arch/x86_64/spinlock.h"
#include "core/console.h"
#include "lib/err.h"
#include "lib/fmt.h"
#include "mm/paging.h"

#define REG_SELECT      0x00 /* IOREGSEL, in 32-bit words: 0 */
#define REG_WINDOW      0x04 /* IOWIN at byte offset 0x10 */
#define MMIO_BYTES      0x20
#define IDX_VERSION     0x01
#define IDX_REDIR(pin)  (0x10 + 2 * (pin)) /* low dword; the high dword follows */

#define RTE_POLARITY_LOW (1u << 13)
#define RTE_LEVEL        (1u << 15)
#define RTE_MASKED       (1u << 16)
/* Delivery mode fixed (000), physical destination mode (bit 11 clear): the defaults at 0. */
#define RTE_DEST_SHIFT   24 /* of the high dword: destination APIC ID, bits 56-63 */

struct ioapic {
    volatile uint32_t *regs;
    uint8_t id;
    uint8_t version;
    uint32_t phys;
    uint32_t gsi_base;
    unsigned npins;
    /* IOREGSEL and IOWIN are a pair: a second CPU selecting in between would make the first
     * read or write the wrong register. */
    struct spinlock lock;
};

static struct ioapic ioapics[ACPI_MAX_IOAPICS];
static unsigned nioapics;
static struct ioapic_isa isa[16];

static uint32_t reg_read(struct ioapic *io, uint32_t index)
{
    io->regs[REG_SELECT] = index;
    return io->regs[REG_WINDOW];
}

static void reg_write(struct ioapic *io, uint32_t index, uint32_t v)
{
    io->regs[REG_SELECT] = index;
    io->regs[REG_WINDOW] = v;
}

/* The I/O APIC with a pin for gsi, and the pin, or NULL. */
static struct ioapic *find(uint32_t gsi, unsigned *pin)
{
    for (unsigned i = 0; i < nioapics; i++) {
        struct ioapic *io = &ioapics[i];
        if (gsi >= io->gsi_base && gsi - io->gsi_base < io->npins) {
            *pin = gsi - io->gsi_base;
            return io;
        }
    }
    return NULL;
}

bool ioapic_present(void)
{
    return nioapics > 0;
}

bool ioapic_has_gsi(uint32_t gsi)
{
    unsigned pin;
    return find(gsi, &pin) != NULL;
}

struct ioapic_isa ioapic_isa_line(unsigned line)
{
    return isa[line & 15];
}

struct ioapic_isa ioapic_isa_line_set(unsigned line, struct ioapic_isa where)
{
    struct ioapic_isa old = isa[line & 15];
    isa[line & 15] = where;
    return old;
}

int ioapic_route(uint32_t gsi, uint8_t vector, uint32_t dest, bool level, bool active_low)
{
    unsigned pin;
    struct ioapic *io = find(gsi, &pin);
    if (!io)
        return ERR_NOENT;
    /* 82093AA 3.2.4: vectors 0x10-0xfe. An 8-bit physical destination: beyond it needs
     * interrupt remapping, which this kernel does not do. */
    if (vector < 0x10 || vector == 0xff || dest > 0xff)
        return ERR_INVAL;
    uint32_t low = RTE_MASKED | vector | (level ? RTE_LEVEL : 0) |
                   (active_low ? RTE_POLARITY_LOW : 0);
    uint64_t flags = spin_lock_irqsave(&io->lock);
    /* Masked first, with the old destination, so that no half-written entry is ever live. */
    reg_write(io, IDX_REDIR(pin), reg_read(io, IDX_REDIR(pin)) | RTE_MASKED);
    reg_write(io, IDX_REDIR(pin) + 1, dest << RTE_DEST_SHIFT);
    reg_write(io, IDX_REDIR(pin), low);
    spin_unlock_irqrestore(&io->lock, flags);
    return 0;
}

void ioapic_mask(uint32_t gsi, bool masked)
{
    unsigned pin;
    struct ioapic *io = find(gsi, &pin);
    if (!io)
        return;
    uint64_t flags = spin_lock_irqsave(&io->lock);
    uint32_t low = reg_read(io, IDX_REDIR(pin));
    /* Bits 12 and 14 (delivery status, remote IRR) are read-only: writing them back is harmless. */
    reg_write(io, IDX_REDIR(pin), masked ? low | RTE_MASKED : low & ~RTE_MASKED);
    spin_unlock_irqrestore(&io->lock, flags);
}

bool ioapic_masked(uint32_t gsi)
{
    unsigned pin;
    struct ioapic *io = find(gsi, &pin);
    if (!io)
        return true;
    uint64_t flags = spin_lock_irqsave(&io->lock);
    uint32_t low = reg_read(io, IDX_REDIR(pin));
    spin_unlock_irqrestore(&io->lock, flags);
    return low & RTE_MASKED;
}

/* Maps one MADT I/O APIC and masks its pins; false (reported) when it is unusable. */
static bool add(const struct acpi_ioapic *a)
{
    if (!a->phys) {
        kprintf("ioapic: MADT I/O APIC %u at address 0; ignored\n", a->id);
        return false;
    }
    struct ioapic *io = &ioapics[nioapics];
    io->regs = ioremap(a->phys, MMIO_BYTES);
    if (!io->regs) {
        kprintf("ioapic: cannot map I/O APIC %u at %#x; ignored\n", a->id, a->phys);
        return false;
    }
    io->lock = (struct spinlock)SPINLOCK_INIT;
    uint32_t version = reg_read(io, IDX_VERSION);
    /* All ones: nothing decodes the address (a bus abort reads as ~0). */
    if (version == 0xffffffffu) {
        kprintf("ioapic: nothing answers at %#x (I/O APIC %u in the MADT); ignored\n", a->phys,
                a->id);
        return false;
    }
    io->id = a->id;
    io->phys = a->phys;
    io->gsi_base = a->gsi_base;
    io->version = version & 0xff;
    io->npins = ((version >> 16) & 0xff) + 1; /* the field is the highest entry's index */
    for (unsigned i = 0; i < nioapics; i++) {
        struct ioapic *o = &ioapics[i];
        if (io->gsi_base < o->gsi_base + o->npins && o->gsi_base < io->gsi_base + io->npins) {
            kprintf("ioapic: I/O APIC %u (GSI %u-%u) overlaps I/O APIC %u (GSI %u-%u); ignored\n",
                    io->id, io->gsi_base, io->gsi_base + io->npins - 1, o->id, o->gsi_base,
                    o->gsi_base + o->npins - 1);
            return false;
        }
    }
    for (unsigned pin = 0; pin < io->npins; pin++)
        reg_write(io, IDX_REDIR(pin), reg_read(io, IDX_REDIR(pin)) | RTE_MASKED);
    nioapics++;
    return true;
}

/* ACPI 5.2.12.5: an ISA IRQ no override names arrives at the GSI of the same number, active
 * high and edge triggered; "conforms to the bus" (0) in an override's flags means the same. */
static void isa_table(const struct acpi_madt *madt)
{
    for (unsigned line = 0; line < 16; line++)
        isa[line] = (struct ioapic_isa){line, false, false, false};
    for (unsigned i = 0; madt && i < madt->noverrides; i++) {
        const struct acpi_override *o = &madt->overrides[i];
        unsigned pol = o->flags & ACPI_INTI_POLARITY_MASK, trig = o->flags & ACPI_INTI_TRIGGER_MASK;
        isa[o->source] = (struct ioapic_isa){
            .gsi = o->gsi,
            /* The reserved encodings (2, 8) are taken as "conforms": ISA's defaults. */
            .level = trig == ACPI_INTI_LEVEL,
            .active_low = pol == ACPI_INTI_ACTIVE_LOW,
            .overridden = true,
        };
    }
}

static void log_found(const struct acpi_madt *madt)
{
    char line[256];
    size_t n = 0;
    unsigned pins = 0;
#define APPEND(...)                                                                            \
    do {                                                                                       \
        if (n < sizeof(line))                                                                  \
            n += fmt_snprintf(line + n, sizeof(line) - n, __VA_ARGS__);                        \
    } while (0)
    for (unsigned i = 0; i < nioapics; i++)
        pins += ioapics[i].npins;
    APPEND("ioapic: %u I/O APIC%s, %u pins, all masked:", nioapics, nioapics == 1 ? "" : "s",
           pins);
    for (unsigned i = 0; i < nioapics; i++)
        APPEND(" [id %u at %#x, version %#x, GSI %u-%u]", ioapics[i].id, ioapics[i].phys,
               ioapics[i].version, ioapics[i].gsi_base,
               ioapics[i].gsi_base + ioapics[i].npins - 1);
    if (madt->nioapic_overflow)
        APPEND(" (%u more in the MADT, beyond ACPI_MAX_IOAPICS)", madt->nioapic_overflow);
    APPEND("; %u ISA override%s", madt->noverrides, madt->noverrides == 1 ? "" : "s");
    for (unsigned l = 0, first = 1; l < 16; l++) {
        if (!isa[l].overridden)
            continue;
        APPEND("%s IRQ %u -> GSI %u%s%s", first ? ":" : ",", l, isa[l].gsi,
               isa[l].level ? " level" : "", isa[l].active_low ? " low" : "");
        first = 0;
    }
#undef APPEND
    kprintf("%s\n", line);
}

void ioapic_init(const struct acpi_madt *madt)
{
    isa_table(madt);
    if (!madt || !madt->nioapics) {
        kprintf("ioapic: %s: no device interrupts (every irq_bind answers ERR_NOENT)\n",
                madt ? "no I/O APIC in the MADT" : "no MADT");
        return;
    }
    for (unsigned i = 0; i < madt->nioapics; i++)
        add(&madt->ioapics[i]);
    if (!nioapics) {
        kprintf("ioapic: no usable I/O APIC: no device interrupts (every irq_bind answers "
                "ERR_NOENT)\n");
        return;
    }
    log_found(madt);
}
