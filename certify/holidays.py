"""Vietnam's working-day calendar: public holidays, compensating days off and make-up days.

A request's time limit counts working days (NĐ 23/2015 art. 7; DOMAIN.md "Time limits"):
Monday to Friday, less the public holidays and the days the Government gives off around
them, plus the Saturdays it declares working days in exchange (ngày làm bù). Which days
those are is decided year by year, so the calendar is **data**: a :class:`HolidayCalendar`
knows the years it covers, and a date outside them is refused (code
``holiday_calendar_missing``) rather than silently taken as an ordinary day, since a
missing Tết would put every request of that week in the wrong.

The law behind the data:

- Bộ luật Lao động 2019 (45/2019/QH14) art. 112 cl. 1: Tết Dương lịch 1 day (1/1); Tết Âm
  lịch 5 days; Ngày Chiến thắng 1 day (30/4); Ngày Quốc tế Lao động 1 day (1/5); Quốc
  khánh 2 days (2/9 and the day before or after); Giỗ Tổ Hùng Vương 1 day (10/3 âm lịch).
  Cl. 3: the Prime Minister decides the Tết days and the adjacent Quốc khánh day.
- Art. 111 cl. 3: a holiday falling on the weekly rest day is given off on the next
  working day (nghỉ bù).
- Each year the Ministry of Home Affairs (Bộ Nội vụ) announces the days off for civil
  servants (công chức, viên chức), sometimes swapping a weekday between a holiday and a
  weekend for a Saturday worked instead (hoán đổi ngày làm việc).

:data:`DEFAULT_CALENDAR` covers 2026 (as decided) and 2027 (estimated, see below). An
operator adds or corrects a year without code with :meth:`HolidayCalendar.from_json` and
:meth:`HolidayCalendar.merged`; the JSON form is::

    {"years": [2028],
     "non_working": ["2028-01-01", "2028-01-24", ...],
     "working": ["2028-01-22"],
     "source": "Thông báo … của Bộ Nội vụ"}

``non_working`` lists the days off (a weekend day may be listed; it changes nothing),
``working`` the weekend days declared working days; ``source`` is free text.

2026, as decided (sources checked December 2026 from the press reports quoting them):

- Tết Dương lịch: Thu 1/1 and Fri 2/1 off, Sat 10/1 worked instead — văn bản
  12729/VPCP-KGVX of 25/12/2025 (Deputy Prime Minister's agreement to Bộ Nội vụ's
  proposal).
- Tết Nguyên đán Bính Ngọ (mùng 1 = Tue 17/2): off Mon 16/2 to Fri 20/2, so Sat 14/2 to
  Sun 22/2 (27 tháng Chạp to mùng 6 tháng Giêng) — the Prime Minister's agreement of
  13/10/2025 to Bộ Nội vụ's proposal (Thanh Niên, Dân trí, 13/10/2025).
- Giỗ Tổ Hùng Vương: Sun 26/4, nghỉ bù Mon 27/4 (art. 111 cl. 3).
- 30/4 Thu and 1/5 Fri.
- Quốc khánh: Tue 1/9 and Wed 2/9, with Mon 31/8 swapped for Sat 22/8 (worked), so Sat
  29/8 to Wed 2/9 — the same decision of 13/10/2025 (Dân trí, 13/10/2025).
- Ngày Văn hóa Việt Nam: Tue 24/11. Chosen by the Politburo (Nghị quyết 80-NQ/TW,
  January 2026) as a paid day off; the Government asked for art. 112 cl. 1 to be amended
  (Nghị quyết 30/NQ-CP, February 2026). The amendment's text could not be checked
  offline; the day is included because the ``holidays`` library's data (release 0.108,
  November 2026) lists it from 2026. An operator who finds it not in force removes it.

2027, **estimated** from the rules above, because the Government's decisions for 2027 could
not be checked offline; replace this year with the announced days once published:

- Tết Dương lịch: Fri 1/1 (no swap assumed).
- Tết Nguyên đán Đinh Mùi (mùng 1 = Sat 6/2/2027): Thu 4/2 to Wed 10/2, the five weekdays
  around the weekend, as decided in 2024 when mùng 1 was also a Saturday (Thu 8/2 to Wed
  14/2/2024).
- Giỗ Tổ Hùng Vương: Fri 16/4 (10/3 Đinh Mùi).
- 30/4 Fri; 1/5 Sat, nghỉ bù Mon 3/5 (art. 111 cl. 3).
- Quốc khánh: Thu 2/9 and Fri 3/9 (the day after, as in 2021 when 2/9 was also a Thursday).
- Ngày Văn hóa Việt Nam: Wed 24/11 (see 2026).

The lunar dates (mùng 1 Tết, 10/3) were computed with two independent lunisolar
implementations (``holidays``' Vietnamese calendar and ``lunardate``), which agree.

Public API: :class:`HolidayCalendar` (``is_working_day``, ``next_working_day``,
``covers``, ``from_dates``, ``from_json``, ``to_json``, ``merged``) and
:data:`DEFAULT_CALENDAR`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from certify.errors import InvalidInputError

__all__ = ["DEFAULT_CALENDAR", "HolidayCalendar"]

_SATURDAY: Final = 5
_JSON_KEYS: Final = frozenset({"years", "non_working", "working", "source"})
_ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")


def _invalid(detail_vi: str, detail_en: str) -> InvalidInputError:
    return InvalidInputError(
        f"Lịch ngày nghỉ không hợp lệ: {detail_vi}. / Invalid holiday calendar: {detail_en}.",
        code="holiday_calendar_invalid",
    )


def _missing(year: int) -> InvalidInputError:
    return InvalidInputError(
        f"Chưa có lịch ngày nghỉ lễ, Tết của năm {year}: quản trị viên cần bổ sung lịch năm "
        f"{year} trước khi tính thời hạn. / No holiday calendar for {year}: an administrator "
        f"must add {year}'s public holidays before time limits can be computed.",
        code="holiday_calendar_missing",
    )


@dataclass(frozen=True)
class HolidayCalendar:
    """The working days of the years in ``years``.

    A day of a covered year is a working day when it is Monday to Friday and not in
    ``non_working``, or when it is in ``working`` (a Saturday or Sunday declared a working
    day). Build one with :meth:`from_dates` or :meth:`from_json`, which check it.

    Raises (on construction):
        InvalidInputError: code ``holiday_calendar_invalid`` — a date outside ``years``, a
            date both off and working, a weekday listed as a make-up working day, or a year
            out of range.
    """

    years: frozenset[int]
    non_working: frozenset[dt.date]
    working: frozenset[dt.date] = frozenset()

    def __post_init__(self) -> None:
        # Sets given to the constructor directly become frozen, so the calendar stays
        # hashable and nobody changes it behind the due times computed from it.
        object.__setattr__(self, "years", frozenset(self.years))
        object.__setattr__(self, "non_working", frozenset(self.non_working))
        object.__setattr__(self, "working", frozenset(self.working))
        for year in self.years:
            # Kept clear of date's limits, so that the day after a covered day always exists.
            if isinstance(year, bool) or not dt.MINYEAR < year < dt.MAXYEAR:
                raise _invalid(f"năm {year!r} không hợp lệ", f"year {year!r} is out of range")
        for day in self.non_working | self.working:
            if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
                raise _invalid(f"{day!r} không phải ngày", f"{day!r} is not a date")
            if day.year not in self.years:
                raise _invalid(
                    f"ngày {day.isoformat()} không thuộc năm nào của lịch",
                    f"{day.isoformat()} is outside the calendar's years",
                )
        both = self.non_working & self.working
        if both:
            clash = min(both).isoformat()
            raise _invalid(
                f"ngày {clash} vừa là ngày nghỉ vừa là ngày làm việc",
                f"{clash} is both a day off and a working day",
            )
        weekdays = sorted(day for day in self.working if day.weekday() < _SATURDAY)
        if weekdays:
            weekday = weekdays[0].isoformat()
            raise _invalid(
                f"ngày làm bù {weekday} không phải thứ Bảy hay Chủ nhật",
                f"make-up working day {weekday} is not a Saturday or Sunday",
            )

    # --- construction ---------------------------------------------------------------------

    @classmethod
    def from_dates(
        cls,
        *,
        years: Iterable[int],
        non_working: Iterable[dt.date],
        working: Iterable[dt.date] = (),
    ) -> HolidayCalendar:
        """A calendar covering ``years``, with the days off ``non_working`` and the weekend
        days declared working days ``working``.

        Raises:
            InvalidInputError: code ``holiday_calendar_invalid`` (see the class).
        """
        return cls(
            years=frozenset(years), non_working=frozenset(non_working), working=frozenset(working)
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> HolidayCalendar:
        """A calendar from its JSON form (see the module's documentation): an object with
        ``years`` (integers), ``non_working`` and ``working`` (ISO dates ``YYYY-MM-DD``),
        and an optional free-text ``source``. Unknown keys are refused, so that a misspelt
        key cannot drop a list of holidays.

        Raises:
            InvalidInputError: code ``holiday_calendar_invalid``.
        """
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise _invalid("không phải JSON", "not JSON") from exc
        if not isinstance(data, dict):
            raise _invalid("cần một đối tượng JSON", "a JSON object is expected")
        unknown = sorted(set(data) - _JSON_KEYS)
        if unknown:
            raise _invalid(f"khoá lạ {unknown}", f"unknown keys {unknown}")
        if "years" not in data:
            raise _invalid("thiếu 'years'", "'years' is missing")
        if "source" in data and not isinstance(data["source"], str):
            raise _invalid("'source' phải là chuỗi", "'source' must be a string")
        years = data["years"]
        if not isinstance(years, list) or not all(
            isinstance(y, int) and not isinstance(y, bool) for y in years
        ):
            raise _invalid("'years' phải là danh sách số năm", "'years' must be a list of years")
        return cls.from_dates(
            years=years,
            non_working=_iso_dates(data, "non_working"),
            working=_iso_dates(data, "working"),
        )

    def to_json(self) -> str:
        """This calendar in the JSON form :meth:`from_json` reads, sorted (stable output)."""
        return json.dumps(
            {
                "years": sorted(self.years),
                "non_working": [d.isoformat() for d in sorted(self.non_working)],
                "working": [d.isoformat() for d in sorted(self.working)],
            },
            indent=1,
        )

    def merged(self, other: HolidayCalendar) -> HolidayCalendar:
        """This calendar with ``other``'s years added; for a year both cover, ``other``'s
        days replace this calendar's whole (so an operator corrects an estimated year by
        giving it again)."""
        keep = self.years - other.years
        return HolidayCalendar(
            years=keep | other.years,
            non_working=frozenset(d for d in self.non_working if d.year in keep)
            | other.non_working,
            working=frozenset(d for d in self.working if d.year in keep) | other.working,
        )

    # --- questions ------------------------------------------------------------------------

    def covers(self, year: int) -> bool:
        """Whether this calendar knows the holidays of ``year``."""
        return year in self.years

    def is_working_day(self, day: dt.date) -> bool:
        """Whether ``day`` (a date in Vietnam, not a datetime) is a working day.

        Raises:
            InvalidInputError: code ``holiday_calendar_missing`` — ``day``'s year is not
                covered.
            TypeError: ``day`` is a datetime (convert it to its date in Vietnam first).
        """
        if isinstance(day, dt.datetime):
            # A datetime is a date whose equality with dates is always False: it would
            # never match a holiday. Refused rather than silently misread.
            raise TypeError("is_working_day takes a date, not a datetime")
        if day.year not in self.years:
            raise _missing(day.year)
        if day in self.working:
            return True
        return day.weekday() < _SATURDAY and day not in self.non_working

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day strictly after ``day``.

        Raises:
            InvalidInputError: code ``holiday_calendar_missing`` — the search reaches a year
                the calendar does not cover.
        """
        if isinstance(day, dt.datetime):
            raise TypeError("next_working_day takes a date, not a datetime")
        # Ends: every step either finds a working day, stays in a covered year (at most
        # 366 steps each), or raises on the first uncovered one.
        candidate = day + dt.timedelta(days=1)
        while not self.is_working_day(candidate):
            candidate += dt.timedelta(days=1)
        return candidate


