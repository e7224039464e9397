"""What the three Agent-REINFORCE variants share (`agent_reinforce_base`) keeps what each stores and shows: the
`config()` a run records (and a resumed run rebuilds from), the agent's name, the checkpoint's fields, and a
checkpoint in the format written before the variants shared a base still loads."""
from __future__ import annotations

import json

import pytest

import rolegraph.optimize as optimize_pkg
from rolegraph.errors import SearchError
from rolegraph.optimize import statistical_agent, statistical_agent_gp
from rolegraph.optimize.api import make_optimizer
from rolegraph.optimize.feedback import Feedback, GraphUpdate, ProposedGraph, TextualGradient
from rolegraph.optimize.probabilistic import ProbabilisticGraph

from .helpers import tiny_space

CONFIGS = {
    "agent-reinforce": [("step_size", 0.5), ("pilot", True), ("learn", True), ("race", True), ("paired", True),
                        ("identify_from", 0.5), ("agent", "statistical")],
    "agent-reinforce:pilot-only": [("step_size", 0.5), ("pilot", True), ("learn", False), ("race", False),
                                   ("paired", True), ("identify_from", None), ("agent", "statistical")],
    "agent-reinforce:no-identify": [("step_size", 0.5), ("pilot", True), ("learn", True), ("race", True),
                                    ("paired", True), ("identify_from", None), ("agent", "statistical")],
    "agent-reinforce:gp": [("step_size", 0.5), ("pilot_batch", None), ("pilot", True), ("learn", True),
                           ("race", True), ("agent", "statistical")],
    "agent-reinforce:v1": [("step_size", 0.5), ("pilot_batch", None), ("pilot", True), ("agent", "statistical")],
}
STATE_FIELDS = {
    "agent-reinforce": ["pg", "queue", "mixed", "rows", "pending", "racing", "scored", "identify", "history"],
    "agent-reinforce:gp": ["pg", "pending", "racing", "history"],
    "agent-reinforce:v1": ["pg", "pending", "history"],
}
RECORD = {"iteration": 0, "agent": "statistical", "summary": "pilot on 4 items", "helped": ["a"], "hurt": ["b"],
          "update": {}, "fallback": None, "fallback_reason": None, "attempts": 1, "notes": []}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_each_variant_records_the_config_and_agent_name_it_did_before(name):
    opt = make_optimizer(name)
    assert list(opt.config().items()) == CONFIGS[name]  # the order too: it is what a run's config file shows
    assert opt.name == name
    assert opt.feedback_agent_name() == (None if name == "agent-reinforce:pilot-only" else "statistical")


@pytest.mark.parametrize("name", sorted(STATE_FIELDS))
def test_each_variant_checkpoints_the_fields_it_did_before(pool, name):
    opt = make_optimizer(name)
    opt.bind(tiny_space(pool), 0)
    assert list(opt.state_dict()) == STATE_FIELDS[name]


def _old_state(pool, name: str) -> dict:
    """A checkpoint as the variants wrote it before they shared a base (hand-written, one exchange of history)."""
    pg = ProbabilisticGraph(tiny_space(pool)).to_dict()
    graph = tiny_space(pool).single("sim/llama-3.2-3b").model_dump(mode="json")
    proposed = {"nodes": [{"id": "output", "role": "solver", "model": "sim/llama-3.2-3b"}], "edges": []}
    return {
        "agent-reinforce": {"pg": pg, "queue": [], "mixed": True, "rows": [], "pending": proposed,
                            "racing": [graph], "scored": [graph], "identify": [], "history": [RECORD]},
        "agent-reinforce:gp": {"pg": pg, "pending": [proposed], "racing": [graph], "history": [RECORD]},
        "agent-reinforce:v1": {"pg": pg, "pending": proposed, "history": [RECORD]},
    }[name]


@pytest.mark.parametrize("name", sorted(STATE_FIELDS))
def test_a_checkpoint_written_before_the_shared_base_resumes_unchanged(pool, name):
    old = json.loads(json.dumps(_old_state(pool, name)))
    opt = make_optimizer(name)
    opt.bind(tiny_space(pool), 0)
    opt.load_state_dict(old)
    assert json.loads(json.dumps(opt.state_dict())) == old


def test_the_gp_variant_still_reads_an_older_checkpoint_with_one_pending_graph(pool):
    old = _old_state(pool, "agent-reinforce:gp") | {"pending": {"nodes": [], "edges": []}}
    opt = make_optimizer("agent-reinforce:gp")
    opt.bind(tiny_space(pool), 0)
    opt.load_state_dict(old)
    assert opt.state_dict()["pending"] == [{"nodes": [], "edges": []}]


def test_each_variant_runs_with_the_statistical_agent_named_for_it():
    assert type(make_optimizer("agent-reinforce").agent) is statistical_agent.StatisticalFeedbackAgent
    assert type(make_optimizer("agent-reinforce:v1").agent) is statistical_agent.StatisticalFeedbackAgent
    assert type(make_optimizer("agent-reinforce:gp").agent) is statistical_agent_gp.StatisticalFeedbackAgent
    assert optimize_pkg.StatisticalFeedbackAgent is statistical_agent.StatisticalFeedbackAgent  # the public name


@pytest.mark.parametrize("name", sorted(STATE_FIELDS))
@pytest.mark.parametrize("step", [0.0, 1.5])
def test_every_variant_refuses_a_step_size_outside_0_to_1(name, step):
    with pytest.raises(SearchError, match="step size"):
        make_optimizer(name, step_size=step)


class _Log:
    """The one part of a search context `_apply` writes to."""

    def __init__(self) -> None:
        self.records: list = []

    def log_feedback(self, record) -> None:
        self.records.append(record)


@pytest.mark.parametrize("name", sorted(STATE_FIELDS))
def test_every_variant_keeps_an_invalid_update_as_text_only(pool, name):
    opt = make_optimizer(name)
    opt.bind(tiny_space(pool), 0)
    before = opt.bound_pg.to_dict()
    bad = GraphUpdate(models={"output": {"sim/no-such-model": 1.0}},
                      proposed_graph=ProposedGraph.model_validate({"nodes": [], "edges": []}))
    log = _Log()
    opt._apply(Feedback(gradient=TextualGradient(summary="s"), update=bad, agent="statistical"), 0.5, 3, log)
    assert opt.bound_pg.to_dict() == before
    assert opt.state_dict()["pending"] in (None, [])  # the rejected update's proposal is dropped with it
    assert [(r.iteration, r.fallback_reason, r.summary) for r in opt.history] == [(3, "invalid", "s")]
    assert log.records == opt.history
