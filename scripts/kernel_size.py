"""S-1, the kernel's size: what `size` says of the objects built from kernel/ (the kernel proper)
and of the booted image, which also links self tests and the benchmark harness."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent


def _size_totals(paths: list[Path]) -> Optional[tuple[int, int, int]]:
    """Summed text/data/bss as `size` (Berkeley format, rodata counted as text) reports them."""
    try:
        out = subprocess.run(["size", "-t", *map(str, paths)], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, timeout=30).stdout.decode().splitlines()
        text, data, bss = (int(v) for v in out[-1].split()[:3])
    except (OSError, IndexError, ValueError, subprocess.TimeoutExpired):
        return None
    return text, data, bss


def kernel_size(elf: Path) -> Optional[dict]:
    """S-1 counts the kernel proper: the objects built from kernel/ (next to the ELF, in
    <build>/kernel/). The image also links the in-kernel self tests and the benchmark harness,
    which a production kernel would not carry; its own size is recorded beside."""
    if not elf.is_file():
        return None
    image = _size_totals([elf])
    objs = sorted((elf.parent / "kernel").rglob("*.o"))
    proper = _size_totals(objs) if objs else None
    if image is None:
        return None
    text, data, bss = proper or image
    return {"elf": os.path.relpath(elf, ROOT) if elf.resolve().is_relative_to(ROOT) else str(elf),
            "scope": "kernel/ objects" if proper else "whole image",
            "text": text, "data": data, "bss": bss, "text_data": text + data,
            "image_text_data": image[0] + image[1]}
