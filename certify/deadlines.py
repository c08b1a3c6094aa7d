"""Time limits of a request (thời hạn giải quyết): when it is due, its extension, overdue.

The rules (NĐ 23/2015/NĐ-CP art. 7 and art. 21; TT 01/2020/TT-BTP art. 2; DOMAIN.md "Time
limits"):

1. A request received at the office is handled **the same working day**; one received
   **after 15:00** is due **the next working day**. Times are Vietnam's (Asia/Ho_Chi_Minh),
   whatever zone the caller's datetime is in.
2. A request received on a day that is not a working day (a weekend, a holiday; e.g. a
   booking made online) is taken as received when the office next opens: it is due at the
   end of the next working day.
3. The officer may extend by **at most 2 more working days** (many pages, many copies,
   complex content), counted from the due day, and gives the requester an appointment slip
   (phiếu hẹn) with the day and the hour.
4. Working days are Monday to Friday less public holidays, plus the Saturdays declared
   working days: :class:`certify.holidays.HolidayCalendar`. A date outside the calendar's
   years is refused (code ``holiday_calendar_missing``), never taken as ordinary.

"Due the same day" is made an instant: the office's closing time on the due day,
:data:`OFFICE_CLOSES_AT` (17:00) unless the caller gives another. DOMAIN.md does not state
office hours; 17:00 is the usual end of the afternoon session of Vietnamese state offices,
and a setting can change it. It must be after the 15:00 cut-off, or a request received at
15:00 would be due before it was received.

Public API (every function takes and returns timezone-aware datetimes; a returned due time
is in Vietnam time, :data:`certify.ports.VN_TZ`; store it as UTC like any instant):

- :func:`due_at` — the due time of a request received at an instant;
- :func:`extend` — the due time extended by 1 or 2 working days, at the slip's hour;
- :func:`check_appointment` — an appointment the officer chose, checked against the rule;
  returns the working days it extends by;
- :func:`is_overdue` — whether a due time has passed at an instant;
- :func:`is_working_day`, :func:`next_working_day` — the calendar's answers, defaulting
  to :data:`certify.holidays.DEFAULT_CALENDAR`.

Every refusal is an :class:`~certify.errors.InvalidInputError` with a stable code:
``naive_datetime``, ``holiday_calendar_missing``, ``extension_too_long``,
``extension_invalid``, ``appointment_invalid``, ``office_hours_invalid``.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from certify.errors import InvalidInputError
from certify.holidays import DEFAULT_CALENDAR, HolidayCalendar
from certify.ports import VN_TZ

__all__ = [
    "AFTERNOON_CUTOFF",
    "MAX_EXTENSION_WORKING_DAYS",
    "OFFICE_CLOSES_AT",
    "check_appointment",
    "due_at",
    "extend",
    "is_overdue",
    "is_working_day",
    "next_working_day",
]

# NĐ 23/2015 art. 7: received after 15 giờ, due the next working day.
AFTERNOON_CUTOFF: Final = dt.time(15, 0)
# The end of the due working day (an assumption: DOMAIN.md gives no office hours).
OFFICE_CLOSES_AT: Final = dt.time(17, 0)
# NĐ 23/2015 art. 21: extended by "không quá 02 ngày làm việc" (DOMAIN.md).
MAX_EXTENSION_WORKING_DAYS: Final = 2


def _aware(value: dt.datetime, name: str) -> dt.datetime:
    """``value`` in Vietnam time. Raises InvalidInputError ``naive_datetime``."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInputError(
            f"Thời điểm '{name}' phải kèm múi giờ. / '{name}' must be timezone-aware.",
            code="naive_datetime",
        )
    return value.astimezone(VN_TZ)


def _closing(closes_at: dt.time) -> dt.time:
    if closes_at.tzinfo is not None or closes_at <= AFTERNOON_CUTOFF:
        raise InvalidInputError(
            "Giờ kết thúc làm việc phải là giờ Việt Nam, sau 15:00. / "
            "The office's closing time must be a Vietnam wall-clock time after 15:00.",
            code="office_hours_invalid",
        )
    return closes_at


def _at(day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=VN_TZ)


def is_working_day(day: dt.date, *, calendar: HolidayCalendar = DEFAULT_CALENDAR) -> bool:
    """Whether ``day`` (a date in Vietnam) is a working day.

    Raises:
        InvalidInputError: code ``holiday_calendar_missing``.
        TypeError: ``day`` is a datetime.
    """
    return calendar.is_working_day(day)


def next_working_day(day: dt.date, *, calendar: HolidayCalendar = DEFAULT_CALENDAR) -> dt.date:
    """The first working day strictly after ``day``.

    Raises:
        InvalidInputError: code ``holiday_calendar_missing``.
        TypeError: ``day`` is a datetime.
    """
    return calendar.next_working_day(day)


