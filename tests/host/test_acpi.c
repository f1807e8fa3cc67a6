#include "check.h"
#include "arch/x86_64/acpi.h"
#include "lib/err.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A fake physical memory: the low MiB with the BIOS areas, and tables above it. Mapping outside
 * it fails, as ioremap would for a wild pointer. The map callback hands out a private copy of
 * exactly the requested bytes, so ASan catches any read past what the parser asked for. */
#define MEM_SIZE   0x200000
#define RSDP_BIOS  0xf5a10
#define EBDA       0x9fc00
#define RSDT_AT    0x100000
#define XSDT_AT    0x101000
#define MADT_AT    0x102000
#define MADT2_AT   0x103000

static uint8_t *mem;
static char reports[8][160];
static int nreports;
static void *copies[256];
static int ncopies;

static const void *fake_map(void *ctx, uint64_t phys, uint64_t len)
{
    (void)ctx;
    if (phys > MEM_SIZE || len > MEM_SIZE - phys || ncopies == 256)
        return NULL;
    void *copy = malloc(len ? len : 1);
    memcpy(copy, mem + phys, len);
    return copies[ncopies++] = copy;
}

static void fake_report(void *ctx, const char *msg)
{
    (void)ctx;
    if (nreports < 8)
        snprintf(reports[nreports], sizeof(reports[0]), "%s", msg);
    nreports++;
}

static const struct acpi_env env = {fake_map, fake_report, NULL};

static void reset(void)
{
    while (ncopies)
        free(copies[--ncopies]);
    free(mem);
    mem = calloc(1, MEM_SIZE);
    nreports = 0;
}

static bool reported(const char *needle)
{
    for (int i = 0; i < nreports && i < 8; i++)
        if (strstr(reports[i], needle))
            return true;
    return false;
}

static void put32(uint64_t at, uint32_t v) { memcpy(mem + at, &v, 4); }
static void put64(uint64_t at, uint64_t v) { memcpy(mem + at, &v, 8); }

static void fix_sum(uint64_t at, uint32_t len, uint32_t sum_at)
{
    uint8_t s = 0;
    mem[at + sum_at] = 0;
    for (uint32_t i = 0; i < len; i++)
        s += mem[at + i];
    mem[at + sum_at] = (uint8_t)-s;
}

static void sdt(uint64_t at, const char *sig, uint32_t len, uint8_t rev)
{
    memcpy(mem + at, sig, 4);
    put32(at + 4, len);
    mem[at + 8] = rev;
    memcpy(mem + at + 10, "TACHYN", 6);
    fix_sum(at, len, 9);
}

static void rsdp(uint64_t at, uint8_t rev, uint32_t rsdt, uint64_t xsdt)
{
    memcpy(mem + at, "RSD PTR ", 8);
    mem[at + 15] = rev;
    put32(at + 16, rsdt);
    fix_sum(at, 20, 8);
    if (rev >= 2) {
        put32(at + 20, 36);
        put64(at + 24, xsdt);
        fix_sum(at, 36, 32);
    }
}

static uint32_t root(uint64_t at, const char *sig, unsigned esize, const uint64_t *e, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        esize == 8 ? put64(at + 36 + 8 * i, e[i]) : put32(at + 36 + 4 * i, (uint32_t)e[i]);
    sdt(at, sig, 36 + esize * n, 1);
    return (uint32_t)at;
}

/* MADT entries as (type, id, flags); builds the table at `at` and returns its length. Type 0:
 * LAPIC; 9: x2APIC; 5: LAPIC address override (id = low address bits); 1: I/O APIC `id` at
 * IOAPIC_AT(id), flags = its GSI base; 2: source override, id = bus << 8 | ISA IRQ, flags =
 * GSI << 16 | INTI flags; any other type: a 6-byte entry the parser must skip (type 4, local
 * APIC NMI, is one). */
struct ent {
    uint8_t type;
    uint32_t id, flags;
};

#define IOAPIC_AT(id) (0xfec00000u + 0x1000u * (id))
#define OVR(bus, irq, gsi, inti) {2, (bus) << 8 | (irq), (gsi) << 16 | (inti)}

