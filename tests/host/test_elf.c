#include "check.h"
#include "abi/syscall.h"
#include "core/elf.h"
#include "lib/err.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A model of a small static executable, kept as structures so that each test changes one field
 * and serialises. The layout is what services/libsys/user.ld produces, shrunk:
 *   R  0x400000 (file 0x0000, 0x1000 bytes: headers and rodata)
 *   RX 0x401000 (file 0x1000, 0x800 bytes)
 *   RW 0x402000 (file 0x2000, 0x100 bytes of data, 0x3000 with bss)
 *   PT_GNU_STACK RW */
#define MAX_PH  12
#define BUF_LEN 0x2400
#define IMG_LEN 0x2100

struct model {
    struct elf64_ehdr eh;
    struct elf64_phdr ph[MAX_PH];
    unsigned nph; /* entries written at offset 64; e_phnum may say otherwise */
    size_t len;
};

static struct elf64_phdr load(uint64_t off, uint64_t vaddr, uint64_t filesz, uint64_t memsz,
                              uint32_t flags)
{
    return (struct elf64_phdr){ .p_type = ELF_PT_LOAD, .p_flags = flags, .p_offset = off,
                                .p_vaddr = vaddr, .p_paddr = vaddr, .p_filesz = filesz,
                                .p_memsz = memsz, .p_align = 0x1000 };
}

static struct model valid(void)
{
    struct model m = { .nph = 4, .len = IMG_LEN };
    memcpy(m.eh.e_ident, "\x7f" "ELF", 4);
    m.eh.e_ident[ELF_EI_CLASS] = ELF_CLASS64;
    m.eh.e_ident[ELF_EI_DATA] = ELF_DATA2LSB;
    m.eh.e_ident[ELF_EI_VERSION] = ELF_EV_CURRENT;
    m.eh.e_type = ELF_ET_EXEC;
    m.eh.e_machine = ELF_EM_X86_64;
    m.eh.e_version = ELF_EV_CURRENT;
    m.eh.e_entry = 0x401000;
    m.eh.e_phoff = sizeof(struct elf64_ehdr);
    m.eh.e_ehsize = sizeof(struct elf64_ehdr);
    m.eh.e_phentsize = sizeof(struct elf64_phdr);
    m.eh.e_phnum = 4;
    m.eh.e_shentsize = 64;
    m.ph[0] = load(0, 0x400000, 0x1000, 0x1000, ELF_PF_R);
    m.ph[1] = load(0x1000, 0x401000, 0x800, 0x800, ELF_PF_R | ELF_PF_X);
    m.ph[2] = load(0x2000, 0x402000, 0x100, 0x3000, ELF_PF_R | ELF_PF_W);
    m.ph[3] = (struct elf64_phdr){ .p_type = ELF_PT_GNU_STACK, .p_flags = ELF_PF_R | ELF_PF_W };
    return m;
}

/* Serialises into a heap block of exactly m->len bytes, so that ASan catches any read past the
 * end of the image. */
static unsigned char *serialise(const struct model *m)
{
    static unsigned char buf[BUF_LEN];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)(i * 7 + 3);
    memcpy(buf, &m->eh, sizeof(m->eh));
    memcpy(buf + sizeof(m->eh), m->ph, m->nph * sizeof(m->ph[0]));
    unsigned char *img = malloc(m->len ? m->len : 1);
    if (!img)
        abort();
    memcpy(img, buf, m->len < sizeof(buf) ? m->len : sizeof(buf));
    return img;
}

static int parse_model(const struct model *m, struct elf_image *out, const char **reason)
{
    unsigned char *img = serialise(m);
    int err = elf_parse(img, m->len, out, reason);
    free(img);
    return err;
}

