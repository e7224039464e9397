"""The LLM feedback agent on a real server nobody here wrote: llama.cpp's own OpenAI-compatible server
with SmolLM2-135M (2,048-token context) as both the graph model and `--agent-model`, through the
`rolegraph` CLI. At least one step's update must come from the LLM, and the summary must count the
steps truthfully (every feedback call is a step; each is an LLM step or a fallback step).

The search is the issue's check command made smaller (2 iterations, 1 sample, 2-item batches, 2 nodes, 1
test item, no paired outcomes for routing, which have their own real-model tests), so it stays near a minute
and a half on two idle cores; with 3 nodes, 2 test items and routing it took 3-4 minutes. The full command
is in the benchmark notes."""
from __future__ import annotations

import json

import yaml

from rolegraph.cli import main
from rolegraph.optimize.rundir import RunStore

MODEL = "llamacpp/smollm2"
CONTEXT = 2048
ITERATIONS = 2


def test_smollm2_drives_feedback_steps_and_the_summary_counts_them(llamacpp, tmp_path, capsys):
    pool = tmp_path / "pool.yaml"
    spec = llamacpp.spec(MODEL, context_window=CONTEXT)
    pool.write_text(yaml.safe_dump({"models": [spec.model_dump(exclude_none=True, exclude_defaults=True)]}))
    run_dir = tmp_path / "run"
    argv = ["optimize", "--task", "arith", "--pool", pool, "--models", MODEL, "--agent-model", MODEL,
            "--budget", "6", "--max-nodes", "2", "--iterations", ITERATIONS, "--samples", "1", "--batch", "2",
            "--validation-items", "1", "--test-items", "1", "--route-items", "0", "--json", "--out", run_dir]
    try:
        main([str(a) for a in argv])
        code = 0
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert code == 0, err[-3000:]
    summary = json.loads(out)
    usage = summary["feedback_agent"]
    store = RunStore.open(run_dir)
    try:
        records = store.feedback()
    finally:
        store.close()
    assert usage["requested"] == f"llm:{MODEL}"
    # the default agent's pilot (one model, one graph an iteration) is iteration 1: the initial step after it,
    # then one step per later iteration
    assert usage["steps"] == len(records) == ITERATIONS
    assert usage["llm_steps"] + usage["fallback_steps"] == usage["steps"]
    assert usage["llm_steps"] >= 1, records
    from_llm = [r for r in records if r["agent"] == f"llm:{MODEL}" and r["fallback"] is None and r["update"]]
    assert len(from_llm) == usage["llm_steps"]
    assert sum(usage["fallback_reasons"].values()) == usage["fallback_steps"]
    assert usage["endpoint"] == {"context_window": CONTEXT, "context_source": "pool entry",
                                 "structured_output": "json_schema"}
    assert summary["simulated"] is False
    report = (run_dir / "report.md").read_text()
    assert f"llm:{MODEL} ({usage['llm_steps']} of {usage['steps']} steps" in report
