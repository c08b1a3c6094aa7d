"""Public verification through the HTTP API, on the real service: a copy issued here is
genuine by code and by upload, cancelled as soon as it is cancelled, and modified once
anything is appended to it."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from api.app import create_app
from api.services import Services
from certify.ports import AuditRecord
from tests.api.conftest import issue_copy

pytestmark = [pytest.mark.integration]


@pytest.fixture(scope="module")
def client(verify_services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=verify_services)) as client:
        yield client


def with_annotation(pdf: bytes) -> bytes:
    """The copy with a square annotation appended in an incremental update."""
    out = io.BytesIO(pdf)
    writer = IncrementalPdfFileWriter(out)
    page_ref = writer.root["/Pages"]["/Kids"][0]
    page = page_ref.get_object()
    annot = writer.add_object(
        generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Annot"),
                generic.NameObject("/Subtype"): generic.NameObject("/Square"),
                generic.NameObject("/Rect"): generic.ArrayObject(
                    [generic.FloatObject(v) for v in (50, 50, 300, 300)]
                ),
            }
        )
    )
    annots = page.get("/Annots", generic.ArrayObject())
    annots.append(annot)
    page[generic.NameObject("/Annots")] = annots
    writer.update_container(page)
    writer.write_in_place()
    return out.getvalue()


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
        "/api/v1/verify", files={"file": ("copy.pdf", with_annotation(issued.pdf))}
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