static uint32_t madt(uint64_t at, uint8_t rev, const struct ent *e, unsigned n)
{
    uint32_t off = 44;
    put32(at + 36, 0xfee00000);
    put32(at + 40, 1);
    for (unsigned i = 0; i < n; i++) {
        uint8_t *p = mem + at + off;
        p[0] = e[i].type;
        if (e[i].type == 0) {
            p[1] = 8;
            p[2] = (uint8_t)i;
            p[3] = (uint8_t)e[i].id;
            memcpy(p + 4, &e[i].flags, 4);
        } else if (e[i].type == 9) {
            p[1] = 16;
            memcpy(p + 4, &e[i].id, 4);
            memcpy(p + 8, &e[i].flags, 4);
        } else if (e[i].type == 5) {
            p[1] = 12;
            uint64_t addr = 0xfed00000ull | e[i].id;
            memcpy(p + 4, &addr, 8);
        } else if (e[i].type == 1) {
            uint32_t addr = IOAPIC_AT(e[i].id);
            p[1] = 12;
            p[2] = (uint8_t)e[i].id;
            memcpy(p + 4, &addr, 4);
            memcpy(p + 8, &e[i].flags, 4);
        } else if (e[i].type == 2) {
            uint32_t gsi = e[i].flags >> 16;
            uint16_t inti = e[i].flags & 0xffff;
            p[1] = 10;
            p[2] = (uint8_t)(e[i].id >> 8);
            p[3] = (uint8_t)e[i].id;
            memcpy(p + 4, &gsi, 4);
            memcpy(p + 8, &inti, 2);
        } else {
            p[1] = 6;
        }
        off += p[1];
    }
    sdt(at, "APIC", off, rev);
    return off;
}

static void standard(void)
{
    reset();
    static const struct ent e[] = {{0, 0, 1}, {4, 0, 0}, {0, 1, 1}};
    madt(MADT_AT, 5, e, 3);
    uint64_t t = MADT_AT;
    rsdp(RSDP_BIOS, 0, root(RSDT_AT, "RSDT", 4, &t, 1), 0);
}

TEST(rsdp_found_in_bios_area_and_madt_through_rsdt)
{
    struct acpi_madt m;
    uint64_t at;
    standard();
    CHECK_EQ(acpi_find_rsdp(&env, &at), 0);
    CHECK_EQ(at, RSDP_BIOS);
    CHECK_EQ(acpi_read_madt(&env, at, &m), 0);
    CHECK_STR(m.root, "RSDT");
    CHECK_EQ(m.phys, MADT_AT);
    CHECK_EQ(m.lapic_phys, 0xfee00000);
    CHECK_EQ(m.ncpus, 2);
    CHECK_EQ(m.nenabled, 2);
    CHECK_EQ(m.cpus[0].apic_id, 0);
    CHECK_EQ(m.cpus[1].apic_id, 1);
    CHECK_EQ(nreports, 0);
}

TEST(rsdp_in_ebda_is_found_first)
{
    uint64_t at;
    standard();
    mem[0x40e] = (EBDA >> 4) & 0xff;
    mem[0x40f] = EBDA >> 12;
    rsdp(EBDA + 0x30, 0, RSDT_AT, 0);
    CHECK_EQ(acpi_find_rsdp(&env, &at), 0);
    CHECK_EQ(at, EBDA + 0x30);
}

TEST(rsdp_with_bad_checksum_is_reported_and_skipped)
{
    uint64_t at;
    standard();
    rsdp(0xe0000, 0, RSDT_AT, 0);
    mem[0xe0000 + 16] ^= 1;
    CHECK_EQ(acpi_find_rsdp(&env, &at), 0);
    CHECK_EQ(at, RSDP_BIOS);
    CHECK(reported("bad checksum"));
}

TEST(no_rsdp_anywhere)
{
    uint64_t at;
    reset();
    CHECK_EQ(acpi_find_rsdp(&env, &at), ERR_NOENT);
}

