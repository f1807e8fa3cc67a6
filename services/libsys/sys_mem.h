/* libsys: memory-object stubs (included by sys.h; docs/abi.md, calls 31-33). A memory object is
 * a set of frames named by a capability, mapped whole into any address space whose owner holds
 * the capability with MAP and the access rights the mapping asks for. */
#pragma once
#include <stddef.h>

#include "abi/syscall.h"

/* A new object of `pages` zeroed pages; the handle has every right. */
static inline long sys_memobj_create(size_t pages)
{
    return sys_call1(SYS_MEMOBJ_CREATE, (long)pages);
}

/* Maps the whole object at addr (page aligned) in this process (pid 0) or a descendant. */
static inline long sys_memobj_map(cap_t obj, void *addr, unsigned prot, int pid)
{
    return sys_call4(SYS_MEMOBJ_MAP, obj, (long)addr, prot, pid);
}

/* The caller's pages [addr, addr + len) become a memory object without a copy (MEM_GRANT_MOVE
 * unmaps them here, MEM_GRANT_SHARE keeps them); returns its handle. */
static inline long sys_mem_grant(void *addr, size_t len, unsigned mode)
{
    return sys_call3(SYS_MEM_GRANT, (long)addr, (long)len, mode);
}
