"""`ModelPool`: the built-in models merged with a user's YAML pool file.

A pool lives in one simulator world (`world: N` at the top of the file, or `world=` / `--world`;
default 0, the calibrated world): its sim models carry that world, and two worlds in one pool are
an error. Real models are not affected by the world.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from rolegraph.chat.spec import OPENAI_API_URL, ModelSpec
from rolegraph.errors import MissingKeyError, PoolFileError, UnknownModelError, did_you_mean, shown_arg
from rolegraph.settings import POOL_ENV
from rolegraph.sim.world import WorldError, check_world, resolve_world, world

WORLD_KEY = "world"


def _read_text(path: Path) -> str:
    """The pool file as text: a file that is not UTF-8 (or cannot be read) is one line, not a traceback."""
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PoolFileError(
            f"{path}: not a UTF-8 text file (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
            "a pool file is YAML saved as UTF-8"
        ) from None
    except OSError as exc:
        raise PoolFileError(f"{path}: cannot read the pool file ({exc.strerror or exc})") from None


def _read_file(text: str, source: str) -> dict:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise PoolFileError(f"{source}:{where} not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict) or not isinstance(data.get("models"), list):
        raise PoolFileError(f"{source}: expected a mapping with a 'models:' list")
    unknown = sorted(set(data) - {"models", WORLD_KEY})
    if unknown:
        raise PoolFileError(f"{source}: unknown top-level key '{unknown[0]}' (known: models, {WORLD_KEY})")
    return data


def _parse_specs(entries: list, source: str, *, user: bool = True) -> list[ModelSpec]:
    """The entries as specs, or one line naming the first bad one. A user's `openai` entry must say where it
    goes (`base_url`): without one the client would quietly call OpenAI's own API. Only the built-in
    `openai/*` entries (`user=False`) mean that, and the backend then sends it explicitly."""
    specs: list[ModelSpec] = []
    first: dict[str, int] = {}  # id -> the entry number that defined it
    for i, entry in enumerate(entries):
        label = f"entry {i + 1}"
        ident = entry.get("id") if isinstance(entry, dict) else None
        if ident is not None and str(ident).strip():  # a blank id would show as "entry 2 ( )"
            label += f" ({ident})"
        if not isinstance(entry, dict):
            raise PoolFileError(f"{source}: {label}: expected a mapping of fields, got {type(entry).__name__}")
        if WORLD_KEY in entry:
            raise PoolFileError(
                f"{source}: {label}: 'world' is set once for the whole pool, at the top of the file ('world: N')"
            )
        try:
            spec = ModelSpec.model_validate(entry, strict=user)  # as graph files: true is no price, "20" no timeout
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "(entry)"
            msg = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "less_than_equal":  # the caps sit far beyond real values (see ModelSpec)
                msg += "; a larger value is taken for a typo"
            raise PoolFileError(f"{source}: {label}: field '{field}': {msg}") from None
        if user and spec.backend == "openai" and spec.base_url is None:
            raise PoolFileError(
                f"{source}: {label}: field 'base_url': required for backend: openai (the server's API root, e.g. "
                f"http://127.0.0.1:8000/v1; for OpenAI itself write base_url: {OPENAI_API_URL})"
            )
        if spec.id in first:
            # one id twice in one file: the later entry would silently replace the earlier (the file's own
            # entries overriding a built-in of the same id is meant, and documented)
            raise PoolFileError(
                f"{source}: {label}: id '{spec.id}' is already defined by entry {first[spec.id]}; "
                "each model id appears once in a pool file"
            )
        first[spec.id] = i + 1
        specs.append(spec)
    return specs


@dataclass(frozen=True)
class NLesson:
    """What an endpoint taught about `n` (`openai_sampling`): the largest `n` it answered in full, the largest worth
    sending (None: none refused or answered short yet), and what the usage of its `n` replies counts (None: unknown)."""

    n_ok: int = 1
    n_max: int | None = None
    n_usage: str | None = None


class EndpointLessons:
    """The `NLesson` of each endpoint a pool's models called, keyed by (endpoint URL, model name sent): kept by the
    pool, which the user holds across calls, not by the model objects a hub makes and drops (`ModelHub.aclose`, run
    after every sync call), because each lesson cost requests (a refused `n`, a usage probe) that would otherwise
    be paid again on every `evaluate_sync`. A later lesson only narrows an earlier one (`keep`)."""

    def __init__(self) -> None:
        self._learnt: dict[tuple[str, str], NLesson] = {}

    def recall(self, endpoint: str, model: str) -> NLesson:
        return self._learnt.get((endpoint, model), NLesson())

    def keep(self, endpoint: str, model: str, lesson: NLesson) -> None:
        """Merge `lesson` into what is known: the larger `n` answered in full, the smaller limit, the first rule."""
        old = self._learnt.get((endpoint, model), NLesson())
        limits = [m for m in (old.n_max, lesson.n_max) if m is not None]
        n_max = min(limits) if limits else None
        n_ok = max(old.n_ok, lesson.n_ok)
        self._learnt[(endpoint, model)] = NLesson(
            n_ok=min(n_ok, n_max) if n_max is not None else n_ok, n_max=n_max, n_usage=old.n_usage or lesson.n_usage
        )


class ModelPool:
    """An ordered set of `ModelSpec`s by id. User entries override built-ins with the same id.

    `world`: the simulator world of its sim models (0 when it has none). `lessons`: what its real endpoints taught
    about `n` (`EndpointLessons`), kept as long as the pool is."""

    def __init__(self, specs: list[ModelSpec], user_ids: tuple[str, ...] = ()):
        self._specs: dict[str, ModelSpec] = {}
        for spec in specs:
            self._specs[spec.id] = spec
        # ids the user's pool file defines, in its order (the models a search defaults to)
        self.user_ids = tuple(dict.fromkeys(user_ids))
        self.lessons = EndpointLessons()
        sims = [s for s in self._specs.values() if s.simulated]
        self.world = resolve_world(*((s.world, f"model '{s.id}'") for s in sims if s.world))
        stray = [s.id for s in sims if s.world != self.world]
        if stray:
            raise WorldError(
                f"one run uses one world, but model '{stray[0]}' is in world 0 and the pool in {self.world}"
            )

    @classmethod
    def builtin(cls, world: int | None = None) -> ModelPool:
        """The built-in models, in `world` (default 0)."""
        text = resources.files("rolegraph.models").joinpath("builtin_pool.yaml").read_text()
        pool = cls(_parse_specs(_read_file(text, "builtin pool")["models"], "builtin pool", user=False))
        return pool.in_world(world or 0, "world")

    @classmethod
    def load(cls, path: str | Path | None = None, world: int | None = None) -> ModelPool:
        """Built-ins merged with `path`, or with the file named by $ROLEGRAPH_POOL when path is None.

        The pool's world is `world` (e.g. --world) or the file's `world:`; both given and different is
        an error (`WorldError`), as a run lives in one world."""
        pool = cls.builtin()
        path = path or os.environ.get(POOL_ENV) or None
        if path is None:
            return pool.in_world(resolve_world((world, "--world")), "--world")
        path = Path(path).expanduser()
        if path.is_dir():  # "not found" sent the user looking for a file that is there, as a directory
            raise PoolFileError(f"{path}: is a directory, not a pool file (give the YAML file in it)")
        if not path.is_file():
            raise PoolFileError(f"{path}: not a regular file" if path.exists() else f"{path}: pool file not found")
        data = _read_file(_read_text(path), str(path))
        user = _parse_specs(data["models"], str(path))
        chosen = resolve_world((world, "--world"), (data.get(WORLD_KEY), f"{path}"))
        return cls(list(pool) + user, tuple(s.id for s in user)).in_world(chosen, str(path))

    def in_world(self, index: int, source: str = "world") -> ModelPool:
        """This pool with its sim models in world `index` (prices drawn by the world; see rolegraph.sim.world).
        A pool already in another world cannot move: that would mix two worlds in one run."""
        index = check_world(index, source)
        if index == self.world:
            return self
        resolve_world((self.world or None, "the pool"), (index, source))
        placed = world(index)
        moved = ModelPool([placed.place(s) for s in self._specs.values()], self.user_ids)
        moved.lessons = self.lessons  # the real endpoints are the same ones in any world
        return moved

    def learn_windows(self, windows: dict[str, int | None]) -> None:
        """Give the models in `windows` (id -> tokens) the context window their servers say they run with
        (`endpoint.server_windows`), where the pool file declares none: a search then leaves out graphs that cannot
        fit, as it does for a declared window. A declared window is never replaced (it is the user's word)."""
        for model_id, window in windows.items():
            spec = self._specs[model_id]
            if spec.context_window is None and window is not None:
                self._specs[model_id] = spec.model_copy(update={"context_window": window})

    def __iter__(self):
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def __contains__(self, model_id: str) -> bool:
        return model_id in self._specs

    @property
    def ids(self) -> list[str]:
        return list(self._specs)

    def get(self, model_id: str) -> ModelSpec:
        if not isinstance(model_id, str):  # from Python: None or a number would fail inside difflib's matching
            raise UnknownModelError(f"a model id is a string such as 'sim/llama-3.2-3b', got {shown_arg(model_id)}")
        try:
            return self._specs[model_id]
        except KeyError:
            raise UnknownModelError(f"unknown model '{model_id}'." + did_you_mean(model_id, self._specs)) from None

    def require_key(self, model_id: str) -> ModelSpec:
        spec = self.get(model_id)
        if not spec.key_present():
            raise MissingKeyError(
                f"model '{model_id}' needs an API key: set the environment variable {spec.api_key_env}"
            )
        return spec

    def usable(self, model_id: str) -> tuple[bool, str]:
        """(usable now, reason if not): key present, local engine installed."""
        spec = self.get(model_id)
        if not spec.key_present():
            return False, f"set {spec.api_key_env}"
        if spec.backend == "local":
            from rolegraph.models.local import engine_status

            ok, why = engine_status()
            return ok, why
        return True, ""