TEST(elf_valid_image_is_described_exactly)
{
    struct model m = valid();
    struct elf_image im;
    const char *why = "unset";
    CHECK_EQ(parse_model(&m, &im, &why), 0);
    CHECK(why == NULL);
    CHECK_EQ(im.entry, 0x401000);
    CHECK_EQ(im.nsegments, 3);
    CHECK_EQ(im.seg[0].vaddr, 0x400000);
    CHECK_EQ(im.seg[0].memsz, 0x1000);
    CHECK_EQ(im.seg[0].offset, 0);
    CHECK_EQ(im.seg[0].filesz, 0x1000);
    CHECK_EQ(im.seg[0].prot, PROT_READ);
    CHECK_EQ(im.seg[1].vaddr, 0x401000);
    CHECK_EQ(im.seg[1].offset, 0x1000);
    CHECK_EQ(im.seg[1].prot, PROT_READ | PROT_EXEC);
    CHECK_EQ(im.seg[2].vaddr, 0x402000);
    CHECK_EQ(im.seg[2].filesz, 0x100);
    CHECK_EQ(im.seg[2].memsz, 0x3000);
    CHECK_EQ(im.seg[2].prot, PROT_READ | PROT_WRITE);
    /* reason is optional */
    CHECK_EQ(parse_model(&m, &im, NULL), 0);
}

TEST(elf_accepts_edge_cases)
{
    struct elf_image im;
    const char *why;
    struct model m;

    /* Entry on the last byte of text. */
    m = valid();
    m.eh.e_entry = 0x4017ff;
    CHECK_EQ(parse_model(&m, &im, &why), 0);

    /* A segment at the very bottom and one ending exactly at the top of user space. */
    m = valid();
    m.ph[0].p_vaddr = USER_BASE;
    m.ph[2].p_vaddr = USER_TOP - 0x3000;
    CHECK_EQ(parse_model(&m, &im, &why), 0);
    CHECK_EQ(im.seg[2].vaddr + im.seg[2].memsz, USER_TOP);

    /* Not page aligned, but congruent: the loader handles the offset within the page. */
    m = valid();
    m.ph[2] = load(0x2010, 0x402010, 0xf0, 0x2ff0, ELF_PF_R | ELF_PF_W);
    CHECK_EQ(parse_model(&m, &im, &why), 0);

    /* A valid empty PT_LOAD maps nothing and is dropped (offset == len is inside the file). */
    m = valid();
    m.ph[3] = load(IMG_LEN, 0x600100, 0, 0, ELF_PF_R);
    CHECK_EQ(parse_model(&m, &im, &why), 0);
    CHECK_EQ(im.nsegments, 3);

    /* Execute-only text and other program header types (PT_NOTE, PT_DYNAMIC, junk) pass. */
    m = valid();
    m.ph[1].p_flags = ELF_PF_X;
    m.ph[3].p_type = 4;
    m.nph = m.eh.e_phnum = 6;
    m.ph[4] = (struct elf64_phdr){ .p_type = ELF_PT_DYNAMIC, .p_offset = ~0ull };
    m.ph[5] = (struct elf64_phdr){ .p_type = 0x7fffffff, .p_vaddr = ~0ull, .p_memsz = ~0ull };
    CHECK_EQ(parse_model(&m, &im, &why), 0);
    CHECK_EQ(im.seg[1].prot, PROT_EXEC);

    /* Exactly ELF_MAX_SEGMENTS loadable segments. */
    m = valid();
    m.nph = m.eh.e_phnum = 3 + ELF_MAX_SEGMENTS - 3;
    for (unsigned i = 3; i < m.nph; i++)
        m.ph[i] = load(0, 0x500000 + 0x1000 * i, 0, 0x1000, ELF_PF_R);
    CHECK_EQ(parse_model(&m, &im, &why), 0);
    CHECK_EQ(im.nsegments, ELF_MAX_SEGMENTS);

    /* The program header table ending exactly at the end of the file. */
    m = valid();
    m.ph[0].p_filesz = 0x120;
    m.ph[1] = load(0x120, 0x401120, 0, 0x10, ELF_PF_R | ELF_PF_X);
    m.eh.e_entry = 0x401120;
    m.ph[2] = load(0x120, 0x402120, 0, 0x10, ELF_PF_R | ELF_PF_W);
    m.len = 64 + 4 * 56;
    CHECK_EQ(parse_model(&m, &im, &why), 0);
}

