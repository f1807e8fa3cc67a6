#include "core/elf.h"

#include <stdbool.h>

#include "abi/syscall.h"
#include "lib/err.h"
#include "lib/kstring.h"

_Static_assert(sizeof(struct elf64_ehdr) == 64, "ELF64 header layout");
_Static_assert(sizeof(struct elf64_phdr) == 56, "ELF64 program header layout");
_Static_assert(USER_BASE % ELF_PAGE_SIZE == 0 && USER_TOP % ELF_PAGE_SIZE == 0,
               "page rounding of a segment inside user space must stay inside it");

#define PAGE_MASK ((uint64_t)ELF_PAGE_SIZE - 1)

static int fail(const char **reason, int err, const char *why)
{
    if (reason)
        *reason = why;
    return err;
}

/* [off, off + size) lies within a file of len bytes, without computing a sum that can wrap. */
static bool in_file(uint64_t off, uint64_t size, size_t len)
{
    return off <= len && size <= len - off;
}

/* Page-granular, because two segments sharing a page would need one page with two protections. */
static bool pages_overlap(const struct elf_segment *a, const struct elf_segment *b)
{
    uint64_t a_first = a->vaddr & ~PAGE_MASK, a_last = (a->vaddr + a->memsz - 1) & ~PAGE_MASK;
    uint64_t b_first = b->vaddr & ~PAGE_MASK, b_last = (b->vaddr + b->memsz - 1) & ~PAGE_MASK;
    return a_first <= b_last && b_first <= a_last;
}

static unsigned prot_of(uint32_t flags)
{
    return ((flags & ELF_PF_R) ? PROT_READ : 0) | ((flags & ELF_PF_W) ? PROT_WRITE : 0) |
           ((flags & ELF_PF_X) ? PROT_EXEC : 0);
}

/* Checks one PT_LOAD header and fills seg. Returns 0, or the error with *reason set. */
static int check_load(const struct elf64_phdr *ph, size_t len, struct elf_segment *seg,
                      const char **reason)
{
    if (ph->p_filesz > ph->p_memsz)
        return fail(reason, ERR_INVAL, "segment file size exceeds its memory size");
    if (!in_file(ph->p_offset, ph->p_filesz, len))
        return fail(reason, ERR_INVAL, "segment data outside the file");
    /* Written as differences so that a p_vaddr near 2^64 cannot wrap past the checks. */
    if (ph->p_vaddr < USER_BASE || ph->p_vaddr > USER_TOP || ph->p_memsz > USER_TOP - ph->p_vaddr)
        return fail(reason, ERR_RANGE, "segment outside user space");
    /* The loader copies file bytes to vaddr; congruence is what lets it (or a future
     * page-sharing loader) map file pages directly, and every real linker guarantees it. */
    if ((ph->p_vaddr & PAGE_MASK) != (ph->p_offset & PAGE_MASK))
        return fail(reason, ERR_INVAL, "segment address and file offset differ modulo the page size");
    if ((ph->p_flags & ELF_PF_W) && (ph->p_flags & ELF_PF_X))
        return fail(reason, ERR_INVAL, "writable and executable segment");
    seg->vaddr = ph->p_vaddr;
    seg->memsz = ph->p_memsz;
    seg->offset = ph->p_offset;
    seg->filesz = ph->p_filesz;
    seg->prot = prot_of(ph->p_flags);
    return 0;
}

