#pragma once

/* Status codes for QEMU's isa-debug-exit device; QEMU exits with (code << 1) | 1. */
#define EXIT_TESTS_PASSED 0x10
#define EXIT_TESTS_FAILED 0x11
#define EXIT_PANIC        0x12

__attribute__((noreturn)) void machine_exit(unsigned code);
__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);
