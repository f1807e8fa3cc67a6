#pragma once

void console_init(void);
int kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
