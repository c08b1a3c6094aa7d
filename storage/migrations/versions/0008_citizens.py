"""The citizens' side: bookings, tracking codes, payments, the e-mail outbox.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

``requests`` gains the citizen's tracking code (unguessable, unique), e-mail and phone, and
when its copies were e-mailed (``ready_at``) and first downloaded (``delivered_at``). An
original may now be ``booked`` (listed online, not yet at the desk). ``payments`` holds the
fee's payments (a bank transaction once: ``provider_txn`` unique); ``outbox`` the e-mails
to send; ``notifier_cursor`` how far the notifier has read the audit chain.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_ITEMS = "status IN ('received', 'checked', 'refused', 'scanned', 'certified')"
_NEW_ITEMS = "status IN ('booked', 'received', 'checked', 'refused', 'scanned', 'certified')"


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _key() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("tracking_code", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("requester_email", sa.String(length=254), nullable=True))
        batch.add_column(sa.Column("requester_phone", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("ready_at", _utc(), nullable=True))
        batch.add_column(sa.Column("delivered_at", _utc(), nullable=True))
        batch.create_unique_constraint(op.f("uq_requests_tracking_code"), ["tracking_code"])
    with op.batch_alter_table("request_items") as batch:
        batch.drop_constraint(op.f("ck_request_items_status"), type_="check")
        batch.create_check_constraint(op.f("ck_request_items_status"), _NEW_ITEMS)
    op.create_table(
        "payments",
        sa.Column("id", _key(), autoincrement=True, nullable=False),
        sa.Column("request_id", _key(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("provider_txn", sa.String(length=128), nullable=True),
        sa.Column("paid_at", _utc(), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.CheckConstraint(
            "method IN ('transfer', 'card', 'cash')", name=op.f("ck_payments_method")
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payments_amount_positive")),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_payments_request_id_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("provider_txn", name=op.f("uq_payments_provider_txn")),
    )
    op.create_index(op.f("ix_payments_request_id"), "payments", ["request_id"])
    op.create_table(
        "outbox",
        sa.Column("id", _key(), autoincrement=True, nullable=False),
        sa.Column("dedupe_key", sa.String(length=160), nullable=False),
        sa.Column("request_id", _key(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("next_attempt_at", _utc(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_until", _utc(), nullable=True),
        sa.Column("sent_at", _utc(), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_outbox_request_id_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_dedupe_key")),
    )
    op.create_index(op.f("ix_outbox_request_id"), "outbox", ["request_id"])
    op.create_index(op.f("ix_outbox_next_attempt_at"), "outbox", ["next_attempt_at"])
    op.create_index(op.f("ix_outbox_sent_at"), "outbox", ["sent_at"])
    op.create_table(
        "notifier_cursor",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_notifier_cursor")),
    )


def downgrade() -> None:
    op.drop_table("notifier_cursor")
    op.drop_index(op.f("ix_outbox_sent_at"), table_name="outbox")
    op.drop_index(op.f("ix_outbox_next_attempt_at"), table_name="outbox")
    op.drop_index(op.f("ix_outbox_request_id"), table_name="outbox")
    op.drop_table("outbox")
    op.drop_index(op.f("ix_payments_request_id"), table_name="payments")
    op.drop_table("payments")
    with op.batch_alter_table("request_items") as batch:
        batch.drop_constraint(op.f("ck_request_items_status"), type_="check")
        batch.create_check_constraint(op.f("ck_request_items_status"), _OLD_ITEMS)
    with op.batch_alter_table("requests") as batch:
        batch.drop_constraint(op.f("uq_requests_tracking_code"), type_="unique")
        batch.drop_column("delivered_at")
        batch.drop_column("ready_at")
        batch.drop_column("requester_phone")
        batch.drop_column("requester_email")
        batch.drop_column("tracking_code")
