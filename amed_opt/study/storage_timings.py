"""How long workers wait on each other through the storage (heartbeats, stale trials, locks)."""

from __future__ import annotations

import math
from dataclasses import dataclass


__all__ = [
    "DEFAULT_TIMINGS",
    "GRACE_PERIOD_S",
    "HEARTBEAT_INTERVAL_S",
    "SQLITE_TIMEOUT_S",
    "StorageTimings",
]

# A killed worker's RUNNING trial is marked FAIL once its heartbeat is this old (seconds).
HEARTBEAT_INTERVAL_S = 5
GRACE_PERIOD_S = 20
# Seconds an SQLite connection waits for another process's lock before failing.
SQLITE_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class StorageTimings:
    """How long workers wait on each other through the storage.

    Attributes:
        heartbeat_interval_s: Seconds between a running trial's heartbeats.
        grace_period_s: Seconds without a heartbeat after which a RUNNING trial is stale (its
            worker is taken for dead and the trial failed); more than the interval.
        sqlite_timeout_s: Seconds an SQLite connection waits for another process's lock.

    Raises:
        ValueError: If a time is not positive, or the grace is not longer than the interval.
    """

    heartbeat_interval_s: int = HEARTBEAT_INTERVAL_S
    grace_period_s: int = GRACE_PERIOD_S
    sqlite_timeout_s: float = SQLITE_TIMEOUT_S

    def __post_init__(self) -> None:
        for name in ("heartbeat_interval_s", "grace_period_s", "sqlite_timeout_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not (
                isinstance(value, int | float) and math.isfinite(value) and value > 0
            ):
                raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
        if self.grace_period_s <= self.heartbeat_interval_s:
            raise ValueError(
                f"grace_period_s ({self.grace_period_s}) must exceed heartbeat_interval_s "
                f"({self.heartbeat_interval_s})"
            )


DEFAULT_TIMINGS = StorageTimings()
