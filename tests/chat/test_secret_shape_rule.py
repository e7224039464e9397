"""`looks_like_secret`'s rule at its edges, as its docstrings state it: a known prefix (`hf_`, `gh[pousr]_`,
`github_pat_`, `glpat-`, `sk-`, `xox?-`) followed by 16 or more token characters, or AKIA/ASIA and 16 capitals or
digits, matched at the start of the value; else a run of 16 or more letters and digits (no `_` inside it) that
mixes lower case with digits or capitals. A token let through is shown and stored with the file; a name refused
by mistake only annoys, so names that fall just short of the rule must pass.

Every value here is made up: none is a credential."""

from __future__ import annotations

import pytest

from rolegraph.chat.secret_shape import looks_like_secret

BODY16 = "ABCDEFGHIJ012345"  # 16 capitals and digits: no lower case, so only the prefix rule can flag it


@pytest.mark.parametrize(
    "prefix", ["hf_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "sk-", "xoxb-", "xoxp-", "xoxa-"]
)
def test_each_known_prefix_with_a_16_character_body_is_a_token(prefix):
    assert looks_like_secret(prefix + BODY16)


def test_a_slack_token_of_digits_and_dashes_is_a_token():
    assert looks_like_secret("xoxp-1234567890-1234567890123")


def test_a_token_followed_by_more_text_is_still_a_token():
    """Matched at the start: a pasted AWS key id with something after it is no name either."""
    assert looks_like_secret("AKIAIOSFODNN7EXAMPLE_OLD")


def test_a_run_of_exactly_16_mixing_lower_case_and_digits_is_a_token():
    assert looks_like_secret("a3f9c2e1b4d5f607")
    assert looks_like_secret("MY_a3f9c2e1b4d5f607")


def test_a_run_of_15_mixing_lower_case_and_digits_is_a_name():
    assert not looks_like_secret("a3f9c2e1b4d5f60")
    assert not looks_like_secret("MY_a3f9c2e1b4d5f60_KEY")


def test_a_run_mixing_lower_case_and_capitals_without_digits_is_a_token():
    assert looks_like_secret("AbCdEfGhIjKlMnOpQr")


@pytest.mark.parametrize("name", ["MYSERVICETOKEN2024", "ABCDEFGHIJKLMNOPQRST", "GITHUB_TOKEN_2024_09_30"])
def test_upper_case_names_however_long_are_names(name):
    """No lower case in the run: variable names are conventionally UPPER_CASE."""
    assert not looks_like_secret(name)


def test_a_prefix_with_a_short_body_is_a_name():
    assert not looks_like_secret("hf_TOKEN")
    assert not looks_like_secret("ghp_MY_TOKEN")
