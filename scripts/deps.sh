#!/usr/bin/env bash
# Installs the Debian packages a task needs, and nothing when they are already there (so CI and
# `make` can call it every time at the cost of a few dpkg-query calls).
#
# Usage: scripts/deps.sh test|bench
#   test:  build the kernel and host tests, boot under QEMU
#   bench: test + plotting, statistics and Google Benchmark's compare.py
set -euo pipefail

test_pkgs=(gcc make binutils python3 qemu-system-x86)
bench_pkgs=("${test_pkgs[@]}" gnuplot-nox python3-matplotlib python3-numpy python3-scipy
    libbenchmark-tools)

case ${1:-} in
test) want=("${test_pkgs[@]}") ;;
bench) want=("${bench_pkgs[@]}") ;;
*)
    echo "deps.sh: unknown group '${1:-}' (expected: test or bench)" >&2
    exit 2
    ;;
esac
(($# == 1)) || { echo "deps.sh: expected exactly one group, got: $*" >&2; exit 2; }

missing=()
for p in "${want[@]}"; do
    # "${Status}" ends in "installed" only for a fully installed package; half-configured or
    # removed-but-config-left packages must be (re)installed too.
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ $status == *" installed" ]] || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

install_cmd="DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if ((EUID != 0)); then
    echo "deps.sh: missing Debian packages: ${missing[*]}" >&2
    echo "deps.sh: run as root:" >&2
    echo "  apt-get update && $install_cmd" >&2
    exit 1
fi

echo "deps.sh: installing ${missing[*]}" >&2
# Another apt (unattended-upgrades, a parallel job) may hold the dpkg lock for a while on a fresh
# machine; waiting beats failing the whole CI run.
lock_wait=(-o DPkg::Lock::Timeout=600)
apt-get "${lock_wait[@]}" update -q
DEBIAN_FRONTEND=noninteractive apt-get "${lock_wait[@]}" install -y -q --no-install-recommends \
    "${missing[@]}"

still=()
for p in "${missing[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ $status == *" installed" ]] || still+=("$p")
done
if ((${#still[@]})); then
    echo "deps.sh: still not installed after apt-get: ${still[*]}" >&2
    exit 1
fi
