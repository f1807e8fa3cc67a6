#pragma once
#include <stdbool.h>
#include <stdint.h>

#define TICK_US 1000

void apic_init(void);
void apic_eoi(void);
uint32_t apic_id(void);
bool apic_x2(void);

/* Starts the periodic kernel tick (TSC-deadline when available, else LAPIC periodic mode). */
void timer_init(void);
uint64_t timer_ticks(void);
const char *timer_mode(void);
