"""The desk's pages (issue 11.2-11.5) in TestClient, logged in through ``/desk/login``: a
clerk receives, checks and uploads, a certifier certifies with TOTP and lands on the copy's
page, the copy downloads and hands over by an expiring link, the register's month lists it,
the queue marks the overdue; and each refusal (CSRF, TOTP, role, another authority, a guessed
or expired link), with what reached the service recorded in the audit chain."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import re
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.services import Services
from certify.access import Principal
from certify.desk import OriginalIntake, RequestIntake
from storage.minio_server import MinioServer
from tests.api.conftest import FixedClock
from tests.api.desk_fixtures import (
    ADMIN,
    bearer,
    desk,
    desk_services,
    page_files,
    page_login,
    totp_now,
)
from tests.issuing import AUTHORITY, CERTIFIER, CLERK, OTHER_CERTIFIER, ServedPki, scan_jpeg

pytestmark = pytest.mark.integration
__all__ = ["desk"]  # fixture

REQUESTER = ("Nguyễn Thị Hường", "079300004567")
RECEIVE = {
    "requester_name": REQUESTER[0],
    "requester_id_number": REQUESTER[1],
    "requester_contact": "0901234567",
    # Five lines as the form shows them; the blank ones are ignored.
    "document_name": ["Bằng tốt nghiệp THPT", "", "Giấy khai sinh", "", ""],
    "pages": ["3", "", "1", "", ""],
    "copies": ["2", "1", "1", "1", "1"],
}
WHO = {
    CLERK.username: Principal(CLERK.username, AUTHORITY.code, frozenset({"clerk"})),
    CERTIFIER.username: Principal(CERTIFIER.username, AUTHORITY.code, frozenset({"certifier"})),
}


@pytest.fixture
def pages(desk: Services) -> Iterator[TestClient]:
    """The app, answering redirects as they are (the tests follow them by hand)."""
    with TestClient(create_app(services=desk), follow_redirects=False) as client:
        yield client


# --- helpers --------------------------------------------------------------------------------


def clock(services: Services) -> FixedClock:
    assert isinstance(services.clock, FixedClock)
    return services.clock


def events(services: Services) -> list[tuple[str, str, str, dict[str, str]]]:
    """(actor, action, subject, details) of every audit event, oldest first."""
    path = services.settings.resolved_database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT actor, action, subject, details FROM audit_events ORDER BY id")
        return [(a, b, c, json.loads(d)) for a, b, c, d in rows]


def item_status(services: Services, code: str, position: int = 1) -> str:
    return services.register.request_items(code)[position - 1].status


def refused_page(answer: httpx2.Response, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert f"<code>{code}</code>" in answer.text


def main_of(page: str) -> str:
    """The page's main content (what differs between two answers, if anything)."""
    found = re.search(r'<main class="desk-main" id="main">(.*)</main>', page, re.DOTALL)
    assert found
    return found.group(1)


def scanned_request(services: Services, pages: int = 1) -> str:
    """A request received, checked and scanned at the desk (the service's own calls)."""
    desk = services.desk()
    clerk = WHO[CLERK.username]
    received = desk.receive(
        clerk,
        RequestIntake(REQUESTER[0], REQUESTER[1], (OriginalIntake("Giấy khai sinh", pages, 1),)),
    )
    code = received.request.code
    desk.check(clerk, code, 1)
    scans = [f for _, (_, f, _) in page_files(pages)]
    desk.upload(clerk, code, 1, scans)
    return code


def issued_copy(services: Services) -> tuple[str, str]:
    """(request code, document id) of a copy certified at the desk."""
    code = scanned_request(services)
    issued, _ = services.desk().certify(WHO[CERTIFIER.username], code, 1, totp_now(services))
    return code, issued.entry.id


def make_link(client: TestClient, csrf: str, document_id: str) -> str:
    """The URL of a new download link, as the copy's page shows it once."""
    answer = client.post(f"/desk/documents/{document_id}/links", data={"csrf_token": csrf})
    assert answer.status_code == 200, answer.text
    found = re.search(r'id="download-link-url" value="([^"]+)"', answer.text)
    assert found
    return html.unescape(found.group(1))


# --- the whole way --------------------------------------------------------------------------


