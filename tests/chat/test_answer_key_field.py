"""The field serve-sim reads the answer key from is named once (`chat.spec.EXTRA_FIELD`), below both the
server and the client, and the throughput benchmark's bare client sends gold only to loopback, like a pool
entry with `answer_key: true`. (The benchmark's check sits here with the field it sends.)"""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path

import pytest

import rolegraph
from benchmarks import throughput
from benchmarks.common import UsageError
from rolegraph.chat.spec import EXTRA_FIELD
from rolegraph.items import Item

PACKAGE = Path(rolegraph.__file__).parent
USERS = ("sim/server.py", "models/openai_replies.py")


def test_the_field_is_defined_once_and_both_sides_use_it():
    from rolegraph.models import openai_replies
    from rolegraph.sim import server

    assert EXTRA_FIELD == "rolegraph"  # the wire name: serve-sim twins of older runs still send it
    assert server.EXTRA_FIELD == openai_replies.EXTRA_FIELD == EXTRA_FIELD
    for rel in USERS:
        tree = ast.parse((PACKAGE / rel).read_text())
        assigned = [
            t.id
            for node in ast.walk(tree)
            if isinstance(node, (ast.Assign, ast.AnnAssign))
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(t, ast.Name)
        ]
        assert "EXTRA_FIELD" not in assigned, rel  # imported, never a second definition


@pytest.mark.parametrize("url", ["https://api.example.com/v1", "http://10.0.0.5:8000/v1", "http://192.168.1.2/v1"])
def test_the_bare_benchmark_client_refuses_to_send_gold_off_the_machine(url, monkeypatch):
    made: list[str] = []
    monkeypatch.setattr(throughput.openai, "AsyncOpenAI", lambda **kw: made.append(kw["base_url"]))
    item = Item(id="0", question="1+1?", gold="2")
    with pytest.raises(UsageError) as info:
        asyncio.run(throughput.bare_rate(url, [item], 1))
    assert "loopback" in str(info.value) and "\n" not in str(info.value)
    assert made == []  # refused before a client existed, so nothing was sent


def test_the_bare_benchmark_client_still_runs_against_loopback():
    for url in ("http://127.0.0.1:8000/v1", "http://localhost:1/v1", "http://[::1]:8000/v1"):
        assert throughput.gold_stays_home(url) == url
