"""The validation workers under their limits: a file that would take a worker's memory or
time ends as ``unreadable`` within the limit, the worker is replaced, and the next file is
answered as usual."""

from __future__ import annotations

import datetime as dt
import struct
import time
import zlib
from collections.abc import Iterator

import pytest

from api.services import Services
from api.validation_pool import ValidationPool
from certify.verification import TrustAnchors
from tests.api.conftest import FixedClock, issue_copy
from tests.attacks_malformed import _zero_deflate

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def xref_stream_bomb(size_mb: int = 4096) -> bytes:
    """A PDF whose cross-reference stream (read before anything else) inflates to
    ``size_mb`` MiB: the reader must decompress it to open the file at all."""
    header = b"%PDF-1.7\n"
    catalog = b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    data = _zero_deflate(size_mb * 1024 * 1024)
    xref_at = len(header) + len(catalog)
    entries = b"/Type /XRef /Size 3 /W [1 4 1] /Root 1 0 R /Filter /FlateDecode"
    stream = b"2 0 obj\n<< /Length %d %s >>\nstream\n%s\nendstream\nendobj\n" % (
        len(data),
        entries,
        data,
    )
    return header + catalog + stream + b"startxref\n%d\n%%%%EOF\n" % xref_at


def dss_bomb(size_mb: int = 4096) -> bytes:
    """A PDF whose Document Security Store holds one "certificate" stream that inflates to
    ``size_mb`` MiB: reading the DSS (as every validation does) decompresses it."""
    data = _zero_deflate(size_mb * 1024 * 1024)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /DSS 4 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        b"<< /Certs [5 0 R] >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(data), data),
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    out += b"xref\n0 6\n0000000000 65535 f \n"
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


@pytest.fixture
def pool(verify_services: Services) -> Iterator[ValidationPool]:
    trust: TrustAnchors = verify_services.trust_anchors()
    pool = ValidationPool(
        lambda: trust, FixedClock(), workers=1, timeout_seconds=3, memory_bytes=768 * 1024 * 1024
    )
    try:
        yield pool
    finally:
        pool.close()


def test_a_bomb_ends_unreadable_within_the_limit_and_the_worker_is_replaced(
    pool: ValidationPool, verify_services: Services
) -> None:
    # pyHanko 0.38 bounds what it inflates (PdfDecodeLimitError); the worker's memory cap and
    # time limit stand behind it.
    for bomb in (dss_bomb(), xref_stream_bomb()):
        assert len(bomb) < 8 * 1024 * 1024
        started = time.monotonic()
        answer = pool(bomb)
        took = time.monotonic() - started
        assert answer.outcome == "unreadable"
        assert [r.code for r in answer.reasons] in (["too_complex"], ["malformed_pdf"])
        assert took < 3 + 5  # the time limit, and a worker's start

    issued = issue_copy(verify_services)
    after = pool(issued.pdf, analyse_changes=False)
    assert after.outcome == "valid"
    assert after.pades_level == "PAdES-BASELINE-LTA"


def test_a_file_past_the_time_limit_is_stopped(verify_services: Services) -> None:
    trust = verify_services.trust_anchors()
    pool = ValidationPool(
        lambda: trust, FixedClock(), workers=1, timeout_seconds=0.01, memory_bytes=0
    )
    try:
        issued = issue_copy(verify_services)
        stopped = pool(issued.pdf)
        assert stopped.outcome == "unreadable"
        assert [r.code for r in stopped.reasons] == ["too_complex"]
        assert stopped.sha256 == issued.entry.copy_sha256
        assert stopped.validated_at == dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
    finally:
        pool.close()


def test_zero_deflate_is_what_it_claims() -> None:
    data = _zero_deflate(3 * 1024 * 1024 + 5)
    assert zlib.decompress(data) == bytes(3 * 1024 * 1024 + 5)
    assert struct.unpack(">I", data[-4:])[0] == zlib.adler32(bytes(3 * 1024 * 1024 + 5))
