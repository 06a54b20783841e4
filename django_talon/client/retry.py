"""When and how long to wait before repeating a call: the retry policy.

Retries are decided in one place (:mod:`.transport`) from this policy plus the operation's
own "safe to repeat" flag (see :mod:`.client` and docs/client.md): a policy never makes an
unsafe operation retry. The delay is "full jitter" exponential backoff
(``random() * min(backoff_max, backoff_base * 2**(attempt-1))``) so that many workers hit by
the same outage or the same 409 do not come back in lockstep.
"""

from __future__ import annotations

import random as _random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

__all__ = ["DEFAULT_RETRY_STATUSES", "RetryPolicy"]

#: 409 = "another request is updating this session/profile", 5xx = transient server trouble.
DEFAULT_RETRY_STATUSES: frozenset[int] = frozenset({409, *range(500, 600)})


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff and jitter.

    ``max_attempts`` counts the first try (``1`` = never retry). ``sleep`` and ``random`` are
    injectable so tests can assert delays without sleeping.
    """

    max_attempts: int = 3
    backoff_base: float = 0.25
    backoff_max: float = 4.0
    retry_statuses: frozenset[int] = DEFAULT_RETRY_STATUSES
    retry_connection_errors: bool = True
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    random: Callable[[], float] = field(default=_random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if self.backoff_base < 0 or self.backoff_max < 0:
            raise ValueError("backoff_base and backoff_max must be >= 0")

    @classmethod
    def none(cls) -> RetryPolicy:
        """A policy that never retries (e.g. for the quick attempt right after a commit)."""
        return cls(max_attempts=1)

    def with_changes(self, **changes: object) -> RetryPolicy:
        """Return a copy with some fields changed (``dataclasses.replace``)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.backoff_max, self.backoff_base * (2.0 ** max(attempt - 1, 0)))
        fraction = float(self.random())
        return max(0.0, min(ceiling, fraction * ceiling))

    def retries_status(self, status: int) -> bool:
        """Whether an answer with this status is worth another attempt."""
        return status in self.retry_statuses
