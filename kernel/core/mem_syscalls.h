/* SYS_MEM_MAP / SYS_MEM_UNMAP / SYS_MEM_PROTECT on the caller's address space. Ranges are
 * values (never dereferenced): a bad one is ERR_INVAL (docs/abi.md, "Argument checking"). */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct vmspace;

/* Anonymous zeroed pages at exactly [addr, addr + len), len rounded up to pages. ERR_EXIST if
 * any page is mapped already, ERR_NOMEM out of memory or quota; on failure nothing stays mapped. */
long mem_sys_map(struct vmspace *vs, uintptr_t addr, size_t len, uint64_t prot);
/* Pages of the range that are not mapped are skipped. */
long mem_sys_unmap(struct vmspace *vs, uintptr_t addr, size_t len);
/* ERR_NOENT, changing nothing, if any page of the range is not mapped. */
long mem_sys_protect(struct vmspace *vs, uintptr_t addr, size_t len, uint64_t prot);
