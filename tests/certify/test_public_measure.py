"""The public measure ("hai không" and no overdue), on eleven scripted requests and a booking
over January and February 2026, with every count worked out by hand below."""

from __future__ import annotations

import datetime as dt

import pytest

from certify.citizen_ports import PaymentRecord
from certify.errors import InvalidInputError
from certify.ports import VN_TZ, ItemRecord, RequestRecord
from certify.public_measure import MonthMeasure, monthly_measure, total

Row = tuple[RequestRecord, list[ItemRecord], list[PaymentRecord]]


def vn(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    """An instant of 2026 in Vietnam time (UTC+7, no daylight saving)."""
    return dt.datetime(2026, month, day, hour, minute, tzinfo=VN_TZ)


# The measure is taken on Tuesday 10 February 2026 at 09:00 in Vietnam.
NOW = vn(2, 10, 9)


def request(
    code: str,
    received_at: dt.datetime | None,
    due_at: dt.datetime | None,
    *,
    status: str = "received",
    extended_to: dt.datetime | None = None,
    delivered_at: dt.datetime | None = None,
) -> RequestRecord:
    return RequestRecord(
        code=code,
        authority_code="dn-tanphu",
        requester_name="Nguyễn Văn A",
        requester_id_number="079000000001",
        status=status,
        created_at=received_at or vn(1, 28, 8),
        received_at=received_at,
        due_at=due_at,
        extended_to=extended_to,
        delivered_at=delivered_at,
    )


def item(code: str, position: int, status: str, closed_at: dt.datetime | None) -> ItemRecord:
    return ItemRecord(
        request_code=code,
        position=position,
        document_name="Giấy khai sinh",
        pages=1,
        copies=1,
        status=status,
        closed_at=closed_at,
    )


def pay(code: str, method: str, amount: int = 2000) -> PaymentRecord:
    return PaymentRecord(
        request_code=code,
        amount=amount,
        method=method,
        reference=code,
        paid_at=vn(2, 1, 9),
        recorded_by="bank" if method == "transfer" else "lan.tt",
    )


# January 2026 (Vietnam time): R1-R6.
# R1  Mon 5 Jan 09:00, due 17:00; certified 10:00 -> on time. Downloaded. Transfer.
# R2  Tue 6 Jan 16:00 (after 15:00), due Wed 7 Jan 17:00; one original refused Wed 10:00,
#     the other certified Thu 8 Jan 09:00 -> finished late: overdue. Certified (one is),
#     not downloaded. Card + cash -> paid, not cashless.
# R3  Mon 12 Jan 09:00, due 17:00, extended to Wed 14 Jan 17:00; certified Wed 11:00 ->
#     on time thanks to the extension. Downloaded. Cash -> paid, not cashless.
# R4  Tue 20 Jan 10:00, due 17:00; its only original refused 11:00 -> refused, on time.
#     No payment.
# R6  Mon 26 Jan 09:00, due 17:00; issued outside the desk (no originals), status
#     certified -> certified, on time (no closing time to judge). Not downloaded. Transfer.
# R5  Sat 31 Jan 23:30 Vietnam = 16:30 UTC the same day (an online booking received then):
#     January. Due Mon 2 Feb 17:00; certified Mon 09:00 -> on time. Downloaded. Transfer +
#     card -> cashless.
#   received 6; certified R1 R2 R3 R5 R6 = 5; refused R4 = 1; delivered R1 R3 R5 = 3;
#   paid R1 R2 R3 R5 R6 = 5; cashless R1 R5 R6 = 3; on time R1 R3 R4 R5 R6 = 5;
#   overdue R2 = 1; open 0.
#
# February 2026: R7-R11.
# R7  31 Jan 18:00 UTC = Sun 1 Feb 01:00 Vietnam: February. Due Mon 2 Feb 17:00; its
#     original still only checked at NOW -> open and overdue already.
# R8  Tue 10 Feb 08:00, due 17:00; original received, not finished -> open, not yet due.
# R9  Tue 3 Feb 09:00, due 17:00; certified 16:59, the other original refused at 17:00
#     sharp (due means "by": not late) -> on time. Certified, not downloaded. Card.
# R10 Wed 4 Feb 09:00, due 17:00; its only original refused 17:01 -> refused, overdue.
# R11 Thu 5 Feb 09:00, due 17:00; certified 10:00 -> on time. Downloaded. Cash.
#   received 5; certified R9 R11 = 2; refused R10 = 1; delivered R11 = 1; paid R9 R11 = 2;
#   cashless R9 = 1; on time R9 R11 = 2; overdue R7 R10 = 2; open R7 R8 = 2.
#
# B0 is a booking made on 28 Jan, not yet received: counted nowhere.
ROWS: list[Row] = [
    (
        request("R1", vn(1, 5, 9), vn(1, 5, 17), status="certified", delivered_at=vn(1, 6, 8)),
        [item("R1", 1, "certified", vn(1, 5, 10))],
        [pay("R1", "transfer")],
    ),
    (
        request("R2", vn(1, 6, 16), vn(1, 7, 17), status="certified"),
        [item("R2", 1, "refused", vn(1, 7, 10)), item("R2", 2, "certified", vn(1, 8, 9))],
        [pay("R2", "card", 1000), pay("R2", "cash", 1000)],
    ),
    (
        request(
            "R3",
            vn(1, 12, 9),
            vn(1, 12, 17),
            status="certified",
            extended_to=vn(1, 14, 17),
            delivered_at=vn(1, 15, 20),
        ),
        [item("R3", 1, "certified", vn(1, 14, 11))],
        [pay("R3", "cash")],
    ),
    (
        request("R4", vn(1, 20, 10), vn(1, 20, 17), status="refused"),
        [item("R4", 1, "refused", vn(1, 20, 11))],
        [],
    ),
    (
        request(
            "R5",
            dt.datetime(2026, 1, 31, 16, 30, tzinfo=dt.UTC),
            vn(2, 2, 17),
            status="certified",
            delivered_at=vn(2, 2, 10),
        ),
        [item("R5", 1, "certified", vn(2, 2, 9))],
        [pay("R5", "transfer", 1000), pay("R5", "card", 1000)],
    ),
    (
        request("R6", vn(1, 26, 9), vn(1, 26, 17), status="certified"),
        [],
        [pay("R6", "transfer")],
    ),
    (
        request("R7", dt.datetime(2026, 1, 31, 18, 0, tzinfo=dt.UTC), vn(2, 2, 17)),
        [item("R7", 1, "checked", None)],
        [],
    ),
    (
        request("R8", vn(2, 10, 8), vn(2, 10, 17)),
        [item("R8", 1, "received", None)],
        [],
    ),
    (
        request("R9", vn(2, 3, 9), vn(2, 3, 17), status="certified"),
        [item("R9", 1, "certified", vn(2, 3, 16, 59)), item("R9", 2, "refused", vn(2, 3, 17))],
        [pay("R9", "card")],
    ),
    (
        request("R10", vn(2, 4, 9), vn(2, 4, 17), status="refused"),
        [item("R10", 1, "refused", vn(2, 4, 17, 1))],
        [],
    ),
    (
        request("R11", vn(2, 5, 9), vn(2, 5, 17), status="certified", delivered_at=vn(2, 5, 11)),
        [item("R11", 1, "certified", vn(2, 5, 10))],
        [pay("R11", "cash")],
    ),
    (request("B0", None, None, status="booked"), [], []),
]

JANUARY = MonthMeasure(
    year=2026,
    month=1,
    received=6,
    certified=5,
    refused=1,
    delivered_electronically=3,
    paid=5,
    paid_cashless=3,
    on_time=5,
    overdue=1,
    open=0,
)
FEBRUARY = MonthMeasure(
    year=2026,
    month=2,
    received=5,
    certified=2,
    refused=1,
    delivered_electronically=1,
    paid=2,
    paid_cashless=1,
    on_time=2,
    overdue=2,
    open=2,
)


def test_months_are_counted_by_hand() -> None:
    assert monthly_measure(ROWS, now=NOW) == [JANUARY, FEBRUARY]


def test_rows_in_any_order_give_the_same_months() -> None:
    assert monthly_measure(reversed(ROWS), now=NOW) == [JANUARY, FEBRUARY]


def test_month_is_vietnam_time_not_utc() -> None:
    r5, r7 = ROWS[4], ROWS[6]
    # 16:30 UTC on 31 Jan is 23:30 in Vietnam: January. 18:00 UTC is 01:00 on 1 Feb.
    [january] = monthly_measure([r5], now=NOW)
    [february] = monthly_measure([r7], now=NOW)
    assert (january.year, january.month, january.received) == (2026, 1, 1)
    assert (february.year, february.month, february.received) == (2026, 2, 1)


def test_shares() -> None:
    assert JANUARY.delivered_share == pytest.approx(3 / 5)
    assert JANUARY.cashless_share == pytest.approx(3 / 5)
    assert FEBRUARY.delivered_share == pytest.approx(1 / 2)
    assert FEBRUARY.cashless_share == pytest.approx(1 / 2)


def test_total_sums_the_months() -> None:
    both = total(monthly_measure(ROWS, now=NOW))
    assert both == MonthMeasure(
        year=0,
        month=0,
        received=11,
        certified=7,
        refused=2,
        delivered_electronically=4,
        paid=7,
        paid_cashless=4,
        on_time=7,
        overdue=3,
        open=2,
    )
    # The shares of the sums (4/7), not the mean of the months' (0.6 and 0.5).
    assert both.delivered_share == pytest.approx(4 / 7)
    assert both.cashless_share == pytest.approx(4 / 7)


def test_nothing_certified_or_paid_has_no_share() -> None:
    r7, r8 = ROWS[6], ROWS[7]
    [february] = monthly_measure([r7, r8], now=NOW)
    assert (february.certified, february.paid) == (0, 0)
    assert february.delivered_share is None
    assert february.cashless_share is None


def test_empty() -> None:
    assert monthly_measure([], now=NOW) == []
    assert monthly_measure([ROWS[-1]], now=NOW) == []  # only a booking not yet received
    nothing = total([])
    assert nothing == MonthMeasure(year=0, month=0)
    assert nothing.delivered_share is None
    assert nothing.cashless_share is None


def test_time_limits_are_the_office_counts_at_now() -> None:
    # Earlier, on Mon 2 Feb at 12:00, R7 (due 17:00 that day) was open but not yet overdue.
    r7 = ROWS[6]
    [february] = monthly_measure([r7], now=vn(2, 2, 12))
    assert (february.on_time, february.overdue, february.open) == (0, 0, 1)


def test_naive_received_at_is_refused() -> None:
    naive = request("RX", dt.datetime(2026, 1, 5, 9), vn(1, 5, 17))  # noqa: DTZ001
    with pytest.raises(InvalidInputError) as info:
        monthly_measure([(naive, [], [])], now=NOW)
    assert info.value.code == "naive_datetime"
