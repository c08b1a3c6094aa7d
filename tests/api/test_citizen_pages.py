"""The citizens' pages (issue 12) in TestClient, on the real stack: book on the form, follow
the request on ``/t/{code}`` (state, VietQR, copies), download a copy and print the receipt;
the desk receives the booking by its code and records a payment (CSRF required); the public
measure; and each refusal answers the same bare 404 page, recorded without the code."""

from __future__ import annotations

import hashlib
import html
import json
import re
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.citizen_services import deliver_mail
from api.qr_svg import qr_svg
from api.services import Services
from certify.payments import payment_reference
from certify.vietqr import vietqr_payload
from storage.minio_server import MinioServer
from tests.api.citizen_fixtures import (
    ACCOUNT,
    BOOKING,
    ID_NUMBER,
    book,
    certified,
    citizen_services,
    events,
    office,
    web,
    webhook,
)
from tests.api.desk_fixtures import page_login
from tests.issuing import AUTHORITY, CLERK, OTHER_AUTHORITY, ServedPki

pytestmark = pytest.mark.integration
__all__ = ["office", "web"]  # fixtures

FORM = {
    "authority_code": AUTHORITY.code,
    "requester_name": BOOKING["requester_name"],
    "email": BOOKING["email"],
    "phone": "",
    "document_name": ["Bằng tốt nghiệp THPT", "", "", "", ""],
    "pages": ["3", "", "", "", ""],
    "copies": ["2", "1", "1", "1", "1"],
}


def text_of(page: str) -> str:
    """The page's visible words, unescaped, on one line."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def assert_refused(answer: httpx2.Response, status: int = 404) -> None:
    """The one bare page of every refusal (it says nothing of why)."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["cache-control"] == "no-store"
    assert 'data-test="refused"' in answer.text


# --- booking --------------------------------------------------------------------------------


def test_the_form_books_and_shows_the_code_its_qr_and_what_to_bring(
    web: TestClient, office: Services
) -> None:
    form = web.get("/book")
    assert form.status_code == 200
    assert f'value="{AUTHORITY.code}"' in form.text and OTHER_AUTHORITY.name in form.text
    assert "<script" not in form.text and "style=" not in form.text

    answer = web.post("/book", data=FORM)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["referrer-policy"] == "no-referrer"
    found = re.search(r'data-test="tracking-code">([A-Z2-7-]{19})<', answer.text)
    assert found, answer.text
    code = found.group(1).replace("-", "")
    # The QR code opens the tracking page: the page carries exactly that code's SVG.
    url = f"http://testserver/t/{code}"
    expected = qr_svg(url, title="Mã QR của trang tra cứu hồ sơ", css_class="qr-code")
    assert str(expected) in answer.text
    words = text_of(answer.text)
    assert "Bằng tốt nghiệp THPT (3 trang), cần 2 bản sao" in words
    assert "Căn cước" in words
    assert f'href="/t/{code}"' in answer.text
    tracked = web.get(f"/api/v1/tracking/{code}").json()
    assert (tracked["state"], tracked["originals"][0]["pages"]) == ("booked", 3)


def test_a_wrong_form_comes_back_with_its_values_and_the_reason(
    web: TestClient, office: Services
) -> None:
    answer = web.post("/book", data={**FORM, "email": "not an address"})
    assert answer.status_code == 400
    assert 'aria-invalid="true" aria-describedby="email-error"' in answer.text
    assert "Địa chỉ thư điện tử không hợp lệ." in answer.text
    assert f'value="{BOOKING["requester_name"]}"' in answer.text
    assert 'value="Bằng tốt nghiệp THPT"' in answer.text
    assert re.search(rf'<option value="{AUTHORITY.code}" selected>', answer.text)

    no_lines = web.post("/book", data={**FORM, "document_name": [""] * 5, "pages": [""] * 5})
    assert no_lines.status_code == 400
    bad_pages = web.post("/book", data={**FORM, "pages": ["ba", "", "", "", ""]})
    assert bad_pages.status_code == 400 and 'id="line-1-error"' in bad_pages.text
    nowhere = web.post("/book", data={**FORM, "authority_code": "nowhere"})
    assert nowhere.status_code == 404 and "No such authority" in nowhere.text
    assert not [e for e in events(office) if e[1] == "request_booked"]


