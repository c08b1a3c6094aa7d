"""The officers of one authority, for its admin (issue 11.1): who they are, which roles they
hold, whether they may log in.

:class:`OfficerList` is a part of the register (a mixin of ``storage.sql_register.SqlRegister``
like ``storage.officers.Officers``) and works on its own on the register's engine too.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select

from certify.ports import OfficerRecord
from storage.database import Officer, OfficerRole
from storage.officers import officer_record
from storage.sql_base import SqlBase


@dataclass(frozen=True)
class OfficerListing:
    """One officer as the admin sees them. Never the password hash nor the TOTP secret: only
    whether they are set."""

    officer: OfficerRecord
    roles: frozenset[str]
    active: bool
    has_password: bool
    totp_enrolled: bool


class OfficerList(SqlBase):
    """Listing an authority's officers."""

    def list_officers(self, authority_code: str) -> list[OfficerListing]:
        """Every officer of ``authority_code`` (active or not) with their roles, by username.
        An unknown authority has none. Raises ``DatabaseUnavailableError``."""
        with self._session(write=False) as session:
            officers = (
                session.execute(
                    select(Officer)
                    .where(Officer.authority_code == authority_code)
                    .order_by(Officer.username)
                )
                .scalars()
                .all()
            )
            held: defaultdict[int, set[str]] = defaultdict(set)
            rows = session.execute(
                select(OfficerRole.officer_id, OfficerRole.role)
                .join(Officer, Officer.id == OfficerRole.officer_id)
                .where(Officer.authority_code == authority_code)
            )
            for officer_id, role in rows:
                held[officer_id].add(role)
            return [
                OfficerListing(
                    officer=officer_record(o),
                    roles=frozenset(held[o.id]),
                    active=o.active,
                    has_password=o.password_hash is not None,
                    totp_enrolled=o.totp_secret is not None,
                )
                for o in officers
            ]
