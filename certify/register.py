# pyHanko's PDF object model (generic.*, writers) is not annotated; calls into it are Any.
# mypy: disable-error-code="no-untyped-call"
"""The register (sổ chứng thực) as it is printed: the monthly print and the year-end totals.

A register kept by computer is printed every month, bound and sealed, and closed at the end
of each year with its totals (NĐ 23/2015 art. 13; TT 01/2020 art. 4). Its columns are: the
number; the date; the requester's full name; the name of the original document; the
certifier's full name and title; the number of copies; the fee; notes. A cancelled entry
keeps its line and its number, with the date and reason of the cancellation in the notes
(TT 01/2020 art. 7); it is not counted in the totals.

Public API:

- :class:`RegisterRow` — one printed line (``RegisterRow.from_entry`` builds it from a
  :class:`~certify.ports.DocumentEntry` and the names the register joins to it);
- :func:`month_totals`, :func:`year_totals` — :class:`RegisterTotals`, :class:`YearTotals`;
- :func:`render_monthly_print` — the month's print, a landscape A4 PDF;
- :func:`render_year_end` — the year-end closing page(s) with the totals per month.

The PDFs are written with pyHanko's writer and a :class:`~certify.fonts.PreparedFont`
(Type0 / Identity-H, embedded, with a ToUnicode map), as the copies are.
"""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal
from zoneinfo import ZoneInfo

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

from certify.errors import CertifyError, InvalidInputError
from certify.fonts import PreparedFont
from certify.ports import DocumentEntry

__all__ = [
    "REGISTER_TITLE",
    "RegisterPrintError",
    "RegisterRow",
    "RegisterTotals",
    "YearTotals",
    "format_vnd",
    "month_totals",
    "render_monthly_print",
    "render_year_end",
    "year_totals",
]

REGISTER_TITLE: Final = "SỔ CHỨNG THỰC BẢN SAO TỪ BẢN CHÍNH"
# The register's dates are Vietnamese dates (DOMAIN.md: UTC stored, Asia/Ho_Chi_Minh shown).
_VN_TZ: Final = ZoneInfo("Asia/Ho_Chi_Minh")
_CANCELLED: Final = "cancelled"

# Landscape A4 (points). The left margin is wider: the monthly prints are bound.
_PAGE_W: Final = 841.89
_PAGE_H: Final = 595.28
_LEFT: Final = 42.0
_RIGHT: Final = 28.0
_TOP: Final = 34.0
_BOTTOM: Final = 40.0
_CELL_SIZE: Final = 8.5
_HEAD_SIZE: Final = 8.0
_TITLE_SIZE: Final = 13.0
_SMALL_SIZE: Final = 7.5
_LEADING: Final = 1.25
_PAD: Final = 3.0
_MIN_SPLIT_LINES: Final = 3  # a row split over two pages keeps at least this many lines

_Align = Literal["l", "c", "r"]


class RegisterPrintError(CertifyError):
    """The register print could not be produced."""

    code = "register_print_failed"
    default_message = "Không in được sổ chứng thực. / The register print could not be made."


@dataclass(frozen=True)
class RegisterRow:
    """One line of the register as printed. Holds personal data (the requester's name).

    ``date`` is the day of issue in Vietnamese time; ``fee`` is in VND. A cancelled entry
    (``status == "cancelled"``) keeps its line; :attr:`notes` says when and why.
    """

    number: int
    date: dt.date
    requester_name: str
    document_name: str
    certifier_name: str
    certifier_title: str
    copies: int
    fee: int
    book: str
    register_type: str
    status: str = "issued"
    cancelled_on: dt.date | None = None
    cancelled_reason: str | None = None

    @classmethod
    def from_entry(
        cls,
        entry: DocumentEntry,
        *,
        requester_name: str,
        certifier_name: str,
        certifier_title: str,
    ) -> RegisterRow:
        """The printed line of ``entry``, with the names the register joins to it."""
        return cls(
            number=entry.number,
            date=entry.issued_at.astimezone(_VN_TZ).date(),
            requester_name=requester_name,
            document_name=entry.document_name,
            certifier_name=certifier_name,
            certifier_title=certifier_title,
            copies=entry.copies,
            fee=entry.fee,
            book=entry.book,
            register_type=entry.register_type,
            status=entry.status,
            cancelled_on=(
                entry.cancelled_at.astimezone(_VN_TZ).date()
                if entry.cancelled_at is not None
                else None
            ),
            cancelled_reason=entry.cancelled_reason,
        )

    @property
    def cancelled(self) -> bool:
        return self.status == _CANCELLED

    @property
    def notes(self) -> str:
        """The "Ghi chú" column: the cancellation, if any (TT 01/2020 art. 7)."""
        if not self.cancelled:
            return ""
        when = f" ngày {self.cancelled_on:%d/%m/%Y}" if self.cancelled_on else ""
        reason = f": {self.cancelled_reason}" if self.cancelled_reason else ""
        return f"Đã huỷ{when}{reason}"


