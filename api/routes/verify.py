"""Public verification API (no login): ``POST /api/v1/verify`` and
``GET /api/v1/verify/{token}``, with ETSI TS 119 102-2 reports.

A verdict that is not ``genuine`` is an answer (HTTP 200), not an error. Errors are for the
request itself: no file (400), too large (413), too many requests (429), a backend down (503).
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.deps import ServicesDep
from api.metrics import record_verification
from api.schemas import GENUINE_EXAMPLE, MODIFIED_EXAMPLE, VerificationOut
from api.uploads import read_upload
from certify.etsi_report import render_report
from certify.verdicts import Verification

router = APIRouter(prefix="/api/v1/verify", tags=["verification"])

_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}
_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The verdict (also for copies that are not genuine)",
        "content": {
            "application/json": {
                "examples": {
                    "genuine": {"value": GENUINE_EXAMPLE},
                    "modified": {"value": MODIFIED_EXAMPLE},
                }
            }
        },
    },
    400: {"description": "No file in the request (`upload_missing`)"},
    413: {"description": "The file is larger than the service accepts (`upload_too_large`)"},
    429: {"description": "Too many requests from this client (`rate_limited`, Retry-After)"},
    503: {"description": "The register or the object store is unreachable"},
}


async def verify_upload(request: Request, services: ServicesDep) -> Verification:
    """Rate-limit, read and verify an uploaded PDF (shared by the API and the pages)."""
    request.app.state.upload_limiter.check(request)
    started = time.perf_counter()
    data = await read_upload(request, max_bytes=services.settings.verify_max_upload_bytes)
    verification = await run_in_threadpool(lambda: services.verifier().by_upload(data))
    record_verification(request, verification, started)
    return verification


def verify_token(request: Request, services: ServicesDep, token: str) -> Verification:
    """Rate-limit and verify the copy behind a verification code."""
    request.app.state.token_limiter.check(request)
    started = time.perf_counter()
    verification = services.verifier().by_token(token)
    record_verification(request, verification, started)
    return verification


@router.post(
    "",
    response_model=VerificationOut,
    responses=_ANSWERS,
    openapi_extra=_UPLOAD_BODY,
    summary="Kiểm tra một tệp PDF / Verify an uploaded PDF",
)
async def post_verify(request: Request, services: ServicesDep) -> JSONResponse:
    """Upload a PDF (multipart field `file`, or the raw body as `application/pdf`) and get
    the verdict: `genuine`, `cancelled`, `modified`, `untrusted`, `unknown`, `invalid` or
    `unreadable`, with the reasons in Vietnamese and English, every signature, the PAdES
    level and the register data that may be shown (never the requester's identity)."""
    verification = await verify_upload(request, services)
    return JSONResponse(verification.to_json())


@router.post(
    "/report.xml",
    response_class=Response,
    openapi_extra=_UPLOAD_BODY,
    responses={200: {"content": {"application/xml": {}}}},
    summary="Báo cáo ETSI cho tệp tải lên / ETSI report of an uploaded PDF",
)
async def post_verify_report(request: Request, services: ServicesDep) -> Response:
    """As `POST /api/v1/verify`, answered as an ETSI TS 119 102-2 validation report (XML)."""
    verification = await verify_upload(request, services)
    return _report(verification)


@router.get(
    "/{token}",
    response_model=VerificationOut,
    responses=_ANSWERS,
    summary="Kiểm tra theo mã / Verify by the code printed under the QR code",
)
def get_verify(token: str, request: Request, services: ServicesDep) -> JSONResponse:
    """The verdict on the copy whose verification code is `token` (the QR code on every
    copy opens `/v/{token}`). The cancellation status is always read live."""
    return JSONResponse(verify_token(request, services, token).to_json())


@router.get(
    "/{token}/report.xml",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}}},
    summary="Báo cáo ETSI theo mã / ETSI report by code",
)
def get_verify_report(token: str, request: Request, services: ServicesDep) -> Response:
    """The ETSI TS 119 102-2 validation report (XML) of the copy behind `token`."""
    return _report(verify_token(request, services, token))


def _report(verification: Verification) -> Response:
    return Response(
        render_report(verification),
        media_type="application/xml",
        headers={"Content-Disposition": 'attachment; filename="bao-cao-kiem-tra.xml"'},
    )
