"""`scrub_key` at the short-key edge (its docstring's rule): a key of `MIN_KEY_FRAGMENT` characters or more is
scrubbed wherever it appears, inside a longer word too (a 6-character key left in `Bearer=Zq9xW2` is a leaked key);
a shorter one goes only where it stands alone, with letters and digits (not punctuation) deciding what "alone"
means; an empty key changes nothing. Expected texts are written out by hand."""

from __future__ import annotations

import pytest

from rolegraph.models.key_scrub import MIN_KEY_FRAGMENT, scrub_key


def test_an_empty_key_changes_nothing():
    text = "error: bad request (code 400), try again."
    assert scrub_key(text, "") == text


@pytest.mark.parametrize("text", ["auth=Zq9xW2; retry", "token aZq9xW2b refused", "Zq9xW2 refused", "id 7Zq9xW2"])
def test_a_key_of_exactly_the_fragment_length_goes_even_inside_a_word(text):
    key = "Zq9xW2"
    assert len(key) == MIN_KEY_FRAGMENT
    out = scrub_key(text, key)
    assert key not in out and "***" in out


def test_a_five_character_key_goes_only_where_it_stands_alone():
    key = "Ab3De"
    assert scrub_key("key Ab3De rejected; Ab3Def and xAb3De are other words", key) == (
        "key *** rejected; Ab3Def and xAb3De are other words"
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ("bad key: k1y2z.", "bad key: ***."),
        ("(k1y2z)", "(***)"),
        ("key=k1y2z,retry", "key=***,retry"),
        ("k1y2z-old", "***-old"),
    ],
)
def test_a_short_key_next_to_punctuation_still_stands_alone(text, expected):
    assert scrub_key(text, "k1y2z") == expected


@pytest.mark.parametrize("text", ["k1y2z9 is a build", "Ak1y2z", "9k1y2z", "k1y2zZ"])
def test_a_short_key_next_to_a_letter_or_digit_is_part_of_a_longer_word(text):
    assert scrub_key(text, "k1y2z") == text


def test_a_short_key_with_regex_characters_is_taken_literally():
    assert scrub_key("the key a.b+ was refused; aXb is a word", "a.b+") == "the key *** was refused; aXb is a word"
