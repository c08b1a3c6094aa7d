# pyHanko's writer is unannotated: calls into it are untyped.
# mypy: disable-error-code="no-untyped-call"
"""Intake: accepted scans, and hostile uploads refused with a precise code, nothing stored."""

from __future__ import annotations

import contextlib
import hashlib
import io
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image, ImageFile
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PdfFileWriter, copy_into_new_writer

from certify.errors import CertifyError, InvalidScanError
from certify.intake import ScanLimits, read_scan
from tests.certify.conftest import (
    image_pdf_bytes,
    jpeg_bytes,
    make_page_image,
    png_bomb_bytes,
    png_bytes,
    tiff_bytes,
)

LIMITS = ScanLimits()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- accepted ----------------------------------------------------------------------------------


def test_jpeg_is_taken_byte_exact(workdir: Path) -> None:
    data = jpeg_bytes(dpi=300)
    result = read_scan(io.BytesIO(data), LIMITS, workdir)

    assert result.kind == "jpeg"
    assert result.size == len(data)
    assert result.sha256_of_file == sha(data)
    assert result.warnings == []
    [page] = result.pages
    assert (page.kind, page.width_px, page.height_px, page.dpi) == ("jpeg", 1240, 1754, 300)
    assert page.width_pt == pytest.approx(1240 * 72 / 300)
    assert page.height_pt == pytest.approx(1754 * 72 / 300)
    assert page.read_bytes() == data
    assert page.sha256 == sha(data)
    assert page.content_type == "image/jpeg"


def test_png_is_accepted_and_low_dpi_is_a_warning(workdir: Path) -> None:
    data = png_bytes(dpi=150)
    result = read_scan(io.BytesIO(data), LIMITS, workdir)
    [page] = result.pages
    assert page.kind == "png"
    assert page.dpi == pytest.approx(150, abs=0.1)
    assert page.width_pt == pytest.approx(1240 * 72 / 150, abs=0.1)
    assert page.sha256 == sha(data)
    assert len(result.warnings) == 1
    assert "150 dpi" in result.warnings[0]


def test_missing_dpi_defaults_to_300_with_a_warning(workdir: Path) -> None:
    buf = io.BytesIO()
    make_page_image(600, 800).save(buf, format="PNG")
    result = read_scan(io.BytesIO(buf.getvalue()), LIMITS, workdir)
    assert result.pages[0].dpi == 300
    assert result.pages[0].width_pt == pytest.approx(600 * 72 / 300)
    assert any("300 dpi" in w for w in result.warnings)


def test_multipage_tiff_gives_one_png_page_per_frame(workdir: Path) -> None:
    data = tiff_bytes(pages=3)
    result = read_scan(io.BytesIO(data), LIMITS, workdir)
    assert result.kind == "tiff"
    assert [p.index for p in result.pages] == [0, 1, 2]
    assert {p.kind for p in result.pages} == {"png"}
    originals = []
    with Image.open(io.BytesIO(data)) as im:
        for i in range(3):
            im.seek(i)
            originals.append(im.convert("L").tobytes())
    for page, pixels in zip(result.pages, originals, strict=True):
        assert page.sha256 == sha(page.read_bytes())
        with Image.open(page.path) as im:  # lossless: same pixels as the TIFF frame
            assert im.convert("L").tobytes() == pixels


def test_image_only_pdf_gives_its_jpeg_images_byte_exact(workdir: Path) -> None:
    jpegs = [jpeg_bytes(make_page_image(label=str(i))) for i in range(2)]
    result = read_scan(io.BytesIO(image_pdf_bytes(*jpegs)), LIMITS, workdir)
    assert result.kind == "pdf"
    assert [p.kind for p in result.pages] == ["jpeg", "jpeg"]
    assert [p.read_bytes() for p in result.pages] == jpegs
    assert [p.sha256 for p in result.pages] == [sha(j) for j in jpegs]
    assert result.pages[0].dpi == pytest.approx(300, abs=0.5)


def test_image_only_pdf_with_flate_image_is_decoded_losslessly(workdir: Path) -> None:
    im = make_page_image(500, 700)
    result = read_scan(io.BytesIO(image_pdf_bytes(png_bytes(im))), LIMITS, workdir)
    [page] = result.pages
    assert page.kind == "png"
    with Image.open(page.path) as got:
        assert got.convert("RGB").tobytes() == im.tobytes()