TEST(elf_accepts_unaligned_image)
{
    struct model m = valid();
    unsigned char *img = serialise(&m);
    unsigned char *shifted = malloc(m.len + 1);
    CHECK(shifted);
    memcpy(shifted + 1, img, m.len);
    struct elf_image im;
    int err = elf_parse(shifted + 1, m.len, &im, NULL);
    free(img);
    free(shifted);
    CHECK_EQ(err, 0);
    CHECK_EQ(im.nsegments, 3);
}

/* One invalid variant of the valid model, the error and the reason it must produce. */
struct mutation {
    const char *name;
    void (*apply)(struct model *m);
    int err;
    const char *reason;
};

#define MUT(name_, err_, reason_, body)                                                      \
    static void mut_##name_(struct model *m)                                                 \
    {                                                                                        \
        body;                                                                                \
    }
#define MUTATIONS(X)                                                                         \
    X(len_0, ERR_INVAL, "file too small for an ELF header", m->len = 0)                      \
    X(len_63, ERR_INVAL, "file too small for an ELF header", m->len = 63)                    \
    X(magic_0, ERR_INVAL, "not ELF", m->eh.e_ident[0] = 0x7e)                                \
    X(magic_1, ERR_INVAL, "not ELF", m->eh.e_ident[1] = 'e')                                 \
    X(magic_2, ERR_INVAL, "not ELF", m->eh.e_ident[2] = 0)                                   \
    X(magic_3, ERR_INVAL, "not ELF", m->eh.e_ident[3] = 0xff)                                \
    X(class_32, ERR_INVAL, "not a 64-bit ELF file", m->eh.e_ident[ELF_EI_CLASS] = 1)         \
    X(class_none, ERR_INVAL, "not a 64-bit ELF file", m->eh.e_ident[ELF_EI_CLASS] = 0)       \
    X(big_endian, ERR_INVAL, "not little-endian", m->eh.e_ident[ELF_EI_DATA] = 2)            \
    X(data_none, ERR_INVAL, "not little-endian", m->eh.e_ident[ELF_EI_DATA] = 0)             \
    X(ident_version, ERR_INVAL, "unknown ELF version", m->eh.e_ident[ELF_EI_VERSION] = 0)    \
    X(e_version, ERR_INVAL, "unknown ELF version", m->eh.e_version = 2)                      \
    X(machine_i386, ERR_INVAL, "not x86_64", m->eh.e_machine = 3)                            \
    X(machine_aarch64, ERR_INVAL, "not x86_64", m->eh.e_machine = 183)                       \
    X(type_rel, ERR_INVAL, "not an executable (ET_EXEC)", m->eh.e_type = 1)                  \
    X(type_dyn, ERR_INVAL, "not an executable (ET_EXEC)", m->eh.e_type = 3)                  \
    X(type_core, ERR_INVAL, "not an executable (ET_EXEC)", m->eh.e_type = 4)                 \
    X(ehsize, ERR_INVAL, "bad ELF header size", m->eh.e_ehsize = 52)                         \
    X(phentsize_32, ERR_INVAL, "bad program header entry size", m->eh.e_phentsize = 32)      \
    X(phentsize_57, ERR_INVAL, "bad program header entry size", m->eh.e_phentsize = 57)      \
    X(phentsize_0, ERR_INVAL, "bad program header entry size", m->eh.e_phentsize = 0)        \
    X(phnum_0, ERR_INVAL, "no program headers", m->eh.e_phnum = 0)                           \
    X(phnum_65, ERR_INVAL, "too many program headers", m->eh.e_phnum = 65)                   \
    X(phnum_xnum, ERR_INVAL, "too many program headers", m->eh.e_phnum = 0xffff)             \
    X(phoff_at_end, ERR_INVAL, "program headers outside the file", m->eh.e_phoff = IMG_LEN)  \
    X(phoff_straddles, ERR_INVAL, "program headers outside the file",                        \
      m->eh.e_phoff = IMG_LEN - 4 * 56 + 1)                                                  \
    X(phoff_wraps, ERR_INVAL, "program headers outside the file", m->eh.e_phoff = ~0ull - 8) \
    X(phoff_huge, ERR_INVAL, "program headers outside the file", m->eh.e_phoff = 1ull << 63) \
    X(truncated_phdrs, ERR_INVAL, "program headers outside the file", m->len = 64 + 100)     \
    X(interp, ERR_INVAL, "dynamically linked (has PT_INTERP)", m->ph[3].p_type = ELF_PT_INTERP) \
    X(filesz_gt_memsz, ERR_INVAL, "segment file size exceeds its memory size",               \
      m->ph[1].p_filesz = 0x801)                                                             \
    X(data_past_end, ERR_INVAL, "segment data outside the file", m->ph[2].p_filesz = 0x101)  \
    X(offset_past_end, ERR_INVAL, "segment data outside the file",                           \
      m->ph[2].p_offset = 0x3000; m->ph[2].p_vaddr = 0x403000)                               \
    X(offset_wraps, ERR_INVAL, "segment data outside the file",                              \
      m->ph[2].p_offset = ~0ull - 0xfff; m->ph[2].p_filesz = 0x2000;                         \
      m->ph[2].p_memsz = 0x3000)                                                             \
    X(vaddr_zero, ERR_RANGE, "segment outside user space",                                   \
      m->ph[0].p_vaddr = 0)                                                                  \
    X(vaddr_below_base, ERR_RANGE, "segment outside user space",                             \
      m->ph[2].p_vaddr = USER_BASE - 0x1000)                                                 \
    X(vaddr_at_top, ERR_RANGE, "segment outside user space", m->ph[2].p_vaddr = USER_TOP)    \
    X(end_past_top, ERR_RANGE, "segment outside user space",                                 \
      m->ph[2].p_vaddr = USER_TOP - 0x2000)                                                  \
    X(end_one_past_top, ERR_RANGE, "segment outside user space",                             \
      m->ph[2].p_vaddr = USER_TOP - 0x3000; m->ph[2].p_memsz = 0x3001)                       \
    X(memsz_wraps, ERR_RANGE, "segment outside user space", m->ph[2].p_memsz = ~0ull)        \
    X(vaddr_kernel, ERR_RANGE, "segment outside user space",                                 \
      m->ph[1].p_vaddr = 0xffffffff80101000; m->eh.e_entry = 0xffffffff80101000)             \
    X(vaddr_noncanonical, ERR_RANGE, "segment outside user space",                           \
      m->ph[2].p_vaddr = 0x0000800000000000)                                                 \
    X(incongruent, ERR_INVAL, "segment address and file offset differ modulo the page size", \
      m->ph[1].p_vaddr = 0x401010; m->eh.e_entry = 0x401010)                                 \
    X(incongruent_offset, ERR_INVAL,                                                         \
      "segment address and file offset differ modulo the page size", m->ph[2].p_offset = 0x1ff0) \
    X(wx_text, ERR_INVAL, "writable and executable segment",                                 \
      m->ph[1].p_flags = ELF_PF_R | ELF_PF_W | ELF_PF_X)                                     \
    X(wx_data, ERR_INVAL, "writable and executable segment",                                 \
      m->ph[2].p_flags = ELF_PF_W | ELF_PF_X)                                                \
    X(wx_empty_is_still_refused, ERR_INVAL, "writable and executable segment",               \
      m->ph[3] = load(0, 0x600000, 0, 0, ELF_PF_W | ELF_PF_X))                               \
    X(same_page, ERR_INVAL, "segments share a page",                                         \
      m->ph[2].p_vaddr = 0x401000; m->ph[2].p_offset = 0x1000)                               \
    X(overlap_below, ERR_INVAL, "segments share a page", m->ph[2].p_vaddr = 0x3ff000)        \
    X(rodata_spills_into_text_page, ERR_INVAL, "segments share a page",                      \
      m->ph[0].p_memsz = 0x1001)                                                             \
    X(text_shares_data_page, ERR_INVAL, "segments share a page",                             \
      m->ph[2] = load(0x1900, 0x401900, 0x100, 0x100, ELF_PF_R | ELF_PF_W))                  \
    X(too_many_loads, ERR_INVAL, "too many loadable segments",                               \
      m->nph = m->eh.e_phnum = ELF_MAX_SEGMENTS + 1;                                         \
      for (unsigned i = 3; i < m->nph; i++)                                                  \
          m->ph[i] = load(0, 0x500000 + 0x1000 * i, 0, 0x1000, ELF_PF_R))                    \
    X(no_loads, ERR_INVAL, "no loadable segment",                                            \
      m->ph[0].p_type = m->ph[1].p_type = m->ph[2].p_type = 0)                               \
    X(only_empty_loads, ERR_INVAL, "no loadable segment",                                    \
      m->ph[0].p_memsz = m->ph[1].p_memsz = m->ph[2].p_memsz = 0;                            \
      m->ph[0].p_filesz = m->ph[1].p_filesz = m->ph[2].p_filesz = 0)                         \
    X(entry_zero, ERR_RANGE, "entry point outside user space", m->eh.e_entry = 0)            \
    X(entry_kernel, ERR_RANGE, "entry point outside user space",                             \
      m->eh.e_entry = 0xffffffff80100000)                                                    \
    X(entry_at_top, ERR_RANGE, "entry point outside user space", m->eh.e_entry = USER_TOP)   \
    X(entry_in_rodata, ERR_INVAL, "entry point not in an executable segment",                \
      m->eh.e_entry = 0x400000)                                                              \
    X(entry_past_text, ERR_INVAL, "entry point not in an executable segment",                \
      m->eh.e_entry = 0x401800)                                                              \
    X(entry_in_data, ERR_INVAL, "entry point not in an executable segment",                  \
      m->eh.e_entry = 0x402000)                                                              \
    X(entry_unmapped, ERR_INVAL, "entry point not in an executable segment",                 \
      m->eh.e_entry = 0x600000)

