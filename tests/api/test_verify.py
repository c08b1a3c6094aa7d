"""Public verification through the HTTP API, on the real service: a copy issued here is
genuine by code and by upload, cancelled as soon as it is cancelled, and modified once
anything is appended to it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import xmlschema
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore

from api.app import create_app
from api.services import Services
from certify.copy import CopyBuilder
from certify.ports import AuditRecord
from certify.signing import CopySigner
from tests.api.conftest import issue_copy
from tests.attacks import append_annotation, signed_copy
from tests.issuing import ServedPki

pytestmark = [pytest.mark.integration]


@pytest.fixture(scope="module")
def client(verify_services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=verify_services)) as client:
        yield client


def test_qr_code_then_upload_genuine_then_cancelled(
    client: TestClient, verify_services: Services
) -> None:
    issued = issue_copy(verify_services)
    token = issued.entry.verification_token

    by_code = client.get(f"/api/v1/verify/{token}")
    assert by_code.status_code == 200
    body = by_code.json()
    assert body["verdict"] == "genuine", body["reasons"]
    assert body["pades_level"] == "PAdES-BASELINE-LTA"
    register = body["register"]
    assert register["number"] == issued.entry.number
    assert register["book"] == issued.entry.book
    assert register["authority_name"] == "UBND phường Tân Phú"
    assert register["copy_sha256"] == issued.entry.copy_sha256
    roles = sorted(s["role"] for s in body["signatures"])
    assert roles == ["certifier", "seal", "timestamp"]
    assert all(s["trusted"] and s["intact"] for s in body["signatures"])
    assert all(s["signing_time"] for s in body["signatures"])
    text = by_code.text
    assert "Phạm Văn Dũng" not in text and "079200001234" not in text  # never the requester

    upload = client.post("/api/v1/verify", files={"file": ("copy.pdf", issued.pdf)})
    assert upload.status_code == 200
    assert upload.json()["verdict"] == "genuine"
    raw = client.post(
        "/api/v1/verify", content=issued.pdf, headers={"content-type": "application/pdf"}
    )
    assert raw.json()["verdict"] == "genuine"

    register_db = verify_services.register
    now = verify_services.clock.now()
    register_db.cancel_document(
        issued.entry.id,
        "Chứng thực sai thẩm quyền",
        now,
        audit=AuditRecord("chairman", "copy.cancelled", issued.entry.id, now),
    )
    after = client.get(f"/api/v1/verify/{token}").json()
    assert after["verdict"] == "cancelled"
    assert after["register"]["cancelled_reason"] == "Chứng thực sai thẩm quyền"
    assert after["register"]["cancelled_on"] == "2026-12-01"
    uploaded = client.post("/api/v1/verify", files={"file": ("copy.pdf", issued.pdf)}).json()
    assert uploaded["verdict"] == "cancelled"


def test_appended_annotation_is_modified_with_the_register_entry(
    client: TestClient, verify_services: Services
) -> None:
    issued = issue_copy(verify_services)
    answer = client.post(
        "/api/v1/verify", files={"file": ("copy.pdf", append_annotation(issued.pdf))}
    ).json()
    assert answer["verdict"] == "modified"
    assert [r["code"] for r in answer["reasons"]] == ["appended_changes"]
    assert answer["register"]["number"] == issued.entry.number


def test_unknown_code_and_not_a_pdf_are_answers(client: TestClient) -> None:
    unknown = client.get("/api/v1/verify/" + "A" * 32)
    assert unknown.status_code == 200
    assert unknown.json()["verdict"] == "unknown"
    junk = client.post("/api/v1/verify", files={"file": ("x.pdf", b"hello, not a pdf")})
    assert junk.status_code == 200
    assert junk.json()["verdict"] == "unreadable"


def test_request_errors_have_codes(client: TestClient) -> None:
    missing = client.post("/api/v1/verify", files={"other": ("x", b"y")})
    assert missing.status_code == 400
    assert missing.json()["error"] == "upload_missing"
    assert missing.headers["x-content-type-options"] == "nosniff"
    assert "script-src 'none'" in missing.headers["content-security-policy"]


def archive_timestamp(pdf: bytes, timestamper: TimeStamper) -> bytes:
    """What a preservation run appends: a DSS update and a document time-stamp (B-LTA
    renewal, ETSI EN 319 142-1)."""
    out = io.BytesIO(pdf)
    writer = IncrementalPdfFileWriter(out)
    DocumentSecurityStore.supply_dss_in_writer(writer, None, certs=[], ocsps=[], crls=[])
    signers.PdfTimeStamper(timestamper).timestamp_pdf(
        writer, "sha256", bytes_reserved=20_000, in_place=True
    )
    return out.getvalue()


def outside_timestamper() -> TimeStamper:
    """An RFC 3161 time-stamper whose TSA certificate does not chain to our roots."""
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, "Time Stamping Authority - Đồng Nai")]
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
        .sign(key, hashes.SHA256())
    )
    der_key = key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    return DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(der_key),
    )


def test_our_archive_timestamp_keeps_a_copy_genuine_an_outside_one_does_not(
    verify_services: Services, served_pki: ServedPki
) -> None:
    issued = issue_copy(verify_services)
    verifier = verify_services.local_verifier()

    renewed = archive_timestamp(issued.pdf, served_pki.signers.timestamper())
    answer = verifier.by_upload(renewed)
    assert answer.verdict == "genuine", answer.reasons
    assert answer.reasons[0].code == "own_updates_only"
    assert answer.validation is not None
    assert [s.kind for s in answer.validation.signatures].count("timestamp") == 2

    foreign = archive_timestamp(issued.pdf, outside_timestamper())
    refused = verifier.by_upload(foreign)
    assert refused.verdict == "modified"
    assert refused.entry is not None and refused.entry.number == issued.entry.number


SCHEMA = Path(__file__).resolve().parents[1] / "data/etsi-ts-119102-2"


def test_etsi_report_of_a_code_validates_against_the_schema(
    client: TestClient, verify_services: Services
) -> None:
    issued = issue_copy(verify_services)
    answer = client.get(f"/api/v1/verify/{issued.entry.verification_token}/report.xml")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/xml")
    schema = xmlschema.XMLSchema(str(SCHEMA / "1910202xmlSchema.xsd"), allow="local")
    resource = xmlschema.XMLResource(answer.text, allow="none")
    schema.validate(resource)
    assert answer.text.count("SignatureValidationReport>") == 2 * 3  # officer, seal, timestamp
    assert "urn:etsi:019102:mainindication:total-passed" in answer.text

    uploaded = client.post(
        "/api/v1/verify/report.xml",
        content=b"%PDF-1.7\n garbage",
        headers={"content-type": "application/pdf"},
    )
    assert uploaded.status_code == 200
    schema.validate(xmlschema.XMLResource(uploaded.text, allow="none"))
    assert "total-failed" in uploaded.text


def test_oversized_upload_is_413_and_a_flood_is_429(verify_services: Services) -> None:
    small = dataclasses.replace(
        verify_services,
        settings=verify_services.settings.model_copy(update={"verify_max_upload_bytes": 10_000}),
    )
    limited = verify_services.settings.model_copy(
        update={"verify_upload_rate_limit": "2/minute", "verify_token_rate_limit": "3/minute"}
    )
    with TestClient(create_app(limited, services=small)) as client:
        big = client.post(
            "/api/v1/verify",
            content=b"%PDF-" + b"0" * 20_000,
            headers={"content-type": "application/pdf"},
        )
        assert big.status_code == 413
        assert big.json()["error"] == "upload_too_large"
        multipart = client.post(
            "/api/v1/verify", files={"file": ("x.pdf", b"%PDF-" + b"0" * 20_000)}
        )
        assert multipart.status_code == 413
        answers = [client.get("/api/v1/verify/" + "B" * 32).status_code for _ in range(4)]
        assert answers == [200, 200, 200, 429]
        flooded = client.get("/api/v1/verify/" + "B" * 32)
        assert flooded.status_code == 429
        assert flooded.json()["error"] == "rate_limited"
        assert 1 <= int(flooded.headers["retry-after"]) <= 60


def test_a_copy_signed_with_our_keys_but_not_registered_is_a_loud_unknown(
    client: TestClient,
    copy_builder: CopyBuilder,
    copy_signer: CopySigner,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    pdf = signed_copy(copy_builder, copy_signer, tmp_path)
    with caplog.at_level(logging.WARNING, logger="certify.incidents"):
        answer = client.post("/api/v1/verify", files={"file": ("copy.pdf", pdf)}).json()
    assert answer["verdict"] == "unknown"
    assert [r["code"] for r in answer["reasons"]] == ["signed_by_us_not_registered"]
    assert answer["register"] is None
    assert all(s["trusted"] for s in answer["signatures"])
    digest = hashlib.sha256(pdf).hexdigest()
    assert any(digest in r.getMessage() for r in caplog.records if r.name == "certify.incidents")


def test_trust_anchors_follow_changes_of_the_pki(
    verify_services: Services, served_pki: ServedPki
) -> None:
    before = verify_services.trust_anchors()
    assert verify_services.trust_anchors() is before  # cached while the PKI is unchanged
    served_pki.pki.issue_officer("trust.test", "Người Thử", "Công chức", "dn-tanphu")
    after = verify_services.trust_anchors()
    assert after is not before
    assert after.roots == before.roots
