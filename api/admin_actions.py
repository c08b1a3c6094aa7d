"""What an admin does for their authority (issue 11.1): add officers, grant and withdraw
roles, deactivate an officer, issue and revoke officers' certificates (the PKI commands of
the CLI, ``certify pki issue-officer`` and ``revoke``). The API (``api/routes/admin_api.py``)
and the desk pages (``api/routes/admin_pages.py``) both call :class:`OfficerAdmin`.

Rules, each checked here whatever the caller:

1. The acting officer holds ``admin`` (else ``PermissionDeniedError`` ``role_required``).
2. The officer or certificate acted on belongs to the admin's authority; another
   authority's is ``NotFoundError``, exactly as a missing one (certify.access).
3. An admin cannot withdraw their own admin role nor deactivate themselves, so that an
   authority always keeps an admin who can act.
4. A certificate is issued only to an active certifier (the personal certificate signs
   certified copies: NĐ 23/2015 art. 20, NĐ 45/2020 art. 10 cl. 3).

Every change is an event of the audit chain (actor: the admin; subject ``officer:<username>``
or ``certificate:<serial hex>``; details ``authority``). A refusal under rules 1-3 is recorded
too (``admin_refused``), so that cross-authority and wrong-role attempts leave a trace.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final

from argon2 import PasswordHasher

from api.services import Services
from certify.access import ROLES, Principal, require
from certify.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    RegisterConflictError,
)
from certify.ports import AuditRecord, OfficerRecord
from keys.ca import CertificateRecord, ProvincialPKI
from keys.errors import NoCertificateError, PkiNotInitialisedError
from storage.officer_list import OfficerList, OfficerListing

# The order roles are shown and checked in (the roles of certify.access.ROLES).
ROLE_ORDER: Final = ("clerk", "certifier", "admin", "auditor")

# RFC 5280 §5.3.1 reasons an admin gives for an officer's certificate (keys.crl.REASONS
# without the CA and attribute-authority compromises, which are not an officer's).
REVOCATION_REASONS: Final = (
    "keyCompromise",
    "affiliationChanged",
    "superseded",
    "cessationOfOperation",
    "privilegeWithdrawn",
    "unspecified",
)

# A username: lower-case letters, digits, dots, hyphens and underscores (e.g. "hong.nt").
USERNAME_PATTERN: Final = r"^[a-z0-9][a-z0-9._-]{1,63}$"
_USERNAME = re.compile(USERNAME_PATTERN)
_TEXT_MAX: Final = 200

# The initial password: 4 groups of 5 from 31 characters that cannot be misread (no 0/O,
# 1/l/I), about 99 bits. It is handed over in person and shown once.
_UNAMBIGUOUS: Final = "abcdefghjkmnpqrstuvwxyz23456789"
_GROUPS: Final = 4
_GROUP_LENGTH: Final = 5
_HASHER = PasswordHasher()


class OwnAdminRoleError(PermissionDeniedError):
    """An admin tried to withdraw their own admin role."""

    code = "own_admin_role"
    default_message = (
        "Không thể tự rút vai trò quản trị của mình; hãy nhờ một quản trị viên khác. / "
        "You cannot withdraw your own admin role; ask another admin."
    )


class OwnAccountError(PermissionDeniedError):
    """An admin tried to deactivate themselves."""

    code = "own_account"
    default_message = (
        "Không thể tự khoá tài khoản của mình; hãy nhờ một quản trị viên khác. / "
        "You cannot deactivate your own account; ask another admin."
    )


class UnknownRoleError(InvalidInputError):
    """A role that is none of clerk, certifier, admin, auditor."""

    code = "unknown_role"
    default_message = (
        "Vai trò không hợp lệ; chọn một trong: clerk, certifier, admin, auditor. / "
        "Unknown role; use one of: clerk, certifier, admin, auditor."
    )


class InvalidOfficerError(InvalidInputError):
    """A new officer's username, name or title is not acceptable."""

    code = "invalid_officer"


class UsernameTakenError(ConflictError):
    """The username of a new officer is in use already."""

    code = "username_taken"
    default_message = (
        "Tên đăng nhập này đã được dùng; hãy chọn tên khác. / "
        "This username is taken; choose another one."
    )


