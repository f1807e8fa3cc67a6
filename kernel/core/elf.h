/* ELF64 executable validation for user programs. Boot modules are untrusted input as far as the
 * loader is concerned (a truncated or hand-crafted file must not take the kernel down), so
 * elf_parse checks everything the loader will rely on and hands back a plain description: the
 * loader then needs no ELF knowledge and no further checks beyond its own memory limits.
 *
 * Pure C, no allocation, no kernel dependencies: it runs in the kernel and in host unit tests. */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* Loadable segments kept; a static program linked by services/libsys/user.ld has three. */
#define ELF_MAX_SEGMENTS 8
/* Program headers examined at all (loadable or not); more is a malformed or hostile file. */
#define ELF_MAX_PHDRS 64
#define ELF_PAGE_SIZE 4096u

/* On-disk structures (System V gABI), exposed so that tests can build images field by field. */
#define ELF_EI_NIDENT 16
struct elf64_ehdr {
    unsigned char e_ident[ELF_EI_NIDENT];
    uint16_t e_type, e_machine;
    uint32_t e_version;
    uint64_t e_entry, e_phoff, e_shoff;
    uint32_t e_flags;
    uint16_t e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
};

struct elf64_phdr {
    uint32_t p_type, p_flags;
    uint64_t p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
};

#define ELF_EI_CLASS   4
#define ELF_EI_DATA    5
#define ELF_EI_VERSION 6
#define ELF_CLASS64    2
#define ELF_DATA2LSB   1
#define ELF_EV_CURRENT 1
#define ELF_ET_EXEC    2
#define ELF_EM_X86_64  62

#define ELF_PT_LOAD      1
#define ELF_PT_DYNAMIC   2
#define ELF_PT_INTERP    3
#define ELF_PT_GNU_STACK 0x6474e551u

#define ELF_PF_X 1u
#define ELF_PF_W 2u
#define ELF_PF_R 4u

/* One loadable segment. The loader maps the pages covering [vaddr, vaddr + memsz) with prot,
 * copies filesz bytes from image + offset to vaddr and leaves the rest zero (bss, and the head
 * of the first page when vaddr is not page aligned). Guarantees on success:
 *   0 < memsz, filesz <= memsz, offset + filesz <= len (no wrap-around),
 *   USER_BASE <= vaddr, vaddr + memsz <= USER_TOP (no wrap-around),
 *   vaddr % ELF_PAGE_SIZE == offset % ELF_PAGE_SIZE,
 *   no two segments share a page, prot is PROT_* bits and never has both PROT_WRITE and
 *   PROT_EXEC. prot may lack PROT_READ (x86 cannot map execute-only or write-only pages, so the
 *   loader may grant read as well) and may even be 0 (a reserved, inaccessible range). */
struct elf_segment {
    uint64_t vaddr, memsz;
    uint64_t offset, filesz;
    unsigned prot;
};

struct elf_image {
    uint64_t entry; /* inside a segment whose prot has PROT_EXEC */
    unsigned nsegments;
    struct elf_segment seg[ELF_MAX_SEGMENTS]; /* in program header order */
};

/* Validates the ELF64 x86_64 static executable image[0..len) for user space and describes it in
 * *out. image need not be aligned. Returns 0, or ERR_INVAL for a malformed or unsupported file,
 * or ERR_RANGE when an address (segment or entry point) falls outside user space. When reason
 * is not NULL it receives a short static sentence fragment ("not ELF", "not x86_64",
 * "writable and executable segment", ...) on failure and NULL on success. *out is meaningful
 * only on success. Empty PT_LOAD segments (memsz 0) are checked like the others, then dropped
 * since they map nothing; other program header types are ignored, except PT_INTERP (the
 * program wants a dynamic loader we lack). */
int elf_parse(const void *image, size_t len, struct elf_image *out, const char **reason);
