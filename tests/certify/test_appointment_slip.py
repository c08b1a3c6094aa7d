"""The appointment slip (certify.appointment_slip), checked with poppler.

The first page of each slip rendered here is also written as a PNG (60 dpi) to
``test-artifacts/slips/`` for a person to look at.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from certify.appointment_slip import AppointmentSlip, render_appointment_slip
from certify.errors import InvalidInputError
from certify.fonts import PreparedFont, prepare_font
from certify.ports import VN_TZ
from tests.certify.conftest import DEJAVU, DEJAVU_BOLD

POPPLER = all(shutil.which(t) for t in ("pdftotext", "pdfinfo", "pdffonts", "pdftoppm"))
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils not installed")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "slips"
A5 = (419.528, 595.276)
A4 = (595.276, 841.89)
MARGIN = 25.0  # no text closer to the page's edge than this

SLIP = AppointmentSlip(
    authority_name="Ủy ban nhân dân phường Tân Phú",
    province_name="Thành phố Hồ Chí Minh",
    request_code="YC-7F3A9C21D4",
    requester_name="Nguyễn Thị Hường",
    documents=(
        ("Giấy khai sinh", 2),
        ("Bằng tốt nghiệp đại học", 1),
    ),
    # 15:30 on Thursday 3 December and 10:00 on Monday 7 December, Vietnam time, given in UTC
    received_at=dt.datetime(2026, 12, 3, 8, 30, tzinfo=dt.UTC),
    appointment_at=dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.UTC),
    officer_name="Trần Văn Đức",
    fee=6_000,
)


@pytest.fixture(scope="module")
def fonts() -> tuple[PreparedFont, PreparedFont]:
    return prepare_font(DEJAVU), prepare_font(DEJAVU_BOLD, tag="CRTFYB")


def render(slip: AppointmentSlip, fonts: tuple[PreparedFont, PreparedFont]) -> bytes:
    return render_appointment_slip(slip, font=fonts[0], bold_font=fonts[1])


def run(*args: str | Path) -> str:
    return subprocess.run(
        [str(a) for a in args], check=True, capture_output=True, text=True, timeout=60
    ).stdout


def text_of(pdf: Path) -> str:
    return " ".join(run("pdftotext", "-layout", pdf, "-").split())


def snapshot(pdf: Path, name: str) -> Path:
    """Page 1 as a PNG at 60 dpi in test-artifacts/slips/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    run("pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", pdf, ARTIFACTS / name)
    return ARTIFACTS / f"{name}.png"


def words(pdf: Path) -> list[tuple[float, float, float, float, str]]:
    """Every word with its box (xMin, yMin, xMax, yMax; y from the top), from pdftotext."""
    html = run("pdftotext", "-bbox", pdf, "-")
    pattern = re.compile(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
    )
    return [
        (float(a), float(b), float(c), float(d), text) for a, b, c, d, text in pattern.findall(html)
    ]


def assert_laid_out(pdf: Path, paper: tuple[float, float] = A5) -> None:
    """One page of ``paper``; every word inside the margins; no two words overlap."""
    info = run("pdfinfo", pdf)
    assert re.search(r"^Pages:\s+1$", info, re.MULTILINE)
    assert re.search(rf"^Page size:\s+{paper[0]} x {paper[1]} pts", info, re.MULTILINE)
    found = words(pdf)
    assert found
    for x0, y0, x1, y1, text in found:
        assert x0 >= MARGIN and x1 <= paper[0] - MARGIN, text
        assert y0 >= MARGIN - 4 and y1 <= paper[1] - MARGIN + 4, text
    shrink = 0.5  # glyph boxes of adjacent lines may touch; they must not cross
    for i, a in enumerate(found):
        for b in found[i + 1 :]:
            apart = (
                a[2] - shrink <= b[0]
                or b[2] - shrink <= a[0]
                or a[3] - shrink <= b[1]
                or b[3] - shrink <= a[1]
            )
            assert apart, f"{a[4]!r} overlaps {b[4]!r}"


@needs_poppler
def test_the_slip_shows_what_the_citizen_needs(
    fonts: tuple[PreparedFont, PreparedFont], tmp_path: Path
) -> None:
    pdf = tmp_path / "slip.pdf"
    pdf.write_bytes(render(SLIP, fonts))
    text = text_of(pdf)
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "ỦY BAN NHÂN DÂN PHƯỜNG TÂN PHÚ",
        "THÀNH PHỐ HỒ CHÍ MINH",
        "PHIẾU HẸN TRẢ KẾT QUẢ",
        "Appointment slip",
        "YC-7F3A9C21D4",
        "Nguyễn Thị Hường",
        "Giấy khai sinh",
        "Bằng tốt nghiệp đại học",
        "Tổng số bản sao / Total copies: 3",
        "Nhận hồ sơ lúc: 15:30 thứ Năm, ngày 03/12/2026",
        "Hẹn trả kết quả lúc 10:00 thứ Hai, ngày 07/12/2026",
        "Results ready for collection at 10:00 on Monday, 7 December 2026",
        "Lệ phí: 6.000 đồng",
        "Fee: 6,000 VND",
        "Trần Văn Đức",
    ):
        assert expected in text
    assert_laid_out(pdf)
    # the file's dates are the reception's, in Vietnam time (not the clock's)
    info = run("pdfinfo", "-isodates", pdf)
    assert re.search(r"^CreationDate:\s+2026-12-03T15:30:00\+07", info, re.MULTILINE)
    assert re.search(r"^ModDate:\s+2026-12-03T15:30:00\+07", info, re.MULTILINE)

    fonts_table = run("pdffonts", pdf).splitlines()
    lines = [line for line in fonts_table[2:] if line.strip()]
    assert len(lines) == 2  # regular and bold, nothing else
    for line in lines:
        cols = line.split()  # name, type (2 words), encoding, emb, sub, uni, object, id
        assert "DejaVuSans" in cols[0]
        assert cols[1:5] == ["CID", "TrueType", "Identity-H", "yes"]
        assert cols[6] == "yes"  # ToUnicode: the text can be searched

    png = snapshot(pdf, "slip")
    with Image.open(png) as im:
        gray = im.convert("L")
        w, h = gray.size
        edge = int(MARGIN * 60 / 72) - 4
        for box in ((0, 0, edge, h), (w - edge, 0, w, h), (0, h - edge, w, h)):
            assert min(gray.crop(box).tobytes()) > 200  # nothing drawn in the margins


