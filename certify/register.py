"""The register (sổ chứng thực): its lines, its dates and its totals.

A register kept by computer is printed every month, bound and sealed, and closed at the end
of each year with its totals (NĐ 23/2015 art. 13; TT 01/2020 art. 4). Its columns are: the
number; the date; the requester's full name; the name of the original document; the
certifier's full name and title; the number of copies; the fee; notes. A cancelled entry
keeps its line and its number, with the date and reason of the cancellation in the notes
(TT 01/2020 art. 7); it is not counted in the totals. Numbers restart each calendar year
(NĐ 23/2015 art. 20), a year of Vietnamese dates.

Public API:

- :func:`register_date` — the register's date (and so year) of an instant: its date in
  Vietnam;
- :class:`RegisterRow` — one printed line (``RegisterRow.from_entry`` builds it from a
  :class:`~certify.ports.DocumentEntry` and the names the register joins to it);
- :func:`month_totals`, :func:`year_totals` — :class:`RegisterTotals`, :class:`YearTotals`;
- :func:`format_vnd` — an amount as the register prints it.

The printed book itself (the monthly print and the year-end closing, as PDFs) is drawn by
:mod:`certify.register_book`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from certify.ports import VN_TZ, DocumentEntry

__all__ = [
    "REGISTER_TITLE",
    "RegisterRow",
    "RegisterTotals",
    "YearTotals",
    "format_vnd",
    "month_totals",
    "register_date",
    "year_totals",
]

REGISTER_TITLE: Final = "SỔ CHỨNG THỰC BẢN SAO TỪ BẢN CHÍNH"
_CANCELLED: Final = "cancelled"


def register_date(at: dt.datetime) -> dt.date:
    """The register's date of the instant ``at`` (timezone-aware): its calendar date in
    Vietnam (DOMAIN.md: UTC stored, Asia/Ho_Chi_Minh shown). Its year is the year whose
    numbering the instant belongs to (NĐ 23/2015 art. 20): 31 December 23:59 in Vietnam
    (16:59 UTC) is that year's, 1 January 00:00 in Vietnam (17:00 UTC on 31 December) the
    next one's."""
    return at.astimezone(VN_TZ).date()


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
            date=register_date(entry.issued_at),
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
                register_date(entry.cancelled_at) if entry.cancelled_at is not None else None
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
