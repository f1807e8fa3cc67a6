"""Pulling the benchmark JSON out of one boot's serial log (scripts/bench.py).

A boot prints one block per harness, each between a BENCH-JSON-BEGIN and a BENCH-JSON-END line:
first the kernel's, then, when the boot had the `ubench` module, the user-space one
(bench/user/ubench.c). extract() parses every block and merges them into one Google Benchmark
document for the boot:
  - context: the first block's (the kernel's); every later block's context is kept whole as a
    nested object under its "harness" name (context["ubench"] = {..., "timer_overhead_ticks"});
  - benchmarks: every block's entries in log order, each tagged "harness" (from its block's
    context) so that a figure says which harness measured it with which timer overhead.
A benchmark name reported by two blocks is an error (the merged document could not tell them
apart). Two `tachyon: ready` lines mean the kernel restarted, and the log is refused whatever its
blocks say; counting BEGIN lines cannot tell a restart from a second harness.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Optional

BEGIN, END = "BENCH-JSON-BEGIN", "BENCH-JSON-END"

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_READY = re.compile(r"^tachyon: ready in ")  # once per kernel start (scripts/bootlog.py)
_BENCH_ERR = re.compile(r"^bench: error: ?(.*)$")
# Pretty-printed JSON lines start with one of these; kernel messages that slipped into the block
# (an interrupt handler printing) start with a word.
_JSONISH = re.compile(r'^\s*([{}\[\]",\-0-9]|(true|false|null)\s*,?\s*$)')


@dataclass
class Extracted:
    doc: Optional[dict] = None
    error: str = ""  # "" when doc is usable
    text: str = ""  # the JSON text received (kept for inspection when it is broken)
    warnings: list[str] = field(default_factory=list)
    bench_errors: list[str] = field(default_factory=list)
    blocks: int = 0  # BEGIN lines seen

    @property
    def ok(self) -> bool:
        return self.doc is not None and not self.error


def _clean(line: str) -> str:
    return _ANSI.sub("", line.replace("\x00", "")).rstrip("\r")


def _spans(lines: list[str]) -> list[tuple[int, int, bool]]:
    """(BEGIN index, end index, closed) per block: end is the END line's index or, for a block
    that is cut off (the last one returned), the next BEGIN's or the end of the log."""
    spans: list[tuple[int, int, bool]] = []
    i = 0
    while (b := next((k for k in range(i, len(lines)) if BEGIN in lines[k]), None)) is not None:
        e = next((k for k in range(b + 1, len(lines)) if END in lines[k] or BEGIN in lines[k]), len(lines))
        closed = e < len(lines) and END in lines[e]
        spans.append((b, e, closed))
        if not closed:
            break
        i = e + 1
    return spans


def _parse_block(lines: list[str], b: int, e: int, x: Extracted) -> tuple[Optional[dict], str]:
    head = lines[b].split(BEGIN, 1)[1]
    tail = lines[e].split(END, 1)[0]
    body = ([head] if head.strip() else []) + lines[b + 1 : e] + ([tail] if tail.strip() else [])
    # libbench streams the document, so its error lines land inside it; they are counted already.
    body = [ln for ln in body if not _BENCH_ERR.match(ln.strip())]
    x.text = "\n".join(body)
    try:
        doc = json.loads(x.text)
    except json.JSONDecodeError as err:
        kept = [ln for ln in body if _JSONISH.match(ln) or not ln.strip()]
        stray = [ln for ln in body if ln.strip() and not _JSONISH.match(ln)]
        try:
            doc = json.loads("\n".join(kept)) if stray else None
        except json.JSONDecodeError:
            doc = None
        if doc is None:
            bad = body[err.lineno - 1] if 0 < err.lineno <= len(body) else ""
            return None, f"invalid JSON: {err.msg} at line {err.lineno} of the block: {bad[:80]!r}"
        x.warnings.append(f"removed {len(stray)} non-JSON line(s) from inside the JSON block, "
                          f"first: {stray[0][:80]!r}")
    return doc, check_doc(doc)