class NotACertifierError(ConflictError):
    """A certificate was asked for an officer who is not an active certifier."""

    code = "not_a_certifier"
    default_message = (
        "Chỉ cấp chứng thư số cho người thực hiện chứng thực đang làm việc. / "
        "Certificates are issued only to active certifiers."
    )


class InvalidRevocationReasonError(InvalidInputError):
    """A revocation reason outside :data:`REVOCATION_REASONS`."""

    code = "invalid_revocation_reason"
    default_message = (
        "Lý do thu hồi không hợp lệ. / Invalid revocation reason; use one of: "
        + ", ".join(REVOCATION_REASONS)
        + "."
    )


def _no_officer() -> NotFoundError:
    return NotFoundError("Không tìm thấy cán bộ. / No such officer.")


def _no_certificate() -> NotFoundError:
    return NotFoundError("Không tìm thấy chứng thư số của cán bộ. / No such officer certificate.")


@dataclass(frozen=True)
class CertificateView:
    """An officer's certificate as the admin sees it: its record in the PKI index (``status``
    valid, revoked, expired or not_yet_valid)."""

    record: CertificateRecord

    @property
    def serial(self) -> int:
        return self.record.serial

    @property
    def serial_hex(self) -> str:
        return f"{self.record.serial:x}"

    @property
    def status(self) -> str:
        return self.record.status


@dataclass(frozen=True)
class OfficerView:
    """An officer of the admin's authority, their roles (in :data:`ROLE_ORDER`) and their
    personal certificates (oldest first)."""

    username: str
    full_name: str
    title: str
    active: bool
    has_password: bool
    totp_enrolled: bool
    roles: tuple[str, ...]
    certificates: tuple[CertificateView, ...]

    @property
    def is_certifier(self) -> bool:
        return "certifier" in self.roles


@dataclass(frozen=True)
class NewOfficer:
    """An officer just added, and the initial password to hand over: shown this once, only
    its argon2 hash is kept."""

    officer: OfficerView
    initial_password: str


def new_password() -> str:
    """A random initial password, e.g. ``k7mqz-pa3rt-wx9hn-c4vbe``."""
    return "-".join(
        "".join(secrets.choice(_UNAMBIGUOUS) for _ in range(_GROUP_LENGTH)) for _ in range(_GROUPS)
    )


def parse_serial(value: str) -> int:
    """A certificate serial written in hexadecimal (as ``certify pki list`` shows it).

    Raises:
        InvalidInputError: code ``invalid_serial``.
    """
    text = value.strip().lower().removeprefix("0x")
    if not (1 <= len(text) <= 40 and all(c in "0123456789abcdef" for c in text)):
        raise InvalidInputError(
            "Số hiệu chứng thư phải là số thập lục phân. / The serial must be hexadecimal.",
            code="invalid_serial",
        )
    return int(text, 16)


def _text(value: str, what: tuple[str, str]) -> str:
    text = " ".join(value.split())
    if not text or len(text) > _TEXT_MAX or not text.isprintable():
        raise InvalidOfficerError(
            f"{what[0]} phải có từ 1 đến {_TEXT_MAX} ký tự. / "
            f"{what[1]} must be 1 to {_TEXT_MAX} characters."
        )
    return text


def _roles(roles: Iterable[str]) -> tuple[str, ...]:
    wanted = set(roles)
    if not wanted or not wanted <= ROLES:
        raise UnknownRoleError()
    return tuple(r for r in ROLE_ORDER if r in wanted)


