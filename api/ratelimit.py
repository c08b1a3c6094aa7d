"""Per-client rate limits on the public endpoints (settings, in the ``limits`` notation).

Counts are kept in this process (moving windows, the ``limits`` package): several replicas
each count their own share, which is what a per-replica limit behind a load balancer means.
"""

from __future__ import annotations

import math
import time

from fastapi import Request
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from certify.errors import RateLimitedError


def _retry_after(limiter: MovingWindowRateLimiter, item: RateLimitItem, *keys: str) -> int:
    """Whole seconds until the window of ``item`` for ``keys`` has room again (at least 1)."""
    stats = limiter.get_window_stats(item, *keys)
    return max(1, math.ceil(stats.reset_time - time.time()))


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
                raise RateLimitedError(
                    retry_after=_retry_after(self._limiter, item, self._scope, client)
                )


class LoginThrottle:
    """Failed logins counted per account and per client address (moving windows): past a
    limit, logins are refused before the password is even checked, for either key.

    Only failures count, so an officer who types the password right is never slowed."""

    def __init__(self, per_account: str, per_address: str) -> None:
        self._limits = {
            "account": parse_many(per_account) if per_account.strip() else [],
            "address": parse_many(per_address) if per_address.strip() else [],
        }
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def _keys(self, username: str, address: str) -> list[tuple[str, str]]:
        return [("account", username.casefold()), ("address", address)]

    def check(self, username: str, address: str) -> None:
        """Raises RateLimitedError when the account or the address is over a limit."""
        for scope, key in self._keys(username, address):
            for item in self._limits[scope]:
                if not self._limiter.test(item, "login", scope, key):
                    raise RateLimitedError(
                        "Đăng nhập sai quá nhiều lần; hãy thử lại sau. / Too many failed "
                        "logins; try again later.",
                        code="login_throttled",
                        retry_after=_retry_after(self._limiter, item, "login", scope, key),
                    )

    def failed(self, username: str, address: str) -> None:
        """Count one failed login of the account and of the address."""
        for scope, key in self._keys(username, address):
            for item in self._limits[scope]:
                self._limiter.hit(item, "login", scope, key)
