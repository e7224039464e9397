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
import re
from collections import Counter
from dataclasses import dataclass
from types import MappingProxyType

from rolegraph.answers import extract_answer, final_line
from rolegraph.errors import NoAnswerKeyError, RolegraphError
from rolegraph.items import AnswerKey
from rolegraph.models.spec import ModelSpec
from rolegraph.models.types import Completion, Message, Usage
from rolegraph.settings import Settings
from rolegraph.sim import calibration as cal
from rolegraph.sim import text as txt
from rolegraph.transcript import SECTION_HEADER, Section, read_question, read_role

ANSWER_KIND = MappingProxyType({"math": "math", "mmlu": "mmlu", "code": "code", "qa": "qa"})
ANSWERING_ROLES = frozenset({"solver", "verifier", "fuser"})
# Logits added when judging a right candidate: judging is easier than generating.
JUDGE_BONUS = MappingProxyType({"solver": 1.2, "verifier": 2.0, "fuser": 2.5})
# When a node does not recognise a right candidate: chance it adopts the plurality answer
# instead of solving afresh (a verifier re-solves more often; a fuser mostly aggregates).
FOLLOW_PROB = MappingProxyType({"solver": 0.6, "verifier": 0.3, "fuser": 0.4})
MAJORITY_WEIGHT = 1.0  # logits per unit of (right votes - largest wrong cluster) / candidates read
# Overload o = min(ln(tokens in / capacity), MAX_OVERLOAD) when positive, else 0: context explosion.
MAX_OVERLOAD = math.log(2.5)  # beyond 2.5 times its capacity a model gets no worse (it ignores the excess)
LOAD_SLOPE = 1.0  # logits lost per unit of overload
READ_SLOPE = 1.0  # each input is read with probability (capacity / tokens in) ** READ_SLOPE (not capped)
CORRUPTION_SCALE = 0.06  # chance a recognised right answer is garbled: scale * (1 - own accuracy) * (1 + slope * o)
CORRUPTION_SLOPE = 3.0
PLAN_BONUS = MappingProxyType({"math": 0.2, "mmlu": 0.1, "code": 0.2, "qa": 0.3})
EVIDENCE_BONUS = 2.5  # logits when the evidence the node reads contains the gold answer (qa)
CARRY_MAX_TOKENS = 2000  # a refiner restates at most this much of each input's reasoning
CARRY_TOTAL_MAX_TOKENS = 4000  # ... and at most this much in all (it condenses many inputs)
# The longest reply a role writes of its own accord (tokens): a refiner restates only what fits beside its
# own reasoning and answer. Each is below the built-in role's default max_tokens (planner 384, searcher 128,
# solver 1024, verifier and fuser 768), so a request at the role's default is never cut.
REPLY_MAX_TOKENS = MappingProxyType({"planner": 360, "searcher": 120, "solver": 1000, "verifier": 740, "fuser": 740})
DEFAULT_REPLY_MAX_TOKENS = 740  # any other role (a registered role's default max_tokens is 768)
ROLE_VERBOSITY = MappingProxyType({"planner": 1.0, "searcher": 0.15, "solver": 1.0, "verifier": 0.7, "fuser": 0.6})
MAX_QUERIES = 3
RESTATE_HEAD = "Reviewing the inputs."
TAIL_CHARS = 400  # answers come last: a candidate's final-answer line is looked for here first
FAST_KINDS = frozenset({"math", "qa", "auto"})  # kinds whose extracted answer is the final line itself
MAX_CACHED_ITEMS = 200_000  # per brain: item facts kept between calls (bounded memory)


class SimRequestError(RolegraphError):
    """A request the sim (like a real endpoint) refuses: an impossible max_tokens."""


@dataclass(frozen=True)
class Decision:
    answer: str | None
    text: str


