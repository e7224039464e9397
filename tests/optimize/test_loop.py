"""Resume: an interrupted search continues to exactly the uninterrupted result and pays no call twice."""
import json

import pytest

from rolegraph.errors import SearchError
from rolegraph.graphs.io import graph_hash, load_graph
from rolegraph.graphs.isomorphism import StructureIndex
from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.graphs.validate import validate_graph
from rolegraph.optimize.agent_reinforce import AgentReinforce
from rolegraph.optimize.base import Optimizer
from rolegraph.optimize.proposal import Proposal
from rolegraph.optimize.baselines.reinforce import Reinforce
from rolegraph.optimize.rundir import STORE_NAME, RunStore

from .helpers import resume, run, tiny_config, tiny_space

ITERATIONS = 4
STOP_AT = 3


class Interrupted(Exception):
    pass


def _stopping(base):
    """The same optimizer, dying in iteration STOP_AT after its evaluations were paid (before the checkpoint)."""

    class Stopping(base):
        async def observe(self, iteration, evaluations, ctx):
            if iteration == STOP_AT:
                raise Interrupted
            await super().observe(iteration, evaluations, ctx)

    return Stopping


@pytest.mark.parametrize("base, options", [(AgentReinforce, {"pilot_batch": 4}), (Reinforce, {})])
def test_resume_gives_the_uninterrupted_result_without_paying_twice(pool, small_task, tmp_path, base, options):
    cfg = tiny_config(iterations=ITERATIONS)
    full_stats, part_stats, rest_stats = [], [], []
    full = run(pool, tmp_path / "home-a", small_task, base(**options), config=cfg, out=tmp_path / "run-a",
               hub_out=full_stats)
    with pytest.raises(Interrupted):
        run(pool, tmp_path / "home-b", small_task, _stopping(base)(**options), config=cfg, out=tmp_path / "run-b",
            hub_out=part_stats)
    store = RunStore.open(tmp_path / "run-b")
    assert store.checkpoint()[0] == STOP_AT - 1
    store.close()
    again = resume(pool, tmp_path / "home-b", tmp_path / "run-b", small_task, hub_out=rest_stats)
    assert again.best_hash == full.best_hash
    assert again.test == full.test
    strip = lambda recs: [r.model_dump() for r in recs]  # noqa: E731
    assert strip(again.trace.records) == strip(full.trace.records)
    assert strip(again.trace.iterations) == strip(full.trace.iterations)
    assert strip(again.trace.feedback) == strip(full.trace.feedback)
    assert part_stats[0].paid + rest_stats[0].paid == full_stats[0].paid
    assert rest_stats[0].cached > 0  # the interrupted iteration was replayed from the cache
    a = json.loads((tmp_path / "run-a" / "trace.json").read_text())
    b = json.loads((tmp_path / "run-b" / "trace.json").read_text())
    assert a["evaluations"] == b["evaluations"]
    assert (tmp_path / "run-a" / "best_graph.yaml").read_text() == (tmp_path / "run-b" / "best_graph.yaml").read_text()


