"""Liveness and readiness probes."""

from __future__ import annotations

import datetime as dt
from typing import Final

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import ServicesDep
from api.services import Services
from certify.errors import CertifyError
from storage import database

router = APIRouter(tags=["health"])

# The oldest unsent e-mail older than this: the outbox is not being sent (no SMTP server,
# or it refuses); citizens are not told, but nothing is lost.
MAIL_BACKLOG_AFTER: Final = dt.timedelta(hours=1)
# What makes the service unready; the others are reported only.
REQUIRED: Final = ("storage", "database")


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up (it says nothing of MinIO or the database)."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "MinIO or the database is unreachable"}})
def readyz(services: ServicesDep) -> JSONResponse:
    """Ready to serve: MinIO and the register database both answer.

    ``checks`` names each dependency: ``storage`` and ``database`` (``ok`` or the error's
    code; either failing answers 503 with ``{"error": "not_ready", "checks": {...}}``), and,
    reported without making the service unready, ``pki`` (``ok`` or
    ``pki_not_initialised``: verification of existing copies still works) and ``mail``
    (``ok``, or ``mail_backlog`` when the oldest unsent e-mail is older than an hour).
    """
    checks: dict[str, str] = {}
    for name, probe in (
        ("storage", services.store.ping),
        ("database", lambda: database.ping(services.engine)),
    ):
        try:
            probe()
            checks[name] = "ok"
        except CertifyError as exc:
            checks[name] = exc.code
    checks["pki"] = _pki(services)
    # The outbox is in the database: asked again only if it answered.
    checks["mail"] = _mail(services) if checks["database"] == "ok" else checks["database"]
    if all(checks[name] == "ok" for name in REQUIRED):
        return JSONResponse({"status": "ready", "checks": checks})
    failed = ", ".join(name for name in REQUIRED if checks[name] != "ok")
    return JSONResponse(
        status_code=503,
        content={
            "error": "not_ready",
            "message": f"Chưa sẵn sàng: {failed}. / Not ready: {failed}.",
            "checks": checks,
        },
    )


def _pki(services: Services) -> str:
    try:
        return "ok" if services.pki() is not None else "pki_not_initialised"
    except CertifyError as exc:
        return exc.code


def _mail(services: Services) -> str:
    now = services.clock.now()
    try:
        oldest = services.register.outbox_stats(now).oldest_pending_at
    except CertifyError as exc:
        return exc.code
    return "mail_backlog" if oldest is not None and now - oldest > MAIL_BACKLOG_AFTER else "ok"