@needs_poppler
def test_many_long_documents_still_fit_on_one_page(
    fonts: tuple[PreparedFont, PreparedFont], tmp_path: Path
) -> None:
    long_name = "Giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài sản khác gắn liền"
    slip = dataclasses.replace(
        SLIP,
        authority_name="Ủy ban nhân dân đặc khu Phú Quốc, tỉnh An Giang " * 3,
        requester_name="Tôn Nữ Hoàng Thị Phương Thảo Nguyễn Ngọc Bích Huyền " * 3,
        officer_name="Công Tằng Tôn Nữ Thị Diệu Hường Nguyễn Phước " * 2,
        documents=tuple((f"{long_name} số {i}", 1 + i % 3) for i in range(40)),
        request_code="YC-" + "9" * 30,
    )
    pdf = tmp_path / "long.pdf"
    pdf.write_bytes(render(slip, fonts))
    assert_laid_out(pdf, A4)
    text = text_of(pdf)
    total = sum(c for _, c in slip.documents)
    assert f"Tổng số bản sao / Total copies: {total}" in text
    match = re.search(r"… và (\d+) giấy tờ khác \((\d+) bản sao\)", text)
    assert match
    shown = 40 - int(match[1])
    assert shown >= 3
    assert int(match[2]) == sum(c for _, c in slip.documents[shown:])
    assert "Hẹn trả kết quả lúc 10:00 thứ Hai, ngày 07/12/2026" in text
    snapshot(pdf, "slip-long")


@needs_poppler
def test_a_list_too_long_for_a5_is_printed_in_full_on_a4(
    fonts: tuple[PreparedFont, PreparedFont], tmp_path: Path
) -> None:
    documents = tuple((f"Học bạ trung học phổ thông lớp {i}", 1) for i in range(1, 13))
    pdf = tmp_path / "a4.pdf"
    pdf.write_bytes(render(dataclasses.replace(SLIP, documents=documents), fonts))
    assert_laid_out(pdf, A4)
    text = text_of(pdf)
    for i, (name, _) in enumerate(documents, start=1):
        assert f"{i}. {name}" in text
    assert "giấy tờ khác" not in text
    assert "Tổng số bản sao / Total copies: 12" in text
    snapshot(pdf, "slip-a4")


@needs_poppler
def test_weekdays_are_named_in_vietnamese(
    fonts: tuple[PreparedFont, PreparedFont], tmp_path: Path
) -> None:
    names = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")
    for offset, name in enumerate(names):
        at = dt.datetime(2026, 12, 7 + offset, 14, 0, tzinfo=VN_TZ)
        pdf = tmp_path / f"day{offset}.pdf"
        pdf.write_bytes(render(dataclasses.replace(SLIP, appointment_at=at), fonts))
        assert f"lúc 14:00 {name}, ngày {at:%d/%m/%Y}" in text_of(pdf)


@needs_poppler
def test_fee_waived_or_not_given(fonts: tuple[PreparedFont, PreparedFont], tmp_path: Path) -> None:
    pdf = tmp_path / "slip.pdf"
    pdf.write_bytes(render(dataclasses.replace(SLIP, fee=0), fonts))
    assert "Lệ phí: miễn" in text_of(pdf)
    pdf.write_bytes(render(dataclasses.replace(SLIP, fee=None), fonts))
    assert "Lệ phí" not in text_of(pdf)


def test_the_same_slip_gives_the_same_bytes(fonts: tuple[PreparedFont, PreparedFont]) -> None:
    first = render(SLIP, fonts)
    assert render(SLIP, fonts) == first
    later = dataclasses.replace(SLIP, received_at=SLIP.received_at + dt.timedelta(minutes=1))
    assert render(later, fonts) != first
    single = render_appointment_slip(SLIP, font=fonts[0])
    assert single.startswith(b"%PDF-")


@pytest.mark.parametrize("field", ["received_at", "appointment_at"])
def test_naive_datetimes_are_refused(field: str) -> None:
    naive = getattr(SLIP, field).replace(tzinfo=None)
    with pytest.raises(InvalidInputError) as err:
        dataclasses.replace(SLIP, **{field: naive})
    assert err.value.code == "naive_datetime"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"appointment_at": SLIP.received_at}, "appointment_invalid"),
        ({"documents": ()}, "invalid_input"),
        ({"documents": (("Giấy khai sinh", 0),)}, "invalid_input"),
        ({"fee": -1}, "invalid_input"),
        ({"request_code": " "}, "invalid_input"),
    ],
)
def test_an_impossible_slip_is_refused(changes: dict[str, object], code: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        dataclasses.replace(SLIP, **changes)  # type: ignore[arg-type]
    assert err.value.code == code
