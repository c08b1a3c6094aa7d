"""The audit chain: every event hashed over its predecessor's hash (tamper evidence).

Events are appended inside register transactions (:func:`append_event`); on PostgreSQL the
chain is serialised by a transaction-scoped advisory lock, so two transactions never chain to
the same predecessor. :class:`AuditChain` reads the head and checks the chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from certify.ports import AuditRecord
from storage.citizen_tables import NotifierCursor
from storage.database import AuditEvent
from storage.sql_base import SqlBase, aware

# prev_hash of the first audit event.
GENESIS_HASH = "0" * 64
# Key of the PostgreSQL advisory lock that keeps the audit chain linear ("certaudt").
AUDIT_LOCK_KEY = 0x6365727461756474


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def audit_hash(
    prev_hash: str,
    *,
    at: dt.datetime,
    actor: str,
    action: str,
    subject: str,
    details: Mapping[str, Any],
) -> str:
    """The hash of an audit event: SHA-256 over ``prev_hash`` + canonical JSON of its fields.

    Canonical JSON: sorted keys, no whitespace, UTF-8; ``at`` in UTC ISO 8601 with
    microseconds.
    """
    fields = {
        "at": aware(at, "at").astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "subject": subject,
        "details": dict(details),
    }
    payload = prev_hash + canonical_json(fields)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def event_hash(event: AuditEvent) -> str:
    return audit_hash(
        event.prev_hash,
        at=event.at,
        actor=event.actor,
        action=event.action,
        subject=event.subject,
        details=json.loads(event.details),
    )


def append_event(session: Session, record: AuditRecord) -> str:
    """Append an audit event chained to the previous one, in ``session``'s transaction;
    return its hash."""
    aware(record.at, "at")
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})
    prev_hash = session.execute(
        select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar_one_or_none()
    prev_hash = prev_hash or GENESIS_HASH
    details = dict(record.details)
    event_hash_ = audit_hash(
        prev_hash,
        at=record.at,
        actor=record.actor,
        action=record.action,
        subject=record.subject,
        details=details,
    )
    session.add(
        AuditEvent(
            at=record.at,
            actor=record.actor,
            action=record.action,
            subject=record.subject,
            details=canonical_json(details),
            prev_hash=prev_hash,
            hash=event_hash_,
        )
    )
    session.flush()
    return event_hash_


@dataclass(frozen=True)
class AuditEventSummary:
    """What may be shown of an audit event outside the register: its id, time and action.
    Its subject and details are left out (they may lead to a person)."""

    id: int
    at: dt.datetime
    action: str


class AuditChain(SqlBase):
    """Reading and checking the audit chain."""

    def audit_head(self) -> str:
        """The hash of the last audit event (``GENESIS_HASH`` when there is none).

        Publish or countersign it from time to time: the chain alone cannot reveal that its
        newest events were deleted.
        """
        with self._session(write=False) as session:
            head = session.execute(
                select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
            ).scalar_one_or_none()
            return head or GENESIS_HASH

    def first_broken_audit_event(self) -> int | None:
        """The id of the first audit event whose link or hash is wrong, or None."""
        expected_prev = GENESIS_HASH
        with self._session(write=False) as session:
            # Streamed (server-side cursor on PostgreSQL): the chain may be long.
            result = session.execute(
                select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=1000)
            )
            try:
                for event in result.scalars():
                    try:
                        recomputed = event_hash(event)
                    except (ValueError, TypeError):  # unparsable details: tampered
                        return event.id
                    if event.prev_hash != expected_prev or recomputed != event.hash:
                        return event.id
                    expected_prev = event.hash
            finally:
                result.close()
        return None

    def audit_event_count(self) -> int:
        """How many audit events the register holds."""
        with self._session(write=False) as session:
            return session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()

    def audit_event_summary(self, event_id: int) -> AuditEventSummary | None:
        """The id, time and action of audit event ``event_id``, or None if there is none."""
        with self._session(write=False) as session:
            row = session.execute(
                select(AuditEvent.id, AuditEvent.at, AuditEvent.action).where(
                    AuditEvent.id == event_id
                )
            ).one_or_none()
            return None if row is None else AuditEventSummary(*row)

    def verify_audit_chain(self) -> bool:
        """Whether every audit event links to its predecessor and hashes to its hash."""
        return self.first_broken_audit_event() is None

    def audit_events_after(
        self, last_id: int, *, limit: int, actions: Sequence[str]
    ) -> tuple[int, list[tuple[int, AuditRecord]]]:
        """The events after id ``last_id`` whose action is one of ``actions`` (at most
        ``limit``), and the id read up to: a projection of the chain (the notifier) keeps
        that as its place. Ids are committed in order (the chain's lock), so none is skipped.
        """
        with self._session(write=False) as session:
            ids = list(
                session.execute(
                    select(AuditEvent.id)
                    .where(AuditEvent.id > last_id)
                    .order_by(AuditEvent.id)
                    .limit(limit)
                ).scalars()
            )
            if not ids:
                return last_id, []
            rows = session.execute(
                select(AuditEvent)
                .where(AuditEvent.id.in_(ids), AuditEvent.action.in_(list(actions)))
                .order_by(AuditEvent.id)
            ).scalars()
            events = [
                (
                    e.id,
                    AuditRecord(
                        actor=e.actor,
                        action=e.action,
                        subject=e.subject,
                        at=e.at,
                        details=json.loads(e.details),
                    ),
                )
                for e in rows
            ]
            return ids[-1], events

    def projection_position(self, name: str) -> int:
        """Where projection ``name`` has read the chain to (0: nowhere yet)."""
        with self._session(write=False) as session:
            row = session.get(NotifierCursor, name)
            return 0 if row is None else row.last_event_id

    def set_projection_position(self, name: str, event_id: int) -> None:
        """Move projection ``name`` forward to ``event_id`` (never back)."""
        with self._session(write=True) as session:
            row = session.get(NotifierCursor, name, with_for_update=True)
            if row is None:
                session.add(NotifierCursor(name=name, last_event_id=event_id))
            elif event_id > row.last_event_id:
                row.last_event_id = event_id
