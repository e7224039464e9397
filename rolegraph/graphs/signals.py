"""What a deployment can observe about one run, without the gold answer: the signals a router stops on.

- agreement: the share of the graph's other answering nodes (solvers, verifiers, fusers that ran) whose
  answer equals the output's. Self-consistency's signal (Wang et al. 2023; Aggarwal et al. 2023): the
  larger the majority behind an answer, the likelier it is right. None when the graph has no other
  answering node.
- verified: a verifier's verdict on the final answer: True when verdicts bear on it and all say
  correct, False when one says incorrect, None when no verifier judged a candidate with that answer.
- parsable: the output gave an answer at all (an unparsable reply is a failure a router escalates).
- logprob: the output node's mean token log-probability, when its endpoint returned them.

A plurality stage (rolegraph.graphs.router) has no output node of its own: its answer is the plurality of its
voters' (`plurality_voter` picks the voter that speaks for it), and its signals are observed as if that voter
were the output.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from pydantic import BaseModel

from rolegraph.graphs.result import RunResult

ANSWERING_ROLES = frozenset({"solver", "verifier", "fuser"})
VERDICT_OK = "correct"
_NUMBER = re.compile(r"^[-+]?\$?\d[\d,]*(\.\d+)?$")


class Signals(BaseModel):
    agreement: float | None = None
    verified: bool | None = None
    parsable: bool = False
    logprob: float | None = None


def answer_form(answer: str | None) -> str | None:
    """The form two answers are compared in: case and spacing ignored, numbers by value ("1,000" == "1000.0")."""
    if answer is None:
        return None
    text = " ".join(answer.split()).casefold().rstrip(".")
    if _NUMBER.match(text):
        value = float(text.replace(",", "").replace("$", ""))
        return str(int(value)) if value.is_integer() else repr(value)
    return text


def observe(run: RunResult) -> Signals:
    """The signals of one graph run (see the module docstring)."""
    final = answer_form(run.answer)
    others = [n for n in run.nodes if n.id != run.output_node and n.role in ANSWERING_ROLES and n.error is None]
    agreement = sum(1 for n in others if answer_form(n.answer) == final) / len(others) if others else None
    by_id = {n.id: n for n in run.nodes}
    judged = [
        verdict
        for n in run.nodes
        for target, verdict in n.verdicts.items()
        if target in by_id and answer_form(by_id[target].answer) == final
    ]
    verified = all(v == VERDICT_OK for v in judged) if judged and final is not None else None
    output = by_id.get(run.output_node)
    return Signals(
        agreement=agreement if final is not None else (0.0 if others else None),
        verified=verified,
        parsable=final is not None,
        logprob=output.logprob if output is not None else None,
    )


def plurality_voter(answers: Sequence[tuple[str, str | None]]) -> str | None:
    """The id of the voter that speaks for the plurality of `answers` ((voter id, answer) in edge order): the
    first voter giving the most common parsable answer (ties: the answer given first). None: no voter answered."""
    forms = [(voter, answer_form(answer)) for voter, answer in answers]
    counts = Counter(form for _, form in forms if form is not None)
    if not counts:
        return None
    top = max(counts.values())
    return next(voter for voter, form in forms if form is not None and counts[form] == top)
