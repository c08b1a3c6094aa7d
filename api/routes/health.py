"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import ServicesDep
from certify.errors import CertifyError
from storage import database

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up (it says nothing of MinIO or the database)."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "MinIO or the database is unreachable"}})
def readyz(services: ServicesDep) -> JSONResponse:
    """Ready to serve: MinIO and the register database both answer.

    Answers 503 with ``{"error": "not_ready", "checks": {...}}`` naming what failed.
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
    if all(v == "ok" for v in checks.values()):
        return JSONResponse({"status": "ready", "checks": checks})
    failed = ", ".join(k for k, v in checks.items() if v != "ok")
    return JSONResponse(
        status_code=503,
        content={
            "error": "not_ready",
            "message": f"Chưa sẵn sàng: {failed}. / Not ready: {failed}.",
            "checks": checks,
        },
    )
