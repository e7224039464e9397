"""`ModelSpec`'s endpoint fields: a `base_url` the client could never connect to, an `api_key_env` holding the
key instead of its variable's name (refused without echoing it), and the per-entry `timeout_s`/`max_retries`."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from rolegraph.chat.spec import MAX_RETRIES_CAP, OPENAI_API_URL, ModelSpec

SECRET = "sk-abc123secretvalue"


@pytest.mark.parametrize("url, needle", [("127.0.0.1:18003/v1", "no scheme"), ("ftp://host/v1", "'ftp://'"),
                                         ("localhost:8000/v1", "http://"), ("http:///v1", "no host"),
                                         ("http://h:port/v1", "not a URL")])
def test_a_base_url_that_cannot_connect_is_refused(url, needle):
    with pytest.raises(ValidationError) as err:
        ModelSpec(id="x/y", backend="openai", base_url=url)
    assert needle in str(err.value) and "base_url" in str(err.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/v1", "https://api.example.com/v1", "HTTP://[::1]:9/v1"])
def test_http_and_https_urls_are_taken(url):
    assert ModelSpec(id="x/y", backend="openai", base_url=url).endpoint == url


def test_the_endpoint_of_an_openai_entry_without_base_url_is_openai_itself():
    assert ModelSpec(id="openai/gpt-x", backend="openai").endpoint == OPENAI_API_URL
    assert ModelSpec(id="sim/x", backend="sim").endpoint is None


@pytest.mark.parametrize("value", [SECRET, "MyPlainSecretToken-123", "1STARTS_WITH_DIGIT", "HAS SPACE", ""])
def test_an_api_key_env_that_is_not_a_variable_name_is_refused_without_echoing_it(value):
    with pytest.raises(ValidationError) as err:
        ModelSpec(id="k/x", backend="openai", base_url="http://127.0.0.1:9/v1", api_key_env=value)
    text = str(err.value)
    assert "NAME of an environment variable" in text and "not the key itself" in text
    assert not value or value not in text  # the (probable) key is never shown


@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "_k", "my_key2"])
def test_variable_names_are_taken(name):
    assert ModelSpec(id="k/x", backend="openai", api_key_env=name).api_key_env == name


@pytest.mark.parametrize("fields", [{"timeout_s": 0}, {"timeout_s": -1}, {"max_retries": -1},
                                    {"max_retries": MAX_RETRIES_CAP + 1}, {"timeout_s": "soon"}])
def test_bad_timeouts_and_retries_are_refused(fields):
    with pytest.raises(ValidationError):
        ModelSpec.model_validate({"id": "t/x", "backend": "openai"} | fields)


def test_timeout_and_retries_default_to_none_and_are_kept():
    assert (ModelSpec(id="t/x", backend="openai").timeout_s, ModelSpec(id="t/x", backend="openai").max_retries) \
        == (None, None)
    spec = ModelSpec(id="t/x", backend="openai", timeout_s=2.5, max_retries=0)
    assert (spec.timeout_s, spec.max_retries) == (2.5, 0)
