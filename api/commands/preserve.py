"""``certify preserve``: renew the archive time-stamps of the stored copies that are due
(``certify.preservation``). The service also runs it every ``CERTIFY_PRESERVE_INTERVAL_HOURS``;
running both at once is safe (a lease in the register database keeps one run at a time)."""

from __future__ import annotations

import argparse
import json

from api.commands.copies import open_services
from api.preservation_wiring import preserver


def _preserve(args: argparse.Namespace) -> int:
    with open_services(args.settings) as services:
        report = preserver(services).run(limit=args.limit)
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    elif report.lease_held_elsewhere:
        print(
            "certify: một lượt lưu trữ khác đang chạy; không làm gì. / "
            "another preservation run holds the lease; nothing done."
        )
    else:
        print(
            f"certify: {report.inspected} inspected, {report.renewed} renewed, "
            f"{len(report.failed)} failed; {report.objects_read} objects read, "
            f"{report.objects_written} written, {report.seconds:.1f} s"
        )
        for document_id, code in report.failed:
            print(f"  {code}: {document_id}")
        if report.stopped:
            print(f"certify: stopped: {report.stopped}")
    return 0 if not report.failed and not report.stopped else 1


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "preserve",
        help="renew the archive time-stamps of the stored copies that are due "
        "(exit 0 when none failed)",
    )
    parser.add_argument(
        "--limit", type=int, default=None, help="renew at most this many copies in this run"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(handler=_preserve)


__all__ = ["register"]
