"""The Gaussian-process variant's statistical agent (`agent-reinforce:gp`): its pilot feedback's text."""
from __future__ import annotations

from rolegraph.optimize.statistical_agent_gp import StatisticalFeedbackAgent

from .helpers import tiny_space
from .test_statistical_agent import _pilot


def test_a_pilot_row_that_scored_zero_is_never_said_to_have_helped(pool):
    space = tiny_space(pool)  # 1B, 3B, 8B: only the 3B scored anything
    gradient = StatisticalFeedbackAgent().initial_sync(_pilot(space, [0.0, 0.75, 0.0])).gradient
    pilot_helped = [line for line in gradient.helped if line.startswith("single ")]
    pilot_hurt = [line.split(":")[0] for line in gradient.hurt if line.startswith("single ")]
    assert pilot_helped == ["single llama-3.2-3b: objective 0.750 (accuracy 0.75, cost 1)"]
    assert pilot_hurt == ["single llama-3.1-8b", "single llama-3.2-1b"]
