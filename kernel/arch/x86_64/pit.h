#pragma once
#include <stdint.h>

/* TSC ticks per second measured against the 8254 PIT (the median of a few short windows). */
uint64_t pit_calibrate_tsc(void);
void pic_disable(void);