@dataclass(frozen=True)
class RegisterTotals:
    """Totals of some lines of the register.

    ``entries``, ``copies`` and ``fees`` count the entries in force; cancelled entries are
    only counted in ``cancelled``. ``first_number``/``last_number`` span every line,
    cancelled ones included (a cancelled entry keeps its number).
    """

    entries: int = 0
    copies: int = 0
    fees: int = 0
    cancelled: int = 0
    first_number: int | None = None
    last_number: int | None = None

    @property
    def numbers_used(self) -> int:
        """Lines in the register, cancelled ones included."""
        return self.entries + self.cancelled


@dataclass(frozen=True)
class YearTotals:
    """The year-end totals: the whole year, each month (January first), missing numbers."""

    total: RegisterTotals
    months: tuple[RegisterTotals, ...]
    missing_numbers: tuple[int, ...]


def month_totals(rows: Iterable[RegisterRow]) -> RegisterTotals:
    """Totals of ``rows`` (normally one month): entries in force, copies, fees; cancelled
    entries counted apart."""
    entries = copies = fees = cancelled = 0
    numbers: list[int] = []
    for row in rows:
        numbers.append(row.number)
        if row.cancelled:
            cancelled += 1
            continue
        entries += 1
        copies += row.copies
        fees += row.fee
    return RegisterTotals(
        entries=entries,
        copies=copies,
        fees=fees,
        cancelled=cancelled,
        first_number=min(numbers, default=None),
        last_number=max(numbers, default=None),
    )


def year_totals(rows: Iterable[RegisterRow]) -> YearTotals:
    """The totals that close a year of the register: the year, each month, and the numbers
    missing from 1 to the last one (there must be none: NĐ 23/2015 art. 20)."""
    rows = list(rows)
    by_month: list[list[RegisterRow]] = [[] for _ in range(12)]
    for row in rows:
        by_month[row.date.month - 1].append(row)
    total = month_totals(rows)
    present = {row.number for row in rows}
    missing = tuple(n for n in range(1, (total.last_number or 0) + 1) if n not in present)
    return YearTotals(
        total=total,
        months=tuple(month_totals(m) for m in by_month),
        missing_numbers=missing,
    )


def format_vnd(amount: int) -> str:
    """``12000`` → ``"12.000"`` (Vietnamese thousands separator)."""
    return f"{amount:,}".replace(",", ".")


# --- The prints --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    header: str
    width: float  # share of the table's width
    align: _Align = "l"


_MONTH_COLUMNS: Final = (
    _Column("Số chứng thực", 0.068, "c"),
    _Column("Ngày, tháng, năm chứng thực", 0.092, "c"),
    _Column("Họ tên người yêu cầu", 0.150),
    _Column("Tên bản chính giấy tờ, văn bản", 0.215),
    _Column("Họ tên, chức danh người ký chứng thực", 0.170),
    _Column("Số bản sao", 0.058, "c"),
    _Column("Lệ phí / Phí (đồng)", 0.077, "r"),
    _Column("Ghi chú", 0.170),
)

_YEAR_COLUMNS: Final = (
    _Column("Tháng", 0.12, "c"),
    _Column("Số việc chứng thực", 0.16, "r"),
    _Column("Số bản sao", 0.14, "r"),
    _Column("Lệ phí / Phí (đồng)", 0.18, "r"),
    _Column("Số việc đã huỷ", 0.14, "r"),
    _Column("Từ số – đến số", 0.26, "c"),
)


