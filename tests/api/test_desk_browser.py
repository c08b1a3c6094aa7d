"""The office desk in a real browser (headless Chromium, JavaScript off) against the whole
app served by uvicorn on the real stack (MinIO, SQLite, the test PKI, validation workers):
a clerk receives a request, checks the original and uploads three pages; the certifier
certifies with her TOTP code and downloads the copy, which verifies ``genuine``; an admin
cancels it and it verifies ``cancelled`` (issue 11, "Done when").

Screenshots of every step go to ``test-artifacts/screenshots/desk-flow-*.png`` (desk screen
1366×768, and the request page on a 390×844 phone).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    FilePayload,
    Page,
    Playwright,
    ViewportSize,
    sync_playwright,
)

from api.app import create_app
from api.services import Services
from storage.minio_server import MinioServer, free_port
from tests.api.desk_fixtures import ADMIN, PASSWORDS, desk_services, totp_now
from tests.issuing import CERTIFIER, CLERK, ServedPki, scan_jpeg, serve_in_thread

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DESK = ViewportSize(width=1366, height=768)
PHONE = ViewportSize(width=390, height=844)


@pytest.fixture(scope="module")
def services(
    minio_server: MinioServer, served_pki: ServedPki, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Services]:
    services = desk_services(
        minio_server,
        served_pki,
        tmp_path_factory.mktemp("desk-browser") / "var",
        verify_workers=1,
        verify_upload_rate_limit="",
    )
    try:
        yield services
    finally:
        services.close()


@pytest.fixture(scope="module")
def base_url(services: Services) -> Iterator[str]:
    with serve_in_thread(create_app(services=services), free_port(), lifespan="on") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        yield launch(p)


def launch(p: Playwright) -> Browser:
    return p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"desk-flow-{name}.png"), full_page=True)


def log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/desk/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORDS[username])
    page.click("form[action='/desk/login'] button[type=submit]")
    page.wait_for_url(f"{base_url}/desk")


def log_out(page: Page) -> None:
    page.click("form.logout button")
    page.wait_for_url("**/desk/login**")


def verify_upload(page: Page, base_url: str, pdf: Path) -> str:
    """The verdict the public page gives on the uploaded file."""
    page.goto(f"{base_url}/verify")
    page.set_input_files("#file", str(pdf))
    page.click("form[enctype='multipart/form-data'] button[type=submit]")
    page.wait_for_selector("#verdict")
    return page.locator("#verdict").get_attribute("data-verdict") or ""


def test_clerk_certifier_and_admin_walk_through_the_desk(
    browser: Browser, base_url: str, services: Services, tmp_path: Path
) -> None:
    context = browser.new_context(
        viewport=DESK, java_script_enabled=False, locale="vi-VN", accept_downloads=True
    )
    errors: list[str] = []
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    # The clerk receives the request, checks the original, uploads three pages.
    log_in(page, base_url, CLERK.username)
    shot(page, "1-queue")
    page.goto(f"{base_url}/desk/requests/new")
    page.fill("#requester_name", "Nguyễn Thị Hường")
    page.fill("#requester_id_number", "079300004567")
    page.fill("#requester_contact", "0901234567")
    page.fill("#doc-1-name", "Bằng tốt nghiệp trung học phổ thông")
    page.fill("#doc-1-pages", "3")
    page.fill("#doc-1-copies", "2")
    shot(page, "2-receive")
    page.click("#receive-submit")
    page.wait_for_url("**/desk/requests/HS-*")
    request_url = page.url
    code = page.locator("[data-test=request-code]").inner_text()
    assert page.locator("#original-1").get_attribute("data-status") == "received"

    page.click("#check-1 button[type=submit]")
    page.wait_for_selector("#original-1[data-status=checked]")
    pages = [
        FilePayload(name=f"trang-{n}.jpg", mimeType="image/jpeg", buffer=scan_jpeg(f"TRANG {n}"))
        for n in (1, 2, 3)
    ]
    page.set_input_files("#files-1", pages)
    page.click("#scan-1 button[type=submit]")
    page.wait_for_selector("#original-1[data-status=scanned]")
    previews = page.locator("[data-test=previews] img")
    assert previews.count() == 3
    for n in range(3):  # each preview really loaded
        assert previews.nth(n).evaluate("img => img.naturalWidth") > 0
    shot(page, "3-scanned")
    # The clerk is offered no Certify form.
    assert page.locator("#certify-1").count() == 0
    log_out(page)

    # The certifier reviews pages and fee, then certifies with her TOTP code.
    log_in(page, base_url, CERTIFIER.username)
    page.goto(request_url)
    assert "10.000" in page.locator("#original-1 [data-test=fee]").inner_text()
    phone = browser.new_context(
        viewport=PHONE,
        java_script_enabled=False,
        locale="vi-VN",
        is_mobile=True,
        storage_state=context.storage_state(),  # the same signed-in session
    )
    phone_page = phone.new_page()
    phone_page.goto(request_url)
    shot(phone_page, "4-request-phone")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the request page scrolls sideways on a phone"
    phone.close()

    page.fill("#totp-1", totp_now(services))
    shot(page, "5-certify")
    page.click("#certify-1 button[type=submit]")
    page.wait_for_url("**/desk/documents/*")
    document_url = page.url
    assert page.locator("[data-test=number]").inner_text().strip() == "1"
    shot(page, "6-issued")
    with page.expect_download() as download:
        page.click("#download-copy")
    pdf = tmp_path / "copy.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    log_out(page)

    assert verify_upload(page, base_url, pdf) == "genuine"
    shot(page, "7-verified-genuine")

    # The admin cancels the copy; the same file now verifies cancelled.
    log_in(page, base_url, ADMIN.username)
    page.goto(document_url)
    page.fill("#cancel-reason", "Cấp nhầm: bản chính của người khác")
    page.check("#cancel-confirm")
    page.click("#cancel-form button[type=submit]")
    page.wait_for_selector("[data-test=document-status]")
    shot(page, "8-cancelled")
    log_out(page)
    assert verify_upload(page, base_url, pdf) == "cancelled"
    shot(page, "9-verified-cancelled")

    context.close()
    assert errors == []
    request = services.register.get_request(code)
    assert request.status == "certified"
