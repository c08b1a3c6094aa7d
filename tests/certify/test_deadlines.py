"""Time limits of a request (NĐ 23/2015 art. 7, art. 21) and the working-day calendar.

Fixed instants only, never the wall clock. Weekdays are written out so that a wrong date in
a test shows: 2026-03-03 is a Tuesday, 2026-02-13 a Friday, and so on.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.deadlines import (
    OFFICE_CLOSES_AT,
    check_appointment,
    due_at,
    extend,
    is_overdue,
    is_working_day,
    next_working_day,
)
from certify.errors import InvalidInputError
from certify.holidays import DEFAULT_CALENDAR, HolidayCalendar
from certify.ports import VN_TZ

UTC = dt.UTC
PROPERTY = settings(max_examples=400, deadline=None, derandomize=True)


def vn(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, ss, tzinfo=VN_TZ)


def due_day(y: int, m: int, d: int) -> dt.datetime:
    """17:00 in Vietnam on that day: the end of a due working day."""
    return vn(y, m, d, 17)


def code_of(excinfo: pytest.ExceptionInfo[InvalidInputError]) -> str:
    return excinfo.value.code


# --- the same day, or the next working day after 15:00 ------------------------------------------


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (vn(2026, 3, 3, 8, 0), due_day(2026, 3, 3)),  # Tuesday morning
        (vn(2026, 3, 3, 14, 59), due_day(2026, 3, 3)),
        (vn(2026, 3, 3, 15, 0, 0), due_day(2026, 3, 3)),  # 15:00 is not "after 15:00"
        (vn(2026, 3, 3, 15, 0, 1), due_day(2026, 3, 4)),
        (vn(2026, 3, 3, 15, 1), due_day(2026, 3, 4)),
        (vn(2026, 3, 3, 23, 59), due_day(2026, 3, 4)),
        (vn(2026, 3, 3, 0, 0), due_day(2026, 3, 3)),  # before opening: still that day
    ],
)
def test_the_same_working_day_or_the_next_one_after_15_00(
    received: dt.datetime, due: dt.datetime
) -> None:
    assert due_at(received) == due


def test_the_due_time_is_vietnam_time_and_timezone_aware() -> None:
    due = due_at(vn(2026, 3, 3, 9))
    assert due.tzinfo is VN_TZ
    assert due.astimezone(UTC) == dt.datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("received", "due"),
    [
        # 08:30 UTC is 15:30 in Vietnam: after the cut-off.
        (dt.datetime(2026, 3, 3, 8, 30, tzinfo=UTC), due_day(2026, 3, 4)),
        # 07:59 UTC is 14:59 in Vietnam.
        (dt.datetime(2026, 3, 3, 7, 59, tzinfo=UTC), due_day(2026, 3, 3)),
        # 20:00 UTC on Monday is 03:00 on Tuesday in Vietnam: Tuesday's request.
        (dt.datetime(2026, 3, 2, 20, 0, tzinfo=UTC), due_day(2026, 3, 3)),
        # Another zone altogether: 10:30 in Paris (UTC+1 in March) is 16:30 in Vietnam.
        (
            dt.datetime(2026, 3, 3, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))),
            due_day(2026, 3, 4),
        ),
    ],
)
def test_a_receipt_in_another_zone_is_read_in_vietnam_time(
    received: dt.datetime, due: dt.datetime
) -> None:
    assert due_at(received) == due


def test_friday_after_15_00_is_due_on_monday() -> None:
    assert due_at(vn(2026, 3, 6, 15, 30)) == due_day(2026, 3, 9)


def test_friday_after_15_00_before_a_holiday_monday_is_due_on_tuesday() -> None:
    # Giỗ Tổ Hùng Vương 2026 is Sunday 26 April; Monday 27 April is its nghỉ bù.
    assert due_at(vn(2026, 4, 24, 15, 30)) == due_day(2026, 4, 28)
    assert due_at(vn(2026, 4, 24, 10, 0)) == due_day(2026, 4, 24)


@pytest.mark.parametrize(
    "received",
    [vn(2026, 3, 7, 10), vn(2026, 3, 8, 16)],  # Saturday morning, Sunday afternoon
)
def test_a_request_received_at_the_weekend_is_due_on_the_next_working_day(
    received: dt.datetime,
) -> None:
    assert due_at(received) == due_day(2026, 3, 9)


# --- holidays ---------------------------------------------------------------------------------


def test_the_day_before_tet_2026() -> None:
    # The Tết break for civil servants is Saturday 14 to Sunday 22 February 2026.
    assert due_at(vn(2026, 2, 13, 14, 30)) == due_day(2026, 2, 13)
    assert due_at(vn(2026, 2, 13, 15, 30)) == due_day(2026, 2, 23)


@pytest.mark.parametrize("day", range(14, 23))
def test_every_day_of_the_tet_2026_break_is_due_after_it(day: int) -> None:
    assert not is_working_day(dt.date(2026, 2, day))
    assert due_at(vn(2026, 2, day, 9)) == due_day(2026, 2, 23)


def test_the_day_before_tet_2027_estimated() -> None:
    # Estimated break: Thursday 4 to Wednesday 10 February 2027.
    assert due_at(vn(2027, 2, 3, 15, 30)) == due_day(2027, 2, 11)
    assert due_at(vn(2027, 2, 3, 9)) == due_day(2027, 2, 3)


def test_30_april_and_1_may_2026() -> None:
    assert due_at(vn(2026, 4, 29, 15, 30)) == due_day(2026, 5, 4)
    assert due_at(vn(2026, 4, 30, 9)) == due_day(2026, 5, 4)
    assert due_at(vn(2026, 5, 1, 9)) == due_day(2026, 5, 4)


def test_1_may_2027_on_a_saturday_gives_monday_off() -> None:
    assert due_at(vn(2027, 4, 29, 15, 30)) == due_day(2027, 5, 4)


def test_quoc_khanh_2026_with_its_swapped_monday_and_make_up_saturday() -> None:
    # Off Saturday 29 August to Wednesday 2 September; Saturday 22 August is worked.
    assert due_at(vn(2026, 8, 28, 15, 30)) == due_day(2026, 9, 3)
    assert due_at(vn(2026, 9, 2, 9)) == due_day(2026, 9, 3)
    assert is_working_day(dt.date(2026, 8, 22))
    assert due_at(vn(2026, 8, 22, 10)) == due_day(2026, 8, 22)
    assert due_at(vn(2026, 8, 21, 15, 30)) == due_day(2026, 8, 22)


def test_quoc_khanh_2027_estimated() -> None:
    assert due_at(vn(2027, 9, 1, 15, 30)) == due_day(2027, 9, 6)


def test_new_year_2026_and_the_year_boundary() -> None:
    # 1-2 January 2026 off, Saturday 10 January worked instead (12729/VPCP-KGVX).
    assert due_at(vn(2026, 1, 1, 9)) == due_day(2026, 1, 5)
    assert due_at(vn(2026, 1, 9, 15, 30)) == due_day(2026, 1, 10)
    # Thursday 31 December 2026 after 15:00: Friday 1 January 2027 is Tết Dương lịch.
    assert due_at(vn(2026, 12, 31, 15, 30)) == due_day(2027, 1, 4)


def test_the_calendar_of_2026_counts_the_days_decided() -> None:
    off_weekdays = sorted(
        d for d in DEFAULT_CALENDAR.non_working if d.year == 2026 and d.weekday() < 5
    )
    assert [d.isoformat() for d in off_weekdays] == [
        "2026-01-01",
        "2026-01-02",
        "2026-02-16",
        "2026-02-17",
        "2026-02-18",
        "2026-02-19",
        "2026-02-20",
        "2026-04-27",
        "2026-04-30",
        "2026-05-01",
        "2026-08-31",
        "2026-09-01",
        "2026-09-02",
        "2026-11-24",
    ]
    assert sorted(DEFAULT_CALENDAR.working) == [dt.date(2026, 1, 10), dt.date(2026, 8, 22)]


# --- outside the calendar -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "received",
    [
        vn(2025, 12, 31, 9),
        vn(2028, 1, 3, 9),
        # Friday 31 December 2027 after 15:00: the next working day is in 2028.
        vn(2027, 12, 31, 15, 30),
        # 16:59 UTC on 31 December 2025 is still 2025 in Vietnam (23:59).
        dt.datetime(2025, 12, 31, 16, 59, tzinfo=UTC),
    ],
)
def test_a_date_outside_the_calendar_is_refused_with_a_code(received: dt.datetime) -> None:
    with pytest.raises(InvalidInputError) as excinfo:
        due_at(received)
    assert code_of(excinfo) == "holiday_calendar_missing"
    assert "quản trị viên" in excinfo.value.message
    assert "administrator" in excinfo.value.message


def test_the_first_instant_of_2026_in_vietnam_is_covered() -> None:
    assert due_at(dt.datetime(2025, 12, 31, 17, 0, tzinfo=UTC)) == due_day(2026, 1, 5)


def test_an_operator_adds_a_year_from_json() -> None:
    extra = HolidayCalendar.from_json(
        '{"years": [2028], "non_working": ["2028-01-03"], "working": [],'
        ' "source": "test data, not the real 2028"}'
    )
    calendar = DEFAULT_CALENDAR.merged(extra)
    assert due_at(vn(2027, 12, 31, 15, 30), calendar=calendar) == due_day(2028, 1, 4)
    assert due_at(vn(2026, 2, 13, 15, 30), calendar=calendar) == due_day(2026, 2, 23)


def test_an_operator_replaces_the_estimated_year() -> None:
    # Suppose the announced Tết 2027 break were Wednesday 3 to Thursday 11 February, with
    # Saturday 30 January worked: the operator gives 2027 again and it replaces the estimate.
    announced = HolidayCalendar.from_dates(
        years=[2027],
        non_working=[dt.date(2027, 2, 3), *(dt.date(2027, 2, d) for d in range(4, 12))],
        working=[dt.date(2027, 1, 30)],
    )
    calendar = DEFAULT_CALENDAR.merged(announced)
    assert calendar.covers(2026)
    assert calendar.covers(2027)
    assert due_at(vn(2027, 2, 2, 15, 30), calendar=calendar) == due_day(2027, 2, 12)
    assert is_working_day(dt.date(2027, 1, 30), calendar=calendar)
    # 2027's estimated holidays are gone (30 April), 2026's are kept.
    assert is_working_day(dt.date(2027, 4, 30), calendar=calendar)
    assert not is_working_day(dt.date(2026, 4, 30), calendar=calendar)


def test_the_default_calendar_round_trips_through_json() -> None:
    assert HolidayCalendar.from_json(DEFAULT_CALENDAR.to_json()) == DEFAULT_CALENDAR


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"non_working": []}',
        '{"years": [2028], "non-working": ["2028-01-01"]}',  # misspelt key
        '{"years": ["2028"]}',
        '{"years": [true]}',
        '{"years": [2028], "non_working": ["2028-02-30"]}',
        '{"years": [2028], "non_working": ["20280101"]}',
        '{"years": [2028], "non_working": "2028-01-01"}',
        '{"years": [2028], "non_working": ["2029-01-01"]}',  # outside its years
        '{"years": [2028], "non_working": ["2028-01-08"], "working": ["2028-01-08"]}',
        '{"years": [2028], "working": ["2028-01-05"]}',  # a Wednesday cannot be "made up"
        '{"years": [10000]}',
        '{"years": [2028], "source": 1}',
    ],
)
def test_a_bad_calendar_is_refused_with_a_code(text: str) -> None:
    with pytest.raises(InvalidInputError) as excinfo:
        HolidayCalendar.from_json(text)
    assert code_of(excinfo) == "holiday_calendar_invalid"


def test_a_datetime_is_not_taken_for_a_date() -> None:
    with pytest.raises(TypeError):
        is_working_day(vn(2026, 1, 1))
    with pytest.raises(TypeError):
        next_working_day(vn(2026, 1, 1))


def test_next_working_day_is_strictly_after() -> None:
    assert next_working_day(dt.date(2026, 3, 3)) == dt.date(2026, 3, 4)
    assert next_working_day(dt.date(2026, 2, 13)) == dt.date(2026, 2, 23)


# --- naive datetimes ----------------------------------------------------------------------------


def test_naive_datetimes_are_refused() -> None:
    naive = dt.datetime(2026, 3, 3, 9)  # noqa: DTZ001 - the point of the test
    with pytest.raises(InvalidInputError) as excinfo:
        due_at(naive)
    assert code_of(excinfo) == "naive_datetime"
    for call in (
        lambda: extend(naive, 1, at=dt.time(9)),
        lambda: check_appointment(naive, vn(2026, 3, 4, 9)),
        lambda: check_appointment(due_day(2026, 3, 3), naive),
        lambda: is_overdue(naive, vn(2026, 3, 4)),
        lambda: is_overdue(due_day(2026, 3, 3), naive),
    ):
        with pytest.raises(InvalidInputError) as excinfo:
            call()
        assert code_of(excinfo) == "naive_datetime"


def test_a_closing_time_not_after_15_00_is_refused() -> None:
    with pytest.raises(InvalidInputError) as excinfo:
        due_at(vn(2026, 3, 3, 9), closes_at=dt.time(15, 0))
    assert code_of(excinfo) == "office_hours_invalid"
    assert due_at(vn(2026, 3, 3, 9), closes_at=dt.time(17, 30)) == vn(2026, 3, 3, 17, 30)


# --- extension and the appointment slip -------------------------------------------------------


def test_an_extension_across_a_weekend() -> None:
    due = due_at(vn(2026, 3, 6, 10))  # Friday
    assert extend(due, 1, at=dt.time(10, 0)) == vn(2026, 3, 9, 10)
    assert extend(due, 2, at=dt.time(16, 30)) == vn(2026, 3, 10, 16, 30)


def test_an_extension_across_a_holiday() -> None:
    due = due_at(vn(2026, 4, 29, 10))  # Wednesday before 30/4-1/5
    assert extend(due, 1, at=dt.time(9, 0)) == vn(2026, 5, 4, 9)
    assert extend(due, 2, at=dt.time(9, 0)) == vn(2026, 5, 5, 9)
    tet = due_at(vn(2026, 2, 12, 10))  # Thursday before the Tết break
    assert extend(tet, 1, at=dt.time(8, 0)) == vn(2026, 2, 13, 8)
    assert extend(tet, 2, at=dt.time(8, 0)) == vn(2026, 2, 23, 8)


def test_an_extension_counts_a_make_up_saturday() -> None:
    due = due_at(vn(2026, 8, 21, 10))  # Friday; Saturday 22 August 2026 is worked
    assert extend(due, 1, at=dt.time(11, 0)) == vn(2026, 8, 22, 11)


def test_an_extension_given_in_utc_counts_from_the_vietnamese_day() -> None:
    due = due_day(2026, 3, 6).astimezone(UTC)  # 10:00 UTC on Friday
    assert extend(due, 1, at=dt.time(10, 0)) == vn(2026, 3, 9, 10)


def test_three_working_days_are_refused() -> None:
    due = due_at(vn(2026, 3, 3, 9))
    with pytest.raises(InvalidInputError) as excinfo:
        extend(due, 3, at=dt.time(10, 0))
    assert code_of(excinfo) == "extension_too_long"
    assert "tối đa 2 ngày làm việc" in excinfo.value.message


@pytest.mark.parametrize("days", [0, -1])
def test_an_extension_of_no_day_is_refused(days: int) -> None:
    with pytest.raises(InvalidInputError) as excinfo:
        extend(due_at(vn(2026, 3, 3, 9)), days, at=dt.time(10, 0))
    assert code_of(excinfo) == "extension_invalid"


@pytest.mark.parametrize("at", [dt.time(17, 1), dt.time(10, tzinfo=UTC)])
def test_an_appointment_hour_after_closing_or_with_a_zone_is_refused(at: dt.time) -> None:
    with pytest.raises(InvalidInputError) as excinfo:
        extend(due_at(vn(2026, 3, 3, 9)), 1, at=at)
    assert code_of(excinfo) == "appointment_invalid"


def test_an_appointment_the_officer_chose_is_checked() -> None:
    due = due_at(vn(2026, 4, 29, 10))  # Wednesday 29 April 2026
    assert check_appointment(due, vn(2026, 5, 4, 9)) == 1
    assert check_appointment(due, vn(2026, 5, 5, 16, 30)) == 2
    assert check_appointment(due, dt.datetime(2026, 5, 5, 2, 0, tzinfo=UTC)) == 2


@pytest.mark.parametrize(
    ("appointment", "code"),
    [
        (vn(2026, 5, 6, 9), "extension_too_long"),  # the 3rd working day
        (vn(2026, 5, 1, 9), "appointment_invalid"),  # a holiday
        (vn(2026, 5, 2, 9), "appointment_invalid"),  # a Saturday
        (vn(2026, 4, 29, 16), "appointment_invalid"),  # the due day itself
        (vn(2026, 4, 28, 9), "appointment_invalid"),  # before it
        (vn(2026, 5, 4, 18), "appointment_invalid"),  # after closing time
    ],
)
def test_a_wrong_appointment_is_refused(appointment: dt.datetime, code: str) -> None:
    with pytest.raises(InvalidInputError) as excinfo:
        check_appointment(due_at(vn(2026, 4, 29, 10)), appointment)
    assert code_of(excinfo) == code


# --- overdue ----------------------------------------------------------------------------------


def test_overdue_is_strictly_after_the_due_time() -> None:
    due = due_day(2026, 3, 3)
    assert not is_overdue(due, vn(2026, 3, 3, 16, 59))
    assert not is_overdue(due, due)
    assert is_overdue(due, vn(2026, 3, 3, 17, 0, 1))
    assert is_overdue(due, dt.datetime(2026, 3, 3, 10, 1, tzinfo=UTC))  # 17:01 in Vietnam


# --- properties -------------------------------------------------------------------------------


def longest_break_days(calendar: HolidayCalendar) -> int:
    """The longest run of consecutive non-working days in the calendar's years."""
    longest = run = 0
    day = dt.date(min(calendar.years), 1, 1)
    while day.year in calendar.years:
        run = 0 if calendar.is_working_day(day) else run + 1
        longest = max(longest, run)
        day += dt.timedelta(days=1)
    return longest


