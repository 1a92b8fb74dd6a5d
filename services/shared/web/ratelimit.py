"""Failure-based rate limit: a client that keeps presenting bad credentials gets 429 for a while."""

from __future__ import annotations

import time
from collections import OrderedDict


class FailureLimiter:
    """Sliding window of failures per client key; in-process, bounded memory."""

    def __init__(self, max_failures: int = 20, window_seconds: float = 60.0, max_keys: int = 10_000) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self.max_keys = max_keys
        self._hits: OrderedDict[str, list[float]] = OrderedDict()

    def _recent(self, key: str, now: float) -> list[float]:
        hits = [t for t in self._hits.get(key, ()) if now - t < self.window]
        if hits:
            self._hits[key] = hits
            self._hits.move_to_end(key)
        else:
            self._hits.pop(key, None)
        return hits

    def blocked(self, key: str, now: float | None = None) -> bool:
        return len(self._recent(key, time.monotonic() if now is None else now)) >= self.max_failures

    def fail(self, key: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        hits = self._recent(key, now)
        hits.append(now)
        self._hits[key] = hits
        self._hits.move_to_end(key)
        while len(self._hits) > self.max_keys:
            self._hits.popitem(last=False)