def test_reading_the_upload_never_buffers_past_the_limit(workdir: Path) -> None:
    class Endless(io.RawIOBase):
        served = 0

        def readable(self) -> bool:
            return True

        def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
            n = len(b)
            b[:n] = b"\0" * n
            self.served += n
            return n

    stream = Endless()
    limits = ScanLimits(max_bytes=5 * 1024 * 1024)
    with pytest.raises(InvalidScanError) as exc:
        read_scan(io.BufferedReader(stream), limits, workdir)
    assert exc.value.code == "scan_too_large"
    assert stream.served <= limits.max_bytes + 2 * 1024 * 1024
    assert list(workdir.iterdir()) == []


def test_cleanup_removes_page_files(workdir: Path) -> None:
    result = read_scan(io.BytesIO(tiff_bytes(pages=2)), LIMITS, workdir)
    assert len(list(workdir.iterdir())) == 3  # the spooled upload and two PNG pages
    result.cleanup()
    assert list(workdir.iterdir()) == []


# --- refused -----------------------------------------------------------------------------------


def _pdf_with(mutate: Callable[[PdfFileWriter], None]) -> bytes:
    """An image-only PDF, then changed by ``mutate``."""
    reader = PdfFileReader(io.BytesIO(image_pdf_bytes(jpeg_bytes(make_page_image(300, 400)))))
    w = copy_into_new_writer(reader)
    mutate(w)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def _encrypted(w: PdfFileWriter) -> None:
    w.encrypt("owner-secret", "user-secret")


def _javascript(w: PdfFileWriter) -> None:
    action = generic.DictionaryObject(
        {
            pdf_name("/S"): pdf_name("/JavaScript"),
            pdf_name("/JS"): generic.TextStringObject("app.alert('x')"),
        }
    )
    w.root["/OpenAction"] = w.add_object(action)


def _page_aa(w: PdfFileWriter) -> None:
    page = w.find_page_for_modification(0)[0].get_object()
    page["/AA"] = generic.DictionaryObject(
        {pdf_name("/O"): generic.DictionaryObject({pdf_name("/S"): pdf_name("/Launch")})}
    )


def _names_js(w: PdfFileWriter) -> None:
    js = generic.DictionaryObject(
        {
            pdf_name("/S"): pdf_name("/JavaScript"),
            pdf_name("/JS"): generic.TextStringObject("1"),
        }
    )
    tree = generic.DictionaryObject(
        {pdf_name("/Names"): generic.ArrayObject([generic.TextStringObject("a"), js])}
    )
    w.root["/Names"] = generic.DictionaryObject({pdf_name("/JavaScript"): tree})


def _form(w: PdfFileWriter) -> None:
    w.root["/AcroForm"] = generic.DictionaryObject({pdf_name("/Fields"): generic.ArrayObject()})


def _embedded(w: PdfFileWriter) -> None:
    ef = generic.StreamObject(
        {pdf_name("/Type"): pdf_name("/EmbeddedFile")}, stream_data=b"MZ payload"
    )
    spec = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Filespec"),
            pdf_name("/F"): generic.TextStringObject("x.exe"),
            pdf_name("/EF"): generic.DictionaryObject({pdf_name("/F"): w.add_object(ef)}),
        }
    )
    tree = generic.DictionaryObject(
        {pdf_name("/Names"): generic.ArrayObject([generic.TextStringObject("x"), spec])}
    )
    w.root["/Names"] = generic.DictionaryObject({pdf_name("/EmbeddedFiles"): tree})


def _add_ops(ops: bytes) -> Callable[[PdfFileWriter], None]:
    def mutate(w: PdfFileWriter) -> None:
        page = w.find_page_for_modification(0)[0].get_object()
        stream = w.add_object(generic.StreamObject(stream_data=ops))
        contents = page["/Contents"]
        page["/Contents"] = generic.ArrayObject([page.raw_get("/Contents"), stream])
        del contents

    return mutate


def _two_images(w: PdfFileWriter) -> None:
    _add_ops(b"q 10 0 0 10 0 0 cm /Im0 Do Q")(w)