def test_a_clerk_and_a_certifier_take_a_request_to_a_downloaded_copy(
    pages: TestClient, desk: Services
) -> None:
    csrf = page_login(pages, CLERK.username)
    form = pages.get("/desk/requests/new")
    assert form.status_code == 200
    assert form.text.count('name="document_name"') == 5
    answer = pages.post("/desk/requests", data=RECEIVE | {"csrf_token": csrf})
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    found = re.fullmatch(r"/desk/requests/(HS-[0-9A-F]{10})\?done=received", location)
    assert found, location
    code = found.group(1)
    items = desk.register.request_items(code)
    assert [(i.document_name, i.pages, i.copies) for i in items] == [
        ("Bằng tốt nghiệp THPT", 3, 2),
        ("Giấy khai sinh", 1, 1),
    ]

    page = pages.get(location)
    assert page.status_code == 200
    assert REQUESTER[0] in page.text and REQUESTER[1] in page.text
    assert "Đã tiếp nhận hồ sơ." in page.text
    # Received Tue 1 Dec 2026 09:00 in Vietnam: due the same day at 17:00.
    assert "01/12/2026 17:00" in page.text
    assert 'id="check-1"' in page.text and 'id="certify-1"' not in page.text
    assert "<script" not in page.text and "style=" not in page.text

    answer = pages.post(f"/desk/requests/{code}/originals/1/check", data={"csrf_token": csrf})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/desk/requests/{code}?done=checked#original-1"
    assert item_status(desk, code) == "checked"

    answer = pages.post(
        f"/desk/requests/{code}/originals/1/scan", data={"csrf_token": csrf}, files=page_files(3)
    )
    assert answer.status_code == 303, answer.text
    page = pages.get(f"/desk/requests/{code}")
    assert item_status(desk, code) == "scanned"
    previews = re.findall(r'<img src="([^"]+\.png)"', page.text)
    assert previews == [f"/desk/requests/{code}/originals/1/pages/{n}.png" for n in (1, 2, 3)]
    for src in previews:
        png = pages.get(src)
        assert png.status_code == 200
        assert png.headers["content-type"] == "image/png"
        assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    # TT 226/2016: 2 000 đ for each of pages 1-2, 1 000 đ from page 3, per copy (2 copies).
    assert "10.000 đ" in page.text

    # The clerk has no Certify form, and posting one is refused for the role.
    assert 'id="certify-1"' not in page.text
    refused = pages.post(
        f"/desk/requests/{code}/originals/1/certify",
        data={"csrf_token": csrf, "totp": totp_now(desk)},
    )
    refused_page(refused, 403, "role_required")
    assert item_status(desk, code) == "scanned"

    csrf = page_login(pages, CERTIFIER.username)
    page = pages.get(f"/desk/requests/{code}")
    assert 'id="certify-1"' in page.text
    assert 'autocomplete="one-time-code"' in page.text and 'inputmode="numeric"' in page.text
    answer = pages.post(
        f"/desk/requests/{code}/originals/1/certify",
        data={"csrf_token": csrf, "totp": totp_now(desk)},
    )
    assert answer.status_code == 303, answer.text
    found = re.fullmatch(
        r"/desk/documents/([0-9a-f-]{36})\?done=certified", answer.headers["location"]
    )
    assert found, answer.headers["location"]
    document_id = found.group(1)
    assert item_status(desk, code) == "certified"

    page = pages.get(answer.headers["location"])
    assert page.status_code == 200
    assert 'data-test="number"><strong>1</strong>' in page.text
    assert "01/2026-SCT/BS" in page.text
    assert 'data-test="pages">3<' in page.text
    assert "http://testserver/v/" in page.text
    assert 'id="cancel-form"' not in page.text  # the certifier is no admin

    pdf = pages.get(f"/desk/documents/{document_id}/copy.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    verdict = pages.post(
        "/api/v1/verify", content=pdf.content, headers={"Content-Type": "application/pdf"}
    )
    assert verdict.json()["verdict"] == "genuine", verdict.text
    assert (CERTIFIER.username, "copy_downloaded", document_id, {"via": "page"}) in events(desk)

    # The register's month lists the entry; its print is the monthly PDF.
    register = pages.get("/desk/register?year=2026&month=12")
    assert register.status_code == 200
    rows = re.findall(r'data-test="register-row" data-number="(\d+)"', register.text)
    assert rows == ["1"]
    assert "Bằng tốt nghiệp THPT" in register.text and CERTIFIER.full_name in register.text
    assert REQUESTER[0] not in register.text
    assert pages.get("/desk/register").text.count('data-test="register-row"') == 1  # this month
    empty = pages.get("/desk/register?year=2026&month=11")
    assert 'data-test="register-empty"' in empty.text
    printed = pages.get("/desk/register/print.pdf?year=2026&month=12")
    assert printed.status_code == 200 and printed.content.startswith(b"%PDF")

    actions = [(e[0], e[1]) for e in events(desk)]
    for expected in [
        (CLERK.username, "request_received"),
        (CLERK.username, "original_checked"),
        (CLERK.username, "scan_uploaded"),
        (CERTIFIER.username, "copy.issued"),
    ]:
        assert expected in actions
    # Personal data stays out of the audit chain.
    assert REQUESTER[0] not in json.dumps(events(desk), ensure_ascii=False)