TEST(xsdt_preferred_over_rsdt)
{
    struct acpi_madt m;
    static const struct ent one[] = {{0, 0, 1}};
    static const struct ent three[] = {{0, 0, 1}, {0, 1, 1}, {9, 300, 1}};
    reset();
    madt(MADT_AT, 3, one, 1);
    madt(MADT2_AT, 3, three, 3);
    uint64_t a = MADT_AT, b = MADT2_AT;
    rsdp(RSDP_BIOS, 2, root(RSDT_AT, "RSDT", 4, &a, 1), root(XSDT_AT, "XSDT", 8, &b, 1));
    CHECK_EQ(acpi_read_madt(&env, RSDP_BIOS, &m), 0);
    CHECK_STR(m.root, "XSDT");
    CHECK_EQ(m.ncpus, 3);
    CHECK_EQ(m.cpus[2].apic_id, 300);
}

TEST(bad_extended_checksum_falls_back_to_rsdt)
{
    struct acpi_madt m;
    static const struct ent one[] = {{0, 0, 1}};
    reset();
    madt(MADT_AT, 3, one, 1);
    uint64_t a = MADT_AT;
    rsdp(RSDP_BIOS, 2, root(RSDT_AT, "RSDT", 4, &a, 1), root(XSDT_AT, "XSDT", 8, &a, 1));
    mem[RSDP_BIOS + 24] ^= 0x40; /* XSDT address: covered only by the extended checksum */
    CHECK_EQ(acpi_read_madt(&env, RSDP_BIOS, &m), 0);
    CHECK_STR(m.root, "RSDT");
    CHECK(reported("extended checksum"));
}

TEST(broken_xsdt_falls_back_to_rsdt)
{
    struct acpi_madt m;
    static const struct ent one[] = {{0, 0, 1}};
    reset();
    madt(MADT_AT, 3, one, 1);
    uint64_t a = MADT_AT;
    rsdp(RSDP_BIOS, 2, root(RSDT_AT, "RSDT", 4, &a, 1), root(XSDT_AT, "XSDT", 8, &a, 1));
    mem[XSDT_AT + 20] ^= 1;
    CHECK_EQ(acpi_read_madt(&env, RSDP_BIOS, &m), 0);
    CHECK_STR(m.root, "RSDT");
    CHECK(reported("XSDT at 0x101000 has a bad checksum"));
}

TEST(madt_with_bad_checksum_is_ignored)
{
    struct acpi_madt m;
    standard();
    mem[MADT_AT + 50] ^= 1;
    CHECK_EQ(acpi_read_madt(&env, RSDP_BIOS, &m), ERR_NOENT);
    CHECK(reported("MADT at 0x102000 has a bad checksum"));
    CHECK(reported("lists no valid MADT"));
}

TEST(madt_entry_of_length_zero_is_malformed_not_a_hang)
{
    struct acpi_madt m;
    standard();
    mem[MADT_AT + 44 + 8 + 1] = 0;
    fix_sum(MADT_AT, 44 + 8 + 6 + 8, 9);
    CHECK_EQ(acpi_read_madt(&env, RSDP_BIOS, &m), ERR_NOENT);
    CHECK(reported("has length 0"));
}

TEST(madt_entry_running_past_the_table_is_malformed)
{
    struct acpi_madt m;
    standard();
    mem[MADT_AT + 44 + 8 + 6 + 1] = 9; /* the last entry claims a byte beyond the table */
    fix_sum(MADT_AT, 44 + 8 + 6 + 8, 9);
    CHECK_EQ(acpi_read_madt(&env, RSDP_BIOS, &m), ERR_NOENT);
    CHECK(reported("offset 58 has length 9"));
}

TEST(short_lapic_entry_is_malformed)
{
    struct acpi_madt m;
    standard();
    mem[MADT_AT + 44 + 1] = 6;
    mem[MADT_AT + 44 + 6] = 4; /* a 2-byte filler of a skipped type keeps the tiling valid */
    mem[MADT_AT + 44 + 7] = 2;
    fix_sum(MADT_AT, 44 + 8 + 6 + 8, 9);
    CHECK_EQ(acpi_read_madt(&env, RSDP_BIOS, &m), ERR_NOENT);
    CHECK(reported("entry type 0 at offset 44 has length 6"));
}