def test_run_directory_holds_a_runnable_best_graph_and_the_report(pool, small_task, tmp_path):
    result = run(pool, tmp_path / "home", small_task, AgentReinforce(pilot_batch=4), out=tmp_path / "run")
    out = tmp_path / "run"
    for name in ("best_graph.yaml", "trace.json", STORE_NAME):  # the search's own files
        assert (out / name).is_file(), name
    assert not (out / "report.md").exists()  # rendering is the reports layer's job
    from rolegraph.reports import render

    assert render(out) == out / "report.md"
    for name in ("report.md", "curve.png", "pareto.png", "graph.png"):
        assert (out / name).is_file(), name
    best = load_graph(out / "best_graph.yaml")
    assert validate_graph(best, pool) == []
    assert best.model_copy(update={"name": "x", "description": None}).nodes == result.best_graph.nodes
    report = (out / "report.md").read_text()
    assert "simulated" in report and "statistical" in report and "Wilson" in report
    trace = json.loads((out / "trace.json").read_text())
    keys = {"iteration", "graph_hash", "objective", "accuracy", "latency_s", "dollars", "items"}
    assert trace["evaluations"] and keys <= set(trace["evaluations"][0])
    for png in ("curve.png", "pareto.png", "graph.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # resuming a finished run changes nothing and pays nothing
    stats = []
    again = resume(pool, tmp_path / "home", out, small_task, hub_out=stats)
    assert again.best_hash == result.best_hash and stats[0].calls == 0


def test_resume_dir_that_is_not_a_run_is_refused_and_left_alone(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "notes.txt").write_text("mine")
    with pytest.raises(SearchError, match="not a search run directory"):
        RunStore.open(plain)
    assert [p.name for p in plain.iterdir()] == ["notes.txt"]
    bogus = tmp_path / "bogus"
    bogus.mkdir()
    (bogus / STORE_NAME).write_text("not sqlite at all")
    with pytest.raises(SearchError, match="not a search run store"):
        RunStore.open(bogus)
    assert (bogus / STORE_NAME).read_text() == "not sqlite at all"
    with pytest.raises(SearchError, match="no such run directory"):
        RunStore.open(tmp_path / "missing")


def test_out_dir_must_be_new_or_empty(tmp_path):
    RunStore.create(tmp_path / "r", {"x": 1}).close()
    with pytest.raises(SearchError, match="already holds a search run"):
        RunStore.create(tmp_path / "r", {"x": 1})
    (tmp_path / "r" / "report.md").write_text("# a finished run's files")  # still a run to resume, not "not empty"
    with pytest.raises(SearchError, match="already holds a search run: resume it"):
        RunStore.create(tmp_path / "r", {"x": 1})
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "f").write_text("x")
    with pytest.raises(SearchError, match="not an empty directory"):
        RunStore.create(busy, {})


def test_report_renders_an_unfinished_run_from_its_store(pool, small_task, tmp_path):
    from rolegraph.reports import render

    with pytest.raises(Interrupted):
        run(pool, tmp_path / "home", small_task, _stopping(Reinforce)(), config=tiny_config(iterations=ITERATIONS),
            out=tmp_path / "run")
    report = render(tmp_path / "run").read_text()
    assert f"status: search after iteration {STOP_AT - 1}" in report
    assert "Test accuracy" not in report  # no test score before the search has finished
    assert (tmp_path / "run" / "best_graph.yaml").is_file()
    trace = json.loads((tmp_path / "run" / "trace.json").read_text())
    assert trace["phase"] == "search" and trace["final"] is None
    assert {r["iteration"] for r in trace["evaluations"]} == set(range(1, STOP_AT))


class _Scripted(Optimizer):
    """Proposes a fixed list of graphs per iteration; remembers what it was told."""

    name = "scripted"

    def __init__(self, script):
        super().__init__()
        self.script, self.told = script, []

    def propose(self, iteration, count, rng):
        return [Proposal(g, None, "sampled") for g in self.script[iteration - 1]]

    async def observe(self, iteration, evaluations, ctx):
        self.told.append([(e.hash, e.record.graph_hash) for e in evaluations])


def _copy(spec, suffix):
    rename = {n.id: f"{n.id}{suffix}" if n.id != "out" else "out" for n in spec.nodes}
    return GraphSpec(name=spec.name, nodes=[n.model_copy(update={"id": rename[n.id]}) for n in reversed(spec.nodes)],
                     edges=[(rename[a], rename[b]) for a, b in spec.edges])


def _mixed_pair():
    return GraphSpec(name="a", nodes=[NodeSpec(id="w0", role="solver", model="sim/llama-3.2-1b"),
                                      NodeSpec(id="w1", role="solver", model="sim/llama-3.1-8b"),
                                      NodeSpec(id="out", role="fuser", model="sim/llama-3.2-3b")],
                     edges=[("w0", "out"), ("w1", "out")])


