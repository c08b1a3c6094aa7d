"""``certify audit verify``: check the register's hash-chained audit log (issue 11).

Every audit event is hashed over its predecessor's hash (``storage.audit_chain``): an edited,
inserted or deleted event breaks the chain at the first event it touches, and that event is
named by its id, time and action only (its subject and details may lead to a person). The
chain alone cannot show that its newest events were deleted: the head hash it prints is what
an operator publishes or countersigns from time to time, to be compared later.
"""

from __future__ import annotations

import argparse

from api.commands.copies import open_services
from certify.ports import VN_TZ


def _verify(args: argparse.Namespace) -> int:
    with open_services(args.settings) as services:
        register = services.register
        broken = register.first_broken_audit_event()
        if broken is None:
            # Read after the walk: an event appended meanwhile is counted and may be the
            # head without having been checked (the next run checks it).
            count = register.audit_event_count()
            head = register.audit_head()
            print(
                "certify: nhật ký kiểm toán nguyên vẹn / audit chain intact: "
                f"{count} events, head {head}"
            )
            return 0
        event = register.audit_event_summary(broken)
    if event is None:  # deleted since the walk found it
        where = f"event {broken}"
    else:
        at = event.at.astimezone(VN_TZ).isoformat(timespec="seconds")
        where = f"event {event.id} ({at}, {event.action})"
    print(f"certify: nhật ký kiểm toán bị phá vỡ / audit chain BROKEN at {where}")
    return 1


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    audit = subparsers.add_parser("audit", help="the register's hash-chained audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser(
        "verify",
        help="check every audit event's link and hash (exit 0 when intact, 1 naming the first "
        "broken event); prints the head hash to publish or countersign",
    )
    verify.set_defaults(handler=_verify)


__all__ = ["register"]
