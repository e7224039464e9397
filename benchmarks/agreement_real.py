"""Agreement vs correctness on a real model: `python -m benchmarks agreement_real [--quick]`.

The simulator's rule that a high-agreement vote is right far more often than a split one (checked in
`calibration`) is checked here against a real model nobody here wrote: SmolLM2-135M-Instruct behind
llama.cpp's own OpenAI-compatible server (`rolegraph.models.llamacpp_server`), five samples at
temperature 0.7 per question through the `openai` client, on single-digit arithmetic and on capital
cities. For each majority share k/5: how many questions, and how often the majority answer is right.
"""
from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS_DIR, say, table, write_result

SAMPLES = 5
TEMPERATURE = 0.7
MAX_TOKENS = 24
SEED_BASE = 1000
ITEM_SEED = 7
N_CTX = 512
FULL = {"arith": 30, "capitals": 25}
QUICK = {"arith": 2, "capitals": 2}
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


def _right(answer: str | None, gold: str, kind: str) -> bool:
    return answer is not None and (answer == gold or (kind == "capitals" and gold in answer))


def measure(cfg: dict) -> list[dict[str, Any]]:
    import openai

    from rolegraph.models.llamacpp_server import LlamaCppServer

    rows = []
    with LlamaCppServer(n_ctx=N_CTX) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="none")
        for question, gold, kind in items(cfg):
            answers = []
            for s in range(SAMPLES):
                reply = client.chat.completions.create(
                    model="smollm2", messages=[{"role": "user", "content": question}], temperature=TEMPERATURE,
                    max_tokens=MAX_TOKENS, seed=SEED_BASE + s)
                answers.append(normalise(reply.choices[0].message.content or "", kind))
            votes = Counter(a for a in answers if a is not None)
            top, share = votes.most_common(1)[0] if votes else (None, 0)
            rows.append({"kind": kind, "gold": gold, "answers": answers, "share": share,
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
        by: dict[int, list[bool]] = defaultdict(list)
        for r in sel:
            by[r["share"]].append(r["majority_right"])
        out[kind] = {"items": len(sel), "one_sample_right": sum(r["one_sample_right"] for r in sel) / len(sel),
                     "majority_right": sum(r["majority_right"] for r in sel) / len(sel),
                     "by_share": {k: {"items": len(v), "majority_right": sum(v)} for k, v in sorted(by.items())}}
    return out


def run(quick: bool = False, out_dir: Path | None = None) -> dict[str, Any]:
    out_dir = out_dir or RESULTS_DIR
    cfg = QUICK if quick else FULL
    rows = measure(cfg)
    summary = summarise(rows)
    shares = range(1, SAMPLES + 1)
    text = (f"## SmolLM2-135M-Instruct (llama.cpp server, real): {SAMPLES} samples at temperature {TEMPERATURE}\n\n"
            + table(["questions", "n", "one sample right %", "majority right %"]
                    + [f"majority {k}/{SAMPLES}: right / items" for k in shares],
                    [[kind, s["items"], f"{100 * s['one_sample_right']:.1f}", f"{100 * s['majority_right']:.1f}"]
                     + [f"{s['by_share'][k]['majority_right']} / {s['by_share'][k]['items']}" if k in s["by_share"]
                        else "-" for k in shares] for kind, s in summary.items()]))
    payload = {"model": "SmolLM2-135M-Instruct (GGUF, llama.cpp server)", "config": cfg, "summary": summary,
               "rows": rows}
    write_result("agreement_real", payload, text + "\n", out_dir=out_dir, quick=quick)
    return payload
