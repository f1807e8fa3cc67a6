"""How scripts/run_tests.py reports: one PASS/FAIL line per result, and the excerpts of output
that explain a failure."""

from __future__ import annotations

import fnmatch
import re
import signal
from typing import Optional

TAIL_LINES = 15


class Results:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def record(self, ok: bool, name: str, why: str = "", details: Optional[list[str]] = None) -> None:
        if ok:
            self.passed += 1
            print(f"PASS {name}" + (f" ({why})" if why else ""))
        else:
            self.failed += 1
            print(f"FAIL {name}" + (f": {why}" if why else ""))
            for d in details or []:
                print(f"    {d}")


def selected(only: list[str], *names: str) -> bool:
    if not only:
        return True
    return any(fnmatch.fnmatchcase(n, pat) for pat in only for n in names)


def tail(text: str, n: int = TAIL_LINES) -> list[str]:
    lines = [ln.rstrip("\r") for ln in text.rstrip("\n").split("\n")] if text.strip() else []
    return lines[-n:]


_SANITIZER = re.compile(r"ERROR: \w+Sanitizer|runtime error:|^SUMMARY: ")


def crash_excerpt(text: str) -> list[str]:
    """The useful part of a dead program's output: a sanitizer report's head, else the tail."""
    lines = [ln.rstrip("\r") for ln in text.split("\n")]
    for i, ln in enumerate(lines):
        if _SANITIZER.search(ln):
            # The report's head (what and where) matters; its end is the shadow-byte legend.
            head = [x for x in lines[max(0, i - 2) : i + TAIL_LINES] if x.strip()]
            summary = [x for x in lines[i + TAIL_LINES :] if x.startswith("SUMMARY: ")]
            return head + summary[:1]
    return tail(text)


def describe_rc(rc: int) -> str:
    if rc < 0:
        try:
            return f"killed by {signal.Signals(-rc).name}"
        except ValueError:
            return f"killed by signal {-rc}"
    return f"exit status {rc}"
