# pyHanko's PDF object model (generic.*, writers) is not annotated; calls into it are Any.
# mypy: disable-error-code="no-untyped-call"
"""Build the certified copy (bản sao điện tử) from scanned pages, ready to be signed.

One PDF page per scanned page at the scan's true size; JPEG data embedded byte-exact by
img2pdf, PNG losslessly. Every page gets a footer with the certification number and
"trang i/n" (TT 01/2020 art. 10: every page of the original is in the copy, and is numbered).
The last page is extended downwards by a strip holding the certification text (lời chứng,
NĐ 23/2015 annex as re-issued by NĐ 280/2025), a QR code with the verification link, and two
empty signature fields created before any signature (NĐ 45/2020 art. 10 cl. 3 b: the
certifier signs, then the authority seals):

- ``officer`` — the certifier's personal signature (the certification signature, DocMDP
  P=2 set by the signer);
- ``seal`` — the authority's seal; its field lock (``/Lock``: FieldMDP All, P=1) moves the
  document to "no changes" once it is signed.

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
import textwrap
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final

import img2pdf
import qrcode
from PIL import ImageCms
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.metadata import model as xmp
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PdfFileWriter, copy_into_new_writer
from pyhanko.sign.fields import (
    FieldMDPAction,
    FieldMDPSpec,
    MDPPerm,
    SigFieldSpec,
    append_signature_field,
)

from certify.errors import CertifyError, InvalidInputError
from certify.fonts import PreparedFont, prepare_font
from certify.intake import ScanPage

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

# Layout of the strip added below the last page (points).
_MARGIN: Final = 18.0
_MIN_WIDTH: Final = 460.0  # a narrow scan gets a wider last page so the block fits
_QR_SIZE: Final = 78.0
_QR_COLUMN: Final = 110.0
_GAP: Final = 12.0
_BOX_H: Final = 56
_FOOTER_SIZE: Final = 6.5
_TEXT_SIZE: Final = 10.0
_HEAD_SIZE: Final = 10.5
_LEADING: Final = 1.3


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
    # Once the seal is on, nothing may change but LTV data and timestamps (DESIGN.md: sign).
    return {
        "field_mdp_spec": FieldMDPSpec(FieldMDPAction.ALL),
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
    ) -> bytes:
        """Build the unsigned copy and return its bytes; or, with ``output``, write it there
        (and return ``b""``), so that a large copy is held once (the signer then appends to
        the same buffer).

        ``officer_spec_options`` / ``seal_spec_options`` are extra :class:`SigFieldSpec`
        fields for the two signature fields (e.g. ``seed_value_dict``); by default the seal
        field carries a lock (FieldMDP All, DocMDP P=1) and the officer field none. Pass
        ``seal_spec_options={"field_mdp_spec": None, "doc_mdp_update_value": None}`` to drop
        the seal's lock.

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
            self._build(
                out,
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
        pages: Sequence[ScanPage],
        text: CertificationText,
        verify_url: str,
        *,
        title: str,
        created_at: dt.datetime | None,
        officer_opts: dict[str, Any],
        seal_opts: dict[str, Any],
    ) -> None:
        sizes = iter([(p.width_pt, p.height_pt) for p in pages])

        def layout(_w: int, _h: int, _dpi: object) -> tuple[float, float, float, float]:
            w, h = next(sizes)
            return w, h, w, h

        # img2pdf's output goes to a temporary file, so that the pages are in memory once
        # (in the writer), not also as img2pdf's output: a 50 MB scan must not cost 150 MB.
        with tempfile.TemporaryFile() as raw:
            img2pdf.convert(
                *[str(p.path) for p in pages],
                layout_fun=layout,
                nodate=True,
                rotation=img2pdf.Rotation.none,
                first_frame_only=True,
                outputstream=raw,
            )
            raw.seek(0)
            reader = PdfFileReader(raw, strict=False)
            w = copy_into_new_writer(reader, writer_kwargs={"info": None})
            del reader
        w.root["/Lang"] = generic.TextStringObject("vi-VN")

        font_ref = self._font.embed(w)
        bold_ref = self._bold.embed(w) if self._bold is not None else font_ref
        bold = self._bold or self._font

        n = len(pages)
        footer = f"Số chứng thực {text.reference} — trang {{i}}/{n}"
        page_refs = [w.find_page_for_modification(i)[0] for i in range(n)]
        for i, page_ref in enumerate(page_refs[:-1]):
            page = page_ref.get_object()
            ops = self._footer_ops(footer.format(i=i + 1), float(page["/MediaBox"][2]))
            _add_font_resources(page, font_ref, bold_ref)
            _append_content(w, page, ops)

        last = page_refs[-1].get_object()
        fields = self._decorate_last_page(
            w,
            last,
            text,
            verify_url,
            footer.format(i=n),
            bold,
        )
        _add_font_resources(last, font_ref, bold_ref)

        for name, box, opts in (
            (OFFICER_FIELD, fields[0], officer_opts),
            (SEAL_FIELD, fields[1], seal_opts),
        ):
            spec = SigFieldSpec(
                sig_field_name=name, box=box, on_page=n - 1, empty_field_appearance=True
            )
            append_signature_field(w, dataclasses.replace(spec, **opts))

        self._add_pdfa(w, text, title, created_at)
        w.write(out)

    def _footer_ops(self, line: str, page_width: float, y: float = 4.0) -> bytes:
        width = self._font.width(line, _FOOTER_SIZE)
        x = max(2.0, page_width - width - 6.0)
        return b"q 0 g " + _text_op(self._font, b"/F1", _FOOTER_SIZE, x, y, line) + b" Q\n"

    def _decorate_last_page(
        self,
        w: PdfFileWriter,
        page: generic.DictionaryObject,
        text: CertificationText,
        verify_url: str,
        footer: str,
        bold: PreparedFont,
    ) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]]:
        """Extend the page downwards by the strip and draw the block; return field boxes."""
        font = self._font
        box = [float(v) for v in page["/MediaBox"]]
        scan_w, scan_h = box[2] - box[0], box[3] - box[1]
        width = max(scan_w, _MIN_WIDTH)

        col_x = _MARGIN + _QR_COLUMN + _GAP
        col_w = width - col_x - _MARGIN
        sub_w = (col_w - _GAP) / 2
        box_w = min(170.0, sub_w)

        lines = certification_lines(text)
        head = lines[:3]
        text_h = _TEXT_SIZE * _LEADING
        # Sub-columns: officer (heading, box, name, title) | authority (name, box).
        officer_below = _wrap(font, text.certifier_title, _TEXT_SIZE, sub_w)
        name_lines = _wrap(bold, text.certifier_name, _TEXT_SIZE, sub_w)
        authority_lines = _wrap(bold, text.authority_name.upper(), _TEXT_SIZE, sub_w)
        heading_lines = _wrap(bold, lines[3], _TEXT_SIZE, sub_w)
        above = max(len(heading_lines), len(authority_lines))
        below = len(name_lines) + len(officer_below)
        strip = (
            10.0  # top padding
            + len(head) * _HEAD_SIZE * _LEADING
            + 6.0
            + above * text_h
            + 4.0
            + _BOX_H
            + 4.0
            + below * text_h
            + 6.0
            + 12.0  # footer line
        )
        strip = float(round(max(strip, _QR_SIZE + 60.0) + 0.4999))
        dx = (width - scan_w) / 2
        # The scan keeps its size and is moved up by the strip height (and centred if the
        # page had to be widened): nothing of it is covered (DOMAIN.md: lời chứng).
        page["/MediaBox"] = generic.ArrayObject(
            generic.FloatObject(v) for v in (0, 0, round(width, 3), round(scan_h + strip, 3))
        )
        for key in ("/CropBox", "/TrimBox", "/BleedBox", "/ArtBox"):
            page.pop(key, None)

        ops: list[bytes] = []
        # a thin rule marks where the scan ends and the certification begins
        ops.append(b"q 0.6 G 0.5 w %s %s m %s %s l S Q" % _nums(0, strip, width, strip))
        y = strip - 10.0
        for line in head:
            y -= _HEAD_SIZE * _LEADING
            ops.append(_centered(bold, b"/F2", _HEAD_SIZE, col_x, col_w, y + 2.5, line))
        y -= 6.0
        left_x, right_x = col_x, col_x + sub_w + _GAP
        y_sub = y
        for line in heading_lines:
            y_sub -= text_h
            ops.append(_centered(bold, b"/F2", _TEXT_SIZE, left_x, sub_w, y_sub + 2.5, line))
        y_auth = y
        for line in authority_lines:
            y_auth -= text_h
            ops.append(_centered(bold, b"/F2", _TEXT_SIZE, right_x, sub_w, y_auth + 2.5, line))
        y -= above * text_h + 4.0
        box_top = y
        box_bottom = box_top - _BOX_H
        officer_box = _int_box(left_x + (sub_w - box_w) / 2, box_bottom, box_w)
        seal_box = _int_box(right_x + (sub_w - box_w) / 2, box_bottom, box_w)
        y = box_bottom - 4.0
        for line in name_lines:
            y -= text_h
            ops.append(_centered(bold, b"/F2", _TEXT_SIZE, left_x, sub_w, y + 2.5, line))
        for line in officer_below:
            y -= text_h
            ops.append(_centered(font, b"/F1", _TEXT_SIZE, left_x, sub_w, y + 2.5, line))

        # QR code (vector), top of the left column, with a caption under it.
        qr_y = strip - 10.0 - _QR_SIZE
        qr_x = _MARGIN + (_QR_COLUMN - _QR_SIZE) / 2
        ops.append(_qr_ops(verify_url, qr_x, qr_y, _QR_SIZE))
        cap_y = qr_y - 2.0
        for line in ["Quét mã để kiểm tra bản sao", *_wrap_url(font, verify_url, 6.0, _QR_COLUMN)]:
            cap_y -= 6.0 * 1.25
            if cap_y < 14.0:
                break
            ops.append(_centered(font, b"/F1", 6.0, _MARGIN, _QR_COLUMN, cap_y, line))

        width_footer = font.width(footer, _FOOTER_SIZE)
        ops.append(_text_op(font, b"/F1", _FOOTER_SIZE, width - width_footer - 6.0, 4.0, footer))

        pre = b"q 1 0 0 1 %s %s cm\n" % _nums(dx, strip)
        post = b"\nQ\nq 0 g\n" + b"\n".join(ops) + b"\nQ\n"
        _wrap_content(w, page, pre, post)
        return officer_box, seal_box

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


