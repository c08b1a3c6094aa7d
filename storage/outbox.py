"""The e-mail outbox (``outbox``, issue 12): e-mails to citizens written in the transaction of
the change they tell of, then sent by workers with retries (transactional outbox).

Several workers (processes, or replicas on PostgreSQL) may send at once: ``claim_due`` leases
each message to one of them for a while, so that no message is sent by two at the same
time; a worker that dies leaves its messages to be claimed again when the lease runs out. A
message stays until it is sent; once sent its body (which may hold a download link's secret)
is cleared.

Holds e-mail addresses and bodies: never log them (message ids and error codes only).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from certify.citizen_ports import MailMessage
from certify.errors import InvalidInputError, NotFoundError
from storage.citizen_tables import OutboxMessage
from storage.sql_base import SqlBase, aware

# The columns' bounds (migration 0008), checked here so that SQLite, which does not enforce
# them, refuses what PostgreSQL would.
_LIMITS = {"dedupe_key": 160, "kind": 32, "to_address": 254, "subject": 300}
_ERROR_LENGTH = 200


@dataclass(frozen=True)
class OutboxStats:
    """The outbox at a glance (readiness, metrics, the admin): ``pending`` messages not yet
    sent, of which ``failing`` have failed at least once and ``due`` may be sent now;
    ``sent`` messages; when the oldest unsent one was written."""

    pending: int
    failing: int
    sent: int
    oldest_pending_at: dt.datetime | None
    due: int


def _invalid(what: str) -> InvalidInputError:
    return InvalidInputError(
        f"Thư điện tử không hợp lệ ({what}). / Invalid e-mail ({what}).", code="mail_invalid"
    )


def _check_mail(values: dict[str, str]) -> None:
    for name, limit in _LIMITS.items():
        value = values[name]
        if not value or not value.strip():
            raise _invalid(f"{name} empty")
        if len(value) > limit:
            raise _invalid(f"{name} longer than {limit}")
        # These end up in mail headers or logs: a line break would let one inject another.
        if "\r" in value or "\n" in value:
            raise _invalid(f"{name} has a line break")


def add_mail(
    session: Session,
    *,
    dedupe_key: str,
    request_id: int | None,
    kind: str,
    to_address: str,
    subject: str,
    body: str,
    now: dt.datetime,
) -> bool:
    """Write an e-mail to the outbox in the caller's transaction, to be sent from ``now`` on,
    unless one with ``dedupe_key`` is there already (sent or not). Returns whether it was
    written.

    Two transactions writing the same key at once both succeed: one writes, the other's
    insert does nothing (``ON CONFLICT DO NOTHING`` on both backends), so the caller's
    transaction is never aborted by a duplicate.

    Raises ``InvalidInputError`` (code ``mail_invalid``: empty or too long field, line break
    in a header field; or a naive ``now``).
    """
    aware(now, "now")
    _check_mail(
        {"dedupe_key": dedupe_key, "kind": kind, "to_address": to_address, "subject": subject}
    )
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    written = session.execute(
        insert(OutboxMessage)
        .values(
            dedupe_key=dedupe_key,
            request_id=request_id,
            kind=kind,
            to_address=to_address,
            subject=subject,
            body=body,
            created_at=now,
            next_attempt_at=now,
            attempts=0,
        )
        .on_conflict_do_nothing(index_elements=[OutboxMessage.dedupe_key])
        # RETURNING says portably whether it was written (an ORM insert has no rowcount on psycopg).
        .returning(OutboxMessage.id)
    ).scalar_one_or_none()
    return written is not None


def _rowcount(result: Any) -> int:
    # A DML statement's result is a CursorResult; Session.execute is typed as Result.
    return int(getattr(result, "rowcount", 0))


def _claimable(now: dt.datetime) -> Any:
    return (
        OutboxMessage.sent_at.is_(None),
        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until <= now),
    )


def _message(row: OutboxMessage) -> MailMessage:
    return MailMessage(
        id=row.id,
        kind=row.kind,
        to_address=row.to_address,
        subject=row.subject,
        body=row.body or "",
        attempts=row.attempts,
    )


class OutboxStore(SqlBase):
    """The outbox (``certify.citizen_ports.Outbox``) in the register database."""

    def enqueue_mail(
        self,
        *,
        dedupe_key: str,
        request_id: int | None,
        kind: str,
        to_address: str,
        subject: str,
        body: str,
        now: dt.datetime,
    ) -> bool:
        """:func:`add_mail` in a transaction of its own. Returns whether it was written.

        Raises ``InvalidInputError`` (code ``mail_invalid``), ``DatabaseUnavailableError``,
        ``RegisterConflictError`` (no such request).
        """
        with self._session(write=True) as session:
            return add_mail(
                session,
                dedupe_key=dedupe_key,
                request_id=request_id,
                kind=kind,
                to_address=to_address,
                subject=subject,
                body=body,
                now=now,
            )

    def claim_due(self, now: dt.datetime, *, limit: int, lease: dt.timedelta) -> list[MailMessage]:
        """Lease up to ``limit`` unsent messages due at ``now`` and not leased to another
        worker, longest due first, until ``now + lease``: no other worker gets them before.

        Portable: the candidates are read, then each is leased by an UPDATE that checks
        again that it is free; only the rows this UPDATE changed are kept (on PostgreSQL a
        row another worker is leasing is skipped at once, ``FOR UPDATE SKIP LOCKED``; on
        SQLite write transactions take turns, ``BEGIN IMMEDIATE``).

        Raises ``InvalidInputError`` (naive ``now``, ``limit`` < 1, ``lease`` not positive),
        ``DatabaseUnavailableError``.
        """
        aware(now, "now")
        if limit < 1 or lease <= dt.timedelta(0):
            raise InvalidInputError("limit must be >= 1 and lease positive")
        until = now + lease
        with self._session(write=True) as session:
            candidates = (
                select(OutboxMessage.id)
                .where(*_claimable(now), OutboxMessage.next_attempt_at <= now)
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(limit)
            )
            if session.get_bind().dialect.name == "postgresql":
                candidates = candidates.with_for_update(skip_locked=True)
            claimed: list[int] = []
            for message_id in session.execute(candidates).scalars().all():
                done = session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == message_id, *_claimable(now))
                    .values(claimed_until=until)
                    .execution_options(synchronize_session=False)
                )
                if _rowcount(done) == 1:
                    claimed.append(message_id)
            if not claimed:
                return []
            rows = session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.id.in_(claimed))
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            ).scalars()
            return [_message(row) for row in rows]

    def mark_sent(self, message_id: int, now: dt.datetime) -> None:
        """Note that message ``message_id`` was handed to the mail server at ``now``: it is
        done, its lease ends and its body is cleared (a download link's secret is not kept
        after sending). Marking a sent message again changes nothing.

        Raises ``NotFoundError``, ``InvalidInputError`` (naive ``now``),
        ``DatabaseUnavailableError``.
        """
        aware(now, "now")
        with self._session(write=True) as session:
            row = self._locked(session, message_id)
            if row.sent_at is not None:
                return
            row.sent_at = now
            row.claimed_until = None
            row.body = None
            row.attempts += 1

    def mark_failed(
        self, message_id: int, *, now: dt.datetime, retry_at: dt.datetime, error: str
    ) -> None:
        """Note that sending message ``message_id`` failed with ``error`` (an error code,
        never an address or server text: staff see it): it is tried again from ``retry_at``
        and its lease ends. A message sent meanwhile (by a worker whose lease had run out)
        stays sent.

        Raises ``NotFoundError``, ``InvalidInputError`` (naive time),
        ``DatabaseUnavailableError``.
        """
        aware(now, "now")
        aware(retry_at, "retry_at")
        with self._session(write=True) as session:
            row = self._locked(session, message_id)
            if row.sent_at is not None:
                return
            row.attempts += 1
            row.next_attempt_at = retry_at
            row.claimed_until = None
            row.last_error = error[:_ERROR_LENGTH]

    def outbox_stats(self, now: dt.datetime) -> OutboxStats:
        """The outbox's counts at ``now``.

        Raises ``InvalidInputError`` (naive ``now``), ``DatabaseUnavailableError``.
        """
        aware(now, "now")
        unsent = select(
            func.count(),
            func.count(case((OutboxMessage.attempts > 0, 1))),
            func.count(case((OutboxMessage.next_attempt_at <= now, 1))),
            func.min(OutboxMessage.created_at),
        ).where(OutboxMessage.sent_at.is_(None))
        with self._session(write=False) as session:
            pending, failing, due, oldest = session.execute(unsent).one()
            sent = session.execute(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.sent_at.is_not(None))
            ).scalar_one()
        return OutboxStats(
            pending=pending, failing=failing, sent=sent, oldest_pending_at=oldest, due=due
        )

    @staticmethod
    def _locked(session: Session, message_id: int) -> OutboxMessage:
        row = session.execute(
            select(OutboxMessage).where(OutboxMessage.id == message_id).with_for_update()
        ).scalar_one_or_none()
        if row is None:
            raise NotFoundError("Không có thư này. / No such e-mail.")
        return row
