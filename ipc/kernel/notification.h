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
