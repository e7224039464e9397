"""A router's result carries its stages' loop and fan-out notes, as a graph run's result does, each named with its
stage ('stage 1: loop verify -> solve: 2 round(s) of at most 2; stopped: reached max_rounds 2'), on the sim pool."""
import asyncio

import pytest

from rolegraph.graphs.router import RouterSpec, Stage, StopRule
from rolegraph.graphs.router_runtime import CompiledRouter
from rolegraph.graphs.runtime import run_graph
from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from tests.graphs.test_fanout import THREE, graph, toolbox
from tests.graphs.test_loop_rounds_read_and_stop import item, revise

NEVER = StopRule(min_logprob=0.0)  # a sim reply's mean log-probability is below 0 (or absent): stage 1 escalates


@pytest.fixture
def hub(tmp_path):
    return ModelHub(ModelPool.builtin(), Settings(home=tmp_path, cache=False))


def test_a_router_names_its_stages_loop_and_fanout_notes(hub):
    question = Item(id="notes-3", question=THREE, gold="Alexander Fleming", family="qa")
    router = RouterSpec(stages=[Stage(graph=revise(2), stop=NEVER), Stage(graph=graph(max_fanout=2))])
    res = asyncio.run(CompiledRouter(router, hub, toolbox=toolbox()).run(question))
    assert res.stage == 2
    loop = [n for n in res.notes if n.startswith("stage 1: loop verify -> solve: ")]
    assert len(loop) == 1 and "2 round(s) of at most 2; stopped: reached max_rounds 2" in loop[0]
    fanout = [n for n in res.notes if n.startswith("stage 2: fanout from 'plan': ")]
    assert len(fanout) == 1 and "capped at max_fanout 2" in fanout[0] and "spawned 2 x [search]" in fanout[0]


def test_a_stage_note_is_the_graph_runs_own_note(hub):
    alone = asyncio.run(run_graph(revise(2), item(), hub))
    other = revise(3)  # on other models: no node shared with stage 1 (test_router_dynamic_reuse.py has those)
    other.nodes = [n.model_copy(update={"model": "sim/llama-3.1-8b"}) for n in other.nodes]
    router = RouterSpec(stages=[Stage(graph=revise(2), stop=NEVER), Stage(graph=other)])
    res = asyncio.run(CompiledRouter(router, hub).run(item()))
    assert res.stage == 2 and res.notes[0] == f"stage 1: {alone.notes[0]}"
    assert res.notes[1].startswith("stage 2: loop verify -> solve: ") and "at most 3" in res.notes[1]
    assert len(res.notes) == 2  # no failed tool call: nothing else