def test_booking_on_the_form_is_rate_limited(
    minio_server: MinioServer, served_pki: ServedPki, data_dir: Path
) -> None:
    services = citizen_services(minio_server, served_pki, data_dir, booking_rate_limit="1/minute")
    try:
        with TestClient(create_app(services=services)) as client:
            assert client.post("/book", data=FORM).status_code == 200
            limited = client.post("/book", data=FORM)
            assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
            assert "Quá nhiều yêu cầu" in limited.text
            assert f'value="{BOOKING["requester_name"]}"' not in limited.text  # not read
    finally:
        services.close()


# --- tracking -------------------------------------------------------------------------------


def test_the_holder_sees_the_state_and_name_in_both_languages(
    web: TestClient, office: Services
) -> None:
    code = book(web)["tracking_code"]
    page = web.get(f"/t/{code}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert 'data-state="booked"' in page.text
    words = text_of(page.text)
    assert BOOKING["requester_name"] in words and AUTHORITY.name in words
    assert "Đã đặt trước, chờ mang bản chính đến" in words
    assert 'aria-current="step"' in page.text
    english = web.get(f"/t/{code}?lang=en")
    assert '<html lang="en">' in english.text
    assert english.text.index("Booked: bring the originals") < english.text.index("Đã đặt trước")


def test_a_wrong_code_is_a_bare_404_page_recorded_without_the_code(
    web: TestClient, office: Services
) -> None:
    guess = "K7QD-2MXA-9PLF-4TWE"
    answer = web.get(f"/t/{guess}")
    assert_refused(answer)
    assert "Mã tra cứu này không đúng" in answer.text
    subject = hashlib.sha256(guess.encode()).hexdigest()[:8]
    assert events(office)[-1][:3] == ("citizen", "tracking_refused", subject)
    assert guess not in json.dumps(events(office))
    assert_refused(web.get(f"/t/{guess}/receipt"))


def test_a_flood_of_guessed_codes_on_the_page_is_429(
    minio_server: MinioServer, served_pki: ServedPki, data_dir: Path
) -> None:
    services = citizen_services(minio_server, served_pki, data_dir, tracking_rate_limit="2/minute")
    try:
        with TestClient(create_app(services=services)) as client:
            answers = [client.get(f"/t/GUESS{n:011d}") for n in range(4)]
            assert [a.status_code for a in answers] == [404, 404, 429, 429]
            assert "Quá nhiều yêu cầu" in answers[-1].text
            assert int(answers[-1].headers["Retry-After"]) > 0
        assert len([e for e in events(services) if e[1] == "tracking_refused"]) == 2
    finally:
        services.close()


# --- the desk -------------------------------------------------------------------------------


def test_the_clerk_receives_a_booking_from_the_queue_with_csrf(
    web: TestClient, office: Services
) -> None:
    code = book(web)["tracking_code"]
    csrf = page_login(web, CLERK.username)
    queue = web.get("/desk")
    assert 'id="booking-form"' in queue.text

    forged = web.post(
        "/desk/bookings/receive", data={"tracking_code": code, "requester_id_number": ID_NUMBER}
    )
    assert forged.status_code == 403
    unknown = web.post(
        "/desk/bookings/receive",
        data={
            "tracking_code": "AAAA-BBBB-CCCC-DDDD",
            "requester_id_number": ID_NUMBER,
            "csrf_token": csrf,
        },
    )
    assert unknown.status_code == 404
    assert (
        'data-test="booking-error"' in unknown.text and "No booking has this code" in unknown.text
    )
    assert web.get(f"/api/v1/tracking/{code}").json()["state"] == "booked"

    answer = web.post(
        "/desk/bookings/receive",
        data={"tracking_code": code.lower(), "requester_id_number": ID_NUMBER, "csrf_token": csrf},
    )
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert re.fullmatch(r"/desk/requests/HS-[0-9A-F]{10}\?done=received", location)
    page = web.get(location)
    assert page.status_code == 200
    assert f'data-test="tracking-code">{code}<' in page.text
    url = f"http://testserver/t/{code.replace('-', '')}"
    assert str(qr_svg(url, title="Mã QR của trang tra cứu hồ sơ")) in page.text
    assert 'data-payment="pending"' in page.text

    again = web.post(
        "/desk/bookings/receive",
        data={"tracking_code": code, "requester_id_number": ID_NUMBER, "csrf_token": csrf},
    )
    assert again.status_code == 409 and "booking-error" in again.text


def test_a_payment_at_the_desk_needs_the_csrf_token(web: TestClient, office: Services) -> None:
    done = certified(web, office)
    csrf = page_login(web, CLERK.username)
    page = web.get(f"/desk/requests/{done.request_code}")
    assert 'id="payment-form"' in page.text and 'name="amount" min="1"' in page.text
    assert 'value="4000"' in page.text  # the due amount, prefilled

    path = f"/desk/requests/{done.request_code}/payments"
    forged = web.post(path, data={"method": "cash", "amount": "4000"})
    assert forged.status_code == 403
    assert office.register.payments_of(done.request_code) == []
    wrong = web.post(path, data={"method": "cash", "amount": "bốn nghìn", "csrf_token": csrf})
    assert wrong.status_code == 400
    answer = web.post(path, data={"method": "card", "amount": "4.000", "csrf_token": csrf})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/desk/requests/{done.request_code}?paid=1#payment"
    [payment] = office.register.payments_of(done.request_code)
    assert (payment.amount, payment.method, payment.recorded_by) == (4000, "card", CLERK.username)
    shown = web.get(answer.headers["location"].split("#")[0])
    assert 'data-test="paid-done"' in shown.text and 'data-payment="paid"' in shown.text


# --- paying, downloading, the receipt --------------------------------------------------------


def test_the_page_shows_the_vietqr_then_the_copies_and_the_receipt(
    web: TestClient, office: Services
) -> None:
    done = certified(web, office)
    other = certified(web, office)
    reference = payment_reference(done.request_code)
    page = web.get(f"/t/{done.tracking_code}")
    assert 'data-state="certified"' in page.text and 'data-payment="unpaid"' in page.text
    payload = vietqr_payload(
        bank_bin=ACCOUNT["bank_bin"],
        account_number=ACCOUNT["account_number"],
        amount=4000,
        reference=reference,
    )
    expected = qr_svg(payload, title="Mã VietQR để nộp lệ phí: 4.000 đ", css_class="qr-code")
    assert str(expected) in page.text
    words = text_of(page.text)
    assert ACCOUNT["account_name"] in words and ACCOUNT["account_number"] in words
    assert reference in words and "4.000 đ" in words
    assert 'data-test="download"' not in page.text
    assert_refused(web.get(f"/t/{done.tracking_code}/receipt"))  # nothing paid yet
    assert_refused(web.get(f"/t/{done.tracking_code}/copies/{done.document_id}"))

    assert webhook(web, office, amount=4000, reference=reference).json()["recorded"] is True
    deliver_mail(office)
    page = web.get(f"/t/{done.tracking_code}")
    assert 'data-state="ready"' in page.text and 'data-payment="paid"' in page.text
    assert 'data-test="pay"' not in page.text
    href = f"/t/{done.tracking_code}/copies/{done.document_id}"
    assert f'href="{href}"' in page.text
    assert re.search(r'href="/v/[A-Za-z0-9_-]{16,128}"', page.text)

    pdf = web.get(href)
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    verdict = web.post(
        "/api/v1/verify", content=pdf.content, headers={"Content-Type": "application/pdf"}
    )
    assert verdict.json()["verdict"] == "genuine"
    assert ("citizen", "copy_downloaded", done.document_id, {"via": "tracking"}) in events(office)
    assert web.get(f"/t/{done.tracking_code}").text.count('data-state="delivered"') == 1

    # Another request's tracking code opens nothing of this request, and says nothing more.
    stolen = web.get(f"/t/{other.tracking_code}/copies/{done.document_id}")
    assert_refused(stolen)
    subject = hashlib.sha256(other.tracking_code.encode()).hexdigest()[:8]
    assert events(office)[-1] == (
        "citizen",
        "tracking_refused",
        subject,
        {"reason": "copy_unavailable"},
    )

    receipt = web.get(f"/t/{done.tracking_code}/receipt")
    assert receipt.status_code == 200
    assert receipt.headers["cache-control"] == "no-store"
    words = text_of(receipt.text)
    assert "Biên lai thu phí chứng thực" in words and AUTHORITY.name in words
    assert done.request_code in words and reference in words
    assert "Chuyển khoản" in words and "4.000 đ" in words
    assert 'data-test="total"' in receipt.text


# --- the public measure ---------------------------------------------------------------------


def test_the_measure_page_shows_the_months_and_the_choices(
    web: TestClient, office: Services
) -> None:
    done = certified(web, office)
    webhook(web, office, amount=4000, reference=payment_reference(done.request_code))
    choose = web.get("/public/measure")
    assert choose.status_code == 200 and 'name="province"' in choose.text
    assert AUTHORITY.name in choose.text and "Đồng Nai" in choose.text

    page = web.get(f"/public/measure?authority={AUTHORITY.code}&year=2026")
    assert page.status_code == 200
    rows = re.findall(r'data-test="month" data-month="(\d+)"', page.text)
    assert rows == [str(n) for n in range(1, 13)]
    december = page.text.split('data-month="12"', 1)[1].split("</tr>", 1)[0]
    cells = re.findall(r'<td class="num[^"]*" data-label="[^"]*">([^<]*)</td>', december)
    assert len(cells) == 8
    assert cells[4] == "100 %"  # paid without cash
    assert BOOKING["requester_name"] not in page.text
    assert 'data-test="total"' in page.text

    province = web.get("/public/measure?province=dn&year=2026")
    assert province.status_code == 200 and "Đồng Nai · 2026" in text_of(province.text)
    unknown = web.get("/public/measure?authority=nowhere")
    assert unknown.status_code == 404 and 'data-test="measure-error"' in unknown.text
    assert web.get("/public/measure?authority=dn-tanphu&year=abcd").status_code == 400


def test_odd_input_is_answered_never_a_500(web: TestClient, office: Services) -> None:
    for path in ("/t/%00", "/t/" + "A" * 2000, "/t/ABCD%E2%80%AEEFGH/receipt", "/t/x/copies/y"):
        assert web.get(path).status_code == 404, path
    for form in (
        {**FORM, "requester_name": "Hường\x00"},
        {**FORM, "document_name": ["\u202e" * 3], "pages": ["1"], "copies": ["999999"]},
        {**FORM, "email": "a@b\x00.vn", "phone": "+84 " + "9" * 40},
    ):
        assert web.post("/book", data=form).status_code == 400
    assert web.post("/book", content=b"\xff\xfe" * 100).status_code == 400
    assert web.post("/book", content=b"a=1&" * 20_000).status_code == 413
    assert web.get("/public/measure?authority=" + "x" * 5000).status_code == 404
    assert web.get("/public/measure?province=dn&year=99999").status_code == 400
    assert not [e for e in events(office) if e[1] == "request_booked"]