MUTATIONS(MUT)

#define MUT_ENTRY(name_, err_, reason_, body) { #name_, mut_##name_, err_, reason_ },
static const struct mutation mutations[] = { MUTATIONS(MUT_ENTRY) };
#define NMUT (sizeof(mutations) / sizeof(mutations[0]))

TEST(elf_rejects_each_invalid_field)
{
    for (size_t i = 0; i < NMUT; i++) {
        struct model m = valid();
        mutations[i].apply(&m);
        struct elf_image im;
        memset(&im, 0xa5, sizeof(im));
        const char *why = NULL;
        int err = parse_model(&m, &im, &why);
        if (err != mutations[i].err || !why || strcmp(why, mutations[i].reason) != 0) {
            check_fail(__FILE__, __LINE__, "mutation %s: got %d \"%s\", want %d \"%s\"",
                       mutations[i].name, err, why ? why : "(null)", mutations[i].err,
                       mutations[i].reason);
            return;
        }
        /* Nothing to load after a failure, even for a caller that ignores the result. */
        CHECK_EQ(im.nsegments, 0);
        CHECK_EQ(im.entry, 0);
    }
}

TEST(elf_rejects_null_image)
{
    struct elf_image im;
    const char *why = NULL;
    CHECK_EQ(elf_parse(NULL, 4096, &im, &why), ERR_INVAL);
    CHECK(why != NULL);
}

