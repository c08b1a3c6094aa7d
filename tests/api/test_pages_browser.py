# pyHanko's PDF object model is not fully annotated; calls into it are Any.
# mypy: disable-error-code="no-untyped-call"
"""The public verification pages in a real browser (headless Chromium, JavaScript off) against
the real stack served by uvicorn: copies issued here, MinIO, SQLite, the test PKI, the
validation workers, the Content-Security-Policy of ``api/app.py``.

Screenshots go to ``test-artifacts/screenshots/`` (desktop 1280 wide, phone 390×844).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    FilePayload,
    Page,
    Playwright,
    ViewportSize,
    sync_playwright,
)

from api.app import create_app
from api.services import Services
from certify.issuance import IssuedCopy
from certify.ports import AuditRecord
from storage.minio_server import free_port
from tests.api.conftest import issue_copy
from tests.attacks import append_annotation
from tests.issuing import AUTHORITY, serve_in_thread

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DESKTOP = ViewportSize(width=1280, height=900)
PHONE = ViewportSize(width=390, height=844)

GENUINE_VI = "Bản sao điện tử hợp lệ: đúng bản đã được chứng thực."
GENUINE_EN = "Genuine: this is the certified copy as issued."
MODIFIED_VI = "Tệp đã bị thay đổi sau khi ký: không phải bản sao đã được chứng thực."
# The requester of every copy issued in tests (tests/issuing.py seed_register).
REQUESTER = ("Phạm Văn Dũng", "079200001234")


@pytest.fixture(scope="module")
def base_url(verify_services: Services) -> Iterator[str]:
    """The whole app (pages, API, static files, security headers) on a loopback port."""
    app = create_app(services=verify_services)
    with serve_in_thread(app, free_port(), lifespan="on") as url:
        yield url


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    try:
        yield browser
    finally:
        browser.close()


def issue(services: Services, document_name: str) -> IssuedCopy:
    """Issue a copy in a thread of its own: pyHanko signs with ``asyncio.run``, which cannot
    run in this thread while Playwright's event loop does."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(issue_copy, services, document_name=document_name).result()


@pytest.fixture(scope="module")
def issued(verify_services: Services) -> IssuedCopy:
    return issue(verify_services, "Giấy khai sinh")


def open_context(browser: Browser, *, phone: bool = False) -> BrowserContext:
    """A fresh context with JavaScript off: the pages must not need it."""
    if phone:
        return browser.new_context(
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            java_script_enabled=False,
            locale="vi-VN",
            accept_downloads=True,
        )
    return browser.new_context(
        viewport=DESKTOP, java_script_enabled=False, locale="vi-VN", accept_downloads=True
    )


class Watched:
    """A page whose console errors (CSP violations, failed loads) are collected."""

    def __init__(self, context: BrowserContext) -> None:
        self.page = context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("requestfailed", lambda r: self.errors.append(f"failed: {r.url}"))


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Watched]:
    context = open_context(browser)
    watched = Watched(context)
    yield watched
    context.close()
    assert watched.errors == []


@pytest.fixture
def phone(browser: Browser) -> Iterator[Watched]:
    context = open_context(browser, phone=True)
    watched = Watched(context)
    yield watched
    context.close()
    assert watched.errors == []


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def verdict(page: Page) -> str:
    return page.locator("#verdict").get_attribute("data-verdict") or ""


def headline(page: Page) -> tuple[str, str]:
    """The verdict headline's first and second language, as shown."""
    spans = page.locator("#verdict-headline > span")
    return spans.nth(0).inner_text(), spans.nth(1).inner_text()


def facts(page: Page, selector: str) -> dict[str, str]:
    """A ``<dl>`` as {first line of the term: definition}."""
    terms = page.locator(f"{selector} > dt")
    values = page.locator(f"{selector} > dd")
    return {
        terms.nth(i).inner_text().splitlines()[0]: values.nth(i).inner_text()
        for i in range(terms.count())
    }


