/* What the kernel (bench/kernel/kbench.c), ubench and ubench's partner programs agree on.
 *
 * The kernel starts ubench after its own benchmarks, with an argument string (docs/abi.md,
 * "Process entry": rdi points at it) of ';'-separated key=value fields, each optional:
 *     filter=<the bench= filter>;hz=<TSC ticks per second>;names=<the kernel's benchmark names>
 * filter is libbench's (default all); hz becomes ticks_hz (default: libbench's 1 GHz); names is a
 * comma list that ubench hands libbench as names_elsewhere, so that it reports unknown filter
 * elements against every benchmark name of the boot while the kernel defers them. Values never
 * contain ';' (the kernel's command line does not allow it). An unknown key is an error.
 *
 * Exit status: the number of errors ubench reported as `bench: error:` lines, at most
 * UB_MAX_ERRORS (more are still reported, the status stays UB_MAX_ERRORS); anything else (a
 * fault, abort) is an error ubench did not report itself. */
#pragma once

#define UB_MODULE     "ubench"
#define UB_MAX_ERRORS 100

/* Samples per repetition: the sample buffer's size, and so the most iterations of one call of
 * a benchmark function outside warm-up. */
#define UB_SAMPLES 4096

/* `yielder` yields exactly this many times and exits 0: more than one call of yield/cross_as can
 * yield, so it outlives the measured loop; ubench counts its own yields up to the yielder's exit
 * to check that the two processes alternated. */
#define UB_YIELDER_ROUNDS (UB_SAMPLES + 256)
