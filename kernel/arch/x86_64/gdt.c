/* The GDT and TSS. Long mode ignores segment bases and limits; the GDT matters for privilege
 * levels and SYSRET, the TSS for the ring-0 stack and the IST stacks that let a double fault,
 * an NMI or a machine check run on a known-good stack. */
#include "arch/x86_64/gdt.h"

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

#define IST_STACK_SIZE 8192

static struct tss tss;
static uint64_t gdt[7];
static uint8_t ist_stacks[3][IST_STACK_SIZE] __attribute__((aligned(16)));

void gdt_init(void)
{
    uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;

    gdt[0] = 0;
    gdt[1] = 0x00af9a000000ffff; /* kernel code, 64-bit */
    gdt[2] = 0x00cf92000000ffff; /* kernel data */
    gdt[3] = 0x00cff2000000ffff; /* user data, DPL 3 */
    gdt[4] = 0x00affa000000ffff; /* user code, 64-bit, DPL 3 */
    gdt[5] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ul << 40) |
             (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    gdt[6] = base >> 32;

    memset(&tss, 0, sizeof(tss));
    for (int i = 0; i < 3; i++)
        tss.ist[i] = (uint64_t)&ist_stacks[i][IST_STACK_SIZE];
    /* No I/O bitmap: ring 3 port access faults unless IOPL says otherwise. */
    tss.iomap_base = sizeof(tss);

    struct descriptor_ptr ptr = {sizeof(gdt) - 1, (uint64_t)gdt};
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

void tss_set_rsp0(uint64_t rsp0)
{
    tss.rsp[0] = rsp0;
}
