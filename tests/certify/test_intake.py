"""Intake: accepted scans, and hostile uploads refused with a precise code, nothing stored."""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PdfFileWriter, copy_into_new_writer

from certify.errors import CertifyError, InvalidScanError
from certify.intake import ScanLimits, read_scan, store_scan_pages
from tests.certify.conftest import (
    FakeObjectStore,
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


def test_jpeg_is_taken_byte_exact(workdir: Path, store: FakeObjectStore) -> None:
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

    stored = store_scan_pages(store, result, key_prefix="tanphu/REQ1/DOC1")
    assert [s.key for s in stored] == ["tanphu/REQ1/DOC1/page-1"]
    assert stored[0].bucket == store.scans_bucket
    assert stored[0].metadata["sha256"] == sha(data)
    assert stored[0].content_type == "image/jpeg"
    assert store.objects[("scans", "tanphu/REQ1/DOC1/page-1")].data == data


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


def test_multipage_tiff_gives_one_png_page_per_frame(workdir: Path, store: FakeObjectStore) -> None:
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
    stored = store_scan_pages(store, result, key_prefix="p")
    assert [s.key for s in stored] == ["p/page-1", "p/page-2", "p/page-3"]
    assert [s.metadata["sha256"] for s in stored] == [p.sha256 for p in result.pages]


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
        read_scan(io.BufferedReader(stream), limits, workdir)  # type: ignore[arg-type]
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


def _intake_and_store(data: bytes, workdir: Path, store: FakeObjectStore) -> None:
    """What the upload route does: store the pages only once intake has accepted the scan."""
    result = read_scan(io.BytesIO(data), LIMITS, workdir)
    store_scan_pages(store, result, key_prefix="x")


@pytest.mark.parametrize(
    ("make", "code"), [(m, c) for _, m, c in REFUSALS], ids=[n for n, _, _ in REFUSALS]
)
def test_refused_with_precise_code_and_nothing_stored(
    make: Callable[[], bytes], code: str, workdir: Path, store: FakeObjectStore
) -> None:
    data = make()
    with pytest.raises(InvalidScanError) as exc:
        _intake_and_store(data, workdir, store)
    assert exc.value.code == code
    assert " / " in exc.value.message  # Vietnamese / English
    assert store.objects == {}
    assert list(workdir.iterdir()) == []


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
    with contextlib.suppress(CertifyError):
        read_scan(io.BytesIO(pdf[:cut] + pdf[cut + 7 :]), LIMITS, workdir)


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
