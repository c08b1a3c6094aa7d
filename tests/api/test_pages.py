"""The public verification pages, against a fake verifier giving hand-built verdicts.

What a person sees: the verdict in Vietnamese first (English with ``?lang=en``), the reasons,
the register data, every signature, and the errors as pages with the right status. Nothing
about the requester, no script and no inline style (the CSP forbids them).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.testclient import TestClient

import api
from api.errors import install_error_handlers
from api.ratelimit import RateLimiter
from api.routes.pages import router, token_from_code
from certify.errors import StorageUnavailableError
from certify.verdicts import PublicEntry, Reason, SignatureCheck, Validation, Verification
from tests.samples import signature_check

STATIC = Path(api.__file__).parent / "static"
CHECKED_AT = dt.datetime(2026, 5, 2, 3, 4, 5, tzinfo=dt.UTC)  # 10:04:05 in Hà Nội

GENUINE = "GenuineToken_0123456789"
CANCELLED = "CancelledToken-0123456789"
DOWN = "StorageDownToken_0123456"
HOSTILE = "HostileDocumentName_0123"

GENUINE_PDF = b"%PDF-1.7 genuine copy"
MODIFIED_PDF = b"%PDF-1.7 genuine copy, then an annotation"
NOT_A_PDF = b"GIF89a not a pdf"

# The requester of the fake copy: the pages must never show them.
REQUESTER_NAME = "Phạm Văn Dũng"
REQUESTER_ID = "079200001234"

COPY_SHA256 = "3f" * 32
UPLOAD_SHA256 = "a1" * 32


def signature(
    role: str,
    signer: str,
    *,
    kind: str = "signature",
    organisation: str | None = "UBND phường Tân Phú",
    minute: int = 15,
    tsa: str | None = "TSA tỉnh Đồng Nai",
    intact: bool = True,
    trusted: bool = True,
    certificate_status: str = "good",
) -> SignatureCheck:
    return signature_check(
        field_name=f"Sig-{role}",
        kind=kind,
        role=role,
        signer=signer,
        organisation=organisation,
        intact=intact,
        valid=intact,
        trusted=trusted,
        certificate_status=certificate_status,
        indication="TOTAL_PASSED" if intact and trusted else "TOTAL_FAILED",
        sub_indication=None if intact and trusted else "HASH_FAILURE",
        signing_time=dt.datetime(2026, 3, 5, 2, minute, 30, tzinfo=dt.UTC),
        tsa=tsa,
    )


SIGNATURES = (
    signature("certifier", "Nguyễn Thị Hồng", minute=15),
    signature("seal", "UBND phường Tân Phú", minute=16),
    signature("timestamp", "TSA tỉnh Đồng Nai", kind="timestamp", organisation=None, minute=17),
)


def validation(
    outcome: str = "valid", signatures: tuple[SignatureCheck, ...] = SIGNATURES
) -> Validation:
    return Validation(
        outcome=outcome,
        reasons=(),
        signatures=signatures,
        pades_level="PAdES-BASELINE-LTA" if outcome == "valid" else None,
        validated_at=CHECKED_AT,
        size=1234,
        sha256=COPY_SHA256,
    )


def entry(**changes: object) -> PublicEntry:
    values: dict[str, object] = {
        "authority_code": "dn-tanphu",
        "authority_name": "UBND phường Tân Phú",
        "province_name": "Đồng Nai",
        "document_name": "Giấy khai sinh",
        "number": 12,
        "book": "01/2026",
        "register_type": "SCT/BS",
        "issued_on": dt.date(2026, 3, 5),
        "pages": 2,
        "copies": 3,
        "copy_sha256": COPY_SHA256,
        "status": "issued",
        "certifier_name": "Nguyễn Thị Hồng",
        "certifier_title": "Phó Chủ tịch UBND phường",
    }
    values.update(changes)
    return PublicEntry(**values)  # type: ignore[arg-type]


def verification(
    verdict: str,
    reasons: tuple[str, ...],
    *,
    method: str = "token",
    sha256: str | None = COPY_SHA256,
    entry: PublicEntry | None = None,
    validation: Validation | None = None,
) -> Verification:
    return Verification(
        verdict=verdict,
        reasons=tuple(Reason.of(code) for code in reasons),
        checked_at=CHECKED_AT,
        method=method,
        sha256=sha256,
        entry=entry,
        validation=validation,
    )


class FakeVerifier:
    """Answers like certify.verifier.Verifier, from a table."""

    def __init__(self) -> None:
        self.uploads: list[bytes] = []
        self.tokens: list[str] = []

    def by_token(self, token: str) -> Verification:
        self.tokens.append(token)
        if token == DOWN:
            raise StorageUnavailableError()
        valid = validation()
        answers = {
            GENUINE: verification(
                "genuine",
                ("matches_register", "signatures_valid", "in_force"),
                entry=entry(),
                validation=valid,
            ),
            CANCELLED: verification(
                "cancelled",
                ("matches_register", "signatures_valid", "cancelled"),
                entry=entry(
                    status="cancelled",
                    cancelled_on=dt.date(2026, 4, 20),
                    cancelled_reason="Cấp nhầm bản sao của giấy tờ khác",
                ),
                validation=valid,
            ),
            HOSTILE: verification(
                "genuine",
                ("matches_register",),
                entry=entry(document_name='<script>alert("x")</script>'),
                validation=valid,
            ),
        }
        return answers.get(token) or verification("unknown", ("no_such_code",), sha256=None)

    def by_upload(self, data: bytes) -> Verification:
        self.uploads.append(data)
        if data == GENUINE_PDF:
            return verification(
                "genuine",
                ("matches_register", "signatures_valid", "in_force"),
                method="upload",
                entry=entry(),
                validation=validation(),
            )
        if data == MODIFIED_PDF:
            return verification(
                "modified",
                ("appended_changes",),
                method="upload",
                sha256=UPLOAD_SHA256,
                entry=entry(),
                validation=validation("modified"),
            )
        return verification(
            "unreadable",
            ("not_pdf",),
            method="upload",
            sha256=UPLOAD_SHA256,
            validation=validation("unreadable", signatures=()),
        )


@pytest.fixture
def verifier() -> FakeVerifier:
    return FakeVerifier()


def pages_app(verifier: FakeVerifier, *, token_limit: str = "", upload_limit: str = "") -> FastAPI:
    """The pages as api/app.py wires them, on fake services."""
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.state.services = SimpleNamespace(
        settings=SimpleNamespace(verify_max_upload_bytes=64 * 1024),
        verifier=lambda: verifier,
    )
    app.state.upload_limiter = RateLimiter(upload_limit, scope="upload")
    app.state.token_limiter = RateLimiter(token_limit, scope="token")
    return app


@pytest.fixture
def client(verifier: FakeVerifier) -> Iterator[TestClient]:
    with TestClient(pages_app(verifier), follow_redirects=False) as client:
        yield client


def text(response: httpx2.Response) -> str:
    """The page's text with entities decoded and tags kept (enough for ``in`` checks)."""
    return html.unescape(response.text)


