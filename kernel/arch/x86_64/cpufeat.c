#include "arch/x86_64/cpufeat.h"

#include "arch/x86_64/cpu.h"
#include "core/console.h"
#include "lib/kstring.h"

struct cpu_features cpu;

static bool bit(uint32_t reg, unsigned n)
{
    return (reg >> n) & 1;
}

void cpu_features_detect(void)
{
    uint32_t r[4];

    cpuid(0, 0, r);
    cpu.max_leaf = r[0];
    memcpy(cpu.vendor, &r[1], 4);
    memcpy(cpu.vendor + 4, &r[3], 4);
    memcpy(cpu.vendor + 8, &r[2], 4);
    cpu.vendor[12] = '\0';

    cpuid(1, 0, r);
    cpu.stepping = r[0] & 0xf;
    cpu.model = (r[0] >> 4) & 0xf;
    cpu.family = (r[0] >> 8) & 0xf;
    if (cpu.family == 0xf)
        cpu.family += (r[0] >> 20) & 0xff;
    if (cpu.family >= 6)
        cpu.model |= ((r[0] >> 16) & 0xf) << 4;
    cpu.pcid = bit(r[2], 17);
    cpu.x2apic = bit(r[2], 21);
    cpu.tsc_deadline = bit(r[2], 24);
    cpu.xsave = bit(r[2], 26);
    cpu.hypervisor = bit(r[2], 31);
    cpu.apic = bit(r[3], 9);
    cpu.pge = bit(r[3], 13);
    cpu.fxsr = bit(r[3], 24);

    if (cpu.max_leaf >= 7) {
        cpuid(7, 0, r);
        cpu.smep = bit(r[1], 7);
        cpu.invpcid = bit(r[1], 10);
        cpu.smap = bit(r[1], 20);
    }

    cpuid(0x80000000, 0, r);
    cpu.max_ext_leaf = r[0];
    if (cpu.max_ext_leaf >= 0x80000001) {
        cpuid(0x80000001, 0, r);
        cpu.nx = bit(r[3], 20);
        cpu.pdpe1gb = bit(r[3], 26);
        cpu.rdtscp = bit(r[3], 27);
    }
    if (cpu.max_ext_leaf >= 0x80000004) {
        for (uint32_t i = 0; i < 3; i++) {
            cpuid(0x80000002 + i, 0, r);
            memcpy(cpu.brand + 16 * i, r, 16);
        }
        cpu.brand[48] = '\0';
    }
    if (cpu.max_ext_leaf >= 0x80000007) {
        cpuid(0x80000007, 0, r);
        cpu.invariant_tsc = bit(r[3], 8);
    }
}

static const char *yn(bool b)
{
    return b ? "yes" : "no";
}

void cpu_features_log(void)
{
    const char *brand = cpu.brand;
    while (*brand == ' ')
        brand++;
    kprintf("cpu: %s family %u model %u stepping %u \"%s\"%s\n", cpu.vendor, cpu.family,
            cpu.model, cpu.stepping, brand, cpu.hypervisor ? " (under a hypervisor)" : "");
    kprintf("cpu: nx=%s pge=%s pcid=%s invpcid=%s smep=%s smap=%s 1g-pages=%s\n", yn(cpu.nx),
            yn(cpu.pge), yn(cpu.pcid), yn(cpu.invpcid), yn(cpu.smep), yn(cpu.smap),
            yn(cpu.pdpe1gb));
    kprintf("cpu: apic=%s x2apic=%s tsc-deadline=%s invariant-tsc=%s rdtscp=%s xsave=%s\n",
            yn(cpu.apic), yn(cpu.x2apic), yn(cpu.tsc_deadline), yn(cpu.invariant_tsc),
            yn(cpu.rdtscp), yn(cpu.xsave));
}
