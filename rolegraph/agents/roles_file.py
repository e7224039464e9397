"""User roles from a file (`--roles-file FILE`): a YAML list of roles, each a prompt template plus one
of the built-in parsers, registered on top of the built-in roles.

```yaml
roles:
  - name: critic
    prompt: |                  # or prompt_file: critic.md (relative to this file)
      Read the candidate answers, find the flaws, and write the corrected answer.
      {answer_format}
    answers: true              # writes a final answer (may be a graph's output); default true
    parser: answer             # answer | plan | evidence | verdicts | none (default: answer, or none);
                               # plan, evidence and none never extract an answer: use them with answers: false
    mode: chat                 # chat | search (a search role's queries go to the search tool)
    temperature: 0.2
    max_tokens: 768            # the default; a longer reply is cut (by the sim pool too) and loses its answer
    tools: [calculator]        # calculator | python | search, or server.tool (an MCP server's, checked at run time)
```

Why a file and not Python: a search run keeps its settings in its store, so `--resume` (and a later
`--init-from`) must rebuild the same roles; a role defined by data (its prompt text inlined, its parser
named) can be stored and rebuilt, a Python callable cannot. Python users register roles directly on a
`RoleRegistry` and pass it along.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, model_validator

from rolegraph.agents.parsers import parse_answer, parse_evidence, parse_no_answer, parse_plan, parse_verdicts
from rolegraph.agents.registry import RoleError, RoleRegistry
from rolegraph.errors import did_you_mean, unknown_field

PARSERS = {
    "answer": parse_answer,
    "plan": parse_plan,
    "evidence": parse_evidence,
    "verdicts": parse_verdicts,
    "none": parse_no_answer,
}
"""The parsers a roles file may name (the built-in roles' own)."""
NO_ANSWER_PARSERS = ("plan", "evidence", "none")
"""Parsers that never return an answer: a role using one cannot be an answering role (`answers: true`)."""
MAX_ROLES_FILE_BYTES = 1_000_000
STORED = "stored"
"""Validation context of a definition read back from a run (`register_defs` of dicts): the checks added since a
run was made (answering parsers, known tools) must not stop it from resuming; a roles file gets them all."""
ROLE_FIELDS = ("name", "prompt", "prompt_file", "answers", "parser", "mode", "temperature", "max_tokens", "tools")


class RoleDef(BaseModel):
    """One role as data. After loading, `prompt` holds the template text (a `prompt_file` is read)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    prompt: str | None = None
    prompt_file: str | None = None
    answers: bool = True
    parser: Literal["answer", "plan", "evidence", "verdicts", "none"] | None = None
    mode: Literal["chat", "search"] = "chat"
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    max_tokens: int | None = Field(default=None, ge=1)
    tools: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> RoleDef:
        if (self.prompt is None) == (self.prompt_file is None):
            raise ValueError("give exactly one of 'prompt' (the template text) or 'prompt_file'")
        if info.context and info.context.get(STORED):
            return self  # a run's stored definition: it ran as it is, and resuming must rebuild it unchanged
        if self.answers and self.parser in NO_ANSWER_PARSERS:
            raise ValueError(
                f"answers: true (the default) needs a parser that extracts the answer, and parser '{self.parser}' "
                "never does (every item would score 0): set answers: false, or parser: answer or verdicts"
            )
        for tool in self.tools:
            problem = _tool_problem(tool)
            if problem is not None:
                raise ValueError(problem)
        return self


def _tool_problem(name: str) -> str | None:
    """Why a role's tool name cannot work, or None. A built-in tool is checked here, when the file is read (else
    a search fails on it mid-run); an MCP tool (`server.tool`) only once a graph connects its server."""
    from rolegraph.tools.toolbox import default_tool_names

    known = default_tool_names()
    server, dot, tool = name.partition(".")
    if name in known or (dot and server and tool):
        return None
    hint = did_you_mean(name, known, list_known=False)
    return f"unknown tool '{name}' (tools: {', '.join(known)}, or server.tool for an MCP server's).{hint}"


class RolesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: list[RoleDef]


def _describe(err: Mapping[str, Any], data: Any) -> str:
    """One line for one pydantic error, naming the role by position and name."""
    loc, kind = err["loc"], err["type"]
    where = ""
    if len(loc) >= 2 and loc[0] == "roles" and isinstance(loc[1], int):
        roles = data.get("roles") if isinstance(data, dict) else None
        name = roles[loc[1]].get("name") if isinstance(roles, list) and isinstance(roles[loc[1]], dict) else None
        where = f"role {loc[1] + 1}" + (f" ('{name}')" if isinstance(name, str) else "") + ": "
        loc = loc[2:]
    field = ".".join(str(p) for p in loc)
    if kind == "extra_forbidden":
        return f"{where}{unknown_field(field, ROLE_FIELDS)}"
    if kind == "missing":
        return f"{where}missing field '{field}'"
    msg = err["msg"].removeprefix("Value error, ")
    return f"{where}{field + ': ' if field else ''}{msg}"


def _read(path: Path) -> Any:
    if not path.is_file():
        raise RoleError(f"{path}: roles file not found")
    if path.stat().st_size > MAX_ROLES_FILE_BYTES:
        raise RoleError(f"{path}: roles file too large (at most {MAX_ROLES_FILE_BYTES:,} bytes)")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RoleError(f"{path}: cannot read the roles file ({exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise RoleError(f"{path}: {where}not valid YAML ({getattr(exc, 'problem', None) or exc})") from None


def load_role_defs(path: str | Path) -> list[RoleDef]:
    """The roles of a file, validated, each `prompt_file` read into `prompt`. One-line `RoleError`s."""
    path = Path(path).expanduser()
    data = _read(path)
    if not isinstance(data, dict):
        raise RoleError(f"{path}: expected a mapping with 'roles:' (a list of roles), got {type(data).__name__}")
    try:
        parsed = RolesFile.model_validate(data)
    except ValidationError as exc:
        problems = list(dict.fromkeys(_describe(e, data) for e in exc.errors()))
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        raise RoleError(f"{path}: {problems[0]}{more}") from None
    out = []
    for role in parsed.roles:
        if role.prompt_file is not None:
            file = (path.parent / role.prompt_file).expanduser()
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise RoleError(f"{path}: role '{role.name}': cannot read prompt_file {file} ({exc})") from None
            role = role.model_copy(update={"prompt": text, "prompt_file": None})
        out.append(role)
    return out


def register_defs(defs: list[RoleDef] | list[dict], registry: RoleRegistry | None = None) -> RoleRegistry:
    """A registry holding the built-in roles (or `registry`'s, copied) plus `defs`."""
    registry = (registry or RoleRegistry.default()).copy()
    for raw in defs:
        try:
            d = raw if isinstance(raw, RoleDef) else RoleDef.model_validate(raw, context={STORED: True})
        except ValidationError as exc:  # a stored definition the current checks refuse: one line, not a traceback
            name = raw.get("name") if isinstance(raw, dict) else None
            raise RoleError(f"role definition '{name}': {_describe(exc.errors()[0], {})}") from None
        parser = PARSERS[d.parser] if d.parser is not None else None
        registry.register(
            d.name,
            d.prompt or "",
            parser,
            d.answers,
            mode=d.mode,
            temperature=d.temperature,
            max_tokens=d.max_tokens,
            tools=tuple(d.tools),
        )
        registry.definitions.append(d.model_dump(exclude_none=True))
    return registry


def load_roles(path: str | Path, registry: RoleRegistry | None = None) -> RoleRegistry:
    """Built-in roles plus the roles of a file (a role named like a built-in one is an error)."""
    try:
        return register_defs(load_role_defs(path), registry)
    except RoleError as exc:
        text = str(exc)
        raise RoleError(text if text.startswith(str(path)) else f"{path}: {text}") from None
