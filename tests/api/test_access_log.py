"""Secrets in URLs never reach the access log (verification codes, download links)."""

from __future__ import annotations

import logging

from api.access_log import RedactSecrets, install, redact


def test_secret_segments_and_queries_are_cut() -> None:
    assert redact("/v/AbC-123_xyzxyzxyzxyz") == "/v/…"
    assert redact("/v/AbC-123_xyzxyzxyzxyz/report.xml") == "/v/…/report.xml"
    assert redact("/d/s3cr3t?x=1") == "/d/…?…"
    assert redact("/verify?code=AbC-123_xyzxyzxyzxyz") == "/verify?…"
    assert redact("/desk/requests/HS-1A2B") == "/desk/requests/HS-1A2B"


def test_uvicorns_access_record_is_redacted() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/d/the-secret-of-a-link", "1.1", 200),
        None,
    )
    assert RedactSecrets().filter(record)
    assert "the-secret" not in record.getMessage()
    assert record.getMessage() == '127.0.0.1:5000 - "GET /d/… HTTP/1.1" 200'
    install()
    install()
    filters = logging.getLogger("uvicorn.access").filters
    assert sum(isinstance(f, RedactSecrets) for f in filters) == 1
