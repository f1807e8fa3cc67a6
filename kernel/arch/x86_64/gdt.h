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

#define GDT_IST_STACKS     3
#define GDT_IST_STACK_SIZE 8192

/* The boot CPU's tables, with static IST stacks (it runs before the frame allocator exists).
 * Call after percpu_init(0). */
void gdt_init(void);
/* Builds and loads CPU `index`'s GDT and TSS on the calling CPU, which must be that CPU (after
 * percpu_init(index)); ist_top[i] is the top of the stack for IST slot i + 1. */
void gdt_init_cpu(unsigned index, const uint64_t ist_top[GDT_IST_STACKS]);
/* Sets the running CPU's TSS.RSP0, the stack an interrupt from ring 3 lands on. */
void tss_set_rsp0(uint64_t rsp0);
