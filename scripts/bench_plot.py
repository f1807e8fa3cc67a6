#!/usr/bin/env python3
"""Plots of one benchmark run, as PNG files in RUN_DIR/plots/.

    scripts/bench_plot.py RUN_DIR [--out DIR] [--no-gnuplot]

  cdf-<benchmark>.png      latency CDF per benchmark, one line per variant, from the raw samples
  variants.png             median per benchmark and variant, whisker up to the p99 (matplotlib)
  variants.gp              the same chart as a gnuplot script reading ../summary.csv; edit and
  variants-gnuplot.png       re-run with: cd RUN_DIR/plots && gnuplot variants.gp
  size-sweep-<name>.png    median against message size, for benchmarks named ".../size:N"
  notes.txt                what was skipped and why (the report lists it)

Every axis carries the run's unit (instructions in icount mode, cycles in cycles mode). Needs
RUN_DIR/merged.json and RUN_DIR/summary.csv (scripts/bench.py writes both; bench_report.py
rewrites the CSV). Exit status: 0 when the plots were written, 2 when the input is unusable.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_report as R  # noqa: E402

if __name__ == "__main__":
    R.need("numpy", "matplotlib")

import matplotlib  # noqa: E402

matplotlib.use("Agg")  # no display on CI machines or over ssh
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

# A CDF line needs no more points than a figure has pixels across.
CDF_POINTS = 4000
_SIZE = re.compile(r"(^|/)size:(\d+)(?=/|$)")


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "benchmark"


def _by_benchmark(series: dict[str, R.Series]) -> dict[str, list[R.Series]]:
    out: dict[str, list[R.Series]] = {}
    for s in series.values():
        out.setdefault(s.benchmark, []).append(s)
    return out


def _log_scale(values) -> bool:
    lo, hi = min(values), max(values)
    return lo > 0 and hi / lo > 20


def plot_cdfs(series: dict[str, R.Series], unit: str, out: Path, notes: list[str]) -> list[Path]:
    """CDF on the left; on the right 1 - CDF on a log axis, because under icount nearly every
    sample has one value and the tail, which is what differs between variants, is invisible in a
    plain CDF."""
    made = []
    for bench, group in _by_benchmark(series).items():
        fig, (ax, tail) = plt.subplots(1, 2, figsize=(11, 4.2))
        lines, every = 0, []
        for s in group:
            raw = np.asarray(s.samples(), dtype=float)
            if raw.size == 0:
                continue
            # A step CDF only changes at distinct values: exact, and small for icount data.
            v, counts = np.unique(raw, return_counts=True)
            y = np.cumsum(counts) / raw.size
            if v.size > CDF_POINTS:
                pick = np.unique(np.r_[np.linspace(0, v.size - 1, CDF_POINTS).astype(int), v.size - 1])
                v, y = v[pick], y[pick]
            v, y = np.r_[v[0], v], np.r_[0.0, y]  # the rise from 0 at the smallest value
            label = s.variant or "run"
            line = ax.step(v, y, where="post", label=label)[0]
            keep = y < 1  # 1 - CDF is 0 at the last sample, which a log axis cannot show
            tail.step(v[keep], 1 - y[keep], where="post", color=line.get_color(), label=label)
            every += [v[0], v[-1]]
            lines += 1
        if not lines:
            plt.close(fig)
            notes.append(f"CDF of {bench}: skipped, no raw samples in the JSON")
            continue
        for a in (ax, tail):
            if _log_scale(every):
                a.set_xscale("log")
            a.set_xlabel(f"latency per operation ({unit})")
            a.grid(True, alpha=0.3)
        ax.set_ylabel("fraction of operations <= x")
        ax.set_ylim(0, 1.005)
        ax.set_title(f"{bench}: latency CDF")
        ax.legend(title="variant", fontsize="small")
        tail.set_yscale("log")
        tail.set_ylabel("fraction of operations > x")
        tail.set_title("tail (1 - CDF)")
        path = out / f"cdf-{slug(bench)}.png"
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        made.append(path)
    return made


def _stats_table(doc: dict) -> tuple[list[str], list[str], dict]:
    rows = R.csv_rows(doc)
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    benches = list(dict.fromkeys(r["benchmark"] for r in rows))
    table = {(r["variant"], r["benchmark"]): r for r in rows if r.get("median") not in ("", None)}
    return variants, benches, table


def plot_variants(doc: dict, unit: str, out: Path) -> Optional[Path]:
    variants, benches, table = _stats_table(doc)
    if not table:
        return None
    n = max(1, len(variants))
    width = 0.8 / n
    fig, ax = plt.subplots(figsize=(max(7, 0.6 * len(benches) * max(1, n / 2) + 2), 5))
    x = np.arange(len(benches))
    allv = []
    for i, v in enumerate(variants):
        med = np.array([table[(v, b)]["median"] if (v, b) in table else np.nan for b in benches], float)
        p99 = np.array([table[(v, b)].get("p99") or np.nan if (v, b) in table else np.nan for b in benches],
                       float)
        up = np.where(np.isnan(p99), 0, np.maximum(p99 - med, 0))
        pos = x - 0.4 + width * (i + 0.5)
        ax.bar(pos, med, width, label=v or "run", yerr=[np.zeros_like(up), up], capsize=3,
               error_kw={"elinewidth": 1})
        allv += [m for m in med if not np.isnan(m)] + [p for p in p99 if not np.isnan(p)]
    if allv and _log_scale(allv):
        ax.set_yscale("log")
    ax.set_xticks(x)
    ax.set_xticklabels(benches, rotation=40, ha="right", fontsize="small")
    ax.set_ylabel(f"median per operation ({unit}); whisker: p99")
    ax.set_xlabel("benchmark")
    ax.set_title("variant comparison")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(title="variant", fontsize="small")
    fig.tight_layout()
    path = out / "variants.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _gp_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def gnuplot_script(doc: dict, unit: str, csv_rel: str = "../summary.csv") -> str:
    """A self-contained, editable gnuplot script drawing the variant comparison from the CSV."""
    variants, benches, _ = _stats_table(doc)
    col = {k: i + 1 for i, k in enumerate(R.CSV_FIELDS)}
    bx = " : ".join(f"(s eq {_gp_str(b)}) ? {i}" for i, b in enumerate(benches)) + " : NaN"
    xtics = ", ".join(f"{_gp_str(b)} {i}" for i, b in enumerate(benches))
    width = max(800, 60 * len(benches) * max(1, len(variants)) + 200)
    return f"""# Variant comparison: median per benchmark and variant, whisker up to the p99.
