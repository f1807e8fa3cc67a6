#pragma once

/* Runs the in-kernel benchmarks that filter selects, printing Google Benchmark JSON between
 * BENCH-JSON-BEGIN and BENCH-JSON-END lines; returns the machine exit code. */
unsigned kbench_run(const char *filter, const char *cmdline, int option_errors);
