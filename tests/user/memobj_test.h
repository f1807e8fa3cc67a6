/* Shared by the memory object test programs (memobj_refusals, memobj_share) and their partner
 * memobj_peer: where they put mappings, the word pattern they fill pages with, and the protocol
 * memobj_peer speaks. Header-only, like ipc_test.h (a .c here would become a program). */
#pragma once
#include "ipc_test.h"

#define PAGE_WORDS (PAGE_SIZE / sizeof(uint64_t))
#define RW         (PROT_READ | PROT_WRITE)

/* Mappings go 2 GiB into the SYS_MEM_MAP area, clear of ipc_test.h's stacks and buffers; each
 * slot is 64 MiB, so that an object of up to 16,384 pages fits in one. */
#define MO_SLOT(i) ((void *)(USER_MAP_BASE + 0x80000000ul + (uint64_t)(i)*0x4000000ul))

/* Word i of a region filled with seed s: distinct per word and per seed, never 0, so that a
 * page of zeros, a page of another region or a page shifted by one all show. */
static inline uint64_t mo_word(uint64_t s, uint64_t i)
{
    return (s * 0x9E3779B97F4A7C15ull) ^ (i * 0xC2B2AE3D27D4EB4Full) ^ 0x8000000000000001ull;
}

static inline void mo_fill(void *at, uint64_t pages, uint64_t seed)
{
    volatile uint64_t *w = at;
    for (uint64_t i = 0; i < pages * PAGE_WORDS; i++)
        w[i] = mo_word(seed, i);
}

/* How many words of the region differ from the pattern of seed. */
static inline uint64_t mo_mismatches(const void *at, uint64_t pages, uint64_t seed)
{
    const volatile uint64_t *w = at;
    uint64_t bad = 0;
    for (uint64_t i = 0; i < pages * PAGE_WORDS; i++)
        bad += w[i] != mo_word(seed, i);
    return bad;
}

static inline int mo_zero(const void *at, uint64_t pages)
{
    const volatile uint64_t *w = at;
    uint64_t any = 0;
    for (uint64_t i = 0; i < pages * PAGE_WORDS; i++)
        any |= w[i];
    return any == 0;
}

/* Whether none of the `pages` pages at `at` is mapped: mapping them anonymously must succeed
 * (ERR_EXIST otherwise), and the fresh pages are zero. They are unmapped again. */
static inline int mo_unmapped(void *at, uint64_t pages)
{
    if (sys_mem_map(at, pages * PAGE_SIZE, PROT_READ) != 0)
        return 0;
    int zero = mo_zero(at, pages);
    sys_mem_unmap(at, pages * PAGE_SIZE);
    return zero;
}

/* ---- memobj_peer's protocol: spawned with sys_spawn_cap(name, prio, endpoint), it serves
 * these requests (the label) on the endpoint until MO_EXIT; each reply's w0 is the result of
 * what it did. Addresses are in the peer's own address space. ---- */
enum mo_op {
    MO_MAP = 1,  /* caps 1: a memory object; w0 addr, w1 prot. Reply w0 = sys_memobj_map's
                    result, w1 = the capability's cap_info, w2 = its handle in the peer */
    MO_CHECK,    /* w0 addr, w1 pages, w2 seed: reply w0 = mo_mismatches */
    MO_FILL,     /* w0 addr, w1 pages, w2 seed: mo_fill; reply w0 = 0 */
    MO_READ,     /* w0 addr: reply w0 = the word there (faults if it is not mapped) */
    MO_WRITE,    /* w0 addr, w1 value: stores it (faults if not writable); reply w0 = 0 */
    MO_PROTECT,  /* w0 addr, w1 len, w2 prot: reply w0 = sys_mem_protect's result */
    MO_UNMAP,    /* w0 addr, w1 len: reply w0 = sys_mem_unmap's result */
    MO_MAP_INTO, /* w0 handle, w1 addr, w2 prot, w3 pid: reply w0 = sys_memobj_map's result */
    MO_CREATE,   /* w0 pages, w1 addr, w2 seed: creates an object, maps it at addr, fills it,
                    unmaps it; reply w0 = 0 or the failing call's error, with the object's
                    capability moved to the caller (caps 1) */
    MO_GRANT,    /* w0 addr, w1 pages, w2 mode, w3 seed: maps anonymous pages at addr, fills
                    them, grants them; reply w0 = 0 or the failing call's error, with the
                    grant's capability moved to the caller (caps 1) */
    MO_EXIT,     /* reply w0 = 0, then exit 0 */
};
