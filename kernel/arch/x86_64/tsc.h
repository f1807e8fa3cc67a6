/* Timekeeping from the TSC. Under QEMU TCG with -icount shift=0 the TSC advances one tick per
 * guest instruction, so every figure derived from it is an instruction count. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct tsc_info {
    uint64_t hz;
    const char *source; /* "cpuid-0x15", "hypervisor-0x40000010", "pit" */
    bool invariant;
};

extern struct tsc_info tsc;

void tsc_init(void);
uint64_t tsc_ticks_to_us(uint64_t ticks);
void tsc_delay_us(uint64_t us);

/* A serialised read: everything before it has completed when it samples, and nothing after it
 * starts before it samples (LFENCE is dispatch-serialising on both vendors). Used on both sides of
 * a measured region. */
static inline uint64_t tsc_read_fenced(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) : : "memory");
    return ((uint64_t)hi << 32) | lo;
}
