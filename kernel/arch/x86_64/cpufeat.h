/* CPU features, probed once through CPUID. Nothing is assumed from the CPU model: TCG's -cpu max
 * lacks x2APIC, TSC-deadline, PCID and invariant TSC; real machines have them. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct cpu_features {
    char vendor[13];
    char brand[49];
    uint32_t family, model, stepping;
    uint32_t max_leaf, max_ext_leaf;
    bool apic, x2apic, tsc_deadline, invariant_tsc, rdtscp, nx, pge, pcid, invpcid;
    bool smep, smap, xsave, fxsr, pdpe1gb, hypervisor;
};

extern struct cpu_features cpu;

void cpu_features_detect(void);
void cpu_features_log(void);
