"""``certify demo``, ``certify issue``, ``certify reconcile``: administrators' and demos' way to
issue certified copies, through the same CertificationService the HTTP API uses."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from api.commands.officers import authenticate_officer
from api.services import Services, build_services, open_pki
from api.settings import DEMO_MARKER, Settings
from certify.errors import (
    CertifyError,
    ConflictError,
    InvalidInputError,
)
from certify.intake import INTAKE_PREFIX, remove_stale_workdirs
from certify.issuance import IssueOrder
from certify.ports import AuthorityRecord, OfficerRecord
from storage import database
from storage.sql_register import SqlRegister

DEMO_PROVINCE = ("dn", "Đồng Nai")
DEMO_AUTHORITY = AuthorityRecord(
    code="dn-tanphu", name="UBND phường Tân Phú", province_code="dn", province_name="Đồng Nai"
)
DEMO_OFFICERS = (
    OfficerRecord("lan.tt", "Trần Thị Lan", "Công chức Tư pháp - Hộ tịch", "clerk", "dn-tanphu"),
    OfficerRecord(
        "hong.nt", "Nguyễn Thị Hồng", "Phó Chủ tịch UBND phường", "certifier", "dn-tanphu"
    ),
    OfficerRecord("an.pv", "Phạm Văn An", "Chủ tịch UBND phường", "admin", "dn-tanphu"),
)


@contextlib.contextmanager
def open_services(settings: Settings) -> Iterator[Services]:
    """The services of one command, on the CLI's settings; closed after."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database.upgrade(settings.resolved_database_url)
    services = build_services(settings)
    try:
        yield services
    finally:
        services.close()


def _demo(args: argparse.Namespace) -> int:
    from argon2 import PasswordHasher

    from keys.ca import ProvincialPKI
    from storage.pki_index import SqlIndexStore

    settings: Settings = args.settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # A demo: copies and certificates may carry this machine's loopback URL.
    (settings.data_dir / DEMO_MARKER).touch()
    database.upgrade(settings.resolved_database_url)
    engine = database.make_engine(settings.resolved_database_url)
    pki = open_pki(settings, engine)
    made: dict[str, Any] = {"province": DEMO_PROVINCE[1], "authority": DEMO_AUTHORITY.code}
    if pki is None:
        from api.secrets import local_pki_passphrase

        pki = ProvincialPKI.init(
            settings.resolved_pki_dir,
            province=DEMO_PROVINCE[1],
            passphrase=local_pki_passphrase(settings),
            base_url=settings.resolved_public_base_url,
            algorithm=settings.signature_algorithm,
            index_store=SqlIndexStore(engine),
        )
    holders = {(r.kind, r.holder) for r in pki.list() if r.status == "valid"}
    if ("authority", DEMO_AUTHORITY.code) not in holders:
        pki.issue_authority(DEMO_AUTHORITY.code, DEMO_AUTHORITY.name)
    for officer in DEMO_OFFICERS:
        if officer.role == "certifier" and ("officer", officer.username) not in holders:
            pki.issue_officer(
                officer.username, officer.full_name, officer.title, officer.authority_code
            )

    try:
        register = SqlRegister(engine)
        with contextlib.suppress(ConflictError):
            register.add_authority(DEMO_AUTHORITY)
        hasher = PasswordHasher()
        officers = []
        for officer in DEMO_OFFICERS:
            password = secrets.token_urlsafe(12)
            try:
                register.add_officer(officer, password_hash=hasher.hash(password))
            except ConflictError:
                password = "(unchanged)"  # noqa: S105 - a label, not a password
            officers.append(
                {
                    "username": officer.username,
                    "full_name": officer.full_name,
                    "title": officer.title,
                    "role": officer.role,
                    "password": password,
                }
            )
    finally:
        engine.dispose()
    made["officers"] = officers
    made["pki_dir"] = str(settings.resolved_pki_dir)
    made["database"] = settings.resolved_database_url.split("@")[-1]
    if args.json:
        print(json.dumps(made, ensure_ascii=False, indent=2))
    else:
        print(f"certify: demo province {made['province']}, authority {DEMO_AUTHORITY.name}")
        print(f"  authority code: {DEMO_AUTHORITY.code}  (PKI in {made['pki_dir']})")
        for o in officers:
            print(f"  {o['role']:9} {o['username']:8} {o['full_name']} — password {o['password']}")
    return 0


