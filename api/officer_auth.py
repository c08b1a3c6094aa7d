"""An officer proves who they are: password (argon2) and, once enrolled, a TOTP code
(RFC 6238). Used by the CLI (``certify issue``, ``certify officer``), the API's login and
the desk's page login (password only: see ``second_factor``).

Every failure gives the same answer (no such officer, inactive, no password, wrong password
or code), and a missing officer takes as long as a wrong password.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
from collections.abc import Callable

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from certify.errors import NotFoundError, PermissionDeniedError
from storage.officers import OfficerLogin
from storage.sql_register import SqlRegister

# A hash of a random password: verified against when there is nothing to verify, so that a
# missing officer takes as long as a wrong password.
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$"
    "0u6Ks0ZAq5xzKeXfhJEB9jSzZ+LPsOwvtVn6AojyQmA"
)
_HASHER = PasswordHasher()


def verify_credentials(
    register: SqlRegister,
    username: str,
    password: str,
    code: str | Callable[[], str] | None,
    *,
    refused: PermissionDeniedError,
    now: dt.datetime | None = None,
    second_factor: bool = True,
) -> OfficerLogin:
    """The officer's login if ``password`` (and, when a TOTP secret is enrolled, ``code``)
    are right; otherwise ``refused`` is raised, whatever was wrong. ``code`` may be a
    function: it is asked only once the password is right and a second factor is enrolled
    (a prompt must not tell a stranger who has one). ``now`` is the time the code is checked
    at (the service's clock; the wall clock when None).

    With ``second_factor=False`` the TOTP code is not asked for nor checked, enrolled or not:
    the desk's page login, where the second factor is asked only when a certifier signs
    (issue 11.1: a stolen session cookie cannot sign)."""
    try:
        login = register.get_officer_login(username)
    except NotFoundError:
        with contextlib.suppress(VerificationError, InvalidHashError):
            _HASHER.verify(_DUMMY_HASH, password)
        raise refused from None
    try:
        _HASHER.verify(login.password_hash or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        raise refused from None
    if not login.active or not login.password_hash:
        raise refused
    if second_factor and login.totp_secret:
        digits = (code() if callable(code) else code or "").strip()
        if not totp_accepted(register, username, login.totp_secret, digits, now):
            raise refused
    return login


def totp_accepted(
    register: SqlRegister, username: str, secret: str, code: str, now: dt.datetime | None
) -> bool:
    """Whether ``code`` is ``secret``'s TOTP code at ``now`` (RFC 6238, one 30-second step of
    clock drift either way) and was not accepted before; if so it is used up (§5.2: a code
    seen once, e.g. over a shoulder, cannot sign again)."""
    if not (code.isdigit() and len(code) == 6):
        return False
    totp = pyotp.TOTP(secret)
    at = now or dt.datetime.now(dt.UTC)
    current = totp.timecode(at)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return register.use_totp_step(username, step)
    return False
