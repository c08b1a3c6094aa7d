"""Preservation: stored versions of copies, their archive state, and leases.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

``copy_versions`` holds every version of a copy after its issue (the issued copy followed by
this service's own DSS data and archive document time-stamps); ``copy_archive`` says for each
copy which version is the newest and when its last time-stamp's TSA certificate ends;
``leases`` lets one preservation run hold the work while several replicas try.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _key() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "copy_versions",
        sa.Column("id", _key(), autoincrement=True, nullable=False),
        sa.Column("document_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.String(length=128), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("timestamp_at", _utc(), nullable=False),
        sa.Column("tsa_not_after", _utc(), nullable=False),
        sa.Column("digest_algorithm", sa.String(length=16), nullable=False),
        sa.Column("validation", sa.Text(), nullable=True),
        sa.CheckConstraint("seq > 0", name=op.f("ck_copy_versions_seq_positive")),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_copy_versions_document_id_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_copy_versions")),
        sa.UniqueConstraint("document_id", "seq", name=op.f("uq_copy_versions_document_id_seq")),
    )
    op.create_index("ix_copy_versions_sha256", "copy_versions", ["sha256"])
    op.create_table(
        "copy_archive",
        sa.Column("document_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("tsa_not_after", _utc(), nullable=False),
        sa.Column("digest_algorithm", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_copy_archive_document_id_documents")
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_copy_archive")),
    )
    op.create_index(op.f("ix_copy_archive_tsa_not_after"), "copy_archive", ["tsa_not_after"])
    op.create_index(
        op.f("ix_copy_archive_digest_algorithm"), "copy_archive", ["digest_algorithm"]
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("expires_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )


def downgrade() -> None:
    op.drop_table("leases")
    op.drop_index(op.f("ix_copy_archive_digest_algorithm"), table_name="copy_archive")
    op.drop_index(op.f("ix_copy_archive_tsa_not_after"), table_name="copy_archive")
    op.drop_table("copy_archive")
    op.drop_index("ix_copy_versions_sha256", table_name="copy_versions")
    op.drop_table("copy_versions")
