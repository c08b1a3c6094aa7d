"""``certify check``: the register against the ``copies`` bucket and the audit chain."""

from __future__ import annotations

import argparse
import json

from api.commands.copies import open_services
from certify.consistency import check


def _check(args: argparse.Namespace) -> int:
    with open_services(args.settings) as services:
        report = check(services.register, services.store)
    if args.json:
        print(
            json.dumps(
                {
                    "ok": report.ok,
                    "entries": report.entries,
                    "objects": report.objects,
                    "findings": [
                        {"kind": f.kind, "subject": f.subject, "detail": f.detail}
                        for f in report.findings
                    ],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        print(f"certify: {report.entries} register entries, {report.objects} stored copies")
        for finding in report.findings:
            print(f"  {finding.kind}: {finding.subject} — {finding.message}")
        print("certify: consistent" if report.ok else "certify: NOT CONSISTENT")
    return 0 if report.ok else 1


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "check",
        help="compare the register with the copies bucket and check the audit chain "
        "(exit 0 only when they agree)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(handler=_check)


__all__ = ["register"]
