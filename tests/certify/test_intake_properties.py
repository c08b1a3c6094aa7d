"""Intake under Hypothesis: random bytes, and valid JPEG, PNG, TIFF and PDF scans with bytes
flipped, cut, inserted or deleted. Every upload ends in an accepted scan or in an
:class:`~certify.errors.InvalidScanError` with one of the documented codes, never another
exception; nothing is left in the work directory; each run stays within a time (deadline)
and memory budget. Clean scans keep their pixels: a JPEG in a PDF comes out byte for byte,
a PNG in a PDF with the same pixels."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from PIL import Image

from certify.errors import CertifyError
from certify.intake import ScanLimits, read_scan
from tests.certify.conftest import (
    image_pdf_bytes,
    jpeg_bytes,
    make_page_image,
    png_bytes,
    tiff_bytes,
)

# Small limits keep each run cheap; the pixel limit still sits above every seed's pages.
LIMITS = ScanLimits(max_bytes=1024 * 1024, max_pages=4, max_page_pixels=1_000_000)
# A fixed seed (as in tests/keys/test_protocol_fuzz.py), so that a failure reproduces; the
# deadline bounds the time of one run (generous: CI machines are shared).
FUZZ = settings(max_examples=150, deadline=dt.timedelta(seconds=5), derandomize=True)
MEMORY_BUDGET_MIB = 256

# What read_scan documents it raises for the content of an upload.
REFUSAL_CODES = frozenset(
    {
        "scan_empty",
        "scan_too_large",
        "scan_type_unsupported",
        "scan_corrupt",
        "scan_too_many_pages",
        "scan_too_many_pixels",
        "pdf_encrypted",
        "pdf_javascript",
        "pdf_forms",
        "pdf_embedded_files",
        "pdf_not_images",
    }
)
MAGIC = [b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*", b"%PDF-1.7\n"]


def _tiff(pages: int) -> bytes:
    return tiff_bytes(pages, size=(96, 128))


SMALL = make_page_image(96, 128)
SEEDS = {
    "jpeg": jpeg_bytes(SMALL),
    "png": png_bytes(SMALL),
    "tiff": _tiff(2),
    # A /DCTDecode page and a /FlateDecode page with PNG predictors (img2pdf keeps PNG data).
    "pdf": image_pdf_bytes(jpeg_bytes(SMALL), png_bytes(SMALL.convert("L"))),
}


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """``seed`` with one to three bytes flipped, cut off, inserted or deleted; mostly past
    its first 16 bytes (the magic bytes have the random-bytes tests)."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(min(draw(st.sampled_from([16, 16, 16, 0])), len(data)), len(data)))
        edit = draw(st.sampled_from(["flip", "truncate", "insert", "delete"]))
        if edit == "flip" and at < len(data):
            data[at] ^= draw(st.integers(1, 255))
        elif edit == "truncate":
            del data[at:]
        elif edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            del data[at : at + draw(st.integers(1, 16))]
    return bytes(data)


@contextmanager
def memory_budget(mib: int) -> Iterator[None]:
    """Fail if the process's peak resident set rises by more than ``mib`` inside the block
    (Linux: VmHWM, reset through /proc/self/clear_refs; elsewhere not checked)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        before = _status_kib("VmRSS")
    except OSError:
        before = None
    yield
    peak = _status_kib("VmHWM")
    if before is not None and peak is not None:
        assert (peak - before) / 1024 <= mib, f"intake took {(peak - before) // 1024} MiB"


def _status_kib(field: str) -> int | None:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def intake_ends_well(data: bytes) -> str:
    """Run intake on ``data``; check it ends in an accepted scan or a documented refusal
    with nothing left behind. Returns ``"accepted"`` or the refusal's code."""
    with tempfile.TemporaryDirectory() as tmp, memory_budget(MEMORY_BUDGET_MIB):
        workdir = Path(tmp)
        refusal: CertifyError | None = None
        try:
            result = read_scan(io.BytesIO(data), LIMITS, workdir)
        except CertifyError as exc:
            refusal = exc
        if refusal is not None:
            assert refusal.code in REFUSAL_CODES, refusal.code
            assert " / " in refusal.message  # Vietnamese / English
            assert list(workdir.iterdir()) == []
            return refusal.code
        assert result.kind in ("jpeg", "png", "tiff", "pdf")
        assert 1 <= len(result.pages) <= LIMITS.max_pages
        for index, page in enumerate(result.pages):
            data_of_page = page.read_bytes()
            assert page.index == index
            assert page.kind in ("jpeg", "png")
            assert (page.sha256, page.size) == (sha(data_of_page), len(data_of_page))
            assert page.width_px * page.height_px <= LIMITS.max_page_pixels
            assert page.dpi > 0
            assert 0 < page.width_pt <= 14_400
            assert 0 < page.height_pt <= 14_400
        result.cleanup()
        assert list(workdir.iterdir()) == []
        return "accepted"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- hostile uploads ---------------------------------------------------------------------------


def test_the_seeds_are_accepted() -> None:
    for data in SEEDS.values():
        assert intake_ends_well(data) == "accepted"


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes(data: bytes) -> None:
    event(intake_ends_well(data))


@FUZZ
@given(st.sampled_from(MAGIC), st.binary(max_size=2048))
def test_random_bytes_behind_a_known_magic(magic: bytes, data: bytes) -> None:
    event(intake_ends_well(magic + data))


@pytest.mark.parametrize("kind", list(SEEDS))
@settings(FUZZ, max_examples=300)
@given(st.data())
def test_mutated_scan(kind: str, data: st.DataObject) -> None:
    upload = data.draw(mutated(SEEDS[kind]), label="upload")
    code = intake_ends_well(upload)
    assert intake_ends_well(upload) == code  # the same upload, the same answer
    event(code)


# --- clean scans keep their pixels -------------------------------------------------------------

sizes = st.tuples(st.integers(16, 200), st.integers(16, 200))  # img2pdf: pages of 3 pt and more


@settings(FUZZ, max_examples=25)
@given(sizes, st.sampled_from(["L", "RGB"]), st.integers(30, 95))
def test_a_jpeg_in_a_pdf_comes_out_byte_for_byte(
    size: tuple[int, int], mode: str, quality: int
) -> None:
    buf = io.BytesIO()
    make_page_image(*size).convert(mode).save(buf, format="JPEG", quality=quality)
    jpeg = buf.getvalue()
    with tempfile.TemporaryDirectory() as tmp:
        result = read_scan(io.BytesIO(image_pdf_bytes(jpeg)), LIMITS, Path(tmp))
        [page] = result.pages
        assert (page.kind, page.read_bytes(), page.sha256) == ("jpeg", jpeg, sha(jpeg))
        result.cleanup()


@settings(FUZZ, max_examples=25)
@given(sizes, st.sampled_from(["1", "L", "P", "RGB"]))
def test_a_png_in_a_pdf_keeps_its_pixels(size: tuple[int, int], mode: str) -> None:
    im = make_page_image(*size).convert(mode)
    with tempfile.TemporaryDirectory() as tmp:
        result = read_scan(io.BytesIO(image_pdf_bytes(png_bytes(im))), LIMITS, Path(tmp))
        [page] = result.pages
        assert page.kind == "png"
        with Image.open(page.path) as got:
            assert got.size == im.size
            assert got.convert("RGB").tobytes() == im.convert("RGB").tobytes()
        result.cleanup()
