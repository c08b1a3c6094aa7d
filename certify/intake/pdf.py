# pyHanko's PDF object model (generic.*, reader) is not annotated; calls into it are Any.
# mypy: disable-error-code="no-untyped-call"
"""Step 3b of intake: an image-only PDF, one image per page, taken apart.

The file is read once, by pyHanko, under decode limits (no stream decodes to more than the
page pixel limit needs), and everything below works on that one reading: the policy
(:mod:`.pdf_policy`), what each page draws (:mod:`.pdf_content`), and its image
(:mod:`.pdf_images`). pikepdf never opens the upload: it is given page content and image
data that were decoded, or checked, under those limits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.decode_limits import DecodeLimits, StreamDecodeLimits
from pyhanko.pdf_utils.reader import PdfFileReader

from certify.errors import CertifyError
from certify.intake import refusals
from certify.intake.model import Intake, MiB, ScanPage
from certify.intake.pdf_content import placed_image
from certify.intake.pdf_images import take_image
from certify.intake.pdf_policy import check_passive

_MAX_CONTENT_STREAM: Final = 1 * MiB


def read_pdf(spool: Path, run: Intake) -> list[ScanPage]:
    """The pages of an image-only PDF.

    :raises InvalidScanError: ``pdf_encrypted``, ``pdf_javascript``, ``pdf_forms``,
        ``pdf_embedded_files``, ``pdf_not_images``, ``scan_too_many_pages``,
        ``scan_too_many_pixels``, ``scan_type_unsupported``, ``scan_corrupt`` (any
        failure of the parser: the input is hostile).
    """
    # Decoded data is bounded by the page pixel limit (plus PNG row filter bytes).
    per_stream = StreamDecodeLimits(max_output_size=run.limits.max_page_pixels * 4 + 65_536)
    with spool.open("rb") as fh:
        try:
            reader = PdfFileReader(
                fh, strict=False, decode_limits=DecodeLimits(per_stream=per_stream)
            )
            check_passive(reader)
            return _read_pages(reader, per_stream, run)
        except CertifyError:
            raise
        except Exception as exc:  # hostile input: every parser failure is a refusal
            raise refusals.corrupt("the PDF cannot be parsed") from exc


def _read_pages(
    reader: PdfFileReader, per_stream: StreamDecodeLimits, run: Intake
) -> list[ScanPage]:
    count = int(reader.root["/Pages"]["/Count"])
    if count > run.limits.max_pages:
        raise refusals.too_many_pages(count, run.limits)
    pages: list[ScanPage] = []
    for index in range(count):
        page_ref, resources = reader.find_page_for_modification(index)
        page, resources = page_ref.get_object(), resources.get_object()
        pages.append(_read_page(page, resources, index, per_stream, run))
    return pages


def _read_page(
    page: object,
    resources: object,
    index: int,
    per_stream: StreamDecodeLimits,
    run: Intake,
) -> ScanPage:
    page = refusals.expect(page, generic.DictionaryObject)
    n = index + 1
    if page.get("/Annots"):
        raise refusals.not_images(
            f"trang {n} có chú thích (annotation)", f"page {n} has annotations"
        )
    if int(page.get("/Rotate", 0)) % 360 != 0:
        run.warnings.append(
            f"Trang {n}: bỏ qua chiều xoay /Rotate của PDF. / "
            f"Page {n}: the PDF's /Rotate was ignored."
        )
    contents = page.get("/Contents")
    parts = contents if isinstance(contents, generic.ArrayObject) else [contents]
    streams = []
    for part in parts:
        stream = part.get_object() if isinstance(part, generic.IndirectObject) else part
        if not isinstance(stream, generic.StreamObject):
            raise refusals.corrupt("a page has no content stream")
        if len(stream.encoded_data) > _MAX_CONTENT_STREAM:
            raise refusals.not_images(
                f"trang {n} có nội dung quá lớn", f"page {n} has large content"
            )
        streams.append(stream)
    if not isinstance(resources, generic.DictionaryObject):
        raise refusals.corrupt("a page has no resources")
    xobjects = resources.get("/XObject", generic.DictionaryObject())
    content = b"\n".join(_content_bytes(stream) for stream in streams)
    xobj, ctm = placed_image(content, xobjects, n)
    return take_image(xobj, ctm, index, per_stream, run)


def _content_bytes(stream: generic.StreamObject) -> bytes:
    data = stream.data  # under the reader's decode limits
    if len(data) > _MAX_CONTENT_STREAM:
        raise refusals.not_images("nội dung trang quá lớn", "the page content is too large")
    return bytes(data)
