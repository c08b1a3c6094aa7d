"""The composition root: ``create_app(settings)`` wires storage, keys and the domain.

Nothing here runs at import time; the app is built from a ``Settings`` the caller made.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.citizen_services import keep_delivering
from api.errors import install_error_handlers
from api.log_format import RequestId
from api.metrics import Metrics, RequestMetrics
from api.preservation_wiring import keep_preserving
from api.ratelimit import LoginThrottle, RateLimiter
from api.services import Services, build_services
from api.sessions import install_session_handlers
from api.settings import Settings
from certify.consistency import ConsistencyReport, check
from certify.errors import CertifyError
from certify.intake import INTAKE_PREFIX, remove_stale_workdirs

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> FastAPI:
    """Build the FastAPI application.

    Args:
        settings: the process's settings (``Settings()`` reads ``CERTIFY_*``).
        services: already-built services (tests); else built at start-up and closed at shutdown.
    """
    settings = settings or (services.settings if services else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = services is None
        app.state.services = services or build_services(settings)
        try:
            # Start the verifier's workers now, not on the first public request.
            await run_in_threadpool(app.state.services.verifier)
        except CertifyError as exc:
            log.info("public verification not ready at start-up (%s)", exc.code)
        checking = asyncio.create_task(_keep_checking(app.state.services, settings))
        mailing = asyncio.create_task(keep_delivering(app.state.services))
        preserving = asyncio.create_task(keep_preserving(app.state.services))
        try:
            yield
        finally:
            checking.cancel()
            mailing.cancel()
            preserving.cancel()
            if owned:
                app.state.services.close()

    # Swagger UI and ReDoc served by the service itself (fastapi-offline): a government
    # network without internet reaches no CDN.
    app = FastAPIOffline(
        title="certify — Chứng thực bản sao điện tử",
        summary="Electronic certified copies from paper originals (NĐ 45/2020 art. 10 cl. 3)",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url="/redoc",
    )
    app.state.settings = settings
    if services is not None:
        app.state.services = services
    app.state.upload_limiter = RateLimiter(settings.verify_upload_rate_limit, scope="upload")
    app.state.token_limiter = RateLimiter(settings.verify_token_rate_limit, scope="token")
    # The published cancellations: as cheap to ask for as a code, so the same limit.
    app.state.listing_limiter = RateLimiter(settings.verify_token_rate_limit, scope="listing")
    # The citizens' side (issue 12): bookings, and lookups by tracking code (guessing is
    # limited; each wrong code is also recorded).
    app.state.booking_limiter = RateLimiter(settings.booking_rate_limit, scope="booking")
    app.state.tracking_limiter = RateLimiter(settings.tracking_rate_limit, scope="tracking")
    app.state.login_throttle = LoginThrottle(
        settings.login_failure_limit_account, settings.login_failure_limit_address
    )
    install_error_handlers(app)
    install_session_handlers(app)  # after: outside /desk the JSON handlers answer
    app.add_middleware(SecurityHeaders)
    app.state.metrics = Metrics(lambda: getattr(app.state, "services", None))
    app.add_middleware(RequestMetrics, metrics=app.state.metrics)
    app.add_middleware(RequestId)  # outermost: every line logged for the request names it

    from api.routes import auth, cancellations, desk_login, health, metrics, pages, pki, verify

    app.include_router(health.router)
    if settings.metrics_enabled:
        app.include_router(metrics.router)
    app.include_router(pki.router)
    app.include_router(verify.router)
    app.include_router(auth.router)
    app.include_router(desk_login.router)
    app.include_router(pages.router)
    app.include_router(cancellations.router)
    from api.routes import desk_api

    app.include_router(desk_api.router)
    from api.routes import admin_api, admin_pages

    app.include_router(admin_api.router)
    app.include_router(admin_pages.router)
    from api.routes import desk_documents, desk_pages, download_links

    app.include_router(desk_pages.router)
    app.include_router(desk_documents.router)
    app.include_router(download_links.router)
    from api.routes import citizen_api, citizen_pages, desk_citizens

    app.include_router(citizen_api.router)
    app.include_router(citizen_pages.router)
    app.include_router(desk_citizens.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def _reconcile_and_check(services: Services) -> ConsistencyReport:
    """Finish what interrupted certifications left (reconcile, stale intake folders), then
    compare the register with the copies bucket."""
    try:
        services.certification().reconcile()
    except CertifyError as exc:
        log.info("reconcile skipped (%s)", exc.code)
    remove_stale_workdirs(Path(tempfile.gettempdir()), INTAKE_PREFIX)
    return check(services.register, services.store)


async def _keep_checking(services: Services, settings: Settings) -> None:
    """Reconcile and compare the register with the copies bucket at start-up and then every
    ``check_interval_hours``; what differs is logged as an incident (certify check)."""
    while True:
        try:
            report = await run_in_threadpool(_reconcile_and_check, services)
        except CertifyError as exc:
            log.warning("register check could not run (%s)", exc.code)
        except Exception:  # a background task must not die silently, nor take the app down
            log.exception("register check failed")
        else:
            for finding in report.findings:
                level = logging.INFO if finding.kind == "awaiting_copy" else logging.ERROR
                log.log(level, "register check: %s %s", finding.kind, finding.subject)
        if settings.check_interval_hours <= 0:
            return
        await asyncio.sleep(settings.check_interval_hours * 3600)


STATIC_DIR = Path(__file__).resolve().parent / "static"
# The public pages use no script and no inline style (issue 7: CSP without inline script).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
# The API docs page loads Swagger UI's script and styles from its CDN.
_DOCS_PATHS = ("/docs", "/redoc", "/docs/oauth2-redirect")


class SecurityHeaders:
    """Adds ``SECURITY_HEADERS`` to every HTTP answer (a plain ASGI middleware: it costs
    a fraction of Starlette's ``BaseHTTPMiddleware`` per request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"] in _DOCS_PATHS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if not (docs and name == "Content-Security-Policy") and name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