/* The guarantees elf.h promises, checked from the raw bytes rather than from elf.c's logic. */
static bool invariants_hold(const unsigned char *img, size_t len, const struct elf_image *im)
{
    struct elf64_ehdr eh;
    if (len < sizeof(eh))
        return false;
    memcpy(&eh, img, sizeof(eh));
    if (memcmp(eh.e_ident, "\x7f" "ELF", 4) != 0 || eh.e_ident[ELF_EI_CLASS] != ELF_CLASS64 ||
        eh.e_machine != ELF_EM_X86_64 || eh.e_type != ELF_ET_EXEC || eh.e_entry != im->entry)
        return false;
    if (im->nsegments == 0 || im->nsegments > ELF_MAX_SEGMENTS)
        return false;
    bool entry_ok = false;
    for (unsigned i = 0; i < im->nsegments; i++) {
        const struct elf_segment *s = &im->seg[i];
        if (s->memsz == 0 || s->filesz > s->memsz || s->offset > len || s->filesz > len - s->offset)
            return false;
        if (s->vaddr < USER_BASE || s->vaddr > USER_TOP || s->memsz > USER_TOP - s->vaddr)
            return false;
        if (s->vaddr % 4096 != s->offset % 4096 || (s->prot & ~7u))
            return false;
        if ((s->prot & PROT_WRITE) && (s->prot & PROT_EXEC))
            return false;
        uint64_t first = s->vaddr / 4096, last = (s->vaddr + s->memsz - 1) / 4096;
        for (unsigned j = 0; j < i; j++) {
            const struct elf_segment *t = &im->seg[j];
            uint64_t tf = t->vaddr / 4096, tl = (t->vaddr + t->memsz - 1) / 4096;
            if (first <= tl && tf <= last)
                return false;
        }
        if ((s->prot & PROT_EXEC) && im->entry >= s->vaddr && im->entry < s->vaddr + s->memsz)
            entry_ok = true;
    }
    /* Every reported segment is, in order, a PT_LOAD header of the file. */
    unsigned k = 0;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        struct elf64_phdr ph;
        memcpy(&ph, img + eh.e_phoff + i * sizeof(ph), sizeof(ph));
        if (ph.p_type == ELF_PT_INTERP)
            return false;
        if (ph.p_type != ELF_PT_LOAD || ph.p_memsz == 0)
            continue;
        if (k == im->nsegments || ph.p_vaddr != im->seg[k].vaddr ||
            ph.p_memsz != im->seg[k].memsz || ph.p_offset != im->seg[k].offset ||
            ph.p_filesz != im->seg[k].filesz)
            return false;
        k++;
    }
    return entry_ok && k == im->nsegments;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    /* xorshift64*: deterministic across libcs, unlike rand(). */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

/* Values at and around every boundary the parser checks. */
static uint64_t interesting(void)
{
    static const uint64_t v[] = {
        0, 1, 7, 52, 56, 57, 64, 0xfff, 0x1000, 0x1001, 0x2000, 0x2100, 0x3000, 0x400000,
        0x401000, 0x402000, USER_BASE - 1, USER_TOP - 0x1000, USER_TOP - 1, USER_TOP,
        0x0000800000000000ull, 0xffff800000000000ull, 0xffffffff80000000ull,
        0x7fffffffffffffffull, 0x8000000000000000ull, ~0ull - 0x1000, ~0ull - 1, ~0ull,
    };
    return v[rnd() % (sizeof(v) / sizeof(v[0]))];
}

static void fuzz_field(struct model *m)
{
    struct elf64_phdr *ph = &m->ph[rnd() % 4];
    uint64_t delta = rnd() % 3 == 0 ? interesting() : (rnd() % 0x2001) - 0x1000;
    bool set = rnd() % 2;
    switch (rnd() % 14) {
    case 0: m->eh.e_entry = set ? interesting() : m->eh.e_entry + delta; break;
    case 1: m->eh.e_phoff = set ? interesting() : m->eh.e_phoff + (rnd() % 9) - 4; break;
    case 2: m->eh.e_phnum = (uint16_t)(set ? interesting() : rnd() % 16); break;
    case 3: m->eh.e_phentsize = (uint16_t)(set ? interesting() : rnd() % 64); break;
    case 4: ph->p_type = set ? (uint32_t)interesting() : (uint32_t)(rnd() % 4); break;
    case 5: ph->p_flags = (uint32_t)(rnd() % 8); break;
    case 6: ph->p_offset = set ? interesting() : ph->p_offset + delta; break;
    case 7: ph->p_vaddr = set ? interesting() : ph->p_vaddr + delta; break;
    case 8: ph->p_filesz = set ? interesting() : ph->p_filesz + delta; break;
    case 9: ph->p_memsz = set ? interesting() : ph->p_memsz + delta; break;
    case 10: m->len = rnd() % (IMG_LEN + 1); break;
    case 11: m->eh.e_ident[rnd() % 8] ^= (unsigned char)(1u << (rnd() % 8)); break;
    case 12: m->eh.e_machine ^= (uint16_t)(1u << (rnd() % 16)); break;
    default: /* a move that keeps congruence, so that later checks get exercised */
        ph->p_vaddr += 0x1000 * ((rnd() % 9) - 4);
        break;
    }
}

