"""Token buckets keyed by IP or address, on the caller's clock (milliseconds). Pure."""

from __future__ import annotations

import math


class RateLimiter:
    """`capacity` requests at once per key, refilled at `per_minute`; at most `max_keys` buckets
    are kept (full ones are dropped first, then the oldest), so memory stays bounded."""

    def __init__(self, capacity: int, per_minute: float, max_keys: int = 100_000) -> None:
        self.capacity = float(capacity)
        self.per_ms = per_minute / 60_000
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, int]] = {}  # key -> (tokens, at_ms)

    def _level(self, key: str, now_ms: int) -> float:
        tokens, at = self._buckets.get(key, (self.capacity, now_ms))
        return min(self.capacity, tokens + max(0, now_ms - at) * self.per_ms)

    def take(self, key: str, now_ms: int) -> int:
        """Spend one token: 0 if allowed, else the milliseconds until one is available."""
        tokens = self._level(key, now_ms)
        if tokens < 1:
            return math.ceil((1 - tokens) / self.per_ms)
        self._buckets.pop(key, None)
        self._buckets[key] = (tokens - 1, now_ms)
        if len(self._buckets) > self.max_keys:
            self._evict(now_ms)
        return 0

    def _evict(self, now_ms: int) -> None:
        full = [k for k in self._buckets if self._level(k, now_ms) >= self.capacity]
        for key in full:
            del self._buckets[key]
        while len(self._buckets) > self.max_keys:
            del self._buckets[next(iter(self._buckets))]
