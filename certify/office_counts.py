"""The office's own measure (issue 11.5): per authority and period, requests received,
originals certified and refused, and requests finished on time or overdue — the seed's
"no overdue dossiers".

A request is finished when every original is certified or refused; it finished on time
when its last original was finished by its deadline (the extended time, if extended). An
open request past its deadline counts as overdue already; one not yet due counts in
neither.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from certify.deadlines import is_overdue
from certify.ports import ItemRecord, RequestRecord


@dataclass(frozen=True)
class OfficeCounts:
    """The counts of one authority over one period (requests received in it)."""

    received: int = 0
    originals: int = 0
    certified: int = 0
    refused: int = 0
    on_time: int = 0
    overdue: int = 0
    open: int = 0


def office_counts(
    requests: Iterable[tuple[RequestRecord, list[ItemRecord]]], *, now: dt.datetime
) -> OfficeCounts:
    """Count ``requests`` (each with its originals) as they stand at ``now``."""
    received = originals = certified = refused = on_time = overdue = still_open = 0
    for request, items in requests:
        received += 1
        originals += len(items)
        certified += sum(1 for i in items if i.status == "certified")
        refused += sum(1 for i in items if i.status == "refused")
        deadline = request.deadline
        finished = bool(items) and all(i.closed_at is not None for i in items)
        if not items:  # made outside the desk (certify issue): judged by its status
            finished = request.status in ("certified", "refused")
        if not finished:
            still_open += 1
            if deadline is not None and is_overdue(deadline, now):
                overdue += 1
            continue
        closed = max((i.closed_at for i in items if i.closed_at), default=None)
        if deadline is None or closed is None or not is_overdue(deadline, closed):
            on_time += 1
        else:
            overdue += 1
    return OfficeCounts(received, originals, certified, refused, on_time, overdue, still_open)
