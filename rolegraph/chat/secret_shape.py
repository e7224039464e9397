"""Whether a value given where an environment variable's NAME belongs has a token's shape instead.

An identifier like `hf_AbCd...` or `ghp_...` is a valid variable name to the shell, so checking a name's characters
let a pasted token through (an MCP server's `env_from` / `headers_from_env`, a pool entry's `api_key_env`), and the
"not set" message at run time then repeated it. A name refused here by mistake is renamed at no cost; a token let
through would be shown, and stored with the graph or pool file's copy.
"""

from __future__ import annotations

import re

TOKEN_SHAPES = re.compile(
    r"(?:hf_|gh[pousr]_|github_pat_|glpat-|sk-|xox[a-z]-)[A-Za-z0-9_-]{16,}|(?:AKIA|ASIA)[A-Z0-9]{16}"
)
"""Tokens that announce themselves (Hugging Face, GitHub, GitLab, OpenAI-style, Slack, AWS access key ids): the
prefix, case as issued, then the token's body. Matched at the start of a value that `env_from` or `headers_from_env`
gives where a variable's name belongs."""
LONG_RUN = re.compile(r"[A-Za-z0-9]{16,}")
"""A run of letters and digits this long (no `_` between them) that mixes lower case with digits or upper case is a
random string, not a name: variable names are words joined by `_`, conventionally UPPER_CASE."""
TOKEN_SHAPE_WORDS = (
    "a prefix such as hf_ or ghp_, or a run of 16+ letters and digits mixing lower case with digits or capitals"
)
"""The rule in a refusal's words (which never repeat the value)."""


def looks_like_secret(value: str) -> bool:
    """Whether `value` has a token's shape (`TOKEN_SHAPES`, `LONG_RUN`) rather than a variable name's."""
    if TOKEN_SHAPES.match(value):
        return True
    for run in LONG_RUN.findall(value):
        has_lower = any(c.islower() for c in run)
        if has_lower and any(c.isdigit() or c.isupper() for c in run):
            return True
    return False