TEST(impossible_table_lengths_are_rejected)
{
    struct acpi_madt m;
    standard();
    put32(RSDT_AT + 4, 0xfffffff0);
    fix_sum(RSDT_AT, 40, 9);
    CHECK_EQ(acpi_read_madt(&env, RSDP_BIOS, &m), ERR_NOENT);
    CHECK(reported("claims 4294967280 bytes"));
}

TEST(unmappable_tables_are_reported)
{
    struct acpi_madt m;
    reset();
    uint64_t wild = 0x7fff0000ull;
    rsdp(RSDP_BIOS, 0, root(RSDT_AT, "RSDT", 4, &wild, 1), 0);
    CHECK_EQ(acpi_read_madt(&env, RSDP_BIOS, &m), ERR_NOENT);
    CHECK(reported("cannot map the table at 0x7fff0000"));
}

TEST(disabled_and_online_capable_processors)
{
    struct acpi_madt m;
    reset();
    /* Online-capable (flags 2) only counts from revision 5; disabled (0) never does; enabled
     * processors come first whatever the table order. */
    static const struct ent e[] = {{0, 4, 2}, {0, 0, 1}, {0, 5, 0}, {9, 7, 2}, {0, 1, 1}};
    madt(MADT_AT, 5, e, 5);
    uint64_t t = MADT_AT;
    rsdp(RSDP_BIOS, 0, root(RSDT_AT, "RSDT", 4, &t, 1), 0);
    CHECK_EQ(acpi_read_madt(&env, RSDP_BIOS, &m), 0);
    CHECK_EQ(m.ncpus, 4);
    CHECK_EQ(m.nenabled, 2);
    CHECK_EQ(m.cpus[0].apic_id, 0);
    CHECK_EQ(m.cpus[1].apic_id, 1);
    CHECK_EQ(m.cpus[2].apic_id, 4);
    CHECK(!m.cpus[2].enabled);
    CHECK_EQ(m.cpus[3].apic_id, 7);

    madt(MADT_AT, 4, e, 5);
    CHECK_EQ(acpi_read_madt(&env, RSDP_BIOS, &m), 0);
    CHECK_EQ(m.ncpus, 2);
}

TEST(duplicates_broadcast_ids_override_and_overflow)
{
    struct acpi_madt m;
    struct ent e[ACPI_MAX_CPUS + 5];
    unsigned n = 0;
    reset();
    e[n++] = (struct ent){0, 0, 1};
    e[n++] = (struct ent){9, 0, 1};    /* the same processor again, as x2APIC */
    e[n++] = (struct ent){0, 0xff, 1}; /* "see the x2APIC entries" */
    e[n++] = (struct ent){5, 0x42, 0}; /* 64-bit local APIC address override */
    for (uint32_t id = 1; n < ACPI_MAX_CPUS + 5; id++)
        e[n++] = (struct ent){9, id, 1};
    madt(MADT_AT, 5, e, n);
    uint64_t t = MADT_AT;
    rsdp(RSDP_BIOS, 0, root(RSDT_AT, "RSDT", 4, &t, 1), 0);
    CHECK_EQ(acpi_read_madt(&env, RSDP_BIOS, &m), 0);
    CHECK_EQ(m.lapic_phys, 0xfed00042);
    CHECK_EQ(m.ncpus, ACPI_MAX_CPUS);
    CHECK_EQ(m.noverflow, 2);
    CHECK_EQ(m.cpus[0].apic_id, 0);
    CHECK_EQ(m.cpus[1].apic_id, 1);
}

TEST(root_with_a_partial_pointer_is_malformed)
{
    struct acpi_madt m;
    standard();
    put32(RSDT_AT + 4, 38);
    fix_sum(RSDT_AT, 38, 9);
    CHECK_EQ(acpi_read_madt(&env, RSDP_BIOS, &m), ERR_NOENT);
    CHECK(reported("not a whole number"));
}

