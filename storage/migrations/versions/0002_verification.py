"""Verification: each copy's validation result kept with its entry, copies found by hash.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

Public verification (issue 7) validates each copy once, when it is issued, and answers later
checks of the same bytes with a hash and a lookup: ``documents.validation`` holds the result
(JSON, ``certify.verdicts.Validation``), ``ix_documents_copy_sha256`` finds a copy by the
SHA-256 of uploaded bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("validation", sa.Text(), nullable=True))
        batch.create_index("ix_documents_copy_sha256", ["copy_sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_index("ix_documents_copy_sha256")
        batch.drop_column("validation")
