"""Full validations of uploads in worker processes, under limits (issue 7: hostile input is
normal on the public endpoint).

Each validation runs in a pebble worker process whose address space is capped (RLIMIT_AS)
and is killed when it runs past its time limit; pebble replaces a killed or crashed worker.
Deflate bombs, reference loops and huge object counts thus end as ``unreadable`` within the
limit instead of holding a worker or the server.
"""

from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
import resource
from collections.abc import Callable

import pebble

from certify.ports import Clock
from certify.verdicts import Validation
from certify.verification import TrustAnchors, unreadable, validate_pdf

log = logging.getLogger(__name__)


def _limit_worker(memory_bytes: int) -> None:
    """Worker start-up: cap the address space, and keep pyHanko's tracebacks about hostile
    signatures out of the logs (they are verdicts, reported as such)."""
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    logging.basicConfig(level=logging.WARNING)
    for name in ("pyhanko", "pyhanko_certvalidator", "fontTools"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


class ValidationPool:
    """A :class:`certify.verifier.Check` that validates in worker processes."""

    def __init__(
        self,
        trust: Callable[[], TrustAnchors],
        clock: Clock,
        *,
        workers: int,
        timeout_seconds: float,
        memory_bytes: int,
    ) -> None:
        self._trust = trust
        self._clock = clock
        self._timeout = timeout_seconds
        # spawn: the server process has threads (uvicorn, anyio); forking it is unsafe.
        self._pool = pebble.ProcessPool(
            max_workers=max(1, workers),
            initializer=_limit_worker,
            initargs=(memory_bytes,),
            context=multiprocessing.get_context("spawn"),
        )

    def __call__(
        self, data: bytes, *, base_length: int | None = None, analyse_changes: bool = True
    ) -> Validation:
        now = self._clock.now()
        future = self._pool.schedule(
            validate_pdf,
            args=(data, self._trust()),
            kwargs={"now": now, "base_length": base_length, "analyse_changes": analyse_changes},
            timeout=self._timeout,
        )
        try:
            result: Validation = future.result()
        except concurrent.futures.TimeoutError:
            log.warning("validation stopped at its time limit (%.0f s)", self._timeout)
            return unreadable(data, now=now)
        except pebble.ProcessExpired as exc:
            log.warning("validation worker died (exit code %s); replaced", exc.exitcode)
            return unreadable(data, now=now)
        except MemoryError:
            return unreadable(data, now=now)
        except Exception:  # e.g. a result that could not be sent back: still a verdict
            log.warning("validation worker failed", exc_info=True)
            return unreadable(data, now=now, reason="malformed_pdf")
        return result

    def close(self) -> None:
        self._pool.stop()  # type: ignore[no-untyped-call]
        self._pool.join(timeout=10)
