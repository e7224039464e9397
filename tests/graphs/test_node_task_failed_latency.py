"""A failed node's time on the modelled clock: a transport failure adds the real time its attempts and backoff
took; a budget refusal or a cancellation keeps the modelled time (in-process sim runs stay deterministic)."""

from __future__ import annotations

import asyncio

from rolegraph.errors import BudgetExceededError
from rolegraph.graphs.node_task import _failed_latency
from rolegraph.models.openai_errors import ModelCallError


def test_a_transport_failure_adds_the_time_spent_on_attempts():
    assert _failed_latency(ModelCallError("call failed after 6 attempts", status=500), 1.25, 20.0) == 21.25


def test_a_budget_stop_keeps_its_modelled_time():
    assert _failed_latency(BudgetExceededError("dollar cap"), 1.25, 20.0) == 1.25


def test_a_cancellation_keeps_its_modelled_time():
    assert _failed_latency(asyncio.CancelledError(), 1.25, 20.0) == 1.25
