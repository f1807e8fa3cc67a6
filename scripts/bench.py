#!/usr/bin/env python3
"""The host side of `make bench`: boot every variant of the matrix, collect, merge, report.

    scripts/bench.py run [--quick] [--out DIR] [--variants A,B] [--bench FILTER] [--boots N]
                         [--timeout S] [--jobs N] [--kernel IMAGE] [--elf ELF] [--no-plots]
                         [--user-dir DIR | --no-user]
    scripts/bench.py merge RUN_DIR      re-merge RUN_DIR/raw/*.json, rewrite CSV, report, plots
    scripts/bench.py list               print the matrix (bench/matrix.py)

Each boot goes through scripts/qemu.sh with `--cmdline "bench=FILTER <variant options>"` and the
user-space benchmark programs as modules (ubench and its partners, from $BUILD/user: `make user`).
The kernel prints BENCH-JSON-BEGIN, Google Benchmark JSON, BENCH-JSON-END, then starts ubench,
which prints its own block for the user-space benchmarks under the same filter; the kernel exits
33 (35 after `bench: error:` lines, ubench's included). Per boot, as soon as it ends:
    logs/boot-<variant>-boot<k>.log     the serial log (and .stderr: what qemu.sh/QEMU said)
    raw/<variant>-boot<k>.json          the boot's blocks merged (scripts/bench_extract.py: the
                                        kernel's context, ubench's nested under "ubench", every
                                        entry tagged with its "harness") plus the host context
    raw/<variant>-boot<k>.partial.txt   whatever JSON text arrived, when it did not parse
Then, over every boot whose JSON is complete (even a boot that later failed):
    merged.json    Google Benchmark JSON; benchmark names carry the variant as a prefix
                   ("base/frame_alloc/order:0"), with "variant", "benchmark" (the kernel's own
                   name) and "boot" fields; repetition_index runs over all boots; the kernel's
                   per-boot aggregates are replaced by mean/median/stddev over all of them, so
                   Google's compare.py and ours see one distribution per benchmark
    summary.csv, report.md, plots/      from scripts/bench_report.py and scripts/bench_plot.py
    run.json       what was run and how each boot ended
results/latest points at the newest run. Exit status: 0 when every boot succeeded, 1 when any
failed (after writing everything else), 2 for bad usage or when nothing could be booted.

Timing mode: MODE=icount|cycles picks it; otherwise cycles where qemu.sh finds hardware KVM and
icount elsewhere. The host context added to every file: mode, unit, accel, qemu_cpu,
qemu_version, host_cpu, host_kernel, run_id, variant, boot, smp, kernel_size, user_programs.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))
import bench_report  # noqa: E402
from bench_extract import BEGIN, END, Extracted, check_doc, extract  # noqa: E402,F401
from bench_merge import iterations, load_raw_dir, merge  # noqa: E402,F401
from kernel_size import kernel_size  # noqa: E402
import bootlog  # noqa: E402
import matrix  # noqa: E402

QEMU_SH = ROOT / "scripts" / "qemu.sh"
UNITS = {"icount": "instructions", "cycles": "cycles"}
FULL_BOOTS, QUICK_BOOTS = 3, 1
# Generous (a whole icount matrix boot takes seconds today), since CI machines are shared; a
# kernel that hangs instead of exiting still costs this much per boot.
DEFAULT_TIMEOUT_S = 300.0
# What the kernel's command-line parser accepts in a value (kernel/core/cmdline.c). Anything else
# is rejected there, bench= is then ignored and the boot idles until the timeout: refuse it here.
BENCH_FILTER = re.compile(r"^[A-Za-z0-9_.,:/+*?-]+$")
EXIT_BENCH_ERRORS = 35


class BenchError(Exception):  # stops the whole run: bad usage, qemu.sh refusing the mode
    pass


# ---------------------------------------------------------------------------------------------
# One boot's verdict


def judge(log: str, rc: Optional[int], timed_out: bool, timeout_s: Optional[float] = None,
          stderr: str = "") -> tuple[list[str], Extracted, bootlog.BootResult]:
    """Every problem with one benchmark boot, most important first; [] means it succeeded."""
    x = extract(log)
    r = bootlog.parse(log, None if timed_out else rc, timed_out=timed_out, timeout_s=timeout_s)
    p: list[str] = []
    if rc == 2 and not timed_out:
        said = [ln for ln in stderr.splitlines() if ln.startswith("qemu.sh:") and "accel=" not in ln]
        p.append("qemu.sh refused: " + (said[-1][9:] if said else "exit status 2"))
    if r.exception:
        p.append(f"panic: {r.exception.describe()}")
    elif r.panic:
        p.append(f"panic: {r.panic}")
    if timed_out:
        state = "JSON was complete" if x.ok else "JSON incomplete"
        p.append(f"hang: QEMU still running after {timeout_s:g} s ({state})" if timeout_s
                 else f"hang: QEMU still running ({state})")
    p += [f"cmdline error: {e}" for e in r.cmdline_errors]
    p += [f"bench error: {e}" for e in x.bench_errors]
    if x.error:
        p.append(f"JSON: {x.error}")
    elif not iterations(x.doc):
        p.append("JSON: no benchmark results in it")
    if not timed_out and rc != bootlog.EXIT_PASSED and not (rc == 2 and p):
        what = ("benchmark errors" if rc == EXIT_BENCH_ERRORS else None)
        p.append(f"exit status {rc} ({what})" if what else bootlog.describe_exit(rc))
    return p, x, r


# ---------------------------------------------------------------------------------------------
# Mode and host context


def _explain(env: dict) -> tuple[int, str]:
    cp = subprocess.run(["bash", str(QEMU_SH), "--explain"], env=env, stdin=subprocess.DEVNULL,
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=180)
    return cp.returncode, cp.stdout.decode("utf-8", errors="replace")


def _field(text: str, key: str) -> str:
    m = re.search(rf"^\s*{key}:\s*(.*)$", text, re.MULTILINE)
    return m.group(1).strip() if m else ""


def decide_mode(env: dict) -> dict:
    """Which timing mode, accelerator and CPU model the boots will use, as qemu.sh decides."""
    mode = env.get("MODE", "")
    if not mode:
        if env.get("ACCEL") == "kvm":
            mode = "cycles"
        elif env.get("ACCEL") == "tcg":
            mode = "icount"
        else:
            rc, out = _explain({k: v for k, v in env.items() if k != "MODE"})
            if rc != 0:
                raise BenchError(f"scripts/qemu.sh --explain failed:\n{out.strip()}")
            # Cycles only mean something on real hardware; without it the reference machine is
            # icount, which is what CI and the committed baseline use.
            mode = "cycles" if _field(out, "hardware_kvm").startswith("yes") else "icount"
    if mode not in UNITS:
        raise BenchError(f"unknown MODE={mode!r} (expected icount or cycles)")
    rc, out = _explain({**env, "MODE": mode})
    if rc != 0:
        raise BenchError(f"scripts/qemu.sh refuses MODE={mode}:\n{out.strip()}")
    info = {"mode": mode, "unit": UNITS[mode], "accel": _field(out, "accel"),
            "accel_reason": _field(out, "reason"), "qemu_cpu": _field(out, "cpu").split(" (")[0]}
    if mode == "cycles" and info["accel"] != "kvm":
        info["warning"] = ("cycles mode under TCG: the TSC follows emulation speed, so these figures "
                           "are not results (use MODE=icount, or hardware KVM)")
    return info


# ---------------------------------------------------------------------------------------------
# Running the matrix


@dataclass
class Outcome:
    index: int
    variant: str
    boot: int
    problems: list[str] = field(default_factory=list)
    log: str = ""
    raw: str = ""
    partial: str = ""
    n_benchmarks: int = 0
    wall_s: float = 0.0
    ready_us: Optional[int] = None
    warnings: list[str] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _rel(p: Path) -> str:
    p = Path(p).resolve()
    return os.path.relpath(p) if p.is_relative_to(Path.cwd()) else str(p)


def run_one(job: dict, image: str, out: Path, host_ctx: dict, timeout_s: float) -> Outcome:
    import run_tests  # noqa: E402  (pulls in the boot-test cases; only needed when booting)

    v: matrix.Variant = job["variant"]
    o = Outcome(job["index"], v.name, job["boot"])
    name = f"{v.name}-boot{job['boot']}"
    cmdline = " ".join(x for x in (f"bench={job['filter']}", v.options) if x)
    env = {**v.env, "MODE": host_ctx["mode"], "SMP": str(v.smp_for(host_ctx["mode"]))}
    case = run_tests.boot_cases.Case(name, cmdline, env, timeout_s=timeout_s, qemu_args=job["modules"])
    boot = run_tests.run_boot(case, image, out / "logs")
    o.log, o.wall_s = _rel(boot.log_path), boot.wall_total
    if boot.error:
        o.problems = [boot.error]
        return o
    o.problems, x, r = judge(boot.log, boot.rc, boot.timed_out, timeout_s, boot.stderr)
    o.ready_us, o.warnings = r.ready_us, list(x.warnings)
    if boot.capped:
        o.problems.append(f"serial log capped at {run_tests.LOG_CAP_BYTES >> 20} MiB")
    o.tail = [ln for ln in boot.log.rstrip("\n").split("\n")[-8:]] if o.problems else []
    if x.doc is not None and not x.error:
        ctx = x.doc.setdefault("context", {})
        if "commit" not in ctx and "kernel_commit" in ctx:  # libbench's name for it
            ctx["commit"] = ctx["kernel_commit"]
        ctx.update(host_ctx)
        ctx.update(variant=v.name, boot=job["boot"], smp=int(env["SMP"]), ready_us=r.ready_us,
                   qemu_line=boot.qemu_line.removeprefix("qemu.sh: "), bench_filter=job["filter"],
                   kernel_options=v.options)
        raw = out / "raw" / f"{name}.json"
        tmp = raw.with_suffix(".tmp")
        tmp.write_text(json.dumps(x.doc, indent=1) + "\n")
        tmp.replace(raw)  # a half-written raw file must never look like data
        o.raw, o.n_benchmarks = _rel(raw), len({b["name"] for b in iterations(x.doc)})
    elif x.text:
        part = out / "raw" / f"{name}.partial.txt"
        part.write_text(x.text)
        o.partial = _rel(part)
    return o


def print_outcome(o: Outcome, total: int) -> None:
    head = f"[{o.index}/{total}] variant={o.variant} boot={o.boot} ..."
    if o.ok:
        print(f"{head} ok {o.n_benchmarks} benchmarks, {o.wall_s:.1f} s", flush=True)
    else:
        print(f"{head} FAILED: {o.problems[0]}", flush=True)
        for p in o.problems[1:]:
            print(f"    also: {p}")
        print(f"    log: {o.log}" + (f"  (partial JSON: {o.partial})" if o.partial else "")
              + (f"  (JSON kept: {o.raw})" if o.raw else ""))
        for ln in o.tail:
            print(f"    | {ln}")
    for w in o.warnings:
        print(f"    warning: {w}")
    sys.stdout.flush()


def finish(out: Path, plots: bool = True) -> list[str]:
    """Merge raw/, then CSV, plots and report. Returns the problems met on the way."""
    problems: list[str] = []
    raws = load_raw_dir(out / "raw")
    if not raws:
        return ["no boot produced valid JSON: nothing to merge, report or plot"]
    manifest = json.loads((out / "run.json").read_text()) if (out / "run.json").is_file() else {}
    extra = {k: manifest[k] for k in ("run_id", "date", "quick", "failed_boots") if k in manifest}
    try:
        merged = merge(raws, extra)
    except ValueError as e:
        return [f"merge: {e}"]
    (out / "merged.json").write_text(json.dumps(merged, indent=1) + "\n")
    if plots:
        cmd = [sys.executable, str(ROOT / "scripts" / "bench_plot.py"), str(out)]
        cp = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        text = cp.stdout.decode(errors="replace").rstrip()
        if text:
            print(text)
        if cp.returncode != 0:
            problems.append(f"bench_plot.py failed (exit {cp.returncode})")
    try:
        bench_report.write_all(out)
    except Exception as e:  # the report must not take the collected data down with it
        problems.append(f"bench_report: {e!r}")
    return problems


def _update_latest(out: Path) -> None:
    latest = ROOT / "results" / "latest"
    # Only a run with data: `make compare NEW=results/latest` must find something to compare.
    if out.resolve().parent != (ROOT / "results" / "runs").resolve() or not (out / "merged.json").is_file():
        return
    tmp = latest.with_name(".latest.tmp")
    try:
        if tmp.is_symlink():
            tmp.unlink()
        tmp.symlink_to(Path("runs") / out.name)
        tmp.replace(latest)
    except OSError as e:
        print(f"bench: cannot update results/latest: {e}", file=sys.stderr)


def _on_sigterm(signum, frame):
    raise KeyboardInterrupt


def user_programs(user_dir: Path) -> list[Path]:
    """ubench and the programs it spawns: the echo service (services/echo, the server of the
    transport/* round trips) and the partners of bench/user/partners/*.c, as services/user.mk
    builds them."""
    names = ["ubench", "echo"] + sorted(p.stem for p in (ROOT / "bench" / "user" / "partners").glob("*.c"))
    return [user_dir / n for n in names]


def cmd_run(a) -> int:
    try:
        variants = matrix.select([v for v in (a.variants or "").split(",") if v], quick=a.quick)
    except matrix.UnknownVariant as e:
        print(f"bench: {e}", file=sys.stderr)
        return 2
    build = Path(os.environ.get("BUILD", "build"))
    build = build if build.is_absolute() else ROOT / build
    modules: tuple = ()
    if not a.no_user:
        progs = user_programs(Path(a.user_dir) if a.user_dir else build / "user")
        missing = [_rel(p) for p in progs if not p.is_file()]
        if missing:
            print(f"bench: user-space benchmark programs not built: {', '.join(missing)} (run: make "
                  "user; or --no-user for the kernel's benchmarks alone)", file=sys.stderr)
            return 2
        modules = tuple(x for p in progs for x in ("--module", str(p.resolve())))
    image = Path(a.kernel) if a.kernel else build / "tachyon.bin"
    if not image.is_file():
        print(f"bench: kernel image {image} not found (run: make)", file=sys.stderr)
        return 2
    try:
        host = decide_mode(dict(os.environ))
    except (BenchError, subprocess.TimeoutExpired) as e:
        print(f"bench: {e}", file=sys.stderr)
        return 2
    boots = a.boots or (QUICK_BOOTS if a.quick else FULL_BOOTS)
    now = datetime.datetime.now(datetime.timezone.utc)
    run_id = now.strftime("%Y%m%d-%H%M%S") + f"-{host['mode']}" + ("-quick" if a.quick else "")
    out = Path(a.out) if a.out else ROOT / "results" / "runs" / run_id
    run_id = out.name
    if out.exists() and any(out.iterdir()):
        print(f"bench: {out} exists and is not empty; pick another --out", file=sys.stderr)
        return 2
    (out / "logs").mkdir(parents=True, exist_ok=True)
    (out / "raw").mkdir(exist_ok=True)
    qemu = os.environ.get("QEMU", "qemu-system-x86_64")
    elf = Path(a.elf) if a.elf else image.parent / "kernel.elf"
    host.update(run_id=run_id, qemu_version=bench_report.first_line([qemu, "--version"]),
                host_cpu=bench_report.host_cpu(),
                host_kernel=platform.release(), kernel_size=kernel_size(elf),
                kernel_image=_rel(image),
                user_programs=" ".join(Path(m).name for m in modules[1::2]) or "none (--no-user)")
    jobs = [{"variant": v, "boot": k, "filter": a.bench, "modules": modules}
            for v in variants for k in range(1, boots + 1)]
    jobs = [dict(j, index=i) for i, j in enumerate(jobs, 1)]
    njobs = a.jobs or (2 if host["mode"] == "icount" else 1)
    if host["mode"] == "cycles" and njobs > 1:
        print("bench: warning: parallel boots in cycles mode disturb each other's timings", file=sys.stderr)
    manifest = {"run_id": run_id, "date": now.isoformat(timespec="seconds"), "quick": a.quick,
                "argv": sys.argv[1:], "host": host, "boots_per_variant": boots, "bench_filter": a.bench,
                "timeout_s": a.timeout, "variants": [vars(v) for v in variants], "outcomes": []}
    print(f"bench: run {run_id}: {len(variants)} variant(s) x {boots} boot(s), mode={host['mode']} "
          f"({host['unit']}), accel={host['accel']}, cpu={host['qemu_cpu']}, {njobs} at a time")
    print(f"bench: output in {_rel(out)}")
    if host.get("warning"):
        print(f"bench: WARNING: {host['warning']}")

    outcomes: list[Outcome] = []
    interrupted = False
    # make/CI stop jobs with SIGTERM: treat it as Ctrl-C so QEMUs die and partial results are written.
    signal.signal(signal.SIGTERM, _on_sigterm)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, njobs))
    try:
        futs = {pool.submit(run_one, j, str(image.resolve()), out, host, a.timeout): j for j in jobs}
        for fut in concurrent.futures.as_completed(futs):
            j = futs[fut]
            try:
                o = fut.result()
            except Exception as e:  # a harness bug must fail that boot loudly, not the run
                o = Outcome(j["index"], j["variant"].name, j["boot"], problems=[f"harness error: {e!r}"])
            outcomes.append(o)
            print_outcome(o, len(jobs))
    except KeyboardInterrupt:
        interrupted = True
        print("bench: interrupted; stopping QEMU and writing what was collected", file=sys.stderr)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        if "run_tests" in sys.modules:
            sys.modules["run_tests"]._kill_all_live()

    outcomes.sort(key=lambda o: o.index)
    failed = [o for o in outcomes if not o.ok]
    manifest["outcomes"] = [vars(o) for o in outcomes]
    manifest["failed_boots"] = [f"{o.variant}-boot{o.boot}: {o.problems[0]}" for o in failed]
    (out / "run.json").write_text(json.dumps(manifest, indent=1) + "\n")
    problems = finish(out, plots=not a.no_plots)
    (out / "run.json").write_text(json.dumps({**manifest, "finish_problems": problems}, indent=1) + "\n")
    _update_latest(out)

    print("".join(f"bench: {p}\n" for p in problems), end="", file=sys.stderr)
    done = len(outcomes) - len(failed)
    print(f"bench: {done} of {len(jobs)} boot(s) succeeded; report: {_rel(out / 'report.md')}")
    for o in failed:
        print(f"bench: FAILED {o.variant} boot {o.boot}: {o.problems[0]} (log: {o.log})")
    if interrupted:
        return 130
    return 1 if failed or len(outcomes) < len(jobs) or problems else 0


def cmd_merge(a) -> int:
    if not (Path(a.run_dir) / "raw").is_dir():
        print(f"bench: {a.run_dir} has no raw/ directory (not a run directory?)", file=sys.stderr)
        return 2
    problems = finish(Path(a.run_dir), plots=not a.no_plots)
    print("".join(f"bench: {p}\n" for p in problems), end="", file=sys.stderr)
    return 1 if problems else 0


BASELINE_FILES = ("summary.csv", "report.md", "run.json")


def cmd_baseline(a) -> int:
    """Copies a finished run to results/baseline, the reference `make compare` and CI use. Raw
    samples are dropped from merged.json: the comparison needs only the per-repetition figures,
    and the baseline is committed, so it stays small."""
    run, dest = Path(a.run_dir), ROOT / "results" / "baseline"
    if not (run / "merged.json").is_file():
        print(f"bench: {run} has no merged.json (not a finished run?)", file=sys.stderr)
        return 2
    doc = json.loads((run / "merged.json").read_text())
    for b in doc.get("benchmarks", []):
        b.pop("samples", None)
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    (dest / "merged.json").write_text(json.dumps(doc, indent=1) + "\n")
    for name in BASELINE_FILES:
        if (run / name).is_file():
            shutil.copy2(run / name, dest / name)
    if (run / "plots").is_dir():
        shutil.copytree(run / "plots", dest / "plots")
    print(f"bench: baseline is now {run.name} ({dest.relative_to(ROOT)})")
    return 0


def cmd_list(_a) -> int:
    for v in matrix.VARIANTS:
        print(f"{v.name:24} options={v.options!r:30} quick={'yes' if v.quick else 'no':3} {v.description}")
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description="Run Tachyon's benchmark matrix and write results.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="boot the matrix and write results/runs/<id>")
    r.add_argument("--quick", action="store_true", help=f"quick matrix, {QUICK_BOOTS} boot per variant")
    r.add_argument("--out", help="run directory (default results/runs/<date>-<mode>[-quick])")
    r.add_argument("--variants", help="comma list of variant names (default: the whole matrix)")
    r.add_argument("--bench", default="all", help="kernel bench= filter: all, or names/globs (default all)")
    r.add_argument("--boots", type=int, help=f"boots per variant (default {FULL_BOOTS}, quick {QUICK_BOOTS})")
    r.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds per boot")
    r.add_argument("--jobs", type=int, help="boots at a time (default 2 under icount, 1 in cycles mode)")
    r.add_argument("--kernel", help="kernel image (default $BUILD/tachyon.bin)")
    r.add_argument("--elf", help="kernel ELF for the image size (default next to the image)")
    r.add_argument("--no-plots", action="store_true", help="skip bench_plot.py")
    r.add_argument("--user-dir", help="where ubench and its partners are (default $BUILD/user)")
    r.add_argument("--no-user", action="store_true", help="boot without them: kernel benchmarks only")
    m = sub.add_parser("merge", help="re-merge a run directory's raw JSON and rewrite its outputs")
    m.add_argument("run_dir")
    m.add_argument("--no-plots", action="store_true")
    sub.add_parser("list", help="print the variants of the matrix")
    bl = sub.add_parser("baseline", help="make a finished run the committed baseline (results/baseline)")
    bl.add_argument("run_dir")
    a = ap.parse_args(argv)
    if a.cmd == "run" and (a.boots is not None and a.boots < 1 or a.timeout <= 0):
        ap.error("--boots and --timeout must be positive")
    if a.cmd == "run" and not BENCH_FILTER.match(a.bench):
        ap.error(f"--bench {a.bench!r}: the kernel command line accepts only letters, digits and "
                 "_.,:/+-*? in a value (a comma list of names and globs)")
    sys.stdout.reconfigure(line_buffering=True)
    return {"run": cmd_run, "merge": cmd_merge, "list": cmd_list, "baseline": cmd_baseline}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
