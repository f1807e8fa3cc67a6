"""The benchmark matrix, as data: which kernel configurations `make bench` boots.

A variant is one point of the product of the axes below (IPC mechanism x scheduler x fast path),
kept only when valid() accepts it. Each axis lists only the choices whose kernel options exist
today, because the kernel rejects an unknown option and the boot would be wasted; when a choice
lands in the kernel (say `ipc=ring`), add it to its axis here and the matrix grows by itself.

An axis choice whose option is "" means "leave the option off the command line", so the kernel
default runs. The variant whose every choice is a default is called "base" and is the reference
configuration: targets are checked against it first, and it is always part of the quick matrix.

Variant names are stable identifiers: they prefix benchmark names in merged results
("base/frame_alloc/order:0") and so they are what compare.py matches across runs. A name is the
non-default labels joined by "-" (e.g. "ring-prio-nofast"), or "base".

scripts/bench.py imports this file; `scripts/bench.py list` prints the matrix.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Optional


@dataclass(frozen=True)
class Choice:
    label: str  # short, [a-z0-9_]+; goes into variant names
    option: str = ""  # kernel command-line option(s), e.g. "ipc=ring"; "" = kernel default
    # Axis choices that only make sense in quick runs too (CI): keep the quick matrix tiny.
    quick: bool = False
    description: str = ""
    # Extra environment for scripts/qemu.sh (e.g. {"SMP": "2"}); rarely needed per choice.
    env: tuple[tuple[str, str], ...] = ()

    @property
    def is_default(self) -> bool:
        return self.option == ""


@dataclass(frozen=True)
class Axis:
    name: str
    choices: tuple[Choice, ...]


# The axes. Only options the kernel parses today may appear (see kernel/core/bootopts.c).
# Planned choices, to be added as the kernel grows them:
#   ipc:      fastpath (endpoints), ring (SPSC rings), zcopy (shared buffers)      -> ipc=...
#   sched:    adaptive                                                             -> sched=...
# The fastpath axis boots with the endpoint fast path off (fastpath=off; the kernel default is on).
# ubench's ipc/*/fast and ipc/*/slow benchmarks set the path themselves (IPC_CTL_FASTPATH) and so
# measure the same in both; ipc/call_reply/inter_as/as_booted, and whatever IPC a benchmark does
# without choosing (services, later), follow the axis. Not quick: the quick matrix compares fast
# and slow within one boot already.
AXES: tuple[Axis, ...] = (
    Axis("ipc", (Choice("default", "", quick=True, description="kernel default IPC"),)),
    Axis("sched", (
        Choice("rr", "sched=rr", quick=True, description="round robin, fixed quantum"),
        Choice("prio", "sched=prio", quick=True, description="32 priority levels, O(1) bitmap pick"),
    )),
    Axis("fastpath", (
        Choice("default", "", quick=True, description="fast path as the kernel defaults (on)"),
        Choice("nofast", "fastpath=off", description="endpoint IPC fast path off from boot"),
    )),
)


def valid(combo: dict[str, Choice]) -> bool:
    """Whether a combination of axis choices is worth booting.

    Rules go here as the axes grow, for example: turning the endpoint fast path off only means
    something when the IPC mechanism uses endpoints (fastpath=off with ipc=ring is a duplicate).
    """
    fp, ipc = combo.get("fastpath"), combo.get("ipc")
    if fp is not None and ipc is not None and not fp.is_default and ipc.label in ("ring", "zcopy"):
        return False
    return True


@dataclass(frozen=True)
class Variant:
    name: str
    options: str  # kernel command-line options, without bench=
    env: dict = field(default_factory=dict)  # for scripts/qemu.sh on top of the caller's
    quick: bool = False
    description: str = ""
    # vCPUs in cycles mode; icount boots always use 1 (TCG runs icount vCPUs round-robin, so a
    # second vCPU only slows the run and measures nothing). None = the mode's default.
    smp: Optional[int] = None

    def smp_for(self, mode: str) -> int:
        if mode == "icount":
            return 1
        return self.smp if self.smp is not None else CYCLES_SMP


# DESIGN.md: the lab machines have 2 cores; benchmark with -smp 2 where vCPUs are real.
CYCLES_SMP = 2


def _name(combo: dict[str, Choice]) -> str:
    labels = [c.label for c in combo.values() if not c.is_default]
    return "-".join(labels) if labels else "base"


def _build() -> list[Variant]:
    out: list[Variant] = []
    for picks in itertools.product(*(a.choices for a in AXES)):
        combo = {a.name: c for a, c in zip(AXES, picks)}
        if not valid(combo):
            continue
        options = " ".join(c.option for c in picks if c.option)
        env: dict[str, str] = {}
        for c in picks:
            env.update(dict(c.env))
        desc = "; ".join(c.description for c in picks if c.description and not c.is_default)
        out.append(
            Variant(
                name=_name(combo),
                options=options,
                env=env,
                quick=all(c.quick for c in picks),
                description=desc or "kernel defaults (the reference configuration)",
            )
        )
    names = [v.name for v in out]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"bench/matrix.py: duplicate variant names {sorted(dup)}; make axis labels unique")
    return out


VARIANTS: list[Variant] = _build()


class UnknownVariant(ValueError):
    pass


def names() -> list[str]:
    return [v.name for v in VARIANTS]


def select(wanted: Optional[list[str]] = None, quick: bool = False) -> list[Variant]:
    """The variants to boot: the named ones (in matrix order), else the quick or full matrix."""
    if wanted:
        unknown = [w for w in wanted if w not in names()]
        if unknown:
            raise UnknownVariant(
                f"unknown variant(s): {', '.join(unknown)}; known: {', '.join(names())}"
            )
        return [v for v in VARIANTS if v.name in wanted]
    return [v for v in VARIANTS if v.quick] if quick else list(VARIANTS)


def order(name: str) -> int:
    """Matrix position of a variant name (unknown names, e.g. from an old run, sort last)."""
    try:
        return names().index(name)
    except ValueError:
        return len(VARIANTS)