def upload(page: Page, base_url: str, data: bytes, *, lang: str = "vi") -> None:
    page.goto(f"{base_url}/verify" + ("?lang=en" if lang == "en" else ""))
    page.set_input_files(
        "input[name=file]",
        files=[FilePayload(name="ban-sao.pdf", mimeType="application/pdf", buffer=data)],
    )
    with page.expect_navigation():
        page.locator("form[enctype='multipart/form-data'] button[type=submit]").click()


# --- the tests -----------------------------------------------------------------------------


def test_the_qr_link_shows_a_genuine_copy_with_its_register_data(
    desktop: Watched, base_url: str, issued: IssuedCopy
) -> None:
    page = desktop.page
    token = issued.entry.verification_token
    response = page.goto(f"{base_url}/v/{token}")
    assert response is not None and response.status == 200
    assert "script-src 'none'" in response.headers["content-security-policy"]
    assert page.locator("html").get_attribute("lang") == "vi"
    assert verdict(page) == "genuine"
    assert headline(page) == (GENUINE_VI, GENUINE_EN)
    # The stylesheet loaded under the CSP: the banner is green and the verdict in words.
    banner = page.locator("#verdict")
    assert banner.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(231, 244, 234)"
    assert "Kết quả kiểm tra: Hợp lệ" in (banner.text_content() or "")

    register = facts(page, "#register")
    entry = issued.entry
    assert register["Tình trạng"].startswith("Đang có hiệu lực")
    assert register["Cơ quan chứng thực"] == AUTHORITY.name
    assert register["Tỉnh, thành phố"] == AUTHORITY.province_name
    assert register["Tên giấy tờ"] == "Giấy khai sinh"
    assert register["Số chứng thực"] == str(entry.number)
    assert register["Quyển số"] == f"{entry.book}-{entry.register_type}"
    assert register["Ngày chứng thực"] == "01/12/2026"  # the fixed clock, Vietnamese date
    assert register["Số trang"] == "1"
    assert register["Mã băm SHA-256 của bản sao"] == entry.copy_sha256

    roles = [r.splitlines()[0] for r in page.locator("article.signature dd.role").all_inner_texts()]
    assert sorted(roles) == sorted(
        ["Người thực hiện chứng thực", "Con dấu cơ quan", "Dấu thời gian"]
    )
    body = page.locator("body").inner_text()
    assert body.count("Nguyên vẹn: nội dung đã ký không bị thay đổi") == 3
    assert body.count("Được tin cậy") == 3
    assert "(GMT+7)" in body
    assert "PAdES-BASELINE-LTA" in body
    for private in REQUESTER:
        assert private not in page.content()

    report = page.locator("#report")
    assert report.get_attribute("href") == f"/api/v1/verify/{token}/report.xml"
    xml = page.request.get(f"{base_url}/api/v1/verify/{token}/report.xml")
    assert xml.status == 200
    assert "ValidationReport" in xml.text()
    screenshot(page, "token-genuine-desktop")


def test_uploading_the_genuine_copy(desktop: Watched, base_url: str, issued: IssuedCopy) -> None:
    page = desktop.page
    upload(page, base_url, issued.pdf)
    assert page.url == f"{base_url}/verify"
    assert verdict(page) == "genuine"
    assert headline(page)[0] == GENUINE_VI
    assert facts(page, "#register")["Số chứng thực"] == str(issued.entry.number)
    # The report of an upload comes inside the page, to download.
    with page.expect_download() as download:
        page.locator("#report").click()
    assert download.value.suggested_filename == "bao-cao-kiem-tra.xml"
    report = Path(download.value.path()).read_text(encoding="utf-8")
    assert "ValidationReport" in report
    screenshot(page, "upload-genuine-desktop")