def extract(log: str | bytes) -> Extracted:
    """Every BENCH-JSON block of a serial log, checked and merged into one document."""
    if isinstance(log, bytes):
        log = log.decode("utf-8", errors="replace")
    x = Extracted()
    lines = [_clean(ln) for ln in log.split("\n")]
    for ln in lines:
        if m := _BENCH_ERR.match(ln.strip()):
            x.bench_errors.append(m.group(1).strip() or "(no message)")
    ready = [i + 1 for i, ln in enumerate(lines) if _READY.match(ln)]
    if len(ready) > 1:
        x.error = (f"the kernel restarted: {len(ready)} 'tachyon: ready' lines "
                   f"(lines {', '.join(map(str, ready))})")
        return x
    spans = _spans(lines)
    x.blocks = sum(1 for ln in lines if BEGIN in ln)
    if not spans:
        x.error = f"no {BEGIN} line in the serial log"
        return x
    docs = []
    for k, (b, e, closed) in enumerate(spans, 1):
        where = f"block {k} of {x.blocks}: " if x.blocks > 1 else ""
        if not closed:
            body = lines[b + 1 : e]
            x.text = "\n".join(body)
            last = next((ln for ln in reversed(body) if ln.strip()), "")
            nxt = f" before the next {BEGIN}" if e < len(lines) else ""
            x.error = (f"{where}truncated: {BEGIN} without {END}{nxt} ({len(x.text)} bytes of JSON "
                       "received" + (f", last line {last[:60]!r})" if last else ")"))
            return x
        doc, err = _parse_block(lines, b, e, x)
        if doc is None or err:
            x.error = where + err
            x.doc = doc if x.blocks == 1 else None
            return x
        docs.append(doc)
    x.doc, x.error = merge_blocks(docs)
    return x


def check_doc(doc) -> str:
    """"" when doc has the Google Benchmark shape the rest of the tools rely on."""
    if not isinstance(doc, dict):
        return "JSON is not an object"
    if not isinstance(doc.get("benchmarks"), list):
        return 'JSON has no "benchmarks" array'
    if not isinstance(doc.get("context", {}), dict):
        return '"context" is not an object'
    for i, b in enumerate(doc["benchmarks"]):
        if not isinstance(b, dict) or not isinstance(b.get("name"), str):
            return f"benchmark entry #{i} has no name"
        if b.get("run_type", "iteration") != "iteration":
            continue
        if not all(isinstance(b.get(k), (int, float)) for k in ("real_time", "cpu_time")):
            return f"benchmark {b['name']!r} has no numeric real_time/cpu_time"
        s = b.get("samples")
        if s is not None and not (isinstance(s, list) and all(isinstance(v, (int, float)) for v in s)):
            return f"benchmark {b['name']!r} has a non-numeric samples array"
    return ""


def merge_blocks(docs: list[dict]) -> tuple[dict, str]:
    """One boot document from its blocks (see the module's docstring), and an error or ""."""
    ctx = dict(docs[0].get("context", {}))
    out: dict = {"context": ctx, "benchmarks": []}
    owner: dict[str, str] = {}
    for k, d in enumerate(docs):
        c = d.get("context", {})
        harness = str(c.get("harness") or ("kernel" if k == 0 else f"block{k + 1}"))
        if k > 0:
            if harness in ctx:
                return out, f"block {k + 1}: harness name {harness!r} is already a context key"
            ctx[harness] = c
        for b in d["benchmarks"]:
            name = b["name"]
            if b.get("run_type", "iteration") == "iteration" and owner.setdefault(name, harness) != harness:
                return out, f"benchmark {name!r} is reported by both {owner[name]} and {harness}"
            out["benchmarks"].append({**b, "harness": harness})
    if len(docs) > 1:
        ctx["harnesses"] = [str(d.get("context", {}).get("harness") or "?") for d in docs]
    return out, ""
