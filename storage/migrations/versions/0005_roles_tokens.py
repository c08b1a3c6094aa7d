"""Officers hold several roles; officers create bearer tokens for the API.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

``officer_roles`` lists every role an officer holds in their authority (clerk, certifier,
admin, auditor; one person may hold several), seeded from ``officers.role``. ``api_tokens``
keeps the SHA-256 of each bearer token (the token is shown once), its expiry and revocation.
``documents.cancelled_at`` is indexed for the public list of cancellations.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "officer_roles",
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "role IN ('clerk', 'certifier', 'admin', 'auditor')",
            name=op.f("ck_officer_roles_role"),
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officers.id"], name=op.f("fk_officer_roles_officer_id_officers")
        ),
        sa.PrimaryKeyConstraint("officer_id", "role", name=op.f("pk_officer_roles")),
    )
    op.execute("INSERT INTO officer_roles (officer_id, role) SELECT id, role FROM officers")
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("expires_at", _utc(), nullable=False),
        sa.Column("revoked_at", _utc(), nullable=True),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officers.id"], name=op.f("fk_api_tokens_officer_id_officers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_api_tokens_token_sha256")),
    )
    op.create_index(op.f("ix_api_tokens_officer_id"), "api_tokens", ["officer_id"])
    # The public list of cancellations (TT 01/2020 art. 7) reads the newest first.
    op.create_index(op.f("ix_documents_cancelled_at"), "documents", ["cancelled_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_documents_cancelled_at"), table_name="documents")
    op.drop_index(op.f("ix_api_tokens_officer_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("officer_roles")
