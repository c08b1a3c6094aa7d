"""Officers' page sessions at the desk and the download links of issued copies (issue 11.1,
11.3). Only the SHA-256 of a session's or a link's secret is stored: the secret itself (43
URL-safe characters, 256 random bits) is given once, to go into a cookie or a URL.

A session ends after ``idle`` without a request, at its absolute limit (``expires_at``), at
logout, or as soon as its officer is deactivated; an ended session is kept (and reported as
expired) so that a late use of its cookie can be recorded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from certify.errors import InvalidInputError, NotFoundError
from storage.database import Authority, DeskSession, Document, DownloadLink, Officer, OfficerRole
from storage.sql_base import SqlBase, aware

# A secret longer than this was never issued (token_urlsafe(32) is 43 characters).
_MAX_SECRET = 100
_DIGEST = re.compile(r"[0-9a-f]{64}")
# The widest limits settings allow (CERTIFY_SESSION_MAX_HOURS, CERTIFY_DOWNLOAD_LINK_HOURS).
MAX_SESSION_LIFETIME = dt.timedelta(days=7)
MAX_LINK_LIFETIME = dt.timedelta(days=90)


def secret_digest(secret: str) -> str:
    """The id a secret is stored under: the hex SHA-256 of its UTF-8 bytes."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class DeskSessionRecord:
    """A page session as the register knows it (never its secret).

    ``expired_because`` says why it may no longer be used: ``"ended"`` (logged out),
    ``"inactive"`` (the officer was deactivated), ``"absolute"`` (past ``expires_at``) or
    ``"idle"`` (no request for longer than the idle limit); None while it is usable.
    """

    id: str
    username: str
    full_name: str
    authority_code: str
    authority_name: str
    roles: frozenset[str]
    officer_active: bool
    csrf_token: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    expires_at: dt.datetime
    ended_at: dt.datetime | None
    expired_because: str | None

    @property
    def expired(self) -> bool:
        return self.expired_because is not None


@dataclass(frozen=True)
class DownloadLinkRecord:
    """A download link as the register knows it (never its secret)."""

    id: str
    document_id: str
    created_by: str
    created_at: dt.datetime
    expires_at: dt.datetime

    def usable(self, now: dt.datetime) -> bool:
        return now < self.expires_at


def _why_expired(
    row: DeskSession, officer: Officer, now: dt.datetime, idle: dt.timedelta
) -> str | None:
    if row.ended_at is not None:
        return "ended"
    if not officer.active:
        return "inactive"
    if now >= row.expires_at:
        return "absolute"
    if now - row.last_seen_at > idle:
        return "idle"
    return None