def test_pages_are_vietnamese_first_and_english_on_request(
    pages: TestClient, desk: Services
) -> None:
    page_login(pages, CLERK.username)
    vi = pages.get("/desk")
    assert '<html lang="vi">' in vi.text
    assert vi.text.index("Hàng chờ hồ sơ") < vi.text.index("Request queue")
    en = pages.get("/desk?lang=en")
    assert '<html lang="en">' in en.text
    assert en.text.index("Request queue") < en.text.index("Hàng chờ hồ sơ")


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(("token", "reason"), [(None, "missing"), ("forged-token", "forged")])
def test_a_form_without_the_sessions_csrf_token_changes_nothing(
    pages: TestClient, desk: Services, token: str | None, reason: str
) -> None:
    page_login(pages, CLERK.username)
    code = scanned_request(desk)
    fresh = (
        desk.desk()
        .receive(
            WHO[CLERK.username],
            RequestIntake(REQUESTER[0], REQUESTER[1], (OriginalIntake("Giấy khai sinh", 1, 1),)),
        )
        .request.code
    )
    data = {} if token is None else {"csrf_token": token}
    before = len(desk.register.open_requests(AUTHORITY.code))

    check = pages.post(f"/desk/requests/{fresh}/originals/1/check", data=data)
    refused_page(check, 403, "csrf_failed")
    assert item_status(desk, fresh) == "received"
    receive = pages.post("/desk/requests", data=RECEIVE | data)
    refused_page(receive, 403, "csrf_failed")
    assert len(desk.register.open_requests(AUTHORITY.code)) == before
    keys = desk.register.request_items(code)[0].scan_keys
    upload = pages.post(f"/desk/requests/{code}/originals/1/scan", data=data, files=page_files(2))
    refused_page(upload, 403, "csrf_failed")
    assert desk.register.request_items(code)[0].scan_keys == keys

    refusals = [(e[2], e[3]) for e in events(desk) if e[1] == "csrf_refused"]
    assert refusals == [
        (f"/desk/requests/{fresh}/originals/1/check", {"reason": reason}),
        ("/desk/requests", {"reason": reason}),
        (f"/desk/requests/{code}/originals/1/scan", {"reason": reason}),
    ]


def test_certifying_with_a_wrong_or_no_totp_code_signs_nothing(
    pages: TestClient, desk: Services
) -> None:
    code = scanned_request(desk)
    csrf = page_login(pages, CERTIFIER.username)
    path = f"/desk/requests/{code}/originals/1/certify"
    right = totp_now(desk)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    refused_page(pages.post(path, data={"csrf_token": csrf, "totp": wrong}), 403, "totp_invalid")
    refused_page(pages.post(path, data={"csrf_token": csrf}), 403, "totp_invalid")
    assert item_status(desk, code) == "scanned"
    assert list(desk.store.list_objects(desk.store.copies_bucket, "")) == []
    refusals = [e for e in events(desk) if e[1] == "certify_refused"]
    assert [(e[0], e[2], e[3]["reason"]) for e in refusals] == [
        (CERTIFIER.username, code, "totp_invalid")
    ] * 2


