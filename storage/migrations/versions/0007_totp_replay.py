"""A TOTP code is accepted once: the last accepted time step of each officer.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

RFC 6238 §5.2: the verifier must not accept the second attempt of an OTP after a successful
validation. ``officers.totp_last_step`` keeps the step of the last accepted code; a code of
that step or an earlier one is refused (storage.officers.use_totp_step).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("officers") as batch:
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("officers") as batch:
        batch.drop_column("totp_last_step")
