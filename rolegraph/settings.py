"""Run-time settings passed explicitly (no module-level state): where state lives, caching, sim latency."""

from __future__ import annotations

import numbers
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

from rolegraph.errors import RolegraphError, StateFileError, did_you_mean, shown_arg

HOME_ENV = "ROLEGRAPH_HOME"
POOL_ENV = "ROLEGRAPH_POOL"
DEFAULT_HOME = Path("~/.rolegraph")
MIN_LATENCY_SCALE = 0.0
BOOL_SETTINGS = ("cache", "allow_weak_sandbox", "coalesce")
"""The on/off fields of `Settings`, each checked to be a real bool."""


class SettingsError(RolegraphError):
    """A setting that no run could use (e.g. a negative latency scale)."""


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know about its environment. `Settings.from_env(...)` fills `home` from
    $ROLEGRAPH_HOME (default ~/.rolegraph); `home` is required here, and may be a str.

    home: state directory (response cache, results store, search index).
    cache: use the SQLite response cache.
    latency_scale: sim models sleep this fraction of their modelled latency (0 = report only).
    allow_weak_sandbox: run model code (the python tool, HumanEval scoring) even where the sandbox has
        neither namespaces nor its seccomp filter (rlimits only); off, such code is refused with one line.
    coalesce: nodes of one model reading identical messages share one `n=k` request (rolegraph.graphs.coalesce).
    """

    home: Path
    cache: bool = True
    latency_scale: float = 0.0
    allow_weak_sandbox: bool = False
    coalesce: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.home, (str, os.PathLike)):
            raise SettingsError(f"home must be a path (str or Path), got {shown_arg(self.home)}")
        # a str home (Settings(home="/tmp/x")) used to fail later, far away, on `home / "cache.sqlite"`
        object.__setattr__(self, "home", Path(self.home).expanduser())
        for name in BOOL_SETTINGS:
            # a str such as "no" or "false" is truthy: it silently meant the opposite of what was written
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise SettingsError(f"{name} must be True or False, got {shown_arg(value)}")
        scale = self.latency_scale
        if isinstance(scale, bool) or not isinstance(scale, numbers.Real):
            raise SettingsError(f"latency_scale must be a number, got {shown_arg(scale)}")
        if not scale >= MIN_LATENCY_SCALE:  # also refuses NaN
            raise SettingsError(f"latency_scale must be >= {MIN_LATENCY_SCALE:g}, got {scale}")

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        """Settings with `home` from $ROLEGRAPH_HOME, then `overrides`; an unknown name is a `SettingsError`
        (a TypeError from the dataclass machinery would not say which settings exist)."""
        known = [f.name for f in fields(cls)]
        unknown = [name for name in overrides if name not in known]
        if unknown:
            raise SettingsError(
                f"unknown setting '{unknown[0]}' (settings: {', '.join(known)})."
                + did_you_mean(unknown[0], known, list_known=False)
            )
        home = Path(os.environ.get(HOME_ENV) or DEFAULT_HOME).expanduser()
        return replace(cls(home=home), **overrides)

    @property
    def cache_path(self) -> Path:
        return self.home / "cache.sqlite"

    @property
    def store_path(self) -> Path:
        return self.home / "results.sqlite"

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    def ensure_home(self) -> Path:
        """The state directory, created if needed; a path that cannot be one is the user's one-line error."""
        try:
            self.home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            reason = "a file is in the way" if self.home.is_file() else exc.strerror
            raise StateFileError(f"{HOME_ENV}={self.home} cannot be used as the state directory ({reason})") from None
        return self.home
