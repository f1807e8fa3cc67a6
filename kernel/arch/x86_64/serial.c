/* COM1, polled. Every port access is a VM exit under virtualization, so nothing on a measured
 * path may print. */
#include "arch/x86_64/serial.h"

#include "arch/x86_64/cpu.h"

#define COM1 0x3f8
#define REG_DATA 0
#define REG_IER 1
#define REG_FCR 2
#define REG_LCR 3
#define REG_MCR 4
#define REG_LSR 5
#define LSR_THR_EMPTY 0x20

void serial_init(void)
{
    outb(COM1 + REG_IER, 0x00);
    outb(COM1 + REG_LCR, 0x80); /* DLAB: next two writes set the divisor */
    outb(COM1 + REG_DATA, 0x01); /* 115200 baud */
    outb(COM1 + REG_IER, 0x00);
    outb(COM1 + REG_LCR, 0x03); /* 8N1 */
    outb(COM1 + REG_FCR, 0xc7); /* FIFOs on and cleared */
    outb(COM1 + REG_MCR, 0x03);
}

static void serial_putc(char c)
{
    /* Bounded so that a missing UART (bare metal without COM1) cannot hang the kernel. */
    for (int spin = 0; spin < 100000 && !(inb(COM1 + REG_LSR) & LSR_THR_EMPTY); spin++)
        cpu_relax();
    outb(COM1 + REG_DATA, (unsigned char)c);
}

void serial_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            serial_putc('\r');
        serial_putc(s[i]);
    }
}
