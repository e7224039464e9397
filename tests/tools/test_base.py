"""The tool contract: never raises, times out, normalises sloppy arguments; the text protocol parser."""
from __future__ import annotations

import asyncio

from rolegraph.tools.base import TEXT_ARG, TEXT_PROTOCOL_HELP, Tool, ToolResult, describe_tools, parse_text_calls


class Echo(Tool):
    name = "echo"
    description = "Echo the text back n times."
    parameters = {"type": "object",
                  "properties": {"text": {"type": "string"}, "n": {"type": "integer"}},
                  "required": ["text"]}
    timeout_s = 0.5

    async def _run(self, text: str, n: int = 1) -> ToolResult:
        if text == "boom":
            raise RuntimeError("exploded\nover two lines")
        if text == "slow":
            await asyncio.sleep(30)
        return ToolResult(ok=True, text=text * n, data=n)


def call(tool: Tool, **kwargs) -> ToolResult:
    return asyncio.run(tool.call(**kwargs))


def test_a_call_returns_the_result():
    out = call(Echo(), text="ab", n=2)
    assert out.ok and out.text == "abab" and out.data == 2


def test_exceptions_become_one_line_failures():
    out = call(Echo(), text="boom")
    assert not out.ok
    assert "RuntimeError" in out.text and "exploded" in out.text and "\n" not in out.text


def test_timeout_becomes_a_failure_not_a_hang():
    out = call(Echo(), text="slow")
    assert not out.ok and "timed out" in out.text


def test_missing_argument_is_reported_with_the_schema():
    out = call(Echo(), n=2)
    assert not out.ok and "missing argument" in out.text and "text" in out.text


def test_sloppy_arguments_are_normalised():
    # a bare text argument maps onto the first required one; numbers arrive as strings; junk keys drop
    out = call(Echo(), **{TEXT_ARG: "x", "n": "3", "verbose": True})
    assert out.ok and out.text == "xxx"
    assert not call(Echo(), text="x", n="three").ok


def test_openai_schema_shape():
    schema = Echo().openai_schema()
    assert schema["type"] == "function"
    assert schema["function"]["name"] == "echo"
    assert schema["function"]["parameters"]["required"] == ["text"]


def test_describe_tools_lists_each_tool_and_the_protocol():
    text = describe_tools([Echo()])
    assert text.startswith(TEXT_PROTOCOL_HELP)
    assert '- echo {"text", "n" (optional)}' in text


def test_parse_text_calls_reads_calls_among_junk():
    text = """Let me think. I will use the calculator.
CALL calculator {"expression": "17*23"}
some junk } { "unbalanced
   - `CALL search {"query": "who discovered penicillin", "k": 3}`
CALL python: {"code": "print(1)\\nprint(2)"}
CALL search {'query': 'single quotes'}
CALL calculator 2^10
CALL broken {"expression": "1+
CALL calculator {"expression":
  "spans lines"}
Call me maybe (not a call: lowercase)
"""
    calls = parse_text_calls(text)
    assert calls == [
        ("calculator", {"expression": "17*23"}),
        ("search", {"query": "who discovered penicillin", "k": 3}),
        ("python", {"code": "print(1)\nprint(2)"}),
        ("search", {"query": "single quotes"}),
        ("calculator", {TEXT_ARG: "2^10"}),
        ("calculator", {"expression": "spans lines"}),
    ]


def test_parse_text_calls_on_text_without_calls():
    assert parse_text_calls("The answer is 391. Final answer: 391") == []
    assert parse_text_calls("") == []
    assert parse_text_calls("CALL") == []


class Sloppy(Tool):
    """A user's tool that returns its answer as it is, not wrapped in a ToolResult."""

    name = "capital"
    description = "The capital of a country."
    parameters = {"type": "object", "properties": {"country": {"type": "string"}}, "required": ["country"]}

    async def _run(self, country: str):  # noqa: ANN202 - the slip under test: no ToolResult
        return {"France": "Paris"}.get(country, {"unknown": country})


def test_a_tool_returning_a_plain_string_is_read_as_its_text():
    """The model was shown an empty, ok result (and the trace an empty summary): the text was silently lost."""
    out = call(Sloppy(), country="France")
    assert isinstance(out, ToolResult) and out.ok and out.text == "Paris"


def test_a_tool_returning_anything_else_is_a_failed_result_that_says_so():
    out = call(Sloppy(), country="Atlantis")
    assert isinstance(out, ToolResult) and not out.ok
    assert out.text == "capital: _run returned dict, not a ToolResult (or a str)"
