"""The files a search run read from disk (its data file and its pool file), as its store records them: by absolute
path and sha256 of their content (`RunStore.create`, `RunStore.check_inputs`), and the pool file also by what it
defines (`pool_fingerprint`).

Why: a resumed search, `eval --add-to` and `route fit` read those files again and pair what they score with outcomes
stored earlier, so scores of edited items (or of models a pool file now defines otherwise) must never be paired with
the old ones: a changed or missing input is found here and refused by the store. One change is not refused: a pool
file edited only in its request settings (`REQUEST_SETTINGS`, e.g. a `timeout_s` raised after a search stopped on
timeouts, as the stop's advice says to do), which decide how requests are sent and never what a stored outcome
holds. Without it the advice could not be followed: the edit was refused, and the old file timed out again.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Any

from rolegraph.errors import RolegraphError, RolegraphWarning
from rolegraph.fileio import file_sha256
from rolegraph.models.pool import ModelPool

INPUTS_KEY = "inputs"  # meta row: {"data": {"path", "sha256"}, "pool": {...}} of the files the run read
INPUT_KINDS = {"data": "data file", "pool": "pool file"}  # what each input is called in messages
REQUEST_SETTINGS = ("timeout_s", "max_retries")
"""`ModelSpec` fields that only decide how a request is sent: how long one attempt may take, and how often a
transient failure is tried again. A reply that arrives is the same whatever they are (the response cache's key
holds neither), so outcomes scored after a change pair with the stored ones. Deliberately not `max_concurrency`:
a real run's wall time is its node latencies laid out on its models' slots (`schedule.alone_wall_s`), so the
slots change the latency a search scores; nor `api_key_env` (which account answers), prompts, sampling, prices,
the model's name or endpoint, windows or the world: each can change what a stored outcome says."""
MODELS_KEY = "models_sha256"  # of the pool's canonical models without REQUEST_SETTINGS (absent in older runs)
SETTINGS_KEY = "request_settings"  # {model id: {field: value}} of REQUEST_SETTINGS, to name what changed
SHOWN_CHANGES = 4  # request settings named in the note; more are counted


class PoolSettingsChangedWarning(RolegraphWarning):
    """A run's pool file changed only in its request settings (`REQUEST_SETTINGS`) or its layout, so the run goes
    on: said once, never silently, since the file no longer matches what the run recorded (the CLI prints it as
    one line)."""


def input_paths(config: dict[str, Any]) -> dict[str, str]:
    """The files a run's config says it reads ({"data": path, "pool": path}; absent when not given)."""
    paths = {"data": (config.get("task_args") or {}).get("data"), "pool": config.get("pool")}
    return {kind: str(path) for kind, path in paths.items() if path}


def pool_fingerprint(path: str | Path) -> dict[str, Any] | None:
    """What the pool file at `path` defines, as the run records it beside its sha256: the sha256 of its models'
    specs as parsed (canonical JSON, in the file's order, with its world, without `REQUEST_SETTINGS`) and those
    settings by model. Parsed, not read as text: comments, layout and defaults written out change no model. None
    when the file does not load as a pool (then only its whole-file hash can tell, and any change is refused)."""
    try:
        pool = ModelPool.load(path)
    except RolegraphError:
        return None
    specs = [pool.get(model_id) for model_id in pool.user_ids]
    models = [spec.model_dump(mode="json", exclude=set(REQUEST_SETTINGS)) for spec in specs]
    canonical = json.dumps({"world": pool.world, "models": models}, sort_keys=True, separators=(",", ":"))
    settings = {spec.id: {name: getattr(spec, name) for name in REQUEST_SETTINGS} for spec in specs}
    return {MODELS_KEY: hashlib.sha256(canonical.encode()).hexdigest(), SETTINGS_KEY: settings}


def fingerprint_inputs(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What `RunStore.create` records of the files the run reads: absolute path and content hash, and for the pool
    file what it defines (`pool_fingerprint`), which tells an edit of its request settings alone from any other."""
    out: dict[str, dict[str, Any]] = {}
    for kind, path in input_paths(config).items():
        resolved = Path(path).expanduser().resolve()
        out[kind] = {"path": str(resolved), "sha256": file_sha256(resolved)}
        if kind == "pool" and (defined := pool_fingerprint(resolved)) is not None:
            out[kind] |= defined
    return out


def changed_input(recorded: dict[str, dict[str, Any]] | None, kind: str) -> str | None:
    """Why the run's recorded `kind` input ("data" or "pool") is not what it was, or None when it is the same
    or unknown (a run from before inputs were recorded, or no such input). A pool file whose bytes changed but
    whose models did not (`pool_fingerprint`: only `REQUEST_SETTINGS`, comments or layout) is None too, said as a
    `PoolSettingsChangedWarning`; a run recorded before that fingerprint existed is refused on any change."""
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
    if kind == "pool" and entry.get(MODELS_KEY):
        defined = pool_fingerprint(path)
        if defined is not None and defined[MODELS_KEY] == entry[MODELS_KEY]:
            warnings.warn(
                _same_models_note(what, entry.get(SETTINGS_KEY), defined[SETTINGS_KEY]),
                PoolSettingsChangedWarning,
                stacklevel=3,
            )  # past `RunStore.check_inputs`
            return None
    return f"its {what} changed since the run read it (sha256 {then[:12]}, now {now[:12]})"


def _same_models_note(what: str, then: Any, now: dict[str, dict[str, Any]]) -> str:
    """The one line saying a pool file changed only in request settings (named, old -> new) or only in layout."""
    then = then if isinstance(then, dict) else {}
    changes = []
    for model_id, settings in now.items():
        old = then.get(model_id) if isinstance(then.get(model_id), dict) else {}
        changes += [
            f"{name} of '{model_id}' ({_shown(old.get(name))} -> {_shown(value)})"
            for name, value in settings.items()
            if old.get(name) != value
        ]
    if not changes:
        return (
            f"{what} changed since the run read it, but only in comments or layout (it defines the same models "
            "with the same settings): the run goes on"
        )
    shown = ", ".join(changes[:SHOWN_CHANGES]) + (
        f" and {len(changes) - SHOWN_CHANGES} more" if len(changes) > SHOWN_CHANGES else ""
    )
    return (
        f"{what} changed since the run read it, but only in {shown}: request settings, which decide how requests "
        "are sent, never what a stored outcome holds; the run goes on with the new values"
    )


def _shown(value: Any) -> str:
    """A request setting as the note names it: its number, or "unset" (the backend's default)."""
    return "unset" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
