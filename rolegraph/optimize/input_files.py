"""The files a search run read from disk (its data file and its pool file), as its store records them: by absolute
path and sha256 of their content (`RunStore.create`, `RunStore.check_inputs`).

Why: a resumed search, `eval --add-to` and `route fit` read those files again and pair what they score with outcomes
stored earlier, so scores of edited items (or of models a pool file now defines otherwise) must never be paired with
the old ones: a changed or missing input is found here and refused by the store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rolegraph.fileio import file_sha256

INPUTS_KEY = "inputs"  # meta row: {"data": {"path", "sha256"}, "pool": {...}} of the files the run read
INPUT_KINDS = {"data": "data file", "pool": "pool file"}  # what each input is called in messages


def input_paths(config: dict[str, Any]) -> dict[str, str]:
    """The files a run's config says it reads ({"data": path, "pool": path}; absent when not given)."""
    paths = {"data": (config.get("task_args") or {}).get("data"), "pool": config.get("pool")}
    return {kind: str(path) for kind, path in paths.items() if path}


def fingerprint_inputs(config: dict[str, Any]) -> dict[str, dict[str, str | None]]:
    """What `RunStore.create` records of the files the run reads: absolute path and content hash."""
    out = {}
    for kind, path in input_paths(config).items():
        resolved = Path(path).expanduser().resolve()
        out[kind] = {"path": str(resolved), "sha256": file_sha256(resolved)}
    return out


def changed_input(recorded: dict[str, dict[str, str | None]] | None, kind: str) -> str | None:
    """Why the run's recorded `kind` input ("data" or "pool") is not what it was, or None when it is the same
    or unknown (a run from before inputs were recorded, or no such input)."""
    entry = (recorded or {}).get(kind) or {}
    then, path = entry.get("sha256"), entry.get("path")
    if not then or not path:
        return None
    now = file_sha256(path)
    if now == then:
        return None
    what = f"{INPUT_KINDS[kind]} {path}"
    if now is None:
        return f"its {what} is gone"
    return f"its {what} changed since the run read it (sha256 {then[:12]}, now {now[:12]})"
