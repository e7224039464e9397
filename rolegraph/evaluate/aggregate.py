"""Turn per-item scores into an `EvalResult`: accuracy with its interval, latency, cost, node credit.

Shared by the runner (fresh results) and the store (results read back), so a stored run
reports exactly what the live one did.
"""

from __future__ import annotations

from collections.abc import Sequence

from rolegraph.evaluate.result import EvalResult, ItemScore, NodeStats
from rolegraph.evaluate.stats import mean, p95, wilson_interval
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.provenance import SIMULATED, Provenance, Simulation


def normalise_answer(answer: str | None) -> str | None:
    """Whitespace- and case-insensitive form used to decide whether two answers agree."""
    if answer is None:
        return None
    return " ".join(answer.split()).casefold()


def node_stats(spec: GraphSpec, items: Sequence[ItemScore]) -> dict[str, NodeStats]:
    """Per node: n items it ran on, how often its own answer was right and agreed with the output.

    Failed items are left out (a failure says nothing about who was right). A node that gave
    an answer on some item is an answering node: where it gave none, it counts as wrong and
    disagreeing. A node that never answered (planner, searcher) gets None rates.
    """
    scored = [it for it in items if it.error is None]
    stats: dict[str, NodeStats] = {}
    for node in spec.nodes:
        ran = [it for it in scored if node.id in it.node_answers]
        answers = [it.node_answers[node.id] for it in ran]
        entry = NodeStats(role=node.role, model=node.model, n=len(ran))
        if any(a is not None for a in answers):
            right = sum(it.node_scores.get(node.id, 0.0) for it in ran)
            agree = sum(
                1
                for it in ran
                if it.node_answers[node.id] is not None
                and normalise_answer(it.node_answers[node.id]) == normalise_answer(it.answer)
            )
            entry.correct_rate = right / len(ran)
            entry.agree_rate = agree / len(ran)
        entry.truncated = truncated_items(node.id, ran)
        stats[node.id] = entry
    return stats


def truncated_items(node_id: str, items: Sequence[ItemScore]) -> int | None:
    """On how many items a reply of the node was cut at max_tokens; None unless every item recorded it
    (results stored before the count existed), so a missing record is never reported as "none cut"."""
    counts = [use.truncated_calls if (use := it.node_usage.get(node_id)) is not None else None for it in items]
    if not counts or any(c is None for c in counts):
        return None
    return sum(1 for c in counts if c)


def summarize(
    items: Sequence[ItemScore],
    spec: GraphSpec,
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
    )
