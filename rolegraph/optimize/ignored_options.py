"""Constructor options the default Agent-REINFORCE takes but does not use, so that code and stored runs written
for the earlier agents (`agent-reinforce:gp`, `agent-reinforce:v1`) still work: checked, said to do nothing,
and never stored with a run as if they mattered."""

from __future__ import annotations

import warnings
from typing import Any

from rolegraph.errors import RolegraphWarning, SearchError

PILOT_BATCH_UNUSED = frozenset({"agent-reinforce", "agent-reinforce:pilot-only", "agent-reinforce:no-identify"})
"""The optimizer names built on the racing agent, whose pilot runs as the loop's first iterations on the loop's
batches (`SearchConfig.batch`), so `pilot_batch` changes nothing."""


class IgnoredOptionWarning(RolegraphWarning):
    """An option given to an optimizer that does not use it (`refuse_or_warn_pilot_batch`): said, not dropped
    silently, and filterable by its own class."""


def refuse_or_warn_pilot_batch(pilot_batch: object) -> None:
    """A `pilot_batch` given to the racing agent: a value no agent could use is refused (SearchError), a usable
    one is warned about, since silently taking it would let a user believe it sized the pilot."""
    if pilot_batch is None:
        return
    if isinstance(pilot_batch, bool) or not isinstance(pilot_batch, int) or pilot_batch < 1:
        raise SearchError(f"pilot_batch must be a whole number of items >= 1, got {pilot_batch!r}")
    warnings.warn(
        f"AgentReinforce ignores pilot_batch={pilot_batch}: its pilot runs as the search's first iterations on "
        "SearchConfig.batch items; drop the argument (only agent-reinforce:gp and agent-reinforce:v1 use it)",
        IgnoredOptionWarning,
        stacklevel=3,  # past this function and AgentReinforce.__init__: the line that built it
    )


def stored_options(name: str, options: dict[str, Any]) -> dict[str, Any]:
    """A run's stored optimizer options as its optimizer takes them again: runs of the racing agent stored before
    `pilot_batch` left its config still carry it, and reopening them must not warn about an argument the user
    cannot drop."""
    if name in PILOT_BATCH_UNUSED:
        return {k: v for k, v in options.items() if k != "pilot_batch"}
    return options
