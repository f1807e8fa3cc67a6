# User programs, included by the top-level Makefile (`include services/user.mk`).
#
# Every program becomes a static ELF64 executable $(BUILD)/user/<name>, where <name> is also the
# boot module name SYS_SPAWN takes:
#   services/<dir>/*.c  -> <dir>   (one program per service directory; libsys is the library)
#   tests/user/<name>.c -> <name>  (one file per test program)
#   bench/user/*.c      -> ubench  (user-space benchmarks, with libbench built for user space:
#                                   every file registers into ubench's own lb_benchmarks section)
#   bench/user/partners/<name>.c -> <name> (programs ubench spawns as its benchmark partners)
# Each links crt0 and the archive libsys.a: libsys, the transport interface, the kernel's
# freestanding fmt.c, string.c and err.c and the SPSC ring, built again with user flags (the
# kernel's objects use -mcmodel=kernel and cannot be linked at 0x400000); programs that use the
# transport interface also get every transport implementation (libtransports.a, see below).
#
# Defines: USER_PROGRAMS (names), USER_BINS (paths), USER_MODULE_ARGS (--module flags for
# scripts/qemu.sh), and the targets `user` (build them all) and `user-check` (readelf: no RWX).

BUILD ?= build

USER_CC     ?= gcc
USER_AR     ?= ar
USER_NM     ?= nm
# Red zone allowed: interrupts and exceptions in ring 3 switch to the kernel stack (TSS.RSP0),
# so nothing writes below a user rsp. SSE allowed: the kernel saves FPU state per thread.
# Unwind tables off so that user.ld has no .eh_frame to place.
USER_CFLAGS := -std=gnu11 -ffreestanding -fno-pic -fno-pie -fno-stack-protector -fno-common \
               -fno-asynchronous-unwind-tables -fno-unwind-tables -O2 -g \
               -Wall -Wextra -Werror -I. -Ikernel -Ibench -Iservices/libsys -MMD -MP
USER_LD_SCRIPT := services/libsys/user.ld
# --orphan-handling=error: a section user.ld does not place would otherwise land in whatever
# segment ld picks, possibly making one both writable and executable.
USER_LDFLAGS := -nostdlib -static -no-pie -Wl,-T,$(USER_LD_SCRIPT) -Wl,-z,max-page-size=4096 \
                -Wl,-z,noexecstack -Wl,--build-id=none -Wl,--orphan-handling=error