def _iso_dates(data: Mapping[str, object], key: str) -> list[dt.date]:
    values = data.get(key, [])
    if not isinstance(values, list):
        raise _invalid(f"'{key}' phải là danh sách ngày", f"'{key}' must be a list of dates")
    days = []
    for value in values:
        # date.fromisoformat also reads "20260101" and week dates: one spelling only.
        if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
            raise _invalid(
                f"{value!r} trong '{key}' không phải ngày YYYY-MM-DD",
                f"{value!r} in '{key}' is not a YYYY-MM-DD date",
            )
        try:
            days.append(dt.date.fromisoformat(value))
        except ValueError as exc:
            raise _invalid(
                f"ngày {value} không tồn tại", f"{value} is not a calendar date"
            ) from exc
    return days


_D = dt.date

# 2026: as decided; sources in the module's documentation.
_NON_WORKING_2026: Final = (
    _D(2026, 1, 1),  # Tết Dương lịch
    _D(2026, 1, 2),  # swapped for Sat 10/1 (12729/VPCP-KGVX)
    *(_D(2026, 2, d) for d in range(16, 21)),  # Tết Nguyên đán: 29 Chạp to mùng 4
    _D(2026, 4, 26),  # Giỗ Tổ Hùng Vương (a Sunday)
    _D(2026, 4, 27),  # its nghỉ bù
    _D(2026, 4, 30),  # Ngày Chiến thắng
    _D(2026, 5, 1),  # Ngày Quốc tế Lao động
    _D(2026, 8, 31),  # swapped for Sat 22/8
    _D(2026, 9, 1),  # Quốc khánh, the day before
    _D(2026, 9, 2),  # Quốc khánh
    _D(2026, 11, 24),  # Ngày Văn hóa Việt Nam (see the module's documentation)
)
_WORKING_2026: Final = (
    _D(2026, 1, 10),  # Saturday worked for Fri 2/1
    _D(2026, 8, 22),  # Saturday worked for Mon 31/8
)

