"""A run of the key's characters that ends the message is scrubbed to its last character: a server quoting part
of a key as the last thing it says (glued to other text, so neither whole key nor a free-standing end) must not
leave any character of it behind."""

from __future__ import annotations

from rolegraph.models.key_scrub import scrub_key

KEY = "sk-SECRETkeyvalueXYZ3456"


def test_a_run_of_the_key_glued_to_a_word_at_the_end_of_the_message_goes_whole():
    # "SECRETkeyvalue" is the key's 4th to 17th characters: a middle run, neither its head nor its tail
    assert scrub_key("invalid credential qqSECRETkeyvalue", KEY) == "invalid credential qq***"


def test_a_run_of_the_key_that_is_the_whole_message_goes_whole():
    assert scrub_key("ETkeyvalueXY", KEY) == "***"
