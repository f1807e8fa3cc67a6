#!/usr/bin/env bash
# The one place that knows how to start QEMU for Tachyon. Everything else (make run, make test,
# benchmarks, people debugging) goes through here so that every log says exactly what ran.
#
# Usage: scripts/qemu.sh [--kernel IMAGE] [--cmdline "opts"] [--serial FILE] [--gdb]
#                        [--interactive] [--explain] [--trace FILE] [--module FILE]...
#                        [-- extra qemu args]
# Environment: ACCEL=kvm|tcg  MODE=cycles|icount  SMP (default 1)  MEM (default 128M)
#              BUILD (default build)  QEMU (default qemu-system-x86_64)  TRACE_MB (default 32)
#
# Exit status is QEMU's own, so callers see the kernel's isa-debug-exit codes:
# 33 = tests passed, 35 = tests failed, 37 = panic, 0 = triple fault/reset (-no-reboot).
# 2 = this script refused (bad option, bad ACCEL/MODE, KVM not usable, no image).
#
# --module FILE (repeatable) hands FILE to the kernel as a multiboot module, in order; the kernel
# names each module after its file's basename (docs/abi.md, "Program delivery").

# QEMU option values are comma lists ("tcg,thread=multi"), not mistaken array syntax.
# shellcheck disable=SC2054
set -euo pipefail

die() {
    echo "qemu.sh: $*" >&2
    exit 2
}

