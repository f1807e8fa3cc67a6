"""Merging the Google Benchmark documents of several boots into one (scripts/bench.py): names
get the variant as a prefix, repetitions run over all boots, and the kernel's per-boot
aggregates are replaced by aggregates over everything, so compare.py sees one distribution per
benchmark."""

from __future__ import annotations

import json
import re
import statistics
import sys
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import matrix  # noqa: E402

# Fields of a benchmark entry that are not counters (everything else numeric is one).
STANDARD_FIELDS = {
    "name", "run_name", "run_type", "repetitions", "repetition_index", "threads", "iterations",
    "real_time", "cpu_time", "time_unit", "family_index", "per_family_instance_index",
    "aggregate_name", "aggregate_unit", "boot", "variant", "benchmark", "target", "samples", "label",
}
AGGREGATES = ("mean", "median", "stddev")


def iterations(doc: dict) -> list[dict]:
    return [b for b in doc.get("benchmarks", []) if b.get("run_type", "iteration") == "iteration"]


def _numeric_counters(entries: list[dict]) -> list[str]:
    return list(dict.fromkeys(k for b in entries for k, v in b.items() if k not in STANDARD_FIELDS
                              and isinstance(v, (int, float)) and not isinstance(v, bool)))


def _aggregate(fn, values: list[float]) -> float:
    if fn == "mean":
        return statistics.fmean(values)
    if fn == "median":
        return float(statistics.median(values))
    return statistics.stdev(values) if len(values) > 1 else 0.0


# Context keys that differ from boot to boot (or variant to variant): kept per boot only.
PER_BOOT_KEYS = ("variant", "boot", "commit", "tsc_source", "tsc_hz", "ticks_hz", "timer_overhead_ticks",
                 "cmdline", "ready_us", "qemu_line", "smp", "kernel_options")


def merge(boots: list[tuple[str, int, dict]], extra: Optional[dict] = None) -> dict:
    """One Google Benchmark document from (variant, boot index, kernel document) triples."""
    if not boots:
        raise ValueError("nothing to merge: no boot produced valid JSON")
    boots = sorted(boots, key=lambda t: (matrix.order(t[0]), t[0], t[1]))
    ctx = dict(boots[0][2].get("context", {}))
    for k in ("variant", "boot", "ready_us", "cmdline", "kernel_options"):
        ctx.pop(k, None)
    for key in ("mode", "unit"):
        seen = {str(d.get("context", {}).get(key)) for _, _, d in boots}
        if len(seen) > 1:
            raise ValueError(f"boots disagree on {key}: {sorted(seen)}; cannot merge them")
    ctx.update(extra or {})
    ctx["variants"] = list(dict.fromkeys(v for v, _, _ in boots))
    ctx["name_format"] = "<variant>/<kernel benchmark name>"
    ctx["boots"] = [{**{c: d.get("context", {}).get(c) for c in PER_BOOT_KEYS}, "variant": v, "boot": k}
                    for v, k, d in boots]
    commits = {b["commit"] for b in ctx["boots"] if b["commit"]}
    if len(commits) > 1:
        ctx["warning_commits"] = f"boots ran different kernels: {sorted(commits)}"

    groups: dict[str, list[dict]] = {}
    for variant, k, doc in boots:
        for b in iterations(doc):
            e = dict(b)
            e["benchmark"] = b["name"]
            e["name"] = f"{variant}/{b['name']}"
            e["run_name"] = f"{variant}/{b.get('run_name', b['name'])}"
            e["run_type"] = "iteration"
            e["variant"], e["boot"] = variant, k
            groups.setdefault(e["name"], []).append(e)
    out: list[dict] = []
    for fam, (name, entries) in enumerate(groups.items()):
        for i, e in enumerate(entries):
            e.update(repetitions=len(entries), repetition_index=i, family_index=fam,
                     per_family_instance_index=0)
            e.setdefault("threads", 1)
        out += entries
        # A skipped benchmark (libbench's lb_skip) has no time to aggregate.
        if len(entries) < 2 or any(e.get("skipped") for e in entries):
            continue
        first = entries[0]
        counters = _numeric_counters(entries)
        for agg in AGGREGATES:
            a = {"name": f"{name}_{agg}", "family_index": fam, "per_family_instance_index": 0,
                 "run_name": first["run_name"], "run_type": "aggregate", "repetitions": len(entries),
                 "threads": 1, "aggregate_name": agg, "aggregate_unit": "time",
                 "iterations": len(entries), "time_unit": first.get("time_unit", "ns"),
                 "variant": first["variant"], "benchmark": first["benchmark"]}
            if "target" in first:
                a["target"] = first["target"]
            for k in ("real_time", "cpu_time", *counters):
                vals = [e[k] for e in entries if isinstance(e.get(k), (int, float))]
                if vals:
                    a[k] = _aggregate(agg, vals)
            out.append(a)
    return {"context": ctx, "benchmarks": out}


def load_raw_dir(raw: Path) -> list[tuple[str, int, dict]]:
    got = []
    for p in sorted(raw.glob("*-boot*.json")):
        m = re.match(r"^(.*)-boot(\d+)\.json$", p.name)
        if m:
            with open(p) as f:
                got.append((m.group(1), int(m.group(2)), json.load(f)))
    return got
