"""Seeded fault injection for the loopback server: the failures a real endpoint produces.

The client's retry policy is only trustworthy if it has met every failure it claims to handle,
so the server can answer a seeded fraction of requests with one of them instead of a completion.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass, field

from rolegraph.errors import RolegraphError

FAULT_KINDS: tuple[str, ...] = ("429", "500", "503", "timeout", "reset", "garbage", "truncated", "empty")
DEFAULT_RETRY_AFTER_S = 1.0
DEFAULT_HANG_S = 150.0  # longer than the OpenAI backend's default client timeout
RESET_LOG_LINE = "ASGI callable returned without completing response."


class FaultConfigError(RolegraphError):
    """Bad --fault-rate / --faults input."""


@dataclass(frozen=True)
class FaultConfig:
    """rate: fraction of chat requests that fail; kinds: failures drawn uniformly; seed: the draw's seed;
    timeout_s: how long a `timeout` fault hangs (set it above the client's timeout);
    retry_after_s: the Retry-After a `429` carries."""

    rate: float
    kinds: list[str] = field(default_factory=lambda: list(FAULT_KINDS))
    seed: int = 0
    timeout_s: float = DEFAULT_HANG_S
    retry_after_s: float = DEFAULT_RETRY_AFTER_S

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise FaultConfigError(f"fault rate must be between 0 and 1, got {self.rate}")
        if self.rate > 0 and not self.kinds:
            raise FaultConfigError("a fault rate above 0 needs at least one fault kind")
        unknown = [k for k in self.kinds if k not in FAULT_KINDS]
        if unknown:
            raise FaultConfigError(f"unknown fault kind(s) {', '.join(unknown)}; choose from {','.join(FAULT_KINDS)}")
        if self.timeout_s <= 0 or self.retry_after_s < 0:
            raise FaultConfigError("fault timeout must be > 0 and retry-after >= 0 seconds")

    @classmethod
    def parse(
        cls,
        rate: float,
        kinds: str | None,
        seed: int = 0,
        timeout_s: float = DEFAULT_HANG_S,
        retry_after_s: float = DEFAULT_RETRY_AFTER_S,
    ) -> FaultConfig:
        """From CLI text: `kinds` is a comma list such as '429,500,timeout' (None or '' = all kinds)."""
        names = [k.strip() for k in (kinds or "").split(",") if k.strip()] or list(FAULT_KINDS)
        return cls(rate=rate, kinds=names, seed=seed, timeout_s=timeout_s, retry_after_s=retry_after_s)


class FaultPlan:
    """Decides, request by request, whether to inject a fault and which one.

    The draws come from one seeded generator, so the n-th request always gets the same decision;
    a lock keeps the sequence intact when the server runs handlers from several threads.
    """

    def __init__(self, config: FaultConfig | None):
        self.config = config
        self._rng = random.Random(config.seed if config else 0)
        self._lock = threading.Lock()

    def next_fault(self) -> str | None:
        cfg = self.config
        if cfg is None or cfg.rate <= 0:
            return None
        with self._lock:
            hit = self._rng.random() < cfg.rate
            kind = self._rng.choice(cfg.kinds)
        return kind if hit else None


class InjectedResetFilter(logging.Filter):
    """Silences uvicorn's complaint about the connections a `reset` fault drops on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != RESET_LOG_LINE


def quiet_injected_resets(logger_name: str = "uvicorn.error") -> None:
    """Attach the filter once; idempotent so repeated servers in one process do not stack filters."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, InjectedResetFilter) for f in logger.filters):
        logger.addFilter(InjectedResetFilter())
