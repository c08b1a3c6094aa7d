# pyHanko's PDF object model (generic.*, writers) is not annotated; calls into it are Any.
# mypy: disable-error-code="no-untyped-call"
"""The pages of the register's printed book: a landscape A4 document of headed text and
ruled tables, written as a PDF.

:class:`Document` lays blocks out top to bottom (letterhead, centred titles, paragraphs,
tables of :class:`Column` and :class:`TableRow`), starts pages as it goes, and numbers them
when written; :mod:`certify.register_book` says what the monthly print and the year-end
closing hold. Text is drawn with :mod:`certify.pdf_text`, as on the copies.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

from certify.fonts import PreparedFont
from certify.pdf_text import centered as centered_op
from certify.pdf_text import fit, nums, text_op, wrap

__all__ = [
    "CELL_SIZE",
    "LEFT",
    "PAGE_H",
    "PAGE_W",
    "RIGHT",
    "TITLE_SIZE",
    "Column",
    "Document",
    "TableRow",
]

# Landscape A4 (points). The left margin is wider: the monthly prints are bound.
PAGE_W: Final = 841.89
PAGE_H: Final = 595.28
LEFT: Final = 42.0
RIGHT: Final = 28.0
TOP: Final = 34.0
BOTTOM: Final = 40.0
CELL_SIZE: Final = 8.5
HEAD_SIZE: Final = 8.0
TITLE_SIZE: Final = 13.0
SMALL_SIZE: Final = 7.5
LEADING: Final = 1.25
PAD: Final = 3.0
MIN_SPLIT_LINES: Final = 3  # a row split over two pages keeps at least this many lines

Align = Literal["l", "c", "r"]


@dataclass(frozen=True)
class Column:
    """A table column: its header and alignment, and its share of the table's width."""

    header: str
    width: float  # share of the table's width
    align: Align = "l"


@dataclass(frozen=True)
class TableRow:
    """One row of a table: a text per column (wrapped to it), all in bold or not."""

    cells: tuple[str, ...]
    bold: bool = False


