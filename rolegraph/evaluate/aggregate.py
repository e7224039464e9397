"""Turn per-item scores into an `EvalResult`: accuracy with its interval, latency, cost, node credit.

Shared by the runner (fresh results) and the store (results read back), so a stored run
reports exactly what the live one did.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from rolegraph.evaluate.result import EvalResult, ItemScore, NodeStats, NodeUsage
from rolegraph.evaluate.stats import mean, p95, wilson_interval
from rolegraph.graphs.router import RouterSpec
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.provenance import SIMULATED, Provenance, Simulation


def normalise_answer(answer: str | None) -> str | None:
    """Whitespace- and case-insensitive form used to decide whether two answers agree."""
    if answer is None:
        return None
    return " ".join(answer.split()).casefold()


INSTANCE_SUFFIX = re.compile(r"(?:\[\d+\]|@\d+)+")
"""What the runtime appends to a graph node's id for its fan-out copies (`search[2]`) and loop rounds (`a@3`):
see rolegraph/graphs/dynamic.py copy_id / round_id. Items keep trace ids only, so the spec node is read back
from the id."""
SUFFIX_PART = re.compile(r"\[(\d+)\]|@(\d+)")


def spec_node_of(trace_id: str, node_ids: Sequence[str]) -> str | None:
    """The graph node a trace id runs: itself, or the node whose copy / round it is (None: no such node).

    A node id may itself contain `@` or `[`, so an exact id wins, then the longest id the suffix fits."""
    if trace_id in node_ids:
        return trace_id
    fits = [n for n in node_ids if trace_id.startswith(n) and INSTANCE_SUFFIX.fullmatch(trace_id[len(n) :])]
    return max(fits, key=len) if fits else None


def _copy_and_round(trace_id: str, node_id: str) -> tuple[int, int]:
    """(fan-out copy, loop round) of a trace id of `node_id`; 0 where it has none."""
    copy = round_no = 0
    for c, r in SUFFIX_PART.findall(trace_id[len(node_id) :]):
        copy, round_no = (int(c), round_no) if c else (copy, int(r))
    return copy, round_no


def instances(keys: Iterable[str], node_ids: Sequence[str]) -> dict[str, list[str]]:
    """Per graph node, the trace ids among `keys` that ran it (the node itself, its copies, its rounds)."""
    out: dict[str, list[str]] = {}
    for key in keys:
        node = spec_node_of(key, node_ids)
        if node is not None:
            out.setdefault(node, []).append(key)
    return out


def final_runs(node_id: str, trace_ids: Sequence[str]) -> list[str]:
    """The runs that stand for a node on one item: per fan-out copy, its last loop round.

    A loop node is judged by the answer it ended the loop with (earlier rounds were superseded); the copies
    of a fan-out node each answered their own part, so every copy counts."""
    last: dict[int, tuple[int, str]] = {}
    for tid in trace_ids:
        copy, round_no = _copy_and_round(tid, node_id)
        if copy not in last or round_no > last[copy][0]:
            last[copy] = (round_no, tid)
    return [tid for _, tid in (last[c] for c in sorted(last))]


def node_stats(spec: GraphSpec | RouterSpec, items: Sequence[ItemScore]) -> dict[str, NodeStats]:
    """Per graph node: n items it ran on, how often its own answer was right and agreed with the output.

    Failed items are left out (a failure says nothing about who was right). A node that gave an answer on
    some item is an answering node: where it gave none, it counts as wrong and disagreeing. A node that never
    answered (planner, searcher) gets None rates.

    Loop rounds (`a@2`) and fan-out copies (`search[1]`) count under their graph node. On one item a loop
    node's answer is its last round's; a fan-out node scores the share of its copies that were right (and
    that the output agreed with), so three right copies of four add 0.75 to the node's item count.

    The node of a one-node graph is its output: where it gave no answer, the output is that same missing
    answer, so the output agrees with it on every item (counting those as disagreement read as if something
    had overruled the only node there is).
    """
    alone = isinstance(spec, GraphSpec) and len(spec.nodes) == 1
    scored = [it for it in items if it.error is None]
    ids = [node.id for node in spec.nodes]
    ran_by_item = [instances(it.node_answers, ids) for it in scored]
    usage_by_item = [instances(it.node_usage, ids) for it in scored]
    stats: dict[str, NodeStats] = {}
    for node in spec.nodes:
        ran = [(it, final_runs(node.id, runs[node.id])) for it, runs in zip(scored, ran_by_item) if node.id in runs]
        entry = NodeStats(role=node.role, model=node.model, n=len(ran))
        if any(it.node_answers[t] is not None for it, finals in ran for t in finals):
            right = sum(mean([it.node_scores.get(t, 0.0) for t in finals]) for it, finals in ran)
            agree = sum(
                mean([float(_agrees(it.node_answers[t], it.answer, alone)) for t in finals]) for it, finals in ran
            )
            entry.correct_rate = right / len(ran)
            entry.agree_rate = agree / len(ran)
        used = [
            [it.node_usage[t] for t in usage.get(node.id, [])]
            for it, usage, runs in zip(scored, usage_by_item, ran_by_item)
            if node.id in runs
        ]
        entry.truncated = truncated_items(used)
        stats[node.id] = entry
    return stats


def _agrees(answer: str | None, output: str | None, alone: bool = False) -> bool:
    """A node's answer and the output agree: the same answer, never two missing ones, unless the node is the
    graph's only node (`alone`), whose missing answer is the missing output."""
    return (alone or answer is not None) and normalise_answer(answer) == normalise_answer(output)


