/* SYS_MEM_MAP / SYS_MEM_UNMAP / SYS_MEM_PROTECT on the caller's address space. Ranges are
 * values (never dereferenced): a bad one is ERR_INVAL (docs/abi.md, "Argument checking"). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vmspace;

/* Anonymous zeroed pages at exactly [addr, addr + len), len rounded up to pages. ERR_EXIST if
 * any page is mapped already, ERR_NOMEM out of memory or quota; on failure nothing stays mapped. */
long mem_sys_map(struct vmspace *vs, uintptr_t addr, size_t len, uint64_t prot);
/* Pages of the range that are not mapped are skipped; pages of memory objects go back to
 * their objects, which keep their frames. */
long mem_sys_unmap(struct vmspace *vs, uintptr_t addr, size_t len);
/* All pages or none: ERR_NOENT if a page of the range is not mapped, ERR_PERM if one belongs to
 * an object mapping made without the right prot asks for. */
long mem_sys_protect(struct vmspace *vs, uintptr_t addr, size_t len, uint64_t prot);

/* The argument rules the SYS_MEM_* calls share (and SYS_MEMOBJ_MAP, SYS_MEM_GRANT): prot a
 * non-empty subset of PROT_READ | PROT_WRITE | PROT_EXEC without W|X; a range page aligned,
 * non-empty and inside [USER_BASE, USER_TOP), whose length in pages (rounded up) is returned,
 * 0 when it is not valid. */
bool mem_prot_ok(uint64_t prot);
uint64_t mem_range_pages(uintptr_t addr, size_t len);
