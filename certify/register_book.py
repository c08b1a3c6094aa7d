"""The register's printed book: the monthly print and the year-end closing, as PDFs.

A register kept by computer is printed every month, bound and sealed, and closed at the end
of each year with its totals (NĐ 23/2015 art. 13; TT 01/2020 art. 4). The lines and the
totals are :mod:`certify.register`'s; this module only lays them out.

Public API:

- :func:`render_monthly_print` — the month's print, a landscape A4 PDF;
- :func:`render_year_end` — the year-end closing page(s) with the totals per month;
- :class:`RegisterPrintError` — the PDF could not be written.

The pages are laid out by :mod:`certify.register_layout` and written with pyHanko's writer
and a :class:`~certify.fonts.PreparedFont` (Type0 / Identity-H, embedded, with a ToUnicode
map), as the copies are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Final

from certify.errors import CertifyError, InvalidInputError
from certify.fonts import PreparedFont
from certify.register import (
    REGISTER_TITLE,
    RegisterRow,
    RegisterTotals,
    format_vnd,
    month_totals,
    year_totals,
)
from certify.register_layout import (
    CELL_SIZE,
    LEFT,
    PAGE_W,
    RIGHT,
    TITLE_SIZE,
    Column,
    Document,
    TableRow,
)

__all__ = [
    "RegisterPrintError",
    "render_monthly_print",
    "render_year_end",
]


class RegisterPrintError(CertifyError):
    """The register print could not be produced."""

    code = "register_print_failed"
    default_message = "Không in được sổ chứng thực. / The register print could not be made."


_MONTH_COLUMNS: Final = (
    Column("Số chứng thực", 0.068, "c"),
    Column("Ngày, tháng, năm chứng thực", 0.092, "c"),
    Column("Họ tên người yêu cầu", 0.150),
    Column("Tên bản chính giấy tờ, văn bản", 0.215),
    Column("Họ tên, chức danh người ký chứng thực", 0.170),
    Column("Số bản sao", 0.058, "c"),
    Column("Lệ phí / Phí (đồng)", 0.077, "r"),
    Column("Ghi chú", 0.170),
)

_YEAR_COLUMNS: Final = (
    Column("Tháng", 0.12, "c"),
    Column("Số việc chứng thực", 0.16, "r"),
    Column("Số bản sao", 0.14, "r"),
    Column("Lệ phí / Phí (đồng)", 0.18, "r"),
    Column("Số việc đã huỷ", 0.14, "r"),
    Column("Từ số – đến số", 0.26, "c"),
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

    def build(doc: Document) -> None:
        doc.letterhead(province_name, authority_name)
        doc.centered(f"{REGISTER_TITLE} — {period}", TITLE_SIZE, bold=True, gap=8.0)
        books = _books(ordered)
        if books:
            doc.centered(f"Quyển số: {books}", CELL_SIZE + 1, gap=8.0)
        else:
            doc.space(8.0)
        body = [
            TableRow(
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

    def build(doc: Document) -> None:
        doc.letterhead(province_name, authority_name)
        doc.centered(f"{REGISTER_TITLE} — Khoá sổ năm {year:04d}", TITLE_SIZE, bold=True)
        doc.centered("Tổng hợp số việc chứng thực, bản sao và lệ phí", CELL_SIZE + 1, gap=8.0)
        body = [
            TableRow(cells(f"{m:02d}/{year:04d}", t)) for m, t in enumerate(totals.months, start=1)
        ]
        body.append(TableRow(cells("Cả năm", totals.total), bold=True))
        doc.table(_YEAR_COLUMNS, body, width=PAGE_W - LEFT - RIGHT - 160.0)
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
    build: Callable[[Document], None],
    *,
    font: PreparedFont,
    bold_font: PreparedFont | None,
    running_head: str,
    title: str,
    subject: str,
) -> bytes:
    doc = Document(font, bold_font or font, running_head)
    try:
        build(doc)
        return doc.write(title=title, subject=subject)
    except CertifyError:
        raise
    except Exception as exc:
        raise RegisterPrintError() from exc


def _ranges(numbers: Sequence[int]) -> str:
    """``[1, 2, 3, 7]`` → ``"1–3, 7"``."""
    parts: list[tuple[int, int]] = []
    for n in sorted(numbers):
        if parts and parts[-1][1] == n - 1:
            parts[-1] = (parts[-1][0], n)
        else:
            parts.append((n, n))
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in parts)