# 2027: ESTIMATED from the law; replace with the announced days (see the documentation).
_NON_WORKING_2027: Final = (
    _D(2027, 1, 1),  # Tết Dương lịch
    _D(2027, 2, 4),  # Tết Nguyên đán: 28 Chạp
    _D(2027, 2, 5),  # 29 Chạp, giao thừa
    _D(2027, 2, 6),  # mùng 1 (a Saturday)
    _D(2027, 2, 7),  # mùng 2 (a Sunday)
    _D(2027, 2, 8),  # mùng 3
    _D(2027, 2, 9),  # mùng 4
    _D(2027, 2, 10),  # mùng 5
    _D(2027, 4, 16),  # Giỗ Tổ Hùng Vương
    _D(2027, 4, 30),  # Ngày Chiến thắng
    _D(2027, 5, 1),  # Ngày Quốc tế Lao động (a Saturday)
    _D(2027, 5, 3),  # its nghỉ bù
    _D(2027, 9, 2),  # Quốc khánh
    _D(2027, 9, 3),  # Quốc khánh, the day after
    _D(2027, 11, 24),  # Ngày Văn hóa Việt Nam
)

DEFAULT_CALENDAR: Final = HolidayCalendar.from_dates(
    years=(2026, 2027),
    non_working=(*_NON_WORKING_2026, *_NON_WORKING_2027),
    working=_WORKING_2026,
)
"""Vietnam's working days for civil servants in 2026 (decided) and 2027 (estimated)."""