def test_the_longest_break_is_the_tet_2026_break() -> None:
    assert longest_break_days(DEFAULT_CALENDAR) == 9


# The receipt is the working day before the longest break, just after 15:00; the due time is
# the end of the working day after it: the break plus one day plus less than 2 hours.
MAX_WAIT = dt.timedelta(days=longest_break_days(DEFAULT_CALENDAR) + 1, hours=2)

ZONES = st.sampled_from(
    [VN_TZ, UTC, dt.timezone(dt.timedelta(hours=-11)), dt.timezone(dt.timedelta(hours=14))]
)
# Naive bounds are wall times in the drawn zone. From 2 January 2026 00:00 (at UTC+14, 17:00
# on 1 January in Vietnam) to 30 December 2027 00:00 (at UTC-11, 18:00 on 30 December in
# Vietnam): inside 2026-2027 in Vietnam and due by 31 December 2027, in every zone drawn.
receipts = st.datetimes(
    min_value=dt.datetime(2026, 1, 2),  # noqa: DTZ001
    max_value=dt.datetime(2027, 12, 30),  # noqa: DTZ001
    timezones=ZONES,
)
# Extended by up to 2 working days, still inside 2027.
early_receipts = st.datetimes(
    min_value=dt.datetime(2026, 1, 2),  # noqa: DTZ001
    max_value=dt.datetime(2027, 12, 20),  # noqa: DTZ001
    timezones=ZONES,
)


