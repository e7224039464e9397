"""The estimate `rolegraph optimize` prints before a real search prices each call's prompt at what the node sends: its
role's own system prompt with the task's answer format, the task's questions (their mean) and the chat template. It
priced every prompt at the family profile's length (320 tokens for mmlu, whatever the role), so on real SmolLM2
prompts of short roles it said 1.8-2.9x what the search paid.

A one-node space of a short role of a roles file on a loopback endpoint priced at $1 a prompt token and nothing a
reply: the typical dollars printed are the item runs times one call's prompt tokens, worked out here by hand from
the role's text and the questions; and the prompts the endpoint then receives, counted the same way, are that
figure within a token or two (each piece is rounded on its own)."""
from __future__ import annotations

import json
import re

import pytest
import yaml

from rolegraph.agents.registry import RoleRegistry
from rolegraph.models.tokens import text_tokens
from rolegraph.sim.server import ServerThread
from tests.cli.support import cli
from tests.models.fake_servers import Canned

MODEL = "my/model"
ROLE_TEXT = "Pick the right choice and say why in a few words."
TEMPLATE = 14  # SmolLM2's chat template around a system and a user message, as llama.cpp's server counted it
CHOICES = ["Mercury", "Venus", "Earth", "Mars"]


@pytest.fixture(autouse=True)
def home(fresh_home):
    return fresh_home


def _question(k: int) -> str:
    return f"Which planet is number {k % 9 + 1} from the sun, counting {k} times?"


def test_the_printed_dollars_are_the_roles_text_and_the_questions_as_sent(tmp_path, capsys):
    data = tmp_path / "planets.jsonl"
    data.write_text("".join(json.dumps({"id": f"p{k}", "question": _question(k), "choices": CHOICES, "answer": "B"})
                            + "\n" for k in range(30)))
    roles = tmp_path / "roles.yaml"
    roles.write_text(yaml.safe_dump({"roles": [{"name": "pick", "prompt": ROLE_TEXT + "\n{answer_format}\n",
                                                 "parser": "answer", "max_tokens": 8}]}))
    canned = Canned("Final answer: B", prompt_tokens=100, completion_tokens=4)
    requests = canned.bodies
    with ServerThread(canned.app) as srv:
        pool = tmp_path / "pool.yaml"
        pool.write_text(yaml.safe_dump({"models": [{
            "id": MODEL, "backend": "openai", "base_url": srv.base_url, "model": "m", "max_concurrency": 2,
            "context_window": 4096, "price_in": 1_000_000.0, "price_out": 0.0}]}))  # $1 a prompt token, replies free
        code, _, err = cli(["optimize", "--task", "jsonl", "--data", data, "--task-option", "family=mmlu",
                            "--task-option", "choices_field=choices", "--pool", pool, "--models", MODEL,
                            "--roles-file", roles, "--roles", "pick", "--max-nodes", "1", "--budget-kind", "dollars",
                            "--budget", "100000", "--optimizer", "random", "--iterations", "1", "--samples", "2",
                            "--batch", "2", "--validation-items", "1", "--test-items", "2", "--route-items", "0",
                            "--out", tmp_path / "run"], capsys)
    assert code == 0, err
    fmt = RoleRegistry.default().answer_format("mmlu").strip()  # the task's answer format, not math's
    system = text_tokens(f"Role: pick.\n{ROLE_TEXT}\n{fmt}\n")
    lettered = "\n".join(f"{chr(ord('A') + i)}. {c}" for i, c in enumerate(CHOICES))
    mean = round(sum(text_tokens(f"{_question(k)}\n{lettered}") for k in range(30)) / 30)  # every split's items
    prompt = TEMPLATE + system + text_tokens("Question:\n\n") + mean
    runs = int(re.search(r"item runs: (\d+)", err).group(1))
    assert f"dollars ~${runs * prompt}.00 " in err, err
    sent = [TEMPLATE + sum(text_tokens(m["content"]) for m in body["messages"]) for body in requests]
    assert sent and all(body["messages"][0]["content"].startswith("Role: pick.") for body in requests)
    assert abs(sum(sent) / len(sent) - prompt) <= 2, (sent, prompt)
