/* IDT setup and the C side of every interrupt and exception. An exception nobody expects is
 * reported with everything needed to debug it (vector, error code, faulting address, all
 * registers, control registers) and ends the machine with a panic status; an armed fault_try
 * point turns it into an error return instead. */
#include "arch/x86_64/trap.h"

#include <stddef.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/percpu.h"
#include "abi/syscall.h"
#include "core/console.h"
#include "core/process.h"
#include "core/thread.h"
#include "core/panic.h"
#include "trace/trace.h"

struct __attribute__((packed)) idt_gate {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_hi;
    uint32_t reserved;
};

extern char isr_stubs[];
#define ISR_STUB_SIZE 16
#define GATE_INTERRUPT_DPL0 0x8e

static struct idt_gate idt[256];
static irq_handler handlers[256];
static uint64_t spurious_count;


static const char *const mnemonics[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS",
    "#NP", "#SS", "#GP", "#PF", "RSV", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

static const char *const names[32] = {
    "divide error", "debug", "non-maskable interrupt", "breakpoint", "overflow",
    "bound range exceeded", "invalid opcode", "device not available", "double fault",
    "coprocessor segment overrun", "invalid TSS", "segment not present",
    "stack-segment fault", "general protection fault", "page fault", "reserved",
    "x87 floating-point error", "alignment check", "machine check", "SIMD floating-point error",
    "virtualization exception", "control protection exception",
};

static void set_gate(unsigned vector, unsigned ist)
{
    uint64_t addr = (uint64_t)isr_stubs + vector * ISR_STUB_SIZE;
    idt[vector] = (struct idt_gate){
        .offset_lo = addr & 0xffff,
        .selector = SEL_KCODE,
        .ist = ist,
        .type_attr = GATE_INTERRUPT_DPL0,
        .offset_mid = (addr >> 16) & 0xffff,
        .offset_hi = addr >> 32,
    };
}

void trap_init(void)
{
    for (unsigned v = 0; v < 256; v++)
        set_gate(v, 0);
    set_gate(8, IST_DOUBLE_FAULT);
    set_gate(2, IST_NMI);
    set_gate(18, IST_MACHINE_CHECK);
    trap_init_cpu();
}

void trap_init_cpu(void)
{
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } ptr = {sizeof(idt) - 1, (uint64_t)idt};
    __asm__ volatile("lidt %0" : : "m"(ptr));
}

void trap_set_handler(unsigned vector, irq_handler fn)
{
    handlers[vector & 0xff] = fn;
}

void fault_disarm(void)
{
    this_cpu()->fault_armed = NULL;
}

void trap_dump(const struct trap_frame *f)
{
    kprintf("  rax=%016lx rbx=%016lx rcx=%016lx rdx=%016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
    kprintf("  rsi=%016lx rdi=%016lx rbp=%016lx rsp=%016lx\n", f->rsi, f->rdi, f->rbp, f->rsp);
    kprintf("  r8 =%016lx r9 =%016lx r10=%016lx r11=%016lx\n", f->r8, f->r9, f->r10, f->r11);
    kprintf("  r12=%016lx r13=%016lx r14=%016lx r15=%016lx\n", f->r12, f->r13, f->r14, f->r15);
    kprintf("  rip=%016lx cs=%04lx rflags=%08lx ss=%04lx\n", f->rip, f->cs, f->rflags, f->ss);
    kprintf("  cr0=%016lx cr2=%016lx cr3=%016lx cr4=%016lx\n", read_cr0(), read_cr2(), read_cr3(),
            read_cr4());
}

static void report_exception(const struct trap_frame *f)
{
    unsigned v = f->vector;
    const char *mn = v < 32 && mnemonics[v] ? mnemonics[v] : "#??";
    const char *name = v < 32 && names[v] ? names[v] : "reserved exception";

    kprintf("EXCEPTION %s %s (vector %lu) error=%#lx rip=%#lx", mn, name, f->vector, f->error,
            f->rip);
    if (v == VEC_PF) {
        kprintf(" addr=%#lx [%s, %s, %s%s]", read_cr2(),
                f->error & 1 ? "protection violation" : "not present",
                f->error & 2 ? "write" : (f->error & 16 ? "instruction fetch" : "read"),
                f->error & 4 ? "user" : "kernel", f->error & 8 ? ", reserved bit" : "");
    }
    kprintf(" ring=%lu\n", f->cs & 3);
    trap_dump(f);
}

static void recover(struct trap_frame *f, struct fault_ctx *ctx)
{
    ctx->vector = f->vector;
    ctx->error = f->error;
    ctx->addr = f->vector == VEC_PF ? read_cr2() : 0;
    this_cpu()->fault_armed = NULL;
    f->rbx = ctx->rbx;
    f->rbp = ctx->rbp;
    f->r12 = ctx->r12;
    f->r13 = ctx->r13;
    f->r14 = ctx->r14;
    f->r15 = ctx->r15;
    f->rsp = ctx->rsp;
    f->rip = ctx->rip;
    f->rax = f->vector + 1;
    trace_event(TR_EXC_EXIT, f->vector, f->rip);
}

void trap_dispatch(struct trap_frame *f);

void trap_dispatch(struct trap_frame *f)
{
    if (f->vector < VEC_FIRST_IRQ) {
        /* cr2 is read only when tracing: the read cannot be optimised away. */
        if (f->vector != VEC_PF)
            trace_event(TR_EXC_ENTER, f->vector, f->error);
        else if (trace_enabled(TR_PAGE_FAULT))
            trace_record(TR_PAGE_FAULT, read_cr2(), f->error);
        /* NMI and machine checks are never "expected": they are not caused by the probe. */
        struct fault_ctx *armed = this_cpu()->fault_armed;
        if (armed && (f->cs & 3) == 0 && f->vector != 2 && f->vector != 18) {
            recover(f, armed);
            return;
        }
        if (f->cs & 3) {
            /* User code faulted: its process dies, the kernel and everyone else go on. */
            kprintf("user: pid %u thread %u killed by %s at rip=%#lx addr=%#lx error=%#lx\n",
                    thread_current()->proc->pid, thread_current()->tid,
                    f->vector < 32 && mnemonics[f->vector] ? mnemonics[f->vector] : "#??",
                    f->rip, f->vector == VEC_PF ? read_cr2() : 0, f->error);
            irq_enable(); /* as on any way out of a process: it may wait for other CPUs */
            process_exit(USER_KILLED_BASE + (int)f->vector);
        }
        report_exception(f);
        panic("unhandled exception %s at rip=%#lx",
              f->vector < 32 && mnemonics[f->vector] ? mnemonics[f->vector] : "#??", f->rip);
    }
    trace_event(TR_IRQ_ENTER, f->vector, f->rip);
    if (handlers[f->vector]) {
        handlers[f->vector](f);
        trace_event(TR_IRQ_EXIT, f->vector, 0);
        /* Kill and suspend requests, and a wanted reschedule, are acted on before ring 3. */
        if (f->cs & 3)
            thread_user_return();
        return;
    }
    /* The masked 8259s can still raise spurious IRQ 7/15; count, never panic. */
    spurious_count++;
    trace_event(TR_IRQ_EXIT, f->vector, 0);
}