def truncated_items(usage: Sequence[Sequence[NodeUsage]]) -> int | None:
    """Per item the usage of a node's runs (rounds and copies): on how many items some reply was cut at
    max_tokens; None unless every item recorded it (results stored before the count existed), so a missing
    record is never reported as "none cut"."""
    counts = [[use.truncated_calls for use in runs] for runs in usage]
    if not counts or any(not runs or None in runs for runs in counts):
        return None
    return sum(1 for runs in counts if any(runs))


def summarize(
    items: Sequence[ItemScore],
    spec: GraphSpec | RouterSpec,
    *,
    task: str,
    graph_hash: str,
    skipped: int,
    simulation: Simulation,
    partial: bool = False,
    run_id: str | None = None,
    world: int | None = None,
    provenance: Provenance | None = None,
) -> EvalResult:
    """The `EvalResult` of scored items in input order.

    accuracy and its Wilson interval count failures as 0; latencies are over runs that
    finished (a failed run has no meaningful latency); tokens and dollars are totals over
    every item, including what failed runs spent; flops_units is the mean per item.
    """
    n = len(items)
    total = sum(it.score for it in items)
    ok = [it for it in items if it.error is None]
    latencies = [it.latency_s for it in ok]
    return EvalResult(
        task=task,
        graph_name=spec.name,
        graph_hash=graph_hash,
        n=n,
        accuracy=total / n if n else 0.0,
        ci95=wilson_interval(total, n),
        mean_latency_s=mean(latencies),
        p95_latency_s=p95(latencies),
        mean_critical_path_s=mean([it.critical_path_s for it in ok]),
        tokens=sum(it.tokens for it in items),
        cost_usd=sum(it.cost_usd for it in items),
        flops_units=mean([it.flops_units for it in items]),
        failures=n - len(ok),
        skipped=skipped,
        simulated=simulation == SIMULATED,
        simulation=simulation,
        provenance=provenance,
        world=world,
        per_node=node_stats(spec, items),
        items=list(items),
        run_id=run_id,
        partial=partial,
        calls=sum(u.calls for it in items for u in it.node_usage.values()),
        cached_calls=sum(u.cached_calls for it in items for u in it.node_usage.values()),
    )
