"""Bearer tokens officers create for the API (issue 11.1). Only a token's SHA-256 is stored;
the token itself (``ctk_`` and 43 URL-safe characters, 256 random bits) is shown once."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select

from certify.errors import InvalidInputError, NotFoundError
from storage.database import ApiToken, Officer
from storage.sql_base import SqlBase, aware

TOKEN_PREFIX = "ctk_"  # noqa: S105 - a prefix that marks our tokens, not a secret
MAX_LIFETIME = dt.timedelta(days=90)


@dataclass(frozen=True)
class ApiTokenRecord:
    """A token as the register knows it (never the token itself)."""

    id: str
    username: str
    authority_code: str
    name: str
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    officer_active: bool

    def usable(self, now: dt.datetime) -> bool:
        return self.officer_active and self.revoked_at is None and now < self.expires_at


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _record(token: ApiToken, officer: Officer) -> ApiTokenRecord:
    return ApiTokenRecord(
        id=token.id,
        username=officer.username,
        authority_code=officer.authority_code,
        name=token.name,
        created_at=token.created_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
        officer_active=officer.active,
    )


class ApiTokens(SqlBase):
    """Creating, finding and revoking officers' API tokens."""

    def create_api_token(
        self, username: str, *, name: str, now: dt.datetime, lifetime: dt.timedelta
    ) -> tuple[ApiTokenRecord, str]:
        """A new token for ``username``: its record and the token (shown once).

        Raises ``InvalidInputError`` (empty name, lifetime outside 1 hour–90 days, naive
        time), ``NotFoundError`` (no such officer).
        """
        aware(now, "now")
        if not name.strip() or len(name) > 100:
            raise InvalidInputError(
                "Tên của mã truy cập phải có từ 1 đến 100 ký tự. / A token's name has 1 to "
                "100 characters.",
                code="token_name_invalid",
            )
        if not dt.timedelta(hours=1) <= lifetime <= MAX_LIFETIME:
            raise InvalidInputError(
                "Thời hạn của mã truy cập từ 1 giờ đến 90 ngày. / A token lasts from 1 hour "
                "to 90 days.",
                code="token_lifetime_invalid",
            )
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._session(write=True) as session:
            officer = session.execute(
                select(Officer).where(Officer.username == username)
            ).scalar_one_or_none()
            if officer is None:
                raise NotFoundError("Không tìm thấy cán bộ. / No such officer.")
            row = ApiToken(
                id=str(uuid.uuid4()),
                officer_id=officer.id,
                name=name.strip(),
                token_sha256=token_digest(token),
                created_at=now,
                expires_at=now + lifetime,
                revoked_at=None,
            )
            session.add(row)
            session.flush()
            return _record(row, officer), token

    def find_api_token(self, token: str) -> ApiTokenRecord | None:
        """The record of ``token`` (usable or not), or None for a token never issued."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
            return None
        with self._session(write=False) as session:
            row = session.execute(
                select(ApiToken, Officer)
                .join(Officer, ApiToken.officer_id == Officer.id)
                .where(ApiToken.token_sha256 == token_digest(token))
            ).one_or_none()
            return None if row is None else _record(*row)

    def get_api_token(self, token_id: str) -> ApiTokenRecord:
        """The record of the token with id ``token_id``. Raises ``NotFoundError``."""
        with self._session(write=False) as session:
            row = session.execute(
                select(ApiToken, Officer)
                .join(Officer, ApiToken.officer_id == Officer.id)
                .where(ApiToken.id == token_id)
            ).one_or_none()
            if row is None:
                raise NotFoundError("Không tìm thấy mã truy cập. / No such token.")
            return _record(*row)

    def revoke_api_token(self, token_id: str, *, now: dt.datetime) -> ApiTokenRecord:
        """Revoke a token (idempotent: the first revocation time stays). Raises
        ``NotFoundError``."""
        aware(now, "now")
        with self._session(write=True) as session:
            row = session.execute(
                select(ApiToken, Officer)
                .join(Officer, ApiToken.officer_id == Officer.id)
                .where(ApiToken.id == token_id)
                .with_for_update()
            ).one_or_none()
            if row is None:
                raise NotFoundError("Không tìm thấy mã truy cập. / No such token.")
            token, officer = row
            if token.revoked_at is None:
                token.revoked_at = now
            session.flush()
            return _record(token, officer)