def render_monthly_print(
    rows: Sequence[RegisterRow],
    *,
    authority_name: str,
    province_name: str,
    year: int,
    month: int,
    font: PreparedFont,
    bold_font: PreparedFont | None = None,
) -> bytes:
    """The monthly print of the register (landscape A4 PDF), to be bound and sealed.

    Lines are printed in number order; long cells wrap, the table header repeats on every
    page, pages are numbered "Trang i/n", and the month's totals close the table. A month
    without entries still gets its page, saying so.

    :raises InvalidInputError: a month outside 1–12, a row not issued in that month, or
        rows of more than one register type (their numbers would collide).
    :raises RegisterPrintError: if the PDF cannot be written.
    """
    if not 1 <= month <= 12:
        raise InvalidInputError("Tháng không hợp lệ. / Invalid month.", code="register_month")
    ordered = sorted(rows, key=lambda r: r.number)
    for row in ordered:
        if (row.date.year, row.date.month) != (year, month):
            raise InvalidInputError(
                "Có việc chứng thực không thuộc tháng in. / "
                "A row was not issued in the month printed.",
                code="register_row_outside_period",
            )
    _single_register_type(ordered)
    period = f"Tháng {month:02d}/{year:04d}"
    totals = month_totals(ordered)

    def build(doc: _Document) -> None:
        doc.letterhead(province_name, authority_name)
        doc.centered(f"{REGISTER_TITLE} — {period}", _TITLE_SIZE, bold=True, gap=8.0)
        books = _books(ordered)
        if books:
            doc.centered(f"Quyển số: {books}", _CELL_SIZE + 1, gap=8.0)
        else:
            doc.space(8.0)
        body = [
            _TableRow(
                (
                    str(r.number),
                    f"{r.date:%d/%m/%Y}",
                    r.requester_name,
                    r.document_name,
                    f"{r.certifier_name}\n{r.certifier_title}",
                    str(r.copies),
                    format_vnd(r.fee),
                    r.notes,
                )
            )
            for r in ordered
        ]
        doc.table(
            _MONTH_COLUMNS,
            body,
            empty_text="Không có việc chứng thực nào trong tháng.",
        )
        doc.space(10.0)
        doc.paragraph(
            f"Tổng cộng tháng: {totals.entries} việc, {totals.copies} bản sao, "
            f"{format_vnd(totals.fees)} đồng",
            bold=True,
        )
        if totals.cancelled:
            doc.paragraph(
                f"Số việc đã huỷ trong tháng: {totals.cancelled} "
                "(ghi trong sổ, không tính vào tổng cộng)."
            )

    return _render(
        build,
        font=font,
        bold_font=bold_font,
        running_head=f"{authority_name} — {REGISTER_TITLE} — {period}",
        title=f"{REGISTER_TITLE} — {period}",
        subject=f"Sổ chứng thực {authority_name}, {period.lower()}",
    )


