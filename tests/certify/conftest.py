"""Fixtures for intake and copy tests: scans generated with Pillow, PDFs, a fake object store."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import struct
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import img2pdf
import pytest
from PIL import Image, ImageDraw

from certify.copy import CertificationText, CopyBuilder
from certify.errors import ObjectNotFoundError
from certify.ports import StoredObject

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
DEJAVU_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


# --- a fake object store implementing certify.ports.ObjectStore ----------------------------------


@dataclass
class _Obj:
    data: bytes
    info: StoredObject


class FakeObjectStore:
    """In-memory ObjectStore: enough for unit tests of code that stores objects."""

    scans_bucket = "scans"
    copies_bucket = "copies"

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], _Obj] = {}

    def put_stream(
        self,
        bucket: str,
        key: str,
        stream: BinaryIO,
        *,
        content_type: str = "application/octet-stream",
        metadata: dict[str, str] | None = None,
    ) -> StoredObject:
        chunks = []
        while chunk := stream.read(64 * 1024):
            chunks.append(chunk)
        data = b"".join(chunks)
        info = StoredObject(
            bucket=bucket,
            key=key,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            content_type=content_type,
            metadata=dict(metadata or {}),
        )
        self.objects[(bucket, key)] = _Obj(data, info)
        return info

    def _get(self, bucket: str, key: str) -> _Obj:
        try:
            return self.objects[(bucket, key)]
        except KeyError:
            raise ObjectNotFoundError() from None

    def open(
        self, bucket: str, key: str, *, version_id: str | None = None
    ) -> AbstractContextManager[BinaryIO]:
        data = self._get(bucket, key).data

        @contextmanager
        def _cm() -> Iterator[BinaryIO]:
            yield io.BytesIO(data)

        return _cm()

    def iter_chunks(
        self, bucket: str, key: str, *, version_id: str | None = None
    ) -> Iterator[bytes]:
        yield self._get(bucket, key).data

    def stat(self, bucket: str, key: str, *, version_id: str | None = None) -> StoredObject:
        return self._get(bucket, key).info

    def remove(self, bucket: str, key: str, *, version_id: str | None = None) -> None:
        self.objects.pop((bucket, key), None)

    def ping(self) -> None:
        return None


@pytest.fixture
def store() -> FakeObjectStore:
    return FakeObjectStore()


# --- generated scans ---------------------------------------------------------------------------


def make_page_image(
    width: int = 1240, height: int = 1754, *, label: str = "1", mode: str = "RGB"
) -> Image.Image:
    """An A4-ish page at 150 dpi with a frame reaching the edges and some 'text' blocks."""
    im = Image.new("RGB", (width, height), "white")
    d = ImageDraw.Draw(im)
    d.rectangle((0, 0, width - 1, height - 1), outline=(200, 30, 30), width=6)
    for i in range(8):
        y = height * (i + 1) // 12
        right = max(width // 10 + 2, width - width // 10 - (i * 37) % (width // 4 + 1))
        d.rectangle((width // 10, y, right, y + max(2, height // 60)), fill=(40, 40, 40))
    d.text((width // 2, height - height // 20), f"trang {label}", fill="black")
    return im.convert(mode) if mode != "RGB" else im


def jpeg_bytes(im: Image.Image | None = None, *, dpi: int = 300) -> bytes:
    buf = io.BytesIO()
    (im or make_page_image()).save(buf, format="JPEG", quality=85, dpi=(dpi, dpi))
    return buf.getvalue()


def png_bytes(im: Image.Image | None = None, *, dpi: int = 300) -> bytes:
    buf = io.BytesIO()
    (im or make_page_image()).save(buf, format="PNG", dpi=(dpi, dpi))
    return buf.getvalue()


def tiff_bytes(pages: int = 3, *, dpi: int = 300, size: tuple[int, int] = (800, 1100)) -> bytes:
    """A multi-page greyscale TIFF (Deflate), as a document feeder scans it."""
    frames = [make_page_image(*size, label=str(i + 1), mode="L") for i in range(pages)]
    buf = io.BytesIO()
    frames[0].save(
        buf,
        format="TIFF",
        save_all=True,
        append_images=frames[1:],
        compression="tiff_deflate",
        dpi=(dpi, dpi),
    )
    return buf.getvalue()


def image_pdf_bytes(*images: bytes) -> bytes:
    """An image-only PDF as a scanner makes it (img2pdf: one image per page)."""
    pdf: bytes = img2pdf.convert(*images, rotation=img2pdf.Rotation.none)
    return pdf


def png_bomb_bytes(width: int = 30_000, height: int = 30_000) -> bytes:
    """A tiny PNG whose header declares width × height pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[[str, bytes], Path]:
    def _write(name: str, data: bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return _write


# --- the copy builder (prepared once per session: subsetting the font is the slow part) ------


@pytest.fixture(scope="session")
def builder() -> CopyBuilder:
    return CopyBuilder(DEJAVU, bold_font_path=DEJAVU_BOLD)


@pytest.fixture
def cert_text() -> CertificationText:
    return CertificationText(
        number=1234,
        book="01/2026",
        date=dt.date(2026, 3, 5),
        certifier_name="Nguyễn Thị Hồng Nhung",
        certifier_title="Phó Chủ tịch Ủy ban nhân dân phường",
        authority_name="Ủy ban nhân dân phường Tân Phú",
        document_name="Bằng tốt nghiệp đại học",
        copy_count=2,
    )
