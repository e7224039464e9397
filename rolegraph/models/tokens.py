"""Token counts estimated from text, for the replies and choices a server gives no count of.

Why a shape estimate rather than a characters-per-token ratio: model output is often digit-heavy (arithmetic,
tables, code), and common BPE tokenizers split digits one a token (SmolLM2 and Llama 2; GPT-4's and Llama 3's group
up to three), so `len(text) // 4` undercounted a SmolLM2 arithmetic reply up to ~3x. The feedback agent's prompt
budget (`rolegraph.optimize.agent_prompt.estimate_tokens`) uses the same rule, from here: every digit and
punctuation mark one token, runs of letters ~4 letters a token, a run of whitespace one token unless it leads into a
word; a character outside ASCII costs its UTF-8 bytes, the most a byte-level BPE gives it (SmolLM2: a Chinese
sentence of 33 bytes took 23 tokens, a Russian one of 45 bytes 19), so text in any script is never undercounted.
Measured with llama.cpp's `/tokenize` on 125 SmolLM2 replies of rolegraph's solver prompts (arithmetic):
1.00-1.48 of the true count, median 1.19 (`len(text) // 4`: 0.14-1.34), so it errs high, as a bill should;
tokenizers that group digits (GPT-4's, Llama 3's) count fewer, so it errs higher there."""

from __future__ import annotations

import re

LETTERS_PER_TOKEN = 4.0
"""A run of letters costs its length over this, at least one token (English words: ~4 letters a token)."""
_PIECES = re.compile(r"\d|[^\w\s]|[^\W\d_]+|_|\s+(?=[^\w\s]|\d|_|$)")
"""What `text_tokens` counts: every digit, every punctuation mark, runs of letters, and a run of whitespace that
does not lead into a word (before a word, the space joins it: " word" is one token)."""


def shape_tokens(text: str) -> float:
    """Tokens `text` takes by its shape, unrounded (the feedback agent's prompt budget adds sections' figures)."""
    n = 0.0
    for piece in _PIECES.finditer(text):
        run = piece.group()
        if not run[0].isalpha():
            n += 1.0 if run.isascii() else len(run.encode())
        elif run.isascii():
            n += max(1.0, len(run) / LETTERS_PER_TOKEN)
        else:  # a byte-level BPE gives a letter outside ASCII at most one token per UTF-8 byte, and often that many
            latin = sum(c.isascii() for c in run)
            n += max(1.0, latin / LETTERS_PER_TOKEN + len(run.encode()) - latin)
    return n


def text_tokens(text: str) -> int:
    """Tokens `text` takes by its shape (rounded up; 0 for no text)."""
    return int(shape_tokens(text) + 0.999)
