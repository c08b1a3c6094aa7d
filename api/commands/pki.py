"""``certify pki``: create and administer the provincial PKI (keys/).

Every handler uses the settings the CLI built once (``args.settings``): the PKI directory is
``resolved_pki_dir``, the passphrase ``CERTIFY_PKI_PASSPHRASE`` (or a generated local one,
api.secrets), the URLs in certificates start at ``resolved_public_base_url``. Passphrases are
never printed.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
from pathlib import Path

from api.settings import Settings
from certify.errors import InvalidInputError


def _passphrase(settings: Settings) -> bytes:
    configured = settings.pki_passphrase.get_secret_value()
    if configured:
        return configured.encode()
    from api.secrets import local_pki_passphrase

    return local_pki_passphrase(settings)


def _index_store(settings: Settings):  # type: ignore[no-untyped-def]
    """The PKI index in the register database (migrated first); the engine lives as long
    as the command."""
    from storage import database
    from storage.pki_index import SqlIndexStore

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database.upgrade(settings.resolved_database_url)
    return SqlIndexStore(database.make_engine(settings.resolved_database_url))


def _open(settings: Settings):  # type: ignore[no-untyped-def]
    from keys.ca import ProvincialPKI

    return ProvincialPKI.open(
        settings.resolved_pki_dir,
        passphrase=_passphrase(settings),
        base_url=settings.resolved_public_base_url,
        index_store=_index_store(settings),
    )


def _init(args: argparse.Namespace) -> int:
    from keys.ca import ProvincialPKI

    settings: Settings = args.settings
    settings.check_public_base_url()  # the URLs go into every certificate for good
    algorithm = args.algorithm or settings.signature_algorithm
    pki = ProvincialPKI.init(
        settings.resolved_pki_dir,
        province=args.province,
        passphrase=_passphrase(settings),
        base_url=settings.resolved_public_base_url,
        algorithm=algorithm,
        index_store=_index_store(settings),
    )
    print(f"certify: PKI for {pki.province} ({algorithm}) created in {settings.resolved_pki_dir}")
    for rec in pki.list():
        print(f"  {rec.kind:9} {rec.serial:x}  {rec.subject}")
    return 0


def _print_issued(issued) -> None:  # type: ignore[no-untyped-def]
    print(f"certify: issued {issued.kind} certificate {issued.serial:x} for {issued.holder}")
    print(f"  subject: {issued.certificate.subject.rfc4514_string()}")
    print(f"  valid until: {issued.certificate.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")


def _issue_authority(args: argparse.Namespace) -> int:
    pki = _open(args.settings)
    _print_issued(pki.issue_authority(args.code, args.name, province=args.province))
    return 0


def _issue_officer(args: argparse.Namespace) -> int:
    pki = _open(args.settings)
    _print_issued(pki.issue_officer(args.username, args.full_name, args.title, args.authority))
    return 0


def _revoke(args: argparse.Namespace) -> int:
    pki = _open(args.settings)
    try:
        serial = int(args.serial.strip().removeprefix("0x"), 16)
    except ValueError as exc:
        raise InvalidInputError(
            f"Số hiệu chứng thư phải là số thập lục phân: {args.serial!r}. / "
            f"The serial must be hexadecimal: {args.serial!r}."
        ) from exc
    rec = pki.revoke(serial, args.reason)
    print(f"certify: revoked {rec.serial:x} ({rec.revocation_reason}) at {rec.revoked_at}")
    return 0


def _list(args: argparse.Namespace) -> int:
    pki = _open(args.settings)
    records = pki.list()
    if args.json:
        rows = [
            {
                "serial": f"{r.serial:x}",
                "kind": r.kind,
                "holder": r.holder,
                "subject": r.subject,
                "issuer": r.issuer,
                "not_before": r.not_before.isoformat(),
                "not_after": r.not_after.isoformat(),
                "status": r.status,
                "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
                "revocation_reason": r.revocation_reason,
                "key": r.key_ref,
            }
            for r in records
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for r in records:
        print(
            f"{r.serial:x}  {r.kind:9} {r.status:13} {r.not_after:%Y-%m-%d}  {r.holder:12} "
            f"{r.subject}"
        )
    return 0


def _import(args: argparse.Namespace) -> int:
    from keys import imports

    settings: Settings = args.settings
    pki = _open(settings)
    common = {
        "kind": args.kind,
        "holder": args.holder,
        "name": args.name,
        "authority_code": args.authority,
    }
    if args.pkcs12:
        secret = os.environ.get("CERTIFY_IMPORT_PASSWORD")
        if secret is None:
            secret = getpass.getpass("PKCS#12 password: ")
        issued = imports.import_pkcs12(
            pki, Path(args.pkcs12).read_bytes(), secret.encode() or None, **common
        )
    elif args.key:
        if not args.certs:
            raise SystemExit("certify: --key needs --certs")
        secret = os.environ.get("CERTIFY_IMPORT_PASSWORD", "")
        issued = imports.import_pem(
            pki,
            Path(args.key).read_bytes(),
            secret.encode() or None,
            Path(args.certs).read_bytes(),
            **common,
        )
    else:
        from keys.tokens import TokenConfig

        if not (args.pkcs11_key and args.certs and settings.pkcs11_module):
            raise SystemExit(
                "certify: give --pkcs12 FILE, or --key FILE --certs FILE, or "
                "--pkcs11-key LABEL --certs FILE (with CERTIFY_PKCS11_MODULE set)"
            )
        token = TokenConfig(
            module=settings.pkcs11_module,
            token_label=settings.pkcs11_token_label,
            user_pin=settings.pkcs11_user_pin.get_secret_value(),
        )
        issued = imports.import_pkcs11(
            pki, token, args.pkcs11_key, Path(args.certs).read_bytes(), **common
        )
    _print_issued(issued)
    return 0


def _renew(args: argparse.Namespace) -> int:
    """Renew the TSA, the OCSP responders or the issuing CA; the old certificates stay on
    file for validation (keys.rollover)."""
    pki = _open(args.settings)
    for made in pki.renew(args.what):
        cert = made.certificate
        print(f"certify: renewed {made.kind} ({made.holder}): certificate {made.serial:x}")
        print(f"  subject: {cert.subject.rfc4514_string()}")
        print(f"  issuer: {cert.issuer.rfc4514_string()}")
        print(
            f"  valid: {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC to "
            f"{cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC"
        )
    return 0


def _check(args: argparse.Namespace) -> int:
    pki = _open(args.settings)
    orphans = pki.orphans()
    for path in orphans:
        print(f"  not in the index: {path}")
    if orphans:
        print(f"certify: {len(orphans)} PKI files without an index entry")
        return 1
    print(f"certify: PKI consistent ({len(pki.list())} certificates)")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``pki`` and its sub-commands to the ``certify`` command line."""
    pki = subparsers.add_parser("pki", help="provincial PKI: CA, certificates, revocation")
    sub = pki.add_subparsers(dest="pki_command", required=True)

    p = sub.add_parser("init", help="create the root CA, issuing CA, OCSP responder and TSA")
    p.add_argument("--province", required=True, help='e.g. "Thành phố Hồ Chí Minh"')
    p.add_argument("--algorithm", choices=["rsa-pss", "ecdsa-p256"], default=None)
    p.set_defaults(handler=_init)

    p = sub.add_parser("issue-authority", help="issue an authority's seal certificate")
    p.add_argument("--code", required=True)
    p.add_argument("--name", required=True, help='e.g. "UBND phường Tân Phú"')
    p.add_argument("--province", default=None)
    p.set_defaults(handler=_issue_authority)

    p = sub.add_parser("issue-officer", help="issue an officer's personal certificate")
    p.add_argument("--username", required=True)
    p.add_argument("--full-name", required=True)
    p.add_argument("--title", required=True)
    p.add_argument("--authority", required=True, help="authority code")
    p.set_defaults(handler=_issue_officer)

    p = sub.add_parser("revoke", help="revoke a certificate (RFC 5280 reason)")
    p.add_argument("--serial", required=True, help="serial number, hexadecimal")
    p.add_argument(
        "--reason",
        required=True,
        help="keyCompromise, affiliationChanged, superseded, cessationOfOperation, ...",
    )
    p.set_defaults(handler=_revoke)

    p = sub.add_parser(
        "renew",
        help="renew the TSA, the OCSP responders or the issuing CA (old ones kept for validation)",
    )
    # Checked by keys.rollover, whose refusal carries a stable code (unknown_renewal).
    p.add_argument("what", metavar="{tsa,ocsp,issuing}", help="what to renew")
    p.set_defaults(handler=_renew)

    p = sub.add_parser("check", help="find certificate or key files the index does not know")
    p.set_defaults(handler=_check)

    p = sub.add_parser("list", help="list certificates")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_list)

    p = sub.add_parser(
        "import",
        help="import a certificate issued by another CA (password: CERTIFY_IMPORT_PASSWORD)",
    )
    p.add_argument("--kind", choices=["authority", "officer"], required=True)
    p.add_argument("--holder", required=True, help="authority code or officer username")
    p.add_argument("--name", default=None)
    p.add_argument("--authority", default=None, help="authority code (officers)")
    p.add_argument("--pkcs12", default=None, help="PKCS#12 file")
    p.add_argument("--key", default=None, help="PEM private key file")
    p.add_argument("--certs", default=None, help="PEM certificate(s): signer and chain")
    p.add_argument("--pkcs11-key", default=None, help="key label on CERTIFY_PKCS11_TOKEN_LABEL")
    p.set_defaults(handler=_import)
