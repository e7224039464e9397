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


@pytest.mark.parametrize("text, true_tokens", [
    ("你好世界，今天天气很好", 23),  # llama.cpp's /tokenize on SmolLM2 (2026-12-05)
    ("Привет, как дела сегодня?", 19),
    ("東京は日本の首都です。", 19),
])
def test_text_outside_ascii_is_never_counted_below_its_tokens(text, true_tokens):
    """A letter run outside ASCII was ~4 letters a token, like English: a Chinese reply counted 4 against 23. A
    byte-level BPE gives a character at most one token per UTF-8 byte, so that bound is the estimate."""
    assert true_tokens <= text_tokens(text) <= len(text.encode())
