# Tachyon top-level build. `make` builds the kernel image; `make test` runs host unit tests and
# boot tests; see README.md for every target and variable.

BUILD     ?= build
SCHED     ?=
IPC       ?=
SMP       ?= 1
MEM       ?= 128M
CMDLINE   ?=

export ACCEL MODE SMP MEM

# Kernel-independent C: built into the kernel and, with sanitizers, into the host unit tests.
PURE_SRCS := kernel/lib/err.c kernel/lib/fmt.c kernel/core/cmdline.c \
             kernel/mm/buddy.c kernel/mm/slab.c

HOST_CC     ?= cc
HOST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -fno-omit-frame-pointer \
               -fsanitize=address,undefined -fno-sanitize-recover=all \
               -Ikernel -Itests/host
HOST_TESTS  := $(patsubst tests/host/%.c,$(BUILD)/host/%,$(wildcard tests/host/test_*.c))

.PHONY: all host-tests clean

all: kernel

host-tests: $(HOST_TESTS)

$(BUILD)/host/test_%: tests/host/test_%.c tests/host/check.c tests/host/check.h $(PURE_SRCS) \
                      $(wildcard kernel/*/*.h)
	@mkdir -p $(dir $@)
	$(HOST_CC) $(HOST_CFLAGS) -o $@ $< tests/host/check.c $(PURE_SRCS)

clean:
	rm -rf $(BUILD)
