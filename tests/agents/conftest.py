"""Test doubles for agents: a scripted model caller that follows the text contract.

Real sim models cover the runtime tests; these scripts cover what the sim never does (native tool
calls, text-protocol tool calls, models that ignore the format).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from rolegraph.chat.types import Completion, Message, ToolCall, Usage
from rolegraph.tools.calculator import Calculator
from rolegraph.tools.local_search import LocalSearch, SearchTool
from rolegraph.tools.toolbox import ToolBox

CORPUS = [
    {"title": "Penicillin", "url": "https://en.wikipedia.org/wiki/Penicillin",
     "text": "Penicillin was discovered in 1928 by the Scottish physician Alexander Fleming."},
    {"title": "Alexander Fleming", "url": "https://en.wikipedia.org/wiki/Alexander_Fleming",
     "text": "Sir Alexander Fleming was a Scottish physician and microbiologist who discovered penicillin."},
    {"title": "Insulin", "url": "https://en.wikipedia.org/wiki/Insulin",
     "text": "Insulin was first purified in 1922 by Banting and Best in Toronto."},
]


def tool_call(name: str, args: dict, call_id: str = "call_1") -> ToolCall:
    return ToolCall(id=call_id, name=name, arguments=json.dumps(args))


@dataclass
class ScriptedCaller:
    """A `Caller` answering from a script of (text, tool_calls) replies; records what it was sent."""

    replies: list[tuple[str, list[ToolCall]]]
    sent: list[list[Message]] = field(default_factory=list)
    tools_sent: list[list[dict] | None] = field(default_factory=list)

    async def __call__(self, messages: list[Message], tools: list[dict] | None = None) -> Completion:
        self.sent.append([dict(m) for m in messages])
        self.tools_sent.append(tools)
        text, calls = self.replies[min(len(self.sent), len(self.replies)) - 1]
        return Completion(text=text, tool_calls=calls, usage=Usage(input_tokens=10, output_tokens=5),
                          model_id="test/scripted")


@pytest.fixture
def toolbox() -> ToolBox:
    return ToolBox([Calculator(), SearchTool(LocalSearch.from_documents(CORPUS))])