static const struct ent qemu_like[] = {
    {0, 0, 1},
    {1, 0, 0},
    OVR(0, 0, 2, 0),   /* ISA IRQ 0 -> GSI 2, conforming */
    OVR(0, 9, 9, 0xd), /* ISA IRQ 9 -> GSI 9, active high, level */
    {4, 0, 0},
    {1, 1, 24},
};

TEST(ioapics_and_overrides_are_recorded)
{
    struct acpi_madt m;
    reset();
    madt(MADT_AT, 3, qemu_like, 6);
    uint64_t t = MADT_AT;
    rsdp(RSDP_BIOS, 0, root(RSDT_AT, "RSDT", 4, &t, 1), 0);
    CHECK_EQ(acpi_read_madt(&env, RSDP_BIOS, &m), 0);
    CHECK_EQ(m.ncpus, 1);
    CHECK_EQ(m.nioapics, 2);
    CHECK_EQ(m.nioapic_overflow, 0);
    CHECK_EQ(m.ioapics[0].id, 0);
    CHECK_EQ(m.ioapics[0].phys, 0xfec00000);
    CHECK_EQ(m.ioapics[0].gsi_base, 0);
    CHECK_EQ(m.ioapics[1].id, 1);
    CHECK_EQ(m.ioapics[1].phys, 0xfec01000);
    CHECK_EQ(m.ioapics[1].gsi_base, 24);
    CHECK_EQ(m.noverrides, 2);
    CHECK_EQ(m.overrides[0].source, 0);
    CHECK_EQ(m.overrides[0].gsi, 2);
    CHECK_EQ(m.overrides[0].flags, 0);
    CHECK_EQ(m.overrides[1].source, 9);
    CHECK_EQ(m.overrides[1].gsi, 9);
    CHECK_EQ(m.overrides[1].flags & ACPI_INTI_TRIGGER_MASK, ACPI_INTI_LEVEL);
    CHECK_EQ(m.overrides[1].flags & ACPI_INTI_POLARITY_MASK, ACPI_INTI_ACTIVE_HIGH);
    CHECK_EQ(nreports, 0);
}

TEST(madt_without_ioapic_parses_with_none)
{
    struct acpi_madt m;
    standard();
    CHECK_EQ(acpi_read_madt(&env, RSDP_BIOS, &m), 0);
    CHECK_EQ(m.nioapics, 0);
    CHECK_EQ(m.noverrides, 0);
}

TEST(truncated_ioapic_entry_is_malformed)
{
    struct acpi_madt m;
    reset();
    uint32_t len = madt(MADT_AT, 3, qemu_like, 6);
    /* The first I/O APIC entry (at 44 + 8) claims 10 bytes: two short of its fields. Its last
     * two bytes become a 2-byte entry of type 0, which no longer matters: parsing stops at the
     * first bad entry. */
    mem[MADT_AT + 52 + 1] = 10;
    mem[MADT_AT + 52 + 10] = 4;
    mem[MADT_AT + 52 + 11] = 2;
    fix_sum(MADT_AT, len, 9);
    uint64_t t = MADT_AT;
    rsdp(RSDP_BIOS, 0, root(RSDT_AT, "RSDT", 4, &t, 1), 0);
    CHECK_EQ(acpi_read_madt(&env, RSDP_BIOS, &m), ERR_NOENT);
    CHECK(reported("entry type 1 at offset 52 has length 10"));
}

TEST(truncated_override_entry_is_malformed)
{
    struct acpi_madt m;
    reset();
    uint32_t len = madt(MADT_AT, 3, qemu_like, 6);
    /* The first override (at 44 + 8 + 12) claims 8 bytes; a 2-byte filler keeps the tiling. */
    mem[MADT_AT + 64 + 1] = 8;
    mem[MADT_AT + 64 + 8] = 4;
    mem[MADT_AT + 64 + 9] = 2;
    fix_sum(MADT_AT, len, 9);
    uint64_t t = MADT_AT;
    rsdp(RSDP_BIOS, 0, root(RSDT_AT, "RSDT", 4, &t, 1), 0);
    CHECK_EQ(acpi_read_madt(&env, RSDP_BIOS, &m), ERR_NOENT);
    CHECK(reported("entry type 2 at offset 64 has length 8"));
}

