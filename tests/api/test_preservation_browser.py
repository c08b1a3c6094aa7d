"""A renewed copy's public page in a real browser (headless Chromium, JavaScript off, a
390 px phone): the QR code of the copy as issued still answers genuine, from the newest stored
version, with the chain of archive time-stamps; the copy as issued, uploaded, is genuine too
(issue 14.3). Screenshots: test-artifacts/screenshots/preserved-*.png."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import Browser, sync_playwright

from api.app import create_app
from api.preservation_wiring import preserver
from api.services import Services
from certify.issuance import IssuedCopy
from certify.preservation import PreservationPolicy
from storage.minio_server import MinioServer, free_port
from tests.api.conftest import issue_copy, seeded_services
from tests.api.test_pages_browser import (
    CHROMIUM,
    REQUESTER,
    Watched,
    open_context,
    screenshot,
    upload,
    verdict,
)
from tests.issuing import ServedPki, serve_in_thread

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@dataclasses.dataclass
class Renewed:
    base_url: str
    issued: IssuedCopy


@pytest.fixture(scope="module")
def renewed(
    minio_server: MinioServer, served_pki: ServedPki, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Renewed]:
    services: Services = seeded_services(
        minio_server,
        served_pki,
        tmp_path_factory.mktemp("preserved") / "var",
        verify_token_rate_limit="",
        verify_upload_rate_limit="",
    )

    def issue_and_renew() -> IssuedCopy:
        issued = issue_copy(services)
        run = preserver(services)
        run.policy = PreservationPolicy(
            weak_digests=frozenset({"sha256"}), digest_algorithm="sha512"
        )
        assert run.run().renewed == 1
        return issued

    try:
        # In a thread: pyHanko uses asyncio.run, which Playwright's loop in this thread forbids.
        with ThreadPoolExecutor(max_workers=1) as pool:
            issued = pool.submit(issue_and_renew).result()
        with serve_in_thread(create_app(services=services), free_port(), lifespan="on") as url:
            yield Renewed(url, issued)
    finally:
        services.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def test_the_old_qr_code_shows_the_renewed_copy_with_its_archive_chain(
    browser: Browser, renewed: Renewed
) -> None:
    context = open_context(browser, phone=True)
    watched = Watched(context)
    page = watched.page
    response = page.goto(f"{renewed.base_url}/v/{renewed.issued.entry.verification_token}")
    assert response is not None and response.status == 200
    assert verdict(page) == "genuine"
    chain = page.locator("#archive-chain > li")
    assert chain.count() == 2
    assert chain.nth(0).inner_text().startswith("Khi cấp bản sao")
    assert chain.nth(1).inner_text().startswith("Gia hạn lưu trữ")
    assert [chain.nth(i).get_attribute("data-valid") for i in range(2)] == ["true", "true"]
    assert page.locator("#stored-version").get_attribute("data-version") == "1"
    # Usable on a phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for private in REQUESTER:
        assert private not in page.content()
    screenshot(page, "preserved-token-phone")
    context.close()
    assert watched.errors == []


def test_the_copy_as_issued_uploaded_is_genuine_as_version_0(
    browser: Browser, renewed: Renewed
) -> None:
    context = open_context(browser)
    watched = Watched(context)
    page = watched.page
    # The citizen's download from the day of issue: the bytes as issued.
    upload(page, renewed.base_url, renewed.issued.pdf)
    assert verdict(page) == "genuine"
    assert page.locator("#stored-version").get_attribute("data-version") == "0"
    assert page.locator("#archive-chain > li").count() == 1
    screenshot(page, "preserved-upload-issued-desktop")
    context.close()
    assert watched.errors == []
