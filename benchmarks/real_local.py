"""Real model, real server: rolegraph against llama.cpp's own OpenAI-compatible server (xllamacpp,
in-process) running SmolLM2-135M-Instruct (Q4_1 GGUF, 2,048-token context per slot). Everything here
is measured on that real model: nothing is simulated, except the sim mirror used for the rank check.

Task: factoid questions made from the bundled Wikipedia summaries (`benchmarks.wiki_questions`): the
year a film or novel came out, a country's capital. The answer stands in the page the local search
tool finds, so a searcher + solver graph can copy it; a bare 135M model knows a few capitals.
Scored by answer containment (`ContainsTask`: SmolLM2 answers in sentences, never with the "Final
answer:" line), exact match beside it.
Parallel identical nodes on a real backend get their own request seeds (`openai_backend.request_seed`), so
"3 solvers -> fuser" reads three samples, not three copies of one answer.
Held out: searches train on the TUNE questions (the only ones the question forms and graph set were
looked at on); every figure below is on the REPORT questions, which nothing was chosen on.

1. A few fixed graphs (single solver; searcher -> solver; three solvers -> fuser; searcher -> two
   solvers -> fuser): accuracy with its Wilson interval, real wall-clock latency per item, tokens.
2. The graph each feedback agent finds (statistical; LLM with SmolLM2 itself as `--agent-model`),
   searching on TUNE, then scored on REPORT like the fixed ones; how many steps the LLM drove.
3. Rank agreement: the same graphs on the sim pool (SmolLM2 replaced by `SIM_MIRROR`) on the same
   REPORT questions; Spearman's rank correlation of the graphs' accuracies, real against sim.
4. Throughput: a one-solver graph through `evaluate` (cache off) against bare `AsyncOpenAI` sending
   the same requests, alternating, at the server's slot count; the ratio of items per second.
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from time import perf_counter
from typing import Any

import numpy as np
import openai

from benchmarks.common import RESULTS_DIR, BenchRun, Spread, say, table
from benchmarks.wiki_questions import make_questions, split, task
from rolegraph.agents.agent import build_messages
from rolegraph.agents.registry import RoleRegistry
from rolegraph.evaluate.runner import evaluate
from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.models.hub import ModelHub
from rolegraph.models.llamacpp_server import LlamaCppServer
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.api import make_optimizer, optimize_async
from rolegraph.optimize.context import SearchConfig
from rolegraph.optimize.space import SearchSpace
from rolegraph.settings import Settings
from rolegraph.tasks.qa_metrics import exact_match
from rolegraph.tools.toolbox import default_toolbox

MODEL = "llamacpp/smollm2-135m"
SIM_MIRROR = "sim/llama-3.2-1b"
CONTEXT = 2048
PARALLEL = 2  # llama.cpp slots: two requests decode together (one each per core)
THREADS = 1
"""One thread per server: on a shared 2-core machine two spinning-down threads that must meet at every
op barrier ran prompt processing ~30x slower than one (measured under load; on idle cores 2 is faster)."""
FAMILY = "qa"
FULL = {"report": None, "iterations": 3, "samples": 2, "batch": 4, "validation": 4, "test": 4,
        "throughput_items": 24, "repeats": 3, "max_nodes": 3}
QUICK = {"report": 4, "iterations": 1, "samples": 1, "batch": 2, "validation": 2, "test": 2,
         "throughput_items": 4, "repeats": 1, "max_nodes": 3}
WARM_QUERY = "Casablanca"
LABEL = "real (llama.cpp server, SmolLM2-135M-Instruct Q4_1, CPU)"


def fixed_graphs(model: str) -> dict[str, GraphSpec]:
    def g(name: str, nodes: list[tuple[str, str]], edges: list[tuple[str, str]]) -> GraphSpec:
        return GraphSpec(name=name, nodes=[NodeSpec(id=i, role=r, model=model) for i, r in nodes], edges=edges,
                         output="out")

    return {
        "single solver": g("single", [("out", "solver")], []),
        "searcher -> solver": g("search-solve", [("s", "searcher"), ("out", "solver")], [("s", "out")]),
        "3 solvers -> fuser": g("vote3", [("a", "solver"), ("b", "solver"), ("c", "solver"), ("out", "fuser")],
                                [("a", "out"), ("b", "out"), ("c", "out")]),
        "searcher -> 2 solvers -> fuser": g(
            "search-vote", [("s", "searcher"), ("a", "solver"), ("b", "solver"), ("out", "fuser")],
            [("s", "a"), ("s", "b"), ("a", "out"), ("b", "out")]),
    }


def with_model(spec: GraphSpec, model: str) -> GraphSpec:
    return spec.model_copy(update={"nodes": [n.model_copy(update={"model": model}) for n in spec.nodes]})


def spearman(a: list[float], b: list[float]) -> float | None:
    """Spearman's rho with average ranks for ties (None when either side has no spread)."""
    def ranks(x: list[float]) -> np.ndarray:
        arr = np.asarray(x, dtype=float)
        order = arr.argsort(kind="stable")
        r = np.empty(len(arr))
        r[order] = np.arange(len(arr), dtype=float)
        for v in np.unique(arr):
            r[arr == v] = r[arr == v].mean()
        return r

    ra, rb = ranks(a), ranks(b)
    if ra.std() == 0 or rb.std() == 0:
        return None
    return float(np.corrcoef(ra, rb)[0, 1])


