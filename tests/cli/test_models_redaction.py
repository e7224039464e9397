"""`rolegraph models` shows where an endpoint is, but never a base_url's credentials or query key."""

from __future__ import annotations

import json

import yaml

from rolegraph.settings import HOME_ENV, POOL_ENV

from .support import run_cli

SECRET_URL = "https://u:secret@127.0.0.1:9/v1?key=SECRET2"
PUBLIC = "https://127.0.0.1:9/v1"


def test_models_shows_the_endpoint_without_its_secrets(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    monkeypatch.delenv(POOL_ENV, raising=False)
    monkeypatch.setenv("COLUMNS", "250")
    pool = tmp_path / "pool.yaml"
    entry = {"id": "mine/leaky", "backend": "openai", "base_url": SECRET_URL, "model": "m"}
    pool.write_text(yaml.safe_dump({"models": [entry]}))
    code, out, err = run_cli(capsys, "models", "--pool", pool, "--json")
    assert code == 0, err
    rows = {r["id"]: r for r in json.loads(out)}
    assert rows["mine/leaky"]["endpoint"] == PUBLIC
    code, table, err = run_cli(capsys, "models", "--pool", pool)
    assert code == 0, err
    assert "127.0.0.1:9/v1" in table
    for text in (out, err, table):
        assert "secret" not in text and "SECRET2" not in text