def test_uploading_a_copy_with_an_added_comment_is_modified(
    desktop: Watched, base_url: str, issued: IssuedCopy
) -> None:
    page = desktop.page
    upload(page, base_url, append_annotation(issued.pdf))
    assert verdict(page) == "modified"
    assert headline(page)[0] == MODIFIED_VI
    reasons = page.locator("ul.reasons li").all_inner_texts()
    assert len(reasons) == 1 and reasons[0].startswith("Tệp có phần được thêm vào sau khi ký")
    # Still shows which register entry the file began as.
    assert facts(page, "#register")["Số chứng thực"] == str(issued.entry.number)
    href = page.locator("#report").get_attribute("href") or ""
    assert href.startswith("data:application/xml;base64,")
    assert "ValidationReport" in base64.b64decode(href.split(",", 1)[1]).decode("utf-8")
    screenshot(page, "upload-modified-desktop")


def test_typing_the_code_from_a_paper_copy(
    desktop: Watched, base_url: str, issued: IssuedCopy
) -> None:
    page = desktop.page
    token = issued.entry.verification_token
    page.goto(f"{base_url}/verify")
    # A person pastes the link from the QR code, with stray spaces.
    page.fill("#code", f"  {issued.verify_url[:-6]} {issued.verify_url[-6:]} ")
    with page.expect_navigation():
        page.get_by_role("button", name="Xem kết quả").click()
    assert page.url == f"{base_url}/v/{token}"
    assert verdict(page) == "genuine"


def test_switching_to_english_and_back(desktop: Watched, base_url: str, issued: IssuedCopy) -> None:
    page = desktop.page
    token = issued.entry.verification_token
    page.goto(f"{base_url}/v/{token}")
    page.get_by_role("link", name="English").click()
    assert page.url == f"{base_url}/v/{token}?lang=en"
    assert page.locator("html").get_attribute("lang") == "en"
    assert headline(page) == (GENUINE_EN, GENUINE_VI)
    assert page.title().startswith("Genuine")
    screenshot(page, "token-genuine-en-desktop")
    # The upload form keeps the language.
    page.get_by_role("link", name="Check another copy").click()
    assert page.url == f"{base_url}/verify?lang=en"
    assert page.locator("form[enctype='multipart/form-data']").get_attribute("action") == (
        "/verify?lang=en"
    )
    page.get_by_role("link", name="Tiếng Việt").click()
    assert page.url == f"{base_url}/verify"
    assert page.locator("html").get_attribute("lang") == "vi"


def test_on_a_phone(phone: Watched, base_url: str, issued: IssuedCopy) -> None:
    page = phone.page
    page.goto(f"{base_url}/verify")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for target in (
        page.locator(".lang-switch"),
        page.locator("input[name=file]"),
        page.locator("#code"),
        *page.locator("button[type=submit]").all(),
    ):
        box = target.bounding_box()
        assert box is not None and box["height"] >= 44, target
    screenshot(page, "verify-form-phone")

    page.goto(f"{base_url}/v/{issued.entry.verification_token}")
    assert verdict(page) == "genuine"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "token-genuine-phone")

    response = page.goto(f"{base_url}/verify?code=..%2F..%2Fetc%2Fpasswd")
    assert response is not None and response.status == 400
    assert page.locator("[role=alert]").inner_text().startswith("Chưa kiểm tra được")
    # The browser logs the page's own 400; that one is expected.
    assert [e for e in phone.errors if "status of 400" not in e] == []
    phone.errors.clear()
    screenshot(page, "code-error-phone")


def test_a_cancelled_copy_on_a_phone(
    phone: Watched, base_url: str, verify_services: Services
) -> None:
    copy = issue(verify_services, "Bằng tốt nghiệp trung học phổ thông")
    now = verify_services.clock.now()
    verify_services.register.cancel_document(
        copy.entry.id,
        "Bản chính không hợp lệ",
        now,
        audit=AuditRecord("chairman", "copy.cancelled", copy.entry.id, now),
    )
    page = phone.page
    page.goto(f"{base_url}/v/{copy.entry.verification_token}")
    assert verdict(page) == "cancelled"
    register = facts(page, "#register")
    assert register["Tình trạng"].startswith("Đã bị huỷ")
    assert register["Ngày huỷ"] == "01/12/2026"
    assert register["Lý do huỷ"] == "Bản chính không hợp lệ"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "token-cancelled-phone")
