"""`ModelPool`: the built-in models merged with a user's YAML pool file."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from rolegraph.errors import MissingKeyError, PoolFileError, UnknownModelError, did_you_mean
from rolegraph.models.spec import ModelSpec
from rolegraph.settings import POOL_ENV


def _read_entries(text: str, source: str) -> list[dict]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise PoolFileError(f"{source}:{where} not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict) or not isinstance(data.get("models"), list):
        raise PoolFileError(f"{source}: expected a mapping with a 'models:' list")
    return data["models"]


def _parse_specs(entries: list, source: str) -> list[ModelSpec]:
    specs = []
    for i, entry in enumerate(entries):
        label = f"entry {i + 1}"
        if isinstance(entry, dict) and "id" in entry:
            label += f" ({entry['id']})"
        if not isinstance(entry, dict):
            raise PoolFileError(f"{source}: {label}: expected a mapping of fields, got {type(entry).__name__}")
        try:
            specs.append(ModelSpec.model_validate(entry))
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "(entry)"
            raise PoolFileError(f"{source}: {label}: field '{field}': {err['msg']}") from None
    return specs


class ModelPool:
    """An ordered set of `ModelSpec`s by id. User entries override built-ins with the same id."""

    def __init__(self, specs: list[ModelSpec], user_ids: tuple[str, ...] = ()):
        self._specs: dict[str, ModelSpec] = {}
        for spec in specs:
            self._specs[spec.id] = spec
        # ids the user's pool file defines, in its order (the models a search defaults to)
        self.user_ids = tuple(dict.fromkeys(user_ids))

    @classmethod
    def builtin(cls) -> ModelPool:
        text = resources.files("rolegraph.models").joinpath("builtin_pool.yaml").read_text()
        return cls(_parse_specs(_read_entries(text, "builtin pool"), "builtin pool"))

    @classmethod
    def load(cls, path: str | Path | None = None) -> ModelPool:
        """Built-ins merged with `path`, or with the file named by $ROLEGRAPH_POOL when path is None."""
        pool = cls.builtin()
        path = path or os.environ.get(POOL_ENV) or None
        if path is None:
            return pool
        path = Path(path).expanduser()
        if not path.is_file():
            raise PoolFileError(f"{path}: pool file not found")
        user = _parse_specs(_read_entries(path.read_text(), str(path)), str(path))
        return cls(list(pool) + user, tuple(s.id for s in user))

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
