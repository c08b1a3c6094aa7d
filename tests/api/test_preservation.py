"""Preservation runs on the real parts (issue 14.1, 14.3): MinIO with Object Lock, the SQLite
register, the session's PKI; copies issued by the real service, renewed by ``certify
preservation``, then verified by token, by upload and by ``certify check``.

The session's TSA certificate lives 5 years, so nothing is due by its expiry today: these
tests make copies due by marking their time-stamps' hash (SHA-256) as weakening, and renew
them with SHA-512. The years-long run across rollovers is tests/api/test_preservation_years.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest
from fastapi.testclient import TestClient
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import update

from api.app import create_app
from api.preservation_wiring import preserver
from api.services import Services
from certify import consistency
from certify.errors import SigningError
from certify.issuance import IssuedCopy
from certify.preservation import LEASE_NAME, PreservationPolicy, Preserver, last_archive_stamp
from storage.database import Document
from storage.minio_server import MinioServer
from tests.api.conftest import issue_copy, seeded_services
from tests.issuing import ServedPki

pytestmark = pytest.mark.integration

WEAK = PreservationPolicy(weak_digests=frozenset({"sha256"}), digest_algorithm="sha512")


@pytest.fixture
def services(
    minio_server: MinioServer, served_pki: ServedPki, tmp_path: Path
) -> Iterator[Services]:
    services = seeded_services(
        minio_server,
        served_pki,
        tmp_path / "var",
        verify_token_rate_limit="",
        verify_upload_rate_limit="",
    )
    try:
        yield services
    finally:
        services.close()


def run_with(services: Services, policy: PreservationPolicy, **kw: object) -> Preserver:
    p = preserver(services)
    p.policy = dataclasses.replace(policy, **kw)  # type: ignore[arg-type]
    return p


def stored_bytes(services: Services, key: str, version_id: str | None) -> bytes:
    with services.store.open(services.store.copies_bucket, key, version_id=version_id) as fh:
        return fh.read()


def doc_timestamps(pdf: bytes) -> list[str]:
    reader = PdfFileReader(io.BytesIO(pdf))
    return [  # the hash over the document: each token's message imprint
        s.signed_data["encap_content_info"]["content"]
        .parsed["message_imprint"]["hash_algorithm"]["algorithm"]
        .native
        for s in reader.embedded_timestamp_signatures
    ]


def test_a_due_copy_is_renewed_once_stored_as_a_new_version_and_verifies(
    services: Services,
) -> None:
    copies = [issue_copy(services), issue_copy(services)]
    run = run_with(services, WEAK)

    first = run.run()

    assert (first.inspected, first.renewed, first.failed, first.stopped) == (2, 2, [], None)
    # Inspection reads the validation kept at issue: only the two renewals read objects.
    assert (first.objects_read, first.objects_written) == (2, 2)
    for issued in copies:
        entry = services.register.get_document(issued.entry.id)
        version = services.register.latest_copy_version(entry.id)
        assert version is not None and version.seq == 1 and version.reason == "weak_digest"
        assert version.version_id != entry.copy_version_id
        renewed = stored_bytes(services, entry.copy_key, version.version_id)
        original = stored_bytes(services, entry.copy_key, entry.copy_version_id)
        # The issued copy is kept unchanged under Object Lock; the new version is it, plus
        # our own update: a DSS and a SHA-512 document time-stamp.
        assert hashlib.sha256(original).hexdigest() == entry.copy_sha256
        assert renewed.startswith(original) and len(renewed) == version.size
        assert hashlib.sha256(renewed).hexdigest() == version.sha256
        assert doc_timestamps(renewed) == ["sha256", "sha512"]
        stamp = last_archive_stamp(io.BytesIO(renewed))
        assert stamp is not None and stamp.gen_time == version.timestamp_at

    # Nothing due any more: a second run changes nothing and reads nothing.
    second = run.run()
    assert (second.inspected, second.renewed, second.objects_read) == (0, 0, 0)
    assert len(services.register.copy_versions(copies[0].entry.id)) == 1

    # The audit chain records each renewal and stays unbroken; certify check is content.
    assert services.register.first_broken_audit_event() is None
    report = consistency.check(services.register, services.store)
    assert report.ok, report.findings


def test_renewed_copies_verify_genuine_by_token_and_by_upload_of_any_version(
    services: Services,
) -> None:
    issued = issue_copy(services)
    run_with(services, WEAK).run()
    entry = services.register.get_document(issued.entry.id)
    version = services.register.latest_copy_version(entry.id)
    assert version is not None
    verifier = services.local_verifier()

    by_token = verifier.by_token(entry.verification_token)
    assert by_token.verdict == "genuine", by_token.reasons
    assert by_token.stored_version == 1 and by_token.sha256 == version.sha256
    chain = by_token.archive_timestamps
    assert len(chain) == 2 and chain[1].signing_time == version.timestamp_at
    assert all(s.indication == "TOTAL_PASSED" for s in chain)
    assert by_token.to_json()["archive_timestamps"][1]["valid"] is True

    # The public API answers the same, with the chain (api/schemas.py VerificationOut).
    with TestClient(create_app(services=services)) as client:
        api = client.get(f"/api/v1/verify/{entry.verification_token}")
    assert api.status_code == 200
    body = api.json()
    assert body["verdict"] == "genuine" and body["stored_version"] == 1
    assert [s["valid"] for s in body["archive_timestamps"]] == [True, True]
    assert "Phạm Văn Dũng" not in api.text  # the requester (tests/issuing.py)

    renewed = stored_bytes(services, entry.copy_key, version.version_id)
    original = stored_bytes(services, entry.copy_key, entry.copy_version_id)
    for data, seq in ((renewed, 1), (original, 0)):
        answer = verifier.by_upload(data)
        assert answer.verdict == "genuine", answer.reasons
        assert answer.stored_version == seq

    # A renewed version followed by our own kind of update again (a later renewal not yet
    # recorded, as a holder's older download plus one more): genuine from the version.
    buf = io.BytesIO(renewed)
    services.certification()  # the signers are built
    from certify.signing import CopySigner

    CopySigner(services.signers(), clock=services.clock).renew_archive(buf)
    answer = verifier.by_upload(buf.getvalue())
    assert answer.verdict == "genuine", answer.reasons
    assert answer.stored_version == 1
    assert answer.reasons[0].code == "own_updates_only"

    # Anything else appended to a renewed version is a modification.
    tampered = renewed + b"\n1 0 obj\n<< /Evil true >>\nendobj\n%%EOF\n"
    assert verifier.by_upload(tampered).verdict == "modified"


def test_a_cancelled_copy_stays_cancelled_after_renewal(services: Services) -> None:
    from certify.ports import AuditRecord

    issued = issue_copy(services)
    now = services.clock.now()
    services.register.cancel_document(
        issued.entry.id, "Cấp nhầm", now, audit=AuditRecord("chairman", "copy.cancelled", "x", now)
    )
    run_with(services, WEAK).run()
    answer = services.local_verifier().by_token(issued.entry.verification_token)
    assert answer.verdict == "cancelled" and answer.stored_version == 1


def test_the_lease_keeps_a_second_run_out(services: Services) -> None:
    issue_copy(services)
    now = services.clock.now()
    assert services.register.acquire_lease(
        LEASE_NAME, "another-replica", now=now, ttl=dt.timedelta(minutes=10)
    )
    report = run_with(services, WEAK).run()
    assert report.lease_held_elsewhere and report.renewed == report.inspected == 0
    services.register.release_lease(LEASE_NAME, "another-replica")
    assert run_with(services, WEAK).run().renewed == 1


def test_two_runs_at_once_renew_each_copy_once(services: Services) -> None:
    copies = [issue_copy(services) for _ in range(3)]
    reports = []

    def go() -> None:
        reports.append(run_with(services, WEAK).run())

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.renewed for r in reports) == 3
    for issued in copies:
        assert [v.seq for v in services.register.copy_versions(issued.entry.id)] == [1]


class FailingOnce:
    """A renewer that fails on its ``n``-th copy, as a TSA outage in the middle of a run."""

    def __init__(self, inner: object, n: int) -> None:
        self._inner, self._n, self.calls = inner, n, 0

    def renew_archive(self, document: BinaryIO, *, md_algorithm: str = "sha256") -> None:
        self.calls += 1
        if self.calls == self._n:
            raise SigningError(code="archive_timestamp_failed")
        self._inner.renew_archive(document, md_algorithm=md_algorithm)  # type: ignore[attr-defined]


def test_a_run_that_fails_midway_leaves_the_rest_due_and_the_next_run_finishes(
    services: Services,
) -> None:
    copies = [issue_copy(services) for _ in range(3)]
    run = run_with(services, WEAK)
    run._renewer = FailingOnce(run._renewer, 2)  # the test's fault injection
    first = run.run()
    assert first.renewed == 2 and [code for _, code in first.failed] == ["archive_timestamp_failed"]
    second = run_with(services, WEAK).run()
    assert second.renewed == 1 and second.objects_read == 1
    for issued in copies:
        assert [v.seq for v in services.register.copy_versions(issued.entry.id)] == [1]


def test_a_stored_copy_that_differs_from_the_register_is_not_renewed(
    services: Services,
) -> None:
    issued: IssuedCopy = issue_copy(services)
    run = run_with(services, WEAK)
    run.run(limit=0)  # inspect only
    with services.engine.begin() as conn:
        conn.execute(
            update(Document).where(Document.id == issued.entry.id).values(copy_sha256="0" * 64)
        )
    report = run.run()
    assert report.renewed == 0 and report.failed == [(issued.entry.id, "copy_mismatch")]
    assert report.objects_written == 0
    assert services.register.latest_copy_version(issued.entry.id) is None


def test_a_tsa_about_to_expire_stops_the_run_before_anything_is_stored(
    services: Services,
) -> None:
    issued = issue_copy(services)
    # A margin longer than the TSA certificate's whole life: renewing with it gains nothing.
    report = run_with(services, WEAK, margin=dt.timedelta(days=20 * 365)).run()
    assert report.stopped == "tsa_expiring"
    assert report.renewed == 0 and report.objects_written == 0
    assert services.register.latest_copy_version(issued.entry.id) is None