@PROPERTY
@given(receipts)
def test_the_due_time_is_after_the_receipt_on_a_working_day_and_not_too_late(
    received: dt.datetime,
) -> None:
    due = due_at(received)
    assert due > received
    assert due - received <= MAX_WAIT
    local = due.astimezone(VN_TZ)
    assert local.time() == OFFICE_CLOSES_AT
    assert is_working_day(local.date())


@PROPERTY
@given(receipts, receipts)
def test_a_later_receipt_is_never_due_earlier(a: dt.datetime, b: dt.datetime) -> None:
    first, second = sorted((a, b))
    assert due_at(first) <= due_at(second)


@PROPERTY
@given(receipts)
def test_the_due_day_is_the_receipt_day_exactly_when_working_and_by_15_00(
    received: dt.datetime,
) -> None:
    local = received.astimezone(VN_TZ)
    same_day = due_at(received).date() == local.date()
    assert same_day == (is_working_day(local.date()) and local.time() <= dt.time(15))


@PROPERTY
@given(early_receipts, st.integers(min_value=1, max_value=2), st.times(max_value=dt.time(17)))
def test_an_extension_lands_on_the_nth_working_day_after_the_due_day(
    received: dt.datetime, days: int, at: dt.time
) -> None:
    due = due_at(received)
    extended = extend(due, days, at=at)
    assert extended > due
    day = extended.date()
    assert is_working_day(day)
    working_days_between = sum(
        is_working_day(due.date() + dt.timedelta(days=i))
        for i in range(1, (day - due.date()).days + 1)
    )
    assert working_days_between == days
    assert check_appointment(due, extended) == days
