"""Properties of the fees (TT 226/2016/TT-BTC art. 4) and of the register's year and totals
(NĐ 23/2015 art. 20), checked with Hypothesis over many inputs."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certify.errors import InvalidInputError
from certify.fees import MAX_FEE_PER_COPY, certification_fee, fee_per_copy
from certify.ports import DocumentEntry
from certify.register import RegisterRow, month_totals, register_date, year_totals

# A fixed seed (as in tests/keys/test_protocol_fuzz.py), so that a failure reproduces.
PROPERTY = settings(max_examples=300, deadline=None, derandomize=True)

VN = ZoneInfo("Asia/Ho_Chi_Minh")
SEVEN_HOURS = dt.timedelta(hours=7)

pages = st.integers(min_value=1, max_value=5_000)
copies = st.integers(min_value=1, max_value=1_000)
# Vietnam has kept UTC+7 without daylight saving since 13 June 1975. Hypothesis takes naive
# bounds (wall times) and attaches a drawn time zone.
instants = st.datetimes(
    min_value=dt.datetime(1976, 1, 1),  # noqa: DTZ001
    max_value=dt.datetime(2200, 12, 31),  # noqa: DTZ001
    timezones=st.timezones(),
)
years = st.integers(min_value=1976, max_value=2199)


# --- fees --------------------------------------------------------------------------------------


def fee_counted_page_by_page(n: int) -> int:
    """The rule as DOMAIN.md words it: 2,000 VND for each of pages 1-2, 1,000 VND for each
    page from page 3, at most 200,000 VND per copy."""
    return min(sum(2_000 if page <= 2 else 1_000 for page in range(1, n + 1)), 200_000)


@PROPERTY
@given(pages)
def test_the_fee_per_copy_is_the_rule_counted_page_by_page(n: int) -> None:
    assert fee_per_copy(n) == fee_counted_page_by_page(n)


@PROPERTY
@given(pages, pages)
def test_more_pages_never_cost_less(a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert fee_per_copy(low) <= fee_per_copy(high)


@PROPERTY
@given(pages)
def test_a_page_adds_2000_then_1000_then_nothing_once_capped(n: int) -> None:
    step = fee_per_copy(n + 1) - fee_per_copy(n)
    if n + 1 <= 2:
        assert step == 2_000
    elif fee_per_copy(n + 1) < MAX_FEE_PER_COPY:
        assert step == 1_000
    else:
        assert 0 <= step <= 1_000


@PROPERTY
@given(pages)
def test_a_copy_costs_at_most_200000_and_exactly_that_from_198_pages(n: int) -> None:
    assert 0 < fee_per_copy(n) <= MAX_FEE_PER_COPY == 200_000
    # 2 x 2,000 + 196 x 1,000 = 200,000: page 198 reaches the cap.
    assert (fee_per_copy(n) == MAX_FEE_PER_COPY) == (n >= 198)


@PROPERTY
@given(pages, copies, copies)
def test_the_fee_is_linear_in_copies_and_capped_per_copy_only(n: int, a: int, b: int) -> None:
    assert certification_fee(n, a) == a * fee_per_copy(n)
    assert certification_fee(n, a + b) == certification_fee(n, a) + certification_fee(n, b)


@PROPERTY
@given(pages, copies)
def test_a_waiver_makes_every_valid_request_free(n: int, c: int) -> None:
    assert certification_fee(n, c, waived=True) == 0


@PROPERTY
@given(
    st.integers(max_value=2_000),
    st.integers(max_value=2_000),
    st.booleans(),
)
def test_counts_below_one_are_refused_even_when_waived(n: int, c: int, waived: bool) -> None:
    if n >= 1 and c >= 1:
        assert certification_fee(n, c, waived=waived) >= 0
        return
    with pytest.raises(InvalidInputError):
        certification_fee(n, c, waived=waived)


# --- the register's year -------------------------------------------------------------------------


@PROPERTY
@given(instants)
def test_the_register_date_is_the_date_at_utc_plus_seven(at: dt.datetime) -> None:
    assert register_date(at) == (at.astimezone(dt.UTC) + SEVEN_HOURS).date()


@PROPERTY
@given(instants, st.timezones())
def test_the_register_date_depends_on_the_instant_not_its_time_zone(
    at: dt.datetime, zone: dt.tzinfo
) -> None:
    assert register_date(at.astimezone(zone)) == register_date(at)


@PROPERTY
@given(instants, instants)
def test_later_instants_never_have_an_earlier_register_date(a: dt.datetime, b: dt.datetime) -> None:
    first, last = sorted((a, b))
    assert register_date(first) <= register_date(last)


@PROPERTY
@given(years, st.integers(min_value=-86_400, max_value=86_399))
def test_the_numbering_year_turns_at_midnight_in_vietnam_not_in_utc(
    year: int, seconds: int
) -> None:
    new_year = dt.datetime(year + 1, 1, 1, tzinfo=VN)  # 17:00 UTC on 31 December
    at = (new_year + dt.timedelta(seconds=seconds)).astimezone(dt.UTC)
    assert register_date(at).year == (year if seconds < 0 else year + 1)
    if 0 <= seconds < SEVEN_HOURS.total_seconds():
        # already the new year's in the register, still the old year in UTC
        assert at.year == year


@pytest.mark.parametrize(
    ("at", "year"),
    [
        (dt.datetime(2025, 12, 31, 23, 59, tzinfo=VN), 2025),
        (dt.datetime(2026, 1, 1, 0, 0, tzinfo=VN), 2026),
        (dt.datetime(2025, 12, 31, 16, 59, 59, tzinfo=dt.UTC), 2025),
        (dt.datetime(2025, 12, 31, 17, 0, tzinfo=dt.UTC), 2026),
    ],
)
def test_the_new_year_in_vietnam(at: dt.datetime, year: int) -> None:
    assert register_date(at).year == year


def entry_issued(at: dt.datetime, cancelled_at: dt.datetime | None) -> DocumentEntry:
    return DocumentEntry(
        id="d1",
        authority_code="79-tanphu",
        request_code="HS-1",
        register_type="SCT/BS",
        year=register_date(at).year,
        number=1,
        book="01/2026",
        document_name="Giấy khai sinh",
        pages=1,
        copies=1,
        fee=2_000,
        page_hashes=("0" * 64,),
        copy_key="k",
        copy_sha256="0" * 64,
        copy_size=1,
        copy_version_id=None,
        verification_token="t",
        certifier_username="nguyenvanan",
        issued_at=at,
        status="issued" if cancelled_at is None else "cancelled",
        cancelled_at=cancelled_at,
    )


@PROPERTY
@given(instants, st.none() | instants)
def test_a_printed_line_carries_the_register_dates_of_its_entry(
    at: dt.datetime, cancelled_at: dt.datetime | None
) -> None:
    r = RegisterRow.from_entry(
        entry_issued(at, cancelled_at),
        requester_name="Lê Văn Cường",
        certifier_name="Nguyễn Văn An",
        certifier_title="Phó Chủ tịch",
    )
    assert r.date == register_date(at)
    assert r.cancelled_on == (register_date(cancelled_at) if cancelled_at else None)


# --- the year's totals ---------------------------------------------------------------------------


@st.composite
def year_of_rows(draw: st.DrawFn) -> list[RegisterRow]:
    numbers = draw(st.sets(st.integers(min_value=1, max_value=300), max_size=60))
    rows = []
    for number in sorted(numbers):
        n_copies = draw(st.integers(min_value=1, max_value=20))
        rows.append(
            RegisterRow(
                number=number,
                date=draw(st.dates(dt.date(2026, 1, 1), dt.date(2026, 12, 31))),
                requester_name="Trần Đức Thắng",
                document_name="Căn cước công dân",
                certifier_name="Nguyễn Văn An",
                certifier_title="Phó Chủ tịch",
                copies=n_copies,
                fee=n_copies * fee_per_copy(draw(pages)),
                book="01/2026",
                register_type="SCT/BS",
                status=draw(st.sampled_from(["issued", "issued", "cancelled"])),
            )
        )
    return rows


@PROPERTY
@given(year_of_rows())
def test_the_year_is_the_sum_of_its_months_and_names_every_missing_number(
    rows: list[RegisterRow],
) -> None:
    totals = year_totals(rows)
    assert totals.total == month_totals(rows)
    assert len(totals.months) == 12
    for field in ("entries", "copies", "fees", "cancelled"):
        assert sum(getattr(m, field) for m in totals.months) == getattr(totals.total, field)
    in_force = [r for r in rows if not r.cancelled]
    assert totals.total.fees == sum(r.fee for r in in_force)
    assert totals.total.numbers_used == len(rows)
    numbers = {r.number for r in rows}
    assert totals.missing_numbers == tuple(
        sorted(set(range(1, max(numbers, default=0) + 1)) - numbers)
    )
