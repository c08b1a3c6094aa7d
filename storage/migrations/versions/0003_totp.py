"""Officers' second factor: a TOTP secret (RFC 6238) enrolled by the officer.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

A certifier's signature needs the certifier (sole control of the signing key): once a TOTP
secret is enrolled, ``certify issue`` asks for a current code after the password.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("officers") as batch:
        batch.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("officers") as batch:
        batch.drop_column("totp_secret")
