"""The tool contract: a named async callable with a JSON-schema signature that never raises (but for a
sandbox refusal, which is the user's policy and stops the run with its one line).

Models with native function calling get `openai_schema()`; models without it (the local GGUF, most
small models) use the plain-text protocol below: they write `CALL <tool> {json}` lines, which
`parse_text_calls` reads back, tolerating the junk small models put around them.
"""

from __future__ import annotations

import ast
import asyncio
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from rolegraph.errors import SandboxRefusedError, one_line  # one_line re-exported: the tools import it from here

DEFAULT_TIMEOUT_S = 30.0
TEXT_ARG = "input"  # what a bare `CALL tool some text` passes; mapped onto the tool's main argument

TEXT_PROTOCOL_HELP = """\
You can use tools. To call one, write a line on its own:
CALL <tool name> {"<argument>": "<value>"}
with the arguments as one JSON object, for example:
CALL calculator {"expression": "17*23"}
Then stop and wait: the result comes back in the next message. Call only the tools listed.
When you have what you need, answer without any CALL line."""

_CALL_LINE = re.compile(r"^[ \t>*`\-]*CALL\s+([A-Za-z_][\w.-]*)[ \t]*:?[ \t]*(.*)$", re.MULTILINE)


class ToolResult(BaseModel):
    ok: bool
    text: str  # what the model reads
    data: Any = None  # structured payload for code (hits, sandbox result, number)
    note: str | None = None  # what the trace should say happened (e.g. a fallback)


class Tool(ABC):
    """Subclasses set name, description, parameters (JSON schema, an object) and implement `_run`."""

    name: str
    description: str
    parameters: dict[str, Any]
    timeout_s: float = DEFAULT_TIMEOUT_S

    @abstractmethod
    async def _run(self, *args: Any, **kwargs: Any) -> ToolResult:
        """The tool's work, called with its normalised arguments by keyword; each tool names its own."""

    async def call(self, **kwargs: Any) -> ToolResult:
        """Run with the tool's timeout; a bad argument, a timeout or an exception becomes ok=False."""
        try:
            args = self.normalise_args(kwargs)
        except ValueError as exc:
            return ToolResult(ok=False, text=f"{self.name}: {one_line(exc)}")
        try:
            return self._as_result(await asyncio.wait_for(self._run(**args), timeout=self.timeout_s))
        except TimeoutError:
            return ToolResult(ok=False, text=f"{self.name}: timed out after {self.timeout_s:g}s")
        except SandboxRefusedError:  # the user's policy, not the model's mistake: it stops the run with one line
            raise
        except Exception as exc:  # a tool failure is a result for the model, never a crash of the graph
            return ToolResult(ok=False, text=f"{self.name}: {type(exc).__name__}: {one_line(exc)}")

    def _as_result(self, value: object) -> ToolResult:
        """`_run`'s return as a ToolResult. A tool of the user's that returns its text as a plain str gets it read
        as the text (the model read nothing: an empty, ok result); any other value is a failed result that says
        what `_run` returned, so the slip shows in the trace instead of passing as an empty success."""
        if isinstance(value, ToolResult):
            return value
        if isinstance(value, str):
            return ToolResult(ok=True, text=value)
        return ToolResult(
            ok=False, text=f"{self.name}: _run returned {type(value).__name__}, not a ToolResult (or a str)"
        )

    def normalise_args(self, args: dict[str, Any]) -> dict[str, Any]:
        """Map a bare text argument onto the first required one, coerce numbers, drop unknown keys,
        and insist on the required ones (small models get these wrong all the time)."""
        props: dict[str, Any] = self.parameters.get("properties", {})
        required: list[str] = self.parameters.get("required", [])
        args = dict(args)
        if TEXT_ARG in args and TEXT_ARG not in props and required and required[0] not in args:
            args[required[0]] = args.pop(TEXT_ARG)
        out: dict[str, Any] = {}
        for key, value in args.items():
            if key not in props:
                continue
            kind = props[key].get("type")
            if kind == "integer" and isinstance(value, (str, float)) and not isinstance(value, bool):
                try:
                    value = int(float(value))
                except ValueError:
                    raise ValueError(f"argument '{key}' must be an integer, got {value!r}") from None
            elif kind == "string" and not isinstance(value, str):
                value = json.dumps(value) if isinstance(value, (dict, list)) else str(value)
            out[key] = value
        missing = [key for key in required if key not in out]
        if missing:
            raise ValueError(f"missing argument(s) {', '.join(missing)}; expected {json.dumps(self.parameters)}")
        return out

    @property
    def openai_name(self) -> str:
        """The name offered in OpenAI function schemas (which allow only letters, digits, '_' and '-')."""
        return self.name

    def openai_schema(self) -> dict[str, Any]:
        """The OpenAI chat-completions `tools` entry for this tool."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


def describe_tools(tools: Iterable[Tool]) -> str:
    """The text-protocol help followed by one line per tool with its arguments, for a prompt."""
    lines = [TEXT_PROTOCOL_HELP, "", "Tools:"]
    for tool in tools:
        props = tool.parameters.get("properties", {})
        required = set(tool.parameters.get("required", []))
        args = ", ".join(f'"{k}"' + ("" if k in required else " (optional)") for k in props)
        lines.append(f"- {tool.name} {{{args}}}: {tool.description}")
    return "\n".join(lines)


def _object_at(text: str, start: int) -> dict[str, Any] | None:
    """The JSON (or python-literal) object starting at text[start], possibly spanning lines."""
    try:
        value, _ = json.JSONDecoder().raw_decode(text, start)
        return value if isinstance(value, dict) else None
    except json.JSONDecodeError:
        pass
    depth = 0
    for end in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[end], 0)
        if depth == 0:
            try:
                value = ast.literal_eval(text[start : end + 1])
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                return None
            return value if isinstance(value, dict) else None
    return None


def parse_text_calls(text: str) -> list[tuple[str, dict[str, Any]]]:
    """Every `CALL name {json}` (or `CALL name bare text`) line in a model's output, in order.

    Lines whose arguments cannot be read are skipped rather than guessed.
    """
    calls: list[tuple[str, dict[str, Any]]] = []
    for match in _CALL_LINE.finditer(text or ""):
        name, rest = match.group(1), match.group(2).strip()
        if rest.startswith("{"):
            args = _object_at(text, match.start(2) + match.group(2).index("{"))
            if args is None:
                continue
        else:
            bare = rest.strip("`'\" ")
            args = {TEXT_ARG: bare} if bare else {}
        calls.append((name, {str(k): v for k, v in args.items()}))
    return calls