@dataclass(frozen=True)
class Reply:
    """What the model returns for one request: its text as cut at max_tokens, and why it stopped."""

    text: str
    finish_reason: str  # "stop" (it ended its reply) or "length" (cut at max_tokens, as a server does)

    @classmethod
    def cut(cls, text: str, max_tokens: int | None) -> Reply:
        """A server stops decoding at max_tokens: the model does not see the limit, its reply is cut."""
        if max_tokens is None or txt.approx_tokens(text) <= max_tokens:
            return cls(text, "stop")
        return cls(txt.fit_chars(text, max_tokens), "length")


class _Draws:
    """A stream of uniforms determined by the call (and the sample index when temperature > 0).

    One blake2b digest gives eight uniforms; a further block is hashed only when they run out.
    """

    _PER_BLOCK = 8

    def __init__(self, *parts: object):
        self._base = "\x1f".join(map(str, parts)).encode()
        self._block = 0
        self._buf: list[int] = []

    def next(self) -> float:
        if not self._buf:
            digest = hashlib.blake2b(self._base + self._block.to_bytes(4, "big"), digest_size=64).digest()
            self._block += 1
            self._buf = [int.from_bytes(digest[i : i + 8], "big") for i in range(56, -8, -8)]
        return (self._buf.pop() + 0.5) / 2.0**64


@dataclass(frozen=True)
class _ItemFacts:
    """What one brain needs about an item, computed once: difficulty, gold identity, wrong pool."""

    delta: float
    gold_norm: str | None
    wrong: tuple[str, ...]


def extract_candidate(text: str, kind: str) -> str | None:
    """`extract_answer(text, kind)`, looking at the tail first (same result, far less scanning)."""
    if kind in FAST_KINDS and len(text) > TAIL_CHARS:
        cut = text.rfind("\n", 0, len(text) - TAIL_CHARS) + 1
        ans = final_line(text[cut:])
        if ans is not None:
            return ans
    return extract_answer(text, kind)


_HEADER_PREFIX = SECTION_HEADER.split("{", 1)[0]  # "=== Input "
_HEADER_RE = re.compile(r"=== Input (\d+) from node `([^`]*)` \(([^)]*)\) ===")


