"""Role registry: the built-in roles plus any a user registers (prompt template + parser).

A role is a prompt template (a file, loaded once when the registry is built) and a parser that
turns model text into a `RoleOutput`. There is no module-level registry: `RoleRegistry.default()`
returns a new one with the built-ins, which a user extends and passes to the runtime.

Templates may hold two slots: `{answer_format}` (how to write the final answer for the task's
answer kind) and `{tools}` (how to call tools). An answering role without the first slot gets the
format appended. Every system prompt starts with `Role: <name>.` (the transcript contract).
"""

from __future__ import annotations

import inspect
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from pydantic import ValidationError

from rolegraph.agents.parsers import (
    RoleOutput,
    parse_answer,
    parse_evidence,
    parse_no_answer,
    parse_plan,
    parse_verdicts,
)
from rolegraph.agents.role_def import PARSERS, STORED, RoleDef, describe_error
from rolegraph.errors import RolegraphError, did_you_mean
from rolegraph.transcript import read_role, role_line

BUILTIN_ROLES = ("planner", "searcher", "solver", "verifier", "fuser")
ANSWER_KINDS = ("math", "mmlu", "code", "qa", "auto")
PROMPTS_PACKAGE = "rolegraph.agents"
PROMPTS_DIR = "prompts"
ANSWER_FORMAT_SLOT = "{answer_format}"
TOOLS_SLOT = "{tools}"
DEFAULT_TEMPERATURE = 0.7
DEFAULT_MAX_TOKENS = 768
_NAME_RE = re.compile(r"^[A-Za-z_][\w-]*$")  # what transcript.ROLE_LINE can read back
_BLANK_RUNS = re.compile(r"\n{3,}")

RoleMode = Literal["chat", "search", "read"]
Parser = Callable[[str, str], RoleOutput]
"""parser(text, answer_kind) -> RoleOutput. A one-argument parser(text) is accepted too."""


class RoleError(RolegraphError):
    """A role cannot be registered (bad name, missing template file, duplicate)."""


class UnknownRoleError(RoleError):
    pass


class ReplacedBuiltinWarning(UserWarning):
    """A search uses a built-in role's name for another role (`RoleRegistry.replaced_builtins`), which its run
    directory cannot store: said when the search starts, because reopening the run later cannot tell."""

    @classmethod
    def warn_for(cls, registry: RoleRegistry | None, names: Iterable[str], stacklevel: int = 2) -> None:
        """One line when `registry` replaces built-in roles among `names` (the roles a search uses)."""
        replaced = registry.replaced_builtins(names) if registry is not None else ()
        if replaced:
            listed = ", ".join(f"'{n}'" for n in replaced)
            message = (
                f"role(s) {listed} replace built-in roles and a run directory stores only their names: resuming, "
                "pairing or adding to this run (resume_async, pair_run, add_to_run) uses the built-in roles unless "
                "given roles=<this RoleRegistry>"
            )
            warnings.warn(cls(message), stacklevel=stacklevel + 1)


def builtin_role_names() -> tuple[str, ...]:
    return BUILTIN_ROLES


@dataclass(frozen=True)
class Role:
    """One role. `mode="search"` roles write queries that the runtime runs through the search tool.

    temperature / max_tokens / tools are the defaults a node's `params` override.
    """

    name: str
    template: str
    parser: Parser
    answers: bool
    mode: RoleMode = "chat"
    temperature: float = DEFAULT_TEMPERATURE
    max_tokens: int = DEFAULT_MAX_TOKENS
    tools: tuple[str, ...] = ()

    def render(self, answer_format: str, tool_help: str = "") -> str:
        """The system prompt: the template with its slots filled (no per-call file reads)."""
        text = self.template.replace(TOOLS_SLOT, tool_help.strip())
        fmt = answer_format.strip() if self.answers else ""
        if ANSWER_FORMAT_SLOT in text:
            text = text.replace(ANSWER_FORMAT_SLOT, fmt)
        elif fmt:
            text = text.rstrip() + "\n\n" + fmt
        return _BLANK_RUNS.sub("\n\n", text).strip() + "\n"

    def parse(self, text: str, kind: str) -> RoleOutput:
        """Run the parser; a non-answering role's answer is always None."""
        out = _as_output(self.parser(text, kind), text)
        if not self.answers and out.answer is not None:
            out = replace(out, answer=None)
        return out


def _as_output(value: Any, text: str) -> RoleOutput:
    """A user parser may return a RoleOutput, an answer string (or None), or a dict of fields."""
    if isinstance(value, RoleOutput):
        return value
    if value is None or isinstance(value, str):
        return RoleOutput(text, value, {})
    if isinstance(value, Mapping):
        fields = dict(value)
        answer = fields.pop("answer", None)
        return RoleOutput(str(fields.pop("text", text)), None if answer is None else str(answer), fields)
    raise RoleError(f"a role parser returned {type(value).__name__}; expected RoleOutput, str, dict or None")