def render_year_end(
    rows: Sequence[RegisterRow],
    *,
    authority_name: str,
    province_name: str,
    year: int,
    font: PreparedFont,
    bold_font: PreparedFont | None = None,
) -> bytes:
    """The year-end closing of the register (landscape A4 PDF): totals for each month and
    for the year, the range of numbers used, and the numbers missing if any.

    :raises InvalidInputError: a row not issued in ``year``, or rows of more than one
        register type.
    :raises RegisterPrintError: if the PDF cannot be written.
    """
    for row in rows:
        if row.date.year != year:
            raise InvalidInputError(
                "Có việc chứng thực không thuộc năm khoá sổ. / "
                "A row was not issued in the year being closed.",
                code="register_row_outside_period",
            )
    _single_register_type(rows)
    totals = year_totals(rows)
    period = f"Năm {year:04d}"

    def span(t: RegisterTotals) -> str:
        if t.first_number is None:
            return "—"
        return f"{t.first_number} – {t.last_number}"

    def cells(label: str, t: RegisterTotals) -> tuple[str, ...]:
        return (
            label,
            str(t.entries),
            str(t.copies),
            format_vnd(t.fees),
            str(t.cancelled),
            span(t),
        )

    def build(doc: _Document) -> None:
        doc.letterhead(province_name, authority_name)
        doc.centered(f"{REGISTER_TITLE} — Khoá sổ năm {year:04d}", _TITLE_SIZE, bold=True)
        doc.centered("Tổng hợp số việc chứng thực, bản sao và lệ phí", _CELL_SIZE + 1, gap=8.0)
        body = [
            _TableRow(cells(f"{m:02d}/{year:04d}", t)) for m, t in enumerate(totals.months, start=1)
        ]
        body.append(_TableRow(cells("Cả năm", totals.total), bold=True))
        doc.table(_YEAR_COLUMNS, body, width=_PAGE_W - _LEFT - _RIGHT - 160.0)
        doc.space(10.0)
        t = totals.total
        if t.last_number is None:
            doc.paragraph(f"Khoá sổ năm {year:04d}: không có việc chứng thực nào.", bold=True)
        else:
            doc.paragraph(
                f"Khoá sổ năm {year:04d}: sổ có {t.numbers_used} số chứng thực, "
                f"từ số {t.first_number} đến số {t.last_number}, trong đó {t.cancelled} việc "
                f"đã huỷ. Tổng cộng năm: {t.entries} việc, {t.copies} bản sao, "
                f"{format_vnd(t.fees)} đồng.",
                bold=True,
            )
        if totals.missing_numbers:
            doc.paragraph(
                f"Các số chứng thực không có trong sổ: {_ranges(totals.missing_numbers)}."
            )

    return _render(
        build,
        font=font,
        bold_font=bold_font,
        running_head=f"{authority_name} — {REGISTER_TITLE} — {period}",
        title=f"{REGISTER_TITLE} — Khoá sổ năm {year:04d}",
        subject=f"Sổ chứng thực {authority_name}, khoá sổ năm {year:04d}",
    )


def _single_register_type(rows: Iterable[RegisterRow]) -> None:
    if len({r.register_type for r in rows}) > 1:
        raise InvalidInputError(
            "Mỗi bản in chỉ gồm một loại sổ. / A print holds one register type only.",
            code="register_mixed_types",
        )


def _books(rows: Sequence[RegisterRow]) -> str:
    seen: dict[str, None] = {}
    for r in rows:
        seen.setdefault(f"{r.book}-{r.register_type}", None)
    return ", ".join(seen)


def _render(
    build: Callable[[_Document], None],
    *,
    font: PreparedFont,
    bold_font: PreparedFont | None,
    running_head: str,
    title: str,
    subject: str,
) -> bytes:
    doc = _Document(font, bold_font or font, running_head)
    try:
        build(doc)
        return doc.write(title=title, subject=subject)
    except CertifyError:
        raise
    except Exception as exc:
        raise RegisterPrintError() from exc


# --- layout ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _TableRow:
    cells: tuple[str, ...]
    bold: bool = False


