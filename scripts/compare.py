#!/usr/bin/env python3
"""Compare two benchmark runs and flag regressions (Tachyon's own; Google's compare.py also
reads our merged files: /usr/share/benchmark/compare.py benchmarks BASE.json NEW.json).

    scripts/compare.py BASE NEW [--threshold PCT] [--alpha 0.05] [--filter REGEX]

BASE and NEW are run directories (results/runs/<id>, results/latest) or merged JSON files.
For every benchmark in both, the values compared are the per-repetition medians (ticks_median;
the median of the samples, or real_time, when a repetition has no such counter) of every
repetition of every boot. A benchmark is a REGRESSION when its median got worse by more than
the threshold (default 1% in icount mode, where runs are deterministic, 5% in cycles mode) and,
where there are enough repetitions for a two-sided Mann-Whitney U test to reach --alpha at all,
that test says the distributions differ. Two icount runs that each repeat one exact value differ
exactly, so no test is needed there.

Exit status: 0 no regression, 1 at least one regression, 2 unusable input (missing file, invalid
JSON, or runs in different timing modes or units, which must never be compared).
"""

from __future__ import annotations

import argparse
import math
import re
import statistics
import sys
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_report as R  # noqa: E402

DEFAULT_THRESHOLD = {"icount": 1.0, "cycles": 5.0}
FALLBACK_THRESHOLD = 5.0


def min_pvalue(n1: int, n2: int) -> float:
    """The smallest two-sided p-value an exact U test can give for these sample sizes."""
    return 2.0 / math.comb(n1 + n2, n1)


def utest(a: list[float], b: list[float]) -> Optional[float]:
    if len(a) < 2 or len(b) < 2:
        return None
    if len(set(a) | set(b)) == 1:
        return 1.0  # all values tied: scipy would warn and may return nan
    from scipy.stats import mannwhitneyu

    return float(mannwhitneyu(a, b, alternative="two-sided").pvalue)


def classify(a: list[float], b: list[float], threshold: float, alpha: float, mode: Optional[str]) -> dict:
    ma, mb = float(statistics.median(a)), float(statistics.median(b))
    change = (mb - ma) / ma * 100 if ma else (0.0 if mb == ma else math.inf)
    p = utest(a, b)
    testable = p is not None and min_pvalue(len(a), len(b)) < alpha
    exact = mode == "icount" and len(set(a)) == 1 and len(set(b)) == 1
    if exact or not testable:
        decided = True  # a deterministic difference is real; too few repetitions leave only the threshold
    else:
        decided = p < alpha
    if mb == ma and (p is None or p >= alpha or exact):
        verdict = "no change"
    elif change > threshold:
        verdict = "REGRESSION" if decided else "worse, not significant"
    elif change < -threshold:
        verdict = "improvement" if decided else "better, not significant"
    else:
        verdict = "no change (within threshold)"
    return {"base": ma, "new": mb, "change": change, "p": p, "verdict": verdict,
            "n": (len(a), len(b)), "testable": testable}


def _fmt(v: float) -> str:
    return f"{v:,.1f}" if abs(v) < 1e6 else f"{v:.4g}"


