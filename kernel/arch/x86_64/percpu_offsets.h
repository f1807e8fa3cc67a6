/* Offsets into struct percpu for assembly; percpu.c checks them against the structure. */
#pragma once

#define PERCPU_SELF        0
#define PERCPU_KERNEL_RSP  8
#define PERCPU_USER_RSP    16
#define PERCPU_CURRENT     32
#define PERCPU_FAULT_ARMED 48
