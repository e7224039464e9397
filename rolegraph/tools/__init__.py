"""Tools roles can call: calculator, sandboxed python, local (FTS5) and web search.

Each is a `Tool` (name, description, JSON-schema parameters, async `call` that never raises) and
exports an OpenAI function schema; `parse_text_calls` serves models without function calling.
"""

from rolegraph.tools.base import TEXT_PROTOCOL_HELP, Tool, ToolResult, describe_tools, parse_text_calls
from rolegraph.tools.calculator import Calculator
from rolegraph.tools.local_search import LocalSearch, SearchHit, SearchTool
from rolegraph.tools.sandbox import PythonTool, SandboxResult, arun_python, run_python
from rolegraph.tools.toolbox import ToolBox, default_toolbox
from rolegraph.tools.web_search import WebSearch

__all__ = [
    "TEXT_PROTOCOL_HELP",
    "Calculator",
    "LocalSearch",
    "PythonTool",
    "SandboxResult",
    "SearchHit",
    "SearchTool",
    "Tool",
    "ToolBox",
    "ToolResult",
    "WebSearch",
    "arun_python",
    "default_toolbox",
    "describe_tools",
    "parse_text_calls",
    "run_python",
]
