"""The scanned pages of a copy reach its writer one at a time, their images spooled to disk
(``certify.copy_pages``; issue 13: a copy lives on disk, not in memory)."""

from __future__ import annotations

import io
import os
import tempfile
import tracemalloc
import zlib
from pathlib import Path
from typing import Any

from PIL import Image
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.reader import PdfFileReader

from certify.copy import CertificationText, CopyBuilder
from certify.copy_pages import SpooledStream
from certify.intake import ScanLimits, ScanPage, read_scan
from tests.certify.conftest import jpeg_bytes

ENTRIES = {
    pdf_name("/Type"): pdf_name("/XObject"),
    pdf_name("/Subtype"): pdf_name("/Image"),
    pdf_name("/Filter"): pdf_name("/DCTDecode"),
}


def spooled(data: bytes, entries: dict[Any, Any] = ENTRIES) -> SpooledStream:
    spool = io.BytesIO(b"something before")
    offset = spool.seek(0, io.SEEK_END)
    spool.write(data + b"something after")
    return SpooledStream(dict(entries), spool, offset, len(data))


def test_a_spooled_stream_is_written_as_pyhanko_writes_a_stream() -> None:
    data = os.urandom(3 * 1024 * 1024 + 7)  # more than one copied chunk
    plain, out = io.BytesIO(), io.BytesIO()
    generic.StreamObject(dict(ENTRIES), encoded_data=data).write_to_stream(plain)
    spooled(data).write_to_stream(out)
    assert out.getvalue() == plain.getvalue()


def test_a_spooled_stream_reads_its_data_when_asked_and_keeps_what_it_is_given() -> None:
    raw = os.urandom(1000)
    stream = spooled(zlib.compress(raw), {pdf_name("/Filter"): pdf_name("/FlateDecode")})
    assert stream.encoded_data == zlib.compress(raw)
    assert stream.data == raw
    stream.strip_filters()  # type: ignore[no-untyped-call]  # pyHanko replaces the data
    out = io.BytesIO()
    stream.write_to_stream(out)
    assert out.getvalue().endswith(b"\nstream\n" + raw + b"\nendstream")


def noise_pages(workdir: Path, count: int) -> list[ScanPage]:
    pages = []
    for i in range(count):
        image = Image.frombytes("RGB", (900, 1270), os.urandom(900 * 1270 * 3))
        result = read_scan(io.BytesIO(jpeg_bytes(image, dpi=150)), ScanLimits(), workdir / str(i))
        pages.extend(result.pages)
    return pages


def test_building_a_copy_holds_about_one_page_in_memory(
    builder: CopyBuilder, cert_text: CertificationText, workdir: Path
) -> None:
    pages = noise_pages(workdir, 6)
    sizes = [p.path.stat().st_size for p in pages]
    with tempfile.TemporaryFile(dir=workdir) as out:
        tracemalloc.start()
        try:
            builder.build(pages, cert_text, "https://x/v/t", title="t", output=out, workdir=workdir)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        # Before: img2pdf, then the writer, held every page (more than the whole scan).
        assert peak < 3 * max(sizes) < sum(sizes), f"peak {peak} for pages of {sizes}"
        out.seek(0)
        kids = PdfFileReader(out).root["/Pages"]["/Kids"]
        for kid, page in zip(kids, pages, strict=False):  # the last page may be added
            [image] = kid.get_object()["/Resources"]["/XObject"].values()
            assert image.get_object().encoded_data == page.path.read_bytes()  # JPEG as it is
