/* The legacy 8254 PIT and 8259 PICs: the PIT only as a reference clock for TSC calibration, the
 * PICs only to get them out of the way of the local APIC. */
#include "arch/x86_64/pit.h"

#include "arch/x86_64/cpu.h"

#define PIT_HZ          1193182ul
#define PIT_CH2         0x42
#define PIT_CMD         0x43
#define PORT_B          0x61
#define PORT_B_GATE2    0x01
#define PORT_B_SPEAKER  0x02
#define PORT_B_OUT2     0x20
#define WINDOW_TICKS    2386 /* 2 ms: under icount every waited ns is an instruction */
#define WINDOWS         3

static uint64_t measure_window(void)
{
    outb(PORT_B, (inb(PORT_B) & ~PORT_B_SPEAKER) | PORT_B_GATE2);
    outb(PIT_CMD, 0xb0); /* channel 2, lobyte/hibyte, mode 0 (interrupt on terminal count) */
    outb(PIT_CH2, WINDOW_TICKS & 0xff);
    outb(PIT_CH2, WINDOW_TICKS >> 8);
    uint64_t start = rdtsc();
    /* Bounded: a machine without a PIT must not hang the boot. */
    for (uint64_t spin = 0; !(inb(PORT_B) & PORT_B_OUT2); spin++)
        if (spin > 100000000ul)
            return 0;
    return rdtsc() - start;
}

uint64_t pit_calibrate_tsc(void)
{
    uint64_t w[WINDOWS];
    for (int i = 0; i < WINDOWS; i++)
        w[i] = measure_window();
    for (int i = 1; i < WINDOWS; i++)
        for (int j = i; j > 0 && w[j] < w[j - 1]; j--) {
            uint64_t t = w[j];
            w[j] = w[j - 1];
            w[j - 1] = t;
        }
    return w[WINDOWS / 2] * PIT_HZ / WINDOW_TICKS;
}

void pic_disable(void)
{
    /* Remap first so that a spurious IRQ cannot arrive on an exception vector. */
    outb(0x20, 0x11);
    outb(0xa0, 0x11);
    outb(0x21, 0x20);
    outb(0xa1, 0x28);
    outb(0x21, 0x04);
    outb(0xa1, 0x02);
    outb(0x21, 0x01);
    outb(0xa1, 0x01);
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
}
