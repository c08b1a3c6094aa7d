"""HTTP faces of the domain's errors: one status table and one JSON shape.

Every error answer is ``{"error": code, "message": text}``. Unknown failures are logged in
full and answered with a generic 500 that leaks nothing.
"""

from __future__ import annotations

import inspect
import logging

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.metrics import record_error
from certify import errors as e
from certify.intake import ScratchFullError, is_disk_full
from keys.errors import KeyUnavailableError, PkiNotInitialisedError

log = logging.getLogger(__name__)

# Most specific first: the first class an error is an instance of gives its status.
STATUS_TABLE: tuple[tuple[type[e.CertifyError], int], ...] = (
    (e.PayloadTooLargeError, 413),
    (e.RateLimitedError, 429),
    (e.InvalidScanError, 422),
    (e.InvalidInputError, 400),
    (e.ObjectNotFoundError, 404),
    (e.NotFoundError, 404),
    (e.ObjectLockedError, 409),
    (e.ConflictError, 409),
    (e.UnauthenticatedError, 401),
    (e.PermissionDeniedError, 403),
    # No PKI yet is the service's state, not the request's fault: the same 503 as the
    # /pki routes say with the same code.
    (PkiNotInitialisedError, 503),
    # A key file that cannot be loaded (damaged, wrong configured passphrase): ours, not the
    # client's fault.
    (KeyUnavailableError, 500),
    (e.KeyMaterialError, 400),
    # RFC 4918 §11.5 Insufficient Storage: the scratch disk is full (the server's state).
    (ScratchFullError, 507),
    (e.UnavailableError, 503),
    (e.SigningError, 500),
)

_HTTP_CODES = {
    400: ("bad_request", "Yêu cầu không hợp lệ. / Bad request."),
    401: ("unauthenticated", "Cần đăng nhập. / Authentication required."),
    403: ("permission_denied", "Không có quyền thực hiện. / Permission denied."),
    404: ("not_found", "Không tìm thấy. / Not found."),
    405: ("method_not_allowed", "Phương thức không được phép. / Method not allowed."),
    413: ("too_large", "Dữ liệu quá lớn. / Payload too large."),
    415: ("unsupported_media_type", "Kiểu dữ liệu không hỗ trợ. / Unsupported media type."),
}

INTERNAL = (
    "internal_error",
    "Lỗi hệ thống, vui lòng thử lại sau. / Internal error, please retry later.",
)


def status_for(error: e.CertifyError) -> int:
    """The HTTP status of a domain error."""
    for cls, status in STATUS_TABLE:
        if isinstance(error, cls):
            return status
    return 500


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        status_code=status, content={"error": code, "message": message}, headers=headers
    )


def error_headers(error: e.CertifyError) -> dict[str, str] | None:
    """Headers an error answer carries: ``Retry-After`` for rate limits (RFC 9110 §10.2.3)."""
    if isinstance(error, e.RateLimitedError):
        return {"Retry-After": str(error.retry_after)}
    if isinstance(error, e.UnauthenticatedError):
        return {"WWW-Authenticate": "Bearer"}  # RFC 6750 §3
    return None


def disk_full_as_such(error: e.CertifyError) -> e.CertifyError:
    """``error``, or :class:`ScratchFullError` (from it) when a full disk caused it: a step
    that turns every failure into its own error (the copy's build: ``copy_build_failed``;
    signing: ``signing_failed``) must not answer a full scratch disk as a 500 of its own."""
    if isinstance(error, ScratchFullError):
        return error
    cause = error.__cause__
    for _ in range(16):  # a chain of causes is short; a cycle must not hang the handler
        if cause is None:
            break
        if is_disk_full(cause):
            full = ScratchFullError()
            full.__cause__ = error
            return full
        cause = cause.__cause__
    return error


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the same JSON shape."""

    @app.exception_handler(e.CertifyError)
    def _certify_error(request: Request, exc: e.CertifyError) -> JSONResponse:
        exc = disk_full_as_such(exc)
        status = status_for(exc)
        record_error(request, status, exc.code, exc)
        if status >= 500:
            log.error("%s: %s", exc.code, exc.message, exc_info=exc)
        return error_response(status, exc.code, exc.message, error_headers(exc))

    @app.exception_handler(RequestValidationError)
    def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        record_error(request, 400, "invalid_request")
        # Name the fields, never echo the values: they may be personal data.
        fields = sorted({".".join(str(p) for p in err.get("loc", ())) for err in exc.errors()})
        message = "Dữ liệu không hợp lệ: / Invalid fields: " + ", ".join(fields)
        return error_response(400, "invalid_request", message)

    @app.exception_handler(StarletteHTTPException)
    def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, message = _HTTP_CODES.get(exc.status_code, ("http_error", str(exc.detail)))
        record_error(request, exc.status_code, code)
        return error_response(exc.status_code, code, message)

    @app.exception_handler(OSError)
    async def _os_error(request: Request, exc: OSError) -> Response:
        # A full scratch disk (TMPDIR) met wherever a file was being written: the spooled
        # upload, the scans read back, the copy being built and signed. The register
        # transaction and the clean-ups have undone what was begun: answered as the domain's
        # ScratchFullError (507 scratch_full), by whichever handler answers those now (the
        # desk's pages install their own, api.sessions).
        if not is_disk_full(exc):
            raise exc  # unexpected: the generic 500 below
        error = ScratchFullError()
        error.__cause__ = exc
        answer = app.exception_handlers[e.CertifyError](request, error)
        if inspect.isawaitable(answer):
            answer = await answer
        return answer

    @app.exception_handler(Exception)
    def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, *INTERNAL)
