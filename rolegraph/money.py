"""How a dollar amount is written everywhere it is shown (tables, reports, estimates, `validate`): one rule at
the package root, so every layer can use it and two places cannot disagree about a sim model's few millionths
of a dollar."""

from __future__ import annotations

import math

MONEY_FIGURES = 3
"""Significant figures of an amount under a dollar: a sim or local model's cost per item is a few millionths
of a dollar, which four or five decimals would show as zero."""
CENT_DIGITS = 2
MONEY_FLOOR = 1e-9
"""Amounts under this read "<$0.000000001" rather than run on: no price is that precise."""


def money(amount: float, symbol: str = "$") -> str:
    """A dollar amount for a report or a table: cents from a dollar up, else up to MONEY_FIGURES significant figures
    ("$0.00000392"), so a nonzero cost never reads as zero; an actual 0 is "$0". A negative amount keeps its sign
    at every size ("-<$0.000000001" under the floor): a refund or a float's residue must not read as a cost."""
    size = abs(amount)
    if size == 0:
        return f"{symbol}0"
    sign = "-" if amount < 0 else ""
    if size < MONEY_FLOOR:
        return f"{sign}<{symbol}{MONEY_FLOOR:.{-math.floor(math.log10(MONEY_FLOOR))}f}"
    text = f"{size:.{max(CENT_DIGITS, MONEY_FIGURES - 1 - math.floor(math.log10(size)))}f}"
    whole, _, part = text.partition(".")
    text = f"{whole}.{part.rstrip('0').ljust(CENT_DIGITS, '0')}"  # $0.0031, not $0.00310; $0.50, not $0.5
    return f"{sign}{symbol}{text}"
