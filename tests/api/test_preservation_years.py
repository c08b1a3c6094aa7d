"""Twelve years and a half on a fixed clock (issue 14, done-when): copies issued in year 0 get
archive time-stamps before each TSA certificate ends, across TSA rollovers and one renewal of
the issuing CA, and every copy verifies ``genuine`` at the end: by token, by upload (the
newest version and the copy as issued), by a full validation of ours on that day, and by
pyHanko's validators offline with only what the file embeds (each document time-stamp valid
when the next one proves it existed, the signatures at the time of the first).

pyHanko's own AdES long-term validation (``ades_lta_validation``, ETSI EN 319 102-1 §5.6.3,
"incubating" in pyHanko 0.38) passes after the first renewal; once an older time-stamp's TSA
certificate has expired while its issuer's newer CRL is in the file, its time-sliding keeps
the check in the present and stops (it does not set aside revocation data issued after a
certificate expired), so the end is checked with the evidence chain above.

The real parts: MinIO with Object Lock, the SQLite register, the provincial PKI on disk with
every time it reads or writes taken from the test's clock (certificates, CRLs, OCSP answers,
time-stamp tokens), the certification service as the application wires it.

Timeline (validity: root 20 y, issuing CA 10 y, TSA 5 y, OCSP 1 y, seal 3 y, officer 2 y;
preservation margin 180 days; Y = 365 days):

- 0:            PKI; copies A and B issued (TSA1, issuing CA1).
- 4Y:           OCSP responder and TSA renewed (TSA2 under CA1); new seal and officer
                certificates; copy C issued (TSA2).
- 5Y - 170 d:   preservation renews A and B (TSA1 ends at 5Y): TSA2.
- 8Y:           issuing CA renewed (CA2, and an OCSP responder under it), TSA renewed (TSA3
                under CA2); new seal and officer certificates under CA2; copy D issued.
- 9Y - 170 d:   A, B and C renewed (TSA2 ends at 9Y): TSA3. CA1 is still valid and
                publishes its own CRL, which covers TSA2.
- 12Y:          TSA renewed (TSA4 under CA2).
- 13Y - 170 d:  A, B, C and D renewed (TSA3 ends at 13Y): TSA4.
- an hour later: every copy checked.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import time_machine
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    SignatureValidationSpec,
)
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
from pyhanko_certvalidator.policy_decl import (
    CertRevTrustPolicy,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)
from pyhanko_certvalidator.registry import SimpleTrustManager

from api.preservation_wiring import preserver
from api.services import Services, trust_anchors
from api.settings import Settings
from certify.issuance import IssuedCopy
from certify.preservation import PreservationPolicy, PreservationReport
from certify.verification import validate_pdf
from keys.ca import ProvincialPKI
from keys.signers import SignerSource
from storage import database
from storage.minio_server import MinioServer
from storage.objects import MinioObjectStore
from storage.sql_register import SqlRegister
from tests.api.conftest import issue_copy
from tests.conftest import store_config
from tests.issuing import AUTHORITY, CERTIFIER, OTHER_AUTHORITY, seed_register

pytestmark = [pytest.mark.integration, pytest.mark.slow]

Y = dt.timedelta(days=365)
START = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
MARGIN = dt.timedelta(days=180)


class MovingClock:
    """The test's clock: fixed, moved only by the test."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def now(self) -> dt.datetime:
        return self.at

    def to(self, offset: dt.timedelta) -> None:
        assert START + offset >= self.at, "time runs forward"
        self.at = START + offset


@dataclass
class World:
    clock: MovingClock
    pki: ProvincialPKI
    services: Services

    def preserve(self) -> PreservationReport:
        run = preserver(self.services)
        run.policy = PreservationPolicy(margin=MARGIN)
        report = run.run()
        assert report.failed == [] and report.stopped is None, report
        return report

    def new_holders(self) -> None:
        """Seal and certifier certificates for the next years (theirs live 3 and 2 years)."""
        self.pki.issue_authority(AUTHORITY.code, AUTHORITY.name)
        self.pki.issue_officer(
            CERTIFIER.username, CERTIFIER.full_name, CERTIFIER.title, CERTIFIER.authority_code
        )

    def newest(self, issued: IssuedCopy) -> bytes:
        entry = self.services.register.get_document(issued.entry.id)
        version = self.services.register.latest_copy_version(entry.id)
        version_id = version.version_id if version else entry.copy_version_id
        with self.services.store.open(
            self.services.store.copies_bucket, entry.copy_key, version_id=version_id
        ) as fh:
            return fh.read()


