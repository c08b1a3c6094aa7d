"""``certify verify`` and ``certify cancel``: public verification from the command line
(offline, against the configured register and trust roots) and the cancellation of a
certification (TT 01/2020 art. 7: published to every verifier)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from api.commands.copies import open_services
from certify.errors import InvalidInputError, NotFoundError
from certify.ports import AuditRecord, DocumentEntry
from certify.verdicts import Verification
from storage.sql_register import SqlRegister


def _verify(args: argparse.Namespace) -> int:
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"Không đọc được tệp / Cannot read the file: {args.file}") from exc
    with open_services(args.settings) as services:
        verification = services.local_verifier().by_upload(data)
    if args.json:
        print(json.dumps(verification.to_json(), ensure_ascii=False, indent=2))
    else:
        _print(verification)
    return 0 if verification.verdict == "genuine" else 1


def _print(v: Verification) -> None:
    vi, en = v.headline
    print(f"{v.verdict.upper()}: {vi}")
    print(f"  {en}")
    for reason in v.reasons:
        print(f"  - {reason.vi} / {reason.en}")
    if v.entry is not None:
        e = v.entry
        print(f"  {e.authority_name} — {e.document_name}")
        print(f"  số chứng thực {e.number} quyển số {e.book}-{e.register_type}, {e.issued_on}")
        if e.status == "cancelled":
            print(f"  đã huỷ / cancelled {e.cancelled_on}: {e.cancelled_reason}")
    if v.validation is not None:
        if v.validation.pades_level:
            print(f"  {v.validation.pades_level}")
        for s in v.validation.signatures:
            when = s.signing_time.isoformat() if s.signing_time else "?"
            print(f"  [{s.role}] {s.signer} — {s.indication} {s.sub_indication or ''} ({when})")
    print(f"  sha256 {v.sha256}", file=sys.stdout)


def _find(register: SqlRegister, args: argparse.Namespace) -> DocumentEntry:
    if args.token:
        entry = register.find_document_by_token(args.token)
        if entry is None:
            raise NotFoundError("Không có bản sao mang mã này. / No copy has this code.")
        return entry
    if not (args.authority and args.year and args.number):
        raise InvalidInputError(
            "Cần --token, hoặc --authority, --year và --number. / "
            "Give --token, or --authority, --year and --number."
        )
    for entry in register.list_documents(args.authority, year=args.year):
        if entry.number == args.number:
            return entry
    raise NotFoundError("Không tìm thấy số chứng thực này. / No such register number.")


def _cancel(args: argparse.Namespace) -> int:
    with open_services(args.settings) as services:
        register = services.register
        entry = _find(register, args)
        now = services.clock.now()
        cancelled = register.cancel_document(
            entry.id,
            args.reason,
            now,
            audit=AuditRecord(
                actor=args.actor,
                action="copy.cancelled",
                subject=entry.id,
                at=now,
                details={"authority": entry.authority_code, "number": str(entry.number)},
            ),
        )
    day = (cancelled.cancelled_at or now).astimezone(dt.UTC).date()
    print(
        f"certify: số chứng thực {cancelled.number} quyển số {cancelled.book} đã huỷ "
        f"({day}); every verification now answers 'cancelled'"
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    verify = subparsers.add_parser(
        "verify",
        help="verify a PDF against the register and trust roots (exit 0 only if genuine)",
    )
    verify.add_argument("file", help="the PDF to check")
    verify.add_argument("--json", action="store_true", help="print the verdict as JSON")
    verify.set_defaults(handler=_verify)

    cancel = subparsers.add_parser(
        "cancel", help="cancel a certification (TT 01/2020 art. 7); verifiers then see it"
    )
    cancel.add_argument(
        "--token", help="the copy's verification code (write --token=CODE: a code may begin with -)"
    )
    cancel.add_argument("--authority", help="authority code (with --year and --number)")
    cancel.add_argument("--year", type=int)
    cancel.add_argument("--number", type=int)
    cancel.add_argument("--reason", required=True, help="why it is cancelled (published)")
    cancel.add_argument("--actor", default="cli", help="who cancels (for the audit record)")
    cancel.set_defaults(handler=_cancel)


__all__ = ["register"]
