"""Prometheus metrics of one app (issue 13.5), shown by ``GET /metrics``.

What is counted, each a ``certify_…`` family: HTTP requests by method, route template and
status with their latency; certifications by outcome (``issued``, ``refused`` with the
error's code) with their latency; verifications by verdict and source (``upload``,
``token``) with their latency; refusals (4xx error answers) by code; storage and database
errors by code. Read at each scrape, with a short deadline so that a dependency that hangs
makes the scrape say so (``certify_dependency_up`` 0) rather than fail: the desks' queue (open
requests per authority), the e-mail outbox, and whether the database and the object store
answer.

A route is named by its template (``/v/{token}``), never by the path asked for: ``/v/…``,
``/t/…`` and ``/d/…`` hold secrets, and every path a scanner tries would be a new series.

Several worker processes (``certify serve --workers N``) set ``PROMETHEUS_MULTIPROC_DIR``:
each process then writes its values to files there and ``/metrics``, whichever worker
answers, sums them (prometheus_client's multiprocess mode). The directory must be emptied
before the workers start.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Final

from prometheus_client import CollectorRegistry, Counter, Histogram, values
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.dependency_metrics import Dependencies
from certify.errors import CertifyError, DatabaseUnavailableError, StorageUnavailableError

if TYPE_CHECKING:
    from api.services import Services
    from certify.verdicts import Verification


MULTIPROC_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED: Final = "unmatched"  # the route label of a request no route took (404)
_METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Signing, time-stamping and storing a copy takes seconds; a full validation of an upload
# runs up to verify_timeout_seconds.
_CERTIFY_BUCKETS: Final = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 120.0)
_VERIFY_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0)


class Metrics:
    """The counters of one app and the registry ``/metrics`` exposes (its own, so that apps
    built side by side in one process do not clash)."""

    def __init__(
        self,
        services: Callable[[], Services | None] = lambda: None,
        *,
        read_timeout_seconds: float = 2.0,
    ) -> None:
        """Args:
        services: the app's services, or None before start-up (nothing is then read).
        read_timeout_seconds: how long a scrape waits for the database and the store.
        """
        self.registry = CollectorRegistry()
        directory = os.environ.get(MULTIPROC_ENV)
        own: CollectorRegistry | None = self.registry
        if directory:
            _use_multiprocess_values()
            MultiProcessCollector(self.registry, path=directory)  # type: ignore[no-untyped-call]
            own = None  # the values live in the directory's files, which the collector sums
        self.http_requests = Counter(
            "certify_http_requests",
            "HTTP requests answered, by method, route template and status",
            ("method", "route", "status"),
            registry=own,
        )
        self.http_seconds = Histogram(
            "certify_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template",
            ("method", "route"),
            registry=own,
        )
        self.certifications = Counter(
            "certify_certifications",
            "Certifications at the desk: issued, refused (with the error's code) or error",
            ("outcome", "code"),
            registry=own,
        )
        self.certification_seconds = Histogram(
            "certify_certification_duration_seconds",
            "Time to certify one original (build, sign, store), by outcome",
            ("outcome",),
            buckets=_CERTIFY_BUCKETS,
            registry=own,
        )
        self.verifications = Counter(
            "certify_verifications",
            "Public verifications answered, by verdict and source (upload, token)",
            ("verdict", "source"),
            registry=own,
        )
        self.verification_seconds = Histogram(
            "certify_verification_duration_seconds",
            "Time to verify a copy, by source",
            ("source",),
            buckets=_VERIFY_BUCKETS,
            registry=own,
        )
        self.refusals = Counter(
            "certify_refusals",
            "Requests refused (4xx error answers), by error code and status",
            ("code", "status"),
            registry=own,
        )
        self.storage_errors = Counter(
            "certify_storage_errors",
            "Answers that failed because the object store was unavailable, by code",
            ("code",),
            registry=own,
        )
        self.database_errors = Counter(
            "certify_database_errors",
            "Answers that failed because the register database was unavailable, by code",
            ("code",),
            registry=own,
        )
        self.registry.register(Dependencies(services, read_timeout_seconds))

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in _METHODS else "other"
        self.http_requests.labels(method, route, str(status)).inc()
        self.http_seconds.labels(method, route).observe(seconds)

    def certification(self, outcome: str, code: str, seconds: float) -> None:
        self.certifications.labels(outcome, code).inc()
        self.certification_seconds.labels(outcome).observe(seconds)

    def verification(self, verdict: str, source: str, seconds: float) -> None:
        self.verifications.labels(verdict, source).inc()
        self.verification_seconds.labels(source).observe(seconds)

    def error(self, status: int, code: str, error: BaseException | None = None) -> None:
        """An error answer: a refusal if 4xx; a storage or database error by its type."""
        if 400 <= status < 500:
            self.refusals.labels(code, str(status)).inc()
        if isinstance(error, StorageUnavailableError):
            self.storage_errors.labels(code).inc()
        elif isinstance(error, DatabaseUnavailableError):
            self.database_errors.labels(code).inc()

    def exposition(self, accept: str = "") -> tuple[bytes, str]:
        """The registry and its media type: the Prometheus text format, or OpenMetrics when
        ``accept`` (the scraper's Accept header) asks for it. Blocking: it reads the
        dependencies."""
        encode, media_type = choose_encoder(accept)
        return encode(self.registry), media_type


def _use_multiprocess_values() -> None:
    """prometheus_client chooses where values live when it is imported; a process whose
    environment got ``PROMETHEUS_MULTIPROC_DIR`` later switches once (one process, one mode)."""
    if not getattr(values.ValueClass, "_multiprocess", False):
        values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]


# --- hooks for the routes -------------------------------------------------------------------


def metrics_of(request: Request) -> Metrics | None:
    metrics = getattr(request.app.state, "metrics", None)
    return metrics if isinstance(metrics, Metrics) else None


@contextmanager
def observe_certification(request: Request) -> Iterator[None]:
    """Count and time the certification the block runs (``issued`` when it returns)."""
    metrics = metrics_of(request)
    started = time.perf_counter()
    try:
        yield
    except CertifyError as exc:
        if metrics is not None:
            metrics.certification("refused", exc.code, time.perf_counter() - started)
        raise
    except Exception:
        if metrics is not None:
            metrics.certification("error", "internal_error", time.perf_counter() - started)
        raise
    if metrics is not None:
        metrics.certification("issued", "", time.perf_counter() - started)


def record_verification(request: Request, verification: Verification, started: float) -> None:
    """Count a verdict; ``started`` is the ``time.perf_counter()`` when the work began."""
    metrics = metrics_of(request)
    if metrics is not None:
        seconds = time.perf_counter() - started
        metrics.verification(verification.verdict, verification.method, seconds)


def record_error(
    request: Request, status: int, code: str, error: BaseException | None = None
) -> None:
    """Count an error answer (what ``api.errors``' handlers and the pages answer)."""
    metrics = metrics_of(request)
    if metrics is not None:
        metrics.error(status, code, error)


class RequestMetrics:
    """Counts and times every HTTP request by its route's template (a plain ASGI
    middleware: the router leaves the route it chose in ``scope["route"]``)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            seconds = time.perf_counter() - started
            self.metrics.request(scope["method"], route_template(scope), status, seconds)


def route_template(scope: Scope) -> str:
    """The matched route's path template (``/v/{token}``), or ``unmatched``."""
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED
