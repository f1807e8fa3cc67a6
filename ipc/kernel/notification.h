/* Notifications: asynchronous signal words (DESIGN.md, kernel objects). A signal ORs bits into
 * the word and wakes the waiters; a wait collects and clears the word. An IRQ line can be
 * bound to signal a notification, which is how a user-space driver receives interrupts. */
#pragma once
#include <stdint.h>

struct process;

void notification_init(void);
long notification_sys_create(struct process *self);
long notification_sys_signal(struct process *self, uint64_t h, uint64_t bits);
long notification_sys_wait(struct process *self, uint64_t h, uint64_t ticks);
/* SYS_IRQ_BIND: every interrupt on ISA line `line` ORs `bits` into notification h (which needs
 * SEND). ERR_INVAL for a line above 15 or no bits; ERR_BUSY when another notification has the
 * line; irq_bind's errors (ERR_NOENT without an I/O APIC, ERR_INVAL for a reserved line).
 * Binding the same notification again changes the bits. Destroying the notification unbinds
 * it. Lines are edge-triggered on PC hardware; a level-triggered one is re-enabled after each
 * signal, since a user driver has no way yet to acknowledge its device. */
long notification_sys_irq_bind(struct process *self, uint64_t control, uint64_t line,
                               uint64_t h, uint64_t bits);
