"""Simulated models (`sim/*`): seeded stand-ins calibrated to published accuracies.

A sim model reads its messages as a model would: its role from the system prompt, the question
and its predecessors' outputs from the user message (rolegraph/transcript.py). It knows the
item's gold only through the `AnswerKey` passed beside the messages, and decides, with seeded
randomness, whether to recognise a right candidate, follow the plurality, or solve afresh. The
equations and constants are in docs/sim.md. Same seed, same output.
"""
from __future__ import annotations

import asyncio
import hashlib
import math
from collections import Counter
from dataclasses import dataclass
from types import MappingProxyType

from rolegraph.answers import extract_answer
from rolegraph.errors import NoAnswerKeyError
from rolegraph.items import AnswerKey
from rolegraph.models import sim_calibration as cal
from rolegraph.models import sim_text as txt
from rolegraph.models.spec import ModelSpec
from rolegraph.models.types import Completion, Message, Usage
from rolegraph.settings import Settings
from rolegraph.transcript import read_question, read_role, read_sections

ANSWER_KIND = MappingProxyType({"math": "math", "mmlu": "mmlu", "code": "code", "qa": "qa"})
ANSWERING_ROLES = frozenset({"solver", "verifier", "fuser"})
# Logits added when judging a right candidate: judging is easier than generating.
JUDGE_BONUS = MappingProxyType({"solver": 1.2, "verifier": 2.0, "fuser": 2.0})
# When a node does not recognise a right candidate: chance it adopts the plurality answer
# instead of solving afresh (a verifier re-solves more often; a fuser mostly aggregates).
FOLLOW_PROB = MappingProxyType({"solver": 0.6, "verifier": 0.3, "fuser": 0.8})
MAJORITY_WEIGHT = 1.0  # logits per unit of (right votes - largest wrong cluster) / candidates
LOAD_SLOPE = 0.6  # logits lost per e-fold of input tokens beyond the model's capacity
CORRUPTION_SCALE = 0.15  # chance a recognised right answer is garbled: scale * (1 - own accuracy)
PLAN_BONUS = MappingProxyType({"math": 0.2, "mmlu": 0.1, "code": 0.2, "qa": 0.3})
EVIDENCE_BONUS = 2.5  # logits when the evidence the node reads contains the gold answer (qa)
CARRY_MAX_TOKENS = 1500  # a refiner restates at most this much of each input's reasoning
CARRY_TOTAL_MAX_TOKENS = 2400  # ... and at most this much in all (it condenses many inputs)
ROLE_VERBOSITY = MappingProxyType({"planner": 0.5, "searcher": 0.15, "solver": 1.0, "verifier": 0.7,
                                   "fuser": 0.6})
MAX_QUERIES = 3


@dataclass(frozen=True)
class Decision:
    answer: str | None
    text: str


class _Draws:
    """A stream of uniforms determined by the call (and the sample index when temperature > 0)."""

    def __init__(self, *parts: object):
        self._base = "|".join(map(str, parts))
        self._i = 0

    def next(self) -> float:
        self._i += 1
        return cal.unit_hash(self._base, self._i)


def _candidates(sections, family: str) -> list[str]:
    kind = ANSWER_KIND.get(family, "math")
    out = []
    for s in sections:
        if s.role in ("planner", "searcher"):
            continue
        ans = extract_answer(s.text, kind)
        if ans is not None:
            out.append(ans)
    return out


def _gold_in_evidence(sections, key: AnswerKey) -> bool:
    gold = txt.norm_answer(key.gold, "qa")
    if not gold:
        return False
    for s in sections:
        if s.role == "searcher" and gold in (txt.norm_answer(s.text, "qa") or ""):
            return True
    return False