class _Document:
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
        self.y = _PAGE_H - _TOP
        if len(self.pages) > 1:
            # Later pages say whose register and which month they belong to.
            line = _fit(self.font, self.running_head, _SMALL_SIZE, _PAGE_W - _LEFT - _RIGHT)
            self._text(self.font, _SMALL_SIZE, _LEFT, self.y - _SMALL_SIZE, line)
            self.y -= _SMALL_SIZE * _LEADING + 6.0

    def _room(self) -> float:
        return self.y - _BOTTOM

    # simple blocks

    def space(self, h: float) -> None:
        self.y -= h

    def letterhead(self, province_name: str, authority_name: str) -> None:
        """Issuer on the left, the national motto on the right (Nghị định 30/2020 layout)."""
        half = (_PAGE_W - _LEFT - _RIGHT) / 2
        left = [(province_name.upper(), self.font), (authority_name.upper(), self.bold)]
        right = [
            ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", self.bold),
            ("Độc lập - Tự do - Hạnh phúc", self.bold),
        ]
        size = _CELL_SIZE + 1.5
        y_left = self.y
        for text, f in left:
            for line in _wrap(f, text, size, half - 20):
                y_left -= size * _LEADING
                self._centered(f, size, _LEFT, half, y_left + 2, line)
        y_right = self.y
        for text, f in right:
            y_right -= size * _LEADING
            self._centered(f, size, _LEFT + half, half, y_right + 2, text)
        self.y = min(y_left, y_right) - 14.0

    def centered(self, text: str, size: float, *, bold: bool = False, gap: float = 2.0) -> None:
        f = self.bold if bold else self.font
        for line in _wrap(f, text, size, _PAGE_W - _LEFT - _RIGHT):
            self.y -= size * _LEADING
            self._centered(f, size, _LEFT, _PAGE_W - _LEFT - _RIGHT, self.y + 2, line)
        self.y -= gap

    def paragraph(self, text: str, *, bold: bool = False, size: float = _CELL_SIZE + 1) -> None:
        f = self.bold if bold else self.font
        for line in _wrap(f, text, size, _PAGE_W - _LEFT - _RIGHT):
            if self._room() < size * _LEADING:
                self._new_page()
            self.y -= size * _LEADING
            self._text(f, size, _LEFT, self.y + 2, line)
        self.y -= 3.0

    # the table

    def table(
        self,
        columns: Sequence[_Column],
        rows: Sequence[_TableRow],
        *,
        width: float = _PAGE_W - _LEFT - _RIGHT,
        empty_text: str = "",
    ) -> None:
        total = sum(c.width for c in columns)
        widths = [c.width / total * width for c in columns]
        xs = [_LEFT + sum(widths[:i]) for i in range(len(columns))]
        head = [
            _wrap(self.bold, c.header, _HEAD_SIZE, w - 2 * _PAD)
            for c, w in zip(columns, widths, strict=True)
        ]
        head_lines = max(len(h) for h in head)
        head_h = head_lines * _HEAD_SIZE * _LEADING + 2 * _PAD
        line_h = _CELL_SIZE * _LEADING

        def header() -> None:
            top = self.y
            ops = self.pages[-1]
            ops.append(b"q 0.9 g %s %s %s %s re f Q" % _nums(_LEFT, top - head_h, width, head_h))
            for x, w, lines in zip(xs, widths, head, strict=True):
                ops.append(b"q 0.5 w %s %s %s %s re S Q" % _nums(x, top - head_h, w, head_h))
                offset = (head_lines - len(lines)) * _HEAD_SIZE * _LEADING / 2
                for i, line in enumerate(lines):
                    base = top - _PAD - offset - _HEAD_SIZE - i * _HEAD_SIZE * _LEADING
                    self._centered(self.bold, _HEAD_SIZE, x + _PAD, w - 2 * _PAD, base + 1, line)
            self.y -= head_h

        def start_page() -> None:
            self._new_page()
            header()

        # the header never ends a page alone
        if self._room() < head_h + line_h * _MIN_SPLIT_LINES + 2 * _PAD:
            self._new_page()
        header()

        if not rows:
            h = line_h + 4 * _PAD
            self.pages[-1].append(
                b"q 0.5 w %s %s %s %s re S Q" % _nums(_LEFT, self.y - h, width, h)
            )
            self._centered(
                self.font, _CELL_SIZE, _LEFT, width, self.y - 2 * _PAD - _CELL_SIZE, empty_text
            )
            self.y -= h
            return

        capacity = int((_PAGE_H - _TOP - _BOTTOM - 40.0 - head_h - 2 * _PAD) // line_h)
        for row in rows:
            f = self.bold if row.bold else self.font
            cells = [
                _wrap(f, text, _CELL_SIZE, w - 2 * _PAD)
                for text, w in zip(row.cells, widths, strict=True)
            ]
            n = max(len(c) for c in cells)
            fits = int((self._room() - 2 * _PAD) // line_h)
            if n > fits and (n <= capacity or fits < _MIN_SPLIT_LINES):
                start_page()
                fits = int((self._room() - 2 * _PAD) // line_h)
            start = 0
            # A row longer than a whole page is continued on the next one.
            while start < n:
                take = min(n - start, fits)
                chunk = [c[start : start + take] for c in cells]
                self._row(columns, xs, widths, f, chunk, take)
                start += take
                if start < n:
                    start_page()
                    fits = int((self._room() - 2 * _PAD) // line_h)

    def _row(
        self,
        columns: Sequence[_Column],
        xs: Sequence[float],
        widths: Sequence[float],
        f: PreparedFont,
        cells: Sequence[Sequence[str]],
        lines: int,
    ) -> None:
        line_h = _CELL_SIZE * _LEADING
        h = lines * line_h + 2 * _PAD
        top = self.y
        ops = self.pages[-1]
        for col, x, w, cell in zip(columns, xs, widths, cells, strict=True):
            ops.append(b"q 0.5 w %s %s %s %s re S Q" % _nums(x, top - h, w, h))
            for i, line in enumerate(cell):
                base = top - _PAD - _CELL_SIZE - i * line_h + 1
                inner = w - 2 * _PAD
                if col.align == "c":
                    self._centered(f, _CELL_SIZE, x + _PAD, inner, base, line)
                elif col.align == "r":
                    self._text(f, _CELL_SIZE, x + w - _PAD - f.width(line, _CELL_SIZE), base, line)
                else:
                    self._text(f, _CELL_SIZE, x + _PAD, base, line)
        self.y -= h

    # text

    def _res(self, f: PreparedFont) -> bytes:
        return b"/F2" if f is self.bold and f is not self.font else b"/F1"

    def _text(self, f: PreparedFont, size: float, x: float, y: float, s: str) -> None:
        if not s:
            return
        glyphs, _ = f.encode(s)
        self.pages[-1].append(
            b"BT %s %s Tf %s %s Td <%s> Tj ET"
            % (self._res(f), _num(size), _num(x), _num(y), glyphs.hex().encode("ascii"))
        )

    def _centered(
        self, f: PreparedFont, size: float, x: float, width: float, y: float, s: str
    ) -> None:
        self._text(f, size, x + max(0.0, (width - f.width(s, size)) / 2), y, s)

    # output

    def write(self, *, title: str, subject: str) -> bytes:
        n = len(self.pages)
        for i, ops in enumerate(self.pages, start=1):
            label = f"Trang {i}/{n}"
            x = (_PAGE_W - self.font.width(label, _SMALL_SIZE)) / 2
            glyphs, _ = self.font.encode(label)
            ops.append(
                b"BT /F1 %s Tf %s %s Td <%s> Tj ET"
                % (_num(_SMALL_SIZE), _num(x), _num(_BOTTOM - 22.0), glyphs.hex().encode("ascii"))
            )

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
                media_box=(0, 0, _PAGE_W, _PAGE_H),
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


# --- text helpers ------------------------------------------------------------------------------


def _wrap(font: PreparedFont, text: str, size: float, width: float) -> list[str]:
    """Word-wrap ``text`` to ``width`` points; newlines start a new line, and a word longer
    than a line is cut (a cell's text must stay inside its cell)."""
    lines: list[str] = []
    for para in unicodedata.normalize("NFC", text).split("\n"):
        current = ""
        for word in para.split():
            for piece in _cut(font, word, size, width):
                candidate = f"{current} {piece}" if current else piece
                if current and font.width(candidate, size) > width:
                    lines.append(current)
                    current = piece
                else:
                    current = candidate
        lines.append(current)
    while len(lines) > 1 and not lines[-1]:
        lines.pop()
    return lines


def _cut(font: PreparedFont, word: str, size: float, width: float) -> list[str]:
    if font.width(word, size) <= width:
        return [word]
    pieces: list[str] = []
    current = ""
    for ch in word:
        if current and font.width(current + ch, size) > width:
            pieces.append(current)
            current = ch
        else:
            current += ch
    if current:
        pieces.append(current)
    return pieces


def _ranges(numbers: Sequence[int]) -> str:
    """``[1, 2, 3, 7]`` → ``"1–3, 7"``."""
    parts: list[tuple[int, int]] = []
    for n in sorted(numbers):
        if parts and parts[-1][1] == n - 1:
            parts[-1] = (parts[-1][0], n)
        else:
            parts.append((n, n))
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in parts)


def _fit(font: PreparedFont, text: str, size: float, width: float) -> str:
    """``text`` shortened with an ellipsis to fit on one line of ``width`` points."""
    if font.width(text, size) <= width:
        return text
    while text and font.width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def _nums(*values: float) -> tuple[bytes, ...]:
    return tuple(_num(v) for v in values)


def _num(v: float) -> bytes:
    s = f"{v:.3f}".rstrip("0").rstrip(".")
    return (s if s not in ("-0", "") else "0").encode("ascii")
