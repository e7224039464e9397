"""A synchronous executor of graphs on sim models: the runtime's per-node work without LangGraph.

Calibration and search benchmarks score thousands of graphs on thousands of items; through the
async runtime that is hours. This executor builds exactly the messages the runtime builds (the
role's rendered system prompt, `render_input` of the predecessors' outputs in edge order), calls
`SimChatModel.respond` with the node's temperature, seed and `node_sample`, and parses with the
role's parser, so it gives the runtime's answers: `check_against_runtime` proves it on a sample
and every benchmark that uses it runs that check first.
"""
from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from rolegraph.agents.agent import build_messages
from rolegraph.evaluate.result import ItemScore, NodeUsage
from rolegraph.graphs.analysis import TOKEN_PROFILES, flops_units
from rolegraph.agents.registry import RoleRegistry
from rolegraph.graphs.nodes import node_sample
from rolegraph.graphs.runtime import CompiledGraph, question_text
from rolegraph.graphs.schedule import Topology
from rolegraph.graphs.spec import GraphSpec
from rolegraph.items import Item
from rolegraph.chat.types import Completion
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.sim.model import SimChatModel
from rolegraph.settings import Settings
from rolegraph.transcript import Section


@dataclass(frozen=True)
class _Node:
    id: str
    role_name: str
    model: SimChatModel
    preds: tuple[str, ...]
    temperature: float
    sample: int
    system: str
    parse: object
    max_tokens: int


class SimExecutor:
    """Runs graphs of sim solver/verifier/fuser/planner nodes synchronously (no tools, no sleeping).

    The sim models live in `pool`'s world (`world`: the built-in pool in that world, when no pool is given)."""

    def __init__(self, settings: Settings, pool: ModelPool | None = None, roles: RoleRegistry | None = None,
                 world: int | None = None):
        self.pool = pool.in_world(world) if pool is not None and world is not None else (
            pool or ModelPool.builtin(world=world))
        self.settings = settings
        self.roles = roles or RoleRegistry.default()
        self._models: dict[str, SimChatModel] = {}
        self._plans: dict[str, list[_Node]] = {}
        self._flops: dict[tuple[str, str], float] = {}

    def model(self, model_id: str) -> SimChatModel:
        if model_id not in self._models:
            self._models[model_id] = SimChatModel(self.pool.get(model_id), self.settings)
        return self._models[model_id]

    def plan(self, spec: GraphSpec, kind: str) -> list[_Node]:
        key = spec.model_dump_json() + "|" + kind
        plan = self._plans.get(key)
        if plan is None:
            topo = Topology.of(spec)
            fmt = self.roles.answer_format(kind)
            plan = []
            for node_id in topo.order:
                node = spec.node(node_id)
                role = self.roles.get(node.role)
                if role.mode != "chat" or role.tools or node.params.get("tools"):
                    raise ValueError(f"SimExecutor runs tool-free chat roles only, not '{node.role}'")
                plan.append(_Node(node_id, role.name, self.model(node.model), topo.preds[node_id],
                                  float(node.params.get("temperature", role.temperature)), node_sample(node_id),
                                  role.render(fmt, ""), role.parse,
                                  int(node.params.get("max_tokens", role.max_tokens))))
            self._plans[key] = plan
        return plan

    def calls(self, spec: GraphSpec, item: Item, *, kind: str,
              seed: int = 0) -> dict[str, tuple[str | None, Completion, tuple[str, ...]]]:
        """Per node, in topological order: (parsed answer, completion, predecessors)."""
        question, key = question_text(item), item.answer_key()
        texts: dict[str, str] = {}
        roles: dict[str, str] = {}
        out_calls = {}
        for n in self.plan(spec, kind):
            sections = [Section(i, p, roles[p], texts[p]) for i, p in enumerate(n.preds, start=1)]
            comp = n.model.respond(build_messages(n.system, question, sections), temperature=n.temperature,
                                   seed=seed, sample=n.sample, answer_key=key, max_tokens=n.max_tokens)
            out = n.parse(comp.text, kind)
            texts[n.id], roles[n.id] = out.text, n.role_name
            out_calls[n.id] = (out.answer, comp, n.preds)
        return out_calls

    def answers(self, spec: GraphSpec, item: Item, *, kind: str, seed: int = 0) -> dict[str, str | None]:
        """Every node's parsed answer for one item (the output node's is the graph's answer)."""
        return {nid: c[0] for nid, c in self.calls(spec, item, kind=kind, seed=seed).items()}

    def flops_units(self, spec: GraphSpec, family: str) -> float:
        key = (spec.model_dump_json(), family)
        if key not in self._flops:
            self._flops[key] = flops_units(spec, self.pool, TOKEN_PROFILES[family])
        return self._flops[key]

    def item_score(self, spec: GraphSpec, item: Item, score, *, kind: str, seed: int = 0) -> ItemScore:
        """The `ItemScore` the evaluator would record for this run (modelled latency, as the runtime's)."""
        calls = self.calls(spec, item, kind=kind, seed=seed)
        end: dict[str, float] = {}
        for nid, (_, comp, preds) in calls.items():
            end[nid] = max((end[p] for p in preds), default=0.0) + comp.latency_s
        answer = calls[spec.output_id()][0]
        node_answers = {nid: c[0] for nid, c in calls.items()}
        comps = [c[1] for c in calls.values()]
        critical = max(end.values())
        return ItemScore(
            item_id=item.id, score=score(answer, item), answer=answer, gold=item.gold, latency_s=critical,
            critical_path_s=critical, cost_usd=sum(c.cost_usd for c in comps),
            tokens=sum(c.usage.input_tokens + c.usage.output_tokens for c in comps),
            node_answers=node_answers,
            node_scores={nid: score(a, item) for nid, a in node_answers.items() if a is not None},
            flops_units=self.flops_units(spec, item.family),
            node_usage={nid: NodeUsage(tokens_in=c[1].usage.input_tokens, tokens_out=c[1].usage.output_tokens,
                                       latency_s=c[1].latency_s, cost_usd=c[1].cost_usd) for nid, c in calls.items()})

    def answer(self, spec: GraphSpec, item: Item, *, kind: str, seed: int = 0) -> str | None:
        return self.answers(spec, item, kind=kind, seed=seed)[spec.output_id()]


