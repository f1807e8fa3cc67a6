/* RSDP search, RSDT/XSDT walk and MADT parsing (ACPI 6.5, sections 5.2.5 to 5.2.12). */
#include "arch/x86_64/acpi.h"

#include <stdarg.h>
#include <stddef.h>

#include "lib/err.h"
#include "lib/fmt.h"
#include "lib/kstring.h"

#define RSDP_SIGNATURE    0x2052545020445352ull /* "RSD PTR ", little-endian */
#define RSDP_V1_LEN       20
#define RSDP_V2_LEN       36
#define SDT_HEADER_LEN    36
#define MADT_FIRST_ENTRY  44 /* header, local APIC address, flags */
/* Larger is corruption, not a large machine: 4096 x2APIC entries take 64 KiB. */
#define TABLE_MAX_LEN     (1u << 20)
#define EBDA_SEGMENT_PTR  0x40e
#define EBDA_SCAN_LEN     1024
#define CONVENTIONAL_END  0xa0000
#define BIOS_AREA_START   0xe0000
#define BIOS_AREA_END     0x100000

#define MADT_LAPIC          0
#define MADT_IOAPIC         1
#define MADT_SOURCE_OVERRIDE 2
#define MADT_LAPIC_OVERRIDE 5
#define MADT_X2APIC         9
#define MADT_ENABLED        (1u << 0)
#define MADT_ONLINE_CAPABLE (1u << 1)
/* The online-capable flag exists from MADT revision 5 (ACPI 6.3); before, bit 1 is reserved. */
#define MADT_REV_ONLINE_CAPABLE 5

static void report(const struct acpi_env *env, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void report(const struct acpi_env *env, const char *fmt, ...)
{
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    env->report(env->ctx, msg);
}

/* __builtin_memcpy: the kernel is built freestanding, where a plain memcpy is an out-of-line call,
 * and the RSDP scan reads thousands of these. */
static uint16_t rd16(const uint8_t *p)
{
    uint16_t v;
    __builtin_memcpy(&v, p, sizeof(v));
    return v;
}

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    __builtin_memcpy(&v, p, sizeof(v));
    return v;
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    __builtin_memcpy(&v, p, sizeof(v));
    return v;
}

static bool checksum_ok(const uint8_t *p, uint64_t len)
{
    uint8_t sum = 0;
    for (uint64_t i = 0; i < len; i++)
        sum += p[i];
    return sum == 0;
}

