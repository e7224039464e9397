"""Space files (`rolegraph optimize --space FILE`): a search space in YAML, free-form or staged.

Free-form, as the command-line flags describe it today:

```yaml
models: [sim/llama-3.2-1b, sim/llama-3.2-3b, sim/llama-3.1-8b]
roles: [solver, verifier, fuser, critic]   # critic: a role of your own (roles_file)
max_nodes: 6
roles_file: roles.yaml                       # optional, relative to this file
budget: 18                                   # optional: --budget overrides it
```

Staged (AgentTTS-style): fixed stages whose model and width are searched, read by one output node:

```yaml
stages:
  - {name: plan,   role: planner,  models: [sim/llama-3.1-8b], width: [0, 1]}
  - {name: search, role: searcher, models: [sim/llama-3.2-1b, sim/llama-3.2-3b], width: [1, 2, 3]}
  - {name: solve,  role: solver,   width: [1, 2, 3]}     # models: the top-level list
output: {roles: [fuser], models: [sim/llama-3.1-8b]}
models: [sim/llama-3.2-3b, sim/llama-3.1-8b]
```

Validated like graph files: every problem is one line naming the file and the stage, and the CLI
exits with code 2.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rolegraph.agents.registry import RoleRegistry
from rolegraph.errors import RolegraphError, SearchError, field_problem, shown_arg
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.objectives import Objective
from rolegraph.optimize.space import BUDGET_KINDS, SearchSpace
from rolegraph.optimize.stages import MAX_STAGE_WIDTH, Stage, StageOutput

MAX_SPACE_FILE_BYTES = 1_000_000
DEFAULT_OUTPUT_ROLE = "fuser"


class SpaceFileError(SearchError):
    """A space file cannot be read or does not describe a valid space."""


class StageEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    role: str
    models: list[str] | None = None
    width: int | list[int] = 1
    same_model: bool = True

    @field_validator("name")
    @classmethod
    def _named(cls, value: str) -> str:
        """A blank name would print as `stage  model ...` in the search's lines: refused, as an empty node id is."""
        if not value.strip():
            raise ValueError("a stage needs a name (it labels the stage in the search's output), e.g. name: solve")
        return value

    @field_validator("width")
    @classmethod
    def _widths(cls, value: int | list[int]) -> int | list[int]:
        widths = [value] if isinstance(value, int) else value
        if not widths or any(w < 0 or w > MAX_STAGE_WIDTH for w in widths):
            raise ValueError(f"widths must be between 0 and {MAX_STAGE_WIDTH}")
        if max(widths) < 1:
            raise ValueError("width 0 only would never run the stage; allow a width >= 1")
        return value

    @property
    def widths(self) -> tuple[int, ...]:
        return (self.width,) if isinstance(self.width, int) else tuple(self.width)


class OutputEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: list[str] = Field(default_factory=lambda: [DEFAULT_OUTPUT_ROLE])
    models: list[str] | None = None

    @field_validator("roles", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class SpaceFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "space"
    description: str = ""
    models: list[str] = Field(default_factory=list)
    roles: list[str] | None = None
    max_nodes: int | None = None
    worker_edges: bool | None = None
    stages: list[StageEntry] | None = None
    output: OutputEntry | None = None
    budget: float | None = Field(default=None, gt=0)
    budget_kind: Literal["flops", "dollars", "latency"] | None = None
    roles_file: str | None = None

    @model_validator(mode="after")
    def _kind(self) -> SpaceFile:
        if self.stages is not None:
            if not self.stages:
                raise ValueError("'stages' is empty: list the stages, or drop it for a free-form space")
            extra = [k for k in ("roles", "max_nodes", "worker_edges") if getattr(self, k) is not None]
            if extra:
                raise ValueError(f"a staged space sets its roles and size by its stages: drop {', '.join(extra)}")
            for st in self.stages:
                if st.models is None and not self.models:
                    raise ValueError(f"stage '{st.name}' lists no models and there is no top-level 'models'")
        elif self.output is not None:
            raise ValueError("'output' belongs to a staged space: add 'stages' or drop 'output'")
        elif not self.models:
            raise ValueError("a free-form space needs 'models' (or 'stages' for a staged space)")
        return self

    @property
    def staged(self) -> bool:
        return self.stages is not None


FIELDS = tuple(SpaceFile.model_fields)
STAGE_FIELDS = tuple(StageEntry.model_fields)
OUTPUT_FIELDS = tuple(OutputEntry.model_fields)


def _describe(err: Mapping[str, Any], data: Any) -> str:
    """One line for one pydantic error, naming the stage (by position and name) or the section."""
    loc, kind = list(err["loc"]), err["type"]
    where, fields = "", FIELDS
    if len(loc) >= 2 and loc[0] == "stages" and isinstance(loc[1], int):
        stages = data.get("stages") if isinstance(data, dict) else None
        entry = stages[loc[1]] if isinstance(stages, list) and loc[1] < len(stages) else None
        name = entry.get("name") if isinstance(entry, dict) else None
        shown = isinstance(name, str) and name.strip()  # a blank name says nothing: the position alone
        where = f"stage {loc[1] + 1}" + (f" ('{name}')" if shown else "") + ": "
        loc, fields = loc[2:], STAGE_FIELDS
    elif loc and loc[0] == "output":
        where, loc, fields = "output: ", loc[1:], OUTPUT_FIELDS
    loc = [p for p in loc if not (isinstance(p, str) and p in ("int", "list[int]"))]
    field = ".".join(str(p) for p in loc)
    return field_problem(where, field, kind, err["msg"], fields)


def read_space_file(path: str | Path) -> SpaceFile:
    """Parse and validate a space file; `SpaceFileError` (one line, naming the file) otherwise."""
    if not isinstance(path, (str, os.PathLike)):  # from Python: Path(None) is a TypeError
        raise SpaceFileError(f"a space file is a path (str or Path), got {shown_arg(path)}")
    path = Path(path).expanduser()
    if path.is_dir():
        raise SpaceFileError(f"{path} is a directory, not a space file (give the YAML file in it)")
    if not path.is_file():
        raise SpaceFileError(f"{path}: space file not found")
    if path.stat().st_size > MAX_SPACE_FILE_BYTES:
        raise SpaceFileError(f"{path}: space file too large (at most {MAX_SPACE_FILE_BYTES:,} bytes)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SpaceFileError(f"{path}: cannot read the space file ({exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise SpaceFileError(f"{path}: {where}not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
    if not isinstance(data, dict):
        raise SpaceFileError(f"{path}: expected a mapping (models/roles, or stages/output), got {type(data).__name__}")
    try:
        return SpaceFile.model_validate(data, strict=True)  # as graph files: true is not a width, "30" not a budget
    except ValidationError as exc:
        problems = list(dict.fromkeys(_describe(e, data) for e in exc.errors()))
        more = f" (+{len(problems) - 1} more: {'; '.join(problems[1:])})" if len(problems) > 1 else ""
        raise SpaceFileError(f"{path}: {problems[0]}{more}") from None


def _check_pool(pool: object) -> None:
    """`pool` is a `ModelPool`: from Python, None (or a list of ids) failed later as an AttributeError on `.get`."""
    if not isinstance(pool, ModelPool):
        raise SearchError(
            f"pool must be a ModelPool (e.g. ModelPool.load() or ModelPool.load('pool.yaml')), got {shown_arg(pool)}"
        )


def check_models(sf: SpaceFile, pool: ModelPool, source: str = "space file") -> None:
    """Every model the file names is in the pool; else one line naming the file and the stage (or `models`,
    `output`) that lists it. Call it before anything looks the models up (measured latency rates do): the
    pool's own error names neither, and a file with several stages leaves the user to search for the typo."""
    where = [("models", sf.models)]
    where += [(f"stage {i} ('{st.name}')", st.models or []) for i, st in enumerate(sf.stages or (), start=1)]
    where += [("output", sf.output.models or [])] if sf.output is not None else []
    for section, models in where:
        for model_id in models:
            try:
                pool.get(model_id)
            except RolegraphError as exc:
                raise SpaceFileError(f"{source}: {section}: {exc}") from None


def roles_file_path(sf: SpaceFile, path: str | Path) -> Path | None:
    """The space file's `roles_file`, resolved against the space file's directory."""
    if sf.roles_file is None:
        return None
    return (Path(path).expanduser().parent / sf.roles_file).expanduser()


def build_space(
    sf: SpaceFile,
    pool: ModelPool,
    *,
    source: str = "space file",
    registry: RoleRegistry | None = None,
    budget: float | None = None,
    budget_kind: str | None = None,
    objective: Objective | None = None,
    family: str = "math",
    latency_rates: dict[str, Any] | None = None,
) -> SearchSpace:
    """The `SearchSpace` of a parsed file. `budget`/`budget_kind` given here override the file's."""
    _check_pool(pool)
    check_models(sf, pool, source)
    kind = budget_kind or sf.budget_kind or "flops"
    if kind not in BUDGET_KINDS:
        raise SpaceFileError(f"{source}: unknown budget kind '{kind}'. Known: {', '.join(BUDGET_KINDS)}.")
    common: dict[str, Any] = {
        "pool": pool,
        "budget": budget if budget is not None else sf.budget,
        "budget_kind": kind,
        "objective": objective or Objective(),
        "family": family,
        "registry": registry,
        "latency_rates": latency_rates or {},
    }
    try:
        if not sf.staged:
            extra: dict[str, Any] = {
                k: getattr(sf, k) for k in ("max_nodes", "worker_edges") if getattr(sf, k) is not None
            }
            roles: dict[str, Any] = {"roles": tuple(sf.roles)} if sf.roles is not None else {}
            return SearchSpace(models=tuple(sf.models), **roles, **extra, **common)
        stages = tuple(
            Stage(st.name, st.role, tuple(st.models or sf.models), st.widths, st.same_model) for st in sf.stages or ()
        )
        out = sf.output or OutputEntry()
        out_models = tuple(out.models or sf.models or dict.fromkeys(m for st in stages for m in st.models))
        return SearchSpace(
            models=tuple(sf.models), stages=stages, stage_output=StageOutput(tuple(out.roles), out_models), **common
        )
    except RolegraphError as exc:
        raise SpaceFileError(f"{source}: {exc}") from None


def load_space(path: str | Path, pool: ModelPool, **options: Any) -> SearchSpace:
    """Read a space file into a `SearchSpace` (Python API). Its `roles_file`, if any, is loaded onto
    `options['registry']` (or the built-in roles).

    A space file names no task, so pass the task's `family=` in `options` (default: math): `optimize`
    refuses a space whose family is not its task's (`SearchSpace.check_family`), never prices it silently."""
    from rolegraph.agents.roles_file import load_roles

    _check_pool(pool)
    sf = read_space_file(path)
    roles_path = roles_file_path(sf, path)
    if roles_path is not None:
        options["registry"] = load_roles(roles_path, options.get("registry"))
    return build_space(sf, pool, source=str(path), **options)
