"""An extractive reader: answer a factoid question with a span of the evidence, not free text.

A tiny model (SmolLM2-135M) that reads six long passages and writes an answer mostly writes noise
("The answer is: 1"). The reader narrows what the model sees and what it may answer: it searches the
question itself (a few best-ranked passages), keeps the sentences that share the most words with the
question, and draws candidate answers from them by the question's type (a year for "when", a name
for "who", ...). The model reads only the best of those sentences (more text is more noise for 135M
parameters) and answers in a few words; its answer is kept when it is one of the candidates (or a span
of the kept sentences), otherwise the best-placed candidate is the answer. The reply says which
happened (`Source: model` / `Source: extractive`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rolegraph.agents.parsers import hit_fields
from rolegraph.agents.tooluse import SEARCH_TOOL, Caller, ToolUse, run_tool
from rolegraph.tools.toolbox import ToolBox  # already loaded by then (tooluse): in the hints that resolve at run time
from rolegraph.transcript import Section

READ_HITS = 3
BEST_SENTENCES = 2
MAX_SENTENCE_CHARS = 400
MAX_ANSWER_WORDS = 8
TITLE_BONUS = 0.5  # a sentence of a passage whose title shares words with the question
RANK_PENALTY = 0.3  # per place a passage is below the best-ranked one (BM25 order is worth keeping)
TYPE_BONUS = 1.0  # a sentence holding a span of the answer's type (a year for "when") can answer at all
PRONOUNS = frozenset({"he", "she", "his", "her", "it", "its", "they", "their"})
ADJECTIVE_ENDINGS = ("ish", "ese", "ian", "ean", "ist", "ic", "ch", "ern", "an")
"""A name span made only of such words ("Dutch Post-Impressionist", "Colombian") is a description,
not an answer to "who"."""
YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})\b")
NUMBER = re.compile(r"\b\d[\d,.]*\b")
NAME = re.compile(r"\b[A-Z][\w'’-]+(?:\s+(?:(?:da|de|del|der|di|van|von|la|le|y|of|the|bin|al)\s+)*[A-Z][\w'’-]+)*")
_WORD = re.compile(r"[\w'’-]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])")
STOP = frozenset(
    "a an the of in on at to for from by with about as into and or is are was were be been who whom whose what which "
    "when where why how did do does first year name called known".split()
)
PROMPT = (
    "Role: reader.\nRead the passage and answer the question with a few words copied from the passage. "
    "Write only the answer."
)


@dataclass(frozen=True)
class Reading:
    answer: str | None
    source: str  # "model" | "extractive" | "none"
    sentences: list[str]
    candidates: list[str]
    model_text: str


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)} - STOP


def answer_type(question: str) -> str:
    q = question.lower()
    if re.search(r"\b(when|what year|which year|in what year)\b", q):
        return "year"
    if re.search(r"\bhow (many|much|long|tall|old|far)\b", q):
        return "number"
    return "name"


def best_sentences(question: str, hits: list[dict[str, Any]], k: int = BEST_SENTENCES) -> list[tuple[str, str]]:
    """The `k` (sentence, its passage's title) sharing the most content words with the question; a lower
    ranked passage pays RANK_PENALTY per place, and earlier sentences win ties."""
    qwords = _words(question)
    typed = {"year": YEAR, "number": NUMBER}.get(answer_type(question))
    scored: list[tuple[float, int, str, str]] = []
    order = 0
    for rank, hit in enumerate(hits):
        bonus = (TITLE_BONUS if _words(hit["title"]) & qwords else 0.0) - RANK_PENALTY * rank
        for sentence in _SENTENCE_END.split(hit["text"]):
            sentence = sentence.strip()[:MAX_SENTENCE_CHARS]
            if sentence:
                fits = TYPE_BONUS if typed is not None and typed.search(sentence) else 0.0
                scored.append((len(_words(sentence) & qwords) + bonus + fits, -order, sentence, hit["title"]))
                order += 1
    scored.sort(reverse=True)
    return [(s, t) for _, _, s, t in scored[:k]]


def _descriptive(span: str) -> bool:
    words = span.split()
    return all(w.lower().endswith(ADJECTIVE_ENDINGS) for w in words)


def _clean_title(title: str) -> str:
    return re.sub(r"\s*\([^)]*\)\s*$", "", title).strip()


def candidates(question: str, sentences: list[tuple[str, str]], titles: Sequence[str] = ()) -> list[str]:
    """Spans of the sentences that could answer the question's type, best-placed sentence first. For a name,
    a sentence from a passage about something the question does not name (its title shares no word with
    the question) offers that title first: the passage is about the answer ("He shared the Nobel Prize")."""
    qwords = _words(question)
    kind = answer_type(question)
    pattern = {"year": YEAR, "number": NUMBER}.get(kind, NAME)
    out: list[str] = []

    def add(span: str) -> None:
        span = span.strip(" ,.")
        if span and not (_words(span) <= qwords) and span not in out and not (kind == "name" and _descriptive(span)):
            out.append(span)

    for sentence, title in sentences:
        if kind == "name" and title and not _words(title) & qwords:
            add(_clean_title(title))
        for match in pattern.finditer(sentence):
            if kind == "name" and match.start() == 0 and " " not in match.group(0):
                continue  # a capitalised first word ("He", "In", "Described") is no name by itself
            add(match.group(0))
    if kind == "name":  # then other passages about something the question does not name
        for title in titles:
            if not _words(title) & qwords:
                add(_clean_title(title))
    return out


def choose(model_text: str, cands: list[str], sentences: list[str]) -> tuple[str | None, str]:
    """The model's answer when the evidence supports it, else the first candidate."""
    said = (model_text or "").strip().splitlines()[0].strip(" .\"'") if (model_text or "").strip() else ""
    said = re.sub(r"^(the )?answer( is)?\s*[:：]?\s*", "", said, flags=re.IGNORECASE).strip(" .")
    low = said.lower()
    if said and len(said.split()) <= MAX_ANSWER_WORDS:
        for cand in cands:
            if cand.lower() == low or (len(low) > 3 and low in cand.lower()) or (cand.lower() in low and len(cand) > 3):
                return cand, "model"
        if any(low in s.lower() for s in sentences) and len(low) > 3:
            return said, "model"
    if cands:
        return cands[0], "extractive"
    return (said or None), "model" if said else "none"


def evidence_hits(sections: list[Section]) -> list[dict[str, Any]]:
    from rolegraph.agents.parsers import parse_evidence

    hits: list[dict[str, Any]] = []
    for s in sections:
        hits += parse_evidence(s.text).fields.get("evidence", [])
    return hits


async def read(
    question: str,
    sections: list[Section],
    call: Caller,
    toolbox: ToolBox | None,
    uses: list[ToolUse],
    tool: str = SEARCH_TOOL,
) -> Reading:
    """Search the question, read the best sentences, answer with a candidate span (see the module docstring).
    Without a toolbox (or without `tool` in it) the reader reads its predecessors' evidence only."""
    hits: list[dict[str, Any]] = []
    if toolbox is not None and tool in toolbox:
        result = await run_tool(toolbox, tool, {"query": question, "k": READ_HITS}, uses)
        data = getattr(result, "data", None) if getattr(result, "ok", False) else None
        hits = [hit_fields(h) for h in (data or [])]
    hits = (hits + evidence_hits(sections))[: READ_HITS * 2]
    best = best_sentences(question, hits)
    sentences = [s for s, _ in best]
    cands = candidates(question, best, [h["title"] for h in hits])
    if not sentences:
        return Reading(None, "none", [], cands, "")
    passage = sentences[0]  # the model reads the best sentence only: more text, more noise, for 135M parameters
    messages = [
        {"role": "system", "content": PROMPT},
        {"role": "user", "content": f"Passage: {passage}\nQuestion: {question}\nAnswer:"},
    ]
    comp = await call(messages)
    answer, source = choose(comp.text, cands, sentences)
    return Reading(answer, source, sentences, cands, comp.text)
