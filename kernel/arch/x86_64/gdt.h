#pragma once
#include <stdint.h>

/* Selector order is fixed by SYSCALL/SYSRET: STAR expects user data right before user code. */
#define SEL_KCODE  0x08
#define SEL_KDATA  0x10
#define SEL_UDATA  0x1b
#define SEL_UCODE  0x23
#define SEL_TSS    0x28

#define IST_DOUBLE_FAULT 1
#define IST_NMI          2
#define IST_MACHINE_CHECK 3

void gdt_init(void);
void tss_set_rsp0(uint64_t rsp0);