def test_isomorphic_copies_pool_their_evidence_under_one_hash(pool, small_task, tmp_path):
    space = tiny_space(pool)
    a = _mixed_pair()
    a_copy, other = _copy(a, "x"), space.single("sim/llama-3.2-3b")
    opt = _Scripted([[a], [a_copy, other], [_copy(a, "y"), a]])
    cfg = tiny_config(iterations=3, batch=4)
    result = run(pool, tmp_path / "home", small_task, opt, space=space, config=cfg, out=tmp_path / "run")
    searched = [r for r in result.trace.records if r.phase == "search"]
    assert [r.graph_hash for r in searched] == [graph_hash(a), graph_hash(a), graph_hash(other), graph_hash(a)]
    # the optimizer still learns which proposal it was: its own hash beside the structure's
    assert opt.told[1][0] == (graph_hash(a_copy), graph_hash(a))
    assert len(opt.told[2]) == 1  # two copies of one structure in one iteration are scored once
    items_on_a = sum(r.n for r in searched if r.graph_hash == graph_hash(a))
    stored = RunStore.open(tmp_path / "run")
    assert graph_hash(a) in stored.graphs() and graph_hash(a_copy) not in stored.graphs()
    assert items_on_a == 3 * cfg.batch


class _LooksUp(_Scripted):
    """Looks a graph up (as racing's `can_still_win` does with a proposal it then drops) without scoring it."""

    def __init__(self, script, looked_up):
        super().__init__(script)
        self.looked_up = looked_up

    async def observe(self, iteration, evaluations, ctx):
        await super().observe(iteration, evaluations, ctx)
        if iteration == 1:
            self.answer = ctx.canonical_hash(self.looked_up)


def test_a_graph_looked_up_but_never_scored_does_not_name_a_later_copy(pool, small_task, tmp_path):
    space = tiny_space(pool)
    a = _mixed_pair()
    a_copy, other = _copy(a, "x"), space.single("sim/llama-3.2-3b")
    opt = _LooksUp([[other], [a_copy], [a, other]], looked_up=a)
    result = run(pool, tmp_path / "home", small_task, opt, space=space, config=tiny_config(iterations=3, batch=4),
                 out=tmp_path / "run")
    assert opt.answer == graph_hash(a)  # a lookup names the graph's own hash while no copy is scored
    searched = [r for r in result.trace.records if r.phase == "search"]
    # the copy scored first is its structure's canonical form; the original graph pools under it
    assert [r.graph_hash for r in searched] == [graph_hash(other), graph_hash(a_copy), graph_hash(a_copy),
                                                graph_hash(other)]
    stored = RunStore.open(tmp_path / "run").graphs()
    assert all(graph_hash(GraphSpec.model_validate(g)) == h for h, g in stored.items())
    assert all(it.best_hash in stored for it in result.trace.iterations if it.best_hash is not None)
    # a resumed search rebuilds its index from the stored graphs: the copy's runs still pool under one hash
    rebuilt = StructureIndex(GraphSpec.model_validate(g) for g in stored.values())
    assert rebuilt.canonical(a_copy) == rebuilt.canonical(a) == graph_hash(a_copy)


def test_a_search_runs_its_evaluations_on_one_frozen_heap(pool, small_task, tmp_path, monkeypatch):
    """The search freezes the heap once (it asks the collector once); every evaluation runs inside, and the
    heap is thawed when it ends."""
    import gc

    from rolegraph.evaluate import heap, runner

    real_count, real_evaluate = gc.get_freeze_count, runner.evaluate
    asked: list[int] = []
    seen: list[tuple[bool, bool]] = []

    async def watched(*args, **kwargs):
        seen.append((heap.INSIDE.get(), real_count() > 0))
        return await real_evaluate(*args, **kwargs)

    monkeypatch.setattr(gc, "get_freeze_count", lambda: asked.append(1) or real_count())
    monkeypatch.setattr(runner, "evaluate", watched)  # the search imports it when it evaluates
    run(pool, tmp_path / "home", small_task, config=tiny_config())
    assert seen and all(inside and frozen for inside, frozen in seen)
    assert len(asked) == 1
    assert real_count() == 0