def _two_arg(parser: Callable[..., Any]) -> Parser:
    """Accept parser(text) as well as parser(text, kind)."""
    try:
        params = [
            p
            for p in inspect.signature(parser).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        varargs = any(p.kind == p.VAR_POSITIONAL for p in inspect.signature(parser).parameters.values())
    except (TypeError, ValueError):  # builtins without a signature: assume (text, kind)
        return parser
    if not varargs and len(params) == 1:
        return lambda text, kind: parser(text)
    return parser


def _read_prompt(name: str) -> str:
    return resources.files(PROMPTS_PACKAGE).joinpath(PROMPTS_DIR, name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class _Builtin:
    parser: Parser
    answers: bool
    mode: RoleMode
    temperature: float
    max_tokens: int
    tools: tuple[str, ...] = ()


# Defaults: planners and searchers write short material; solvers sample (0.7) so that parallel
# solvers differ; judges (verifier, fuser) stay near-deterministic. A solver gets tools only when a
# node asks for them (params.tools: [calculator, python]); a searcher always has `search`.
_BUILTIN_SPECS = MappingProxyType(
    {
        "planner": _Builtin(parse_plan, False, "chat", 0.3, 384),
        "searcher": _Builtin(parse_evidence, False, "search", 0.5, 128, ("search",)),
        "solver": _Builtin(parse_answer, True, "chat", 0.7, 1024),
        "verifier": _Builtin(parse_verdicts, True, "chat", 0.2, 768),
        "fuser": _Builtin(parse_answer, True, "chat", 0.2, 768),
    }
)


def _builtin_role(name: str) -> Role:
    """The built-in role `name`, its prompt file read now."""
    b = _BUILTIN_SPECS[name]
    return Role(name, _read_prompt(f"{name}.md"), b.parser, b.answers, b.mode, b.temperature, b.max_tokens, b.tools)


def _with_role_line(name: str, text: str) -> str:
    """The template starting with `Role: <name>.` (the transcript contract), added when it does not already."""
    first = text.lstrip().splitlines()[0]
    return text if read_role(first) == name.lower() else role_line(name) + "\n" + text.lstrip()


def _definition(
    name: str,
    text: str,
    parser: object,
    answers: bool,
    mode: str,
    temperature: object,
    max_tokens: object,
    tools: object,
) -> RoleDef:
    """The role's arguments through the roles file's model (`RoleDef`), so temperature, max_tokens and tools get
    its checks as one-line RoleErrors. Validated as a stored definition is (`STORED`): the roles file's checks of
    tool names and answering parsers stay with the file, so a run's stored roles always register again.
    `prompt` is set only when the role is data alone, so storable: its parser given by name or not at all, a
    mode a roles file can hold, and not a built-in role's name (a roles file may not redefine one)."""
    named = parser if isinstance(parser, str) else None
    if named is not None and named not in PARSERS:
        raise RoleError(
            f"role '{name}': unknown parser '{named}' (parsers: {', '.join(PARSERS)})." + did_you_mean(named, PARSERS)
        )
    storable = (parser is None or named is not None) and mode in ("chat", "search") and name not in BUILTIN_ROLES
    data = {
        "name": name,
        "prompt": text if storable else "",
        "answers": answers,
        "parser": named,
        "mode": mode if mode in ("chat", "search") else "chat",
        "temperature": temperature,
        "max_tokens": max_tokens,
        "tools": list(tools) if isinstance(tools, tuple) else tools,
    }
    try:
        definition = RoleDef.model_validate(data, context={STORED: True})
    except ValidationError as exc:
        raise RoleError(f"role '{name}': {describe_error(exc.errors()[0], {})}") from None
    return definition if storable else definition.model_copy(update={"prompt": None})


class RoleRegistry:
    """Roles by name. Build one with `default()`, add your own with `register(...)`, pass it on."""

    def __init__(self, answer_formats: Mapping[str, str] | None = None):
        if answer_formats is None:
            answer_formats = {kind: _read_prompt(f"answer_{kind}.md") for kind in ANSWER_KINDS}
        self._formats = MappingProxyType(dict(answer_formats))
        self._roles: dict[str, Role] = {}
        self.definitions: list[dict[str, Any]] = []
        """Roles registered from data (`RoleDef` dicts): a roles file's (`rolegraph.agents.roles_file`) and any
        registered with a template and no Python parser (or a parser named, e.g. "answer"). What a search run
        stores so that `--resume` and `resume_async` rebuild them. Roles registered with Python callables (or
        `mode="read"`, which a roles file cannot express) are not here: resuming needs them passed again."""

    @classmethod
    def default(cls) -> RoleRegistry:
        """A new registry holding the five built-in roles (prompt files read once, here)."""
        registry = cls()
        for name in BUILTIN_ROLES:
            registry._roles[name] = _builtin_role(name)
        return registry

    def replaced_builtins(self, names: Iterable[str] | None = None) -> tuple[str, ...]:
        """The built-in role names (of `names`, if given) under which this registry holds a role other than the
        built-in one: registered over it with `replace_existing`, or on a registry not made by `default()`.
        A run stores roles as data under their own names only (a roles file may not redefine a built-in), so a run
        reopened without this registry gets the built-in roles under these names."""
        wanted = BUILTIN_ROLES if names is None else tuple(n for n in dict.fromkeys(names) if n in BUILTIN_ROLES)
        return tuple(n for n in wanted if n in self._roles and self._roles[n] != _builtin_role(n))

    def copy(self) -> RoleRegistry:
        other = RoleRegistry(self._formats)
        other._roles = dict(self._roles)
        other.definitions = list(self.definitions)
        return other

    def register(
        self,
        name: str,
        prompt_template: str | Path,
        parser: Callable[..., Any] | str | None = None,
        answers: bool = True,
        *,
        mode: RoleMode = "chat",
        temperature: float | None = None,
        max_tokens: int | None = None,
        tools: tuple[str, ...] | list[str] = (),
        replace_existing: bool = False,
    ) -> Role:
        """Add a role. `prompt_template` is the template text, or a Path to a file holding it.

        parser(text, kind) (or parser(text)) returns a RoleOutput, an answer string, or a dict of
        fields; None means: extract the final answer when `answers`, else no answer; a name (answer, plan,
        evidence, verdicts, none) is a built-in role's parser, as a roles file names it.
        temperature, max_tokens and tools get a roles file's checks (`RoleDef`), each a one-line RoleError. A role
        given as data alone (no Python callable) is added to `definitions`, so a search run stores it and
        resuming the run rebuilds it.
        A name already registered (a built-in one included) is a RoleError unless `replace_existing`.
        The name's first character is an ASCII letter or '_' (the transcript's `Role: <name>.` line, which the
        simulator and any reader of a prompt go by, reads no other); the rest may be any letters or digits.
        """
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise RoleError(
                f"role name {name!r} must start with a letter (A-Z or a-z) or '_' and hold only letters, digits, "
                "'_' or '-' (its prompt's first line, 'Role: <name>.', is read back by that rule)"
            )
        if name in self._roles and not replace_existing:  # read by roles-file users too: no Python in it
            if name in BUILTIN_ROLES:
                raise RoleError(f"role '{name}' is a built-in role; pick another name")
            raise RoleError(f"role '{name}' is already registered; pick another name")
        if mode not in ("chat", "search", "read"):
            raise RoleError(f"role '{name}': mode must be 'chat', 'search' or 'read', got {mode!r}")
        text = self._raw_template(name, prompt_template)
        definition = _definition(name, text, parser, bool(answers), mode, temperature, max_tokens, tools)
        if isinstance(parser, str):
            parser = PARSERS[parser]  # `_definition` refused an unknown name
        if parser is None:
            parser = parse_answer if answers else parse_no_answer
        elif not callable(parser):
            raise RoleError(f"role '{name}': parser must be callable, got {type(parser).__name__}")
        role = Role(
            name,
            _with_role_line(name, text),
            _two_arg(parser),
            bool(answers),
            mode,
            DEFAULT_TEMPERATURE if definition.temperature is None else definition.temperature,
            DEFAULT_MAX_TOKENS if definition.max_tokens is None else definition.max_tokens,
            tuple(definition.tools) + (("search",) if mode in ("search", "read") and "search" not in tools else ()),
        )
        self._roles[name] = role
        self.definitions = [d for d in self.definitions if d["name"] != name]  # a replaced role's is stale
        if definition.prompt is not None:  # data alone: a run stores it and resuming rebuilds it
            self.definitions.append(definition.model_dump(exclude_none=True))
        return role

    @staticmethod
    def _raw_template(name: str, prompt_template: str | Path) -> str:
        """The template text as given (a Path's file read), refused when it is not text or empty."""
        if isinstance(prompt_template, Path):
            try:
                text = prompt_template.read_text(encoding="utf-8")
            except OSError as exc:
                raise RoleError(
                    f"role '{name}': cannot read prompt template {prompt_template}: {exc.strerror or exc}"
                ) from None
        elif isinstance(prompt_template, str):
            text = prompt_template
        else:
            raise RoleError(
                f"role '{name}': prompt_template must be a str or a Path, got {type(prompt_template).__name__}"
            )
        if not text.strip():
            raise RoleError(f"role '{name}': the prompt template is empty")
        return text

    def get(self, name: str) -> Role:
        try:
            return self._roles[name]
        except KeyError:
            raise UnknownRoleError(f"unknown role '{name}'.{did_you_mean(name, self._roles)}") from None

    def names(self) -> tuple[str, ...]:
        return tuple(self._roles)

    def answer_format(self, kind: str) -> str:
        return self._formats.get(kind, self._formats["auto"])

    def system_prompt(self, name: str, kind: str, tool_help: str = "") -> str:
        return self.get(name).render(self.answer_format(kind), tool_help)

    def __contains__(self, name: object) -> bool:
        return name in self._roles

    def __iter__(self) -> Iterator[Role]:
        return iter(self._roles.values())

    def __len__(self) -> int:
        return len(self._roles)
