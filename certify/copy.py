# pyHanko's PDF object model (generic.*, writers) is not annotated; calls into it are Any.
# mypy: disable-error-code="no-untyped-call"
"""Build the certified copy (bản sao điện tử) from scanned pages, ready to be signed.

One PDF page per scanned page, on the paper of the original (``certify.copy_layout``: A4 for
an A4 scan, the scan at its true size or shrunk by at most 6 % to keep a footer band free);
JPEG data embedded byte-exact by img2pdf, PNG losslessly. Every page gets a footer with the
certification number and "trang i/N" (TT 01/2020 art. 10: every page of the original is in
the copy, and is numbered). The certification text (lời chứng, NĐ 23/2015 annex as re-issued
by NĐ 280/2025), a QR code with the verification link and two empty signature fields created
before any signature (NĐ 45/2020 art. 10 cl. 3 b: the certifier signs, then the authority
seals) go below the last scan when it leaves room, otherwise on an added final page of the
same size; nothing is drawn over a scan.

- ``officer`` — the certifier's personal signature (the certification signature, DocMDP
  P=2 set by the signer);
- ``seal`` — the authority's seal; its field lock (``/Lock``: FieldMDP Include [officer,
  seal], P=1) moves the document to "no changes" once it is signed. Include rather than All:
  a PAdES document timestamp adds a field after the seal, and EU DSS reports any new field
  after an Action=All lock as a change it restricts (``docs/validators.md``).

The document is PDF/A-2b (ISO 19005-2): XMP metadata with ``pdfaid:part=2``,
``conformance=B``, an sRGB output intent, the font embedded, a trailer ``/ID``, and it is
written in one piece (not an incremental update), so the first signature is the first
revision after it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import tempfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final

from PIL import ImageCms
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.metadata import model as xmp
from pyhanko.pdf_utils.writer import PdfFileWriter
from pyhanko.sign.fields import (
    FieldMDPAction,
    FieldMDPSpec,
    MDPPerm,
    SigFieldSpec,
    append_signature_field,
)

from certify import copy_layout as layout
from certify.copy_pages import add_scan_pages
from certify.errors import CertifyError, InvalidInputError
from certify.fonts import PreparedFont, prepare_font
from certify.intake import ScanPage
from certify.pdf_text import centered, nums

__all__ = [
    "OFFICER_FIELD",
    "SEAL_FIELD",
    "CertificationText",
    "CopyBuildError",
    "CopyBuilder",
    "certification_lines",
]

OFFICER_FIELD: Final = "officer"
SEAL_FIELD: Final = "seal"
REGISTER_CODE: Final = "SCT/BS"

# The lời chứng block: at most this wide (centred on wide pages), and on an added page this
# far below the top edge (room for the line that binds the page to the copy).
_BLOCK_MAX_WIDTH: Final = 560.0
_BLOCK_PAGE_TOP: Final = 60.0


class CopyBuildError(CertifyError):
    """The copy could not be built from the given pages."""

    code = "copy_build_failed"
    default_message = "Không tạo được bản sao. / The copy could not be built."


@dataclass(frozen=True)
class CertificationText:
    """What the lời chứng says. ``register_code`` is the register's code (default SCT/BS)."""

    number: int
    book: str
    date: dt.date
    certifier_name: str
    certifier_title: str
    authority_name: str
    document_name: str
    copy_count: int = 1
    register_code: str = REGISTER_CODE

    @property
    def reference(self) -> str:
        """``{number} quyển số {book}-{code}`` as written in the register."""
        return f"{self.number} quyển số {self.book}-{self.register_code}"


def certification_lines(text: CertificationText) -> list[str]:
    """The four fixed lines of the lời chứng, exactly as in the NĐ 23/2015 template."""
    d = text.date
    return [
        "Chứng thực bản sao đúng với bản chính.",
        f"Số chứng thực {text.reference}",
        f"Ngày {d.day:02d} tháng {d.month:02d} năm {d.year:04d}",
        "Người thực hiện chứng thực",
    ]


def _default_seal_spec_options() -> dict[str, Any]:
    # Once the seal is on, nothing may change but LTV data and timestamps (DESIGN.md: sign):
    # P=1 says so for the whole document; the field lock names both signatures.
    return {
        "field_mdp_spec": FieldMDPSpec(FieldMDPAction.INCLUDE, fields=[OFFICER_FIELD, SEAL_FIELD]),
        "doc_mdp_update_value": MDPPerm.NO_CHANGES,
    }


