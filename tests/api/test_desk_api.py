"""The office desk through the API (issue 11): receive → check → upload → certify with TOTP →
download → cancel, on the real stack (MinIO, SQLite, the test PKI); and each refusal, with
the attempts recorded in the audit chain."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

import pytest
from fastapi.testclient import TestClient

from api.services import Services
from tests.api.desk_fixtures import (
    ADMIN,
    bearer,
    client,
    desk,
    page_files,
    totp_now,
)
from tests.issuing import CERTIFIER, CLERK, OTHER_CERTIFIER

pytestmark = pytest.mark.integration
__all__ = ["client", "desk"]  # fixtures

RECEIVE = {
    "requester_name": "Nguyễn Thị Hường",
    "requester_id_number": "079300004567",
    "requester_contact": "0901234567",
    "originals": [
        {"document_name": "Bằng tốt nghiệp THPT", "pages": 3, "copies": 2},
        {"document_name": "Giấy khai sinh", "pages": 1, "copies": 1},
    ],
}


def audit(services: Services) -> list[tuple[str, str, str]]:
    """(actor, action, subject) of every audit event, oldest first."""
    path = services.settings.resolved_database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT actor, action, subject FROM audit_events ORDER BY id")
        return [tuple(r) for r in rows]


def instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def received(client: TestClient, clerk: dict[str, str]) -> str:
    answer = client.post("/api/v1/requests", json=RECEIVE, headers=clerk)
    assert answer.status_code == 201, answer.text
    code: str = answer.json()["code"]
    return code


def scanned(client: TestClient, clerk: dict[str, str], pages: int = 3) -> str:
    code = received(client, clerk)
    assert client.post(f"/api/v1/requests/{code}/originals/1/check", headers=clerk).is_success
    answer = client.put(
        f"/api/v1/requests/{code}/originals/1/scan", files=page_files(pages), headers=clerk
    )
    assert answer.status_code == 200, answer.text
    return code


def test_a_request_goes_from_the_desk_to_a_genuine_copy_and_is_cancelled(
    client: TestClient, desk: Services
) -> None:
    clerk = bearer(client, desk, CLERK.username)
    certifier = bearer(client, desk, CERTIFIER.username)
    admin = bearer(client, desk, ADMIN.username)

    answer = client.post("/api/v1/requests", json=RECEIVE, headers=clerk)
    assert answer.status_code == 201, answer.text
    made = answer.json()
    code = made["code"]
    # Received Tuesday 1 Dec 2026 at 09:00 (Vietnam): due at 17:00 the same day.
    assert instant(made["due_at"]) == dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC)
    assert [o["status"] for o in made["originals"]] == ["received", "received"]

    checked = client.post(f"/api/v1/requests/{code}/originals/1/check", headers=clerk).json()
    assert (checked["status"], checked["checked_by"]) == ("checked", CLERK.username)
    assert instant(checked["checked_at"]) == dt.datetime(2026, 12, 1, 2, tzinfo=dt.UTC)

    upload = client.put(
        f"/api/v1/requests/{code}/originals/1/scan", files=page_files(3), headers=clerk
    )
    assert upload.status_code == 200, upload.text
    body = upload.json()
    assert body["original"]["status"] == "scanned"
    assert body["original"]["scan_pages"] == 3
    assert len(body["previews"]) == 3
    preview = client.get(body["previews"][2], headers=certifier)
    assert preview.status_code == 200
    assert preview.headers["content-type"] == "image/png"
    assert preview.content.startswith(b"\x89PNG")

    shown = client.get(f"/api/v1/requests/{code}", headers=certifier).json()
    # TT 226/2016: 2 000 đ a page for the first two pages, 1 000 đ from the third, per copy.
    assert shown["originals"][0]["fee"] == 2 * (2000 + 2000 + 1000)

    certified = client.post(
        f"/api/v1/requests/{code}/originals/1/certify",
        json={"totp": totp_now(desk)},
        headers=certifier,
    )
    assert certified.status_code == 201, certified.text
    document = certified.json()["document"]
    assert (document["number"], document["book"], document["pages"]) == (1, "01/2026", 3)

    shown = client.get(f"/api/v1/requests/{code}", headers=clerk).json()
    assert shown["originals"][0]["status"] == "certified"
    assert shown["originals"][0]["document_id"] == document["id"]
    assert shown["status"] == "received"  # the second original is still open

    pdf = client.get(document["download"], headers=clerk)
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    verdict = client.post(
        "/api/v1/verify", content=pdf.content, headers={"Content-Type": "application/pdf"}
    )
    assert verdict.json()["verdict"] == "genuine", verdict.text

    cancelled = client.post(
        f"/api/v1/documents/{document['id']}/cancel",
        json={"reason": "Cấp nhầm bản chính"},
        headers=admin,
    )
    assert cancelled.status_code == 200, cancelled.text
    verdict = client.post(
        "/api/v1/verify", content=pdf.content, headers={"Content-Type": "application/pdf"}
    )
    assert verdict.json()["verdict"] == "cancelled"

    events = [(actor, action) for actor, action, _ in audit(desk)]
    for expected in [
        (CLERK.username, "request_received"),
        (CLERK.username, "original_checked"),
        (CLERK.username, "scan_uploaded"),
        (CERTIFIER.username, "copy.issued"),
        (CLERK.username, "copy_downloaded"),
        (ADMIN.username, "copy.cancelled"),
    ]:
        assert expected in events
    # The uploaded files and previews are gone once certified; the scan pages stay.
    keys = [k for k, _ in desk.store.list_objects(desk.store.scans_bucket, "desk/")]
    assert keys == []


def test_refusing_every_original_refuses_the_request(client: TestClient, desk: Services) -> None:
    clerk = bearer(client, desk, CLERK.username)
    code = scanned(client, clerk)
    for position in (1, 2):
        answer = client.post(
            f"/api/v1/requests/{code}/originals/{position}/refuse",
            json={"ground": "damaged", "note": "Rách mất góc"},
            headers=clerk,
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["refusal_code"] == "damaged"
    assert client.get(f"/api/v1/requests/{code}", headers=clerk).json()["status"] == "refused"
    # The refused original's upload is removed.
    assert list(desk.store.list_objects(desk.store.scans_bucket, "desk/")) == []
    again = client.post(
        f"/api/v1/requests/{code}/originals/1/refuse", json={"ground": "secret"}, headers=clerk
    )
    assert (again.status_code, again.json()["error"]) == (409, "item_state")
    fresh = received(client, clerk)
    bad = client.post(
        f"/api/v1/requests/{fresh}/originals/1/refuse", json={"ground": "ugly"}, headers=clerk
    )
    assert (bad.status_code, bad.json()["error"]) == (400, "refusal_code_invalid")


def test_another_authority_sees_nothing_and_a_wrong_role_is_refused(
    client: TestClient, desk: Services
) -> None:
    clerk = bearer(client, desk, CLERK.username)
    stranger = bearer(client, desk, OTHER_CERTIFIER.username)
    code = scanned(client, clerk)
    for method, path in [
        ("GET", f"/api/v1/requests/{code}"),
        ("POST", f"/api/v1/requests/{code}/originals/1/check"),
        ("GET", f"/api/v1/requests/{code}/originals/1/pages/1.png"),
    ]:
        answer = client.request(method, path, headers=stranger)
        assert (answer.status_code, answer.json()["error"]) == (404, "not_found"), path
    answer = client.post(
        f"/api/v1/requests/{code}/originals/1/certify", json={"totp": "123456"}, headers=stranger
    )
    assert answer.status_code == 404
    assert code not in {q["code"] for q in client.get("/api/v1/requests", headers=stranger).json()}

    # The clerk cannot certify, nor cancel.
    answer = client.post(
        f"/api/v1/requests/{code}/originals/1/certify", json={"totp": "123456"}, headers=clerk
    )
    assert (answer.status_code, answer.json()["error"]) == (403, "role_required")

    # Each refused attempt is in the audit chain: who, what, why (never another's data).
    refused = [(a, s) for a, action, s in audit(desk) if action == "access_refused"]
    assert (OTHER_CERTIFIER.username, code) in refused
    assert (CLERK.username, code) in refused
    path = desk.settings.resolved_database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        reasons = {
            (actor, json.loads(details)["reason"])
            for actor, details in db.execute(
                "SELECT actor, details FROM audit_events WHERE action = 'access_refused'"
            )
        }
    assert reasons == {
        (OTHER_CERTIFIER.username, "other_authority"),
        (CLERK.username, "role_required"),
    }
    # A request that does not exist answers exactly like another authority's.
    missing = client.get("/api/v1/requests/HS-0000000000", headers=stranger)
    theirs = client.get(f"/api/v1/requests/{code}", headers=stranger)
    assert (missing.status_code, missing.json()) == (theirs.status_code, theirs.json())


def test_certifying_needs_the_right_totp_code_and_each_refusal_is_recorded(
    client: TestClient, desk: Services
) -> None:
    clerk = bearer(client, desk, CLERK.username)
    certifier = bearer(client, desk, CERTIFIER.username)
    code = scanned(client, clerk, pages=1)
    path = f"/api/v1/requests/{code}/originals/1/certify"

    answer = client.post(path, json={"totp": "000000"}, headers=certifier)
    assert (answer.status_code, answer.json()["error"]) == (403, "totp_invalid")
    desk.register.set_officer_totp(CERTIFIER.username, None)
    answer = client.post(path, json={"totp": "123456"}, headers=certifier)
    assert (answer.status_code, answer.json()["error"]) == (403, "totp_not_enrolled")
    refusals = [e for e in audit(desk) if e[1] == "certify_refused"]
    assert refusals == [(CERTIFIER.username, "certify_refused", code)] * 2
    # Nothing was signed or numbered.
    assert not list(desk.store.list_objects(desk.store.copies_bucket, ""))
    assert (
        client.get(f"/api/v1/requests/{code}", headers=clerk).json()["originals"][0]["status"]
        == "scanned"
    )


def test_an_original_is_certified_once(client: TestClient, desk: Services) -> None:
    clerk = bearer(client, desk, CLERK.username)
    certifier = bearer(client, desk, CERTIFIER.username)
    code = scanned(client, clerk, pages=1)
    path = f"/api/v1/requests/{code}/originals/1/certify"
    assert client.post(path, json={"totp": totp_now(desk)}, headers=certifier).status_code == 201
    again = client.post(path, json={"totp": totp_now(desk)}, headers=certifier)
    assert (again.status_code, again.json()["error"]) == (409, "item_state")
    # Uploading before the check is refused too.
    fresh = received(client, clerk)
    answer = client.put(
        f"/api/v1/requests/{fresh}/originals/1/scan", files=page_files(1), headers=clerk
    )
    assert (answer.status_code, answer.json()["error"]) == (409, "item_state")


def test_a_refused_scan_keeps_nothing(client: TestClient, desk: Services) -> None:
    clerk = bearer(client, desk, CLERK.username)
    code = received(client, clerk)
    client.post(f"/api/v1/requests/{code}/originals/1/check", headers=clerk)
    answer = client.put(
        f"/api/v1/requests/{code}/originals/1/scan",
        files=[("files", ("x.jpg", b"not an image", "image/jpeg"))],
        headers=clerk,
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "scan_type_unsupported"
    assert list(desk.store.list_objects(desk.store.scans_bucket, "desk/")) == []
    shown = client.get(f"/api/v1/requests/{code}", headers=clerk).json()
    assert shown["originals"][0]["status"] == "checked"


def test_an_extension_gives_an_appointment_slip(client: TestClient, desk: Services) -> None:
    clerk = bearer(client, desk, CLERK.username)
    code = received(client, clerk)
    slip = client.get(f"/api/v1/requests/{code}/appointment-slip.pdf", headers=clerk)
    assert (slip.status_code, slip.json()["error"]) == (400, "not_extended")
    answer = client.post(
        f"/api/v1/requests/{code}/extend", json={"working_days": 2, "at": "10:00"}, headers=clerk
    )
    assert answer.status_code == 200, answer.text
    # Due Tue 1 Dec; 2 working days later is Thu 3 Dec, 10:00 Vietnam = 03:00 UTC.
    assert instant(answer.json()["extended_to"]) == dt.datetime(2026, 12, 3, 3, tzinfo=dt.UTC)
    too_long = client.post(
        f"/api/v1/requests/{code}/extend", json={"working_days": 3, "at": "10:00"}, headers=clerk
    )
    assert (too_long.status_code, too_long.json()["error"]) == (400, "extension_too_long")
    slip = client.get(f"/api/v1/requests/{code}/appointment-slip.pdf", headers=clerk)
    assert slip.status_code == 200
    assert slip.content.startswith(b"%PDF")


def test_the_queue_is_sorted_by_deadline_and_marks_overdue(
    client: TestClient, desk: Services
) -> None:
    clerk = bearer(client, desk, CLERK.username)
    first = received(client, clerk)  # 09:00: due today 17:00
    clock = desk.clock
    clock.at = dt.datetime(2026, 12, 1, 8, 30, tzinfo=dt.UTC)  # type: ignore[attr-defined]
    later = received(client, clerk)  # 15:30: due tomorrow 17:00
    clock.at = dt.datetime(2026, 12, 1, 10, 30, tzinfo=dt.UTC)  # type: ignore[attr-defined]
    queue = client.get("/api/v1/requests", headers=clerk).json()
    # The seeded request made outside the desk has no due time: last.
    assert [q["code"] for q in queue] == [first, later, "YC-0001"]
    assert [q["overdue"] for q in queue] == [True, False, False]
    counts = client.get("/api/v1/office/counts?year=2026&month=12", headers=clerk).json()
    # The seeded request counts where its (wall-clock) receipt falls; the two of the desk
    # are open, and the one past 17:00 is overdue.
    assert counts["received"] == counts["open"] >= 2
    assert counts["overdue"] == 1


def test_a_totp_code_signs_once(client: TestClient, desk: Services) -> None:
    """RFC 6238 §5.2: a code seen once (over a shoulder, in a proxy log) cannot sign again."""
    clerk = bearer(client, desk, CLERK.username)
    certifier = bearer(client, desk, CERTIFIER.username)
    code = scanned(client, clerk, pages=1)
    client.post(f"/api/v1/requests/{code}/originals/2/check", headers=clerk)
    client.put(f"/api/v1/requests/{code}/originals/2/scan", files=page_files(1), headers=clerk)
    seen = totp_now(desk)
    first = client.post(
        f"/api/v1/requests/{code}/originals/1/certify", json={"totp": seen}, headers=certifier
    )
    assert first.status_code == 201, first.text
    replayed = client.post(
        f"/api/v1/requests/{code}/originals/2/certify", json={"totp": seen}, headers=certifier
    )
    assert (replayed.status_code, replayed.json()["error"]) == (403, "totp_invalid")
    desk.clock.at += dt.timedelta(seconds=30)  # type: ignore[attr-defined]
    fresh = client.post(
        f"/api/v1/requests/{code}/originals/2/certify",
        json={"totp": totp_now(desk)},
        headers=certifier,
    )
    assert fresh.status_code == 201, fresh.text
    assert client.get(f"/api/v1/requests/{code}", headers=clerk).json()["status"] == "certified"