# Written by scripts/bench_plot.py from {csv_rel}; edit freely and re-run:
#   cd <run dir>/plots && gnuplot variants.gp
# Columns of summary.csv used: variant={col['variant']} benchmark={col['benchmark']} \
median={col['median']} p99={col['p99']}
set terminal pngcairo size {width},600 noenhanced font ',9'
set output 'variants-gnuplot.png'
set datafile separator ','
set title 'variant comparison'
set ylabel 'median per operation ({unit}); whisker: p99'
set xlabel 'benchmark'
set logscale y
set grid ytics
set key outside top center horizontal title 'variant'
set style fill solid 0.7 border -1
set xtics rotate by -40 scale 0 ({xtics})
set xrange [-0.6:{len(benches) - 0.4}]
# x position of a benchmark name (one slot per benchmark, in CSV order)
bx(s) = {bx}
variants = {_gp_str(" ".join(variants))}
nv = words(variants)
w = 0.8 / nv
xpos(s, i) = bx(s) - 0.4 + w * (i - 0.5)
sel(i) = (strcol({col['variant']}) eq word(variants, i))
plot for [i=1:nv] {_gp_str(csv_rel)} every ::1 \\
        using (sel(i) ? xpos(strcol({col['benchmark']}), i) : NaN):{col['median']}:(w) \\
        with boxes title word(variants, i), \\
     for [i=1:nv] {_gp_str(csv_rel)} every ::1 \\
        using (sel(i) ? xpos(strcol({col['benchmark']}), i) : NaN):{col['median']}:{col['median']}:{col['p99']} \\
        with yerrorbars lc rgb 'black' pt 7 ps 0 notitle