USER_OBJDIR   := $(BUILD)/user/obj
# ipc/spsc_ring.c is the SPSC ring (docs/ipc-ring.md): pure C that user programs share memory with.
USER_LIB_SRCS := services/libsys/crt0.S $(wildcard services/libsys/*.c) kernel/lib/fmt.c \
                 kernel/lib/string.c kernel/lib/err.c ipc/spsc_ring.c
USER_LIB_OBJS := $(addprefix $(USER_OBJDIR)/,$(addsuffix .o,$(basename $(USER_LIB_SRCS))))

# Programs link crt0 and then archives, so that each carries only the library code it uses
# (process creation copies every loaded byte: a program that never calls the transports should
# not pay for them). The transport implementations register themselves in a linker section
# that nothing names, so no archive lookup would ever pull them in: a program that refers to
# the transport interface gets all of them whole, the others none.
USER_CRT0_OBJ      := $(USER_OBJDIR)/services/libsys/crt0.o
USER_TRANSPORT_IMPL := $(filter-out %/transport.o,$(filter $(USER_OBJDIR)/services/libsys/transport%.o,$(USER_LIB_OBJS)))
USER_LIBSYS_A      := $(BUILD)/user/lib/libsys.a
USER_TRANSPORTS_A  := $(BUILD)/user/lib/libtransports.a
USER_LIBS          := $(USER_CRT0_OBJ) $(USER_LIBSYS_A) $(USER_TRANSPORTS_A)

USER_SERVICE_DIRS := $(filter-out libsys,$(notdir $(patsubst %/,%,$(dir $(wildcard services/*/*.c)))))
USER_SERVICE_DIRS := $(sort $(USER_SERVICE_DIRS))
USER_TEST_SRCS    := $(wildcard tests/user/*.c)
USER_BENCH_SRCS   := $(wildcard bench/user/*.c) $(wildcard bench/libbench/*.c)
USER_PARTNER_SRCS := $(wildcard bench/user/partners/*.c)
USER_PROGRAMS     := $(USER_SERVICE_DIRS) $(notdir $(basename $(USER_TEST_SRCS))) ubench \
                     $(notdir $(basename $(USER_PARTNER_SRCS)))
USER_BINS         := $(addprefix $(BUILD)/user/,$(USER_PROGRAMS))
USER_MODULE_ARGS   = $(foreach b,$(USER_BINS),--module $(b))

# Module names must be unique: the kernel finds programs by name.
ifneq ($(words $(USER_PROGRAMS)),$(words $(sort $(USER_PROGRAMS))))
$(error user.mk: two user programs share a name: $(USER_PROGRAMS))
endif

.PHONY: user user-check
user: $(USER_BINS)

user-check: $(USER_BINS)
	@for f in $(USER_BINS); do \
	    if readelf -lW $$f | grep -E '^ +LOAD' | grep -qE ' RWE '; then \
	        echo "user-check: $$f has a writable and executable segment" >&2; exit 1; \
	    fi; \
	done; echo "user-check: $(words $(USER_BINS)) programs, no RWX segment"

# Shorter stems win in GNU make, so these rules beat the kernel's $(BUILD)/%.o ones.
$(USER_OBJDIR)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  UCC     $<"
	@$(USER_CC) $(USER_CFLAGS) -c $< -o $@

$(USER_OBJDIR)/%.o: %.S
	@mkdir -p $(dir $@)
	@echo "  UAS     $<"
	@$(USER_CC) $(USER_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

$(USER_LIBSYS_A): $(filter-out $(USER_CRT0_OBJ) $(USER_TRANSPORT_IMPL),$(USER_LIB_OBJS))
	@mkdir -p $(dir $@)
	@echo "  UAR     $@"
	@rm -f $@ && $(USER_AR) rcs $@ $^

$(USER_TRANSPORTS_A): $(USER_TRANSPORT_IMPL)
	@mkdir -p $(dir $@)
	@echo "  UAR     $@"
	@rm -f $@ && $(USER_AR) rcs $@ $^

define USER_LINK
	@mkdir -p $(dir $@)
	@echo "  ULD     $@"
	@objs="$(filter-out $(USER_CRT0_OBJ),$(filter %.o,$^))"; \
	 impl=; if $(USER_NM) -u $$objs | grep -q ' transport_'; then \
	     impl="-Wl,--whole-archive $(USER_TRANSPORTS_A) -Wl,--no-whole-archive"; fi; \
	 $(USER_CC) $(USER_LDFLAGS) -o $@ $(USER_CRT0_OBJ) $$objs $$impl $(USER_LIBSYS_A)
endef

$(patsubst tests/user/%.c,$(BUILD)/user/%,$(USER_TEST_SRCS)): \
$(BUILD)/user/%: $(USER_OBJDIR)/tests/user/%.o $(USER_LIBS) $(USER_LD_SCRIPT)
	$(USER_LINK)

define USER_SERVICE_RULE
$(BUILD)/user/$(1): $(patsubst %.c,$(USER_OBJDIR)/%.o,$(wildcard services/$(1)/*.c)) \
                    $(USER_LIBS) $(USER_LD_SCRIPT)
	$$(USER_LINK)
endef
$(foreach d,$(USER_SERVICE_DIRS),$(eval $(call USER_SERVICE_RULE,$(d))))

$(BUILD)/user/ubench: $(patsubst %.c,$(USER_OBJDIR)/%.o,$(USER_BENCH_SRCS)) $(USER_LIBS) \
                      $(USER_LD_SCRIPT)
	$(USER_LINK)

$(patsubst bench/user/partners/%.c,$(BUILD)/user/%,$(USER_PARTNER_SRCS)): \
$(BUILD)/user/%: $(USER_OBJDIR)/bench/user/partners/%.o $(USER_LIBS) $(USER_LD_SCRIPT)
	$(USER_LINK)

USER_ALL_OBJS := $(USER_LIB_OBJS) \
                 $(patsubst %.c,$(USER_OBJDIR)/%.o,$(USER_TEST_SRCS) \
                 $(USER_BENCH_SRCS) $(USER_PARTNER_SRCS) \
                 $(foreach d,$(USER_SERVICE_DIRS),$(wildcard services/$(d)/*.c)))
-include $(USER_ALL_OBJS:.o=.d)
