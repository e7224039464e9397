"""Seeded randomness for the simulator: every draw is a hash of what it is about, never a shared RNG.

A hash-based draw does not depend on the order in which things are asked, so adding a call, a
model or a world parameter never shifts the draws of anything else; the same parts give the same
number on every run and machine.
"""

from __future__ import annotations

import hashlib
from statistics import NormalDist

_NORMAL = NormalDist()
_UNIT = 2.0**64
_DIGEST_BYTES = 8


def unit_hash(*parts: object) -> float:
    """A uniform number in (0, 1) determined by `parts` (stable across runs and machines)."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=_DIGEST_BYTES).digest()
    return (int.from_bytes(digest, "big") + 0.5) / _UNIT


def normal_hash(*parts: object) -> float:
    """A standard normal number determined by `parts`."""
    return _NORMAL.inv_cdf(unit_hash(*parts))


def normal_quantile(u: float) -> float:
    """The standard normal quantile of a uniform `u` in (0, 1)."""
    return _NORMAL.inv_cdf(u)


class Draws:
    """A stream of uniforms determined by a call's parts (and the sample index when temperature > 0).

    One blake2b digest gives eight uniforms; a further block is hashed only when they run out.
    """

    _PER_BLOCK = 8
    _BLOCK_BYTES = 64

    def __init__(self, *parts: object):
        self._base = "\x1f".join(map(str, parts)).encode()
        self._block = 0
        self._buf: list[int] = []

    def next(self) -> float:
        if not self._buf:
            digest = hashlib.blake2b(
                self._base + self._block.to_bytes(4, "big"), digest_size=self._BLOCK_BYTES
            ).digest()
            self._block += 1
            step = self._BLOCK_BYTES // self._PER_BLOCK
            self._buf = [int.from_bytes(digest[i : i + step], "big") for i in range(56, -8, -8)]
        return (self._buf.pop() + 0.5) / _UNIT
