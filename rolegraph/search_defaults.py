"""A search's default sizes, in a module that imports nothing: `SearchConfig` (rolegraph.optimize.context) and
the `optimize` command's options both state them from here, so the CLI's defaults cannot drift from the
library's, and the command line can show them without importing the search (numpy, the model hub)."""

from __future__ import annotations

DEFAULT_ITERATIONS = 10
DEFAULT_SAMPLES = 4
"""Graphs sampled per iteration (K)."""
DEFAULT_BATCH = 16
"""Training items each sampled graph is scored on per iteration."""
DEFAULT_VALIDATION_ITEMS = 48
"""Re-check reserve per top candidate."""
DEFAULT_TEST_ITEMS = 100
"""Held-out items the chosen graph (and the baselines) are scored on."""
