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
/* ISA device lines 0-15 through the I/O APIC (irq.h). Clear of the 8259s' range, where their
 * spurious IRQ 7 and 15 can still arrive, and one priority class above the tick. */
#define VEC_ISA_FIRST    0x40
#define VEC_ISA_LAST     0x4f
/* Inter-processor interrupts, in the highest priority class so that device interrupts never hold
 * one up; their handlers are registered with apic_set_ipi_handler (apic.h). */
#define VEC_IPI_FIRST    0xf0
#define VEC_IPI_RESCHED  0xf0 /* run the scheduler: a thread was woken for this CPU */
#define VEC_IPI_CALL     0xf1 /* run a function on this CPU */
#define VEC_IPI_TLB      0xf2 /* TLB shootdown */
#define VEC_IPI_TEST     0xf3 /* the SMP self tests */
#define VEC_IPI_LAST     0xf3
#define VEC_APIC_SPURIOUS 0xff

typedef void (*irq_handler)(struct trap_frame *frame);

/* Builds the IDT (shared by all CPUs) and loads it on the boot CPU. */
void trap_init(void);
/* Loads the IDT on the calling CPU; for APs. */
void trap_init_cpu(void);
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
