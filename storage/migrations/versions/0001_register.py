"""The register: provinces, authorities, officers, requests, documents, counters, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Hand-written to match ``storage.database``; ``tests/storage/test_database.py`` compares the
migrated schema with the models. Datetime columns are ``timestamptz`` on PostgreSQL; on SQLite
``storage.database.UTCDateTime`` stores UTC wall time.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 64-bit keys on PostgreSQL; on SQLite only INTEGER PRIMARY KEY is the autoincrementing rowid.
BIGINT_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "provinces",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_provinces")),
    )

    op.create_table(
        "authorities",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("province_code", sa.String(length=16), nullable=False),
        sa.Column("fee_waived", sa.Boolean(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["province_code"], ["provinces.code"],
            name=op.f("fk_authorities_province_code_provinces"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_authorities")),
    )
    op.create_index(op.f("ix_authorities_province_code"), "authorities", ["province_code"])

    op.create_table(
        "officers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("authority_code", sa.String(length=32), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "role IN ('clerk', 'certifier', 'admin', 'auditor')", name=op.f("ck_officers_role")
        ),
        sa.ForeignKeyConstraint(
            ["authority_code"], ["authorities.code"],
            name=op.f("fk_officers_authority_code_authorities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_officers")),
        sa.UniqueConstraint("username", name=op.f("uq_officers_username")),
    )
    op.create_index(op.f("ix_officers_authority_code"), "officers", ["authority_code"])

    op.create_table(
        "requests",
        sa.Column("id", BIGINT_KEY, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("authority_code", sa.String(length=32), nullable=False),
        sa.Column("requester_name", sa.String(length=200), nullable=False),
        sa.Column("requester_id_number", sa.String(length=32), nullable=False),
        sa.Column("requester_contact", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("refusal_code", sa.String(length=32), nullable=True),
        sa.Column("refusal_note", sa.Text(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("received_at", _utc(), nullable=True),
        sa.Column("due_at", _utc(), nullable=True),
        sa.Column("extended_to", _utc(), nullable=True),
        sa.CheckConstraint(
            "status IN ('booked', 'received', 'certified', 'refused', 'cancelled')",
            name=op.f("ck_requests_status"),
        ),
        # NĐ 23/2015 art. 22.
        sa.CheckConstraint(
            "refusal_code IS NULL OR refusal_code IN "
            "('altered', 'damaged', 'secret', 'unlawful', 'not_legalised', 'self_made')",
            name=op.f("ck_requests_refusal_code"),
        ),
        sa.ForeignKeyConstraint(
            ["authority_code"], ["authorities.code"],
            name=op.f("fk_requests_authority_code_authorities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requests")),
        sa.UniqueConstraint("code", name=op.f("uq_requests_code")),
    )
    op.create_index(op.f("ix_requests_authority_code"), "requests", ["authority_code"])

    op.create_table(
        "documents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("request_id", BIGINT_KEY, nullable=False),
        sa.Column("authority_code", sa.String(length=32), nullable=False),
        sa.Column("register_type", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("book", sa.String(length=32), nullable=False),
        sa.Column("document_name", sa.String(length=300), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("copies", sa.Integer(), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("page_hashes", sa.Text(), nullable=False),
        sa.Column("copy_key", sa.String(length=512), nullable=False),
        sa.Column("copy_sha256", sa.String(length=64), nullable=False),
        sa.Column("copy_size", sa.BigInteger(), nullable=False),
        sa.Column("copy_version_id", sa.String(length=128), nullable=True),
        sa.Column("verification_token", sa.String(length=128), nullable=False),
        sa.Column("certifier_id", sa.Integer(), nullable=False),
        sa.Column("issued_at", _utc(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cancelled_reason", sa.Text(), nullable=True),
        sa.Column("cancelled_at", _utc(), nullable=True),
        sa.CheckConstraint("status IN ('issued', 'cancelled')", name=op.f("ck_documents_status")),
        sa.CheckConstraint("number > 0", name=op.f("ck_documents_number_positive")),
        sa.CheckConstraint(
            "pages > 0 AND copies > 0 AND fee >= 0", name=op.f("ck_documents_counts")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_documents_request_id_requests")
        ),
        sa.ForeignKeyConstraint(
            ["authority_code"], ["authorities.code"],
            name=op.f("fk_documents_authority_code_authorities"),
        ),
        sa.ForeignKeyConstraint(
            ["certifier_id"], ["officers.id"], name=op.f("fk_documents_certifier_id_officers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        # NĐ 23/2015 art. 20: one number per original, no duplicates within a register year.
        sa.UniqueConstraint(
            "authority_code", "register_type", "year", "number",
            name=op.f("uq_documents_authority_code_register_type_year_number"),
        ),
        sa.UniqueConstraint(
            "verification_token", name=op.f("uq_documents_verification_token")
        ),
    )
    op.create_index(
        "ix_documents_authority_issued_at", "documents", ["authority_code", "issued_at"]
    )
    op.create_index(op.f("ix_documents_certifier_id"), "documents", ["certifier_id"])
    op.create_index(op.f("ix_documents_request_id"), "documents", ["request_id"])

    op.create_table(
        "register_counters",
        sa.Column("authority_code", sa.String(length=32), nullable=False),
        sa.Column("register_type", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.CheckConstraint("last_number >= 0", name=op.f("ck_register_counters_last_number")),
        sa.ForeignKeyConstraint(
            ["authority_code"], ["authorities.code"],
            name=op.f("fk_register_counters_authority_code_authorities"),
        ),
        sa.PrimaryKeyConstraint(
            "authority_code", "register_type", "year", name=op.f("pk_register_counters")
        ),
    )

    op.create_table(
        "audit_events",
        sa.Column("id", BIGINT_KEY, autoincrement=True, nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_events_hash")),
    )


def downgrade() -> None:
    op.drop_table("audit_events")
    op.drop_table("register_counters")
    op.drop_index("ix_documents_request_id", table_name="documents")
    op.drop_index("ix_documents_certifier_id", table_name="documents")
    op.drop_index("ix_documents_authority_issued_at", table_name="documents")
    op.drop_table("documents")
    op.drop_index("ix_requests_authority_code", table_name="requests")
    op.drop_table("requests")
    op.drop_index("ix_officers_authority_code", table_name="officers")
    op.drop_table("officers")
    op.drop_index("ix_authorities_province_code", table_name="authorities")
    op.drop_table("authorities")
    op.drop_table("provinces")