class SimTableExecutor:
    """An `evaluate()` executor (rolegraph.evaluate.executors protocol) that runs sim graphs through
    `SimExecutor` and remembers every (graph, item) score: searches re-scoring a graph pay nothing twice.

    The scores equal the runtime's (checked by `check_against_runtime`); only the wall time differs.
    """

    name = "sim-table"
    in_process = False

    def __init__(self, executor: SimExecutor):
        self.executor = executor
        self._memo: dict[tuple[str, str, int], ItemScore] = {}
        self.runs = 0  # item runs actually simulated (not answered from memory)

    async def run_items(self, spec: GraphSpec, task, items: Sequence[Item], results: list, simulated: list[bool], *,
                        hub=None, roles=None, concurrency: int = 1, seed: int = 0, budget=None, advance=None) -> None:
        key = spec.model_copy(update={"name": "g"}).model_dump_json()
        for i, item in enumerate(items):
            k = (key, item.id, seed)
            score = self._memo.get(k)
            if score is None:
                score = self._memo[k] = self.executor.item_score(spec, item, task.score, kind=task.answer_kind,
                                                                 seed=seed)
                self.runs += 1
            results[i], simulated[i] = score, True
            if advance is not None:
                advance(i + 1)

    def close(self) -> None:
        self._memo.clear()


def check_against_runtime(executor: SimExecutor, specs: Sequence[GraphSpec], items: Sequence[Item], *,
                          kind: str, seed: int = 0) -> int:
    """Run every (spec, item) through the real runtime too; raise if any answer differs. Returns the count."""
    settings = Settings(home=executor.settings.home, cache=False)
    hub = ModelHub(executor.pool, settings)

    async def run_all() -> list[tuple[str | None, str | None]]:
        out = []
        for spec in specs:
            graph = CompiledGraph(spec, hub, roles=executor.roles)
            for item in items:
                res = await graph.run(item, seed=seed, answer_kind=kind)
                out.append((res.answer, executor.answer(spec, item, kind=kind, seed=seed)))
        return out

    pairs = asyncio.run(run_all())
    bad = [p for p in pairs if p[0] != p[1]]
    if bad:
        raise AssertionError(f"SimExecutor disagrees with the runtime on {len(bad)}/{len(pairs)} runs: {bad[:3]}")
    return len(pairs)


def check_executor_against_evaluate(table: SimTableExecutor, specs: Sequence[GraphSpec], task, items: Sequence[Item],
                                    *, seed: int = 0) -> int:
    """`evaluate()` through the runtime and through `table` must record the same item scores (answers, node
    answers, scores, tokens, modelled latency, FLOPs). Raises on any difference; returns the item runs compared."""
    from rolegraph.evaluate.runner import evaluate

    hub = ModelHub(table.executor.pool, Settings(home=table.executor.settings.home, cache=False))
    fields = ("item_id", "score", "answer", "node_answers", "node_scores", "tokens", "flops_units")

    async def both(spec: GraphSpec):
        a = await evaluate(spec, task, items, hub=hub, roles=table.executor.roles, seed=seed, progress=False)
        b = await evaluate(spec, task, items, hub=hub, roles=table.executor.roles, seed=seed, progress=False,
                           executor=table)
        return a, b

    compared = 0
    for spec in specs:
        a, b = asyncio.run(both(spec))
        for x, y in zip(a.items, b.items):
            dx, dy = x.model_dump(include=set(fields)), y.model_dump(include=set(fields))
            if dx != dy or abs(x.latency_s - y.latency_s) > 1e-9:
                raise AssertionError(f"{spec.name}: the table executor differs from the runtime on {x.item_id}: "
                                     f"{dx} / {dy}")
            compared += 1
    return compared
