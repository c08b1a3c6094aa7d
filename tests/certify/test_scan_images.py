"""A scan is signed as a true copy only for its picture: appended files, metadata payloads and
a header that promises more than the data holds never reach the copy (issue 8.2)."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from certify.errors import InvalidScanError
from certify.intake import ScanLimits, read_scan
from certify.scan_images import ImageStructureError, jpeg_essentials, png_essentials
from tests.issuing import scan_jpeg

ZIP = b"PK\x03\x04" + b"\x14\x00" * 10 + b"secret.txt" + b"PK\x05\x06" + bytes(18)
PDF_WITH_JS = b"%PDF-1.7\n1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>"
LIMITS = ScanLimits()


def take(data: bytes, workdir: Path) -> tuple[bytes, list[str], str]:
    result = read_scan(io.BytesIO(data), LIMITS, workdir)
    try:
        [page] = result.pages
        return page.read_bytes(), result.warnings, page.sha256
    finally:
        result.cleanup()


def with_app1(jpeg: bytes, payload: bytes) -> bytes:
    """An APP1 (Exif-like) segment with ``payload`` right after SOI."""
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:2] + segment + jpeg[2:]


@pytest.mark.parametrize(
    "payload", [ZIP, PDF_WITH_JS], ids=["zip-appended", "pdf-with-javascript-appended"]
)
def test_bytes_after_the_jpeg_end_marker_are_dropped(payload: bytes, tmp_path: Path) -> None:
    clean = scan_jpeg()
    kept, warnings, digest = take(clean + payload, tmp_path)
    assert kept == clean  # the picture, byte for byte, and nothing else
    assert payload[:8] not in kept
    assert any("removed" in w for w in warnings)
    assert digest == hashlib.sha256(clean).hexdigest()


def test_a_payload_in_a_metadata_segment_is_dropped(tmp_path: Path) -> None:
    clean = scan_jpeg()
    kept, warnings, _ = take(with_app1(clean, b"Exif\x00\x00" + ZIP), tmp_path)
    assert kept == clean
    assert b"secret.txt" not in kept
    assert warnings


def test_a_clean_scan_passes_byte_exact_without_a_warning(tmp_path: Path) -> None:
    clean = scan_jpeg()
    kept, warnings, _ = take(clean, tmp_path)
    assert kept == clean
    assert warnings == []


def test_a_header_that_promises_more_pixels_than_the_data_holds_is_refused(
    tmp_path: Path,
) -> None:
    lying = bytearray(scan_jpeg())
    sof = lying.find(b"\xff\xc0")
    lying[sof + 5 : sof + 9] = struct.pack(">HH", 10950, 10950)
    with pytest.raises(InvalidScanError) as refused:
        take(bytes(lying), tmp_path)
    assert refused.value.code == "scan_corrupt"
    assert "premature end" in refused.value.message.lower()


def test_a_truncated_jpeg_is_refused(tmp_path: Path) -> None:
    data = scan_jpeg()
    with pytest.raises(InvalidScanError) as refused:
        take(data[: len(data) * 2 // 3], tmp_path)
    assert refused.value.code == "scan_corrupt"


def test_a_progressive_jpeg_keeps_every_scan(tmp_path: Path) -> None:
    im = Image.new("RGB", (800, 1100), "white")
    out = io.BytesIO()
    im.save(out, "JPEG", progressive=True, quality=80, dpi=(200, 200))
    progressive = out.getvalue()
    assert progressive.count(b"\xff\xda") > 1
    kept, warnings, _ = take(progressive + ZIP, tmp_path)
    assert kept == progressive
    assert warnings


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def test_png_text_chunks_and_bytes_after_iend_are_dropped(tmp_path: Path) -> None:
    out = io.BytesIO()
    Image.new("L", (1654, 2339), 255).save(out, "PNG", dpi=(200, 200))
    clean = out.getvalue()
    iend = clean.rfind(b"IEND") - 4
    smuggled = clean[:iend] + _chunk(b"tEXt", b"Comment\x00" + ZIP) + clean[iend:] + PDF_WITH_JS
    kept, warnings, _ = take(smuggled, tmp_path)
    assert kept == clean
    assert warnings


@pytest.mark.parametrize(
    "broken",
    [b"\xff\xd8\xff\xe0\x00\x10JFIF", b"\xff\xd8\xff\xda\x00\x08" + bytes(6) + b"\x12\x34"],
    ids=["segment-past-the-end", "scan-without-end"],
)
def test_broken_jpeg_structure_is_an_error(broken: bytes) -> None:
    with pytest.raises(ImageStructureError):
        jpeg_essentials(broken)


def test_broken_png_structure_is_an_error() -> None:
    with pytest.raises(ImageStructureError):
        png_essentials(b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 1000) + b"IDAT")
