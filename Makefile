# Tachyon top-level build. `make` builds the kernel image; `make test` runs host unit tests and
# boot tests; see README.md for every target and variable.

.DEFAULT_GOAL := all

BUILD     ?= build
SMP       ?= 1
MEM       ?= 128M
CMDLINE   ?=

export ACCEL MODE SMP MEM BUILD

# Debian's interpreter: the numpy/scipy/matplotlib the scripts use are Debian packages, and a
# python3 earlier on PATH (pyenv, venv) would not see them.
PYTHON ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || echo python3)

# Kernel-independent C: built into the kernel or into user programs and, with sanitizers, into
# the host unit tests.
PURE_SRCS := kernel/lib/err.c kernel/lib/fmt.c kernel/core/cmdline.c kernel/core/elf.c \
             kernel/arch/x86_64/acpi.c \
             kernel/mm/buddy.c kernel/mm/slab.c kernel/cap/captable.c \
             $(wildcard bench/libbench/*.c) \
             $(wildcard sched/*.c) ipc/spsc_ring.c

HOST_CC     ?= cc
HOST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -fno-omit-frame-pointer \
               -fsanitize=address,undefined -fno-sanitize-recover=all \
               -I. -Ikernel -Ibench -Itests/host
# The ring tests run real threads.
HOST_LDLIBS := -pthread
HOST_TESTS  := $(patsubst tests/host/%.c,$(BUILD)/host/%,$(wildcard tests/host/test_*.c))

# Freestanding kernel: no red zone (interrupts push onto the stack), no SSE (no FPU state is
# saved on kernel entry), kernel code model (higher half, top 2 GiB).
KCC      ?= gcc
KLD      ?= ld
KOBJCOPY ?= objcopy
COMMIT   := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
COMMIT_H := $(BUILD)/generated/commit.h
KCFLAGS  := -std=gnu11 -ffreestanding -fno-pic -fno-pie -mcmodel=kernel -mno-red-zone \
            -mgeneral-regs-only -fno-stack-protector -fno-omit-frame-pointer -fno-common \
            -O2 -g -Wall -Wextra -Werror -I. -Ikernel -Ibench -I$(BUILD)/generated -MMD -MP
KLDFLAGS := -nostdlib -static -z max-page-size=4096 -z noexecstack --no-warn-rwx-segments \
            -T kernel/arch/x86_64/linker.ld

KERNEL_SRCS := $(wildcard kernel/arch/x86_64/*.c kernel/core/*.c kernel/mm/*.c kernel/lib/*.c \
                          kernel/cap/*.c kernel/trace/*.c sched/*.c bench/libbench/*.c \
                          ipc/kernel/*.c bench/kernel/*.c tests/kernel/*.c)
KERNEL_ASM  := $(wildcard kernel/arch/x86_64/*.S)
KERNEL_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(KERNEL_SRCS)) $(patsubst %.S,$(BUILD)/%.o,$(KERNEL_ASM))
KERNEL_ELF  := $(BUILD)/kernel.elf
KERNEL_IMG  := $(BUILD)/tachyon.bin

# User programs (services/ and tests/user/), delivered to the kernel as multiboot modules.
# Included above `all`, so the default goal is named: otherwise it would be user.mk's first target.
.DEFAULT_GOAL := all
include services/user.mk

.PHONY: all kernel host-tests test bench bench-quick compare run debug deps deps-bench clean

all: kernel user

kernel: $(KERNEL_IMG)

$(KERNEL_IMG): $(KERNEL_ELF)
	@echo "  IMAGE   $@"
	@$(KOBJCOPY) -O binary $< $@

$(KERNEL_ELF): $(KERNEL_OBJS) kernel/arch/x86_64/linker.ld
	@echo "  LD      $@"
	@$(KLD) $(KLDFLAGS) -o $@ $(KERNEL_OBJS)
	@size $@ | awk 'NR==2 { printf "kernel: text %d B, data %d B, bss %d B\n", $$1, $$2, $$3 }'

# Rewritten only when the commit changes, so that objects naming it rebuild exactly then.
$(COMMIT_H): FORCE
	@mkdir -p $(dir $@)
	@echo '#define TACHYON_COMMIT "$(COMMIT)"' > $@.tmp
	@cmp -s $@.tmp $@ && rm $@.tmp || mv $@.tmp $@

.PHONY: FORCE
FORCE:

$(BUILD)/kernel/core/main.o $(BUILD)/bench/kernel/kbench.o: $(COMMIT_H)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(KCC) $(KCFLAGS) -c $< -o $@

$(BUILD)/%.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	@$(KCC) $(KCFLAGS) -D__ASSEMBLY__ -c $< -o $@

-include $(KERNEL_OBJS:.o=.d)

host-tests: $(HOST_TESTS)

$(BUILD)/host/test_%: tests/host/test_%.c tests/host/check.c $(wildcard tests/host/*.h) $(PURE_SRCS) \
                      $(wildcard kernel/*/*.h) $(wildcard ipc/*.h)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	@$(HOST_CC) $(HOST_CFLAGS) -o $@ $< tests/host/check.c $(PURE_SRCS) $(HOST_LDLIBS)

# Installs missing Debian packages (or prints the apt-get line when not root).
deps:
	@bash scripts/deps.sh test

deps-bench:
	@bash scripts/deps.sh bench

test: deps kernel user user-check host-tests
	@$(PYTHON) scripts/run_tests.py --logdir $(BUILD)/test --boot $(KERNEL_IMG) --host $(HOST_TESTS)

# Boots the benchmark matrix (bench/matrix.py) and writes results/runs/<run-id>/: raw JSON per
# boot, merged JSON, CSV, report.md and plots; results/latest points at it.
bench: deps-bench kernel user
	@$(PYTHON) scripts/bench.py run --kernel $(KERNEL_IMG) --elf $(KERNEL_ELF) $(BENCH_ARGS)

bench-quick: deps-bench kernel user
	@$(PYTHON) scripts/bench.py run --quick --kernel $(KERNEL_IMG) --elf $(KERNEL_ELF) $(BENCH_ARGS)

# BENCH=glob,... picks benchmarks, VARIANTS=a,b variants, BOOTS=N boots per variant.
BENCH_ARGS = $(if $(BENCH),--bench $(BENCH)) $(if $(VARIANTS),--variants $(VARIANTS)) \
             $(if $(BOOTS),--boots $(BOOTS))

BASE ?= results/baseline
NEW  ?= results/latest
compare: deps-bench
	@$(PYTHON) scripts/compare.py $(BASE) $(NEW)

run: deps kernel
	@scripts/qemu.sh --interactive --kernel $(KERNEL_IMG) --cmdline "$(CMDLINE)"

# QEMU stops before the first instruction and waits for gdb on :1234; see README.md.
debug: deps kernel
	@scripts/qemu.sh --interactive --gdb --kernel $(KERNEL_IMG) --cmdline "$(CMDLINE)"

clean:
	rm -rf $(BUILD)
