/* The GDT and TSS, one pair per CPU. Long mode ignores segment bases and limits; the GDT matters
 * for privilege levels and SYSRET, the TSS for the ring-0 stack and the IST stacks that let a
 * double fault, an NMI or a machine check run on a known-good stack. Each CPU needs its own TSS
 * (LTR marks the descriptor busy, and RSP0 follows the thread running there), hence its own GDT. */
#include "arch/x86_64/gdt.h"

#include "arch/x86_64/percpu.h"
#include "lib/kstring.h"

struct __attribute__((packed)) tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
};

struct __attribute__((packed)) descriptor_ptr {
    uint16_t limit;
    uint64_t base;
};

/* A cache line or more per CPU: RSP0 is written on every context switch, and a neighbour's
 * writes must not bounce this CPU's line. */
struct cpu_tables {
    uint64_t gdt[7];
    struct tss tss;
} __attribute__((aligned(64)));

static struct cpu_tables tables[MAX_CPUS];
static uint8_t bsp_ist_stacks[GDT_IST_STACKS][GDT_IST_STACK_SIZE] __attribute__((aligned(16)));

void gdt_init_cpu(unsigned index, const uint64_t ist_top[GDT_IST_STACKS])
{
    struct cpu_tables *t = &tables[index];
    uint64_t base = (uint64_t)&t->tss, limit = sizeof(t->tss) - 1;

    t->gdt[0] = 0;
    t->gdt[1] = 0x00af9a000000ffff; /* kernel code, 64-bit */
    t->gdt[2] = 0x00cf92000000ffff; /* kernel data */
    t->gdt[3] = 0x00cff2000000ffff; /* user data, DPL 3 */
    t->gdt[4] = 0x00affa000000ffff; /* user code, 64-bit, DPL 3 */
    t->gdt[5] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ul << 40) |
                (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    t->gdt[6] = base >> 32;

    memset(&t->tss, 0, sizeof(t->tss));
    for (int i = 0; i < GDT_IST_STACKS; i++)
        t->tss.ist[i] = ist_top[i];
    /* No I/O bitmap: ring 3 port access faults unless IOPL says otherwise. */
    t->tss.iomap_base = sizeof(t->tss);
    cpus[index].tss = &t->tss;

    struct descriptor_ptr ptr = {sizeof(t->gdt) - 1, (uint64_t)t->gdt};
    __asm__ volatile("lgdt %0\n\t"
                     "mov %1, %%ds\n\t"
                     "mov %1, %%es\n\t"
                     "mov %1, %%ss\n\t"
                     "pushq %2\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "ltr %w3"
                     :
                     : "m"(ptr), "r"((uint64_t)SEL_KDATA), "i"(SEL_KCODE), "r"(SEL_TSS)
                     : "rax", "memory");
}

void gdt_init(void)
{
    uint64_t top[GDT_IST_STACKS];
    for (int i = 0; i < GDT_IST_STACKS; i++)
        top[i] = (uint64_t)&bsp_ist_stacks[i][GDT_IST_STACK_SIZE];
    gdt_init_cpu(0, top);
}

void tss_set_rsp0(uint64_t rsp0)
{
    this_cpu()->tss->rsp[0] = rsp0;
}
