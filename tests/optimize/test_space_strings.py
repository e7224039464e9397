"""`SearchSpace` refuses a bare str for `models` or `roles` (it was read as one id per character)."""
from __future__ import annotations

import pytest

from rolegraph.errors import SearchError
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.space import SearchSpace


@pytest.mark.parametrize(("field", "value"), [("models", "sim/llama-3.2-1b"), ("roles", "solver")])
def test_a_bare_string_is_refused_saying_to_pass_a_list(field, value):
    args = {"models": ("sim/llama-3.2-1b",), field: value}
    with pytest.raises(SearchError) as info:
        SearchSpace(pool=ModelPool.builtin(), **args)
    message = str(info.value)
    assert f"{field} must be a list of ids" in message and f"['{value}']" in message and "\n" not in message
