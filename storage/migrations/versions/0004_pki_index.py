"""The provincial PKI's certificate index in the register database (issue 8.1).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

One row holds the index (JSON, with every certificate), changed in a transaction under a row
lock, so every replica and every ``certify pki`` command share one source of truth.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pki_index",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pki_index")),
    )


def downgrade() -> None:
    op.drop_table("pki_index")
