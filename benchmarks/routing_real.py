"""The routing benchmark's real-model section (`python -m benchmarks routing`, full run): self-consistency on
SmolLM2-135M behind llama.cpp's server, three samples per one-digit sum. Reported: how often the majority answer
is right by how many samples agreed, and how well a sample's mean token log-probability tells right from wrong.

Ties (`TIE_RULE`, the rule of `agreement_real`): three different answers (or two, the third sample unanswered) have
no majority answer; the question counts under 1/3, as not right, and as tied (the table says how many). A question
no sample answered counts under 0/3. Files written before this rule (up to f3c21d2) broke a tie by the samples'
order: their 1/3 figure is the first sample's accuracy on such questions."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

from benchmarks.agreement_real import majority
from benchmarks.common import say, table
from rolegraph.evaluate.report import NO_SIGN, pct
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from rolegraph.sim.confidence import TARGET_AUROC as SIM_LOGPROB_AUROC

SAMPLES = 3
TIE_RULE = (
    "a tie for the top count (1-1-1, or 1-1 with a sample unanswered) has no majority answer: it counts "
    "under its top share as not right, and as tied; a question no sample answered counts under 0/3"
)
HEADING = "agreement and correctness on the real local model"
"""What the section measures: said as it starts and as its Markdown heading, only where it runs."""
SKIPPED_HEADING = "real local model: not run"
"""The heading of a skipped section: `--real-items 0` printed the measuring heading over its 'Skipped:' line."""


def by_agreement(questions: list[tuple[list[str | None], str]]) -> dict[str, dict]:
    """Per top share k/3 over (the samples' answers, the gold answer) of each question: questions, the share whose
    majority answer is right, and how many of them were tied (`TIE_RULE`; independent of the samples' order)."""
    rows: dict[int, list[tuple[bool, bool]]] = {k: [] for k in range(SAMPLES + 1)}
    for answers, gold in questions:
        top, share, tied = majority(answers)
        rows[share].append((top is not None and top.strip() == gold, tied))
    return {
        f"{k}/{SAMPLES}": {
            "n": len(v),
            "accuracy": sum(r for r, _ in v) / len(v) if v else None,
            "tied": sum(t for _, t in v),
        }
        for k, v in rows.items()
    }


def real_local(cfg: dict, home: Path) -> dict:
    """Self-consistency on the real local model: three samples per question from llama.cpp's server with
    SmolLM2-135M (one-digit sums, the level it sometimes gets right); accuracy of the majority answer by how
    many samples agreed (`by_agreement`), and how well each sample's mean token log-probability (the server's,
    asked with `logprobs: true`) tells right from wrong (AUROC). Skipped (and said so) where the `local` extra is
    missing."""
    if not cfg["real_items"]:  # asked for (`--real-items 0`) or quick mode's default, not only quick mode
        return _skipped("no real-model items (--real-items 0, the default in quick mode)")
    from rolegraph.agents.parsers import parse_answer
    from rolegraph.errors import EngineMissingError
    from rolegraph.models.llamacpp_server import LlamaCppServer
    from rolegraph.models.multi import complete_many

    try:
        server = LlamaCppServer()
    except EngineMissingError as exc:
        return _skipped(str(exc))
    say(f"routing: {HEADING}")
    rng = random.Random(15)
    system = "You are a careful solver. Think briefly, then end with 'Final answer: <number>'."
    questions: list[tuple[list[str | None], str]] = []
    scored: list[tuple[float, bool]] = []  # (a sample's mean token logprob, whether its answer was right)
    try:
        hub = ModelHub(ModelPool([*ModelPool.builtin(), server.spec(logprobs=True)]), Settings(home=home / "real"))

        async def main():
            try:
                model = hub.get("llamacpp/smollm2-135m")
                for i in range(cfg["real_items"]):
                    a, b = rng.randint(1, 9), rng.randint(1, 9)
                    messages = [
                        {"role": "system", "content": system},
                        {"role": "user", "content": f"What is {a} + {b}?"},
                    ]
                    outs = await complete_many(
                        model, messages, samples=list(range(1, SAMPLES + 1)), temperature=0.7, max_tokens=32, seed=i
                    )
                    answers = [parse_answer(o.text, "math").answer for o in outs]
                    for o, x in zip(outs, answers):
                        if o.logprob is not None:
                            scored.append((o.logprob, x is not None and x.strip() == str(a + b)))
                    questions.append((answers, str(a + b)))
            finally:
                await hub.aclose()

        asyncio.run(main())
    finally:
        server.close()
    return {
        "model": "SmolLM2-135M via llama.cpp's server",
        "items": cfg["real_items"],
        "tie_rule": TIE_RULE,
        "majority_accuracy_by_agreement": by_agreement(questions),
        "logprob_auroc": auroc(scored),
        "samples_with_logprobs": len(scored),
        "samples_right": sum(r for _, r in scored),
    }


def _skipped(reason: str) -> dict:
    """The section's result when it does not run, said under a heading that does not claim a measurement."""
    say(f"routing: {SKIPPED_HEADING}: {reason}")
    return {"skipped": reason}


def auroc(scored: list[tuple[float, bool]]) -> float | None:
    """The chance a right sample has a higher score than a wrong one (ties count half); None without both kinds."""
    right = [s for s, r in scored if r]
    wrong = [s for s, r in scored if not r]
    if not right or not wrong:
        return None
    wins = sum((x > y) + 0.5 * (x == y) for x in right for y in wrong)
    return wins / (len(right) * len(wrong))


def render(real: dict) -> str:
    """The section's Markdown: the table by agreement (with its ties) and the log-probability signal."""
    if "skipped" in real:
        return f"## {SKIPPED_HEADING.capitalize()}\n\nSkipped: {real['skipped']}"
    text = f"## {HEADING.capitalize()} (real, not simulated)\n\n"
    text += table(
        ["samples agreeing", "items", "majority right %", "tied (no majority: not right)"],
        [
            [k, v["n"], pct(v["accuracy"], NO_SIGN), v["tied"]]
            for k, v in real["majority_accuracy_by_agreement"].items()
        ],
    )
    lp = real.get("logprob_auroc")
    return text + (
        f"\n\nTies: {TIE_RULE}.\n\nMean token log-probability as a correctness signal, per sample: AUROC "
        f"{'n/a' if lp is None else f'{lp:.3f}'} over {real.get('samples_with_logprobs', 0)} samples "
        f"({real.get('samples_right', 0)} right). The sim's is {SIM_LOGPROB_AUROC:.2f} by construction "
        "(rolegraph/sim/confidence.py)."
    )
