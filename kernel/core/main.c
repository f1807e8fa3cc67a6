/* Kernel entry from boot.S: bring the machine up in dependency order, report how long each
 * phase took, then run the self tests the command line asks for or idle. */
#include <stdint.h>

#include "commit.h"

#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/cpufeat.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/irq.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"
#include "core/bootinfo.h"
#include "bench/kernel/kbench.h"
#include "core/bootopts.h"
#include "core/cmdline.h"
#include "core/console.h"
#include "core/panic.h"
#include "core/process.h"
#include "cap/capspace.h"
#include "ipc/kernel/ipc.h"
#include "core/selftest.h"
#include "core/syscall.h"
#include "core/thread.h"
#include "mm/frames.h"
#include "mm/layout.h"
#include "mm/memobj.h"
#include "mm/paging.h"
#include "mm/tlb.h"
#include "trace/trace.h"


void kmain(uint32_t magic, uint32_t mbi_phys, uint64_t entry_tsc);

/* Where each AP goes once smp_boot has set it up: system calls, then the scheduler, whose
 * idle thread it becomes. */
__attribute__((noreturn)) static void ap_main(unsigned index)
{
    syscall_init_cpu();
    tlb_init_cpu();
    threads_start_cpu(index);
}

void kmain(uint32_t magic, uint32_t mbi_phys, uint64_t entry_tsc)
{
    uint64_t t_cpu, t_mem, t_tsc, t_timer, t_ready;

    console_init();
    kprintf("\ntachyon %s: booting\n", TACHYON_COMMIT);
    percpu_init(0);
    gdt_init();
    trap_init();
    cpu_features_detect();
    cpu_features_log();
    t_cpu = rdtsc();

    if (multiboot_parse(magic, mbi_phys, &boot_info))
        panic("boot: unusable multiboot information");
    boot_info.boot_tsc = entry_tsc;
    const char *options = cmdline_skip_image_name(boot_info.cmdline);
    kprintf("cmdline: \"%s\"\n", options);
    int option_errors = bootopts_parse(options);

    frames_init(&boot_info);
    paging_init(&boot_info);
    tlb_init(bootopt.pcid);
    t_mem = rdtsc();

    tsc_init();
    t_tsc = rdtsc();
    option_errors += threads_init(bootopt.sched, BOOTOPT_SCHED_DEFAULT, bootopt.quantum_us);
    process_default_limits[RES_PROCESSES] = bootopt.quota_procs;
    process_default_limits[RES_THREADS] = bootopt.quota_threads;
    process_default_limits[RES_FRAMES] = bootopt.quota_mem_kib / (PAGE_SIZE / 1024);
    process_init();
    cap_quota = (unsigned)bootopt.quota_caps;
    ipc_init(bootopt.fastpath);
    memobj_init();
    syscall_init();
    apic_init();
    timer_init();
    irq_init();
    irq_enable();
    t_timer = rdtsc();
    smp_boot(bootopt.smp, ap_main);
    t_ready = rdtsc();

    kprintf("boot: TSC ticks per phase: cpu+console %lu, memory %lu, tsc calibration %lu, "
            "apic+timer %lu, smp %lu\n",
            t_cpu - entry_tsc, t_mem - t_cpu, t_tsc - t_mem, t_timer - t_tsc, t_ready - t_timer);
    kprintf("tachyon: ready in %lu us (%lu TSC ticks since kernel entry), %lu frames free\n",
            tsc_ticks_to_us(t_ready - entry_tsc), t_ready - entry_tsc, frames_free());

    /* After the ready stamp: zeroing the rings is not part of the boot path. */
    if (bootopt_given("trace") && trace_init(bootopt.trace))
        option_errors++;

    if (bootopt_given("test")) {
        unsigned status = selftest_run(bootopt.test, option_errors);
        trace_finish();
        machine_exit(status);
    }
    if (bootopt_given("bench")) {
        unsigned status = kbench_run(bootopt.bench, options, option_errors);
        trace_finish();
        machine_exit(status);
    }
    if (option_errors)
        kprintf("cmdline: %d error(s) above; continuing with defaults for those options\n",
                option_errors);
    for (;;)
        halt();
}
