#!/usr/bin/env python3
"""Statistics, CSV and the Markdown report for one benchmark run.

    scripts/bench_report.py RUN_DIR|MERGED.json [--out report.md] [--csv summary.csv]
                            [--variant NAME] [--elf build/kernel.elf]

Reads RUN_DIR/merged.json (written by scripts/bench.py) and writes RUN_DIR/summary.csv and
RUN_DIR/report.md. Every row of TARGETS.md (bench/targets.py) gets a verdict: met, missed, or
not yet measured with what is missing. Exit status: 0 when the report was written (missed
targets included), 2 when the input is unusable.

Statistics are over the pooled per-operation samples of every repetition of every boot; when a
benchmark carries no samples, over its per-repetition counters instead (median of ticks_median,
max of ticks_max, ...), and the CSV's "source" column says which. Values are in ticks: guest
instructions in icount mode, TSC cycles in cycles mode. Percentiles interpolate linearly
between order statistics (numpy's default), so they can be compared with plots made by numpy.

Also a library: load(), collect(), summarize() and rep_values() serve compare.py and
bench_plot.py, and need() re-runs a script under Debian's python3 when the current interpreter
lacks numpy/scipy/matplotlib (a pyenv python on PATH would otherwise break `make bench`).
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import targets as T  # noqa: E402
from kernel_size import kernel_size  # noqa: E402

DEBIAN_PYTHON = "/usr/bin/python3"
TICK_COUNTERS = ("ticks_median", "ticks_p90", "ticks_p99", "ticks_p999", "ticks_min", "ticks_max",
                 "ticks_mean", "ticks_stddev")
CSV_FIELDS = ("variant", "benchmark", "unit", "median", "p90", "p99", "p999", "min", "max", "mean",
              "stddev", "boots", "repetitions", "samples", "boot_median_min", "boot_median_max",
              "target", "source")
_SIZE = re.compile(r"(?:^|/)size:(\d+)(?:/|$)")


def need(*modules: str) -> None:
    """Make sure the modules import, re-running this script under Debian's python3 if needed."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if not missing:
        return
    same = os.path.realpath(sys.executable) == os.path.realpath(DEBIAN_PYTHON)
    if not same and os.environ.get("TACHYON_REEXEC") != "1" and os.access(DEBIAN_PYTHON, os.X_OK):
        os.environ["TACHYON_REEXEC"] = "1"
        os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON, os.path.abspath(sys.argv[0]), *sys.argv[1:]])
    pkgs = " ".join(f"python3-{m}" for m in missing)
    print(f"{os.path.basename(sys.argv[0])}: needs {', '.join(missing)} ({pkgs}); "
          f"run: bash scripts/deps.sh bench", file=sys.stderr)
    sys.exit(2)


def first_line(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=30).stdout
        return out.decode(errors="replace").splitlines()[0].strip()
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return ""


def host_cpu() -> str:
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                return ln.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


class LoadError(Exception):
    pass


