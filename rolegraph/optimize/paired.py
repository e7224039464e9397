"""Paired outcomes: the graphs of a search's front, scored on the same items, for per-query routing.

A search ends with a menu, not only a winner. Its front (graphs no other graph beats on both accuracy
and FLOPs), its chosen graph, the smaller votes inside it (`sub_votes`: a first stage that a router can
extend with more samples), the chosen graph with a smaller model at its output (`cheaper_outputs`: a
first stage that a router escalates by re-running only the output) and the single models are each scored
on one shared list of fit items (the search's validation items, topped up from its training items when the
validation split is small: never its test items) and on its test items, and stored in the run directory's results store
(`RUN_DIR/results.sqlite`) as paired sets: every item's score, cost, FLOPs, latency, each node's answer
and the signals a deployment observes (agreement, verdicts, parsability). Runs come from the response
cache where the search already made them. `rolegraph route fit` fits a cascade on these sets; `rolegraph
eval GRAPH --add-to RUN_DIR` adds more graphs to them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rolegraph.agents.registry import RoleRegistry
from rolegraph.chat.spec import ModelSpec
from rolegraph.evaluate.result import EvalResult
from rolegraph.evaluate.store import ResultsStore
from rolegraph.graphs.io import graph_hash
from rolegraph.graphs.router_io import spec_hash
from rolegraph.graphs.signals import ANSWERING_ROLES
from rolegraph.graphs.spec import GraphSpec
from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.optimize.trace import EvalRecord, pooled
from rolegraph.tasks.base import Task
from rolegraph.tools.toolbox import ToolBox  # already loaded by then (evaluate): in the hints that resolve at run time

RESULTS_NAME = "results.sqlite"
"""The run directory's results store (paired outcomes); the search's own state is in run.sqlite."""
PAIRED_SET = "front"
FIT, TEST = "validation", "test"
MAX_FRONT = 6
"""Front graphs kept (best accuracy first) besides the chosen graph and the single models: bounds the cost."""
MAX_CHEAPER_OUTPUTS = 2
"""Cheaper-output variants of the chosen graph offered to routing (the largest smaller models first)."""
MIN_FRONT_ITEMS = 8
"""A graph enters the front only once it was scored on at least this many items (one lucky batch is not a point)."""


@dataclass(frozen=True)
class Candidate:
    source: str  # "best" | "derived" (a sub-vote or cheaper output of the best graph) | "front" | "single" | "eval"
    graph: Any  # a GraphSpec, or a RouterSpec added with `eval --add-to`


def results_path(run_dir: str | Path) -> Path:
    return Path(run_dir) / RESULTS_NAME


def front_graphs(records: list[EvalRecord], graphs: dict[str, dict], limit: int = MAX_FRONT) -> list[GraphSpec]:
    """Graphs on the (pooled accuracy up, FLOPs down) front of a search, best accuracy first."""
    stats = pooled(records)
    flops = {r.graph_hash: r.flops_units for r in records}
    points = [(h, s.accuracy, flops.get(h, 0.0)) for h, s in stats.items() if s.n >= MIN_FRONT_ITEMS and h in graphs]
    keep = [
        p for p in points if not any(q[1] >= p[1] and q[2] <= p[2] and (q[1] > p[1] or q[2] < p[2]) for q in points)
    ]
    keep.sort(key=lambda p: (-p[1], p[2], p[0]))
    return [GraphSpec.model_validate(graphs[h]) for h, _, _ in keep[:limit]]


def sub_votes(spec: GraphSpec) -> list[GraphSpec]:
    """Smaller votes inside a vote: where j >= 2 equal source nodes (same role, model and params) feed the output,
    the first of them answering alone (`-first1`: the sample is the answer), and where j >= 3 the graphs keeping
    the first 2..j-1 of them and the output (other nodes dropped if they then reach nothing).

    Their sources keep their ids, so a router escalating from a sub-vote to the full vote reads the samples it
    has and adds the rest (incremental sampling, as in Adaptive-Consistency, which starts from one sample);
    only the output runs again."""
    output = spec.output_id()
    preds = spec.predecessors(output)
    groups: dict[str, list[str]] = {}
    for node_id in preds:
        node = spec.node(node_id)
        if not spec.predecessors(node_id):
            groups.setdefault(json.dumps([node.role, node.model, node.params], sort_keys=True), []).append(node_id)
    out = []
    voting = [members for members in groups.values() if len(members) >= 2]
    for members in voting:
        tag = "" if len(voting) == 1 else f"-{members[0]}"  # several votes: name each by its first sample
        first = spec.node(members[0])
        if first.role in ANSWERING_ROLES:
            out.append(GraphSpec(name=f"{spec.name}-first1{tag}", nodes=[first], edges=[], output=first.id))
        for j in range(2, len(members)):
            dropped = set(members[j:])
            keep = [n for n in spec.nodes if n.id not in dropped]
            edges = [(a, b) for a, b in spec.edges if a not in dropped and b not in dropped]
            out.append(GraphSpec(name=f"{spec.name}-first{j}{tag}", nodes=keep, edges=edges, output=spec.output))
    return out


def cheaper_outputs(spec: GraphSpec, sizes: dict[str, float], limit: int = MAX_CHEAPER_OUTPUTS) -> list[GraphSpec]:
    """The graph with its output node on each of the `limit` largest models smaller than its own (`sizes`: model
    -> size, `comparable_sizes`), where the output reads other nodes (a fuser, a verifier, a refiner).

    The aggregating output is often most of a graph's cost (an 8B fuser reading four solutions costs more than
    the four), so a router that only stops before it saves little. A smaller reader over the same inputs is the
    other cheap first stage (FrugalGPT's cascade, applied to the aggregator): the other nodes keep their ids, so
    escalating to the full graph reuses their answers and re-runs only the output."""
    output = spec.node(spec.output_id())
    if not spec.predecessors(output.id) or output.model not in sizes:
        return []
    own = sizes[output.model]
    smaller = sorted((m for m, size in sizes.items() if size < own), key=lambda m: (-sizes[m], m))[:limit]
    return [
        spec.model_copy(
            update={
                "name": f"{spec.name}-out-{model.split('/')[-1]}",
                "description": None,  # the chosen graph's own (its test accuracy) does not describe this one
                "nodes": [n.model_copy(update={"model": model}) if n.id == output.id else n for n in spec.nodes],
            }
        )
        for model in smaller
    ]


def comparable_sizes(specs: list[ModelSpec]) -> dict[str, float]:
    """Model -> a size that orders them by cost on one scale: parameters for the models that declare them;
    for a pool where none does (hosted APIs), the price of a token in and one out. A model on neither scale
    is left out, so no cheaper output is derived from a comparison that means nothing."""
    sized = {s.id: float(s.params_b) for s in specs if s.params_b is not None}
    if sized:
        return sized
    return {s.id: float(s.price_in + s.price_out) for s in specs if s.price_in + s.price_out > 0}


def candidates(
    best: GraphSpec,
    front: list[GraphSpec],
    singles: list[GraphSpec],
    derived: bool = True,
    output_sizes: dict[str, float] | None = None,
) -> list[Candidate]:
    """The chosen graph, what is derived from it (`derived`: its sub-votes, and its cheaper outputs among the
    models of `output_sizes`), the front, the single models; each distinct graph once."""
    out: list[Candidate] = []
    seen: set[str] = set()
    subs = [*sub_votes(best), *cheaper_outputs(best, output_sizes or {})] if derived else []
    for source, specs in (("best", [best]), ("derived", subs), ("front", front), ("single", singles)):
        for spec in specs:
            h = graph_hash(spec)
            if h not in seen:
                seen.add(h)
                out.append(Candidate(source, spec))
    return out


def fit_items(task_items: dict[str, list[Item]], size: int) -> list[Item]:
    """`size` items for fitting: the validation split first, then training items (never test items)."""
    pool = [*task_items.get("validation", []), *task_items.get("train", [])]
    return pool[:size]


async def store_paired(
    run_dir: str | Path,
    task: Task,
    cands: list[Candidate],
    splits: dict[str, list[Item]],
    *,
    hub: ModelHub,
    toolbox: ToolBox | None = None,
    concurrency: int = 8,
    seed: int = 0,
    executor: Any = None,
    progress: bool = False,
    on_graph: Callable[[str, Candidate, EvalResult], object] | None = None,
    roles: RoleRegistry | None = None,
    done: dict[str, dict[str, EvalResult]] | None = None,
) -> dict[str, list[EvalResult]]:
    """Score every candidate on every split's items (skipping graphs already stored there) and file the runs in
    the paired sets of `run_dir`'s results store. Returns {split: results of this call}. `done`: {split: {graph
    hash: result}} of evaluations already made on exactly that split's items (the search's test runs), filed as
    they are instead of scored again, so the run's report and its paired sets show one evaluation's figures."""
    from rolegraph.evaluate.runner import evaluate

    out: dict[str, list[EvalResult]] = {}
    with ResultsStore(results_path(run_dir)) as store:
        for split, items in splits.items():
            have = {p.graph_hash for p in store.paired(PAIRED_SET, split)}
            out[split] = []
            for cand in cands:
                ghash = spec_hash(cand.graph)
                if ghash in have:
                    continue
                made = (done or {}).get(split, {}).get(ghash)
                if made is not None:
                    made.run_id = store.save(made, cand.graph, label=f"paired:{split}:{cand.graph.name}")
                    store.pair(PAIRED_SET, split, made, cand.source)
                    out[split].append(made)
                    if on_graph is not None:
                        on_graph(split, cand, made)
                    continue
                res = await evaluate(
                    cand.graph,
                    task,
                    items,
                    hub=hub,
                    toolbox=toolbox,
                    concurrency=concurrency,
                    seed=seed,
                    store=store,
                    progress=progress,
                    label=f"paired:{split}:{cand.graph.name}",
                    executor=executor,
                    roles=roles,
                    raise_on_all_failed=False,  # stored and paired as before
                )
                store.pair(PAIRED_SET, split, res, cand.source)
                out[split].append(res)
                if on_graph is not None:
                    on_graph(split, cand, res)
    return out