def due_at(
    received_at: dt.datetime,
    *,
    calendar: HolidayCalendar = DEFAULT_CALENDAR,
    closes_at: dt.time = OFFICE_CLOSES_AT,
) -> dt.datetime:
    """When a request received at ``received_at`` is due: ``closes_at`` (Vietnam time) on
    the day of receipt if that is a working day and the receipt was at or before 15:00,
    otherwise on the next working day.

    Raises:
        InvalidInputError: code ``naive_datetime`` (``received_at`` has no zone),
            ``holiday_calendar_missing`` (the receipt or the due day falls in a year the
            calendar does not cover), ``office_hours_invalid`` (``closes_at`` not after
            15:00).
    """
    closes_at = _closing(closes_at)
    received = _aware(received_at, "received_at")
    day = received.date()
    # Exactly 15:00:00 is not "after 15:00"; 15:00:00.000001 is.
    if calendar.is_working_day(day) and received.time() <= AFTERNOON_CUTOFF:
        return _at(day, closes_at)
    return _at(calendar.next_working_day(day), closes_at)


def extend(
    due: dt.datetime,
    working_days: int,
    *,
    at: dt.time,
    calendar: HolidayCalendar = DEFAULT_CALENDAR,
    closes_at: dt.time = OFFICE_CLOSES_AT,
) -> dt.datetime:
    """The appointment when the officer extends the request due at ``due`` by
    ``working_days`` (1 or 2) working days: the hour ``at`` (Vietnam wall-clock time, at
    or before ``closes_at``) on the ``working_days``-th working day after ``due``'s day.
    The extension counts from the statutory due time (:func:`due_at`), not from an earlier
    extension: give ``due`` as that.

    Raises:
        InvalidInputError: code ``extension_too_long`` (more than 2 working days),
            ``extension_invalid`` (fewer than 1), ``appointment_invalid`` (``at`` after
            closing time or with a zone), ``naive_datetime``, ``holiday_calendar_missing``,
            ``office_hours_invalid``.
    """
    closes_at = _closing(closes_at)
    if isinstance(working_days, bool) or working_days < 1:
        raise InvalidInputError(
            "Số ngày gia hạn phải từ 1 ngày làm việc. / An extension is at least 1 working day.",
            code="extension_invalid",
        )
    if working_days > MAX_EXTENSION_WORKING_DAYS:
        raise _too_long()
    if at.tzinfo is not None or at > closes_at:
        raise InvalidInputError(
            f"Giờ hẹn phải là giờ Việt Nam, không muộn hơn {closes_at:%H:%M}. / "
            f"The appointment hour must be a Vietnam time no later than {closes_at:%H:%M}.",
            code="appointment_invalid",
        )
    day = _aware(due, "due").date()
    for _ in range(working_days):
        day = calendar.next_working_day(day)
    return _at(day, at)


def check_appointment(
    due: dt.datetime,
    appointment: dt.datetime,
    *,
    calendar: HolidayCalendar = DEFAULT_CALENDAR,
    closes_at: dt.time = OFFICE_CLOSES_AT,
) -> int:
    """Check the day and hour an officer chose for the appointment slip of a request due
    at ``due`` (its statutory due time), and return the extension in working days (1 or
    2). The appointment must be on a working day after the due day, at most 2 working days
    after it, at or before the closing time.

    Raises:
        InvalidInputError: code ``extension_too_long`` (later than 2 working days after the
            due day), ``appointment_invalid`` (not a working day, not after the due day,
            after closing time), ``naive_datetime``, ``holiday_calendar_missing``,
            ``office_hours_invalid``.
    """
    closes_at = _closing(closes_at)
    base = _aware(due, "due").date()
    local = _aware(appointment, "appointment")
    wanted = local.date()
    if wanted <= base or not calendar.is_working_day(wanted) or local.time() > closes_at:
        raise InvalidInputError(
            "Ngày hẹn phải là ngày làm việc sau ngày đến hạn, trước giờ kết thúc làm việc. / "
            "The appointment must be on a working day after the due day, within office hours.",
            code="appointment_invalid",
        )
    day = base
    for extension in range(1, MAX_EXTENSION_WORKING_DAYS + 1):
        day = calendar.next_working_day(day)
        if day == wanted:
            return extension
    raise _too_long()


def is_overdue(due: dt.datetime, now: dt.datetime) -> bool:
    """Whether a request due at ``due`` (or extended to it) is overdue at ``now``: strictly
    after the due time. Whether the request is still open is the caller's to know.

    Raises:
        InvalidInputError: code ``naive_datetime``.
    """
    return _aware(now, "now") > _aware(due, "due")


def _too_long() -> InvalidInputError:
    return InvalidInputError(
        f"Chỉ được gia hạn thêm tối đa {MAX_EXTENSION_WORKING_DAYS} ngày làm việc "
        f"(Nghị định 23/2015/NĐ-CP, Điều 21). / An extension is at most "
        f"{MAX_EXTENSION_WORKING_DAYS} working days (Decree 23/2015, art. 21).",
        code="extension_too_long",
    )