def load(path: str | Path) -> dict:
    """A merged document from a run directory or a JSON file, with a clear error otherwise."""
    p = Path(path)
    if p.is_dir():
        if not (p / "merged.json").is_file():
            raise LoadError(f"{p}: no merged.json in this directory (not a finished run? "
                            f"try: scripts/bench.py merge {p})")
        p = p / "merged.json"
    if not p.is_file():
        raise LoadError(f"{p}: no such file or directory")
    try:
        doc = json.loads(p.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise LoadError(f"{p}: invalid JSON: {e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("benchmarks"), list):
        raise LoadError(f"{p}: not a Google Benchmark document (no \"benchmarks\" array)")
    doc.setdefault("context", {})
    return doc


def ticks_per_ns(ctx: dict) -> Optional[float]:
    if ctx.get("mode") == "icount":
        return 1.0  # the guest TSC runs at 1 GHz under -icount shift=0, by construction
    hz = num(ctx.get("ticks_hz")) or num(ctx.get("tsc_hz"))
    return hz / 1e9 if hz and hz > 0 else None


def num(v) -> Optional[float]:
    """A context number; libbench writes some (tsc_hz) as strings."""
    try:
        return float(v) if v is not None and not isinstance(v, bool) else None
    except (TypeError, ValueError):
        return None


def unit_of(ctx: dict) -> str:
    return ctx.get("unit") or "ticks"


def commit_of(ctx: dict) -> str:
    return str(ctx.get("commit") or ctx.get("kernel_commit") or "?")


def percentile(sorted_vals: list[float], q: float) -> float:
    n = len(sorted_vals)
    pos = (n - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (pos - lo)


@dataclass
class Series:
    variant: str
    benchmark: str
    entries: list[dict] = field(default_factory=list)
    target: Optional[str] = None

    @property
    def key(self) -> str:
        return f"{self.variant}/{self.benchmark}" if self.variant else self.benchmark

    def samples(self) -> list[float]:
        return [v for e in self.entries for v in (e.get("samples") or [])]

    def counter(self, name: str) -> Optional[float]:
        vals = [e[name] for e in self.entries if isinstance(e.get(name), (int, float))]
        return float(statistics.median(vals)) if vals else None

    def counter_names(self) -> list[str]:
        return sorted({k for e in self.entries for k, v in e.items() if isinstance(v, (int, float))})

    def size(self) -> Optional[int]:
        m = _SIZE.search(self.benchmark)
        return int(m.group(1)) if m else None


def _entry_key(e: dict, ctx: dict) -> tuple[str, str]:
    """(variant, benchmark name without the variant prefix) of an iteration entry."""
    variant = e.get("variant") or ctx.get("variant") or ""
    bench = e.get("benchmark") or e["name"]
    if variant and not e.get("benchmark") and bench.startswith(variant + "/"):
        bench = bench[len(variant) + 1:]
    return variant, bench


def collect(doc: dict) -> dict[str, Series]:
    """Iteration entries grouped per variant x benchmark, in document order; skipped entries
    (libbench's lb_skip) carry no figure and are left to skipped()."""
    ctx = doc.get("context", {})
    out: dict[str, Series] = {}
    for e in doc["benchmarks"]:
        if e.get("run_type", "iteration") != "iteration" or e.get("skipped"):
            continue
        variant, bench = _entry_key(e, ctx)
        s = out.setdefault(f"{variant}/{bench}" if variant else bench, Series(variant, bench))
        s.entries.append(e)
        s.target = s.target or e.get("target")
    return out


def skipped(doc: dict) -> dict[tuple[str, str], str]:
    """(variant, benchmark) -> why libbench's lb_skip skipped it, for every skipped entry."""
    ctx = doc.get("context", {})
    return {_entry_key(e, ctx): str(e.get("skip_message") or "skipped") for e in doc["benchmarks"]
            if e.get("run_type", "iteration") == "iteration" and e.get("skipped")}


def rep_value(e: dict, tpn: Optional[float]) -> Optional[float]:
    """One repetition's typical per-operation ticks."""
    if isinstance(e.get("ticks_median"), (int, float)):
        return float(e["ticks_median"])
    if e.get("samples"):
        return float(statistics.median(e["samples"]))
    if isinstance(e.get("real_time"), (int, float)) and tpn:
        return e["real_time"] * tpn
    return None


def rep_values(s: Series, tpn: Optional[float]) -> list[float]:
    return [v for v in (rep_value(e, tpn) for e in s.entries) if v is not None]


def summarize(s: Series, tpn: Optional[float] = 1.0) -> dict:
    st: dict = {"repetitions": len(s.entries), "boots": len({e.get("boot") for e in s.entries})}
    vals = sorted(s.samples())
    by_boot: dict = {}
    if vals:
        st["source"] = "samples"
        st.update(median=percentile(vals, 50), p90=percentile(vals, 90), p99=percentile(vals, 99),
                  p999=percentile(vals, 99.9), min=vals[0], max=vals[-1], mean=statistics.fmean(vals),
                  stddev=statistics.pstdev(vals), samples=len(vals))
        for e in s.entries:
            by_boot.setdefault(e.get("boot"), []).extend(e.get("samples") or [])
        boot_medians = [float(statistics.median(v)) for v in by_boot.values() if v]
        # libbench writes an evenly spaced subset of a long repetition's samples: percentiles hold,
        # but the extremes may be missing from it, and the counters saw every sample.
        lo = [e["ticks_min"] for e in s.entries if isinstance(e.get("ticks_min"), (int, float))]
        hi = [e["ticks_max"] for e in s.entries if isinstance(e.get("ticks_max"), (int, float))]
        if lo and hi:
            st["min"], st["max"] = min(lo + [st["min"]]), max(hi + [st["max"]])
        if any(isinstance(e.get("samples_total"), int) and e["samples_total"] > len(e.get("samples") or [])
               for e in s.entries):
            st["source"] = "samples-subset"
    elif any(isinstance(e.get("ticks_median"), (int, float)) for e in s.entries):
        st["source"] = "counters"
        c = {k: [e[k] for e in s.entries if isinstance(e.get(k), (int, float))] for k in TICK_COUNTERS}
        med = lambda k: float(statistics.median(c[k])) if c[k] else None  # noqa: E731
        st.update(median=med("ticks_median"), p90=med("ticks_p90"), p99=med("ticks_p99"),
                  p999=med("ticks_p999"), min=min(c["ticks_min"], default=None),
                  max=max(c["ticks_max"], default=None), mean=med("ticks_mean"),
                  stddev=med("ticks_stddev"), samples=0)
        for e in s.entries:
            if isinstance(e.get("ticks_median"), (int, float)):
                by_boot.setdefault(e.get("boot"), []).append(e["ticks_median"])
        boot_medians = [float(statistics.median(v)) for v in by_boot.values()]
    else:
        vals = sorted(rep_values(s, tpn))
        if not vals:
            return {**st, "source": "none"}
        st["source"] = "real_time"
        st.update(median=percentile(vals, 50), p90=percentile(vals, 90), p99=percentile(vals, 99),
                  p999=percentile(vals, 99.9), min=vals[0], max=vals[-1], mean=statistics.fmean(vals),
                  stddev=statistics.pstdev(vals), samples=0)
        boot_medians = [st["median"]]
    st["boot_median_min"], st["boot_median_max"] = min(boot_medians), max(boot_medians)
    return st


def target_index(series: dict[str, Series]) -> dict[str, dict[str, list[str]]]:
    """For each variant, which benchmarks measure each TARGETS.md row (tags, then globs)."""
    out: dict[str, dict[str, list[str]]] = {}
    variants = list(dict.fromkeys(s.variant for s in series.values()))
    for v in variants:
        names = {s.benchmark: s.target for s in series.values() if s.variant == v}
        out[v] = {t.id: T.pick(t.id, t.benchmarks, names) for t in T.ROWS}
    return out


def csv_rows(doc: dict) -> list[dict]:
    ctx = doc.get("context", {})
    series = collect(doc)
    idx = target_index(series)
    rows = []
    for s in series.values():
        st = summarize(s, ticks_per_ns(ctx))
        ids = [tid for tid, names in idx.get(s.variant, {}).items() if s.benchmark in names]
        row = {"variant": s.variant, "benchmark": s.benchmark, "unit": unit_of(ctx),
               "target": s.target or ",".join(ids)}
        for k in CSV_FIELDS:
            if k in st:
                v = st[k]
                row[k] = (round(v, 3) if isinstance(v, float) else v) if v is not None else ""
        rows.append(row)
    return rows


def write_csv(doc: dict, path: Path) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS, extrasaction="ignore")
        w.writeheader()
        w.writerows(csv_rows(doc))


# ---------------------------------------------------------------------------------------------
# Target verdicts


def _n(v: Optional[float]) -> str:
    if v is None:
        return "—"
    return f"{v:,.0f}" if abs(v) >= 100 or v == int(v) else f"{v:,.3g}"


@dataclass
class Verdict:
    verdict: str  # "met", "missed", "not yet measured"
    benchmark: str = "—"
    median: str = "—"
    p99: str = "—"
    notes: list[str] = field(default_factory=list)


def _judge_bounds(t: T.Target, measured: dict, icount: bool) -> tuple[str, list[str]]:
    """measured maps a bound's stat to its value in the bound's unit."""
    notes, verdicts = [], []
    for b in t.bounds:
        v = measured.get(b.stat)
        if v is None:
            notes.append(f"{b.text}: no {b.stat} available")
            continue
        ok = T.check(b, v)
        verdicts.append(ok)
        src = f", {b.source}" if b.source else ""
        budget = f"; icount: read as {T.budget_note(b)}" if icount and T.budget_note(b) else ""
        notes.append(f"{'met' if ok else 'missed'} ({b.text}{src}: {T.fmt_value(v, b.unit)}{budget})")
    if not verdicts:
        return "not yet measured", notes
    return ("met" if all(verdicts) else "missed"), notes


def evaluate(t: T.Target, doc: dict, series: dict[str, Series], variant: Optional[str] = None) -> Verdict:
    ctx = doc.get("context", {})
    mode, unit, tpn = ctx.get("mode"), unit_of(ctx), ticks_per_ns(ctx)
    icount = mode == "icount"
    measured_by_benchmark = any(ids.get(t.id) for ids in target_index(series).values())
    if t.tested_by and (t.metric == "behaviour" or not measured_by_benchmark):
        return Verdict("tested", notes=[f"checked by make test: {t.tested_by}"])
    if t.metric == "behaviour":
        return Verdict("not yet measured", notes=[f"behaviour, not a benchmark: {t.missing}"])
    if t.metric == "kernel_size":
        ks = ctx.get("kernel_size")
        if not ks:
            return Verdict("not yet measured", notes=[t.missing])
        word, notes = _judge_bounds(t, {"median": float(ks["text_data"])}, False)
        scope = ks.get("scope", "whole image")
        extra = (f"; the image, with self tests, libbench and benchmarks linked in, is "
                 f"{ks['image_text_data']:,} B") if "image_text_data" in ks else ""
        return Verdict(word, f"{ks.get('elf', 'kernel.elf')} ({scope})", f"{ks['text_data']:,} B", "—",
                       notes + [f"text {ks['text']:,} B + data {ks['data']:,} B (bss {ks['bss']:,} B){extra}"])
    if t.metric == "boot_ready":
        ready = [b["ready_us"] for b in ctx.get("boots", []) if isinstance(b.get("ready_us"), (int, float))]
        if not ready:
            return Verdict("not yet measured", notes=[t.missing])
        med = float(statistics.median(ready))
        word, notes = _judge_bounds(t, {"median": med * 1e3}, icount)
        return Verdict(word, "boot log `tachyon: ready in N us`", f"{_n(med)} us", f"max {_n(max(ready))} us",
                       notes + [t.note])
    if mode not in t.modes:
        return Verdict("not yet measured", notes=[t.missing])

    idx = target_index(series)
    order = [variant] if variant else [v for v in ctx.get("variants", []) if v in idx] + list(idx)
    names, chosen = [], None
    for v in order:
        if idx.get(v, {}).get(t.id):
            names, chosen = idx[v][t.id], v
            break
    if not names:
        return Verdict("not yet measured", notes=[t.missing])
    picked = [series[f"{chosen}/{n}" if chosen else n] for n in names]
    label = "<br>".join(f"`{s.key}`" for s in picked)

    if t.metric == "reported":
        have_samples = any(s.samples() for s in picked)
        counters = {c for s in picked for c in s.counter_names()}
        lacking = [g for g in t.counters if not any(re.fullmatch(g.replace("*", ".*"), c) for c in counters)]
        if have_samples and not lacking:
            return Verdict("met", label, notes=["raw samples and fast/slow path counters present"])
        why = ([] if have_samples else ["no raw samples"]) + [f"no counter matching {g}" for g in lacking]
        return Verdict("missed", label, notes=why)

    if tpn is None:
        return Verdict("not yet measured", label, notes=["the run has no ticks_hz: cannot convert to ns"])
    words, notes, meds, p99s = [], [], [], []
    for s in picked:
        st = summarize(s, tpn)
        if st.get("median") is None:
            notes.append(f"{s.key}: no values")
            continue
        extra = f" ({_n(st['median'] / tpn)} ns)" if not icount else ""
        meds.append(f"{_n(st['median'])} {unit}{extra}")
        p99s.append(f"{_n(st.get('p99'))} {unit}" if st.get("p99") is not None else "—")
        measured: dict = {}
        if t.metric == "latency":
            measured = {k: st[k] / tpn for k in ("median", "mean", "p99", "max") if st.get(k) is not None}
        elif t.metric in ("rate", "bandwidth"):
            key = "items_per_second" if t.metric == "rate" else "bytes_per_second"
            c = s.counter(key)
            if c is None and st["median"] > 0:
                per = 1e9 / (st["median"] / tpn)
                c = per if t.metric == "rate" else (per * s.size() if s.size() else None)
            if c is None:
                notes.append(f"{s.key}: no {key} counter and no size:N in the name")
                continue
            measured = {"median": c}
        elif t.metric == "counter":
            got = next((s.counter(n) for n in t.counters if s.counter(n) is not None), None)
            if got is None:
                notes.append(f"{s.key}: none of the counters {', '.join(t.counters)}")
                continue
            measured = {"median": got}
        if mode == "cycles" and st["boots"] > 1:
            notes.append(f"{s.key}: per-boot medians {_n(st['boot_median_min'])} .. "
                         f"{_n(st['boot_median_max'])} {unit} over {st['boots']} boots")
        w, n = _judge_bounds(t, measured, icount)
        words.append(w)
        notes += [f"{s.key}: {x}" for x in n] if len(picked) > 1 else n
    if t.note:
        notes.append(t.note)
    if len(idx) > 1:
        notes.append(f"variant {chosen}")
    word = "missed" if "missed" in words else ("met" if words and all(w == "met" for w in words)
                                               else "not yet measured")
    return Verdict(word, label, "<br>".join(meds) or "—", "<br>".join(p99s) or "—", notes)


# ---------------------------------------------------------------------------------------------
# The report


def _row(cells) -> str:
    return "| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |"


def _table(head: list[str], rows: list[list]) -> list[str]:
    return [_row(head), _row(["---"] * len(head))] + [_row(r) for r in rows]


def _context_lines(doc: dict) -> list[str]:
    ctx = doc["context"]
    mode, unit = ctx.get("mode", "unknown"), unit_of(ctx)
    mode_text = {
        "icount": "icount: QEMU TCG, `-icount shift=0,sleep=off`; 1 tick = 1 guest instruction, deterministic",
        "cycles": "cycles: the guest TSC on hardware KVM or bare metal",
    }.get(mode, f"{mode} (not recorded by scripts/bench.py)")
    hz = num(ctx.get("tsc_hz"))
    tsc = f"{ctx.get('tsc_source', '?')}, {hz / 1e6:,.3f} MHz" if hz else f"{ctx.get('tsc_source', '?')}"
    boots = ctx.get("boots", [])
    per_variant = {v: sum(1 for b in boots if b["variant"] == v) for v in ctx.get("variants", [])}
    ks = ctx.get("kernel_size")
    rows = [
        ["timing mode", mode_text], ["unit", unit],
        ["accelerator", f"{ctx.get('accel', '?')}" + (f" ({ctx['accel_reason']})" if ctx.get("accel_reason") else "")],
        ["QEMU", f"{ctx.get('qemu_version', '?')}; CPU model `{ctx.get('qemu_cpu', '?')}`"],
        ["host CPU", ctx.get("host_cpu", "?")], ["guest CPU (kernel)", ctx.get("cpu", "?")],
        ["TSC source and frequency", tsc], ["ticks_hz", _n(num(ctx.get("ticks_hz")))],
        ["timer overhead", f"{_n(num(ctx.get('timer_overhead_ticks')))} ticks" + (
            " (subtracted from every sample by libbench)" if ctx.get("library") == "tachyon-libbench" else "")],
        *([[f"harness {h}", f"{ctx[h].get('space', '?')}, pid {ctx[h].get('pid', '?')}; timer overhead "
            f"{_n(num(ctx[h].get('timer_overhead_ticks')))} ticks; clock {ctx[h].get('clock', '?')}"]
           for h in ctx.get("harnesses", [])[1:] if isinstance(ctx.get(h), dict)]),
        ["commit", f"`{commit_of(ctx)}`"], ["date", ctx.get("date", "?")],
        ["run id", ctx.get("run_id", "?")],
        ["variants (boots with valid JSON)", ", ".join(f"{v} ({n})" for v, n in per_variant.items()) or "—"],
        ["kernel image", f"text+data {ks['text_data']:,} B ({ks['elf']})" if ks else "—"],
    ]
    return _table(["run", "value"], rows)


def _warnings(doc: dict) -> list[str]:
    ctx, w = doc["context"], []
    if ctx.get("warning"):
        w.append(ctx["warning"])
    if ctx.get("warning_commits"):
        w.append(ctx["warning_commits"])
    hz = num(ctx.get("ticks_hz"))
    if ctx.get("mode") == "icount" and hz and abs(hz / 1e9 - 1) > 0.01:
        w.append(f"icount runs the guest TSC at 1 GHz, but the kernel reports ticks_hz={hz:,.0f}: "
                 "its ns figures are off by that ratio (instruction counts are not)")
    for f in ctx.get("failed_boots", []):
        w.append(f"failed boot: {f}")
    return w


def report(doc: dict, variant: Optional[str] = None, plots_dir: Optional[Path] = None) -> str:
    ctx = doc["context"]
    mode, unit, tpn = ctx.get("mode"), unit_of(ctx), ticks_per_ns(ctx)
    series = collect(doc)
    out = [f"# Tachyon benchmark report: {ctx.get('run_id', 'run')}", "", "## Run", ""]
    out += _context_lines(doc) + [""]
    warn = _warnings(doc)
    if warn:
        out += ["**Warnings**", ""] + [f"- {w}" for w in warn] + [""]
    if mode == "icount":
        out += ["In icount mode every time target is read as an instruction budget at 1 instruction per "
                "ns (TARGETS.md): the run is a reference machine that executes one instruction per "
                "nanosecond, so `< 500 ns` means `< 500 instructions`. It is a path-length verdict, not "
                "a claim about any real CPU.", ""]

    out += ["## Targets (TARGETS.md)", ""]
    rows = []
    for t in T.ROWS:
        v = evaluate(t, doc, series, variant)
        verdict = f"**{v.verdict}**" if v.verdict in ("met", "missed") else v.verdict
        rows.append([t.id, t.what, t.target, v.benchmark, v.median, v.p99, verdict, "; ".join(v.notes)])
    out += _table(["ID", "what", "target", "benchmark", f"median ({unit})", f"p99 ({unit})", "verdict",
                   "notes"], rows) + [""]
    kinds = ("met", "missed", "tested", "not yet measured")
    counts = {w: sum(1 for r in rows if r[6].strip("*") == w) for w in kinds}
    out += [f"{counts['met']} met, {counts['missed']} missed, {counts['tested']} tested by make test, "
            f"{counts['not yet measured']} not yet measured of {len(rows)} rows.", ""]

    import bench_peers  # noqa: E402  (it imports this module)
    out += bench_peers.section(series, variant, mode, tpn)
    import bench_ipc_report  # noqa: E402  (it imports this module)
    out += bench_ipc_report.section(series, variant, mode, tpn, unit)
    import bench_shm_report  # noqa: E402  (it imports this module)
    out += bench_shm_report.section(series, skipped(doc), variant, mode, tpn, unit)

    out += ["## Spread across boots", ""]
    spread = []
    for s in series.values():
        st = summarize(s, tpn)
        if st.get("median") is None:
            continue
        lo, hi = st["boot_median_min"], st["boot_median_max"]
        pct = (hi - lo) / lo * 100 if lo else 0.0
        spread.append([s.key, st["boots"], f"{_n(lo)} .. {_n(hi)}", f"{pct:.2f}%"])
    if spread and max(r[1] for r in spread) < 2:
        out += ["One boot per variant: no spread across boots to show.", ""]
        spread = []
    elif mode == "icount":
        uneven = [r for r in spread if r[3] != "0.00%"]
        out += ["icount is deterministic: per-boot medians should be identical. "
                + ("They are, for every benchmark." if not uneven else
                   f"They differ for {len(uneven)} benchmark(s), listed below; look for a source of "
                   "nondeterminism."), ""]
        spread = uneven
    if spread:
        out += _table(["benchmark", "boots", f"per-boot medians ({unit})", "spread"], spread) + [""]

    out += ["## All benchmarks", "", f"Per-operation {unit}; statistics over the pooled samples of all "
            "repetitions of all boots (source: samples; samples-subset when libbench wrote an evenly "
            "spaced subset, with min and max then from its counters), else over per-repetition counters.", ""]
    brow = [[r["variant"], r["benchmark"], *(_n(r.get(k) if r.get(k) != "" else None) for k in
             ("median", "p90", "p99", "p999", "min", "max", "mean", "stddev")), r.get("repetitions"),
             r.get("boots"), r.get("target") or "", r.get("source")] for r in csv_rows(doc)]
    out += _table(["variant", "benchmark", "median", "p90", "p99", "p99.9", "min", "max", "mean", "stddev",
                   "reps", "boots", "target", "source"], brow) if brow else ["No benchmark results."]
    out.append("")
    if plots_dir and plots_dir.is_dir():
        pngs = sorted(plots_dir.glob("*.png"))
        out += ["## Plots", ""] + [f"- [{p.name}](plots/{p.name})" for p in pngs]
        notes = plots_dir / "notes.txt"
        if notes.is_file():
            out += [f"- {ln}" for ln in notes.read_text().splitlines() if ln.strip()]
        out.append("")
    return "\n".join(out)


def write_all(run_dir: Path, variant: Optional[str] = None) -> None:
    doc = load(run_dir)
    write_csv(doc, run_dir / "summary.csv")
    (run_dir / "report.md").write_text(report(doc, variant, run_dir / "plots"))


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description="Write the CSV and Markdown report of a benchmark run.")
    ap.add_argument("input", help="run directory (results/runs/<id>) or a merged JSON file")
    ap.add_argument("--out", help="report path (default <run dir>/report.md)")
    ap.add_argument("--csv", help="CSV path (default <run dir>/summary.csv)")
    ap.add_argument("--variant", help="check targets against this variant only (default: first that has it)")
    ap.add_argument("--elf", help="take S-1 from this kernel ELF when the run did not record it")
    a = ap.parse_args(argv)
    try:
        doc = load(a.input)
    except LoadError as e:
        print(f"bench_report: {e}", file=sys.stderr)
        return 2
    base = Path(a.input) if Path(a.input).is_dir() else Path(a.input).parent
    if a.elf and not doc["context"].get("kernel_size"):
        doc["context"]["kernel_size"] = kernel_size(Path(a.elf))
    if a.variant and a.variant not in {s.variant for s in collect(doc).values()}:
        print(f"bench_report: no variant {a.variant!r} in {a.input}", file=sys.stderr)
        return 2
    out, csv_path = Path(a.out or base / "report.md"), Path(a.csv or base / "summary.csv")
    write_csv(doc, csv_path)
    out.write_text(report(doc, a.variant, base / "plots"))
    print(f"bench_report: wrote {out} and {csv_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
