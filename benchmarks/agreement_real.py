"""Agreement vs correctness on a real model: `python -m benchmarks agreement_real [--quick]`.

The simulator's rule that a high-agreement vote is right far more often than a split one (checked in
`calibration`) is checked here against a real model nobody here wrote: SmolLM2-135M-Instruct behind
llama.cpp's own OpenAI-compatible server (`rolegraph.models.llamacpp_server`), five samples at
temperature 0.7 per question through the `openai` client, on single-digit arithmetic and on capital
cities. For each majority share k/5: how many questions, and how often the majority answer is right.

Ties (`majority`): when two or more answers share the top count (2-2-1, 1-1-1-1-1) there is no majority answer;
the question counts under its top share k/5, as not right, and as tied (the tables say how many). The rule never
depends on the order the samples arrived in.

A real-model benchmark: run by name only (`python -m benchmarks agreement_real`), never by `all` or the smoke test.
`--arith N --capitals N` run the first N questions of each kind (a shorter run; the file is then named
`agreement_real-a<N>-c<N>.*`).
"""
from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Annotated, Any

import typer

from benchmarks.common import RESULTS_DIR, BenchRun, UsageError, say, table
from benchmarks.options import nonnegative_int

SAMPLES = 5
TEMPERATURE = 0.7
MAX_TOKENS = 24
SEED_BASE = 1000
ITEM_SEED = 7
N_CTX = 512
THREADS = 1
"""One llama.cpp thread, as in `real_local`: on the shared 2-core machine two threads meeting at every op barrier
were 9x slower (20 samples: 86 s against 9.8 s, 2026-12-05, load 7-8) and gave the same 20 replies."""
FULL = {"arith": 30, "capitals": 25}
QUICK = {"arith": 2, "capitals": 2}
TIE_RULE = ("a tie for the top count (2-2-1, 1-1-1-1-1) has no majority answer: it counts under its top share as "
            "not right, and as tied")
CAPITALS = (("France", "Paris"), ("Japan", "Tokyo"), ("Italy", "Rome"), ("Spain", "Madrid"), ("Germany", "Berlin"),
            ("Egypt", "Cairo"), ("Russia", "Moscow"), ("China", "Beijing"), ("Canada", "Ottawa"),
            ("Australia", "Canberra"), ("Brazil", "Brasilia"), ("Kenya", "Nairobi"), ("Peru", "Lima"),
            ("Norway", "Oslo"), ("Greece", "Athens"), ("Portugal", "Lisbon"), ("Poland", "Warsaw"),
            ("Turkey", "Ankara"), ("Chile", "Santiago"), ("Cuba", "Havana"), ("Sweden", "Stockholm"),
            ("Austria", "Vienna"), ("Ireland", "Dublin"), ("Thailand", "Bangkok"), ("Mexico", "Mexico City"))
_NUMBER = re.compile(r"-?\d+")


def items(cfg: dict) -> list[tuple[str, str, str]]:
    """(question, gold, kind): single-digit sums and products, then capital cities."""
    rng = random.Random(ITEM_SEED)
    out = []
    for _ in range(cfg["arith"]):
        a, b, op = rng.randint(2, 9), rng.randint(2, 9), rng.choice("+*")
        out.append((f"What is {a} {op} {b}? Answer with just the number.", str(a + b if op == "+" else a * b), "arith"))
    for country, city in CAPITALS[: cfg["capitals"]]:
        out.append((f"What is the capital of {country}? Answer with just the city name.", city.lower(), "capitals"))
    return out


def normalise(text: str, kind: str) -> str | None:
    """The answer in a reply: its first number (arith), or its first line's city (capitals)."""
    if kind == "arith":
        m = _NUMBER.search(text)
        return m.group(0) if m else None
    line = text.strip().split("\n")[0].strip().strip(".").lower()
    line = re.sub(r"^the capital of [a-z ]+ is ", "", line)
    return line.split(",")[0].strip() or None


def options(
    arith: Annotated[int | None, typer.Option(parser=nonnegative_int, metavar="N", help=(
        f"Arithmetic questions (default {FULL['arith']}; the first N of the full run's)."))] = None,
    capitals: Annotated[int | None, typer.Option(parser=nonnegative_int, metavar="N", help=(
        f"Capital-city questions (default {FULL['capitals']}, at most {len(CAPITALS)})."))] = None,
) -> dict[str, Any]:
    """The command line's own options (`python -m benchmarks agreement_real --help`), as `run`'s keywords."""
    return locals()


def _right(answer: str | None, gold: str, kind: str) -> bool:
    return answer is not None and (answer == gold or (kind == "capitals" and gold in answer))