def test_another_authority_gets_the_same_404_as_for_nothing(
    pages: TestClient, desk: Services
) -> None:
    code, document_id = issued_copy(desk)
    open_code = scanned_request(desk)
    csrf = page_login(pages, OTHER_CERTIFIER.username)
    for path, missing in [
        (f"/desk/requests/{code}", "/desk/requests/HS-0000000000"),
        (f"/desk/documents/{document_id}", f"/desk/documents/{uuid.uuid4()}"),
    ]:
        theirs, nothing = pages.get(path), pages.get(missing)
        refused_page(theirs, 404, "not_found")
        refused_page(nothing, 404, "not_found")
        assert main_of(theirs.text) == main_of(nothing.text)
    for path in [
        f"/desk/requests/{open_code}/originals/1/pages/1.png",
        f"/desk/documents/{document_id}/copy.pdf",
    ]:
        refused_page(pages.get(path), 404, "not_found")
    for path, data in [
        (f"/desk/requests/{open_code}/originals/1/certify", {"totp": totp_now(desk)}),
        (f"/desk/requests/{open_code}/originals/1/refuse", {"ground": "damaged"}),
        (f"/desk/documents/{document_id}/links", {}),
    ]:
        refused_page(pages.post(path, data=data | {"csrf_token": csrf}), 404, "not_found")
    assert item_status(desk, open_code) == "scanned"
    assert open_code not in pages.get("/desk").text
    assert 'data-test="register-row"' not in pages.get("/desk/register?year=2026&month=12").text


def test_only_an_admin_cancels_and_the_copy_shows_cancelled(
    pages: TestClient, desk: Services
) -> None:
    _, document_id = issued_copy(desk)
    path = f"/desk/documents/{document_id}"
    csrf = page_login(pages, CLERK.username)
    assert 'id="cancel-form"' not in pages.get(path).text
    denied = pages.post(f"{path}/cancel", data={"csrf_token": csrf, "reason": "Nhầm"})
    refused_page(denied, 403, "role_required")
    assert desk.register.get_document(document_id).status == "issued"

    csrf = page_login(pages, ADMIN.username)
    assert 'id="cancel-form"' in pages.get(path).text
    answer = pages.post(f"{path}/cancel", data={"csrf_token": csrf, "reason": "Cấp nhầm"})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{path}?done=cancelled"
    page = pages.get(answer.headers["location"])
    assert "Đã huỷ" in page.text and "Cấp nhầm" in page.text
    assert 'id="cancel-form"' not in page.text and 'id="make-link"' not in page.text
    assert desk.register.get_document(document_id).status == "cancelled"
    register = pages.get("/desk/register?year=2026&month=12")
    assert "Cấp nhầm" in register.text


def test_refusing_and_extending_from_the_request_page(pages: TestClient, desk: Services) -> None:
    csrf = page_login(pages, CLERK.username)
    answer = pages.post("/desk/requests", data=RECEIVE | {"csrf_token": csrf})
    code = answer.headers["location"].split("/")[-1].split("?")[0]
    page = pages.get(f"/desk/requests/{code}")
    # The six grounds of NĐ 23/2015 art. 22, in Vietnamese and English.
    assert page.text.count('name="ground"') == 2 * 6
    assert "Bản chính bị hư hỏng, cũ nát" in page.text
    assert "The original is damaged or worn" in page.text
    answer = pages.post(
        f"/desk/requests/{code}/originals/2/refuse",
        data={"csrf_token": csrf, "ground": "damaged", "note": "Rách mất góc"},
    )
    assert answer.status_code == 303
    assert item_status(desk, code, 2) == "refused"
    assert "Rách mất góc" in pages.get(f"/desk/requests/{code}").text
    bad = pages.post(
        f"/desk/requests/{code}/originals/1/refuse", data={"csrf_token": csrf, "ground": "ugly"}
    )
    refused_page(bad, 400, "refusal_code_invalid")

    assert 'id="slip-link"' not in pages.get(f"/desk/requests/{code}").text
    answer = pages.post(
        f"/desk/requests/{code}/extend",
        data={"csrf_token": csrf, "working_days": "2", "at": "10:00"},
    )
    assert answer.status_code == 303
    # Due Tue 1 Dec; two working days later is Thu 3 Dec, at 10:00 Vietnam time.
    page = pages.get(f"/desk/requests/{code}")
    assert 'data-test="extended-to">03/12/2026 10:00<' in page.text
    slip = pages.get(f"/desk/requests/{code}/appointment-slip.pdf")
    assert slip.status_code == 200 and slip.content.startswith(b"%PDF")
    three = pages.post(
        f"/desk/requests/{code}/extend",
        data={"csrf_token": csrf, "working_days": "3", "at": "10:00"},
    )
    refused_page(three, 400, "invalid_request")


