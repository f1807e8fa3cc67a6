/* The saved state of an interrupted context, as isr.S lays it out on the stack. */
#pragma once
#include <stdint.h>

struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

#define VEC_PF           14
#define VEC_FIRST_IRQ    32
#define VEC_PIC_BASE     0x20 /* legacy 8259s, remapped here and masked */
#define VEC_APIC_TIMER   0x30
#define VEC_APIC_SPURIOUS 0xff

typedef void (*irq_handler)(struct trap_frame *frame);

void trap_init(void);
void trap_set_handler(unsigned vector, irq_handler fn);
void trap_dump(const struct trap_frame *frame);

/* Recovery point for expected exceptions; see fault_try.S. Returns 0 when armed, vector + 1
 * when an exception came back to it. The trap handler disarms it before resuming. */
struct fault_ctx {
    uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip;
    uint64_t vector, error, addr;
};
int fault_try(struct fault_ctx *ctx) __attribute__((returns_twice));
void fault_disarm(void);