static int parse(const unsigned char *file, size_t len, struct elf_image *out,
                 const char **reason)
{
    struct elf64_ehdr eh;

    if (!file || len < sizeof(eh))
        return fail(reason, ERR_INVAL, "file too small for an ELF header");
    /* Copies, not casts: a module may start at any byte, and the header fields are unaligned
     * reads otherwise (undefined behaviour in C, and a UBSan report on the host). */
    memcpy(&eh, file, sizeof(eh));

    if (eh.e_ident[0] != 0x7f || eh.e_ident[1] != 'E' || eh.e_ident[2] != 'L' ||
        eh.e_ident[3] != 'F')
        return fail(reason, ERR_INVAL, "not ELF");
    if (eh.e_ident[ELF_EI_CLASS] != ELF_CLASS64)
        return fail(reason, ERR_INVAL, "not a 64-bit ELF file");
    if (eh.e_ident[ELF_EI_DATA] != ELF_DATA2LSB)
        return fail(reason, ERR_INVAL, "not little-endian");
    if (eh.e_ident[ELF_EI_VERSION] != ELF_EV_CURRENT || eh.e_version != ELF_EV_CURRENT)
        return fail(reason, ERR_INVAL, "unknown ELF version");
    if (eh.e_machine != ELF_EM_X86_64)
        return fail(reason, ERR_INVAL, "not x86_64");
    if (eh.e_type != ELF_ET_EXEC)
        return fail(reason, ERR_INVAL, "not an executable (ET_EXEC)");
    if (eh.e_ehsize != sizeof(struct elf64_ehdr))
        return fail(reason, ERR_INVAL, "bad ELF header size");
    /* Exactly our size, not "at least": nothing produces other sizes, and accepting them would
     * mean stepping through entries whose extra fields we do not understand. */
    if (eh.e_phentsize != sizeof(struct elf64_phdr))
        return fail(reason, ERR_INVAL, "bad program header entry size");
    if (eh.e_phnum == 0)
        return fail(reason, ERR_INVAL, "no program headers");
    if (eh.e_phnum > ELF_MAX_PHDRS)
        return fail(reason, ERR_INVAL, "too many program headers");
    /* phnum <= 64, so the table size cannot overflow. */
    if (!in_file(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(struct elf64_phdr), len))
        return fail(reason, ERR_INVAL, "program headers outside the file");

    for (unsigned i = 0; i < eh.e_phnum; i++) {
        struct elf64_phdr ph;
        memcpy(&ph, file + eh.e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
        if (ph.p_type == ELF_PT_INTERP)
            return fail(reason, ERR_INVAL, "dynamically linked (has PT_INTERP)");
        if (ph.p_type != ELF_PT_LOAD)
            continue;

        struct elf_segment seg;
        int err = check_load(&ph, len, &seg, reason);
        if (err)
            return err;
        if (seg.memsz == 0)
            continue;
        if (out->nsegments == ELF_MAX_SEGMENTS)
            return fail(reason, ERR_INVAL, "too many loadable segments");
        for (unsigned j = 0; j < out->nsegments; j++)
            if (pages_overlap(&seg, &out->seg[j]))
                return fail(reason, ERR_INVAL, "segments share a page");
        out->seg[out->nsegments++] = seg;
    }
    if (out->nsegments == 0)
        return fail(reason, ERR_INVAL, "no loadable segment");

    /* Range first so that a kernel-space entry point is reported as what it is. */
    if (eh.e_entry < USER_BASE || eh.e_entry >= USER_TOP)
        return fail(reason, ERR_RANGE, "entry point outside user space");
    bool entry_ok = false;
    for (unsigned j = 0; j < out->nsegments; j++) {
        const struct elf_segment *s = &out->seg[j];
        if ((s->prot & PROT_EXEC) && eh.e_entry >= s->vaddr && eh.e_entry - s->vaddr < s->memsz)
            entry_ok = true;
    }
    if (!entry_ok)
        return fail(reason, ERR_INVAL, "entry point not in an executable segment");
    out->entry = eh.e_entry;
    return 0;
}

int elf_parse(const void *image, size_t len, struct elf_image *out, const char **reason)
{
    if (reason)
        *reason = NULL;
    memset(out, 0, sizeof(*out));
    int err = parse(image, len, out, reason);
    /* A caller that forgets to check the result must find nothing to load. */
    if (err)
        memset(out, 0, sizeof(*out));
    return err;
}