def _row(name: str, res) -> dict[str, Any]:
    em = sum(exact_match(it.answer, it.gold) for it in res.items if it.gold is not None) / max(res.n, 1)
    return {"graph": name, "n": res.n, "accuracy": res.accuracy, "ci95": list(res.ci95), "exact_match": em,
            "latency_s": res.mean_latency_s, "tokens_per_item": res.tokens / max(res.n, 1),
            "failures": res.failures, "simulated": res.simulated}


async def _score(graphs: dict[str, GraphSpec], task, items, hub: ModelHub, toolbox) -> dict[str, dict]:
    out = {}
    for name, spec in graphs.items():
        started = perf_counter()
        res = await evaluate(spec, task, items, hub=hub, toolbox=toolbox, concurrency=PARALLEL, progress=False)
        out[name] = _row(name, res) | {"wall_s": perf_counter() - started}
        say(f"real_local {name}: accuracy {res.accuracy:.3f} on {res.n}, {res.mean_latency_s:.2f} s/item")
    return out


async def _search(pool: ModelPool, hub: ModelHub, toolbox, task, cfg: dict, agent_model: str | None) -> dict[str, Any]:
    space = SearchSpace(pool=pool, models=(MODEL,), max_nodes=cfg["max_nodes"], budget=None, family=FAMILY)
    config = SearchConfig(iterations=cfg["iterations"], samples=cfg["samples"], batch=cfg["batch"],
                          validation_items=cfg["validation"], test_items=cfg["test"], top_candidates=2,
                          concurrency=PARALLEL, compare_singles=False)
    optimizer = make_optimizer("agent-reinforce", hub=hub, agent_model=agent_model)
    started = perf_counter()
    result = await optimize_async(task, space, optimizer, hub=hub, config=config, agent_model=agent_model,
                                  toolbox=toolbox)
    usage = result.feedback_agent.model_dump() if result.feedback_agent else None
    return {"graph": result.best_graph, "wall_s": perf_counter() - started, "item_runs": result.evaluations,
            "feedback_agent": usage}


async def _throughput(server: LlamaCppServer, pool: ModelPool, task, items, repeats: int,
                      bench_run: BenchRun) -> dict[str, Any]:
    roles = RoleRegistry.default()
    solver = roles.get("solver")
    system = solver.render(roles.answer_format(FAMILY))
    single = fixed_graphs(MODEL)["single solver"]
    client = openai.AsyncOpenAI(base_url=server.base_url, api_key="not-needed", max_retries=0)
    gate = asyncio.Semaphore(PARALLEL)

    async def bare() -> float:
        async def one(item) -> None:
            async with gate:
                await client.chat.completions.create(
                    model=pool.get(MODEL).api_name, messages=build_messages(system, item.question, []),
                    temperature=solver.temperature, max_tokens=solver.max_tokens, seed=0)

        started = perf_counter()
        await asyncio.gather(*(one(it) for it in items))
        return len(items) / (perf_counter() - started)

    async def ours() -> float:
        hub = ModelHub(pool, Settings(home=bench_run.scratch_home(), cache=False))
        started = perf_counter()
        res = await evaluate(single, task, items, hub=hub, concurrency=PARALLEL, progress=False)
        rate = len(items) / (perf_counter() - started)
        await hub.aclose()
        if res.failures:
            raise RuntimeError(f"{res.failures} rolegraph runs failed")
        return rate

    a, b = [], []
    for r in range(repeats):
        for name in (("rolegraph", "bare") if r % 2 == 0 else ("bare", "rolegraph")):
            (a if name == "rolegraph" else b).append(await (ours() if name == "rolegraph" else bare()))
    await client.close()
    ratio = Spread.of([x / y for x, y in zip(a, b)])
    return {"items": len(items), "repeats": repeats, "rolegraph_items_per_s": Spread.of(a).as_dict(),
            "bare_items_per_s": Spread.of(b).as_dict(), "ratio": ratio.as_dict()}


