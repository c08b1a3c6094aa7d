"""An officer proves who they are at the command line: password (argon2) and, once enrolled,
a TOTP code (RFC 6238). ``certify officer totp-enroll`` enrols the second factor.

A certifier's signature needs the certifier (sole control of the signing key, issue 8.3):
``certify issue`` calls :func:`authenticate_officer` before her key is used.
"""

from __future__ import annotations

import argparse
import getpass
import os
from collections.abc import Iterator

import pyotp

from api.officer_auth import verify_credentials
from certify.errors import PermissionDeniedError
from storage.sql_register import SqlRegister

TOTP_ISSUER = "certify"


def _answers(username: str, password_fd: int | None) -> Iterator[str]:
    """The password, then the TOTP code: lines of ``password_fd``, or typed at prompts."""
    if password_fd is not None:
        with os.fdopen(os.dup(password_fd), encoding="utf-8") as source:
            for line in source:
                yield line.rstrip("\r\n")
        return
    yield getpass.getpass(f"Mật khẩu của / Password of {username}: ")
    yield getpass.getpass("Mã xác thực (TOTP) / Authentication code (TOTP): ")


def authenticate_officer(register: SqlRegister, username: str, *, password_fd: int | None) -> None:
    """Check the officer's password and, if enrolled, a current TOTP code.

    Raises:
        PermissionDeniedError: code ``certifier_auth_failed``, the same answer whatever was
            wrong (no such officer, inactive, no password, wrong password or code).
    """
    refused = PermissionDeniedError(
        "Sai tên, mật khẩu hoặc mã xác thực của người ký. / Wrong name, password or "
        "authentication code of the signer.",
        code="certifier_auth_failed",
    )
    answers = _answers(username, password_fd)
    password = next(answers, "")
    verify_credentials(register, username, password, lambda: next(answers, ""), refused=refused)


def _enroll(args: argparse.Namespace) -> int:
    from api.commands.copies import open_services

    with open_services(args.settings) as services:
        register = services.register
        login = register.get_officer_login(args.username)
        if login.totp_secret and not args.replace:
            raise PermissionDeniedError(
                "Đã đăng ký mã xác thực; dùng --replace để thay. / A TOTP secret is enrolled "
                "already; use --replace to change it.",
                code="totp_enrolled",
            )
        authenticate_officer(register, args.username, password_fd=args.password_fd)
        secret = pyotp.random_base32()
        register.set_officer_totp(args.username, secret)
    uri = pyotp.TOTP(secret).provisioning_uri(name=args.username, issuer_name=TOTP_ISSUER)
    print("certify: add this to the authenticator app (shown once):")
    print(f"  {uri}")
    print(f"  secret {secret}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    officer = subparsers.add_parser("officer", help="officers' own credentials")
    sub = officer.add_subparsers(dest="officer_command", required=True)
    enroll = sub.add_parser(
        "totp-enroll",
        help="enrol a TOTP second factor (RFC 6238); certify issue then asks for a code",
    )
    enroll.add_argument("--username", required=True)
    enroll.add_argument("--replace", action="store_true", help="replace an enrolled secret")
    enroll.add_argument(
        "--password-fd", type=int, default=None, help="read the password (and code) from here"
    )
    enroll.set_defaults(handler=_enroll)


__all__ = ["authenticate_officer", "register"]
