"""The shape estimate of a text's tokens counts digits and signs one a token (SmolLM2 splits them so: llama.cpp's
/tokenize gave 21 tokens for the arithmetic line below, which `len(text) // 4` put at 6)."""
from __future__ import annotations

import pytest

from rolegraph.models.tokens import text_tokens


@pytest.mark.parametrize("text, tokens", [
    ("", 0),
    ("1, 2, 3", 7),  # three digits, two commas, two spaces before digits
    ("Hello world", 3),  # 5/4 + 5/4 letters, the space joining the word, rounded up
    ("9" * 50, 50),
    ("347 * 29 + 1184 = 13312.", 24),  # 14 digits, 4 signs, 6 spaces before a digit or sign
])
def test_text_tokens(text, tokens):
    assert text_tokens(text) == tokens
