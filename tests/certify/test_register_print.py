"""The register's totals (certify.register) and its monthly print and year-end closing
(certify.register_book), checked with poppler."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from certify.errors import InvalidInputError
from certify.fonts import PreparedFont, prepare_font
from certify.ports import DocumentEntry
from certify.register import (
    REGISTER_TITLE,
    RegisterRow,
    RegisterTotals,
    format_vnd,
    month_totals,
    year_totals,
)
from certify.register_book import render_monthly_print, render_year_end
from tests.certify.conftest import DEJAVU, DEJAVU_BOLD

POPPLER = all(shutil.which(t) for t in ("pdftotext", "pdfinfo", "pdffonts", "pdftoppm"))
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils not installed")

AUTHORITY = "Ủy ban nhân dân phường Tân Phú"
PROVINCE = "Thành phố Hồ Chí Minh"
PAGE_W, PAGE_H = 841.89, 595.28
RIGHT_MARGIN, BOTTOM_MARGIN = 28.0, 40.0
HEADERS = (
    "Số chứng",  # "Số chứng thực" is wrapped over two lines in its narrow column
    "Ngày, tháng,",
    "Họ tên người yêu cầu",
    "Tên bản chính giấy tờ, văn bản",
    "Họ tên, chức danh người ký",
    "Số bản",
    "Lệ phí / Phí",
    "Ghi chú",
)
REQUESTERS = (
    "Nguyễn Thị Hồng Nhung",
    "Trần Đức Thắng",
    "Lê Văn Cường",
    "Phạm Thị Ánh Tuyết",
    "Đặng Quốc Việt",
)
DOCUMENTS = (
    "Giấy khai sinh",
    "Bằng tốt nghiệp đại học chính quy ngành Công nghệ thông tin",
    "Căn cước công dân",
    "Giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài sản khác gắn liền với đất",
    "Học bạ trung học phổ thông",
)
REASON = "Chứng thực sai thẩm quyền (Quyết định số 12/QĐ-UBND)"


@pytest.fixture(scope="module")
def fonts() -> tuple[PreparedFont, PreparedFont]:
    return prepare_font(DEJAVU), prepare_font(DEJAVU_BOLD, tag="CRTFYB")


def row(number: int, day: int = 5, **changes: object) -> RegisterRow:
    values: dict[str, object] = {
        "number": number,
        "date": dt.date(2026, 3, day),
        "requester_name": REQUESTERS[number % 5],
        "document_name": DOCUMENTS[number % 5],
        "certifier_name": "Nguyễn Văn An",
        "certifier_title": "Phó Chủ tịch Ủy ban nhân dân phường",
        "copies": 1 + number % 3,
        "fee": 2_000 * (1 + number % 3),
        "book": "01/2026",
        "register_type": "SCT/BS",
    }
    values.update(changes)
    return RegisterRow(**values)  # type: ignore[arg-type]


def cancelled(r: RegisterRow) -> RegisterRow:
    return dataclasses.replace(
        r, status="cancelled", cancelled_on=dt.date(2026, 3, 20), cancelled_reason=REASON
    )


def month_rows(count: int = 40) -> list[RegisterRow]:
    rows = [row(n, day=1 + (n - 1) * 28 // count) for n in range(1, count + 1)]
    rows[6] = cancelled(rows[6])  # number 7
    return rows


def monthly(rows: list[RegisterRow], fonts: tuple[PreparedFont, PreparedFont]) -> bytes:
    return render_monthly_print(
        rows,
        authority_name=AUTHORITY,
        province_name=PROVINCE,
        year=2026,
        month=3,
        font=fonts[0],
        bold_font=fonts[1],
    )


def run(*args: str | Path) -> str:
    return subprocess.run(
        [str(a) for a in args], check=True, capture_output=True, text=True, timeout=60
    ).stdout


def page_count(pdf: Path) -> int:
    for line in run("pdfinfo", pdf).splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    raise AssertionError("pdfinfo gave no page count")


def words(pdf: Path) -> list[tuple[float, float, float, float, str]]:
    """Every word with its box (xMin, yMin, xMax, yMax; y from the top), from pdftotext."""
    html = run("pdftotext", "-bbox", pdf, "-")
    pattern = re.compile(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
    )
    return [
        (float(a), float(b), float(c), float(d), text) for a, b, c, d, text in pattern.findall(html)
    ]


# --- rows and totals ------------------------------------------------------------------------


def test_row_from_entry_uses_the_vietnamese_date_and_notes_the_cancellation() -> None:
    entry = DocumentEntry(
        id="d1",
        authority_code="79-tanphu",
        request_code="HS-1",
        register_type="SCT/BS",
        year=2026,
        number=12,
        book="01/2026",
        document_name="Giấy khai sinh",
        pages=1,
        copies=2,
        fee=4_000,
        page_hashes=(hashlib.sha256(b"p").hexdigest(),),
        copy_key="k",
        copy_sha256="0" * 64,
        copy_size=1,
        copy_version_id=None,
        verification_token="t",
        certifier_username="nguyenvanan",
        # 18:00 UTC on 31 January is 01:00 on 1 February in Vietnam.
        issued_at=dt.datetime(2026, 1, 31, 18, 0, tzinfo=dt.UTC),
        status="cancelled",
        cancelled_reason=REASON,
        cancelled_at=dt.datetime(2026, 2, 28, 17, 30, tzinfo=dt.UTC),
    )
    r = RegisterRow.from_entry(
        entry,
        requester_name="Lê Văn Cường",
        certifier_name="Nguyễn Văn An",
        certifier_title="Phó Chủ tịch",
    )
    assert r.date == dt.date(2026, 2, 1)
    assert r.cancelled
    assert r.notes == f"Đã huỷ ngày 01/03/2026: {REASON}"
    assert row(1).notes == ""


def test_month_totals_leave_cancelled_entries_out_of_the_sums() -> None:
    rows = [row(1, copies=2, fee=4_000), cancelled(row(2, copies=5, fee=10_000)), row(3)]
    totals = month_totals(rows)
    assert totals == RegisterTotals(
        entries=2,
        copies=2 + rows[2].copies,
        fees=4_000 + rows[2].fee,
        cancelled=1,
        first_number=1,
        last_number=3,
    )
    assert totals.numbers_used == 3
    assert month_totals([]) == RegisterTotals()


def test_year_totals_per_month_and_missing_numbers() -> None:
    rows = [
        row(1, date=dt.date(2026, 1, 2), copies=1, fee=2_000),
        row(2, date=dt.date(2026, 1, 30), copies=3, fee=6_000),
        cancelled(row(3, date=dt.date(2026, 3, 1))),
        row(5, date=dt.date(2026, 12, 31), copies=2, fee=4_000),
    ]
    totals = year_totals(rows)
    assert totals.total.entries == 3
    assert totals.total.copies == 6
    assert totals.total.fees == 12_000
    assert totals.total.cancelled == 1
    assert len(totals.months) == 12
    assert totals.months[0] == RegisterTotals(2, 4, 8_000, 0, 1, 2)
    assert totals.months[1] == RegisterTotals()
    assert totals.months[2].cancelled == 1
    assert totals.months[11].last_number == 5
    assert totals.missing_numbers == (4,)
    assert format_vnd(1_234_567) == "1.234.567"


# --- the monthly print ----------------------------------------------------------------------


@needs_poppler
def test_monthly_print_of_forty_rows(
    fonts: tuple[PreparedFont, PreparedFont], tmp_path: Path
) -> None:
    rows = month_rows(40)
    pdf = tmp_path / "month.pdf"
    pdf.write_bytes(monthly(rows, fonts))

    pages = page_count(pdf)
    assert pages > 1
    text = run("pdftotext", "-layout", pdf, "-")
    assert f"{REGISTER_TITLE} — Tháng 03/2026" in text
    assert AUTHORITY.upper() in text
    assert "Quyển số: 01/2026-SCT/BS" in text
    for header in HEADERS:
        assert header in text
    # the table header is repeated on every page, and every page is numbered
    assert text.count("Họ tên người yêu cầu") == pages
    for i in range(1, pages + 1):
        assert f"Trang {i}/{pages}" in text
    for name in REQUESTERS:
        assert name in text
    assert "Phó Chủ tịch Ủy ban nhân" in text
    for n in (1, 17, 40):
        assert f"{rows[n - 1].date:%d/%m/%Y}" in text
    assert "Đã huỷ ngày 20/03/2026" in text
    # every number is printed, once, in order
    firsts = [
        int(line.split()[0])
        for line in text.splitlines()
        if line.strip()[:1].isdigit() and "/2026" in line
    ]
    assert firsts == list(range(1, 41))

    expected = month_totals(rows)
    assert expected.entries == 39
    assert expected.cancelled == 1
    assert expected.fees == sum(r.fee for r in rows) - rows[6].fee
    assert (
        f"Tổng cộng tháng: 39 việc, {expected.copies} bản sao, {format_vnd(expected.fees)} đồng"
    ) in text
    assert "Số việc đã huỷ trong tháng: 1" in text

    fonts_table = run("pdffonts", pdf)
    lines = [line for line in fonts_table.splitlines() if "DejaVuSans" in line]
    assert len(lines) == 2
    for line in lines:
        # name, type (2 words), encoding, emb, sub, uni
        cols = line.split()
        assert cols[1:5] == ["CID", "TrueType", "Identity-H", "yes"]
        assert cols[6] == "yes"  # ToUnicode: the text can be searched


@needs_poppler
def test_monthly_print_first_page_fits_its_margins(
    fonts: tuple[PreparedFont, PreparedFont], tmp_path: Path
) -> None:
    pdf = tmp_path / "month.pdf"
    pdf.write_bytes(monthly(month_rows(40), fonts))
    run("pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", pdf, tmp_path / "page")
    png = next(tmp_path.glob("page*.png"))
    with Image.open(png) as im:
        gray = im.convert("L")
        w, h = gray.size
        assert w > h  # landscape
        # nothing is drawn in the right margin (the table fits the page's width)
        margin = gray.crop((w - int(RIGHT_MARGIN * 60 / 72) + 2, 0, w, h))
        assert min(margin.tobytes()) > 200


@needs_poppler
def test_long_cells_wrap_inside_the_table_and_long_rows_continue_on_the_next_page(
    fonts: tuple[PreparedFont, PreparedFont], tmp_path: Path
) -> None:
    very_long = " ".join(["Giấy chứng nhận quyền sử dụng đất"] * 120)
    unbroken = "Mã-hồ-sơ-" + "X" * 300
    rows = [
        row(1, requester_name="Hoàng Thị Phương Thảo " + unbroken),
        row(2, document_name=very_long),
        row(3),
    ]
    pdf = tmp_path / "long.pdf"
    pdf.write_bytes(monthly(rows, fonts))
    assert page_count(pdf) >= 3
    found = words(pdf)
    assert found
    below_table = []
    for x_min, _y_min, x_max, y_max, text in found:
        assert x_min >= 0
        assert x_max <= PAGE_W - RIGHT_MARGIN + 0.5, text
        if y_max > PAGE_H - BOTTOM_MARGIN + 1.0:
            below_table.append(text)
    # only the page numbers ("Trang i/n") are printed in the bottom margin
    pages = page_count(pdf)
    assert below_table == [w for i in range(1, pages + 1) for w in ("Trang", f"{i}/{pages}")]
    text = run("pdftotext", "-layout", pdf, "-")
    assert "Hoàng Thị Phương" in text
    assert "Tổng cộng tháng: 3 việc" in text


@needs_poppler
def test_an_empty_month_still_prints(
    fonts: tuple[PreparedFont, PreparedFont], tmp_path: Path
) -> None:
    pdf = tmp_path / "empty.pdf"
    pdf.write_bytes(monthly([], fonts))
    assert page_count(pdf) == 1
    text = run("pdftotext", "-layout", pdf, "-")
    assert "Không có việc chứng thực nào trong tháng." in text
    assert "Tổng cộng tháng: 0 việc, 0 bản sao, 0 đồng" in text
    assert "Trang 1/1" in text


def test_the_print_refuses_rows_it_should_not_hold(
    fonts: tuple[PreparedFont, PreparedFont],
) -> None:
    with pytest.raises(InvalidInputError):
        monthly([row(1, date=dt.date(2026, 4, 1))], fonts)
    with pytest.raises(InvalidInputError):
        monthly([row(1), row(2, register_type="SCT/CK")], fonts)
    with pytest.raises(InvalidInputError):
        render_monthly_print(
            [], authority_name=AUTHORITY, province_name=PROVINCE, year=2026, month=13, font=fonts[0]
        )
    with pytest.raises(InvalidInputError):
        render_year_end(
            [row(1)], authority_name=AUTHORITY, province_name=PROVINCE, year=2025, font=fonts[0]
        )


def test_a_single_font_is_enough(fonts: tuple[PreparedFont, PreparedFont]) -> None:
    data = render_monthly_print(
        [row(1)],
        authority_name=AUTHORITY,
        province_name=PROVINCE,
        year=2026,
        month=3,
        font=fonts[0],
    )
    assert data.startswith(b"%PDF-")


# --- the year-end closing -------------------------------------------------------------------


@needs_poppler
def test_year_end_closes_the_book_with_totals(
    fonts: tuple[PreparedFont, PreparedFont], tmp_path: Path
) -> None:
    rows = [
        *month_rows(40),
        row(41, date=dt.date(2026, 4, 2), copies=2, fee=4_000),
        row(43, date=dt.date(2026, 12, 31), copies=1, fee=2_000),
    ]
    pdf = tmp_path / "year.pdf"
    pdf.write_bytes(
        render_year_end(
            rows,
            authority_name=AUTHORITY,
            province_name=PROVINCE,
            year=2026,
            font=fonts[0],
            bold_font=fonts[1],
        )
    )
    totals = year_totals(rows)
    text = run("pdftotext", "-layout", pdf, "-")
    assert f"{REGISTER_TITLE} — Khoá sổ năm 2026" in text
    assert "Cả năm" in text
    assert (
        f"sổ có 42 số chứng thực, từ số 1 đến số 43, trong đó 1 việc đã huỷ. "
        f"Tổng cộng năm: {totals.total.entries} việc, {totals.total.copies} bản sao, "
        f"{format_vnd(totals.total.fees)} đồng."
    ) in " ".join(text.split())
    assert "Các số chứng thực không có trong sổ: 42." in text
    assert "03/2026" in text
    assert "12/2026" in text