TEST(override_running_past_the_table_is_malformed)
{
    struct acpi_madt m;
    static const struct ent e[] = {{0, 0, 1}, OVR(0, 0, 2, 0)};
    reset();
    uint32_t len = madt(MADT_AT, 3, e, 2);
    put32(MADT_AT + 4, len - 1); /* the table now ends inside the override */
    fix_sum(MADT_AT, len - 1, 9);
    uint64_t t = MADT_AT;
    rsdp(RSDP_BIOS, 0, root(RSDT_AT, "RSDT", 4, &t, 1), 0);
    CHECK_EQ(acpi_read_madt(&env, RSDP_BIOS, &m), ERR_NOENT);
    CHECK(reported("entry type 2 at offset 52 has length 10"));
}

TEST(too_many_ioapics_are_counted_not_kept)
{
    struct acpi_madt m;
    struct ent e[ACPI_MAX_IOAPICS + 4];
    unsigned n = 0;
    reset();
    e[n++] = (struct ent){0, 0, 1};
    for (uint32_t i = 0; n < ACPI_MAX_IOAPICS + 4; i++)
        e[n++] = (struct ent){1, i, 24 * i};
    madt(MADT_AT, 3, e, n);
    uint64_t t = MADT_AT;
    rsdp(RSDP_BIOS, 0, root(RSDT_AT, "RSDT", 4, &t, 1), 0);
    CHECK_EQ(acpi_read_madt(&env, RSDP_BIOS, &m), 0);
    CHECK_EQ(m.nioapics, ACPI_MAX_IOAPICS);
    CHECK_EQ(m.nioapic_overflow, 3);
    CHECK_EQ(m.ioapics[ACPI_MAX_IOAPICS - 1].gsi_base, 24 * (ACPI_MAX_IOAPICS - 1));
}

TEST(overrides_beyond_one_per_isa_irq_and_non_isa_are_dropped)
{
    struct acpi_madt m;
    struct ent e[40];
    unsigned n = 0;
    reset();
    e[n++] = (struct ent){0, 0, 1};
    e[n++] = (struct ent){1, 0, 0};
    /* A non-ISA bus and a source above 15 (only the first 8 reports are kept), then every ISA
     * IRQ twice, the second time elsewhere. */
    e[n++] = (struct ent)OVR(1, 5, 5, 0);
    e[n++] = (struct ent)OVR(0, 16, 16, 0);
    for (uint32_t irq = 0; irq < 16; irq++)
        e[n++] = (struct ent)OVR(0, irq, irq == 0 ? 2 : irq, 0);
    for (uint32_t irq = 0; irq < 16; irq++)
        e[n++] = (struct ent)OVR(0, irq, 20 + irq, 0xf);
    madt(MADT_AT, 3, e, n);
    uint64_t t = MADT_AT;
    rsdp(RSDP_BIOS, 0, root(RSDT_AT, "RSDT", 4, &t, 1), 0);
    CHECK_EQ(acpi_read_madt(&env, RSDP_BIOS, &m), 0);
    CHECK_EQ(m.noverrides, 16);
    for (unsigned i = 0; i < 16; i++) {
        CHECK_EQ(m.overrides[i].source, i);
        CHECK_EQ(m.overrides[i].gsi, i == 0 ? 2 : i);
        CHECK_EQ(m.overrides[i].flags, 0);
    }
    CHECK_EQ(nreports, 18);
    CHECK(reported("second override of ISA IRQ 0 (to GSI 20); the first (GSI 2) is kept"));
    CHECK(reported("override of bus 1 IRQ 5 (not ISA)"));
    CHECK(reported("override of bus 0 IRQ 16 (not ISA)"));
}