usage() {
    local rc=${1:-2}
    if ((rc == 0)); then
        sed -n '5,9p' "$0" | sed 's/^# \{0,1\}//'
    else
        sed -n '5,9p' "$0" | sed 's/^# \{0,1\}//' >&2
    fi
    exit "$rc"
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
# Make runs us from the repo root, people may not: anchor a relative BUILD at the root either way.
[[ $BUILD == /* ]] || BUILD="$ROOT/$BUILD"
QEMU=${QEMU:-qemu-system-x86_64}

kernel="$BUILD/tachyon.bin"
cmdline=""
serial=""
gdb=0
interactive=0
explain=0
trace=""
modules=()
extra=()

while (($#)); do
    case $1 in
    --kernel) (($# >= 2)) || die "--kernel needs an argument"; kernel=$2; shift 2 ;;
    --kernel=*) kernel=${1#*=}; shift ;;
    --cmdline) (($# >= 2)) || die "--cmdline needs an argument"; cmdline=$2; shift 2 ;;
    --cmdline=*) cmdline=${1#*=}; shift ;;
    --serial) (($# >= 2)) || die "--serial needs an argument"; serial=$2; shift 2 ;;
    --serial=*) serial=${1#*=}; shift ;;
    --gdb) gdb=1; shift ;;
    --interactive) interactive=1; shift ;;
    --explain) explain=1; shift ;;
    --trace) (($# >= 2)) || die "--trace needs an argument"; trace=$2; shift 2
        [[ -n $trace ]] || die "--trace needs a file name" ;;
    --trace=*) trace=${1#*=}; shift; [[ -n $trace ]] || die "--trace needs a file name" ;;
    --module) (($# >= 2)) || die "--module needs an argument"; modules+=("$2"); shift 2 ;;
    --module=*) modules+=("${1#*=}"); shift ;;
    -h | --help) usage 0 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "qemu.sh: unknown argument '$1'" >&2; usage ;;
    esac
done

[[ -n $serial && $interactive == 1 ]] && die "--serial and --interactive both want the serial port; pick one"

SMP=${SMP:-1}
MEM=${MEM:-128M}
[[ $SMP =~ ^[1-9][0-9]*$ ]] || die "SMP='$SMP' is not a positive integer"
[[ $MEM =~ ^[1-9][0-9]*[KMGTkmgt]?$ ]] || die "MEM='$MEM' is not a size like 128M or 4G"
# The trace region is a PCI BAR, and BAR sizes are powers of two.
TRACE_MB=${TRACE_MB:-32}
if ! [[ $TRACE_MB =~ ^[1-9][0-9]{0,4}$ ]] || ((TRACE_MB & (TRACE_MB - 1))); then
    die "TRACE_MB='$TRACE_MB' is not a power of two number of MiB"
fi
# QEMU splits -object values at commas.
[[ $trace != *,* ]] || die "--trace FILE must not contain a comma: '$trace'"
# -initrd takes the modules as one comma-separated list, and QEMU's multiboot loader ends each
# file name at the first space (the rest becomes the module's command line).
for m in "${modules[@]}"; do
    [[ -n $m ]] || die "--module needs a file name"
    [[ $m != *,* ]] || die "--module FILE must not contain a comma (QEMU separates modules with commas): '$m'"
    [[ $m != *[[:space:]]* ]] || die "--module FILE must not contain whitespace (QEMU ends a module's file name there): '$m'"
done

case ${MODE:-} in
"" | cycles | icount) ;;
*) die "unknown MODE='$MODE' (expected cycles or icount)" ;;
esac
case ${ACCEL:-} in
"" | kvm | tcg) ;;
*) die "unknown ACCEL='$ACCEL' (expected kvm or tcg)" ;;
esac

# /dev/kvm alone proves nothing: kvm_pvm provides one without hardware virtualization, and under it
# ring-0 is emulated and SYSCALL from ring 3 never arrives, so the kernel would misbehave in ways
# that look like kernel bugs. Only trust KVM that is backed by VT-x or AMD-V.
# Sets hw_kvm (0/1) and kvm_why (a human reason either way).
detect_kvm() {
    local flags="" provider=""
    flags=$(grep -m1 -E '^flags[[:space:]]*:' /proc/cpuinfo 2>/dev/null || true)
    for m in kvm_intel kvm_amd kvm_pvm; do
        if [[ -d /sys/module/$m ]]; then provider=$m; break; fi
    done
    local hw=0 hwwhy=""
    if [[ -d /sys/module/kvm_intel ]]; then
        hw=1; hwwhy="kvm_intel loaded"
    elif [[ -d /sys/module/kvm_amd ]]; then
        hw=1; hwwhy="kvm_amd loaded"
    elif grep -qwE 'vmx|svm' <<<"$flags"; then
        hw=1; hwwhy="CPU has $(grep -owE 'vmx|svm' <<<"$flags" | head -1)"
    fi

    hw_kvm=0
    if ((!hw)); then
        if [[ $provider == kvm_pvm ]]; then
            kvm_why="/dev/kvm is provided by kvm_pvm (software virtualization), and the CPU has no vmx/svm flag"
        elif [[ -e /dev/kvm ]]; then
            kvm_why="the CPU has no vmx/svm flag and neither kvm_intel nor kvm_amd is loaded"
        else
            kvm_why="no /dev/kvm, and the CPU has no vmx/svm flag"
        fi
    elif [[ ! -c /dev/kvm ]]; then
        kvm_why="$hwwhy, but /dev/kvm does not exist (load kvm_intel/kvm_amd)"
    elif [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
        kvm_why="$hwwhy, but /dev/kvm is not readable and writable by $(id -un) (join the kvm group)"
    else
        hw_kvm=1
        kvm_why="hardware KVM: $hwwhy"
    fi
}

# Plain `-cpu host` can die at start ("failed to set MSR 0x10a") when the host kernel refuses to
# pass IA32_ARCH_CAPABILITIES through, so try progressively less demanding models and remember
# the answer; the cache key changes whenever QEMU or the CPU does.
probe_cpu() {
    local qver model key cache line cand out rc
    qver=$("$QEMU" --version 2>/dev/null | head -1) || die "cannot run $QEMU (scripts/deps.sh test installs it)"
    model=$(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | sed 's/^[^:]*:[[:space:]]*//' || true)
    key="$qver|$model|$(uname -r)"
    cache="$BUILD/qemu-cpu-model"
    probe_log=""
    if [[ -r $cache ]]; then
        line=$(head -1 "$cache")
        if [[ ${line%$'\t'*} == "$key" && -n ${line##*$'\t'} ]]; then
            cpu_model=${line##*$'\t'}
            cpu_note="cached"
            # "-" remembers that nothing worked, so a broken KVM costs one probe, not one per boot.
            if [[ $cpu_model == - ]]; then
                probe_log="  (cached in $cache; delete it to probe again)"$'\n'
                return 1
            fi
            return 0
        fi
    fi
    for cand in host host,-arch-capabilities max; do
        set +e
        out=$(timeout 20 "$QEMU" -accel kvm -cpu "$cand" -machine q35 -display none -nodefaults \
            -S -monitor stdio <<<"quit" 2>&1)
        rc=$?
        set -e
        # QEMU reports MSR trouble as "error:" and then may or may not abort, so a zero exit
        # with an error line is still a failure.
        if ((rc == 0)) && ! grep -qiE '(^|[^a-z])error|failed to' <<<"$out"; then
            cpu_model=$cand
            cpu_note="probed"
            save_cpu_cache "$cache" "$key" "$cand"
            return 0
        fi
        probe_log+="  -cpu $cand: exit $rc: $(grep -iE 'error|failed|assert' <<<"$out" | head -2 | tr '\n' ' ')"$'\n'
    done
    save_cpu_cache "$cache" "$key" -
    return 1
}

save_cpu_cache() {
    # Write-then-rename, so two boots probing at once never leave half a line behind; a
    # read-only tree just means no cache.
    if mkdir -p "$(dirname "$1")" 2>/dev/null && printf '%s\t%s\n' "$2" "$3" 2>/dev/null >"$1.tmp.$$"; then
        mv -f "$1.tmp.$$" "$1" 2>/dev/null || true
    fi
    rm -f "$1.tmp.$$"
}

detect_kvm

# Accelerator decision. icount is a TCG feature, so asking for it implies TCG unless KVM was
# demanded explicitly, which is a contradiction.
mode=${MODE:-cycles}
case ${ACCEL:-} in
kvm)
    [[ $mode == icount ]] && die "MODE=icount needs TCG (it counts emulated instructions); it cannot run with ACCEL=kvm"
    ((hw_kvm)) || die "ACCEL=kvm refused: $kvm_why"
    accel=kvm
    accel_why="ACCEL=kvm; $kvm_why"
    ;;
tcg)
    accel=tcg
    accel_why="ACCEL=tcg"
    ;;
"")
    if [[ $mode == icount ]]; then
        accel=tcg
        accel_why="MODE=icount needs TCG"
    elif ((hw_kvm)); then
        accel=kvm
        accel_why=$kvm_why
    else
        accel=tcg
        accel_why="no hardware KVM: $kvm_why"
    fi
    ;;
esac

cpu_note=""
if [[ $accel == kvm ]]; then
    if ! probe_cpu; then
        printf 'qemu.sh: no -cpu model starts under KVM:\n%s' "$probe_log" >&2
        [[ ${ACCEL:-} == kvm ]] && die "ACCEL=kvm refused: KVM is present but QEMU cannot start a vCPU"
        accel=tcg
        accel_why="KVM present but no -cpu model starts under it; using TCG"
    fi
fi
[[ $accel == tcg ]] && cpu_model=max && cpu_note=""

# MTTCG gives each vCPU its own host thread, so SMP tests really race; icount needs the single
# round-robin thread (QEMU refuses MTTCG with icount), which is also what makes it deterministic.
accel_args=()
if [[ $accel == kvm ]]; then
    accel_args=(-accel kvm)
elif [[ $mode == icount ]]; then
    accel_args=(-accel tcg,thread=single -icount shift=0,sleep=off)
elif ((SMP > 1)); then
    accel_args=(-accel tcg,thread=multi)
else
    accel_args=(-accel tcg)
fi

summary="accel=$accel ($accel_why) mode=$mode cpu=$cpu_model${cpu_note:+ ($cpu_note)} smp=$SMP mem=$MEM"
[[ -n $trace ]] && summary+=" trace=$trace (${TRACE_MB} MiB ivshmem)"

if ((explain)); then
    echo "qemu.sh: $summary"
    echo "  accel:  $accel"
    echo "  reason: $accel_why"
    echo "  hardware_kvm: $([[ $hw_kvm == 1 ]] && echo yes || echo no) ($kvm_why)"
    echo "  mode:   $mode"
    echo "  cpu:    $cpu_model${cpu_note:+ ($cpu_note)}"
    echo "  smp:    $SMP"
    echo "  mem:    $MEM"
    echo "  kernel: $kernel${cmdline:+ (cmdline: $cmdline)}"
    echo "  trace:  ${trace:-none}${trace:+ (ivshmem-plain, $TRACE_MB MiB, backed by this file)}"
    echo "  modules: ${#modules[@]}${modules[*]:+ (${modules[*]})}"
    echo "  qemu:   $QEMU ${accel_args[*]} -cpu $cpu_model -machine q35 ..."
    exit 0
fi

command -v "$QEMU" >/dev/null 2>&1 || die "$QEMU not found (run: scripts/deps.sh test)"
[[ -f $kernel ]] || die "kernel image '$kernel' not found (run: make)"

args=("${accel_args[@]}" -cpu "$cpu_model" -machine q35
    -m "$MEM" -smp "$SMP" -no-reboot
    -display none -vga none -nodefaults
    -device isa-debug-exit,iobase=0xf4,iosize=0x04
    -kernel "$kernel")
[[ -n $cmdline ]] && args+=(-append "$cmdline")
if ((${#modules[@]})); then
    for m in "${modules[@]}"; do
        [[ -f $m && -r $m ]] || die "module '$m' is not a readable file"
    done
    args+=(-initrd "$(IFS=,; echo "${modules[*]}")")
fi

# The kernel finds this ivshmem-plain device over PCI and writes its trace rings straight into
# the file (kernel/trace/trace.c). Emptied first: QEMU maps an existing file as it is, and a
# previous run's header would otherwise pass for this run's trace if the kernel never wrote one.
if [[ -n $trace ]]; then
    : >"$trace" || die "cannot create trace file '$trace'"
    args+=(-object "memory-backend-file,id=trace,share=on,mem-path=$trace,size=${TRACE_MB}M"
        -device ivshmem-plain,memdev=trace)
fi

if ((interactive)); then
    args+=(-serial mon:stdio)
elif [[ -n $serial ]]; then
    args+=(-serial "file:$serial")
else
    args+=(-serial stdio)
fi

if ((gdb)); then
    args+=(-s -S)
    elf="$BUILD/kernel.elf"
    [[ $elf == "$ROOT"/* ]] && elf=${elf#"$ROOT"/}
    echo "qemu.sh: gdb: QEMU is stopped before the first instruction; attach with:" >&2
    echo "qemu.sh: gdb:   gdb $elf -ex 'target remote :1234'" >&2
fi

args+=("${extra[@]}")

echo "qemu.sh: $summary" >&2
# exec, so QEMU's exit status is ours and killing this pid kills QEMU.
exec "$QEMU" "${args[@]}"