TEST(elf_fuzz_random_mutations)
{
    unsigned accepted = 0, rejected = 0;
    for (unsigned iter = 0; iter < 100000; iter++) {
        struct model m = valid();
        unsigned n = 1 + rnd() % 4;
        for (unsigned k = 0; k < n; k++)
            fuzz_field(&m);
        unsigned char *img = serialise(&m);
        /* Raw byte flips anywhere in the headers as well, beyond what the model can express. */
        if (rnd() % 4 == 0) {
            size_t hdr = 64 + m.nph * 56;
            size_t at = rnd() % (hdr < m.len ? hdr : (m.len ? m.len : 1));
            if (at < m.len)
                img[at] = (unsigned char)rnd();
        }
        struct elf_image im;
        const char *why = NULL;
        int err = elf_parse(img, m.len, &im, &why);
        if (err == 0) {
            accepted++;
            if (why != NULL || !invariants_hold(img, m.len, &im)) {
                check_fail(__FILE__, __LINE__, "iteration %u accepted an image breaking the "
                           "guarantees of elf.h", iter);
                free(img);
                return;
            }
        } else {
            rejected++;
            if ((err != ERR_INVAL && err != ERR_RANGE) || !why || !*why) {
                check_fail(__FILE__, __LINE__, "iteration %u: error %d, reason %s", iter, err,
                           why ? why : "(null)");
                free(img);
                return;
            }
        }
        free(img);
    }
    printf("  fuzz: %u accepted, %u rejected\n", accepted, rejected);
    /* A fuzzer that only ever hits the first check proves nothing about the rest. */
    CHECK(accepted > 5000);
    CHECK(rejected > 50000);
}

/* The real thing: every program the user build produced must pass, with the segments that
 * user.ld promises. Skipped (and says so) when the user programs have not been built. */
TEST(elf_accepts_built_user_programs)
{
    const char *build = getenv("BUILD");
    char dir[512], path[1024];
    snprintf(dir, sizeof(dir), "%s/user", build && *build ? build : "build");
    DIR *d = opendir(dir);
    if (!d) {
        printf("  skipped: no %s (build the user programs first)\n", dir);
        return;
    }
    unsigned checked = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
            continue;
        FILE *f = fopen(path, "rb");
        unsigned char *img = malloc((size_t)st.st_size);
        bool ok = f && img && fread(img, 1, (size_t)st.st_size, f) == (size_t)st.st_size;
        if (f)
            fclose(f);
        struct elf_image im;
        const char *why = NULL;
        int err = ok ? elf_parse(img, (size_t)st.st_size, &im, &why) : -1;
        free(img);
        if (err != 0) {
            check_fail(__FILE__, __LINE__, "%s: %s", path, ok ? why : "cannot read");
            closedir(d);
            return;
        }
        /* user.ld: text RX, rodata R, data+bss RW, in that order. */
        bool layout = im.nsegments == 3 && im.seg[0].prot == (PROT_READ | PROT_EXEC) &&
                      im.seg[1].prot == PROT_READ && im.seg[2].prot == (PROT_READ | PROT_WRITE) &&
                      im.seg[0].vaddr == 0x400000;
        if (!layout) {
            check_fail(__FILE__, __LINE__, "%s: %u segments, not the RX, R, RW of user.ld", path,
                       im.nsegments);
            closedir(d);
            return;
        }
        checked++;
    }
    closedir(d);
    printf("  %u built programs in %s parsed\n", checked, dir);
}
