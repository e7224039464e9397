"""The LangSmith status line shows the endpoint without its credentials or query."""
from __future__ import annotations

from rolegraph.graphs.interop import langsmith_status


def test_describe_shows_the_endpoint_without_credentials_or_query():
    status = langsmith_status({"LANGSMITH_TRACING": "true", "LANGSMITH_API_KEY": "k",
                               "LANGSMITH_ENDPOINT": "https://user:SECRETPW@proxy.example:8443/ls/?token=SECRETQ"})
    line = status.describe()
    assert "SECRETPW" not in line and "SECRETQ" not in line and "user" not in line
    assert "at https://proxy.example:8443/ls/, key from $LANGSMITH_API_KEY" in line
    assert "SECRETPW" not in repr(status) and "SECRETQ" not in repr(status)


def test_an_unparsable_endpoint_is_not_echoed():
    status = langsmith_status({"LANGSMITH_TRACING": "true", "LANGSMITH_ENDPOINT": "http://u:SECRETPW@[::1"})
    assert "SECRETPW" not in status.describe()
