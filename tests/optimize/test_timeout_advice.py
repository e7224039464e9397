"""The advice a search stopped by a timed-out call gives: raise `timeout_s` in the pool file and resume, which
a resume now accepts (`input_files.REQUEST_SETTINGS`); before, it said only "fix the cause and continue with
--resume", and the one fix at hand (the pool file) was refused by that resume."""
from __future__ import annotations

import pytest

from rolegraph.models.openai_errors import RESUME_ADVICE, TIMEOUT_ADVICE, failure_advice
from rolegraph.optimize.input_files import REQUEST_SETTINGS

NODE = "node 'out' (solver on llc/smol) failed: ModelCallError: model 'llc/smol' call failed after "


@pytest.mark.parametrize("attempts", ["3 attempts", "1 attempt"])
def test_a_call_that_timed_out_is_told_to_raise_timeout_s_and_resume(attempts):
    advice = failure_advice(NODE + attempts + ": timed out after 3 s")
    assert "raise its timeout_s in the pool file" in advice
    assert advice.endswith("continue with --resume")


def test_other_failures_keep_the_plain_advice():
    assert failure_advice(NODE + "3 attempts: connection refused at http://127.0.0.1:9/v1") == RESUME_ADVICE
    assert failure_advice("tool web_search: timed out after 3s") == RESUME_ADVICE  # not a model call's timeout


def test_what_the_advice_says_a_resume_accepts_is_what_it_accepts():
    for name in ("timeout_s", "max_retries"):
        assert name in TIMEOUT_ADVICE
        assert name in REQUEST_SETTINGS