def html_lang(page: str) -> str:
    match = re.search(r'<html lang="([a-z]+)">', page)
    assert match, "no <html lang>"
    return match.group(1)


def assert_csp_clean(page: str) -> None:
    """Nothing the Content-Security-Policy would block: no script, no inline style."""
    assert "<script" not in page.lower()
    assert "<style" not in page.lower()
    assert " style=" not in page.lower()
    assert re.search(r"\son[a-z]+=", page) is None  # no inline event handlers
    assert '<link rel="stylesheet" href="/static/certify.css">' in page


def upload(client: TestClient, data: bytes, *, path: str = "/verify") -> httpx2.Response:
    return client.post(path, files={"file": ("copy.pdf", data, "application/pdf")})


# --- the form ----------------------------------------------------------------------------


def test_the_form_page_has_both_forms_in_vietnamese(client: TestClient) -> None:
    response = client.get("/verify")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert html_lang(page) == "vi"
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert re.search(r'<form method="post" action="/verify" enctype="multipart/form-data">', page)
    assert re.search(r'<input type="file" id="file" name="file" accept="application/pdf"', page)
    assert '<form method="get" action="/verify">' in page
    assert re.search(r'<input type="text" id="code" name="code"', page)
    assert 'name="lang"' not in page
    assert "Kiểm tra bản sao điện tử chứng thực" in page
    assert page.index("Tải tệp PDF lên") < page.index("Upload the PDF")
    assert re.search(r'<a class="lang-switch" href="/verify\?lang=en"[^>]*>English</a>', page)
    assert_csp_clean(page)


def test_the_form_page_in_english_keeps_the_language_across_both_forms(
    client: TestClient,
) -> None:
    page = client.get("/verify", params={"lang": "en"}).text
    assert html_lang(page) == "en"
    assert page.index("Upload the PDF") < page.index("Tải tệp PDF lên")
    assert 'action="/verify?lang=en" enctype="multipart/form-data"' in page
    assert '<input type="hidden" name="lang" value="en">' in page
    assert re.search(r'<a class="lang-switch" href="/verify"[^>]*>Tiếng Việt</a>', page)
    assert "<title>Verify a certified electronic copy" in page


