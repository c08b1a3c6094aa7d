"""Gauges read from the dependencies when ``/metrics`` is scraped (``api.metrics``): whether
the database and the object store answer (``certify_dependency_up``), the desks' queue (open
requests per authority) and the e-mail outbox.

Each read runs in a thread of its own with a deadline, so that a dependency that hangs makes
the scrape say so (``certify_dependency_up`` 0) rather than fail or hang.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from certify.errors import CertifyError

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

    from api.services import Services
    from storage.outbox import OutboxStats

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _DatabaseState:
    queue: dict[str, int]
    outbox: OutboxStats


class Dependencies(Collector):
    """The gauges, read when scraped; a read still hanging from the last scrape is not
    started again (down, without piling up threads)."""

    def __init__(self, services: Callable[[], Services | None], timeout: float) -> None:
        self._services = services
        self._timeout = timeout
        self._reading = {"database": threading.Lock(), "storage": threading.Lock()}

    def describe(self) -> list[Metric]:
        return []  # nothing is read when the collector is registered

    def collect(self) -> Iterator[Metric]:
        services = self._services()
        if services is None:
            return
        now = services.clock.now()
        register = services.register
        results = self._read(
            {
                "database": lambda: _DatabaseState(
                    register.open_request_counts(), register.outbox_stats(now)
                ),
                "storage": services.store.ping,
            }
        )
        up = GaugeMetricFamily(
            "certify_dependency_up",
            "Whether a dependency answered this scrape in time (1) or not (0)",
            labels=("dependency",),
        )
        for name, (answered, _) in results.items():
            up.add_metric((name,), 1.0 if answered else 0.0)
        yield up
        state = results["database"][1]
        if not isinstance(state, _DatabaseState):
            return
        queue = GaugeMetricFamily(
            "certify_desk_queue_depth",
            "Requests received and not finished, per authority",
            labels=("authority",),
        )
        for authority, count in sorted(state.queue.items()):
            queue.add_metric((authority,), float(count))
        yield queue
        outbox = state.outbox
        yield GaugeMetricFamily(
            "certify_mail_outbox_pending", "E-mails not yet sent", value=outbox.pending
        )
        yield GaugeMetricFamily(
            "certify_mail_outbox_failing",
            "E-mails not yet sent that failed at least once",
            value=outbox.failing,
        )
        oldest = outbox.oldest_pending_at
        age = (now - oldest).total_seconds() if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "certify_mail_outbox_oldest_pending_seconds",
            "Age of the oldest e-mail not yet sent (0: none)",
            value=max(0.0, age),
        )

    def _read(self, reads: dict[str, Callable[[], object]]) -> dict[str, tuple[bool, object]]:
        boxes: dict[str, list[object]] = {}
        threads = []
        for name, read in reads.items():
            lock = self._reading[name]
            if not lock.acquire(blocking=False):
                continue
            box: list[object] = []
            boxes[name] = box
            thread = threading.Thread(
                target=_run, args=(name, read, box, lock), name=f"metrics-{name}", daemon=True
            )
            thread.start()
            threads.append(thread)
        deadline = time.monotonic() + self._timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        answers: dict[str, tuple[bool, object]] = {}
        for name in reads:
            got = boxes.get(name)
            answers[name] = (True, got[0]) if got else (False, None)
        return answers


def _run(name: str, read: Callable[[], object], box: list[object], lock: threading.Lock) -> None:
    try:
        box.append(read())
    except CertifyError as exc:
        log.info("metrics: %s did not answer (%s)", name, exc.code)
    except Exception:  # a scrape must report the dependency down, not fail
        log.exception("metrics: reading %s failed", name)
    finally:
        lock.release()