def _truncated_jpeg() -> bytes:
    data = jpeg_bytes()
    return data[: len(data) // 2]


def _corrupt_png() -> bytes:
    data = bytearray(png_bytes(make_page_image(200, 200)))
    data[60:70] = b"\xff" * 10  # inside IDAT: CRC and zlib data break
    return bytes(data)


REFUSALS: list[tuple[str, Callable[[], bytes], str]] = [
    ("zero-byte", lambda: b"", "scan_empty"),
    ("60 MB", lambda: b"\xff\xd8\xff" + b"\0" * (60 * 1024 * 1024), "scan_too_large"),
    ("unknown type", lambda: b"GIF89a" + b"\0" * 100, "scan_type_unsupported"),
    ("html", lambda: b"<html><script>alert(1)</script></html>", "scan_type_unsupported"),
    ("pdf behind junk", lambda: b"junk%PDF-1.7\n", "scan_type_unsupported"),
    ("truncated jpeg", _truncated_jpeg, "scan_corrupt"),
    ("corrupt png", _corrupt_png, "scan_corrupt"),
    ("png bomb", png_bomb_bytes, "scan_too_many_pixels"),
    ("png 12000x12000", lambda: png_bomb_bytes(12_000, 12_000), "scan_too_many_pixels"),
    ("garbage pdf", lambda: b"%PDF-1.7\n" + b"\x00garbage" * 100, "scan_corrupt"),
    ("truncated pdf", lambda: image_pdf_bytes(jpeg_bytes())[:3000], "scan_corrupt"),
    ("encrypted pdf", lambda: _pdf_with(_encrypted), "pdf_encrypted"),
    ("pdf OpenAction JavaScript", lambda: _pdf_with(_javascript), "pdf_javascript"),
    ("pdf page /AA", lambda: _pdf_with(_page_aa), "pdf_javascript"),
    ("pdf names JavaScript", lambda: _pdf_with(_names_js), "pdf_javascript"),
    ("pdf AcroForm", lambda: _pdf_with(_form), "pdf_forms"),
    ("pdf embedded file", lambda: _pdf_with(_embedded), "pdf_embedded_files"),
    (
        "pdf text",
        lambda: _pdf_with(_add_ops(b"BT /F1 12 Tf 10 10 Td (hello) Tj ET")),
        "pdf_not_images",
    ),
    ("pdf vector drawing", lambda: _pdf_with(_add_ops(b"0 0 m 100 100 l S")), "pdf_not_images"),
    ("pdf two images on a page", lambda: _pdf_with(_two_images), "pdf_not_images"),
]


@pytest.mark.parametrize(
    ("make", "code"), [(m, c) for _, m, c in REFUSALS], ids=[n for n, _, _ in REFUSALS]
)
def test_refused_with_precise_code_and_nothing_stored(
    make: Callable[[], bytes], code: str, workdir: Path
) -> None:
    data = make()
    with pytest.raises(InvalidScanError) as exc:
        read_scan(io.BytesIO(data), LIMITS, workdir)
    assert exc.value.code == code
    assert " / " in exc.value.message  # Vietnamese / English
    assert list(workdir.iterdir()) == []  # nothing left to store


def test_too_many_pages(workdir: Path) -> None:
    with pytest.raises(InvalidScanError) as exc:
        read_scan(io.BytesIO(tiff_bytes(pages=3)), ScanLimits(max_pages=2), workdir)
    assert exc.value.code == "scan_too_many_pages"
    pdf = image_pdf_bytes(*(jpeg_bytes(make_page_image(100, 100)) for _ in range(3)))
    with pytest.raises(InvalidScanError) as exc:
        read_scan(io.BytesIO(pdf), ScanLimits(max_pages=2), workdir)
    assert exc.value.code == "scan_too_many_pages"
    assert list(workdir.iterdir()) == []


def test_pixel_limit_is_checked_before_decoding_a_pdf_image(workdir: Path) -> None:
    pdf = image_pdf_bytes(jpeg_bytes(make_page_image(1000, 1000)))
    with pytest.raises(InvalidScanError) as exc:
        read_scan(io.BytesIO(pdf), ScanLimits(max_page_pixels=999_999), workdir)
    assert exc.value.code == "scan_too_many_pixels"


@pytest.mark.parametrize("cut", [10, 200, 700, 1500, 2500, 4000])
def test_any_truncation_of_a_pdf_raises_only_certify_errors(cut: int, workdir: Path) -> None:
    pdf = image_pdf_bytes(png_bytes(make_page_image(300, 300)))
    refused: CertifyError | None = None
    try:
        result = read_scan(io.BytesIO(pdf[:cut] + pdf[cut + 7 :]), LIMITS, workdir)
    except CertifyError as exc:
        refused = exc
    if refused is not None:  # refused: with a stable code, and nothing left behind
        assert refused.code.startswith(("scan_", "pdf_")), refused.code
        assert list(workdir.iterdir()) == []
    else:  # a cut pyHanko's lenient reader repairs: the one page, its pixels intact
        [page] = result.pages
        assert (page.width_px, page.height_px) == (300, 300)
        result.cleanup()


def test_clip_path_and_marked_content_around_the_image_are_accepted(workdir: Path) -> None:
    def wrap(w: PdfFileWriter) -> None:
        page = w.find_page_for_modification(0)[0].get_object()
        pre = w.add_object(
            generic.StreamObject(stream_data=b"/Artifact BMC q 0 0 72 96 re W n % scanner\n")
        )
        post = w.add_object(generic.StreamObject(stream_data=b"Q EMC"))
        page["/Contents"] = generic.ArrayObject([pre, page.raw_get("/Contents"), post])

    result = read_scan(io.BytesIO(_pdf_with(wrap)), LIMITS, workdir)
    assert [p.kind for p in result.pages] == ["jpeg"]


@pytest.mark.parametrize(
    ("ops", "code"),
    [
        (b"/Artifact BMC [3 1] 0 d << /A 1 >> gs EMC", None),  # arrays, dicts: looked through
        (b"1 0 0 1 0 0 cm 0q Q", None),  # digits run into an operator: a number, then it
        (b"q Q (a string left open", None),
        (b"1-2 w", "scan_corrupt"),  # a malformed number
        (b"q Q )", "scan_corrupt"),  # a stray delimiter
        (b"<zz> w", "scan_corrupt"),  # not hex: refused since qpdf lexes (once read as a string)
        (b"1 0 0 1 0 cm", "scan_corrupt"),  # five numbers for six
        (b"(x) Do", "scan_corrupt"),  # Do without a name
        (b"/Im9 Do", "scan_corrupt"),  # Do naming no XObject
        (b"BI /W 1 /H 1 /BPC 8 /CS /G ID x EI", "pdf_not_images"),
        (b"1 0 0 1 0 0 cm 1e5 w", "pdf_not_images"),  # 1e5 is no PDF number
        (b"0 0 10 10 re f", "pdf_not_images"),
    ],
)
def test_page_content_is_read_token_by_token(ops: bytes, code: str | None, workdir: Path) -> None:
    data = _pdf_with(_add_ops(ops))
    if code is None:
        read_scan(io.BytesIO(data), LIMITS, workdir).cleanup()
    else:
        with pytest.raises(InvalidScanError) as exc:
            read_scan(io.BytesIO(data), LIMITS, workdir)
        assert exc.value.code == code


# --- shared state: intake is called from several threads -----------------------------------------


def test_intake_leaves_pillow_settings_and_warning_filters_alone(workdir: Path) -> None:
    before = (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES, list(warnings.filters))
    scans = [jpeg_bytes(), png_bytes(), tiff_bytes(pages=2), image_pdf_bytes(jpeg_bytes())]
    for data in [*scans, png_bomb_bytes(), _truncated_jpeg()]:
        with contextlib.suppress(InvalidScanError):
            read_scan(io.BytesIO(data), ScanLimits(max_page_pixels=5_000_000), workdir).cleanup()
    after = (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES, list(warnings.filters))
    assert after == before


def test_a_process_that_lets_pillow_pad_truncated_images_gets_no_scan_through(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(CertifyError) as exc:
        read_scan(io.BytesIO(png_bytes(make_page_image(200, 200))), LIMITS, workdir)
    assert exc.value.code == "image_decoder_lenient"
    assert list(workdir.iterdir()) == []


def test_threads_with_different_pixel_limits_do_not_see_each_others(tmp_path: Path) -> None:
    """One page of 1000 x 1000 pixels: refused under a limit of 999,999 pixels, accepted
    under the default, whatever the other threads are doing at the same moment."""
    scans = {
        "jpeg": jpeg_bytes(make_page_image(1000, 1000)),
        "png": png_bytes(make_page_image(1000, 1000)),
        "pdf": image_pdf_bytes(jpeg_bytes(make_page_image(1000, 1000))),
    }
    small, default = ScanLimits(max_page_pixels=999_999), ScanLimits()

    def intake(job: int) -> str:
        kind = list(scans)[job % len(scans)]
        limits = small if job % 2 else default
        try:
            result = read_scan(io.BytesIO(scans[kind]), limits, tmp_path / f"job-{job}")
        except InvalidScanError as exc:
            return exc.code
        result.cleanup()
        return "accepted"

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(intake, range(36)))
    assert outcomes == ["scan_too_many_pixels" if job % 2 else "accepted" for job in range(36)]