def test_an_unknown_language_falls_back_to_vietnamese(client: TestClient) -> None:
    assert html_lang(client.get("/verify", params={"lang": "fr"}).text) == "vi"


def test_the_stylesheet_is_served_and_responsive(client: TestClient) -> None:
    response = client.get("/static/certify.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert "@media (min-width:" in response.text
    assert "min-height: 48px" in response.text


# --- the code form ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "token"),
    [
        (GENUINE, GENUINE),
        (f"  {GENUINE}  ", GENUINE),
        ("Genuine Token_0123 4567 89", GENUINE),
        (f"https://chungthuc.dongnai.gov.vn/v/{GENUINE}", GENUINE),
        (f"https://chungthuc.dongnai.gov.vn/v/{GENUINE}?lang=en#x", GENUINE),
        (f"chungthuc.dongnai.gov.vn/v/{GENUINE}/", GENUINE),
        (f"https://x.example/v/old/v/{GENUINE}.", GENUINE),
        ("", None),
        ("   ", None),
        ("short", None),
        ("../../etc/passwd", None),
        ("https://evil.example/phishing", None),
        ("a" * 129, None),
        ("GenuineToken+0123456789", None),
        ("Mã-số-có-dấu-0123456789", None),
    ],
)
def test_token_from_code_is_tolerant_but_strict(typed: str, token: str | None) -> None:
    assert token_from_code(typed) == token


def test_the_code_form_redirects_to_the_code_page(client: TestClient) -> None:
    response = client.get("/verify", params={"code": GENUINE})
    assert response.status_code == 303
    assert response.headers["location"] == f"/v/{GENUINE}"


def test_the_code_form_accepts_a_pasted_link_with_spaces(client: TestClient) -> None:
    pasted = f"  https://chungthuc.dongnai.gov.vn/v/{GENUINE[:8]} {GENUINE[8:]}  "
    response = client.get("/verify", params={"code": pasted, "lang": "en"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/v/{GENUINE}?lang=en"
    followed = client.get(response.headers["location"])
    assert "Genuine: this is the certified copy as issued." in followed.text


@pytest.mark.parametrize("garbage", ["../../etc/passwd", "https://evil.example/v/x", "!!"])
def test_a_garbage_code_shows_the_form_again_with_an_error(
    client: TestClient, verifier: FakeVerifier, garbage: str
) -> None:
    response = client.get("/verify", params={"code": garbage})
    assert response.status_code == 400
    assert "location" not in response.headers
    page = text(response)
    assert "Chưa kiểm tra được" in page
    assert "Mã kiểm tra không đúng" in page
    assert "This is not a verification code" in page
    assert '<form method="post" action="/verify"' in page
    assert f'value="{garbage}"' in page  # what was typed, to correct it
    assert verifier.tokens == []


def test_an_empty_code_asks_for_one(client: TestClient) -> None:
    response = client.get("/verify", params={"code": "  "})
    assert response.status_code == 400
    assert "Vui lòng nhập mã kiểm tra." in response.text
    assert "Please type the verification code." in response.text


def test_a_token_page_that_cannot_be_a_code_is_a_404_page(
    client: TestClient, verifier: FakeVerifier
) -> None:
    response = client.get("/v/not%20a%20code")
    assert response.status_code == 404
    assert "Mã kiểm tra không đúng" in response.text
    assert verifier.tokens == []


# --- the verdict pages ---------------------------------------------------------------------


def test_a_genuine_copy_in_vietnamese(client: TestClient) -> None:
    response = client.get(f"/v/{GENUINE}")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    page = text(response)
    assert html_lang(page) == "vi"
    assert_csp_clean(page)
    assert '<meta name="robots" content="noindex, nofollow">' in page
    # The banner: the verdict in words in both languages, Vietnamese first.
    vi, en = "Bản sao điện tử hợp lệ: đúng bản đã được chứng thực.", "Genuine: this is the"
    assert page.index(vi) < page.index(en)
    assert 'class="verdict verdict-ok"' in page
    assert "Kết quả kiểm tra: Hợp lệ" in page
    assert "Verification result: Genuine" in page
    assert "<title>Hợp lệ · Kết quả kiểm tra" in page
    # The reasons, both languages.
    assert "Tệp trùng khớp từng byte với bản sao lưu trong sổ chứng thực." in page
    assert "The file is byte for byte the copy kept with the register entry." in page
    assert "Chứng thực đang có hiệu lực." in page
    # The register entry.
    for shown in (
        "UBND phường Tân Phú",
        "Đồng Nai",
        "Giấy khai sinh",
        "<dd>12</dd>",
        "<dd>01/2026-SCT/BS</dd>",
        "<dd>05/03/2026</dd>",
        "<dd>2</dd>",
        "<dd>3</dd>",
        COPY_SHA256,
        "Đang có hiệu lực",
        "Nguyễn Thị Hồng",
    ):
        assert shown in page, shown
    assert "Ngày huỷ" not in page
    assert 'class="status status-issued"' in page
    assert "bản thân tệp này" not in page
    # Three signatures, with their roles, Vietnamese times, TSA and words for their status.
    assert page.count('<article class="signature"') == 3
    for role in (
        "Người thực hiện chứng thực",
        "Certifier",
        "Con dấu cơ quan",
        "Authority seal",
        "Dấu thời gian",
        "Time-stamp",
    ):
        assert role in page, role
    for minute in (15, 16, 17):
        assert f"05/03/2026 09:{minute}:30 (GMT+7)" in page  # 02:mm:30 UTC
    assert "TSA tỉnh Đồng Nai" in page
    assert page.count("Còn hiệu lực, chưa bị thu hồi") == 3
    assert page.count("Nguyên vẹn: nội dung đã ký không bị thay đổi") == 3
    assert page.count("Được tin cậy: chứng thư số dẫn tới chứng thư gốc tin cậy") == 3
    # Technical details and the report of the lead's API route.
    assert "PAdES-BASELINE-LTA" in page
    assert "02/05/2026 10:04:05 (GMT+7)" in page
    assert "Tệp đã kiểm tra là bản sao lưu cùng sổ chứng thực." in page
    assert f'href="/api/v1/verify/{GENUINE}/report.xml" download="bao-cao-kiem-tra.xml"' in page
    # The language switch keeps the token.
    assert re.search(rf'<a class="lang-switch" href="/v/{GENUINE}\?lang=en"[^>]*>English</a>', page)


def test_a_genuine_copy_in_english(client: TestClient) -> None:
    page = text(client.get(f"/v/{GENUINE}", params={"lang": "en"}))
    assert html_lang(page) == "en"
    assert page.index("Genuine: this is the certified copy as issued.") < page.index(
        "Bản sao điện tử hợp lệ"
    )
    assert "<title>Genuine · Verification result" in page
    assert page.index("Register entry") < page.index("Thông tin trong sổ chứng thực")
    assert page.index("Valid, not revoked") < page.index("Còn hiệu lực, chưa bị thu hồi")
    assert re.search(rf'<a class="lang-switch" href="/v/{GENUINE}"[^>]*>Tiếng Việt</a>', page)
    assert 'href="/verify?lang=en"' in page  # "check another copy" stays in English


def test_a_cancelled_copy_shows_when_and_why(client: TestClient) -> None:
    response = client.get(f"/v/{CANCELLED}")
    assert response.status_code == 200
    page = text(response)
    assert "Chứng thực này đã bị huỷ: bản sao không còn giá trị sử dụng." in page
    assert 'class="verdict verdict-bad"' in page
    assert "Kết quả kiểm tra: Đã bị huỷ" in page
    assert "Người có thẩm quyền đã huỷ chứng thực này." in page
    assert re.search(r"Ngày huỷ.*?</dt><dd>20/04/2026</dd>", page, re.DOTALL)
    assert "Cấp nhầm bản sao của giấy tờ khác" in page
    assert 'class="status status-cancelled"' in page


def test_an_unknown_code_is_an_answer_not_an_error(client: TestClient) -> None:
    token = "NoSuchCode_0123456789"
    response = client.get(f"/v/{token}")
    assert response.status_code == 200
    page = text(response)
    assert "Không phải bản sao do hệ thống này cấp." in page
    assert "Không có bản sao nào mang mã kiểm tra này." in page
    assert 'class="verdict verdict-warn"' in page
    assert "Thông tin trong sổ chứng thực" not in page
    assert "Chữ ký số" not in page


def test_the_pages_escape_what_they_show(client: TestClient) -> None:
    page = client.get(f"/v/{HOSTILE}").text
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_nothing_about_the_requester_is_shown(client: TestClient) -> None:
    for path in (f"/v/{GENUINE}", f"/v/{CANCELLED}", f"/v/{GENUINE}?lang=en"):
        page = text(client.get(path))
        assert REQUESTER_NAME not in page
        assert REQUESTER_ID not in page
        assert "CCCD" not in page
        assert "requester" not in page.lower().replace("requested the copy is shown", "")


# --- uploads -------------------------------------------------------------------------------


def test_a_genuine_upload(client: TestClient, verifier: FakeVerifier) -> None:
    response = upload(client, GENUINE_PDF)
    assert response.status_code == 200
    page = text(response)
    assert verifier.uploads == [GENUINE_PDF]
    assert "Bản sao điện tử hợp lệ: đúng bản đã được chứng thực." in page
    assert "Giấy khai sinh" in page
    assert "Tệp đã kiểm tra là bản sao lưu" not in page  # it is the upload
    assert_csp_clean(page)


def test_a_modified_upload_with_its_report_to_download(client: TestClient) -> None:
    response = upload(client, MODIFIED_PDF)
    assert response.status_code == 200  # a verdict, not an error
    page = text(response)
    assert "Tệp đã bị thay đổi sau khi ký: không phải bản sao đã được chứng thực." in page
    assert "Modified after signing" in page
    assert 'class="verdict verdict-bad"' in page
    assert "Tệp có phần được thêm vào sau khi ký" in page
    # The register entry is the copy the file began as, not a verdict on this file.
    assert "bản thân tệp này không phải bản sao đã được chứng thực" in page
    assert 'class="status status-issued"' not in page
    assert UPLOAD_SHA256 in page
    match = re.search(
        r'<a class="button secondary" id="report" href="data:application/xml;base64,'
        r'([A-Za-z0-9+/=]+)" download="bao-cao-kiem-tra.xml"',
        response.text,
    )
    assert match, "no report link"
    report = base64.b64decode(match.group(1)).decode("utf-8")
    assert "ValidationReport" in report
    assert "modified" in report


def test_an_unreadable_upload(client: TestClient) -> None:
    response = upload(client, NOT_A_PDF)
    assert response.status_code == 200
    page = text(response)
    assert "Không đọc được tệp PDF." in page
    assert "Tệp không phải PDF." in page
    assert 'class="verdict verdict-neutral"' in page
    assert "Tệp không có chữ ký số nào." in page


def test_an_upload_keeps_the_language(client: TestClient) -> None:
    page = text(upload(client, GENUINE_PDF, path="/verify?lang=en"))
    assert html_lang(page) == "en"
    assert page.index("Genuine: this is") < page.index("Bản sao điện tử hợp lệ")


def test_a_too_large_upload_is_a_413_page(client: TestClient, verifier: FakeVerifier) -> None:
    response = upload(client, b"%PDF-" + b"0" * (200 * 1024))
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    page = text(response)
    assert "Tệp tải lên quá lớn" in page
    assert "The uploaded file is too large" in page
    assert '<form method="post" action="/verify"' in page
    assert verifier.uploads == []


def test_an_upload_without_a_file_is_a_400_page(client: TestClient) -> None:
    response = client.post("/verify", files={"other": ("x.txt", b"x", "text/plain")})
    assert response.status_code == 400
    assert "Chưa có tệp PDF để kiểm tra" in text(response)


def test_the_pages_share_the_api_rate_limits(verifier: FakeVerifier) -> None:
    app = pages_app(verifier, token_limit="2/minute", upload_limit="1/minute")
    with TestClient(app) as client:
        assert client.get(f"/v/{GENUINE}").status_code == 200
        assert client.get(f"/v/{GENUINE}").status_code == 200
        limited = client.get(f"/v/{GENUINE}", params={"lang": "en"})
        assert upload(client, GENUINE_PDF).status_code == 200
        limited_upload = upload(client, GENUINE_PDF)
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    page = text(limited)
    assert html_lang(page) == "en"
    assert page.index("Too many requests") < page.index("Quá nhiều yêu cầu")
    assert '<form method="post" action="/verify?lang=en"' in page
    assert limited_upload.status_code == 429
    assert "Quá nhiều yêu cầu" in text(limited_upload)
    assert len(verifier.tokens) == 2
    assert verifier.uploads == [GENUINE_PDF]


def test_a_storage_outage_is_a_503_page(client: TestClient) -> None:
    response = client.get(f"/v/{DOWN}")
    assert response.status_code == 503
    assert "Kho lưu trữ tạm thời không khả dụng." in text(response)
