"""What the numbers were measured on: CPU, cores, memory, load, and the software versions."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

_PACKAGES = (
    "hookgram",
    "aiogram",
    "aiohttp",
    "python-telegram-bot",
    "tornado",
    "httpx",
    "pydantic",
    "uvloop",
    "orjson",
    "SQLAlchemy",
    "aiosqlite",
)


def describe() -> dict[str, Any]:
    """The machine and software, for the results file and the docs."""
    return {
        "cpu": _cpu_model(),
        "nproc": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "wrk": _wrk_version(),
        "packages": {name: _version(name) for name in _PACKAGES},
        "uptime": uptime(),
    }


def uptime() -> str:
    """`uptime`'s line: how busy the (shared) machine was."""
    done = subprocess.run(["uptime"], capture_output=True, text=True, check=False)
    return done.stdout.strip()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _wrk_version() -> str:
    done = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).splitlines()[0] if (done.stdout or done.stderr) else "?"


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
