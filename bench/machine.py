"""What both benchmarks print about the machine: package versions and the load average."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path


def version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "-"


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"
