"""The bank webhook's HMAC signature: round trip, tampering, wrong secret, replay, and
malformed headers."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import pytest

from certify.errors import InvalidInputError, KeyMaterialError, PermissionDeniedError
from certify.webhook_signature import sign, verify

SECRET = b"test-webhook-secret-0123456789abcdef"
BODY = b'{"reference":"HS4F2A9C01B7","amount":6000,"txn":"FT26032123456"}'
# 2026-03-02 09:00:00 in Vietnam = 02:00:00 UTC.
NOW = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)
TIMESTAMP = str(int(NOW.timestamp()))


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET, TIMESTAMP.encode() + b"." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, TIMESTAMP, BODY) == "sha256=" + expected
    assert TIMESTAMP == "1772416800"


def test_round_trip() -> None:
    signature = sign(SECRET, TIMESTAMP, BODY)
    verify(SECRET, timestamp=TIMESTAMP, signature=signature, body=BODY, now=NOW)


def test_uppercase_hex_is_accepted() -> None:
    signature = sign(SECRET, TIMESTAMP, BODY)
    upper = "sha256=" + signature.removeprefix("sha256=").upper()
    verify(SECRET, timestamp=TIMESTAMP, signature=upper, body=BODY, now=NOW)


def _refused(code: str, **kwargs: object) -> None:
    args: dict[str, object] = {
        "timestamp": TIMESTAMP,
        "signature": sign(SECRET, TIMESTAMP, BODY),
        "body": BODY,
        "now": NOW,
    }
    args.update(kwargs)
    secret = args.pop("secret", SECRET)
    with pytest.raises(PermissionDeniedError) as info:
        verify(secret, **args)  # type: ignore[arg-type]
    assert info.value.code == code
    assert " / " in info.value.message  # Vietnamese / English


@pytest.mark.parametrize("index", [0, 20, len(BODY) - 1])
def test_one_changed_body_byte_is_refused(index: int) -> None:
    tampered = bytearray(BODY)
    tampered[index] ^= 0x01
    _refused("webhook_signature_invalid", body=bytes(tampered))


def test_appended_byte_is_refused() -> None:
    _refused("webhook_signature_invalid", body=BODY + b" ")


def test_wrong_secret_is_refused() -> None:
    _refused("webhook_signature_invalid", secret=b"another-secret")


def test_signature_for_another_timestamp_is_refused() -> None:
    # A valid signature moved onto a fresh timestamp: the timestamp is signed too.
    old = str(int(NOW.timestamp()) - 3600)
    _refused("webhook_signature_invalid", signature=sign(SECRET, old, BODY))


@pytest.mark.parametrize("seconds", [-301, 301, -86_400, 86_400])
def test_stale_and_future_timestamps_are_refused(seconds: int) -> None:
    # A validly signed call replayed 5 min 1 s later, or dated ahead of the clock.
    at = str(int(NOW.timestamp()) + seconds)
    _refused("webhook_stale", timestamp=at, signature=sign(SECRET, at, BODY))


@pytest.mark.parametrize("seconds", [-300, 300])
def test_timestamps_at_the_tolerance_are_accepted(seconds: int) -> None:
    at = str(int(NOW.timestamp()) + seconds)
    verify(SECRET, timestamp=at, signature=sign(SECRET, at, BODY), body=BODY, now=NOW)


def test_tolerance_is_a_parameter() -> None:
    at = str(int(NOW.timestamp()) - 60)
    signature = sign(SECRET, at, BODY)
    minute = dt.timedelta(seconds=60)
    verify(SECRET, timestamp=at, signature=signature, body=BODY, now=NOW, tolerance=minute)
    with pytest.raises(PermissionDeniedError) as info:
        verify(
            SECRET,
            timestamp=at,
            signature=signature,
            body=BODY,
            now=NOW,
            tolerance=minute - dt.timedelta(seconds=1),
        )
    assert info.value.code == "webhook_stale"


@pytest.mark.parametrize(
    "timestamp",
    ["", "17724168OO", "-1772416800", "1772416800.5", " 1772416800", "1" * 13, "١٧٧٢٤١٦٨٠٠"],
)
def test_malformed_timestamps_are_refused(timestamp: str) -> None:
    _refused("webhook_signature_invalid", timestamp=timestamp)


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "sha256=",
        hmac.new(SECRET, TIMESTAMP.encode() + b"." + BODY, hashlib.sha256).hexdigest(),
        "sha1=" + "0" * 64,
        "SHA256=" + "0" * 64,
        "sha256=" + "g" * 64,
        "sha256=" + "0" * 63,
        "sha256=" + "0" * 65,
        "sha256=" + "é" * 64,
    ],
)
def test_malformed_signatures_are_refused(signature: str) -> None:
    _refused("webhook_signature_invalid", signature=signature)


def test_empty_secret_is_refused() -> None:
    with pytest.raises(KeyMaterialError) as info:
        sign(b"", TIMESTAMP, BODY)
    assert info.value.code == "webhook_secret_missing"
    with pytest.raises(KeyMaterialError):
        verify(b"", timestamp=TIMESTAMP, signature="sha256=" + "0" * 64, body=BODY, now=NOW)


def test_naive_now_is_refused() -> None:
    with pytest.raises(InvalidInputError) as info:
        verify(
            SECRET,
            timestamp=TIMESTAMP,
            signature=sign(SECRET, TIMESTAMP, BODY),
            body=BODY,
            now=NOW.replace(tzinfo=None),
        )
    assert info.value.code == "naive_datetime"