"""


def run_gnuplot(script: Path, notes: list[str]) -> Optional[Path]:
    if not shutil.which("gnuplot"):
        notes.append(f"gnuplot not installed: {script.name} written but not rendered (scripts/deps.sh bench)")
        return None
    cp = subprocess.run(["gnuplot", script.name], cwd=script.parent, stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, timeout=120)
    png = script.parent / "variants-gnuplot.png"
    if cp.returncode != 0 or not png.is_file():
        msg = cp.stdout.decode(errors="replace").strip().splitlines()
        raise RuntimeError(f"gnuplot {script.name} failed: {msg[-1] if msg else cp.returncode}")
    return png


def plot_size_sweeps(doc: dict, unit: str, out: Path, notes: list[str]) -> list[Path]:
    series = R.collect(doc)
    tpn = R.ticks_per_ns(doc["context"])
    fams: dict[str, dict[str, list[tuple[int, float, float]]]] = {}
    for s in series.values():
        m = _SIZE.search(s.benchmark)
        if not m:
            continue
        st = R.summarize(s, tpn)
        if st.get("median") is None:
            continue
        fam = _SIZE.sub(r"\1size:*", s.benchmark)
        fams.setdefault(fam, {}).setdefault(s.variant, []).append(
            (int(m.group(2)), st["median"], st.get("p99") or st["median"]))
    # One size is a point, not a sweep.
    fams = {f: pv for f, pv in fams.items() if any(len({x for x, _, _ in pts}) > 1 for pts in pv.values())}
    if not fams:
        notes.append("message-size sweep: skipped, no benchmark family is named with two or more "
                     "size:N parameters yet")
        return []
    made = []
    for fam, per_variant in fams.items():
        fig, ax = plt.subplots(figsize=(7, 4.2))
        for v, pts in per_variant.items():
            pts.sort()
            xs, med, p99 = zip(*pts)
            line = ax.plot(xs, med, marker="o", label=f"{v or 'run'} median")[0]
            ax.plot(xs, p99, linestyle="--", color=line.get_color(), alpha=0.6, label=f"{v or 'run'} p99")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("message size (bytes)")
        ax.set_ylabel(f"latency per operation ({unit})")
        ax.set_title(f"{fam}: message-size sweep")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
        fig.tight_layout()
        path = out / f"size-sweep-{slug(fam.replace('size:*', 'size'))}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        made.append(path)
    return made


def plot_all(run_dir: Path, out: Path, gnuplot: bool = True) -> tuple[list[Path], list[str]]:
    doc = R.load(run_dir)
    unit = R.unit_of(doc["context"])
    out.mkdir(parents=True, exist_ok=True)
    csv_path = run_dir / "summary.csv"
    if not csv_path.is_file():
        R.write_csv(doc, csv_path)
    notes: list[str] = []
    made = plot_cdfs(R.collect(doc), unit, out, notes)
    v = plot_variants(doc, unit, out)
    if v:
        made.append(v)
        gp = out / "variants.gp"
        gp.write_text(gnuplot_script(doc, unit, os_rel(csv_path, out)))
        if gnuplot:
            g = run_gnuplot(gp, notes)
            if g:
                made.append(g)
    else:
        notes.append("variant comparison: skipped, no benchmark has a median")
    made += plot_size_sweeps(doc, unit, out, notes)
    (out / "notes.txt").write_text("".join(n + "\n" for n in notes))
    return made, notes


def os_rel(target: Path, start: Path) -> str:
    return os.path.relpath(target.resolve(), start.resolve())


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description="Plot one benchmark run (PNG, plus a gnuplot script).")
    ap.add_argument("run_dir", help="results/runs/<id> (needs merged.json)")
    ap.add_argument("--out", help="output directory (default RUN_DIR/plots)")
    ap.add_argument("--no-gnuplot", action="store_true", help="write variants.gp but do not run gnuplot")
    a = ap.parse_args(argv)
    run_dir = Path(a.run_dir)
    try:
        made, notes = plot_all(run_dir, Path(a.out) if a.out else run_dir / "plots", not a.no_gnuplot)
    except R.LoadError as e:
        print(f"bench_plot: {e}", file=sys.stderr)
        return 2
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        print(f"bench_plot: {e}", file=sys.stderr)
        return 1
    print(f"bench_plot: {len(made)} plot(s) in {Path(a.out) if a.out else run_dir / 'plots'}")
    for n in notes:
        print(f"bench_plot: note: {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
