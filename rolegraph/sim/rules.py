"""The sim's decision rules: what one simulated node answers, given what it read, free of I/O.

A node that reads no answer solves. A node that reads one answer (or several that agree) *reviews*
it: it keeps it unless its own attempt differs and it re-examines, and re-examining picks the right
one of the two only a little more often than its own skill would (intrinsic self-correction gains
little; a weaker reviewer of a stronger answer gains nothing). A node that reads answers that
disagree *compares* them: it recognises a right one (judging between different answers is easier
than generating; less so on multiple choice, whose options are already in the question, and on code
it cannot run), adopts the plurality, or solves afresh. Overload (too much input for its context
capacity) lowers its skill, thins what it reads and makes it garble answers. The equations are in
docs/sim.md; the constants below are world 0's, and `RuleParams.of(world)` applies a world's
perturbations to them (rolegraph/sim/world.py).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from statistics import NormalDist
from types import MappingProxyType

from rolegraph.chat.spec import ModelSpec
from rolegraph.items import AnswerKey
from rolegraph.sim import calibration as cal
from rolegraph.sim import text as txt
from rolegraph.sim.draws import Draws, normal_hash, normal_quantile
from rolegraph.sim.reading import extract_candidate, gold_in_evidence
from rolegraph.sim.world import SimWorld, world
from rolegraph.transcript import Section

ANSWER_KIND = MappingProxyType({"math": "math", "mmlu": "mmlu", "code": "code", "qa": "qa"})
ANSWERING_ROLES = frozenset({"solver", "verifier", "fuser"})
# Logits added when judging a right candidate among answers that disagree: judging is easier than generating.
JUDGE_BONUS = MappingProxyType({"solver": 1.5, "verifier": 2.3, "fuser": 2.8})
DEFAULT_JUDGE_BONUS = 0.5  # any other role
MAX_QUERY_CHARS = 300  # of the question's first line a simulated searcher sends as its first query
# ... times this per family: on multiple choice every option is already in the question, so another model's
# pick adds a vote, not something to recognise; code cannot be checked without running it.
JUDGE_FAMILY_SCALE = MappingProxyType({"math": 1.0, "mmlu": 0.0, "code": 0.3, "qa": 1.0})
# Reviewing one answer (or agreeing answers): when its own attempt differs, the chance a node re-examines
# instead of keeping what it read (divided by the number of agreeing inputs: agreement is deferred to).
REVIEW_SWITCH = MappingProxyType({"solver": 0.4, "verifier": 0.5, "fuser": 0.3})
DEFAULT_REVIEW_SWITCH = 0.4  # any other role
JUDGE_LOAD = 0.3  # the judging bonus shrinks by this share per unit of overload (judging many inputs is harder)
REVIEW_BONUS = 0.5  # logits: picking the right one of two differing answers is a little easier than producing it
REVIEW_GARBLE = 0.25  # x the garbling chance, for a right answer a reviewer keeps (it restates rather than re-derives)
# When a node does not recognise a right candidate: chance it adopts the plurality answer
# instead of solving afresh (a verifier re-solves more often; a fuser mostly aggregates).
FOLLOW_PROB = MappingProxyType({"solver": 0.6, "verifier": 0.3, "fuser": 0.7})
DEFAULT_FOLLOW_PROB = 0.5  # any other role
MAJORITY_WEIGHT = 1.0  # logits per unit of (right votes - largest wrong cluster) / candidates read
# Overload o = min(ln(tokens in / capacity), MAX_OVERLOAD) when positive, else 0: context explosion.
MAX_OVERLOAD = math.log(2.5)  # beyond 2.5 times its capacity a model gets no worse (it ignores the excess)
LOAD_SLOPE = 0.8  # logits lost per unit of overload
READ_SLOPE = 1.0  # each input is read with probability (READ_MARGIN x capacity / tokens in) ** READ_SLOPE
READ_MARGIN = 1.6  # a model reads every input until its context passes READ_MARGIN x its capacity
CORRUPTION_SCALE = 0.06  # chance a recognised right answer is garbled: scale * (1 - own accuracy) * (1 + slope * o)
CORRUPTION_SLOPE = 1.5
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
# Repeated samples of one model on one item share most of their randomness: whether a sample is right (and
# which wrong answer it gives) is a Gaussian copula of a per-(model, item) latent and the sample's own draw,
# with this correlation. Each sample's marginal chance is unchanged (single-model accuracy holds exactly);
# what changes is how often samples agree (docs/sim.md, "Sample correlation").
SAMPLE_CORRELATION = 0.5
WRONG_CORRELATION = 0.25  # ... and which wrong answer a wrong sample gives: less shared (wrong paths differ)
MAX_CACHED_ITEMS = 200_000  # per brain: item facts kept between calls (bounded memory)
_RIGHT_COUPLING = (math.sqrt(SAMPLE_CORRELATION), math.sqrt(1.0 - SAMPLE_CORRELATION))
_WRONG_COUPLING = (math.sqrt(WRONG_CORRELATION), math.sqrt(1.0 - WRONG_CORRELATION))
_NORMAL = NormalDist()


@dataclass(frozen=True)
class RuleParams:
    """The rule constants in one world (world 0: the module constants above, unchanged)."""

    world: SimWorld
    majority_weight: float
    max_overload: float
    load_slope: float
    read_slope: float
    corruption_scale: float
    corruption_slope: float
    evidence_bonus: float

    @classmethod
    def of(cls, w: SimWorld) -> RuleParams:
        return cls(
            world=w,
            majority_weight=MAJORITY_WEIGHT * w.majority,
            max_overload=MAX_OVERLOAD * w.max_overload,
            load_slope=LOAD_SLOPE * w.load,
            read_slope=READ_SLOPE * w.read,
            corruption_scale=CORRUPTION_SCALE * w.corruption_scale,
            corruption_slope=CORRUPTION_SLOPE * w.corruption_slope,
            evidence_bonus=EVIDENCE_BONUS * w.evidence,
        )

    def judge_bonus(self, role: str) -> float:
        return JUDGE_BONUS.get(role, DEFAULT_JUDGE_BONUS) * self.world.judge(role)

    def follow_prob(self, role: str) -> float:
        base = FOLLOW_PROB.get(role, DEFAULT_FOLLOW_PROB)
        shift = self.world.follow_shift(role)
        return base if shift == 0.0 else cal.sigmoid(cal.logit(base) + shift)

    def plan_bonus(self, family: str) -> float:
        return PLAN_BONUS.get(family, 0.0) * self.world.plan(family)


@dataclass(frozen=True)
class Decision:
    answer: str | None
    text: str


@dataclass(frozen=True)
class _ItemFacts:
    """What one brain needs about an item, computed once: difficulty, gold identity, wrong pool."""

    delta: float
    latent: float  # the model's standing on this item, shared by all its samples (right or not)
    wrong_latent: float  # ... and which wrong answer it leans to
    gold_norm: str | None
    wrong: tuple[str, ...]
    wrong_norm: tuple[str | None, ...]


class SimBrain:
    """The decision rules of one sim model on one family, in the spec's world."""

    def __init__(self, spec: ModelSpec, family: str):
        self.spec = spec
        self.family = family
        self.world = world(spec.world)
        self.params = RuleParams.of(self.world)
        self.kind = ANSWER_KIND.get(family, "math")
        self.theta = cal.skill(spec, family)
        self.capacity = cal.capacity_tokens(spec)
        self.own_accuracy = cal.single_accuracy(spec, family)
        self.n_out = cal.output_tokens(spec, family)
        self.wrong_weights = txt.skewed_weights(family, self.world.wrong_skew(family))
        self._roles: dict[str, tuple[float, float, float]] = {}
        self._items: dict[tuple[str, str], _ItemFacts] = {}
        self._filler: dict[tuple[int, str], str] = {}

    def overload(self, tokens_in: int) -> float:
        return min(self.params.max_overload, max(0.0, math.log(tokens_in / self.capacity)))

    def load_penalty(self, tokens_in: int) -> float:
        return self.params.load_slope * self.overload(tokens_in)

    def role_params(self, role: str) -> tuple[float, float, float]:
        """(judge bonus on this family, follow probability, review switch) of `role` in this world, computed once."""
        out = self._roles.get(role)
        if out is None:
            judge = self.params.judge_bonus(role) * JUDGE_FAMILY_SCALE.get(self.family, 1.0)
            switch = REVIEW_SWITCH.get(role, DEFAULT_REVIEW_SWITCH) * self.world.repair(role)
            out = self._roles[role] = (judge, self.params.follow_prob(role), min(1.0, switch))
        return out

    def facts(self, key: AnswerKey) -> _ItemFacts:
        k = (key.item_id, key.gold)
        facts = self._items.get(k)
        if facts is None:
            if len(self._items) >= MAX_CACHED_ITEMS:
                self._items.clear()
            facts = self._items[k] = _ItemFacts(
                cal.item_difficulty(key.item_id, self.family, self.spec.id, self.world),
                normal_hash("sample-latent", self.spec.id, self.family, key.item_id),
                normal_hash("wrong-latent", self.spec.id, self.family, key.item_id),
                txt.norm_answer(key.gold, self.family),
                tuple(wrong := txt.wrong_pool(key)),
                tuple(txt.norm_answer(w, self.family) for w in wrong),
            )
        return facts

    def is_gold(self, answer: str, key: AnswerKey) -> bool:
        """Whether `answer` is the item's gold answer, as the sim compares answers."""
        return txt.norm_answer(answer, self.family) == self.facts(key).gold_norm

    def decide(
        self, role: str, question: str, sections: list[Section], key: AnswerKey, tokens_in: int, draws: Draws
    ) -> Decision:
        n_out = int(self.n_out * ROLE_VERBOSITY.get(role, 1.0))
        cap = REPLY_MAX_TOKENS.get(role, DEFAULT_REPLY_MAX_TOKENS)
        if role == "planner":
            return Decision(None, txt.fit_lines(txt.plan_text(question, n_out), cap))
        if role == "searcher":
            return Decision(None, txt.fit_lines(self._queries(question, sections), cap))
        p = self.params
        facts = self.facts(key)
        over = self.overload(tokens_in)
        logit = self.theta - p.load_slope * over
        if any(s.role == "planner" for s in sections):
            logit += p.plan_bonus(self.family)
        if self.family == "qa" and gold_in_evidence(sections, key):
            logit += p.evidence_bonus
        carried = [s for s in sections if s.role not in ("planner", "searcher")]
        cands = [a for a in (extract_candidate(s.text, self.kind) for s in carried) if a is not None]
        if len(cands) > 1 and tokens_in > READ_MARGIN * self.capacity:
            cands = self._read(cands, (READ_MARGIN * self.capacity / tokens_in) ** p.read_slope, draws)
        p_corrupt = p.corruption_scale * (1.0 - self.own_accuracy) * (1.0 + p.corruption_slope * over)
        answer = self._answer(role, logit, cands, key, facts, draws, min(1.0, p_corrupt), over)
        return Decision(answer, self._text(role, carried, answer, n_out, cap))

    @staticmethod
    def _read(cands: list[str], p_read: float, draws: Draws) -> list[str]:
        """Context explosion: an overloaded model takes in each input with probability `p_read`, and at least
        one, drawn (not the last listed: which input is listed last is not part of a graph's identity, so
        isomorphic graphs must read alike)."""
        kept = [c for c in cands if draws.next() < p_read]
        return kept or [cands[min(int(draws.next() * len(cands)), len(cands) - 1)]]

    def _wrong(self, facts: _ItemFacts, u: float) -> str:
        return txt.pick_from(facts.wrong, u, self.wrong_weights)

    @staticmethod
    def _own(u: float, latent: float, coupling: tuple[float, float] = _RIGHT_COUPLING) -> float:
        """The sample's own uniform `u` coupled to the model's per-item `latent` (a Gaussian copula: `coupling` is
        (sqrt(correlation), sqrt(1 - correlation))): still uniform over items and samples, so every chance keeps
        its marginal, but samples of one model on one item mostly land on the same side."""
        latent_weight, noise_weight = coupling
        return _NORMAL.cdf(latent_weight * latent + noise_weight * normal_quantile(u))

    def _attempt(self, logit: float, key: AnswerKey, facts: _ItemFacts, draws: Draws) -> tuple[str, str | None]:
        """The node's own answer (raw, normalised): right with probability sigmoid(logit), else from the wrong pool.
        Both draws are the model's own on this item (`_own`): its samples agree more than independent ones."""
        if self._own(draws.next(), facts.latent) < cal.sigmoid(logit):
            return key.gold, facts.gold_norm
        pick = txt.pick_index(
            len(facts.wrong), self._own(draws.next(), facts.wrong_latent, _WRONG_COUPLING), self.wrong_weights
        )
        return facts.wrong[pick], facts.wrong_norm[pick]

    def _answer(
        self,
        role: str,
        base: float,
        cands: list[str],
        key: AnswerKey,
        facts: _ItemFacts,
        draws: Draws,
        p_corrupt: float,
        over: float = 0.0,
    ) -> str:
        """`base`: the node's logit before the item's difficulty (skill, load, plan and evidence); `over`: its
        overload."""
        fam = self.family
        judge, follow, switch = self.role_params(role)
        logit = base - facts.delta
        norm = [txt.norm_answer(c, fam) for c in cands]
        if not cands:
            return self._attempt(logit, key, facts, draws)[0]
        if len(set(norm)) == 1:
            return self._review(logit, cands[0], norm[0], len(norm), switch, key, facts, draws, p_corrupt)
        judge *= max(0.0, 1.0 - JUDGE_LOAD * over)
        return self._compare(logit, cands, norm, judge, follow, key, facts, draws, p_corrupt)

    def _compare(
        self,
        logit: float,
        cands: list[str],
        norm: list[str | None],
        judge: float,
        follow: float,
        key: AnswerKey,
        facts: _ItemFacts,
        draws: Draws,
        p_corrupt: float,
    ) -> str:
        """Answers that disagree. One draw `u` is the node's own: its attempt is right when u < sigmoid(logit),
        and it recognises a right candidate when u < sigmoid(logit + judge + votes), so recognising adds only
        what judging (and the votes) add over solving, not a second independent try."""
        u = draws.next()
        right = sum(1 for n in norm if n == facts.gold_norm)
        if right and judge > 0.0:  # multiple choice: another model's pick is a vote, not a thing to recognise
            wrong = Counter(n for n in norm if n != facts.gold_norm)
            margin = (right - max(wrong.values(), default=0)) / len(norm)
            if u < cal.sigmoid(logit + judge + self.params.majority_weight * margin):
                return key.gold if draws.next() >= p_corrupt else self._wrong(facts, draws.next())
        if draws.next() < follow:
            return cands[norm.index(self._plurality(norm, draws))]
        if u < cal.sigmoid(logit):
            return key.gold
        return self._wrong(facts, draws.next())

    @staticmethod
    def _plurality(norm: list[str | None], draws: Draws) -> str | None:
        """The most common answer; a tie is broken by a draw among the tied answers, not by which input came
        first: isomorphic graphs (the same nodes, inputs listed in another order) are one graph to the search
        and to the benchmarks' truth, so they must answer alike (first-listed wins made a 3B reading [8B, 3B]
        8 points more accurate than one reading [3B, 8B])."""
        counts = Counter(norm)
        top = max(counts.values())
        tied = sorted((n for n in counts if counts[n] == top), key=str)
        if len(tied) == 1:
            return tied[0]
        return tied[min(int(draws.next() * len(tied)), len(tied) - 1)]

    def _review(
        self,
        logit: float,
        cand: str,
        cand_norm: str | None,
        votes: int,
        switch: float,
        key: AnswerKey,
        facts: _ItemFacts,
        draws: Draws,
        p_corrupt: float,
    ) -> str:
        """Review of one answer held by `votes` agreeing inputs (intrinsic self-correction, Huang et al. 2023):
        keep it when the node's own attempt agrees; when it differs, re-examine with probability
        switch / votes, and then pick the right one of the two with probability sigmoid(logit + REVIEW_BONUS)
        (both wrong: either, evenly). A kept right answer is still garbled with `p_corrupt`."""
        own, own_norm = self._attempt(logit, key, facts, draws)
        out, out_right = cand, cand_norm == facts.gold_norm
        if own_norm != cand_norm and draws.next() < switch / votes:
            own_right = own_norm == facts.gold_norm
            if own_right != out_right:
                pick_right = draws.next() < cal.sigmoid(logit + REVIEW_BONUS)
                out, out_right = (key.gold, True) if pick_right else ((own, False) if out_right else (cand, False))
            elif draws.next() < 0.5:
                out = own
        if out_right and draws.next() < p_corrupt * REVIEW_GARBLE:
            return self._wrong(facts, draws.next())
        return out

    def _queries(self, question: str, sections: list[Section]) -> str:
        queries = [question.strip().splitlines()[0][:MAX_QUERY_CHARS]]
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

    def _text(self, role: str, carried: list[Section], answer: str, n_out: int, cap: int) -> str:
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
                parts += [h + txt.restate(s.text)[:share] for h, s in zip(heads, carried)]
        return "\n".join(parts + ([own] if own else []) + closing)
