"""One role as data (`RoleDef`): what a roles file holds and what a search run stores so that `--resume` (and
`resume_async`) rebuilds its roles. `RoleRegistry.register` validates its arguments through the same model, so
a role registered in Python gets the checks a roles file gets (temperature, max_tokens, tools), and a role given
as data alone (a template and no Python parser) is stored like a roles file's."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from rolegraph.agents.parsers import parse_answer, parse_evidence, parse_no_answer, parse_plan, parse_verdicts
from rolegraph.errors import did_you_mean, field_problem

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
STORED = "stored"
"""Validation context of a definition read back from a run (`register_defs` of dicts): the checks added since a
run was made (answering parsers, known tools) must not stop it from resuming; a roles file gets them all."""
SLOTS = ("answer_format", "tools")
"""The slots `RoleRegistry` fills in a template (`registry.ANSWER_FORMAT_SLOT`, `registry.TOOLS_SLOT`)."""
SLOT_WORD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
SLOT_CUTOFF = 0.75
"""How close (difflib ratio) a `{word}` must be to a slot name to be taken for a misspelt slot: `{tool}`,
`{answer_fromat}` and `{Tools}` are; `{answer}` (0.63) and `{format}` are left as prompt text."""
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
        problem = slot_problem(self.prompt) if self.prompt is not None else None
        if problem is not None:
            raise ValueError(problem)
        return self


def slot_problem(template: str) -> str | None:
    """Why a template holds a misspelt slot (`{answer_fromat}`, `{tool}`), or None. Only the two slots are filled;
    any other `{word}` reaches the model as written, so a near miss of one would silently leave its text out (the
    answer format is appended anyway, the tool help is not). Braces far from a slot name are prompt text and stay."""
    for word in SLOT_WORD.findall(template):
        if word in SLOTS:
            continue
        close = difflib.get_close_matches(word.lower(), SLOTS, n=1, cutoff=SLOT_CUTOFF)
        if close:
            listed = ", ".join(f"{{{s}}}" for s in SLOTS)
            return (
                f"prompt: '{{{word}}}' is not a slot (slots: {listed}) and would reach the model as written. "
                f"Did you mean {{{close[0]}}}?"
            )
    return None


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


def describe_error(err: Mapping[str, Any], data: Any) -> str:
    """One line for one pydantic error, naming the role by position and name."""
    loc, kind = err["loc"], err["type"]
    where = ""
    if len(loc) >= 2 and loc[0] == "roles" and isinstance(loc[1], int):
        roles = data.get("roles") if isinstance(data, dict) else None
        name = roles[loc[1]].get("name") if isinstance(roles, list) and isinstance(roles[loc[1]], dict) else None
        where = f"role {loc[1] + 1}" + (f" ('{name}')" if isinstance(name, str) else "") + ": "
        loc = loc[2:]
    field = ".".join(str(p) for p in loc)
    return field_problem(where, field, kind, err["msg"], ROLE_FIELDS)
