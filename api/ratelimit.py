"""Per-client rate limits on the public endpoints (settings, in the ``limits`` notation).

Counts are kept in this process (moving windows, the ``limits`` package): several replicas
each count their own share, which is what a per-replica limit behind a load balancer means.
"""

from __future__ import annotations

import math
import time

from fastapi import Request
from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from certify.errors import RateLimitedError


class RateLimiter:
    """A limit such as ``"30/minute;500/hour"`` per client address (empty: no limit)."""

    def __init__(self, spec: str, *, scope: str) -> None:
        self._items = parse_many(spec) if spec.strip() else []
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._scope = scope

    def check(self, request: Request) -> None:
        """Count one request of the client.

        Raises:
            RateLimitedError: over a limit; ``retry_after`` says for how many seconds.
        """
        client = request.client.host if request.client else "unknown"
        for item in self._items:
            if not self._limiter.hit(item, self._scope, client):
                stats = self._limiter.get_window_stats(item, self._scope, client)
                raise RateLimitedError(
                    retry_after=max(1, math.ceil(stats.reset_time - time.time()))
                )