class SimBrain:
    """The decision rules of one sim model on one family, free of I/O so they can be studied."""

    def __init__(self, spec: ModelSpec, family: str):
        self.spec = spec
        self.family = family
        self.theta = cal.skill(spec, family)
        self.capacity = cal.capacity_tokens(spec)
        self.own_accuracy = cal.single_accuracy(spec, family)

    def load_penalty(self, tokens_in: int) -> float:
        return LOAD_SLOPE * max(0.0, math.log(tokens_in / self.capacity))

    def decide(self, role: str, question: str, sections, key: AnswerKey, tokens_in: int,
               draws: _Draws) -> Decision:
        n_out = int(cal.output_tokens(self.spec, self.family) * ROLE_VERBOSITY.get(role, 1.0))
        if role == "planner":
            return Decision(None, txt.plan_text(question, n_out))
        if role == "searcher":
            return Decision(None, self._queries(question, sections))
        delta = cal.item_difficulty(key.item_id, self.family, self.spec.id)
        logit = self.theta - delta - self.load_penalty(tokens_in)
        if any(s.role == "planner" for s in sections):
            logit += PLAN_BONUS.get(self.family, 0.0)
        if self.family == "qa" and _gold_in_evidence(sections, key):
            logit += EVIDENCE_BONUS
        answer = self._answer(role, logit, _candidates(sections, self.family), key, draws)
        return Decision(answer, self._text(role, sections, answer, n_out, key))

    def _answer(self, role: str, logit: float, cands: list[str], key: AnswerKey, draws: _Draws) -> str:
        fam = self.family
        gold = txt.norm_answer(key.gold, fam)
        norm = [txt.norm_answer(c, fam) for c in cands]
        right = sum(1 for n in norm if n == gold)
        wrong = Counter(n for n in norm if n != gold)
        if right:
            margin = (right - max(wrong.values(), default=0)) / len(norm)
            p_recognise = cal.sigmoid(logit + JUDGE_BONUS.get(role, 0.5) + MAJORITY_WEIGHT * margin)
            if draws.next() < p_recognise:
                p_corrupt = CORRUPTION_SCALE * (1.0 - self.own_accuracy)
                return key.gold if draws.next() >= p_corrupt else txt.pick_wrong(key, draws.next())
        if cands and draws.next() < FOLLOW_PROB.get(role, 0.5):
            plurality = Counter(norm).most_common(1)[0][0]
            return next(c for c, n in zip(cands, norm) if n == plurality)
        if draws.next() < cal.sigmoid(logit):
            return key.gold
        return txt.pick_wrong(key, draws.next())

    def _queries(self, question: str, sections) -> str:
        queries = [question.strip().splitlines()[0][:300]]
        for s in sections:
            if s.role == "planner":
                queries += [ln[2:].strip() for ln in s.text.splitlines() if ln.startswith("- ")]
        return "\n".join(f"Query: {q}" for q in list(dict.fromkeys(queries))[:MAX_QUERIES])

    def _text(self, role: str, sections, answer: str, n_out: int, key: AnswerKey) -> str:
        parts = []
        carried = [s for s in sections if s.role not in ("planner", "searcher")]
        if carried:
            parts.append(f"Reviewing {len(carried)} input(s).")
            share = min(CARRY_MAX_TOKENS, CARRY_TOTAL_MAX_TOKENS // len(carried)) * txt.CHARS_PER_TOKEN
            for s in carried:
                parts.append(f"From `{s.node}`:\n{txt.strip_final(s.text)[:share]}")
            if role == "verifier":
                gold = txt.norm_answer(answer, self.family)
                for s in carried:
                    cand = txt.norm_answer(extract_answer(s.text, ANSWER_KIND[self.family]), self.family)
                    parts.append(f"Verdict for {s.node}: {'correct' if cand == gold else 'incorrect'}")
        parts.append(txt.reasoning(n_out, f"{self.spec.id}|{key.item_id}|{role}"))
        parts.append(txt.render_answer(answer, self.family))
        return "\n".join(parts)


def _digest(messages: list[Message]) -> str:
    h = hashlib.blake2b(digest_size=12)
    for m in messages:
        h.update(str(m.get("role")).encode())
        h.update(str(m.get("content")).encode())
    return h.hexdigest()


class SimChatModel:
    """A `ChatModel` over the sim rules. `latency_scale` > 0 really sleeps that share of the latency."""

    def __init__(self, spec: ModelSpec, settings: Settings):
        self.spec = spec
        self.settings = settings
        self._brains: dict[str, SimBrain] = {}

    @property
    def model_id(self) -> str:
        return self.spec.id

    def brain(self, family: str) -> SimBrain:
        if family not in self._brains:
            self._brains[family] = SimBrain(self.spec, family)
        return self._brains[family]

    def respond(self, messages: list[Message], *, temperature: float = 0.0, seed: int = 0, sample: int = 0,
                answer_key: AnswerKey | None = None) -> Completion:
        """The synchronous core of `complete` (no sleeping): used by the server and benchmarks too."""
        if answer_key is None:
            raise NoAnswerKeyError(
                f"simulated model '{self.spec.id}' answers task items only (it needs the item's answer key); "
                "for a free-form question use a real model: local/smollm2-135m offline, an openai/* model, "
                "or your own OpenAI-compatible endpoint in a pool file")
        system = next((m.get("content") or "" for m in messages if m.get("role") == "system"), "")
        user = next((m.get("content") or "" for m in reversed(messages) if m.get("role") == "user"), "")
        role = read_role(system) or "solver"
        sections = read_sections(user)
        tokens_in = sum(txt.approx_tokens(str(m.get("content") or "")) for m in messages)
        draw_sample = sample if temperature > 0 else 0
        draws = _Draws(seed, draw_sample, self.spec.id, role, answer_key.item_id, _digest(messages))
        decision = self.brain(answer_key.family).decide(role, read_question(user), sections, answer_key,
                                                        tokens_in, draws)
        tokens_out = txt.approx_tokens(decision.text)
        return Completion(text=decision.text, usage=Usage(input_tokens=tokens_in, output_tokens=tokens_out),
                          latency_s=cal.latency_s(self.spec, tokens_in, tokens_out), model_id=self.spec.id,
                          cost_usd=self.spec.cost(tokens_in, tokens_out), simulated=True)

    async def complete(self, messages: list[Message], *, temperature: float = 0.0, max_tokens: int = 512,
                       seed: int = 0, tools: list[dict] | None = None, sample: int = 0,
                       answer_key: AnswerKey | None = None) -> Completion:
        out = self.respond(messages, temperature=temperature, seed=seed, sample=sample, answer_key=answer_key)
        if self.settings.latency_scale > 0:
            await asyncio.sleep(out.latency_s * self.settings.latency_scale)
        return out
