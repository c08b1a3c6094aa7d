"""The citizens' side in a real browser (headless Chromium, JavaScript off) against the whole
app served by uvicorn on the real stack (MinIO, SQLite, the test PKI, validation workers) and
a real local SMTP server (aiosmtpd): the citizen books → the clerk receives the booking by its
code → the certifier certifies → the bank's signed payment webhook arrives → the service's own
mail worker sends the e-mail with the link → the citizen downloads the copy from it, and it
verifies ``genuine`` (issue 12, "Done when"). The VietQR code on the tracking page is read
back from the screenshot with ``zbarimg``.

Screenshots go to ``test-artifacts/screenshots/citizen-flow-*.png`` (the citizen on a 390 px
phone, the desk at 1366×768).
"""

from __future__ import annotations

import email
import email.policy
import re
import subprocess
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Browser, FilePayload, Page, ViewportSize, sync_playwright

from api.app import create_app
from api.services import Services
from certify.vietqr import vietqr_payload
from certify.webhook_signature import sign
from storage.minio_server import MinioServer, free_port
from tests.api.desk_fixtures import desk_services, totp_now
from tests.api.test_desk_browser import log_in, log_out, verify_upload
from tests.issuing import AUTHORITY, CERTIFIER, CLERK, ServedPki, scan_jpeg, serve_in_thread

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DESK = ViewportSize(width=1366, height=768)
PHONE = ViewportSize(width=390, height=844)
ACCOUNT = {
    "bank_bin": "970415",
    "account_number": "113366668888",
    "account_name": "UBND PHUONG TAN PHU",
    "webhook_secret": "whsec-test-tanphu",
}


class Inbox:
    """An aiosmtpd handler keeping every message it is given."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"

    def wait_for(self, kind: str, timeout: float = 60) -> EmailMessage:
        """The first message whose subject contains ``kind``, waiting for the mail worker."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.messages:
                if kind in str(message["Subject"]):
                    return message
            time.sleep(0.2)
        subjects = [str(m["Subject"]) for m in self.messages]
        raise AssertionError(f"no e-mail with {kind!r} in its subject; got {subjects}")


@pytest.fixture(scope="module")
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def served(
    minio_server: MinioServer,
    served_pki: ServedPki,
    tmp_path_factory: pytest.TempPathFactory,
    inbox: tuple[Inbox, int],
) -> Iterator[tuple[Services, str]]:
    port = free_port()
    services = desk_services(
        minio_server,
        served_pki,
        tmp_path_factory.mktemp("citizen-browser") / "var",
        verify_workers=1,
        verify_upload_rate_limit="",
        public_base_url=f"http://127.0.0.1:{port}",
        payment_accounts={AUTHORITY.code: ACCOUNT},
        smtp_host="127.0.0.1",
        smtp_port=inbox[1],
        smtp_sender="chungthuc@tanphu.example.vn",
        mail_interval_seconds=0.3,  # the service's own mail worker, not the test, sends
    )
    try:
        with serve_in_thread(create_app(services=services), port, lifespan="on") as url:
            yield services, url
    finally:
        services.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        yield p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])


def shot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"citizen-flow-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def qr_codes_in(png: Path) -> list[str]:
    """Every QR code zbarimg finds in the image."""
    out = subprocess.run(
        ["/usr/bin/zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(png)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return [line for line in out.stdout.splitlines() if line]


def test_a_citizen_books_pays_and_receives_the_copy_without_coming_back(
    browser: Browser,
    served: tuple[Services, str],
    inbox: tuple[Inbox, int],
    tmp_path: Path,
) -> None:
    services, base_url = served
    mails, _ = inbox
    errors: list[str] = []
    phone = browser.new_context(
        viewport=PHONE,
        java_script_enabled=False,
        locale="vi-VN",
        is_mobile=True,
        accept_downloads=True,
    )
    citizen = phone.new_page()
    citizen.on(
        "console", lambda m: errors.append(f"{m.text} {m.location}") if m.type == "error" else None
    )
    citizen.on(
        "response", lambda r: errors.append(f"{r.status} {r.url}") if r.status == 404 else None
    )

    # 1. The citizen books online on her phone.
    citizen.goto(f"{base_url}/book")
    citizen.select_option("#authority_code", AUTHORITY.code)
    citizen.fill("#requester_name", "Trần Thị Bích Ngọc")
    citizen.fill("#email", "ngoc.tran@example.vn")
    citizen.fill("#doc-1-name", "Giấy khai sinh")
    citizen.fill("#doc-1-pages", "1")
    citizen.fill("#doc-1-copies", "2")
    shot(citizen, "1-book")
    citizen.click("#book-submit")
    citizen.wait_for_selector("[data-test=tracking-code]")
    code = citizen.locator("[data-test=tracking-code]").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", code)
    booked_png = shot(citizen, "2-booked")
    tracking_url = f"{base_url}/t/{code.replace('-', '')}"
    assert tracking_url in qr_codes_in(booked_png)  # the printed QR opens the tracking page
    assert citizen.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    booked_mail = mails.wait_for("Certified copy booked").get_body(preferencelist=("plain",))
    assert booked_mail is not None and code in booked_mail.get_content()

    # 2. The clerk receives it by the code when she comes with the original, and scans it.
    desk = browser.new_context(viewport=DESK, java_script_enabled=False, locale="vi-VN")
    page = desk.new_page()
    page.on(
        "console", lambda m: errors.append(f"{m.text} {m.location}") if m.type == "error" else None
    )
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status == 404 else None)
    log_in(page, base_url, CLERK.username)
    page.fill("#booking-code", code.lower())  # typed as the citizen reads it out
    page.fill("#booking-id", "079301001234")
    shot(page, "3-desk-receive-booking")
    page.click("#booking-form button[type=submit]")
    page.wait_for_url("**/desk/requests/HS-*")
    found = re.search(r"/desk/requests/(HS-[0-9A-F]{10})", page.url)
    assert found is not None
    request_code = found.group(1)
    page.click("#check-1 button[type=submit]")
    page.wait_for_selector("#original-1[data-status=checked]")
    page.set_input_files(
        "#files-1",
        [FilePayload(name="khai-sinh.jpg", mimeType="image/jpeg", buffer=scan_jpeg("KHAI SINH"))],
    )
    page.click("#scan-1 button[type=submit]")
    page.wait_for_selector("#original-1[data-status=scanned]")
    log_out(page)

    # 3. The certifier certifies with her TOTP code.
    log_in(page, base_url, CERTIFIER.username)
    page.goto(f"{base_url}/desk/requests/{request_code}")
    page.fill("#totp-1", totp_now(services))
    page.click("#certify-1 button[type=submit]")
    page.wait_for_url("**/desk/documents/*")
    shot(page, "4-desk-certified")
    log_out(page)
    desk.close()

    # 4. The citizen sees the fee (TT 226/2016: 1 page, 2 copies = 2 × 2.000 đ) and the VietQR.
    citizen.goto(tracking_url)
    assert citizen.locator("[data-test=state]").get_attribute("data-state") == "certified"
    assert citizen.locator("[data-test=payment-state]").get_attribute("data-payment") == "unpaid"
    reference = request_code.replace("-", "")
    expected = vietqr_payload(
        bank_bin="970415", account_number="113366668888", amount=4000, reference=reference
    )
    tracking_png = shot(citizen, "5-tracking-pay")
    assert expected in qr_codes_in(tracking_png)
    mails.wait_for("Originals received")

    # 5. The bank confirms the transfer on the signed webhook (twice: delivered again).
    body = (
        f'{{"transaction_id": "FT26335000123", "amount": 4000, '
        f'"reference": "CK {reference} chung thuc", "account_number": "113366668888"}}'
    ).encode()
    stamp = str(int(services.clock.now().timestamp()))
    headers = {
        "X-Certify-Timestamp": stamp,
        "X-Certify-Signature": sign(ACCOUNT["webhook_secret"].encode(), stamp, body),
        "Content-Type": "application/json",
    }
    url = f"{base_url}/api/v1/payments/webhook/{AUTHORITY.code}"
    first = httpx.post(url, content=body, headers=headers, timeout=30)
    again = httpx.post(url, content=body, headers=headers, timeout=30)
    assert (first.status_code, first.json()["recorded"]) == (200, True)
    assert (again.status_code, again.json()["recorded"]) == (200, False)
    assert len(services.register.payments_of(request_code)) == 1

    # 6. The e-mail with the download and verification links reaches the SMTP server.
    ready = mails.wait_for("Certified copy ready")
    text = ready.get_body(preferencelist=("plain",))
    assert text is not None
    content = text.get_content()
    assert "English" in content and "Trần Thị Bích Ngọc" in content
    assert "079301001234" not in content  # never the ID number
    download = re.search(rf"{re.escape(base_url)}/d/[A-Za-z0-9_-]+", content)
    verification = re.search(rf"{re.escape(base_url)}/v/[A-Za-z0-9_-]+", content)
    assert download is not None and verification is not None

    # 7. The citizen downloads the copy from the link; it verifies genuine.
    citizen.set_content(  # the link as her mail reader shows it
        f'<link rel="icon" href="data:,"><a id="mail-link" href="{download.group(0)}">tải về</a>'
    )
    with citizen.expect_download() as got:
        citizen.click("#mail-link")
    pdf = tmp_path / "ban-sao.pdf"
    got.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    assert verify_upload(citizen, base_url, pdf) == "genuine"
    shot(citizen, "6-verified-genuine")
    citizen.goto(tracking_url)
    assert citizen.locator("[data-test=state]").get_attribute("data-state") == "delivered"
    assert citizen.locator("[data-test=payment-state]").get_attribute("data-payment") == "paid"
    shot(citizen, "7-tracking-delivered")
    citizen.goto(f"{tracking_url}/receipt")
    assert "4.000" in citizen.locator("[data-test=total]").inner_text()
    shot(citizen, "8-receipt")
    phone.close()
    assert errors == []