def _link_record(row: DownloadLink) -> DownloadLinkRecord:
    return DownloadLinkRecord(
        id=row.id,
        document_id=row.document_id,
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


class DeskSessions(SqlBase):
    """Creating, finding and ending desk sessions; creating and finding download links."""

    def create_desk_session(
        self, username: str, *, now: dt.datetime, idle: dt.timedelta, absolute: dt.timedelta
    ) -> tuple[DeskSessionRecord, str]:
        """A new session for ``username``: its record and the cookie's secret (given once).
        It lasts at most ``absolute`` from ``now``, and ends after ``idle`` without use.

        Raises ``InvalidInputError`` (naive time; ``idle`` or ``absolute`` not positive,
        ``absolute`` over 7 days), ``NotFoundError`` (no such officer).
        """
        aware(now, "now")
        if not (dt.timedelta(0) < idle and dt.timedelta(0) < absolute <= MAX_SESSION_LIFETIME):
            raise InvalidInputError(
                "Thời hạn phiên làm việc không hợp lệ. / Invalid session lifetime.",
                code="session_lifetime_invalid",
            )
        secret = secrets.token_urlsafe(32)
        with self._session(write=True) as session:
            found = session.execute(
                select(Officer, Authority)
                .join(Authority, Officer.authority_code == Authority.code)
                .where(Officer.username == username)
            ).one_or_none()
            if found is None:
                raise NotFoundError("Không tìm thấy cán bộ. / No such officer.")
            officer, authority = found
            row = DeskSession(
                id=secret_digest(secret),
                officer_id=officer.id,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                last_seen_at=now,
                expires_at=now + absolute,
                ended_at=None,
            )
            session.add(row)
            session.flush()
            roles = self._roles(session, officer.id)
            return self._record(row, officer, authority, roles, now, idle), secret

    def find_desk_session(
        self, secret: str, *, now: dt.datetime, idle: dt.timedelta
    ) -> DeskSessionRecord | None:
        """The session whose cookie holds ``secret`` (usable or not), or None for a secret
        never issued. A usable session's ``last_seen_at`` becomes ``now``; an expired one is
        left as it was. Raises ``InvalidInputError`` (naive time)."""
        aware(now, "now")
        if not secret or len(secret) > _MAX_SECRET:
            return None
        with self._session(write=True) as session:
            found = session.execute(
                select(DeskSession, Officer, Authority)
                .join(Officer, DeskSession.officer_id == Officer.id)
                .join(Authority, Officer.authority_code == Authority.code)
                .where(DeskSession.id == secret_digest(secret))
            ).one_or_none()
            if found is None:
                return None
            row, officer, authority = found
            roles = self._roles(session, officer.id)
            if _why_expired(row, officer, now, idle) is None:
                row.last_seen_at = now
                session.flush()
            return self._record(row, officer, authority, roles, now, idle)

    def end_desk_session(self, secret_or_id: str, *, now: dt.datetime) -> None:
        """End the session whose cookie holds ``secret_or_id``, or whose id (the secret's
        SHA-256, as in ``DeskSessionRecord.id``) it is. Idempotent: the first end time stays,
        and an unknown session is no error. Raises ``InvalidInputError`` (naive time)."""
        aware(now, "now")
        if not secret_or_id or len(secret_or_id) > _MAX_SECRET:
            return
        ids = {secret_digest(secret_or_id)}
        if _DIGEST.fullmatch(secret_or_id):
            ids.add(secret_or_id)
        with self._session(write=True) as session:
            session.execute(
                update(DeskSession)
                .where(DeskSession.id.in_(ids), DeskSession.ended_at.is_(None))
                .values(ended_at=now)
            )

    def create_download_link(
        self, document_id: str, *, created_by: str, now: dt.datetime, lifetime: dt.timedelta
    ) -> tuple[DownloadLinkRecord, str]:
        """A new download link to the issued copy ``document_id``: its record and its secret
        (given once, to go into the URL).

        Raises ``InvalidInputError`` (naive time, lifetime not within 0–90 days),
        ``NotFoundError`` (no such register entry).
        """
        aware(now, "now")
        if not dt.timedelta(0) < lifetime <= MAX_LINK_LIFETIME:
            raise InvalidInputError(
                "Thời hạn của đường dẫn tải về tối đa 90 ngày. / A download link lasts at "
                "most 90 days.",
                code="link_lifetime_invalid",
            )
        secret = secrets.token_urlsafe(32)
        with self._session(write=True) as session:
            if session.get(Document, document_id) is None:
                raise NotFoundError("Không tìm thấy bản sao. / No such copy.")
            row = DownloadLink(
                id=secret_digest(secret),
                document_id=document_id,
                created_by=created_by,
                created_at=now,
                expires_at=now + lifetime,
            )
            session.add(row)
            session.flush()
            return _link_record(row), secret

    def find_download_link(self, secret: str) -> DownloadLinkRecord | None:
        """The link whose secret is ``secret`` (usable or not), or None for one never made."""
        if not secret or len(secret) > _MAX_SECRET:
            return None
        with self._session(write=False) as session:
            row = session.get(DownloadLink, secret_digest(secret))
            return None if row is None else _link_record(row)

    @staticmethod
    def _roles(session: Session, officer_id: int) -> frozenset[str]:
        rows = session.execute(
            select(OfficerRole.role).where(OfficerRole.officer_id == officer_id)
        ).scalars()
        return frozenset(rows)

    @staticmethod
    def _record(
        row: DeskSession,
        officer: Officer,
        authority: Authority,
        roles: frozenset[str],
        now: dt.datetime,
        idle: dt.timedelta,
    ) -> DeskSessionRecord:
        return DeskSessionRecord(
            id=row.id,
            username=officer.username,
            full_name=officer.full_name,
            authority_code=officer.authority_code,
            authority_name=authority.name,
            roles=roles,
            officer_active=officer.active,
            csrf_token=row.csrf_token,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            expires_at=row.expires_at,
            ended_at=row.ended_at,
            expired_because=_why_expired(row, officer, now, idle),
        )