# --- content-stream helpers ------------------------------------------------------------------


def _nums(*values: float) -> tuple[bytes, ...]:
    return tuple(_num(v) for v in values)


def _num(v: float) -> bytes:
    s = f"{v:.3f}".rstrip("0").rstrip(".")
    return (s if s not in ("-0", "") else "0").encode("ascii")


def _text_op(font: PreparedFont, res: bytes, size: float, x: float, y: float, s: str) -> bytes:
    glyphs, _ = font.encode(s)
    return b"BT %s %s Tf %s %s Td <%s> Tj ET" % (
        res,
        _num(size),
        _num(x),
        _num(y),
        glyphs.hex().encode("ascii"),
    )


def _centered(
    font: PreparedFont, res: bytes, size: float, x: float, width: float, y: float, s: str
) -> bytes:
    w = font.width(s, size)
    return _text_op(font, res, size, x + max(0.0, (width - w) / 2), y, s)


def _wrap(font: PreparedFont, s: str, size: float, width: float) -> list[str]:
    """Greedy word wrap to ``width`` points; a word longer than a line is kept whole."""
    words = s.split()
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if current and font.width(candidate, size) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines or [""]


def _wrap_url(font: PreparedFont, url: str, size: float, width: float) -> list[str]:
    per_line = max(8, int(width / max(font.width("n", size), 0.1)))
    return textwrap.wrap(url, per_line, break_on_hyphens=False)[:3]


def _int_box(x: float, y: float, w: float) -> tuple[int, int, int, int]:
    x0, y0 = round(x), round(y)
    return x0, y0, x0 + round(w), y0 + _BOX_H


def _qr_ops(data: str, x: float, y: float, size: float) -> bytes:
    """The QR code as filled rectangles, one per horizontal run of dark modules."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    qr.add_data(data)
    qr.make(fit=True)
    matrix: list[list[bool]] = qr.get_matrix()
    count = len(matrix)
    scale = size / count
    runs: list[bytes] = []
    for r, row in enumerate(matrix):
        for start, length in _runs(row):
            runs.append(b"%d %d %d 1 re" % (start, count - 1 - r, length))
    return (
        b"q 1 0 0 1 %s %s cm %s 0 0 %s 0 0 cm 0 g\n" % (_num(x), _num(y), _num(scale), _num(scale))
        + b"\n".join(runs)
        + b"\nf Q"
    )


def _runs(row: list[bool]) -> Iterator[tuple[int, int]]:
    start = -1
    for i, dark in enumerate([*row, False]):
        if dark and start < 0:
            start = i
        elif not dark and start >= 0:
            yield start, i - start
            start = -1


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