def test_receiving_names_a_wrong_line(pages: TestClient, desk: Services) -> None:
    csrf = page_login(pages, CLERK.username)
    before = len(desk.register.open_requests(AUTHORITY.code))
    data = RECEIVE | {"csrf_token": csrf, "pages": ["3", "", "một", "", ""]}
    answer = pages.post("/desk/requests", data=data)
    refused_page(answer, 400, "field_invalid")
    assert "Dòng 3" in answer.text and "Line 3" in answer.text
    blank = RECEIVE | {"csrf_token": csrf, "document_name": [""] * 5, "pages": [""] * 5}
    refused_page(pages.post("/desk/requests", data=blank), 400, "originals_invalid")
    assert len(desk.register.open_requests(AUTHORITY.code)) == before


def test_the_queue_marks_an_overdue_request_in_words(pages: TestClient, desk: Services) -> None:
    first = scanned_request(desk)  # 09:00: due 17:00 today
    clock(desk).at = dt.datetime(2026, 12, 1, 8, 30, tzinfo=dt.UTC)  # 15:30 in Vietnam
    later = scanned_request(desk)  # due tomorrow 17:00
    page_login(pages, CLERK.username)
    queue = pages.get("/desk")
    assert 'data-overdue="1"' not in queue.text
    assert "Không có hồ sơ quá hạn." in queue.text
    clock(desk).at = dt.datetime(2026, 12, 1, 10, 30, tzinfo=dt.UTC)  # 17:30 in Vietnam
    page_login(pages, CLERK.username)
    queue = pages.get("/desk")
    rows = re.findall(r'data-test="queue-row" data-code="([^"]+)"( data-overdue="1")?', queue.text)
    assert rows[:2] == [(first, ' data-overdue="1"'), (later, "")]
    row = queue.text[queue.text.index(f'data-code="{first}"') :]
    row = row[: row.index("</tr>")]
    assert "Quá hạn" in row  # words, not only a colour
    assert 'data-test="count-overdue">1<' in queue.text
    assert "Không có hồ sơ quá hạn." not in queue.text


# --- download links -------------------------------------------------------------------------


def test_a_download_link_hands_the_copy_over_until_it_expires(
    pages: TestClient, desk: Services
) -> None:
    _, document_id = issued_copy(desk)
    csrf = page_login(pages, CLERK.username)
    url = make_link(pages, csrf, document_id)
    assert url.startswith("http://testserver/d/")
    secret = url.rsplit("/", 1)[1]
    assert len(secret) >= 43
    page = pages.get(f"/desk/documents/{document_id}")
    assert secret not in page.text  # shown once
    again = pages.get(f"/desk/documents/{document_id}/links")  # the address bar, reloaded
    assert (again.status_code, again.headers["location"]) == (303, f"/desk/documents/{document_id}")
    created = [e for e in events(desk) if e[1] == "download_link_created"]
    assert [(e[0], e[2]) for e in created] == [(CLERK.username, document_id)]
    assert secret not in json.dumps(events(desk))

    pages.cookies.clear()  # the requester has no session
    pdf = pages.get(f"/d/{secret}")
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert ("download-link", "copy_downloaded", document_id, {"via": "link"}) in events(desk)

    clock(desk).at += dt.timedelta(hours=72)
    expired = pages.get(f"/d/{secret}")
    assert expired.status_code == 404
    assert expired.headers["content-type"].startswith("text/html")
    subject = hashlib.sha256(secret.encode()).hexdigest()[:8]
    assert events(desk)[-1] == (
        "download-link",
        "download_link_refused",
        subject,
        {"reason": "expired"},
    )


def test_a_guessed_link_is_a_404_page_and_recorded(pages: TestClient, desk: Services) -> None:
    guess = "A" * 43
    answer = pages.get(f"/d/{guess}")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "Đường dẫn tải về này không đúng hoặc đã hết hạn." in answer.text
    assert "This download link is wrong or has expired." in answer.text
    assert answer.headers["cache-control"] == "no-store"
    assert events(desk)[-1] == (
        "download-link",
        "download_link_refused",
        hashlib.sha256(guess.encode()).hexdigest()[:8],
        {"reason": "unknown"},
    )
    assert guess not in json.dumps(events(desk))


def test_a_cancelled_copys_link_opens_nothing(pages: TestClient, desk: Services) -> None:
    _, document_id = issued_copy(desk)
    csrf = page_login(pages, CLERK.username)
    secret = make_link(pages, csrf, document_id).rsplit("/", 1)[1]
    admin = Principal(ADMIN.username, AUTHORITY.code, frozenset({"admin"}))
    desk.desk().cancel(admin, document_id, "Cấp nhầm")
    answer = pages.get(f"/d/{secret}")
    assert answer.status_code == 404
    assert events(desk)[-1][1:] == (
        "download_link_refused",
        hashlib.sha256(secret.encode()).hexdigest()[:8],
        {"reason": "cancelled"},
    )
    again = pages.post(f"/desk/documents/{document_id}/links", data={"csrf_token": csrf})
    refused_page(again, 409, "copy_cancelled")