def read_sections_fast(user_text: str) -> list[Section]:
    """`transcript.read_sections`, finding header lines with `str.find` instead of a multiline regex scan."""
    heads: list[tuple[int, int, re.Match[str]]] = []
    pos = 0
    while True:
        i = user_text.find(_HEADER_PREFIX, pos)
        if i < 0:
            break
        end = user_text.find("\n", i)
        end = len(user_text) if end < 0 else end
        if i == 0 or user_text[i - 1] == "\n":
            m = _HEADER_RE.fullmatch(user_text, i, end)
            if m:
                heads.append((i, end, m))
        pos = i + 1
    out = []
    for j, (_, end, m) in enumerate(heads):
        stop = heads[j + 1][0] if j + 1 < len(heads) else len(user_text)
        out.append(Section(int(m.group(1)), m.group(2), m.group(3), user_text[end:stop].strip()))
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
        self.kind = ANSWER_KIND.get(family, "math")
        self.theta = cal.skill(spec, family)
        self.capacity = cal.capacity_tokens(spec)
        self.own_accuracy = cal.single_accuracy(spec, family)
        self.n_out = cal.output_tokens(spec, family)
        self._items: dict[tuple[str, str], _ItemFacts] = {}
        self._filler: dict[tuple[int, str], str] = {}

    def overload(self, tokens_in: int) -> float:
        return min(MAX_OVERLOAD, max(0.0, math.log(tokens_in / self.capacity)))

    def load_penalty(self, tokens_in: int) -> float:
        return LOAD_SLOPE * self.overload(tokens_in)

    def facts(self, key: AnswerKey) -> _ItemFacts:
        k = (key.item_id, key.gold)
        facts = self._items.get(k)
        if facts is None:
            if len(self._items) >= MAX_CACHED_ITEMS:
                self._items.clear()
            facts = self._items[k] = _ItemFacts(
                cal.item_difficulty(key.item_id, self.family, self.spec.id),
                txt.norm_answer(key.gold, self.family),
                tuple(txt.wrong_pool(key)),
            )
        return facts

    def decide(self, role: str, question: str, sections, key: AnswerKey, tokens_in: int, draws: _Draws) -> Decision:
        n_out = int(self.n_out * ROLE_VERBOSITY.get(role, 1.0))
        cap = REPLY_MAX_TOKENS.get(role, DEFAULT_REPLY_MAX_TOKENS)
        if role == "planner":
            return Decision(None, txt.fit_lines(txt.plan_text(question, n_out), cap))
        if role == "searcher":
            return Decision(None, txt.fit_lines(self._queries(question, sections), cap))
        facts = self.facts(key)
        over = self.overload(tokens_in)
        logit = self.theta - LOAD_SLOPE * over
        if any(s.role == "planner" for s in sections):
            logit += PLAN_BONUS.get(self.family, 0.0)
        if self.family == "qa" and _gold_in_evidence(sections, key):
            logit += EVIDENCE_BONUS
        carried = [s for s in sections if s.role not in ("planner", "searcher")]
        cands = [a for a in (extract_candidate(s.text, self.kind) for s in carried) if a is not None]
        if len(cands) > 1 and tokens_in > self.capacity:
            cands = self._read(cands, (self.capacity / tokens_in) ** READ_SLOPE, draws)
        p_corrupt = CORRUPTION_SCALE * (1.0 - self.own_accuracy) * (1.0 + CORRUPTION_SLOPE * over)
        answer = self._answer(role, logit, cands, key, facts, draws, min(1.0, p_corrupt))
        return Decision(answer, self._text(role, carried, answer, n_out, cap))

    @staticmethod
    def _read(cands: list[str], p_read: float, draws: _Draws) -> list[str]:
        """Context explosion: an overloaded model takes in each input with probability `p_read`
        (and at least the last one, which is freshest in its context)."""
        kept = [c for c in cands if draws.next() < p_read]
        return kept or cands[-1:]

    def _answer(
        self,
        role: str,
        base: float,
        cands: list[str],
        key: AnswerKey,
        facts: _ItemFacts,
        draws: _Draws,
        p_corrupt: float,
    ) -> str:
        """`base`: the node's logit before the item's difficulty (skill, load, plan and evidence)."""
        fam, gold = self.family, facts.gold_norm
        logit = base - facts.delta
        norm = [txt.norm_answer(c, fam) for c in cands]
        right = sum(1 for n in norm if n == gold)
        if right:
            wrong = Counter(n for n in norm if n != gold)
            margin = (right - max(wrong.values(), default=0)) / len(norm)
            p_recognise = cal.sigmoid(logit + JUDGE_BONUS.get(role, 0.5) + MAJORITY_WEIGHT * margin)
            if draws.next() < p_recognise:
                return key.gold if draws.next() >= p_corrupt else txt.pick_from(facts.wrong, draws.next())
        if cands and draws.next() < FOLLOW_PROB.get(role, 0.5):
            plurality = Counter(norm).most_common(1)[0][0]
            return cands[norm.index(plurality)]
        if draws.next() < cal.sigmoid(logit):
            return key.gold
        return txt.pick_from(facts.wrong, draws.next())

    def _queries(self, question: str, sections) -> str:
        queries = [question.strip().splitlines()[0][:300]]
        for s in sections:
            if s.role == "planner":
                queries += [ln[2:].strip() for ln in s.text.splitlines() if ln.startswith("- ")]
        return "\n".join(f"Query: {q}" for q in list(dict.fromkeys(queries))[:MAX_QUERIES])

    def _reasoning(self, n_out: int, salt: str) -> str:
        k = (n_out, salt)
        text = self._filler.get(k)
        if text is None:
            text = self._filler[k] = txt.reasoning(n_out, salt)
        return text

    def _text(self, role: str, carried, answer: str, n_out: int, cap: int) -> str:
        """Restated inputs, verdicts, own reasoning, final answer, planned to fit `cap` tokens: the answer
        and verdicts always, then the reasoning, then as much of each input as the rest leaves."""
        room = cap * txt.CHARS_PER_TOKEN
        closing = [txt.render_answer(answer, self.family)]
        if role == "verifier" and carried:
            gold = txt.norm_answer(answer, self.family)
            verdicts = []
            for s in carried:
                right = txt.norm_answer(extract_candidate(s.text, self.kind), self.family) == gold
                verdicts.append(f"Verdict for {s.node}: {'correct' if right else 'incorrect'}")
            closing[:0] = verdicts
        room -= sum(len(p) + 1 for p in closing)
        own = self._reasoning(n_out, txt.reasoning_salt(self.spec.id, role))
        own = own if len(own) < room else own[: max(0, room - 1)]
        room -= len(own) + 1
        parts = []
        if carried:
            heads = [f"From `{s.node}`:\n" for s in carried]
            room -= len(RESTATE_HEAD) + 1 + sum(len(h) + 1 for h in heads)
            share = min(CARRY_MAX_TOKENS, CARRY_TOTAL_MAX_TOKENS // len(carried)) * txt.CHARS_PER_TOKEN
            share = min(share, room // len(carried))
            if share > 0:
                parts.append(RESTATE_HEAD)
                parts += [h + txt.strip_final(s.text)[:share] for h, s in zip(heads, carried)]
        return "\n".join(parts + ([own] if own else []) + closing)


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

    def respond(
        self,
        messages: list[Message],
        *,
        temperature: float = 0.0,
        seed: int = 0,
        sample: int = 0,
        answer_key: AnswerKey | None = None,
        max_tokens: int | None = None,
    ) -> Completion:
        """The synchronous core of `complete` (no sleeping): used by the server and benchmarks too.

        The reply is cut at `max_tokens` (None: no limit); usage, latency and cost count what is returned.
        A reply at the role's default limit is never cut (REPLY_MAX_TOKENS), so None and the default agree.
        """
        if max_tokens is not None and max_tokens < 1:
            raise SimRequestError(f"max_tokens must be a positive integer, got {max_tokens}")
        if answer_key is None:
            raise NoAnswerKeyError(
                f"simulated model '{self.spec.id}' answers task items only (it needs the item's answer key); "
                "for a free-form question use a real model: local/smollm2-135m offline, an openai/* model, "
                "or your own OpenAI-compatible endpoint in a pool file"
            )
        system = next((m.get("content") or "" for m in messages if m.get("role") == "system"), "")
        user = next((m.get("content") or "" for m in reversed(messages) if m.get("role") == "user"), "")
        role = read_role(system) or "solver"
        sections = read_sections_fast(user)
        tokens_in = sum(txt.approx_tokens(str(m.get("content") or "")) for m in messages)
        draw_sample = sample if temperature > 0 else 0
        draws = _Draws(seed, draw_sample, self.spec.id, role, answer_key.item_id, _digest(messages))
        decision = self.brain(answer_key.family).decide(
            role, read_question(user), sections, answer_key, tokens_in, draws
        )
        reply = Reply.cut(decision.text, max_tokens)
        tokens_out = txt.approx_tokens(reply.text)
        return Completion(
            text=reply.text,
            usage=Usage(input_tokens=tokens_in, output_tokens=tokens_out),
            latency_s=cal.latency_s(self.spec, tokens_in, tokens_out),
            model_id=self.spec.id,
            cost_usd=self.spec.cost(tokens_in, tokens_out),
            simulated=True,
            finish_reason=reply.finish_reason,
        )

    async def complete(
        self,
        messages: list[Message],
        *,
        temperature: float = 0.0,
        max_tokens: int = 512,
        seed: int = 0,
        tools: list[dict] | None = None,
        sample: int = 0,
        answer_key: AnswerKey | None = None,
        response_format: dict | None = None,
    ) -> Completion:
        """`response_format` is ignored: the sim answers task items in text, which is parsed as a real
        model's would be (and it cannot write feedback, where structured output is asked for)."""
        out = self.respond(
            messages, temperature=temperature, seed=seed, sample=sample, answer_key=answer_key, max_tokens=max_tokens
        )
        if self.settings.latency_scale > 0:
            await asyncio.sleep(out.latency_s * self.settings.latency_scale)
        return out