def _issue(args: argparse.Namespace) -> int:
    if args.copies < 1:
        raise InvalidInputError("--copies phải ≥ 1. / --copies must be at least 1.")
    args.settings.check_public_base_url()  # before any number is taken
    out = Path(args.out)
    # Checked before a number is taken: nothing is issued that cannot be written out.
    if not out.parent.is_dir() or not os.access(out.parent, os.W_OK) or out.is_dir():
        raise InvalidInputError(
            f"Không ghi được vào {out}: thư mục không tồn tại hoặc không ghi được. / "
            f"Cannot write {out}: its folder does not exist or is not writable."
        )
    with open_services(args.settings) as services:
        register = services.register
        authenticate_officer(register, args.certifier, password_fd=args.password_fd)
        request_code = args.request or "YC-" + secrets.token_hex(5).upper()
        made_request = not args.request
        if made_request:
            received_at = services.clock.now()
            register.add_request(
                request_code,
                authority_code=args.authority,
                requester_name=args.requester,
                requester_id_number=args.requester_id,
                received_at=received_at,
                due_at=services.due_at(received_at),
            )
        service = services.certification()
        files = []
        try:
            files = [Path(p).open("rb") for p in args.scan]  # noqa: SIM115 - closed below
            with tempfile.TemporaryDirectory(prefix=INTAKE_PREFIX) as work:
                issued, warnings = service.certify_scans(
                    IssueOrder(
                        authority_code=args.authority,
                        certifier_username=args.certifier,
                        request_code=request_code,
                        document_name=args.document_name,
                        copies=args.copies,
                    ),
                    files,
                    limits=services.scan_limits(),
                    workdir=Path(work),
                )
        except BaseException as exc:
            if made_request:  # refused: leave no empty request behind
                with contextlib.suppress(CertifyError):  # the refusal is what to report
                    register.remove_request_without_documents(request_code)
            if isinstance(exc, OSError):
                raise InvalidInputError(
                    f"Không đọc được tệp / Cannot read the file: {exc.filename}"
                ) from exc
            raise
        finally:
            for fh in files:
                fh.close()
        try:  # streamed from the store: the CLI holds no whole copy in memory either
            with issued.open() as source, out.open("wb") as target:
                shutil.copyfileobj(source, target, 1024 * 1024)
        except OSError as exc:
            raise CertifyError(
                f"Đã cấp số chứng thực {issued.entry.number} nhưng không ghi được {out}; bản "
                f"sao được lưu trong kho (mã {issued.entry.verification_token[:6]}…). / "
                f"Number {issued.entry.number} was issued but {out} could not be written; the "
                "copy is kept in storage.",
                code="output_not_written",
            ) from exc
    entry = issued.entry
    result = {
        "number": entry.number,
        "book": f"{entry.book}-{entry.register_type}",
        "request": request_code,
        "copies": entry.copies,
        "fee": entry.fee,
        "sha256": entry.copy_sha256,
        "object": entry.copy_key,
        "verify_url": issued.verify_url,
        "out": str(args.out),
        "warnings": warnings,
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(f"certify: số chứng thực {entry.number} quyển số {result['book']} → {args.out}")
        print(f"  sha256 {entry.copy_sha256}")
        print(f"  verify {issued.verify_url}")
        for warning in warnings:
            print(f"  warning: {warning}")
    return 0


def _register_print(args: argparse.Namespace) -> int:
    """The register's monthly print (or the year-end closing without --month), as a PDF."""
    from api.desk_views import register_print_pdf

    settings: Settings = args.settings
    database.upgrade(settings.resolved_database_url)
    engine = database.make_engine(settings.resolved_database_url)
    try:
        register = SqlRegister(engine)
        authority = register.get_authority(args.authority)
        rows = register.register_rows(
            authority.code, year=args.year, month=args.month, register_type=settings.register_type
        )
    finally:
        engine.dispose()
    pdf = register_print_pdf(settings, authority, rows, year=args.year, month=args.month)
    Path(args.out).write_bytes(pdf)
    print(f"certify: {len(rows)} register entries → {args.out}")
    return 0


def _reconcile(args: argparse.Namespace) -> int:
    with open_services(args.settings) as services:
        service = services.certification()
        report = service.reconcile()
        swept = service.sweep()
    removed = remove_stale_workdirs(Path(tempfile.gettempdir()), INTAKE_PREFIX)
    print(f"certify: {report.finished} copies moved into the copies bucket")
    for key, code in report.failed:
        print(f"  not finished: {key} ({code})")
    print(f"certify: {swept} objects of failed certifications removed from the scans bucket")
    print(f"certify: {removed} intake folders of interrupted runs removed")
    return 1 if report.failed else 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    demo = subparsers.add_parser(
        "demo", help="seed a province, its PKI, one authority, a clerk and a certifier"
    )
    demo.add_argument("--json", action="store_true", help="print what was made as JSON")
    demo.set_defaults(handler=_demo)

    issue = subparsers.add_parser(
        "issue",
        help="certify scans into a signed copy (asks for the certifier's password; uses the "
        "MinIO of CERTIFY_S3_ENDPOINT, or starts a local one under CERTIFY_DATA_DIR)",
    )
    issue.add_argument("--authority", required=True, help="authority code")
    issue.add_argument("--certifier", required=True, help="certifier's username")
    issue.add_argument("--document-name", required=True, help="name of the original")
    issue.add_argument("--scan", nargs="+", required=True, help="scan files, in page order")
    issue.add_argument("--copies", type=int, default=1, help="number of copies (one number)")
    issue.add_argument("--out", required=True, help="where to write the signed PDF")
    issue.add_argument("--request", help="existing request code (else one is created)")
    issue.add_argument("--requester", default="(tại quầy)", help="requester's full name")
    issue.add_argument("--requester-id", default="", help="requester's ID number")
    issue.add_argument("--json", action="store_true")
    issue.add_argument(
        "--password-fd",
        type=int,
        default=None,
        help="read the certifier's password (first line) and, once she enrolled one, her TOTP "
        "code (second line) from this file descriptor instead of asking for them",
    )
    issue.set_defaults(handler=_issue)

    book = subparsers.add_parser("register", help="the register (sổ chứng thực)")
    book_sub = book.add_subparsers(dest="register_command", required=True)
    printing = book_sub.add_parser(
        "print", help="monthly print (with --month) or year-end closing (without) as PDF"
    )
    printing.add_argument("--authority", required=True, help="authority code")
    printing.add_argument("--year", type=int, required=True)
    printing.add_argument("--month", type=int, help="1-12; omit for the year-end closing")
    printing.add_argument("--out", required=True, help="where to write the PDF")
    printing.set_defaults(handler=_register_print)

    reconcile = subparsers.add_parser(
        "reconcile",
        help="finish certifications whose copy was not yet moved to storage, and remove "
        "what failed ones left in the scans bucket",
    )
    reconcile.set_defaults(handler=_reconcile)


__all__ = ["register"]
