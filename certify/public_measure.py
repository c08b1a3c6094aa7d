"""The public measure (issue 12): the seed's "hai không" — no coming back (the copy reaches
the citizen electronically), no cash (the fee is paid cashless) — and no overdue request,
per month, for everyone to see.

A request counts in the month (Vietnam time, :data:`certify.ports.VN_TZ`) in which it was
received (``received_at``); a booking not yet received counts nowhere. Per month:

- ``received`` — requests received;
- ``certified`` — requests with at least one original certified (one made outside the desk,
  without originals, when its status is ``certified``);
- ``refused`` — requests whose every original was refused (status ``refused``);
- ``delivered_electronically`` — certified requests whose copy the citizen downloaded from
  the link (``delivered_at`` set): the first "không", no coming back to the office;
- ``paid`` — requests with at least one payment; ``paid_cashless`` — paid requests all of
  whose payments are cashless (transfer, card; TT 226/2016): the second "không";
- ``on_time``, ``overdue``, ``open`` — exactly as :func:`certify.office_counts.office_counts`
  counts them at ``now`` (NĐ 23/2015 art. 7 and 21 time limits).

Public API: :class:`MonthMeasure` (with the shares ``delivered_share`` and
``cashless_share``), :func:`monthly_measure` and :func:`total` (the same dataclass with
``year`` and ``month`` 0: every field is a count, so the sum of months is a measure too).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, fields

from certify.citizen_ports import PaymentRecord
from certify.errors import InvalidInputError
from certify.office_counts import office_counts
from certify.ports import VN_TZ, ItemRecord, RequestRecord

__all__ = ["MonthMeasure", "monthly_measure", "total"]

Row = tuple[RequestRecord, list[ItemRecord], list[PaymentRecord]]


@dataclass(frozen=True)
class MonthMeasure:
    """The measure of the requests received in one month (the module's definitions).
    ``year`` and ``month`` are 0 in :func:`total`'s sum over months."""

    year: int
    month: int
    received: int = 0
    certified: int = 0
    refused: int = 0
    delivered_electronically: int = 0
    paid: int = 0
    paid_cashless: int = 0
    on_time: int = 0
    overdue: int = 0
    open: int = 0

    @property
    def delivered_share(self) -> float | None:
        """Certified requests delivered electronically, as a share of certified requests;
        None when none was certified."""
        return self.delivered_electronically / self.certified if self.certified else None

    @property
    def cashless_share(self) -> float | None:
        """Paid requests paid cashless only, as a share of paid requests; None when none
        was paid."""
        return self.paid_cashless / self.paid if self.paid else None


def _month(received_at: dt.datetime) -> tuple[int, int]:
    """The (year, month) of ``received_at`` in Vietnam. Raises InvalidInputError
    ``naive_datetime``."""
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        raise InvalidInputError(
            "Thời điểm tiếp nhận phải kèm múi giờ. / 'received_at' must be timezone-aware.",
            code="naive_datetime",
        )
    local = received_at.astimezone(VN_TZ)
    return local.year, local.month


def _is_certified(request: RequestRecord, items: list[ItemRecord]) -> bool:
    if not items:  # made outside the desk (certify issue): judged by its status
        return request.status == "certified"
    return any(item.status == "certified" for item in items)


def _measure(year: int, month: int, rows: list[Row], now: dt.datetime) -> MonthMeasure:
    certified = refused = delivered = paid = cashless = 0
    for request, items, payments in rows:
        if _is_certified(request, items):
            certified += 1
            delivered += request.delivered_at is not None
        refused += request.status == "refused"
        if payments:
            paid += 1
            cashless += all(payment.cashless for payment in payments)
    # The time limits, counted by the office's own measure and not again here.
    counts = office_counts(((request, items) for request, items, _ in rows), now=now)
    return MonthMeasure(
        year=year,
        month=month,
        received=len(rows),
        certified=certified,
        refused=refused,
        delivered_electronically=delivered,
        paid=paid,
        paid_cashless=cashless,
        on_time=counts.on_time,
        overdue=counts.overdue,
        open=counts.open,
    )


def monthly_measure(rows: Iterable[Row], *, now: dt.datetime) -> list[MonthMeasure]:
    """The measure of each month in which a request of ``rows`` (each with its originals
    and its payments) was received, as they stand at ``now``, oldest month first. Months
    without a request received are left out; requests not yet received are not counted.

    Raises:
        InvalidInputError: code ``naive_datetime`` when ``now``, a ``received_at`` or a
            deadline has no time zone.
    """
    by_month: defaultdict[tuple[int, int], list[Row]] = defaultdict(list)
    for request, items, payments in rows:
        if request.received_at is None:  # a booking not yet received at the office
            continue
        by_month[_month(request.received_at)].append((request, items, payments))
    return [_measure(y, m, by_month[(y, m)], now) for y, m in sorted(by_month)]


def total(measures: Iterable[MonthMeasure]) -> MonthMeasure:
    """The sum of ``measures`` (e.g. a year's months), with ``year`` and ``month`` 0; its
    shares are those of the sums, not an average of the months' shares."""
    sums = dict.fromkeys((f.name for f in fields(MonthMeasure)), 0)
    for measure in measures:
        for name in sums:
            sums[name] += getattr(measure, name)
    sums["year"] = sums["month"] = 0
    return MonthMeasure(**sums)
