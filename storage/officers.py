"""Provinces, authorities and officers in the register database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from certify.errors import InvalidInputError, NotFoundError
from certify.ports import AuthorityRecord, OfficerRecord
from storage.database import ROLES, Authority, Officer, OfficerRole, Province
from storage.sql_base import SqlBase, aware


@dataclass(frozen=True)
class OfficerLogin:
    """What authentication needs: the officer, the password hash (if any), active or not."""

    officer: OfficerRecord
    password_hash: str | None
    active: bool
    totp_secret: str | None = None


def authority_record(authority: Authority, province: Province) -> AuthorityRecord:
    return AuthorityRecord(
        code=authority.code,
        name=authority.name,
        province_code=province.code,
        province_name=province.name,
        fee_waived=authority.fee_waived,
    )


def officer_record(officer: Officer) -> OfficerRecord:
    return OfficerRecord(
        username=officer.username,
        full_name=officer.full_name,
        title=officer.title,
        role=officer.role,
        authority_code=officer.authority_code,
    )


class Officers(SqlBase):
    """Seeding and administering provinces, authorities and officers."""

    def add_province(self, code: str, name: str) -> None:
        """Add a province. Raises ``RegisterConflictError`` if the code exists."""
        with self._session(write=True) as session:
            session.add(Province(code=code, name=name))

    def add_authority(
        self, record: AuthorityRecord, *, created_at: dt.datetime | None = None
    ) -> AuthorityRecord:
        """Add an authority; its province is created from the record if it is new.

        Raises ``RegisterConflictError`` if the authority code exists.
        """
        created = aware(created_at, "created_at") if created_at else dt.datetime.now(dt.UTC)
        with self._session(write=True) as session:
            province = session.get(Province, record.province_code)
            if province is None:
                province = Province(code=record.province_code, name=record.province_name)
                session.add(province)
                # No ORM relationship orders the inserts: write the province first.
                session.flush()
            authority = Authority(
                code=record.code,
                name=record.name,
                province_code=record.province_code,
                fee_waived=record.fee_waived,
                created_at=created,
            )
            session.add(authority)
            session.flush()
            return authority_record(authority, province)

    def add_officer(
        self, record: OfficerRecord, *, password_hash: str | None = None, active: bool = True
    ) -> OfficerRecord:
        """Add an officer. Raises ``InvalidInputError`` (unknown role), ``NotFoundError``
        (unknown authority), ``RegisterConflictError`` (username taken)."""
        if record.role not in ROLES:
            raise InvalidInputError(f"Vai trò không hợp lệ. / Unknown role {record.role!r}.")
        with self._session(write=True) as session:
            if session.get(Authority, record.authority_code) is None:
                raise NotFoundError("Không có cơ quan này. / No such authority.")
            officer = Officer(
                username=record.username,
                full_name=record.full_name,
                title=record.title,
                role=record.role,
                authority_code=record.authority_code,
                password_hash=password_hash,
                active=active,
            )
            session.add(officer)
            session.flush()
            session.add(OfficerRole(officer_id=officer.id, role=record.role))
            session.flush()
            return officer_record(officer)

    def roles_of(self, username: str) -> frozenset[str]:
        """Every role ``username`` holds in their authority. Raises ``NotFoundError``."""
        with self._session(write=False) as session:
            officer_id = self._officer_id(session, username)
            rows = session.execute(
                select(OfficerRole.role).where(OfficerRole.officer_id == officer_id)
            ).scalars()
            return frozenset(rows)

    def grant_role(self, username: str, role: str) -> None:
        """Give ``username`` the ``role`` too (no-op if held). Raises ``InvalidInputError``
        (unknown role), ``NotFoundError``."""
        if role not in ROLES:
            raise InvalidInputError(f"Vai trò không hợp lệ. / Unknown role {role!r}.")
        with self._session(write=True) as session:
            officer_id = self._officer_id(session, username)
            if session.get(OfficerRole, (officer_id, role)) is None:
                session.add(OfficerRole(officer_id=officer_id, role=role))

    def withdraw_role(self, username: str, role: str) -> None:
        """Take ``role`` from ``username`` (no-op if not held). Raises ``NotFoundError``."""
        with self._session(write=True) as session:
            held = session.get(OfficerRole, (self._officer_id(session, username), role))
            if held is not None:
                session.delete(held)

    @staticmethod
    def _officer_id(session: Session, username: str) -> int:
        officer_id = session.execute(
            select(Officer.id).where(Officer.username == username)
        ).scalar_one_or_none()
        if officer_id is None:
            raise NotFoundError("Không tìm thấy cán bộ. / No such officer.")
        return officer_id

    def set_officer_password(self, username: str, password_hash: str | None) -> None:
        """Set (or clear) an officer's password hash. Raises ``NotFoundError``."""
        with self._session(write=True) as session:
            result = session.execute(
                update(Officer)
                .where(Officer.username == username)
                .values(password_hash=password_hash)
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise NotFoundError("Không tìm thấy cán bộ. / No such officer.")

    def set_officer_totp(self, username: str, secret: str | None) -> None:
        """Enrol (or, with None, remove) the officer's TOTP secret. Raises NotFoundError."""
        with self._session(write=True) as session:
            officer = session.execute(
                select(Officer).where(Officer.username == username)
            ).scalar_one_or_none()
            if officer is None:
                raise NotFoundError("Không tìm thấy cán bộ. / No such officer.")
            officer.totp_secret = secret

    def use_totp_step(self, username: str, step: int) -> bool:
        """Record that a TOTP code of time step ``step`` was accepted for ``username``;
        False (nothing recorded) when a code of this step or a later one was accepted
        before: the code is being replayed (RFC 6238 §5.2). Atomic: of two requests with
        the same code, one wins."""
        with self._session(write=True) as session:
            result = session.execute(
                update(Officer)
                .where(
                    Officer.username == username,
                    (Officer.totp_last_step.is_(None)) | (Officer.totp_last_step < step),
                )
                .values(totp_last_step=step)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def set_officer_active(self, username: str, active: bool) -> None:
        """Activate or deactivate an officer. Raises ``NotFoundError``."""
        with self._session(write=True) as session:
            result = session.execute(
                update(Officer).where(Officer.username == username).values(active=active)
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise NotFoundError("Không tìm thấy cán bộ. / No such officer.")

    def get_authority(self, code: str) -> AuthorityRecord:
        """The authority ``code``. Raises ``NotFoundError``."""
        with self._session(write=False) as session:
            row = session.execute(
                select(Authority, Province)
                .join(Province, Authority.province_code == Province.code)
                .where(Authority.code == code)
            ).one_or_none()
            if row is None:
                raise NotFoundError("Không có cơ quan này. / No such authority.")
            return authority_record(*row)

    def get_officer(self, username: str) -> OfficerRecord:
        """The officer ``username`` (active or not). Raises ``NotFoundError``."""
        return self.get_officer_login(username).officer

    def get_officer_login(self, username: str) -> OfficerLogin:
        """The officer with password hash and active flag. Raises ``NotFoundError``."""
        with self._session(write=False) as session:
            officer = session.execute(
                select(Officer).where(Officer.username == username)
            ).scalar_one_or_none()
            if officer is None:
                raise NotFoundError("Không tìm thấy cán bộ. / No such officer.")
            return OfficerLogin(
                officer_record(officer), officer.password_hash, officer.active, officer.totp_secret
            )
