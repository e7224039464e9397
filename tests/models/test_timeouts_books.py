"""What one abandoned attempt puts in the books (`models.timeouts`), counted by hand from the module's stated rule:
its worst case is its prompt by shape (`models.tokens`) and `max_tokens` of output per choice (512 when the body
gives none, one choice when its `n` is missing or not positive), at the pool's prices per million tokens; every
attempt is counted by model, the first of each model is said, and the dollar cap holds one worst case per choice,
a refusal stopping the retry (a last attempt keeps its timeout as the call's error)."""

from __future__ import annotations

import warnings

import pytest

from rolegraph.chat.spec import ModelSpec
from rolegraph.errors import BudgetExceededError
from rolegraph.models.in_flight import CallStats
from rolegraph.models.timeouts import OwnBooks, TimedOutWarning, note_timed_out
from rolegraph.models.tokens import text_tokens

PRICE_IN, PRICE_OUT = 50.0, 100.0  # dollars per million tokens
PROMPT = "What is seven times six? Think it through."


def _spec(model_id: str = "llc/slow") -> ModelSpec:
    return ModelSpec(
        id=model_id,
        backend="openai",
        base_url="http://127.0.0.1:9/v1",
        model="slow",
        timeout_s=1.0,
        price_in=PRICE_IN,
        price_out=PRICE_OUT,
    )


def _body(**extra) -> dict:
    return {"model": "slow", "messages": [{"role": "user", "content": PROMPT}], **extra}


def _dollars(prompt: int, output: int) -> float:
    return (prompt * PRICE_IN + output * PRICE_OUT) / 1e6


class Guard:
    """A spend guard recording what it is asked to hold; `refuse`: it refuses every reservation."""

    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.held: list[tuple[str, int]] = []

    def reserve(self, spec, messages, max_tokens):
        if self.refuse:
            raise BudgetExceededError("the dollar cap is reached")
        self.held.append((messages[0]["content"], max_tokens))
        return object()

    def release(self, held) -> None:  # pragma: no cover - an abandoned attempt's hold is never released
        raise AssertionError("released")


def _said(caught) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, TimedOutWarning)]


def test_every_attempt_is_counted_at_its_worst_case_and_the_first_of_a_model_is_said():
    books = OwnBooks()
    prompt = text_tokens(PROMPT)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # Python's own once-per-place filter must not be what says it once
        for _ in range(3):
            note_timed_out(books, _spec(), _body(max_tokens=100, n=3), 1.0, True)
    stats = books.stats
    assert stats.timed_out == {"llc/slow": 3} and stats.timed_out_attempts == 3
    assert stats.timed_out_usd == pytest.approx(3 * _dollars(prompt, 3 * 100))
    said = _said(caught)
    assert len(said) == 1
    assert "was sent again" in said[0] and f"up to {prompt + 300:,} tokens" in said[0]


def test_each_model_is_said_once_and_counted_apart():
    books = OwnBooks(stats=CallStats())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        note_timed_out(books, _spec("a/one"), _body(max_tokens=10), 1.0, False)
        note_timed_out(books, _spec("b/two"), _body(max_tokens=10), 1.0, False)
        note_timed_out(books, _spec("a/one"), _body(max_tokens=10), 1.0, False)
    assert books.stats.timed_out == {"a/one": 2, "b/two": 1} and books.stats.timed_out_attempts == 3
    said = _said(caught)
    assert len(said) == 2 and all("its call failed" in line for line in said)


def test_a_body_without_max_tokens_or_a_usable_n_is_held_at_512_tokens_of_one_choice():
    books = OwnBooks()
    prompt = text_tokens(PROMPT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        note_timed_out(books, _spec(), _body(n=0), 1.0, True)
    assert books.stats.timed_out_usd == pytest.approx(_dollars(prompt, 512))


def test_the_cap_holds_one_worst_case_per_choice_and_its_refusal_stops_a_retry_only():
    guard = Guard()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        note_timed_out(OwnBooks(spend_guard=guard), _spec(), _body(max_tokens=100, n=3), 1.0, True)
        assert guard.held == [(PROMPT, 100)] * 3
        refusing = OwnBooks(spend_guard=Guard(refuse=True))
        with pytest.raises(BudgetExceededError):
            note_timed_out(refusing, _spec(), _body(max_tokens=100), 1.0, True)  # retried: no retry is sent
        note_timed_out(refusing, _spec(), _body(max_tokens=100), 1.0, False)  # last attempt: its timeout stands
    assert refusing.stats.timed_out == {"llc/slow": 2}
