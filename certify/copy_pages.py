# pyHanko's PDF object model (generic.*, writers) is not annotated; calls into it are Any.
# mypy: disable-error-code="no-untyped-call"
"""The scanned pages of a copy, put into the copy's writer without holding the scan in memory.

img2pdf embeds each page's image as it is (JPEG byte-exact, PNG losslessly), but it keeps
every image of a conversion in memory and writes them at the end: converting a 48 MiB scan of
7 pages at once raised the peak RSS by 68 MiB, and pyHanko's writer then held the images
again. So each page is converted on its own (23 MiB for the same scan), imported into the
copy's writer, and its large streams (the image, a soft mask, an ICC profile) are moved to a
spool file, from which they are copied when the copy is written (:class:`SpooledStream`).
Building a copy then holds about one page in memory, whatever the number of pages (issue 13:
a copy lives on disk, not in memory).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, BinaryIO, Final

import img2pdf
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PdfFileWriter

from certify.intake import ScanPage

__all__ = ["SpooledStream", "add_scan_pages"]

# Streams larger than this (a scan's image) wait in the spool; content streams and small
# dictionaries stay in memory, where the builder edits them.
SPOOL_ABOVE_BYTES: Final = 64 * 1024
_CHUNK: Final = 1024 * 1024


class SpooledStream(generic.StreamObject):
    """A PDF stream whose encoded data waits in a spool file, at ``offset``, until the
    document is written; it is then copied in chunks, as pyHanko writes any stream (the
    same bytes). Asked for its data (which building a copy never does), it reads it."""

    def __init__(self, entries: dict[Any, Any], spool: BinaryIO, offset: int, length: int) -> None:
        self._spool, self._offset, self._length = spool, offset, length
        self._on_spool = False
        self._held: bytes | None = None
        super().__init__(entries)
        self._on_spool = True

    # pyHanko's StreamObject keeps its encoded bytes in ``_encoded_data``: they are read
    # from the spool while they are there; once pyHanko sets (or clears) them, it decides.
    @property
    def _encoded_data(self) -> bytes | None:
        if self._on_spool:
            self._spool.seek(self._offset)
            return self._spool.read(self._length)
        return self._held

    @_encoded_data.setter
    def _encoded_data(self, value: bytes | None) -> None:
        self._on_spool = False
        self._held = value

    @property
    def encoded_data(self) -> bytes:
        data = self._encoded_data
        if data is None:  # cleared by pyHanko to be encoded again from the decoded data
            data = super().encoded_data
        return data

    def write_to_stream(
        self, stream: BinaryIO, handler: Any = None, container_ref: Any = None
    ) -> None:
        if not self._on_spool or handler is not None:
            super().write_to_stream(stream, handler, container_ref)
            return
        # As generic.StreamObject.write_to_stream, with the data copied from the spool.
        self[pdf_name("/Length")] = generic.NumberObject(self._length)
        generic.DictionaryObject.write_to_stream(self, stream, handler, container_ref)
        del self["/Length"]
        stream.write(b"\nstream\n")
        self._spool.seek(self._offset)
        left = self._length
        while left:
            chunk = self._spool.read(min(_CHUNK, left))
            if not chunk:
                raise OSError("the spool is shorter than a stream written to it")
            stream.write(chunk)
            left -= len(chunk)
        stream.write(b"\nendstream")


def add_scan_pages(
    writer: PdfFileWriter, pages: Sequence[ScanPage], spool: BinaryIO, scratch: BinaryIO
) -> None:
    """Append one page per scanned page to ``writer``: img2pdf's page, sized to the page's
    paper (``ScanPage.width_pt`` x ``height_pt``), its image moved to ``spool``, which must
    stay open until ``writer`` has written the copy. ``scratch`` is an empty file for
    img2pdf's output, emptied again after each page."""
    for page in pages:
        size = (page.width_pt, page.height_pt)

        def page_layout(
            _w: int, _h: int, _dpi: object, size: tuple[float, float] = size
        ) -> tuple[float, float, float, float]:
            return size[0], size[1], size[0], size[1]

        scratch.seek(0)
        scratch.truncate()
        img2pdf.convert(
            str(page.path),
            layout_fun=page_layout,
            nodate=True,
            rotation=img2pdf.Rotation.none,
            first_frame_only=True,
            outputstream=scratch,
        )
        scratch.seek(0)
        reader = PdfFileReader(scratch, strict=False)
        converted = reader.root["/Pages"]["/Kids"][0].get_object()
        del converted["/Parent"]  # the copy's page tree is its parent now
        before = set(writer.objects)
        writer.insert_page(writer.import_object(converted))
        for key in sorted(set(writer.objects) - before):
            obj = writer.objects[key]
            if isinstance(obj, generic.StreamObject) and len(obj.encoded_data) > SPOOL_ABOVE_BYTES:
                writer.objects[key] = _spooled(obj, spool)
        # The imported names and numbers still point at this reader (pyHanko's container
        # references), which keeps it alive: drop what it parsed, the image among it.
        reader.resolved_objects.clear()


def _spooled(stream: generic.StreamObject, spool: BinaryIO) -> SpooledStream:
    data = stream.encoded_data
    offset = spool.seek(0, 2)
    spool.write(data)
    entries = {key: stream.raw_get(key) for key in stream}
    return SpooledStream(entries, spool, offset, len(data))
