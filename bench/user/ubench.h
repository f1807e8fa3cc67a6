/* What the benchmark files of bench/user/ share besides libbench and libsys. */
#pragma once
#include <stddef.h>

#include "user/ubench_abi.h"

/* Stack size of the threads the benchmarks start. */
#define UB_STACK_SIZE (16 * 1024)

/* len bytes (rounded up to pages) of address space that nothing maps, followed by an unmapped
 * guard page, for a benchmark to map into itself (SYS_MEM_MAP, SYS_MEMOBJ_MAP); NULL when the
 * window is used up. Never given back. */
void *ub_reserve(size_t len);

/* len bytes (rounded up to pages) of fresh read-write memory from SYS_MEM_MAP, each mapping
 * followed by an unmapped guard page; NULL when the kernel refuses. Never given back: the
 * benchmarks map their stacks once. */
void *ub_map(size_t len);

/* A message for lb_fail that outlives the benchmark call (libbench keeps the pointer until it
 * reports it); each call overwrites the previous message. */
const char *ub_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