class CopyBuilder:
    """Builds copies. Create it once at start-up: it prepares the font (slow) once.

    :param font_path: a Unicode TrueType font (DejaVu Sans, Noto Sans).
    :param bold_font_path: optional bold face for the headings; the regular face otherwise.
    :param icc_profile: sRGB ICC profile bytes for the output intent; LittleCMS's built-in
        sRGB when not given.
    :raises CopyBuildError: if the font cannot be read.
    """

    def __init__(
        self,
        font_path: Path,
        *,
        bold_font_path: Path | None = None,
        icc_profile: bytes | None = None,
    ) -> None:
        try:
            self._font = prepare_font(Path(font_path), tag="CRTFYR")
            self._bold = (
                prepare_font(Path(bold_font_path), tag="CRTFYB")
                if bold_font_path is not None
                else None
            )
        except (OSError, ValueError, KeyError) as exc:
            raise CopyBuildError(
                "Không đọc được phông chữ. / The font cannot be read.", code="font_unusable"
            ) from exc
        if icc_profile is None:
            icc_profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        self._icc = zlib.compress(icc_profile, 9)

    @property
    def font(self) -> PreparedFont:
        """The prepared regular font (subset, 1000 units/em), e.g. for signature stamps."""
        return self._font

    @classmethod
    def from_prepared(
        cls, font: PreparedFont, bold: PreparedFont | None = None, *, icc_profile: bytes
    ) -> CopyBuilder:
        """Make a builder from fonts prepared elsewhere (shares them, no subsetting)."""
        self = cls.__new__(cls)
        self._font, self._bold = font, bold
        self._icc = zlib.compress(icc_profile, 9)
        return self

    def build(
        self,
        pages: Sequence[ScanPage],
        text: CertificationText,
        verify_url: str,
        *,
        title: str,
        output: BinaryIO | None = None,
        created_at: dt.datetime | None = None,
        officer_spec_options: Mapping[str, Any] | None = None,
        seal_spec_options: Mapping[str, Any] | None = None,
        workdir: Path | None = None,
    ) -> bytes:
        """Build the unsigned copy and return its bytes; or, with ``output``, write it there
        (and return ``b""``): the service writes into a temporary file that the signer then
        appends to, so a large copy is not held in memory once it is written.

        ``officer_spec_options`` / ``seal_spec_options`` are extra :class:`SigFieldSpec`
        fields for the two signature fields (e.g. ``seed_value_dict``); by default the seal
        field carries a lock (FieldMDP Include [officer, seal], DocMDP P=1) and the officer
        field none. Pass
        ``seal_spec_options={"field_mdp_spec": None, "doc_mdp_update_value": None}`` to drop
        the seal's lock.

        The scans' images wait in a temporary file in ``workdir`` (the system's temporary
        directory if not given) until the copy is written: building holds about one page in
        memory, not the scan (``certify.copy_pages``).

        :raises InvalidInputError: no pages, or an empty verification URL.
        :raises CopyBuildError: if img2pdf or pyHanko fail on the pages.
        """
        if not pages:
            raise InvalidInputError(
                "Bản sao phải có ít nhất một trang. / A copy needs at least one page.",
                code="copy_no_pages",
            )
        if not verify_url:
            raise InvalidInputError(
                "Thiếu đường dẫn tra cứu. / The verification URL is missing.",
                code="copy_no_verify_url",
            )
        buffer = io.BytesIO() if output is None else None
        out: BinaryIO = output if output is not None else buffer  # type: ignore[assignment]
        try:
            with (
                tempfile.TemporaryFile(dir=workdir) as spool,
                tempfile.TemporaryFile(dir=workdir) as scratch,
            ):
                self._build(
                    out,
                    spool,
                    scratch,
                    pages,
                    text,
                    verify_url,
                    title=title,
                    created_at=created_at,
                    officer_opts=dict(officer_spec_options or {}),
                    seal_opts={**_default_seal_spec_options(), **(seal_spec_options or {})},
                )
        except CertifyError:
            raise
        except Exception as exc:
            raise CopyBuildError() from exc
        return buffer.getvalue() if buffer is not None else b""

    # --- internals ------------------------------------------------------------------------

    def _build(
        self,
        out: BinaryIO,
        spool: BinaryIO,
        scratch: BinaryIO,
        pages: Sequence[ScanPage],
        text: CertificationText,
        verify_url: str,
        *,
        title: str,
        created_at: dt.datetime | None,
        officer_opts: dict[str, Any],
        seal_opts: dict[str, Any],
    ) -> None:
        w = PdfFileWriter(stream_xrefs=False, info=None)
        # One page at a time through img2pdf, each image spooled to disk until ``w`` writes
        # the copy (certify.copy_pages): a 50 MB scan is never in memory whole.
        add_scan_pages(w, pages, spool, scratch)
        w.root["/Lang"] = generic.TextStringObject("vi-VN")

        font_ref = self._font.embed(w)
        bold_ref = self._bold.embed(w) if self._bold is not None else font_ref
        painter = layout.BlockPainter(self._font, self._bold or self._font)
        lines = certification_lines(text)
        block = layout.Block(
            head=lines[:3],
            officer_heading=lines[3],
            certifier_name=text.certifier_name,
            certifier_title=text.certifier_title,
            authority_name=text.authority_name,
            verify_url=verify_url,
        )

        n = len(pages)
        placements = [layout.place_scan(p.width_pt, p.height_pt) for p in pages]
        last = placements[-1]
        block_w = min(last.page_w - 2 * layout.SIDE_MARGIN, _BLOCK_MAX_WIDTH)
        needed = painter.height(block, block_w) + 2 * layout.GAP
        on_last = block_w >= layout.BLOCK_MIN_WIDTH and last.free_below >= needed
        total = n if on_last else n + 1
        footer = f"Số chứng thực {text.reference} — trang {{i}}/{total}"

        page_refs = [w.find_page_for_modification(i)[0] for i in range(n)]
        for i, (page_ref, place) in enumerate(zip(page_refs, placements, strict=True)):
            page = page_ref.get_object()
            _set_media_box(page, place.page_w, place.page_h)
            pre = b"q %s 0 0 %s %s %s cm\n" % nums(place.scale, place.scale, place.x, place.y)
            post = b"\nQ\n" + layout.footer_ops(self._font, footer.format(i=i + 1), place.page_w)
            _add_font_resources(page, font_ref, bold_ref)
            _wrap_content(w, page, pre, post)

        if on_last:
            x0 = (last.page_w - block_w) / 2
            drawn = painter.draw(block, x0, last.y - layout.GAP, block_w)
            _append_content(w, page_refs[-1].get_object(), drawn.ops)
        else:
            drawn = self._add_block_page(w, painter, block, last, total, footer, text)
            _add_font_resources(
                w.find_page_for_modification(total - 1)[0].get_object(), font_ref, bold_ref
            )

        for name, box, opts in (
            (OFFICER_FIELD, drawn.officer_box, officer_opts),
            (SEAL_FIELD, drawn.seal_box, seal_opts),
        ):
            # An empty appearance: the seal's look is in the page (certify.copy_layout), and
            # the certifier's is drawn when the certifier signs.
            spec = SigFieldSpec(sig_field_name=name, box=box, on_page=total - 1)
            append_signature_field(w, dataclasses.replace(spec, **opts))

        self._add_pdfa(w, text, title, created_at)
        w.write(out)

    def _add_block_page(
        self,
        w: PdfFileWriter,
        painter: layout.BlockPainter,
        block: layout.Block,
        last: layout.Placement,
        total: int,
        footer: str,
        text: CertificationText,
    ) -> layout.BlockLayout:
        """Add a final page, the size of the last scan's page when the block fits on it (A4
        otherwise), holding the block under a line that binds it to the copy."""
        page_w, page_h = last.page_w, last.page_h
        block_w = min(page_w - 2 * layout.SIDE_MARGIN, _BLOCK_MAX_WIDTH)
        top = page_h - _BLOCK_PAGE_TOP
        if (
            block_w < layout.BLOCK_MIN_WIDTH
            or top - painter.height(block, block_w) < layout.FOOTER_BAND
        ):
            page_w, page_h = layout.PAPERS["A4"]
            block_w = min(page_w - 2 * layout.SIDE_MARGIN, _BLOCK_MAX_WIDTH)
            top = page_h - _BLOCK_PAGE_TOP
        x0 = (page_w - block_w) / 2
        intro = [
            f"Trang lời chứng của bản sao số chứng thực {text.reference}, gồm {total} trang.",
            f"Certification page of copy no. {text.number}, book {text.book}-{text.register_code},"
            f" {total} pages in all.",
        ]
        ops = [b"q 0 g"]
        y = top + 2 * layout.SMALL_SIZE * layout.LEADING + 6.0
        for line in intro:
            y -= layout.SMALL_SIZE * layout.LEADING
            ops.append(centered(self._font, b"/F1", layout.SMALL_SIZE, x0, block_w, y, line))
        ops.append(b"Q\n")
        drawn = painter.draw(block, x0, top, block_w)
        page = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Page"),
                pdf_name("/Resources"): generic.DictionaryObject(),
                pdf_name("/Contents"): generic.ArrayObject(),
            }
        )
        _set_media_box(page, page_w, page_h)
        content = (
            b"\n".join(ops)
            + drawn.ops
            + layout.footer_ops(self._font, footer.format(i=total), page_w)
        )
        page["/Contents"] = _stream(w, content)
        w.insert_page(page)
        return drawn

    def _add_pdfa(
        self,
        w: PdfFileWriter,
        text: CertificationText,
        title: str,
        created_at: dt.datetime | None,
    ) -> None:
        icc = generic.StreamObject(
            {
                pdf_name("/N"): generic.NumberObject(3),
                pdf_name("/Filter"): pdf_name("/FlateDecode"),
            },
            encoded_data=self._icc,
        )
        intent = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/OutputIntent"),
                pdf_name("/S"): pdf_name("/GTS_PDFA1"),
                pdf_name("/OutputConditionIdentifier"): generic.TextStringObject(
                    "sRGB IEC61966-2.1"
                ),
                pdf_name("/Info"): generic.TextStringObject("sRGB IEC61966-2.1"),
                pdf_name("/DestOutputProfile"): w.add_object(icc),
            }
        )
        w.root["/OutputIntents"] = generic.ArrayObject([w.add_object(intent)])

        meta = w.document_meta
        meta.title = title
        meta.author = text.authority_name
        meta.subject = (
            f"Bản sao chứng thực từ bản chính: {text.document_name}. "
            f"Số chứng thực {text.reference}, ngày {text.date:%d/%m/%Y}."
        )
        meta.creator = "certify"
        meta.created = created_at or "now"
        if created_at is not None:
            meta.last_modified = created_at
        pdfa = xmp.NS["pdfaid"]
        meta.xmp_extra = [
            xmp.XmpStructure.of(
                (xmp.ExpandedName(pdfa, "part"), xmp.XmpValue("2")),
                (xmp.ExpandedName(pdfa, "conformance"), xmp.XmpValue("B")),
            ),
            xmp.XmpStructure.of(
                (
                    xmp.ExpandedName(xmp.NS["dc"], "identifier"),
                    xmp.XmpValue(f"{text.number}/{text.book}-{text.register_code}"),
                ),
            ),
        ]


