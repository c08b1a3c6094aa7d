"""The signature of the bank's payment webhook: HMAC-SHA256 (RFC 2104, FIPS 198-1) over the
call's timestamp and body, with a secret shared with the bank.

The bank sends a timestamp (Unix seconds, a decimal string) and a signature
``"sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body))``. Signing the timestamp with
the body, and refusing a timestamp far from now, stops a replay of an old, validly signed
call (the scheme GitHub's and Stripe's webhooks use).

Public API: :func:`sign` and :func:`verify`. ``verify`` checks, in order:

1. the timestamp and signature are well formed (digits; ``sha256=`` and 64 hex digits);
2. the HMAC matches, compared in constant time (:func:`hmac.compare_digest`);
3. the timestamp is within ``tolerance`` of ``now``, either side.

Refusals are :class:`~certify.errors.PermissionDeniedError` with code
``webhook_signature_invalid`` (steps 1–2) or ``webhook_stale`` (step 3).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from typing import Final

from certify.errors import InvalidInputError, KeyMaterialError, PermissionDeniedError

__all__ = ["DEFAULT_TOLERANCE", "sign", "verify"]

DEFAULT_TOLERANCE: Final = dt.timedelta(minutes=5)
_PREFIX: Final = "sha256="
# At most 12 digits: Unix seconds until the year 33658, and no huge integers to convert.
_TIMESTAMP: Final = re.compile(r"[0-9]{1,12}")
_SIGNATURE: Final = re.compile(r"sha256=[0-9a-fA-F]{64}")


def _mac(secret: bytes, timestamp: str, body: bytes) -> str:
    if not secret:  # an empty key would let anyone sign
        raise KeyMaterialError(
            "Chưa cấu hình khoá bí mật của webhook ngân hàng. / "
            "The bank webhook's secret is not configured.",
            code="webhook_secret_missing",
        )
    message = timestamp.encode("ascii") + b"." + body
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _invalid_signature() -> PermissionDeniedError:
    return PermissionDeniedError(
        "Chữ ký của lời gọi từ ngân hàng không hợp lệ. / "
        "The bank call's signature is missing or invalid.",
        code="webhook_signature_invalid",
    )


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature of ``body`` sent at ``timestamp``: ``"sha256="`` and the lowercase hex
    HMAC-SHA256 of ``timestamp + "." + body`` under ``secret``.

    Raises:
        KeyMaterialError: code ``webhook_secret_missing`` when ``secret`` is empty.
        InvalidInputError: code ``webhook_signature_invalid`` when ``timestamp`` is not
            Unix seconds as 1–12 ASCII digits.
    """
    if not _TIMESTAMP.fullmatch(timestamp):
        raise InvalidInputError(
            "Thời điểm ký phải là số giây Unix. / The timestamp must be Unix seconds.",
            code="webhook_signature_invalid",
        )
    return _PREFIX + _mac(secret, timestamp, body)


def verify(
    secret: bytes,
    *,
    timestamp: str,
    signature: str,
    body: bytes,
    now: dt.datetime,
    tolerance: dt.timedelta = DEFAULT_TOLERANCE,
) -> None:
    """Accept the bank's call only if ``signature`` signs ``timestamp`` and ``body`` under
    ``secret`` and ``timestamp`` is within ``tolerance`` of ``now`` (the module's steps).

    Raises:
        PermissionDeniedError: code ``webhook_signature_invalid`` when the timestamp or the
            signature is missing or malformed or the signature does not match;
            ``webhook_stale`` when the timestamp is more than ``tolerance`` from ``now``.
        InvalidInputError: code ``naive_datetime`` when ``now`` has no time zone.
        KeyMaterialError: code ``webhook_secret_missing`` when ``secret`` is empty.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidInputError(
            "Thời điểm 'now' phải kèm múi giờ. / 'now' must be timezone-aware.",
            code="naive_datetime",
        )
    # 1. Well formed (the regular expressions are ASCII only, as compare_digest needs).
    if not (_TIMESTAMP.fullmatch(timestamp) and _SIGNATURE.fullmatch(signature)):
        raise _invalid_signature()
    # 2. The HMAC, in constant time.
    expected = _mac(secret, timestamp, body)
    if not hmac.compare_digest(expected, signature[len(_PREFIX) :].lower()):
        raise _invalid_signature()
    # 3. Fresh: an old call replayed, or one from a clock far ahead, is refused.
    skew = abs(now.timestamp() - int(timestamp))
    if skew > tolerance.total_seconds():
        raise PermissionDeniedError(
            "Lời gọi từ ngân hàng đã quá hạn hoặc bị gửi lại. / "
            "The bank call is stale or replayed.",
            code="webhook_stale",
        )