def compare(base: dict, new: dict, threshold: Optional[float], alpha: float,
            pattern: Optional[str] = None, out=sys.stdout) -> int:
    cb, cn = base["context"], new["context"]
    mb, mn = cb.get("mode"), cn.get("mode")
    if mb != mn:
        raise ValueError(f"timing modes differ: BASE is {mb or 'unrecorded'}, NEW is {mn or 'unrecorded'}; "
                         "icount instructions and cycles cannot be compared")
    if R.unit_of(cb) != R.unit_of(cn):
        raise ValueError(f"units differ: BASE is in {R.unit_of(cb)}, NEW in {R.unit_of(cn)}")
    unit = R.unit_of(cb)
    if threshold is None:
        threshold = DEFAULT_THRESHOLD.get(mb, FALLBACK_THRESHOLD)
    sb, sn = R.collect(base), R.collect(new)
    if pattern:
        rx = re.compile(pattern)
        sb = {k: v for k, v in sb.items() if rx.search(k)}
        sn = {k: v for k, v in sn.items() if rx.search(k)}
    tb, tn = R.ticks_per_ns(cb), R.ticks_per_ns(cn)
    common = [k for k in sb if k in sn]
    print(f"mode {mb or 'unrecorded'}, values: per-repetition median {unit} per operation; "
          f"threshold {threshold:g}%, alpha {alpha:g}", file=out)
    print(f"BASE: {cb.get('run_id', '?')} commit {R.commit_of(cb)}   "
          f"NEW: {cn.get('run_id', '?')} commit {R.commit_of(cn)}", file=out)
    width = max([len("Benchmark")] + [len(k) for k in common]) + 2
    print(f"{'Benchmark':<{width}}{'Base':>14}{'New':>14}{'Change':>10}{'p-value':>10}  {'reps':>7}  Verdict",
          file=out)
    print("-" * (width + 14 + 14 + 10 + 10 + 11 + 12), file=out)
    counts: dict[str, int] = {}
    for k in common:
        a, b = R.rep_values(sb[k], tb), R.rep_values(sn[k], tn)
        if not a or not b:
            print(f"{k:<{width}}{'—':>14}{'—':>14}{'':>10}{'':>10}  {'':>7}  no values", file=out)
            continue
        r = classify(a, b, threshold, alpha, mb)
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
        p = "—" if r["p"] is None else f"{r['p']:.4f}"
        ch = "inf" if math.isinf(r["change"]) else f"{r['change']:+.2f}%"
        reps = f"{r['n'][0]}/{r['n'][1]}"
        note = "" if r["testable"] or r["verdict"].startswith("no change") else " (too few reps for U test)"
        if mb == "icount" and not r["testable"] and len(set(a)) == 1 and len(set(b)) == 1:
            note = " (deterministic)" if not r["verdict"].startswith("no change") else ""
        print(f"{k:<{width}}{_fmt(r['base']):>14}{_fmt(r['new']):>14}{ch:>10}{p:>10}  {reps:>7}  "
              f"{r['verdict']}{note}", file=out)
    only_b = [k for k in sb if k not in sn]
    only_n = [k for k in sn if k not in sb]
    if only_b:
        print(f"\nonly in BASE ({len(only_b)}): " + ", ".join(only_b), file=out)
    if only_n:
        print(f"\nonly in NEW ({len(only_n)}): " + ", ".join(only_n), file=out)
    reg = counts.get("REGRESSION", 0)
    summary = ", ".join(f"{n} {v}" for v, n in sorted(counts.items())) or "nothing in common"
    print(f"\n{len(common)} benchmark(s) compared: {summary}", file=out)
    if not common:
        print("warning: BASE and NEW share no benchmark names (names carry the variant: base/...)", file=out)
    return 1 if reg else 0


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description="Compare two Tachyon benchmark runs; exit 1 on a regression.")
    ap.add_argument("base", help="baseline run directory or merged JSON file")
    ap.add_argument("new", help="new run directory or merged JSON file")
    ap.add_argument("--threshold", type=float, help="percent worse that counts (default 1 icount, 5 cycles)")
    ap.add_argument("--alpha", type=float, default=0.05, help="significance level of the U test")
    ap.add_argument("--filter", help="only benchmarks whose variant/name matches this regex")
    a = ap.parse_args(argv)
    if a.threshold is not None and a.threshold < 0 or not 0 < a.alpha < 1:
        ap.error("--threshold must be >= 0 and --alpha in (0, 1)")
    R.need("scipy")
    try:
        base, new = R.load(a.base), R.load(a.new)
        sys.stdout.reconfigure(line_buffering=True)
        return compare(base, new, a.threshold, a.alpha, a.filter)
    except (R.LoadError, ValueError, re.error) as e:
        print(f"compare: refusing: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