def test_the_api_makes_a_download_link_for_its_authority_only(
    pages: TestClient, desk: Services
) -> None:
    _, document_id = issued_copy(desk)
    clerk = bearer(pages, desk, CLERK.username)
    answer = pages.post(f"/api/v1/documents/{document_id}/download-links", headers=clerk)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    expires = dt.datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert expires == clock(desk).now() + dt.timedelta(hours=72)
    pdf = pages.get(body["url"].removeprefix("http://testserver"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    stranger = bearer(pages, desk, OTHER_CERTIFIER.username)
    answer = pages.post(f"/api/v1/documents/{document_id}/download-links", headers=stranger)
    assert (answer.status_code, answer.json()["error"]) == (404, "not_found")
    anonymous = pages.post(f"/api/v1/documents/{document_id}/download-links")
    assert anonymous.status_code == 401


def test_guessing_links_is_rate_limited(
    minio_server: MinioServer, served_pki: ServedPki, data_dir: Path
) -> None:
    services = desk_services(minio_server, served_pki, data_dir, verify_token_rate_limit="2/minute")
    try:
        with TestClient(create_app(services=services)) as client:
            assert [client.get(f"/d/guess-{n}").status_code for n in range(3)] == [404, 404, 429]
            limited = client.get("/d/guess-3")
            assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
            assert "Quá nhiều yêu cầu" in limited.text
        refused = [e for e in events(services) if e[1] == "download_link_refused"]
        assert len(refused) == 2  # a limited attempt does not reach the register
    finally:
        services.close()


def test_a_scan_upload_must_declare_its_length_and_have_files(
    pages: TestClient, desk: Services
) -> None:
    code = (
        desk.desk()
        .receive(
            WHO[CLERK.username],
            RequestIntake(REQUESTER[0], REQUESTER[1], (OriginalIntake("Giấy khai sinh", 1, 1),)),
        )
        .request.code
    )
    desk.desk().check(WHO[CLERK.username], code, 1)
    csrf = page_login(pages, CLERK.username)
    path = f"/desk/requests/{code}/originals/1/scan"
    empty = pages.post(
        path, data={"csrf_token": csrf}, files=[("files", ("", b"", "application/octet-stream"))]
    )
    refused_page(empty, 400, "scan_missing")
    too_big = pages.post(
        path,
        content=b"x",
        headers={
            "Content-Type": "multipart/form-data; boundary=x",
            "Content-Length": str(desk.settings.max_scan_bytes * 4 + 1),
        },
    )
    refused_page(too_big, 413, "upload_too_large")
    bad = pages.post(
        path,
        data={"csrf_token": csrf},
        files=[("files", ("x.jpg", scan_jpeg("X")[:100], "image/jpeg"))],
    )
    assert bad.status_code == 422
    assert item_status(desk, code) == "checked"


def test_an_upload_that_intake_changed_shows_its_notes(pages: TestClient, desk: Services) -> None:
    code = (
        desk.desk()
        .receive(
            WHO[CLERK.username],
            RequestIntake(REQUESTER[0], REQUESTER[1], (OriginalIntake("Giấy khai sinh", 1, 1),)),
        )
        .request.code
    )
    desk.desk().check(WHO[CLERK.username], code, 1)
    csrf = page_login(pages, CLERK.username)
    # Bytes after the JPEG's end are no part of the picture: intake drops them and says so.
    jpeg = scan_jpeg("TRANG 1") + b"payload after the image"
    answer = pages.post(
        f"/desk/requests/{code}/originals/1/scan",
        data={"csrf_token": csrf},
        files=[("files", ("trang-1.jpg", jpeg, "image/jpeg"))],
    )
    assert answer.status_code == 200, answer.text
    assert 'data-test="warnings"' in answer.text
    assert "Data other than the picture" in answer.text
    assert item_status(desk, code) == "scanned"
    again = pages.get(f"/desk/requests/{code}/originals/1/scan")
    assert again.headers["location"] == f"/desk/requests/{code}#original-1"