@pytest.fixture
def world(minio_server: MinioServer, tmp_path: Path) -> Iterator[World]:
    clock = MovingClock(START)
    pki = ProvincialPKI.init(
        tmp_path / "pki",
        province="Đồng Nai",
        passphrase=b"test passphrase",
        base_url="http://127.0.0.1:9",  # never fetched: every check here is offline
        clock=clock.now,
    )
    for authority in (AUTHORITY, OTHER_AUTHORITY):
        pki.issue_authority(authority.code, authority.name)
    pki.issue_officer(
        CERTIFIER.username, CERTIFIER.full_name, CERTIFIER.title, CERTIFIER.authority_code
    )
    settings = Settings(
        data_dir=tmp_path / "var",
        deployment="demo",
        public_base_url="http://testserver",
        mail_interval_seconds=0,
        preserve_interval_hours=0,
    )
    database.upgrade(settings.resolved_database_url)
    store = MinioObjectStore(store_config(minio_server))
    store.ensure_buckets()
    engine = database.make_engine(settings.resolved_database_url)
    seed_register(SqlRegister(engine))
    services = Services(
        settings=settings,
        engine=engine,
        store=store,
        clock=clock,
        _pki=pki,
        _signers=SignerSource(pki),
    )
    try:
        yield World(clock, pki, services)
    finally:
        services.close()


def pyhanko_lta(pdf: bytes, roots: list[bytes], at: dt.datetime) -> list[str]:
    """pyHanko's AdES long-term validation of each signature at ``at``, trusting only
    ``roots`` and using only the validation data in the file (no fetching)."""
    from asn1crypto import x509 as asn1_x509

    reader = PdfFileReader(io.BytesIO(pdf))
    spec = PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=CertValidationPolicySpec(
                trust_manager=SimpleTrustManager.build(
                    trust_roots=[asn1_x509.Certificate.load(r) for r in roots]
                ),
                revinfo_policy=CertRevTrustPolicy(
                    RevocationCheckingPolicy(
                        ee_certificate_rule=RevocationCheckingRule.CHECK_IF_DECLARED,
                        intermediate_ca_cert_rule=RevocationCheckingRule.CHECK_IF_DECLARED,
                    )
                ),
            )
        )
    )
    timing = ValidationTimingInfo(
        validation_time=at, best_signature_time=at, point_in_time_validation=False
    )
    results = []
    # pyHanko takes "now" from the system clock for what it learns during the validation
    # (its proofs of existence): the system clock is moved to ``at`` for this offline check
    # only (no MinIO request is signed meanwhile).
    with time_machine.travel(at, tick=False):
        for sig in reader.embedded_regular_signatures:
            result = asyncio.run(ades_lta_validation(sig, spec, timing_info=timing))
            results.append(result.ades_subindic.status.name)
    return results


def pyhanko_evidence_chain(pdf: bytes, roots: list[bytes], at: dt.datetime) -> int:
    """Check with pyHanko's validators, offline and with only the file's DSS: every document
    time-stamp valid (intact, trusted, unrevoked) at the time the next one proves it existed,
    the last one at ``at``; both signatures valid at the time of the first document
    time-stamp. Returns the number of document time-stamps; fails an assert otherwise."""
    from asn1crypto import x509 as asn1_x509

    reader = PdfFileReader(io.BytesIO(pdf))
    dss = DocumentSecurityStore.read_dss(reader)
    trust = [asn1_x509.Certificate.load(r) for r in roots]

    def context(moment: dt.datetime) -> ValidationContext:
        return dss.as_validation_context(
            {
                "trust_roots": trust,
                "allow_fetching": False,
                "revocation_mode": "hard-fail",
                "moment": moment,
            }
        )

    stamps = reader.embedded_timestamp_signatures
    times = [
        s.signed_data["encap_content_info"]["content"].parsed["gen_time"].native for s in stamps
    ]
    for i, stamp in enumerate(stamps):
        moment = times[i + 1] if i + 1 < len(stamps) else at
        status = validate_pdf_timestamp(stamp, validation_context=context(moment))
        assert status.intact and status.valid and status.trusted, (i, moment)
    for sig in reader.embedded_regular_signatures:
        signed = validate_pdf_signature(sig, context(times[0]), context(times[0]))
        assert signed.bottom_line, sig.field_name
    return len(stamps)


