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

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from rolegraph.agents.registry import RoleError, RoleRegistry
from rolegraph.agents.role_def import PARSERS as PARSERS
from rolegraph.agents.role_def import STORED, RoleDef, describe_error, slot_problem
from rolegraph.fileio import file_path

MAX_ROLES_FILE_BYTES = 1_000_000


class RolesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: list[RoleDef]


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
    path = file_path(path, "load_role_defs", RoleError)
    data = _read(path)
    if not isinstance(data, dict):
        raise RoleError(f"{path}: expected a mapping with 'roles:' (a list of roles), got {type(data).__name__}")
    try:
        parsed = RolesFile.model_validate(data, strict=True)  # as graph files: true is not 1, "0.2" not 0.2
    except ValidationError as exc:
        problems = list(dict.fromkeys(describe_error(e, data) for e in exc.errors()))
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
            problem = slot_problem(text)
            if problem is not None:
                raise RoleError(f"{path}: role '{role.name}': prompt_file {file}: {problem}")
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
            raise RoleError(f"role definition '{name}': {describe_error(exc.errors()[0], {})}") from None
        registry.register(  # the parser by name: data alone, so the registry keeps the definition (`definitions`)
            d.name,
            d.prompt or "",
            d.parser,
            d.answers,
            mode=d.mode,
            temperature=d.temperature,
            max_tokens=d.max_tokens,
            tools=tuple(d.tools),
        )
    return registry


def load_roles(path: str | Path, registry: RoleRegistry | None = None) -> RoleRegistry:
    """Built-in roles plus the roles of a file (a role named like a built-in one is an error)."""
    path = file_path(path, "load_roles", RoleError)
    try:
        return register_defs(load_role_defs(path), registry)
    except RoleError as exc:
        text = str(exc)
        raise RoleError(text if text.startswith(str(path)) else f"{path}: {text}") from None