class OfficerAdmin:
    """The admin's actions on the officers and officer certificates of their authority.

    Every method takes the acting officer ``who`` first and raises, besides what it lists:
    ``PermissionDeniedError`` (``role_required``: ``who`` is not an admin) and
    ``NotFoundError`` (the officer or certificate is absent or another authority's).
    """

    def __init__(self, services: Services) -> None:
        self._services = services

    # --- reading -------------------------------------------------------------------------

    def officers(self, who: Principal) -> list[OfficerView]:
        """The officers of ``who``'s authority with their roles and certificates."""
        with self._guard(who, "officers_listed", f"authority:{who.authority_code}"):
            require(who, role="admin")
            listings = self._listing().list_officers(who.authority_code)
            certificates = self._certificates({o.officer.username for o in listings})
            return [self._view(o, certificates) for o in listings]

    # --- officers ------------------------------------------------------------------------

    def add_officer(
        self, who: Principal, *, username: str, full_name: str, title: str, roles: Sequence[str]
    ) -> NewOfficer:
        """Add an officer to ``who``'s authority with ``roles`` and a new initial password.

        Raises:
            InvalidOfficerError: a username, name or title that is not acceptable.
            UnknownRoleError: no role, or one that does not exist.
            UsernameTakenError: the username is in use (at any authority).
        """
        subject = f"officer:{username}"
        with self._guard(who, "officer_added", subject):
            require(who, role="admin")
            username = username.strip()
            if not _USERNAME.fullmatch(username):
                raise InvalidOfficerError(
                    "Tên đăng nhập gồm 2-64 chữ thường không dấu, số, dấu chấm, gạch ngang. / "
                    "A username is 2-64 lower-case letters, digits, dots, hyphens, underscores."
                )
            full_name = _text(full_name, ("Họ tên", "The full name"))
            title = _text(title, ("Chức danh", "The title"))
            held = _roles(roles)
            register = self._services.register
            try:
                register.get_officer(username)
            except NotFoundError:
                pass
            else:
                raise UsernameTakenError()
            password = new_password()
            record = OfficerRecord(username, full_name, title, held[0], who.authority_code)
            try:
                register.add_officer(record, password_hash=_HASHER.hash(password))
            except RegisterConflictError as exc:  # taken between the check and the insert
                raise UsernameTakenError() from exc
            for role in held[1:]:
                register.grant_role(username, role)
            self._audit(
                who, "officer_added", f"officer:{username}", roles=",".join(held), title=title
            )
            return NewOfficer(self._officer(who, username), password)

    def grant_role(self, who: Principal, username: str, role: str) -> OfficerView:
        """Give ``role`` to the officer (nothing changes, nor is recorded, if held).

        Raises:
            UnknownRoleError: ``role`` does not exist.
        """
        with self._guard(who, "role_granted", f"officer:{username}"):
            require(who, role="admin")
            _roles([role])
            officer = self._officer(who, username)
            if role not in officer.roles:
                self._services.register.grant_role(username, role)
                self._audit(who, "role_granted", f"officer:{username}", role=role)
            return self._officer(who, username)

    def withdraw_role(self, who: Principal, username: str, role: str) -> OfficerView:
        """Take ``role`` from the officer (nothing changes, nor is recorded, if not held).

        Raises:
            UnknownRoleError: ``role`` does not exist.
            OwnAdminRoleError: an admin withdrawing their own admin role.
        """
        with self._guard(who, "role_withdrawn", f"officer:{username}"):
            require(who, role="admin")
            _roles([role])
            officer = self._officer(who, username)
            if role == "admin" and username == who.username:
                raise OwnAdminRoleError()
            if role in officer.roles:
                self._services.register.withdraw_role(username, role)
                self._audit(who, "role_withdrawn", f"officer:{username}", role=role)
            return self._officer(who, username)

    def deactivate(self, who: Principal, username: str) -> OfficerView:
        """The officer can no longer log in: their page sessions and API tokens stop working
        at their next use (api.sessions, api.routes.auth).

        Raises:
            OwnAccountError: an admin deactivating themselves.
        """
        with self._guard(who, "officer_deactivated", f"officer:{username}"):
            require(who, role="admin")
            officer = self._officer(who, username)
            if username == who.username:
                raise OwnAccountError()
            if officer.active:
                self._services.register.set_officer_active(username, False)
                self._audit(who, "officer_deactivated", f"officer:{username}")
            return self._officer(who, username)

    # --- certificates --------------------------------------------------------------------

    def issue_certificate(self, who: Principal, username: str) -> CertificateView:
        """Issue a personal certificate (key kept encrypted by the PKI) to a certifier.

        Raises:
            NotACertifierError: the officer is inactive or does not hold ``certifier``.
            PkiNotInitialisedError: no PKI yet.
            NoCertificateError: the authority has no seal certificate to take its name from.
        """
        with self._guard(who, "certificate_issued", f"officer:{username}"):
            require(who, role="admin")
            officer = self._officer(who, username)
            if not (officer.active and officer.is_certifier):
                raise NotACertifierError()
            issued = self._pki().issue_officer(
                officer.username, officer.full_name, officer.title, who.authority_code
            )
            self._audit(
                who,
                "certificate_issued",
                f"certificate:{issued.serial:x}",
                holder=username,
            )
            return CertificateView(self._pki().record(issued.serial))

    def revoke_certificate(self, who: Principal, serial: int, reason: str) -> CertificateView:
        """Revoke an officer's certificate for an RFC 5280 §5.3.1 ``reason`` (the CRL and
        OCSP answers change at once). Revoking a revoked certificate changes nothing.

        Raises:
            InvalidRevocationReasonError: ``reason`` is not one of :data:`REVOCATION_REASONS`.
            PkiNotInitialisedError: no PKI yet.
        """
        subject = f"certificate:{serial:x}"
        with self._guard(who, "certificate_revoked", subject):
            require(who, role="admin")
            pki = self._pki()
            try:
                record = pki.record(serial)
            except NoCertificateError:
                raise _no_certificate() from None
            if record.kind != "officer" or record.authority_code not in (
                None,
                who.authority_code,
            ):
                raise _no_certificate()
            try:
                self._officer(who, record.holder)
            except NotFoundError:
                raise _no_certificate() from None
            if reason not in REVOCATION_REASONS:
                raise InvalidRevocationReasonError()
            if record.status != "revoked":
                record = pki.revoke(serial, reason)
                self._audit(
                    who, "certificate_revoked", subject, holder=record.holder, reason=reason
                )
            return CertificateView(record)

    # --- helpers -------------------------------------------------------------------------

    def _listing(self) -> OfficerList:
        return self._services.register

    def _pki(self) -> ProvincialPKI:
        pki = self._services.pki()
        if pki is None:
            raise PkiNotInitialisedError()
        return pki

    def _certificates(self, holders: set[str]) -> dict[str, list[CertificateView]]:
        found: dict[str, list[CertificateView]] = {h: [] for h in holders}
        pki = self._services.pki()
        if pki is not None:
            for record in pki.list():
                if record.kind == "officer" and record.holder in found:
                    found[record.holder].append(CertificateView(record))
        return found

    @staticmethod
    def _view(
        listing: OfficerListing, certificates: dict[str, list[CertificateView]]
    ) -> OfficerView:
        o = listing.officer
        return OfficerView(
            username=o.username,
            full_name=o.full_name,
            title=o.title,
            active=listing.active,
            has_password=listing.has_password,
            totp_enrolled=listing.totp_enrolled,
            roles=tuple(r for r in ROLE_ORDER if r in listing.roles),
            certificates=tuple(certificates.get(o.username, ())),
        )

    def _officer(self, who: Principal, username: str) -> OfficerView:
        """The officer ``username`` of ``who``'s authority. Raises NotFoundError."""
        register = self._services.register
        try:
            login = register.get_officer_login(username)
            require(who, authority_code=login.officer.authority_code)
            roles = register.roles_of(username)
        except NotFoundError:
            raise _no_officer() from None
        listing = OfficerListing(
            officer=login.officer,
            roles=roles,
            active=login.active,
            has_password=login.password_hash is not None,
            totp_enrolled=login.totp_secret is not None,
        )
        return self._view(listing, self._certificates({username}))

    def _audit(self, who: Principal, action: str, subject: str, **details: str) -> None:
        services = self._services
        with services.register.transaction() as tx:
            tx.append_audit(
                AuditRecord(
                    at=services.clock.now(),
                    actor=who.username,
                    action=action,
                    subject=subject,
                    details={"authority": who.authority_code, **details},
                )
            )

    @contextmanager
    def _guard(self, who: Principal, action: str, subject: str) -> Iterator[None]:
        """Record a refusal of ``action`` (wrong role, another authority's or absent officer,
        an admin acting on their own account) before it reaches the caller."""
        try:
            yield
        except (PermissionDeniedError, NotFoundError) as exc:
            self._audit(who, "admin_refused", subject, attempted=action, reason=exc.code)
            raise
