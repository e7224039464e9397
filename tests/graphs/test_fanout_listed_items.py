"""What a fan-out spawns from its source's list: one copy per distinct, non-blank item (whitespace collapsed), and the
note says "capped" only when the list was longer than `max_fanout`. A user role's parser decides the list here, so
each case is exact (the sim's planner writes its own)."""
import asyncio

import pytest

from rolegraph.agents.parsers import RoleOutput
from rolegraph.agents.registry import RoleRegistry
from rolegraph.errors import BudgetExceededError
from rolegraph.graphs.budget import Budget
from rolegraph.graphs.runtime import run_graph
from rolegraph.graphs.spec import GraphSpec
from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from rolegraph.tools.local_search import LocalSearch, SearchTool
from rolegraph.tools.toolbox import ToolBox

S3, S8 = "sim/llama-3.2-3b", "sim/llama-3.1-8b"
DOCS = [{"title": "Penicillin", "text": "Penicillin was discovered by Alexander Fleming in 1928."}]


def run_with_list(listed: list[str], max_fanout: int, tmp_path, **kw):
    """A run whose source lists exactly `listed` (its parser ignores the reply), fanning out to a searcher."""
    roles = RoleRegistry.default()
    roles.register("lister", "List sub-questions.\n",
                   lambda text, kind="auto": RoleOutput(text, None, {"sub_questions": list(listed)}), answers=False)
    spec = GraphSpec.model_validate({
        "name": "listed",
        "nodes": [{"id": "plan", "role": "lister", "model": S8}, {"id": "search", "role": "searcher", "model": S3},
                  {"id": "solve", "role": "solver", "model": S8}],
        "edges": [["plan", "search"], ["search", "solve"]],
        "fanout": [{"from": "plan", "nodes": ["search"], "max_fanout": max_fanout}]})
    hub = ModelHub(ModelPool.builtin(), Settings(home=tmp_path, cache=False))
    item = Item(id="f1", question="Who discovered penicillin?", gold="Alexander Fleming", family="qa")
    toolbox = ToolBox([SearchTool(LocalSearch.from_documents(DOCS))])
    return asyncio.run(run_graph(spec, item, hub, toolbox=toolbox, roles=roles, **kw))


def test_blank_and_repeated_items_spawn_no_copy_of_their_own(tmp_path):
    listed = ["Who found penicillin?", "", "   ", "Who  found\npenicillin? ", "Where was Fleming born?"]
    res = run_with_list(listed, 4, tmp_path)
    # two distinct questions once blanks are dropped and whitespace is collapsed
    assert [n.id for n in res.runs("search")] == ["search[1]", "search[2]"]
    assert res.notes[0].startswith("fanout from 'plan': 2 item(s) in sub_questions; spawned 2 x [search]")


@pytest.mark.parametrize(("listed", "capped"), [(2, False), (3, True)])
def test_capped_is_said_only_when_more_items_were_listed_than_max_fanout(listed, capped, tmp_path):
    res = run_with_list([f"Sub-question number {i}?" for i in range(1, listed + 1)], 2, tmp_path)
    assert len(res.runs("search")) == 2
    assert ("capped at max_fanout 2" in res.notes[0]) is capped


def test_a_source_that_ends_past_the_time_budget_spawns_no_copy_and_its_reader_is_refused(tmp_path):
    """The reader of a group that spawned no copy still waited for the source: it starts at the source's end on the
    modelled clock, so the time budget refuses it. It was modelled as starting at 0 s, beside the source, and ran past
    max_seconds (the run said 1.08 s where the source alone took 0.93 s)."""
    free = run_with_list(["Who found penicillin?"], 4, tmp_path)
    cap = free.node("plan").end_s
    with pytest.raises(BudgetExceededError, match=r"time budget exceeded before node 'solve'") as refused:
        run_with_list(["Who found penicillin?"], 4, tmp_path, budget=Budget(max_seconds=cap))
    res = refused.value.partial
    assert res.runs("search") == [] and res.node("solve").calls == 0
    assert "spawned 0 x [search]; stopped before copy 1 (time budget" in res.notes[0]
