"""rolegraph.evaluate: run a graph over task items, score it, store it, compare it.

The runner and the store are imported on first use, so importing the result types stays cheap.
"""

from __future__ import annotations

from typing import Any

from rolegraph.evaluate.result import EvalResult, ItemScore, NodeStats, NodeUsage

_LAZY = {
    "evaluate": "rolegraph.evaluate.runner",
    "evaluate_sync": "rolegraph.evaluate.runner",
    "ResultsStore": "rolegraph.evaluate.store",
    "compare": "rolegraph.evaluate.report",
    "Comparison": "rolegraph.evaluate.report",
}

__all__ = ["EvalResult", "ItemScore", "NodeStats", "NodeUsage", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rolegraph.evaluate' has no attribute '{name}'")
