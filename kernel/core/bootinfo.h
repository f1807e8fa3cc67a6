/* What the loader told us, copied out of the loader's structures before their memory is reused. */
#pragma once
#include <stdint.h>

#define BOOT_MAX_REGIONS 64
#define BOOT_MAX_MODULES 64
#define BOOT_CMDLINE_MAX 512

enum mem_type { MEM_USABLE = 1, MEM_RESERVED = 2, MEM_ACPI = 3, MEM_NVS = 4, MEM_BAD = 5 };

struct mem_region {
    uint64_t base, len;
    uint32_t type;
};

struct boot_module {
    uint64_t start, end; /* physical, end exclusive */
    char name[64];
};

struct boot_info {
    char cmdline[BOOT_CMDLINE_MAX];
    struct mem_region regions[BOOT_MAX_REGIONS];
    unsigned nregions;
    struct boot_module modules[BOOT_MAX_MODULES];
    unsigned nmodules;
    uint64_t mbi_phys;
    uint64_t boot_tsc; /* TSC at the first instruction of the kernel */
};

extern struct boot_info boot_info;

/* Returns 0 or a negative error after printing what was wrong with the loader's data. */
int multiboot_parse(uint32_t magic, uint32_t mbi_phys, struct boot_info *bi);