class Document:
    """Pages of content-stream operators, laid out top to bottom."""

    def __init__(self, font: PreparedFont, bold: PreparedFont, running_head: str) -> None:
        self.font = font
        self.bold = bold
        self.running_head = running_head
        self.pages: list[list[bytes]] = []
        self.y = 0.0
        self._new_page()

    # pages

    def _new_page(self) -> None:
        self.pages.append([])
        self.y = PAGE_H - TOP
        if len(self.pages) > 1:
            # Later pages say whose register and which month they belong to.
            line = fit(self.font, self.running_head, SMALL_SIZE, PAGE_W - LEFT - RIGHT)
            self._text(self.font, SMALL_SIZE, LEFT, self.y - SMALL_SIZE, line)
            self.y -= SMALL_SIZE * LEADING + 6.0

    def _room(self) -> float:
        return self.y - BOTTOM

    # simple blocks

    def space(self, h: float) -> None:
        self.y -= h

    def letterhead(self, province_name: str, authority_name: str) -> None:
        """Issuer on the left, the national motto on the right (Nghị định 30/2020 layout)."""
        half = (PAGE_W - LEFT - RIGHT) / 2
        left = [(province_name.upper(), self.font), (authority_name.upper(), self.bold)]
        right = [
            ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", self.bold),
            ("Độc lập - Tự do - Hạnh phúc", self.bold),
        ]
        size = CELL_SIZE + 1.5
        y_left = self.y
        for text, f in left:
            for line in wrap(f, text, size, half - 20):
                y_left -= size * LEADING
                self._centered(f, size, LEFT, half, y_left + 2, line)
        y_right = self.y
        for text, f in right:
            y_right -= size * LEADING
            self._centered(f, size, LEFT + half, half, y_right + 2, text)
        self.y = min(y_left, y_right) - 14.0

    def centered(self, text: str, size: float, *, bold: bool = False, gap: float = 2.0) -> None:
        f = self.bold if bold else self.font
        for line in wrap(f, text, size, PAGE_W - LEFT - RIGHT):
            self.y -= size * LEADING
            self._centered(f, size, LEFT, PAGE_W - LEFT - RIGHT, self.y + 2, line)
        self.y -= gap

    def paragraph(self, text: str, *, bold: bool = False, size: float = CELL_SIZE + 1) -> None:
        f = self.bold if bold else self.font
        for line in wrap(f, text, size, PAGE_W - LEFT - RIGHT):
            if self._room() < size * LEADING:
                self._new_page()
            self.y -= size * LEADING
            self._text(f, size, LEFT, self.y + 2, line)
        self.y -= 3.0

    # the table

    def table(
        self,
        columns: Sequence[Column],
        rows: Sequence[TableRow],
        *,
        width: float = PAGE_W - LEFT - RIGHT,
        empty_text: str = "",
    ) -> None:
        total = sum(c.width for c in columns)
        widths = [c.width / total * width for c in columns]
        xs = [LEFT + sum(widths[:i]) for i in range(len(columns))]
        head = [
            wrap(self.bold, c.header, HEAD_SIZE, w - 2 * PAD)
            for c, w in zip(columns, widths, strict=True)
        ]
        head_lines = max(len(h) for h in head)
        head_h = head_lines * HEAD_SIZE * LEADING + 2 * PAD
        line_h = CELL_SIZE * LEADING

        def header() -> None:
            top = self.y
            ops = self.pages[-1]
            ops.append(b"q 0.9 g %s %s %s %s re f Q" % nums(LEFT, top - head_h, width, head_h))
            for x, w, lines in zip(xs, widths, head, strict=True):
                ops.append(b"q 0.5 w %s %s %s %s re S Q" % nums(x, top - head_h, w, head_h))
                offset = (head_lines - len(lines)) * HEAD_SIZE * LEADING / 2
                for i, line in enumerate(lines):
                    base = top - PAD - offset - HEAD_SIZE - i * HEAD_SIZE * LEADING
                    self._centered(self.bold, HEAD_SIZE, x + PAD, w - 2 * PAD, base + 1, line)
            self.y -= head_h

        def start_page() -> None:
            self._new_page()
            header()

        # the header never ends a page alone
        if self._room() < head_h + line_h * MIN_SPLIT_LINES + 2 * PAD:
            self._new_page()
        header()

        if not rows:
            h = line_h + 4 * PAD
            self.pages[-1].append(b"q 0.5 w %s %s %s %s re S Q" % nums(LEFT, self.y - h, width, h))
            self._centered(
                self.font, CELL_SIZE, LEFT, width, self.y - 2 * PAD - CELL_SIZE, empty_text
            )
            self.y -= h
            return

        capacity = int((PAGE_H - TOP - BOTTOM - 40.0 - head_h - 2 * PAD) // line_h)
        for row in rows:
            f = self.bold if row.bold else self.font
            cells = [
                wrap(f, text, CELL_SIZE, w - 2 * PAD)
                for text, w in zip(row.cells, widths, strict=True)
            ]
            n = max(len(c) for c in cells)
            fits = int((self._room() - 2 * PAD) // line_h)
            if n > fits and (n <= capacity or fits < MIN_SPLIT_LINES):
                start_page()
                fits = int((self._room() - 2 * PAD) // line_h)
            start = 0
            # A row longer than a whole page is continued on the next one.
            while start < n:
                take = min(n - start, fits)
                chunk = [c[start : start + take] for c in cells]
                self._row(columns, xs, widths, f, chunk, take)
                start += take
                if start < n:
                    start_page()
                    fits = int((self._room() - 2 * PAD) // line_h)

    def _row(
        self,
        columns: Sequence[Column],
        xs: Sequence[float],
        widths: Sequence[float],
        f: PreparedFont,
        cells: Sequence[Sequence[str]],
        lines: int,
    ) -> None:
        line_h = CELL_SIZE * LEADING
        h = lines * line_h + 2 * PAD
        top = self.y
        ops = self.pages[-1]
        for col, x, w, cell in zip(columns, xs, widths, cells, strict=True):
            ops.append(b"q 0.5 w %s %s %s %s re S Q" % nums(x, top - h, w, h))
            for i, line in enumerate(cell):
                base = top - PAD - CELL_SIZE - i * line_h + 1
                inner = w - 2 * PAD
                if col.align == "c":
                    self._centered(f, CELL_SIZE, x + PAD, inner, base, line)
                elif col.align == "r":
                    self._text(f, CELL_SIZE, x + w - PAD - f.width(line, CELL_SIZE), base, line)
                else:
                    self._text(f, CELL_SIZE, x + PAD, base, line)
        self.y -= h

    # text

    def _res(self, f: PreparedFont) -> bytes:
        return b"/F2" if f is self.bold and f is not self.font else b"/F1"

    def _text(self, f: PreparedFont, size: float, x: float, y: float, s: str) -> None:
        if s:  # an empty cell draws nothing
            self.pages[-1].append(text_op(f, self._res(f), size, x, y, s))

    def _centered(
        self, f: PreparedFont, size: float, x: float, width: float, y: float, s: str
    ) -> None:
        if s:
            self.pages[-1].append(centered_op(f, self._res(f), size, x, width, y, s))

    # output

    def write(self, *, title: str, subject: str) -> bytes:
        n = len(self.pages)
        for i, ops in enumerate(self.pages, start=1):
            label = f"Trang {i}/{n}"
            x = (PAGE_W - self.font.width(label, SMALL_SIZE)) / 2
            ops.append(text_op(self.font, b"/F1", SMALL_SIZE, x, BOTTOM - 22.0, label))

        w = PdfFileWriter(info=None)
        w.root["/Lang"] = generic.TextStringObject("vi-VN")
        regular = self.font.embed(w)
        bold = self.bold.embed(w) if self.bold is not self.font else regular
        resources = w.add_object(
            generic.DictionaryObject(
                {
                    pdf_name("/Font"): generic.DictionaryObject(
                        {pdf_name("/F1"): regular, pdf_name("/F2"): bold}
                    )
                }
            )
        )
        for ops in self.pages:
            stream = generic.StreamObject(stream_data=b"q 0 g 0 G\n" + b"\n".join(ops) + b"\nQ\n")
            stream.compress()
            page = PageObject(
                contents=w.add_object(stream),
                media_box=(0, 0, PAGE_W, PAGE_H),
                resources=resources,
            )
            w.insert_page(page)
        meta = w.document_meta
        meta.title = title
        meta.subject = subject
        meta.creator = "certify"
        out = io.BytesIO()
        w.write(out)
        return out.getvalue()
