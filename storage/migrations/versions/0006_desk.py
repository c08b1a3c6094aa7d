"""The office desk: the originals of a request, officers' page sessions, download links.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

``request_items`` holds each original of a request at the desk (checked or refused under NĐ
23/2015 art. 22, its uploaded scan, the register entry it became). ``desk_sessions`` keeps
the SHA-256 of each page session's secret with its CSRF token and limits. ``download_links``
keeps the SHA-256 of each expiring download link of an issued copy.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REFUSALS = "'altered', 'damaged', 'secret', 'unlawful', 'not_legalised', 'self_made'"


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "request_items",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "request_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("document_name", sa.String(length=300), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("copies", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("checked_by", sa.String(length=100), nullable=True),
        sa.Column("checked_at", _utc(), nullable=True),
        sa.Column("refusal_code", sa.String(length=32), nullable=True),
        sa.Column("refusal_note", sa.Text(), nullable=True),
        sa.Column("scan_keys", sa.Text(), nullable=True),
        sa.Column("scan_pages", sa.Integer(), nullable=True),
        sa.Column("document_id", sa.String(length=36), nullable=True),
        sa.CheckConstraint(
            "status IN ('received', 'checked', 'refused', 'scanned', 'certified')",
            name=op.f("ck_request_items_status"),
        ),
        sa.CheckConstraint(
            f"refusal_code IS NULL OR refusal_code IN ({_REFUSALS})",
            name=op.f("ck_request_items_refusal_code"),
        ),
        sa.CheckConstraint(
            "position > 0 AND pages > 0 AND copies > 0", name=op.f("ck_request_items_counts")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_request_items_request_id_requests")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_request_items_document_id_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_items")),
        sa.UniqueConstraint("request_id", "position", name=op.f("uq_request_items_request_id_position")),
    )
    op.create_index(op.f("ix_request_items_request_id"), "request_items", ["request_id"])
    op.create_table(
        "desk_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("last_seen_at", _utc(), nullable=False),
        sa.Column("expires_at", _utc(), nullable=False),
        sa.Column("ended_at", _utc(), nullable=True),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officers.id"], name=op.f("fk_desk_sessions_officer_id_officers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_sessions")),
    )
    op.create_index(op.f("ix_desk_sessions_officer_id"), "desk_sessions", ["officer_id"])
    op.create_table(
        "download_links",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("document_id", sa.String(length=36), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("expires_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_download_links_document_id_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_download_links")),
    )
    op.create_index(op.f("ix_download_links_document_id"), "download_links", ["document_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_download_links_document_id"), table_name="download_links")
    op.drop_table("download_links")
    op.drop_index(op.f("ix_desk_sessions_officer_id"), table_name="desk_sessions")
    op.drop_table("desk_sessions")
    op.drop_index(op.f("ix_request_items_request_id"), table_name="request_items")
    op.drop_table("request_items")
