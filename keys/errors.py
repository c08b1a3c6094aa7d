"""Errors raised by the ``keys`` package, all in the service's one error tree.

Each subclass carries a stable ``code`` and a message safe to show a user (Vietnamese, then
English). Messages never contain passphrases, PINs or key bytes.
"""

from __future__ import annotations

from certify.errors import (
    CertifyError,
    ConflictError,
    InvalidInputError,
    KeyMaterialError,
    NotFoundError,
)


class WrongPassphraseError(KeyMaterialError):
    """A private key could not be decrypted with the passphrase given."""

    code = "wrong_passphrase"
    default_message = (
        "Sai mật khẩu bảo vệ khoá bí mật. / "
        "Wrong passphrase: the private key could not be decrypted."
    )


class KeyMismatchError(KeyMaterialError):
    """The private key does not belong to the certificate."""

    code = "key_mismatch"
    default_message = (
        "Khoá bí mật không khớp với chứng thư số. / The private key does not match the certificate."
    )


class CertificateExpiredError(KeyMaterialError):
    """The certificate is expired or not yet valid (RFC 5280 §4.1.2.5)."""

    code = "certificate_expired"
    default_message = (
        "Chứng thư số đã hết hạn hoặc chưa có hiệu lực. / "
        "The certificate is expired or not yet valid."
    )


class WrongKeyUsageError(KeyMaterialError):
    """The certificate may not be used to sign documents (RFC 5280 §4.2.1.3)."""

    code = "wrong_key_usage"
    default_message = (
        "Chứng thư số không cho phép ký văn bản (cần digitalSignature/nonRepudiation). / "
        "The certificate's key usage does not allow signing documents "
        "(digitalSignature/nonRepudiation required)."
    )


class IncompleteChainError(KeyMaterialError):
    """No path from the certificate to a self-signed root could be built (RFC 5280 §6)."""

    code = "incomplete_chain"
    default_message = (
        "Không xây dựng được chuỗi chứng thư đến chứng thư gốc tin cậy. / "
        "The certificate chain is incomplete: no path to a trusted self-signed root."
    )


class CertificateRevokedError(KeyMaterialError):
    """The certificate has been revoked (RFC 5280 §5.3.1)."""

    code = "certificate_revoked"
    default_message = "Chứng thư số đã bị thu hồi. / The certificate has been revoked."


class UnreadableKeyMaterialError(KeyMaterialError):
    """A key or certificate file could not be parsed."""

    code = "unreadable_key_material"
    default_message = (
        "Không đọc được khoá hoặc chứng thư số. / The key or certificate could not be read."
    )


class KeyUnavailableError(CertifyError):
    """A private key of the PKI's own files cannot be loaded: the configured PKI passphrase
    does not open it, or the file is missing or damaged.

    A server-side fault, never the caller's: not a :class:`KeyMaterialError` (which says the
    caller's key or certificate is unusable). The HTTP face answers 500 and logs the cause.
    """

    code = "key_unavailable"
    default_message = (
        "Không tải được khoá bí mật của hệ thống PKI (sai mật khẩu PKI đã cấu hình hoặc tệp "
        "khoá hỏng); vui lòng báo quản trị viên. / The PKI's private key cannot be loaded "
        "(wrong PKI passphrase configured, or a damaged key file); please tell the administrator."
    )


class TokenError(KeyMaterialError):
    """A PKCS#11 token or key on it could not be used."""

    code = "pkcs11_token"
    default_message = (
        "Không sử dụng được thiết bị ký số (PKCS#11). / The PKCS#11 token could not be used."
    )


class PkiNotInitialisedError(KeyMaterialError):
    """The PKI directory holds no PKI (run ``certify pki init``)."""

    code = "pki_not_initialised"
    default_message = (
        "Chưa khởi tạo hệ thống PKI (chạy `certify pki init`). / "
        "The PKI is not initialised (run `certify pki init`)."
    )


class PkiExistsError(ConflictError):
    """``init`` was asked to create a PKI where one already exists."""

    code = "pki_exists"
    default_message = "Hệ thống PKI đã tồn tại. / A PKI already exists in this directory."


class NoCertificateError(NotFoundError):
    """No usable certificate is on file for the holder or serial named."""

    code = "certificate_not_found"
    default_message = "Không tìm thấy chứng thư số. / Certificate not found."


class InvalidRevocationReasonError(InvalidInputError):
    """The revocation reason is not one of RFC 5280 §5.3.1 CRLReason names we accept."""

    code = "invalid_revocation_reason"
    default_message = (
        "Lý do thu hồi không hợp lệ. / Invalid revocation reason (RFC 5280 CRLReason)."
    )


class UnknownRenewalError(InvalidInputError):
    """A renewal (``keys.rollover``) of something that cannot be renewed."""

    code = "unknown_renewal"
    default_message = (
        "Chỉ gia hạn được tsa, ocsp hoặc issuing. / Only tsa, ocsp or issuing can be renewed."
    )


class MalformedOcspRequestError(InvalidInputError):
    """The OCSP request is not a DER OCSPRequest (RFC 6960 §4.1)."""

    code = "malformed_ocsp_request"
    default_message = "Yêu cầu OCSP không hợp lệ. / Malformed OCSP request (RFC 6960 §4.1)."


class MalformedTimestampRequestError(InvalidInputError):
    """The time-stamp query is not a DER TimeStampReq (RFC 3161 §2.4.1)."""

    code = "malformed_timestamp_request"
    default_message = (
        "Yêu cầu gắn dấu thời gian không hợp lệ. / Malformed time-stamp request (RFC 3161 §2.4.1)."
    )
