"""rolegraph.evaluate: run a graph over task items, score it, store it, compare it.

The runner and the store are imported on first use, so importing the result types stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rolegraph.evaluate.result import EvalResult, ItemScore, ItemsFailedError, NodeStats, NodeUsage

_LAZY = {
    "evaluate": "rolegraph.evaluate.runner",
    "evaluate_sync": "rolegraph.evaluate.runner",
    "ResultsStore": "rolegraph.evaluate.store",
    "compare": "rolegraph.evaluate.paired_stats",
    "Comparison": "rolegraph.evaluate.paired_stats",
}

__all__ = ["EvalResult", "ItemScore", "ItemsFailedError", "NodeStats", "NodeUsage", *_LAZY]

if TYPE_CHECKING:  # the lazy names, typed for mypy and editors (no import at run time)
    from rolegraph.evaluate.paired_stats import Comparison as Comparison
    from rolegraph.evaluate.paired_stats import compare as compare
    from rolegraph.evaluate.runner import evaluate as evaluate
    from rolegraph.evaluate.runner import evaluate_sync as evaluate_sync
    from rolegraph.evaluate.store import ResultsStore as ResultsStore


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rolegraph.evaluate' has no attribute '{name}'")


def __dir__() -> list[str]:
    """The lazy names too, so completion in a shell or notebook offers them."""
    return sorted({*globals(), *__all__})
