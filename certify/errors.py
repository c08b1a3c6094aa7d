"""One error tree for the whole service.

Every error carries a stable machine ``code`` and a ``message`` that is safe to show a user
(Vietnamese first, then English). Library exceptions are translated into these in the module
that calls the library, with ``raise ... from exc``; none crosses a package boundary.
"""

from __future__ import annotations


class CertifyError(Exception):
    """Base of every error the service raises on purpose. Its message is safe to show."""

    code: str = "certify_error"
    default_message: str = "Đã xảy ra lỗi. / An error occurred."

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        self.message = message or self.default_message
        if code is not None:
            self.code = code
        super().__init__(self.message)


class InvalidInputError(CertifyError):
    """The caller sent something malformed or not allowed."""

    code = "invalid_input"
    default_message = "Dữ liệu không hợp lệ. / Invalid input."


class InvalidScanError(InvalidInputError):
    """A scanned page was refused at intake (type, size, content)."""

    code = "invalid_scan"
    default_message = "Bản quét không hợp lệ. / The scan is not acceptable."


class NotFoundError(CertifyError):
    """A thing the caller named does not exist."""

    code = "not_found"
    default_message = "Không tìm thấy. / Not found."


class ObjectNotFoundError(NotFoundError):
    """An object is missing from the object store."""

    code = "object_not_found"
    default_message = "Không tìm thấy tệp trong kho lưu trữ. / Object not found in storage."


class ConflictError(CertifyError):
    """The request conflicts with the current state."""

    code = "conflict"
    default_message = "Xung đột dữ liệu. / Conflict with the current state."


class RegisterConflictError(ConflictError):
    """A register number or entry could not be taken consistently."""

    code = "register_conflict"
    default_message = "Xung đột khi ghi sổ chứng thực. / Register conflict."


class ObjectLockedError(ConflictError):
    """The object store refused to change an object under retention."""

    code = "object_locked"
    default_message = (
        "Bản sao đang được bảo vệ, không thể xoá hay ghi đè. / "
        "The object is under retention and cannot be deleted or overwritten."
    )


class UnauthenticatedError(CertifyError):
    """No usable credentials: a bearer token missing, malformed, unknown, expired or revoked."""

    code = "unauthenticated"
    default_message = "Cần đăng nhập (mã truy cập). / Authentication required (bearer token)."


class PermissionDeniedError(CertifyError):
    """The caller may not do this (wrong authority, wrong role)."""

    code = "permission_denied"
    default_message = "Không có quyền thực hiện. / Permission denied."


class UnavailableError(CertifyError):
    """A backing service is down; retrying later may work."""

    code = "unavailable"
    default_message = "Dịch vụ tạm thời không khả dụng. / Service temporarily unavailable."


class StorageUnavailableError(UnavailableError):
    """The object store (MinIO) cannot be reached or answered with a server error."""

    code = "storage_unavailable"
    default_message = (
        "Kho lưu trữ tạm thời không khả dụng. / Object storage is temporarily unavailable."
    )


class DatabaseUnavailableError(UnavailableError):
    """The register database cannot be reached."""

    code = "database_unavailable"
    default_message = (
        "Cơ sở dữ liệu sổ chứng thực tạm thời không khả dụng. / "
        "The register database is temporarily unavailable."
    )


class KeyMaterialError(CertifyError):
    """A key or certificate is unusable (wrong passphrase, mismatch, expiry, usage, chain)."""

    code = "key_material"
    default_message = "Khoá hoặc chứng thư số không hợp lệ. / Invalid key or certificate."


class SigningError(CertifyError):
    """Signing a copy failed."""

    code = "signing_failed"
    default_message = "Ký số thất bại. / Signing failed."


class PayloadTooLargeError(InvalidInputError):
    """An upload is larger than the service accepts."""

    code = "upload_too_large"
    default_message = "Tệp tải lên quá lớn. / The uploaded file is too large."


class RateLimitedError(CertifyError):
    """Too many requests from one client; ``retry_after`` seconds until it may try again."""

    code = "rate_limited"
    default_message = (
        "Quá nhiều yêu cầu, vui lòng thử lại sau. / Too many requests, please retry later."
    )

    def __init__(
        self, message: str | None = None, *, retry_after: int = 60, code: str | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class MailUnavailableError(UnavailableError):
    """The mail server could not take an e-mail now; the outbox tries again later."""

    code = "mail_unavailable"
    default_message = (
        "Máy chủ thư điện tử tạm thời không nhận thư. / The mail server is unavailable."
    )