def majority(answers: list[str | None]) -> tuple[str | None, int, bool]:
    """(the majority answer or None, the top count, whether the top count is tied) of one question's samples; a
    sample with no answer (None) votes for nothing. Independent of the samples' order (`TIE_RULE`)."""
    votes = Counter(a for a in answers if a is not None)
    if not votes:
        return None, 0, False
    share = max(votes.values())
    top = [a for a, n in votes.items() if n == share]
    return (top[0] if len(top) == 1 else None), share, len(top) > 1


def measure(cfg: dict) -> list[dict[str, Any]]:
    import openai

    from rolegraph.models.llamacpp_server import LlamaCppServer

    rows = []
    with LlamaCppServer(n_ctx=N_CTX, threads=THREADS) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="none")
        for question, gold, kind in items(cfg):
            answers = []
            for s in range(SAMPLES):
                reply = client.chat.completions.create(
                    model="smollm2", messages=[{"role": "user", "content": question}], temperature=TEMPERATURE,
                    max_tokens=MAX_TOKENS, seed=SEED_BASE + s)
                answers.append(normalise(reply.choices[0].message.content or "", kind))
            top, share, tied = majority(answers)
            rows.append({"kind": kind, "gold": gold, "answers": answers, "share": share, "tied": tied,
                         "majority_right": _right(top, gold, kind),
                         "one_sample_right": sum(_right(a, gold, kind) for a in answers) / SAMPLES})
            say(f"agreement_real: {kind} {gold}: {answers}")
    return rows


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in ("arith", "capitals"):
        sel = [r for r in rows if r["kind"] == kind]
        if not sel:
            continue
        by: dict[int, list[dict]] = defaultdict(list)
        for r in sel:
            by[r["share"]].append(r)
        out[kind] = {"items": len(sel), "one_sample_right": sum(r["one_sample_right"] for r in sel) / len(sel),
                     "majority_right": sum(r["majority_right"] for r in sel) / len(sel),
                     "tied": sum(bool(r.get("tied")) for r in sel),
                     "by_share": {k: {"items": len(v), "majority_right": sum(r["majority_right"] for r in v),
                                      "tied": sum(bool(r.get("tied")) for r in v)} for k, v in sorted(by.items())}}
    return out


def run(quick: bool = False, out_dir: Path | None = None, arith: int | None = None,
        capitals: int | None = None, bench_run: BenchRun | None = None) -> dict[str, Any]:
    bench_run = bench_run or BenchRun()
    out_dir = out_dir or RESULTS_DIR
    for option, value in (("--arith", arith), ("--capitals", capitals)):
        if value is not None and value < 0:
            raise UsageError(f"{option} must be at least 0, got {value}")
    if capitals is not None and capitals > len(CAPITALS):
        raise UsageError(f"--capitals: at most {len(CAPITALS)}, got {capitals}")
    base = QUICK if quick else FULL
    cfg = {"arith": base["arith"] if arith is None else arith,
           "capitals": base["capitals"] if capitals is None else capitals}
    if not cfg["arith"] and not cfg["capitals"]:
        raise UsageError("--arith and --capitals are both 0: no questions")
    rows = measure(cfg)
    summary = summarise(rows)
    shares = range(1, SAMPLES + 1)
    text = (f"## SmolLM2-135M-Instruct (llama.cpp server, real): {SAMPLES} samples at temperature {TEMPERATURE}\n\n"
            + table(["questions", "n", "one sample right %", "majority right %"]
                    + [f"majority {k}/{SAMPLES}: right / items (tied)" for k in shares],
                    [[kind, s["items"], f"{100 * s['one_sample_right']:.1f}", f"{100 * s['majority_right']:.1f}"]
                     + [_share_cell(s["by_share"][k]) if k in s["by_share"] else "-" for k in shares]
                     for kind, s in summary.items()]))
    text += f"\n\nTies: {TIE_RULE}. Real model (not simulated).\n"
    payload = {"model": "SmolLM2-135M-Instruct (GGUF, llama.cpp server)", "config": cfg, "tie_rule": TIE_RULE,
               "sampling": {"samples": SAMPLES, "temperature": TEMPERATURE, "max_tokens": MAX_TOKENS,
                            "seeds": f"{SEED_BASE}-{SEED_BASE + SAMPLES - 1}", "n_ctx": N_CTX, "threads": THREADS},
               "summary": summary, "rows": rows, "simulated": False}
    options = " ".join(f"--{k} {v}" for k, v in (("arith", arith), ("capitals", capitals)) if v is not None)
    stem = None if cfg == base else f"agreement_real-a{cfg['arith']}-c{cfg['capitals']}"
    bench_run.write_result("agreement_real", payload, text, out_dir=out_dir, quick=quick, options=options,
                           file_stem=stem)
    return payload


def _share_cell(cell: dict[str, int]) -> str:
    return f"{cell['majority_right']} / {cell['items']}" + (f" ({cell['tied']} tied)" if cell.get("tied") else "")
