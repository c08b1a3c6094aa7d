"""The tables of the citizens' side (issue 12): payments of a request's fee, the e-mail
outbox, and the notifier's place in the audit chain. Models only; the schema itself is made
by migration 0008."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from certify.citizen_ports import PAYMENT_METHODS
from storage.database import Base, BigIntKey, UTCDateTime


class Payment(Base):
    """A payment of a request's fee (TT 226/2016), confirmed by the bank or recorded at the
    desk. A bank transaction is recorded once (``provider_txn`` is unique)."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(
            "method IN (" + ", ".join(repr(m) for m in PAYMENT_METHODS) + ")", name="method"
        ),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str] = mapped_column(String(64))
    provider_txn: Mapped[str | None] = mapped_column(String(128), unique=True)
    paid_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(100))


class OutboxMessage(Base):
    """An e-mail to send (transactional outbox): written with the change it tells of, sent by
    the worker with retries; the body (which may hold a download link) is cleared once
    sent. ``dedupe_key`` makes writing it idempotent."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    last_error: Mapped[str | None] = mapped_column(String(200))


class NotifierCursor(Base):
    """How far a projection of the audit chain (the notifier) has read: the last event id."""

    __tablename__ = "notifier_cursor"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigInteger)