# --- page helpers ---------------------------------------------------------------------------


def _set_media_box(page: generic.DictionaryObject, width: float, height: float) -> None:
    page["/MediaBox"] = generic.ArrayObject(
        generic.FloatObject(round(v, 3)) for v in (0, 0, width, height)
    )
    for key in ("/CropBox", "/TrimBox", "/BleedBox", "/ArtBox"):
        page.pop(key, None)


def _add_font_resources(page: generic.DictionaryObject, regular: object, bold: object) -> None:
    resources = page.get("/Resources")
    if resources is None:
        resources = page["/Resources"] = generic.DictionaryObject()
    resources = resources.get_object()
    fonts = resources.get("/Font")
    if fonts is None:
        fonts = resources["/Font"] = generic.DictionaryObject()
    fonts = fonts.get_object()
    fonts["/F1"] = regular
    fonts["/F2"] = bold


def _contents_list(page: generic.DictionaryObject) -> list[generic.PdfObject]:
    contents = page.raw_get("/Contents")
    if isinstance(contents, generic.IndirectObject):
        resolved = contents.get_object()
        if isinstance(resolved, generic.ArrayObject):
            return list(resolved)
        return [contents]
    if isinstance(contents, generic.ArrayObject):
        return list(contents)
    return []


def _stream(w: PdfFileWriter, data: bytes) -> generic.IndirectObject:
    stream = generic.StreamObject(stream_data=data)
    stream.compress()
    return w.add_object(stream)


def _append_content(w: PdfFileWriter, page: generic.DictionaryObject, ops: bytes) -> None:
    # img2pdf's own stream ends with Q, so the graphics state is back to the default here.
    parts = _contents_list(page)
    page["/Contents"] = generic.ArrayObject([*parts, _stream(w, ops)])


def _wrap_content(
    w: PdfFileWriter, page: generic.DictionaryObject, pre: bytes, post: bytes
) -> None:
    parts = _contents_list(page)
    page["/Contents"] = generic.ArrayObject([_stream(w, pre), *parts, _stream(w, post)])