def test_twelve_years_of_archive_timestamps_across_rollovers(world: World) -> None:
    clock, pki, services = world.clock, world.pki, world.services
    a, b = issue_copy(services), issue_copy(services, document_name="Bằng tốt nghiệp")
    first = world.preserve()
    assert (first.inspected, first.renewed, first.objects_read) == (2, 0, 0)
    tsa1 = pki.tsa.cert

    clock.to(4 * Y)
    pki.renew("ocsp")
    pki.renew("tsa")
    world.new_holders()
    c = issue_copy(services, document_name="Giấy chứng nhận quyền sử dụng đất")
    assert pki.tsa.cert.serial_number != tsa1.serial_number
    assert world.preserve().renewed == 0  # TSA1 ends at 5Y: not yet within the margin

    clock.to(5 * Y - dt.timedelta(days=170))
    assert world.preserve().renewed == 2  # A and B
    # pyHanko's AdES long-term validation (ETSI EN 319 102-1 §5.6.3) of a renewed copy,
    # offline, the next hour: passed, the signatures' proof of existence from year 0.
    clock.to(5 * Y - dt.timedelta(days=170) + dt.timedelta(hours=1))
    roots = [c.public_bytes(Encoding.DER) for c in pki.trust_roots()]
    assert pyhanko_lta(world.newest(a), roots, clock.now()) == ["PASSED", "PASSED"]

    clock.to(8 * Y)
    pki.renew("issuing")
    pki.renew("tsa")
    ca1, ca2 = pki.ca_certificates("issuing")
    assert ca2.subject != ca1.subject
    world.new_holders()
    d = issue_copy(services, document_name="Giấy khai sinh")
    assert pki.tsa.cert.issuer == pki.ca_certificate("root").subject

    clock.to(9 * Y - dt.timedelta(days=170))
    assert world.preserve().renewed == 3  # A, B (TSA2) and C (TSA2), under CA1's CRL

    clock.to(12 * Y)
    pki.renew("tsa")
    assert world.preserve().renewed == 0

    clock.to(13 * Y - dt.timedelta(days=170))
    last = world.preserve()
    assert last.renewed == 4 and last.objects_read == 4
    assert world.preserve().renewed == 0  # and again: nothing left

    clock.to(13 * Y - dt.timedelta(days=170) + dt.timedelta(hours=1))
    end = clock.now()
    verifier = services.local_verifier()
    trust = trust_anchors(services.signers())
    roots = [c.public_bytes(Encoding.DER) for c in pki.trust_roots()]
    for issued, versions in ((a, 3), (b, 3), (c, 2), (d, 1)):
        token = issued.entry.verification_token
        by_token = verifier.by_token(token)
        assert by_token.verdict == "genuine", (issued.entry.document_name, by_token.reasons)
        assert by_token.stored_version == versions
        chain = by_token.archive_timestamps
        assert len(chain) == versions + 1
        assert all(s.indication == "TOTAL_PASSED" for s in chain)

        newest = world.newest(issued)
        assert verifier.by_upload(newest).verdict == "genuine"
        as_issued = verifier.by_upload(issued.pdf)
        assert as_issued.verdict == "genuine" and as_issued.stored_version == 0

        # Our validation, from scratch on this day, of the newest version: every signature
        # and time-stamp checked at its own time with the embedded data only.
        fresh = validate_pdf(newest, trust, now=end)
        assert fresh.outcome == "valid", fresh.reasons
        assert fresh.pades_level == "PAdES-BASELINE-LTA"

        # pyHanko's own long-term validation at year 12.5: the signatures pass through the
        # chain of archive time-stamps.
        # pyHanko, offline with only what the file embeds: each document time-stamp valid
        # when the next one proves it existed (the last one today), each signature valid at
        # the time of the first.
        assert pyhanko_evidence_chain(newest, roots, end) == versions + 1

    # Without the renewals, the copy as issued in year 0 has no such chain: its only
    # time-stamp's TSA certificate ended 7 years ago.
    with pytest.raises(AssertionError):
        pyhanko_evidence_chain(a.pdf, roots, end)
    # The register and the bucket agree, every renewal is an audit event, the chain holds.
    assert services.register.first_broken_audit_event() is None
