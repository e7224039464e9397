"""A base_url's credentials or query key never show in ModelSpec's own messages, and `url_identity` keeps
a URL verbatim only when it holds nothing that could be secret."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from rolegraph.chat.spec import ModelSpec, has_secret_parts, url_identity, url_secrets

SECRET_URL = "https://u:secret@api.example.com/v1?key=SECRET2"


def test_the_answer_key_refusal_names_the_public_url_only():
    with pytest.raises(ValidationError) as info:
        ModelSpec(id="mine/remote", backend="openai", base_url=SECRET_URL, answer_key=True)
    message = str(info.value)
    assert "https://api.example.com/v1" in message and "loopback" in message
    assert "secret" not in message and "SECRET2" not in message


def test_a_url_with_a_query_is_still_accepted():
    spec = ModelSpec(id="azure/x", backend="openai", base_url="https://x.example.com/openai?api-version=2024-02-01")
    assert spec.base_url.endswith("?api-version=2024-02-01")  # the calls still go to the whole URL
    assert spec.public_endpoint == "https://x.example.com/openai"


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("http://127.0.0.1:8000/v1", False),
        ("https://api.openai.com/v1", False),
        ("https://tok@h.example/v1", True),
        ("https://h.example/v1?key=k", True),
        ("https://h.example/v1#k", True),
    ],
)
def test_which_urls_may_hold_a_secret(url, secret):
    assert has_secret_parts(url) is secret
    identity = url_identity(url)
    assert (identity == url) is (not secret)
    if secret:
        assert "tok" not in identity and "key=" not in identity and "#k" not in identity


def test_url_secrets_lists_userinfo_and_query_values():
    assert set(url_secrets(SECRET_URL)) == {"u", "secret", "SECRET2"}
    assert url_secrets("http://127.0.0.1:8000/v1") == []
