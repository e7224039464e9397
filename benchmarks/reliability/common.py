"""Where results go, and one line of JSON per benchmark."""
from __future__ import annotations

import json
import platform
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results")


def write(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    meta = {"when": time.strftime("%Y-%m-%d %H:%M:%S"), "python": platform.python_version(),
            "machine": f"{platform.machine()}, {_cores()} cores"}
    path.write_text(json.dumps({"benchmark": name, **meta, **payload}, indent=2, default=str) + "\n")
    return path


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