/* A signature fit for the log: firmware garbage must not put control characters on the console. */
static const char *printable_sig(const uint8_t *p, char out[5])
{
    for (int i = 0; i < 4; i++)
        out[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
    out[4] = '\0';
    return out;
}

static bool scan(const struct acpi_env *env, uint64_t start, uint64_t len, uint64_t *rsdp)
{
    const uint8_t *p = env->map(env->ctx, start, len);
    if (!p) {
        report(env, "acpi: cannot map [%#lx, %#lx) to look for the RSDP", start, start + len);
        return false;
    }
    for (uint64_t off = 0; off + RSDP_V1_LEN <= len; off += 16) {
        if (rd64(p + off) != RSDP_SIGNATURE)
            continue;
        if (checksum_ok(p + off, RSDP_V1_LEN)) {
            *rsdp = start + off;
            return true;
        }
        report(env, "acpi: RSDP signature at %#lx with a bad checksum; ignored", start + off);
    }
    return false;
}

int acpi_find_rsdp(const struct acpi_env *env, uint64_t *rsdp)
{
    const uint8_t *ptr = env->map(env->ctx, EBDA_SEGMENT_PTR, 2);
    uint64_t ebda = ptr ? (uint64_t)rd16(ptr) << 4 : 0;
    /* The BDA's pointer is only a hint: anything outside conventional memory is not an EBDA. */
    if (ebda >= 0x1000 && ebda + EBDA_SCAN_LEN <= CONVENTIONAL_END &&
        scan(env, ebda, EBDA_SCAN_LEN, rsdp))
        return 0;
    return scan(env, BIOS_AREA_START, BIOS_AREA_END - BIOS_AREA_START, rsdp) ? 0 : ERR_NOENT;
}

/* The whole table at phys, or NULL (reported) when it cannot be mapped, has another signature,
 * an impossible length or a bad checksum. */
static const uint8_t *map_table(const struct acpi_env *env, uint64_t phys, const char *sig,
                                uint32_t *len_out)
{
    char shown[5];
    const char *name = strcmp(sig, "APIC") ? sig : "MADT";
    const uint8_t *t = env->map(env->ctx, phys, SDT_HEADER_LEN);
    if (!t) {
        report(env, "acpi: cannot map the %s at %#lx", name, phys);
        return NULL;
    }
    if (memcmp(t, sig, 4)) {
        report(env, "acpi: expected %s at %#lx, found '%s'; ignored", name, phys,
               printable_sig(t, shown));
        return NULL;
    }
    uint32_t len = rd32(t + 4);
    if (len < SDT_HEADER_LEN || len > TABLE_MAX_LEN) {
        report(env, "acpi: %s at %#lx claims %u bytes; ignored", name, phys, len);
        return NULL;
    }
    t = env->map(env->ctx, phys, len);
    if (!t) {
        report(env, "acpi: cannot map the %u bytes of the %s at %#lx", len, name, phys);
        return NULL;
    }
    if (!checksum_ok(t, len)) {
        report(env, "acpi: %s at %#lx has a bad checksum; ignored", name, phys);
        return NULL;
    }
    *len_out = len;
    return t;
}

static void add_cpu(struct acpi_madt *madt, uint32_t apic_id, bool enabled)
{
    /* Firmware may describe one processor twice (a type 0 and a type 9 entry): keep the first. */
    for (unsigned i = 0; i < madt->ncpus; i++)
        if (madt->cpus[i].apic_id == apic_id)
            return;
    if (madt->ncpus == ACPI_MAX_CPUS) {
        madt->noverflow++;
        return;
    }
    madt->cpus[madt->ncpus++] = (struct acpi_cpu){apic_id, enabled};
    if (enabled)
        madt->nenabled++;
}

/* Checks that the entries tile the table exactly and each is long enough for its type, so that
 * the collecting passes can read them without further checks. */
static bool entries_valid(const struct acpi_env *env, uint64_t phys, const uint8_t *t,
                          uint32_t len)
{
    for (uint32_t off = MADT_FIRST_ENTRY; off < len;) {
        if (len - off < 2) {
            report(env, "acpi: MADT at %#lx: truncated entry at offset %u; ignored", phys, off);
            return false;
        }
        uint8_t type = t[off], elen = t[off + 1];
        uint8_t need = type == MADT_LAPIC ? 8 : type == MADT_IOAPIC ? 12
                     : type == MADT_SOURCE_OVERRIDE ? 10 : type == MADT_LAPIC_OVERRIDE ? 12
                     : type == MADT_X2APIC ? 16 : 2;
        if (elen < need || elen > len - off) {
            report(env, "acpi: MADT at %#lx: entry type %u at offset %u has length %u; ignored",
                    phys, type, off, elen);
            return false;
        }
        off += elen;
    }
    return true;
}

/* Enabled processors first, so that a cap on the number of CPUs keeps the usable ones. */
static void collect(const uint8_t *t, uint32_t len, bool enabled_pass, struct acpi_madt *madt)
{
    bool online_capable_defined = t[8] >= MADT_REV_ONLINE_CAPABLE;
    for (uint32_t off = MADT_FIRST_ENTRY; off < len; off += t[off + 1]) {
        const uint8_t *e = t + off;
        uint32_t id, flags;
        if (e[0] == MADT_LAPIC) {
            id = e[3];
            flags = rd32(e + 4);
            if (id == 0xff) /* such processors are described by x2APIC entries */
                continue;
        } else if (e[0] == MADT_X2APIC) {
            id = rd32(e + 4);
            flags = rd32(e + 8);
        } else {
            if (e[0] == MADT_LAPIC_OVERRIDE && enabled_pass)
                madt->lapic_phys = rd64(e + 4);
            continue;
        }
        bool enabled = flags & MADT_ENABLED;
        bool online_capable = !enabled && online_capable_defined && (flags & MADT_ONLINE_CAPABLE);
        if (enabled_pass ? enabled : online_capable)
            add_cpu(madt, id, enabled);
    }
}

static void add_override(const struct acpi_env *env, uint64_t phys, const uint8_t *e,
                         struct acpi_madt *madt)
{
    uint8_t bus = e[2], source = e[3];
    uint32_t gsi = rd32(e + 4);
    uint16_t flags = rd16(e + 8);
    /* Bus 0 is ISA, the only one ACPI defines here; a source of 16 or more is no ISA IRQ. */
    if (bus != 0 || source >= 16) {
        report(env, "acpi: MADT at %#lx: override of bus %u IRQ %u (not ISA); ignored", phys, bus,
               source);
        return;
    }
    for (unsigned i = 0; i < madt->noverrides; i++)
        if (madt->overrides[i].source == source) {
            report(env, "acpi: MADT at %#lx: second override of ISA IRQ %u (to GSI %u); the "
                        "first (GSI %u) is kept", phys, source, gsi, madt->overrides[i].gsi);
            return;
        }
    /* Cannot overflow: one entry per source below 16. */
    _Static_assert(ACPI_MAX_OVERRIDES >= 16, "an override for every ISA IRQ");
    madt->overrides[madt->noverrides++] = (struct acpi_override){source, gsi, flags};
}

/* I/O APICs and ISA overrides, in table order. */
static void collect_routing(const struct acpi_env *env, uint64_t phys, const uint8_t *t,
                            uint32_t len, struct acpi_madt *madt)
{
    for (uint32_t off = MADT_FIRST_ENTRY; off < len; off += t[off + 1]) {
        const uint8_t *e = t + off;
        if (e[0] == MADT_SOURCE_OVERRIDE) {
            add_override(env, phys, e, madt);
        } else if (e[0] == MADT_IOAPIC) {
            if (madt->nioapics == ACPI_MAX_IOAPICS) {
                madt->nioapic_overflow++;
                continue;
            }
            madt->ioapics[madt->nioapics++] =
                (struct acpi_ioapic){e[2], rd32(e + 4), rd32(e + 8)};
        }
    }
}

static int parse_madt(const struct acpi_env *env, uint64_t phys, struct acpi_madt *madt)
{
    uint32_t len;
    const uint8_t *t = map_table(env, phys, "APIC", &len);
    if (!t)
        return ERR_INVAL;
    if (len < MADT_FIRST_ENTRY) {
        report(env, "acpi: MADT at %#lx is %u bytes, too short; ignored", phys, len);
        return ERR_INVAL;
    }
    if (!entries_valid(env, phys, t, len))
        return ERR_INVAL;
    madt->phys = phys;
    madt->lapic_phys = rd32(t + 36);
    madt->ncpus = madt->nenabled = madt->noverflow = 0;
    madt->nioapics = madt->nioapic_overflow = madt->noverrides = 0;
    collect(t, len, true, madt);
    collect(t, len, false, madt);
    collect_routing(env, phys, t, len, madt);
    return 0;
}

/* 0: a valid MADT was found through this root table; ERR_NOENT: the root is valid but lists no
 * valid MADT; ERR_INVAL: the root table itself is unusable. */
static int walk_root(const struct acpi_env *env, uint64_t phys, const char *sig,
                     unsigned entry_size, struct acpi_madt *madt)
{
    uint32_t len;
    const uint8_t *t = map_table(env, phys, sig, &len);
    if (!t)
        return ERR_INVAL;
    if ((len - SDT_HEADER_LEN) % entry_size) {
        report(env, "acpi: %s at %#lx: %u bytes of entries is not a whole number of %u-byte "
                    "pointers; ignored", sig, phys, len - SDT_HEADER_LEN, entry_size);
        return ERR_INVAL;
    }
    for (uint32_t off = SDT_HEADER_LEN; off < len; off += entry_size) {
        uint64_t entry = entry_size == 8 ? rd64(t + off) : rd32(t + off);
        if (!entry)
            continue;
        const uint8_t *h = env->map(env->ctx, entry, SDT_HEADER_LEN);
        if (!h) {
            report(env, "acpi: cannot map the table at %#lx listed by the %s", entry, sig);
            continue;
        }
        if (!memcmp(h, "APIC", 4) && !parse_madt(env, entry, madt)) {
            madt->root = sig;
            return 0;
        }
    }
    report(env, "acpi: the %s at %#lx lists no valid MADT", sig, phys);
    return ERR_NOENT;
}

int acpi_read_madt(const struct acpi_env *env, uint64_t rsdp, struct acpi_madt *madt)
{
    const uint8_t *r = env->map(env->ctx, rsdp, RSDP_V1_LEN);
    if (!r || memcmp(r, "RSD PTR ", 8) || !checksum_ok(r, RSDP_V1_LEN)) {
        report(env, "acpi: no valid RSDP at %#lx", rsdp);
        return ERR_NOENT;
    }
    uint32_t rsdt = rd32(r + 16);
    uint64_t xsdt = 0;
    if (r[15] >= 2) {
        const uint8_t *r2 = env->map(env->ctx, rsdp, RSDP_V2_LEN);
        uint32_t len = r2 ? rd32(r2 + 20) : 0;
        /* Bounded by a page: the extended structure is 36 bytes in every revision so far. */
        if (len < RSDP_V2_LEN || len > 4096 || !(r2 = env->map(env->ctx, rsdp, len)))
            report(env, "acpi: RSDP at %#lx: revision %u with length %u; using the RSDT", rsdp,
                   r[15], len);
        else if (!checksum_ok(r2, len))
            report(env, "acpi: RSDP at %#lx: bad extended checksum; using the RSDT", rsdp);
        else
            xsdt = rd64(r2 + 24);
    }
    if (xsdt) {
        int err = walk_root(env, xsdt, "XSDT", 8, madt);
        /* The XSDT supersedes the RSDT whenever it is usable (ACPI 5.2.8). */
        if (err != ERR_INVAL)
            return err;
    }
    if (!rsdt) {
        report(env, "acpi: RSDP at %#lx gives no usable RSDT or XSDT", rsdp);
        return ERR_NOENT;
    }
    return walk_root(env, rsdt, "RSDT", 4, madt) ? ERR_NOENT : 0;
}