async def _main(cfg: dict, bench_run: BenchRun) -> dict[str, Any]:
    tune, report = split(make_questions())
    report = report[: cfg["report"]] if cfg["report"] else report
    data = bench_run.scratch_home()  # the questions as task files: removed with the run's other scratch directories
    tune_task, report_task = task(tune, data / "tune.jsonl"), task(report, data / "report.jsonl")
    items = report_task.items("all")
    with LlamaCppServer(n_ctx=CONTEXT, parallel=PARALLEL, threads=THREADS) as server:
        pool = ModelPool([*ModelPool.builtin(), server.spec(MODEL, context_window=CONTEXT, max_concurrency=PARALLEL)])
        hub = ModelHub(pool, Settings(home=bench_run.scratch_home()))
        toolbox = default_toolbox(hub.settings, web=False)
        await toolbox.call("search", {"query": WARM_QUERY})  # builds the Wikipedia index before any timing
        try:
            graphs = fixed_graphs(MODEL)
            searches = {}
            for agent, agent_model in (("statistical", None), ("llm", MODEL)):
                searches[agent] = await _search(pool, hub, toolbox, tune_task, cfg, agent_model)
                graphs[f"found by {agent} agent"] = searches[agent]["graph"]
                say(f"real_local search ({agent}): {searches[agent]['feedback_agent']}")
            fresh = ModelHub(pool, Settings(home=bench_run.scratch_home(), cache=False))  # every figure from real calls
            try:
                real = await _score(graphs, report_task, items, fresh, toolbox)
            finally:
                await fresh.aclose()
            throughput = await _throughput(server, pool, report_task, items[: cfg["throughput_items"]],
                                           cfg["repeats"], bench_run)
        finally:
            await hub.aclose()
    sim_hub = ModelHub(ModelPool.builtin(), Settings(home=bench_run.scratch_home(), cache=False))
    try:
        sim_tools = default_toolbox(sim_hub.settings, web=False)
        sim = await _score({k: with_model(g, SIM_MIRROR) for k, g in graphs.items()}, report_task, items, sim_hub,
                           sim_tools)
    finally:
        await sim_hub.aclose()
    names = list(graphs)
    rho = spearman([real[k]["accuracy"] for k in names], [sim[k]["accuracy"] for k in names])
    return {"label": LABEL, "questions": {"tune": len(tune), "report": len(items)}, "real": real, "sim": sim,
            "searches": {k: {**v, "graph": v["graph"].model_dump(mode="json", exclude_defaults=True)}
                         for k, v in searches.items()},
            "spearman_real_vs_sim": rho, "throughput": throughput}


def _tables(p: dict[str, Any]) -> str:
    rows = []
    for name, r in p["real"].items():
        s = p["sim"][name]
        rows.append([name, r["n"], f"{r['accuracy']:.3f}", f"[{r['ci95'][0]:.2f}, {r['ci95'][1]:.2f}]",
                     f"{r['exact_match']:.3f}", f"{r['latency_s']:.2f}", f"{r['tokens_per_item']:.0f}", r["failures"],
                     f"{s['accuracy']:.3f} (simulated)"])
    text = f"Results are **{p['label']}** on the {p['questions']['report']} REPORT questions (searches trained " \
           f"on the {p['questions']['tune']} TUNE questions only). The last column is the sim mirror " \
           f"({SIM_MIRROR} in every node), labelled simulated.\n\n"
    text += table(["graph", "n", "accuracy (contains)", "95% CI", "exact match", "latency s/item (wall)",
                   "tokens/item", "failures", "sim mirror accuracy"], rows)
    rho = p["spearman_real_vs_sim"]
    text += f"\n\nSpearman rank correlation of the graphs' accuracies, real vs sim: " \
            f"{'undefined (no spread)' if rho is None else f'{rho:.2f}'} over {len(rows)} graphs.\n\n"
    srows = [[k, v["feedback_agent"]["requested"] if v["feedback_agent"] else "-",
              f"{v['feedback_agent']['llm_steps']} of {v['feedback_agent']['steps']}" if v["feedback_agent"] else "-",
              ", ".join(f"{a}: {b}" for a, b in (v["feedback_agent"] or {}).get("fallback_reasons", {}).items())
              or "-", v["item_runs"], f"{v['wall_s']:.0f}"] for k, v in p["searches"].items()]
    text += table(["search", "agent", "LLM steps", "fallback reasons", "item runs", "wall s"], srows)
    t = p["throughput"]
    ratio = Spread(**{"median": t["ratio"]["median"], "lo": t["ratio"]["min"], "hi": t["ratio"]["max"]})
    text += f"\n\nThroughput, one-solver graph, {t['items']} items at {PARALLEL} in flight, {t['repeats']} " \
            f"alternating repeats: rolegraph {t['rolegraph_items_per_s']['median']:.2f} items/s, bare AsyncOpenAI " \
            f"{t['bare_items_per_s']['median']:.2f} items/s, ratio {ratio.text()} (real server).\n"
    return text


def run(quick: bool = False, out_dir: Path | None = None, bench_run: BenchRun | None = None) -> dict[str, Any]:
    bench_run = bench_run or BenchRun()
    cfg = QUICK if quick else FULL
    # "simulated" as every simulated result file has it: its `label` alone said "real" to a reader, not to a
    # script sorting result files; the sim mirror's rows ("sim") carry their own simulated: true
    payload = asyncio.run(_main(cfg, bench_run)) | {"config": cfg, "simulated": False}
    bench_run.write_result("real_local", payload, _tables(payload), out_dir or RESULTS_DIR, quick=quick)
    return payload
