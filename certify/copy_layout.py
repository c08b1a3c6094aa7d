"""Where things go on the pages of a copy, and the content-stream operators that draw them.

Every page prints at 100 % on the paper of the original: a scan of a standard sheet (A4, A3,
Letter, Legal, either orientation) gets a page of exactly that size, the scan drawn at its
true size or, when it fills the sheet, shrunk by at most 6 % to leave a footer band at the
bottom; a smaller scan goes on A4 at its true size; a scan larger than A3 gets its own size
plus the band. Nothing of ours is drawn
over a scan: the footer ("Số chứng thực … — trang i/N") is in the band, and the lời chứng block
goes below the scan on the last page when there is room, otherwise on an added final page of
the same size (TT 01/2020 art. 10; DOMAIN.md: the block covers no content of the original).

Text is at least 8 pt. The block's two stamp boxes are sized to their text: the certifier's
(drawn by pyHanko's signing through ``certify.signing``, with :func:`officer_stamp_lines`)
and the seal's (drawn here, into the page, when the copy is built, see ``certify.signing``
on why). Text and numbers are written with :mod:`certify.pdf_text`, as on the register's
prints.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

import qrcode

from certify.fonts import PreparedFont
from certify.pdf_text import centered, int_box, num, nums, text_op, wrap, wrap_url

__all__ = [
    "FOOTER_BAND",
    "Block",
    "BlockLayout",
    "Placement",
    "officer_stamp_lines",
    "place_scan",
    "seal_stamp_lines",
]

# Paper sizes, portrait, in points (ISO 216 and US).
PAPERS: Final = {
    "A4": (595.276, 841.89),
    "Letter": (612.0, 792.0),
    "Legal": (612.0, 1008.0),
    "A3": (841.89, 1190.551),
}
FOOTER_BAND: Final = 20.0  # at the bottom of every page, below the scan
MAX_SHRINK: Final = 0.94  # a scan of a full sheet is shrunk at most this much for the band
MIN_TEXT: Final = 8.0

FOOTER_SIZE: Final = 8.0
HEAD_SIZE: Final = 11.0
TEXT_SIZE: Final = 10.0
SMALL_SIZE: Final = 8.0
LEADING: Final = 1.3
STAMP_SIZE: Final = 8.0
STAMP_LEADING: Final = 10.0
STAMP_PAD: Final = 4.0
QR_SIZE: Final = 72.0
SIDE_MARGIN: Final = 28.0
GAP: Final = 10.0
BLOCK_MIN_WIDTH: Final = 460.0
QR_TEXT_SIZE: Final = 9.0
_QR_CAPTION: Final = (
    "Quét mã QR hoặc mở đường dẫn để kiểm tra bản sao này:",
    "Scan the QR code or open the link to verify this copy:",
)
# The widest time the certifier's stamp can show (digits have one width in the fonts we use).
_TIME_SAMPLE: Final = "00/00/0000 00:00 (GMT+7)"


@dataclass(frozen=True)
class Placement:
    """A page of ``page_w`` × ``page_h`` points with the scan drawn at ``(x, y)`` (its
    lower-left corner) scaled by ``scale``; ``free_below`` points are empty between the scan
    and the footer band."""

    page_w: float
    page_h: float
    scale: float
    x: float
    y: float

    @property
    def free_below(self) -> float:
        return self.y - FOOTER_BAND


def place_scan(width: float, height: float) -> Placement:
    """The page for a scan of ``width`` × ``height`` points (at its own resolution).

    A scan within 6 % of a standard sheet (a scanner's full bed) gets that sheet; any other
    scan the first of A4, A3 (portrait, then landscape) it fits on; in both cases shrunk by at most
    ``MAX_SHRINK`` to keep the footer band free, at the top, centred. A scan larger than A3
    keeps its size on a page of its width and its height plus the band.
    """
    landscape = width > height

    def oriented(name: str) -> tuple[float, float]:
        pw, ph = PAPERS[name]
        return (ph, pw) if landscape else (pw, ph)

    def deviation(sheet: tuple[float, float]) -> float:
        return max(abs(width / sheet[0] - 1), abs(height / sheet[1] - 1))

    closest = min((oriented(name) for name in PAPERS), key=deviation)
    sheets = [closest] if deviation(closest) <= 1 - MAX_SHRINK else []
    for name in ("A4", "A3"):
        pw, ph = PAPERS[name]
        sheets += [(pw, ph), (ph, pw)]
    for pw, ph in sheets:
        fit = min(pw / width, (ph - FOOTER_BAND) / height)
        if fit >= MAX_SHRINK:
            scale = min(1.0, fit)
            return Placement(pw, ph, scale, (pw - width * scale) / 2, ph - height * scale)
    return Placement(width, height + FOOTER_BAND, 1.0, 0.0, FOOTER_BAND)


def officer_stamp_lines(name: str, shown_time: str) -> list[str]:
    """What the certifier's signature appearance says (drawn when the certifier signs)."""
    return ["Ký số bởi / Signed by:", name, f"Thời gian / Time: {shown_time}"]


def seal_stamp_lines(authority_name: str) -> list[str]:
    """What the seal's box says; drawn into the page when the copy is built, before any
    signature, so it cannot carry the signing time (shown by every PDF reader's signature
    panel and on the verification page)."""
    return ["Con dấu điện tử / Electronic seal:", authority_name, "Ký số / Digitally signed"]


def stamp_box_size(font: PreparedFont, lines: list[str]) -> tuple[float, float]:
    """Width and height of a stamp box that holds ``lines`` at ``STAMP_SIZE``."""
    width = max(font.width(line, STAMP_SIZE) for line in lines)
    return (
        float(round(width + 2 * STAMP_PAD + 0.4999)),
        float(round(len(lines) * STAMP_LEADING + 2 * STAMP_PAD + 0.4999)),
    )


def stamp_text_ops(font: PreparedFont, res: bytes, lines: list[str], height: float) -> bytes:
    """The stamp's lines, top-left in a box of ``height`` whose origin is its lower-left."""
    ops = [b"BT 0 g"]
    for i, line in enumerate(lines):
        y = height - STAMP_PAD - (i + 1) * STAMP_LEADING + 2.0
        glyphs, _ = font.encode(line)
        ops.append(
            b"%s %s Tf 1 0 0 1 %s %s Tm <%s> Tj"
            % (res, num(STAMP_SIZE), num(STAMP_PAD), num(y), glyphs.hex().encode("ascii"))
        )
    ops.append(b"ET")
    return b" ".join(ops)


@dataclass(frozen=True)
class Block:
    """What the lời chứng block shows (all but the head lines, which the caller gives)."""

    head: list[str]  # the first three lines of the lời chứng
    officer_heading: str  # "Người thực hiện chứng thực"
    certifier_name: str
    certifier_title: str
    authority_name: str
    verify_url: str


@dataclass(frozen=True)
class BlockLayout:
    """The drawn block: its operators (page coordinates) and the two stamp boxes."""

    ops: bytes
    officer_box: tuple[int, int, int, int]
    seal_box: tuple[int, int, int, int]


class BlockPainter:
    """Measures and draws the lời chứng block with the copy's regular and bold fonts."""

    def __init__(self, regular: PreparedFont, bold: PreparedFont) -> None:
        self._font = regular
        self._bold = bold

    def _columns(self, block: Block, width: float) -> tuple[float, list[str], list[str]]:
        col_w = (width - GAP) / 2
        left = wrap(self._bold, block.officer_heading, TEXT_SIZE, col_w)
        right = wrap(self._bold, block.authority_name.upper(), TEXT_SIZE, col_w)
        return col_w, left, right

    def _qr_text(self, block: Block, width: float) -> list[str]:
        text_w = width - QR_SIZE - GAP
        return [
            *(line for s in _QR_CAPTION for line in wrap(self._font, s, QR_TEXT_SIZE, text_w)),
            *wrap_url(self._font, block.verify_url, QR_TEXT_SIZE, text_w),
        ]

    def height(self, block: Block, width: float) -> float:
        """Points the block needs at ``width`` (its top rule to its last line)."""
        col_w, left, right = self._columns(block, width)
        officer_h = stamp_box_size(self._font, self._officer_lines(block))[1]
        seal_h = stamp_box_size(self._font, seal_stamp_lines(block.authority_name))[1]
        title = wrap(self._font, block.certifier_title, TEXT_SIZE, col_w)
        text_h = TEXT_SIZE * LEADING
        columns = max(
            len(left) * text_h + 3 + officer_h + 3 + text_h + len(title) * text_h,
            len(right) * text_h + 3 + seal_h,
        )
        qr_rows = max(QR_SIZE, len(self._qr_text(block, width)) * QR_TEXT_SIZE * LEADING)
        return 8.0 + len(block.head) * HEAD_SIZE * LEADING + 6.0 + columns + GAP + qr_rows

    def _officer_lines(self, block: Block) -> list[str]:
        return officer_stamp_lines(block.certifier_name, _TIME_SAMPLE)

    def draw(self, block: Block, x0: float, top: float, width: float) -> BlockLayout:
        """Draw the block with its top at ``top``, from ``x0`` over ``width`` points."""
        font, bold = self._font, self._bold
        col_w, left, right = self._columns(block, width)
        text_h = TEXT_SIZE * LEADING
        ops: list[bytes] = [b"q 0.6 G 0.5 w %s %s m %s %s l S Q" % nums(x0, top, x0 + width, top)]
        y = top - 8.0
        for line in block.head:
            y -= HEAD_SIZE * LEADING
            ops.append(centered(bold, b"/F2", HEAD_SIZE, x0, width, y + 3.0, line))
        y -= 6.0
        left_x, right_x = x0, x0 + col_w + GAP

        # the certifier: heading, stamp box (pyHanko draws it at signing), name, title
        yl = y
        for line in left:
            yl -= text_h
            ops.append(centered(bold, b"/F2", TEXT_SIZE, left_x, col_w, yl + 2.5, line))
        ow, oh = stamp_box_size(font, self._officer_lines(block))
        yl -= 3 + oh
        officer_box = int_box(left_x + (col_w - ow) / 2, yl, ow, oh)
        yl -= 3 + text_h
        ops.append(centered(bold, b"/F2", TEXT_SIZE, left_x, col_w, yl + 2.5, block.certifier_name))
        for line in wrap(font, block.certifier_title, TEXT_SIZE, col_w):
            yl -= text_h
            ops.append(centered(font, b"/F1", TEXT_SIZE, left_x, col_w, yl + 2.5, line))

        # the authority: name, then the seal's box drawn here (see seal_stamp_lines)
        yr = y
        for line in right:
            yr -= text_h
            ops.append(centered(bold, b"/F2", TEXT_SIZE, right_x, col_w, yr + 2.5, line))
        seal_lines = seal_stamp_lines(block.authority_name)
        sw, sh = stamp_box_size(font, seal_lines)
        yr -= 3 + sh
        seal_box = int_box(right_x + (col_w - sw) / 2, yr, sw, sh)
        bx, by = seal_box[0], seal_box[1]
        ops.append(
            b"q 1 0 0 1 %s %s cm 0 G 1 w 0.5 0.5 %s %s re S " % nums(bx, by, sw - 1, sh - 1)
            + stamp_text_ops(font, b"/F1", seal_lines, sh)
            + b" Q"
        )

        # the QR code and the link, under both columns
        y = min(yl, yr) - GAP
        ops.append(qr_ops(block.verify_url, x0, y - QR_SIZE, QR_SIZE))
        ty = y
        for line in self._qr_text(block, width):
            ty -= QR_TEXT_SIZE * LEADING
            ops.append(text_op(font, b"/F1", QR_TEXT_SIZE, x0 + QR_SIZE + GAP, ty + 2.0, line))
        return BlockLayout(b"q 0 g\n" + b"\n".join(ops) + b"\nQ\n", officer_box, seal_box)


def footer_ops(font: PreparedFont, line: str, page_width: float) -> bytes:
    """The footer line, right-aligned in the band at the bottom of the page."""
    width = font.width(line, FOOTER_SIZE)
    x = max(4.0, page_width - width - SIDE_MARGIN)
    y = (FOOTER_BAND - FOOTER_SIZE) / 2 + 1.0
    return b"q 0 g " + text_op(font, b"/F1", FOOTER_SIZE, x, y, line) + b" Q\n"


# --- the QR code -----------------------------------------------------------------------------


def qr_ops(data: str, x: float, y: float, size: float) -> bytes:
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
        b"q 1 0 0 1 %s %s cm %s 0 0 %s 0 0 cm 0 g\n" % (num(x), num(y), num(scale), num(scale))
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
