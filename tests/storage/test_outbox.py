"""The e-mail outbox (storage.outbox), on SQLite and PostgreSQL: written once per dedupe key,
leased to one worker at a time, cleared once sent, rescheduled when sending failed."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from certify.errors import InvalidInputError, NotFoundError, RegisterConflictError
from certify.ports import AuthorityRecord
from storage.citizen_tables import OutboxMessage
from storage.database import Request
from storage.outbox import OutboxStats, OutboxStore, add_mail
from storage.sql_register import SqlRegister

T0 = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
LEASE = dt.timedelta(minutes=5)


@pytest.fixture
def outbox(engine: Engine) -> OutboxStore:
    return OutboxStore(engine)


def enqueue(
    outbox: OutboxStore, key: str, *, at: dt.datetime = T0, body: str = "Nội dung thư"
) -> bool:
    return outbox.enqueue_mail(
        dedupe_key=key,
        request_id=None,
        kind="booked",
        to_address=f"{key}@example.vn",
        subject=f"Hồ sơ {key} / Request {key}",
        body=body,
        now=at,
    )


def row(engine: Engine, key: str) -> OutboxMessage:
    with Session(engine) as session:
        found = session.execute(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == key)
        ).scalar_one()
        session.expunge(found)
        return found


def test_a_dedupe_key_is_written_once(outbox: OutboxStore, engine: Engine) -> None:
    assert enqueue(outbox, "booked:HS-1", body="first")
    assert not enqueue(outbox, "booked:HS-1", body="second", at=T0 + dt.timedelta(hours=1))

    claimed = outbox.claim_due(T0 + dt.timedelta(hours=2), limit=10, lease=LEASE)
    assert [(m.kind, m.body, m.attempts) for m in claimed] == [("booked", "first", 0)]
    written = row(engine, "booked:HS-1")
    assert written.created_at == T0
    assert written.next_attempt_at == T0


def test_a_sent_message_still_dedupes(outbox: OutboxStore) -> None:
    assert enqueue(outbox, "ready:HS-1")
    (message,) = outbox.claim_due(T0, limit=1, lease=LEASE)
    outbox.mark_sent(message.id, T0)
    assert not enqueue(outbox, "ready:HS-1", at=T0 + dt.timedelta(days=1))
    assert outbox.claim_due(T0 + dt.timedelta(days=1), limit=10, lease=LEASE) == []


def test_add_mail_is_part_of_the_callers_transaction(
    outbox: OutboxStore, register: SqlRegister, engine: Engine
) -> None:
    register.add_authority(AuthorityRecord("79-tanphu", "UBND phường Tân Phú", "79", "TP HCM"))
    register.add_request(
        "HS-9", authority_code="79-tanphu", requester_name="Lê Thị Hoa", requester_id_number="0"
    )
    with Session(engine) as session, session.begin():
        request_id = session.execute(select(Request.id).where(Request.code == "HS-9")).scalar_one()
    fields = {
        "request_id": request_id,
        "kind": "received",
        "to_address": "hoa@example.vn",
        "subject": "Đã nhận hồ sơ / Request received",
        "body": "…",
        "now": T0,
    }
    with Session(engine) as session:
        session.begin()
        assert add_mail(session, dedupe_key="received:HS-9", **fields)  # type: ignore[arg-type]
        session.rollback()
    assert outbox.outbox_stats(T0).pending == 0

    with Session(engine) as session, session.begin():
        assert add_mail(session, dedupe_key="received:HS-9", **fields)  # type: ignore[arg-type]
        assert not add_mail(session, dedupe_key="received:HS-9", **fields)  # type: ignore[arg-type]
    assert row(engine, "received:HS-9").request_id == request_id
    with pytest.raises(RegisterConflictError):
        outbox.enqueue_mail(dedupe_key="x", **{**fields, "request_id": 999_999})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("subject", "Hồ sơ\r\nBcc: someone@example.com"),
        ("to_address", "a@example.vn\nBcc: b@example.vn"),
        ("to_address", ""),
        ("dedupe_key", "k" * 161),
        ("subject", "s" * 301),
    ],
)
def test_unusable_mails_are_refused(outbox: OutboxStore, field: str, value: str) -> None:
    fields = {
        "dedupe_key": "k",
        "request_id": None,
        "kind": "booked",
        "to_address": "a@example.vn",
        "subject": "Hồ sơ / Request",
        "body": "…",
        "now": T0,
    }
    with pytest.raises(InvalidInputError) as caught:
        outbox.enqueue_mail(**{**fields, field: value})  # type: ignore[arg-type]
    assert caught.value.code == "mail_invalid"
    assert outbox.outbox_stats(T0).pending == 0


def test_naive_times_are_refused(outbox: OutboxStore) -> None:
    with pytest.raises(InvalidInputError):
        enqueue(outbox, "k", at=T0.replace(tzinfo=None))
    with pytest.raises(InvalidInputError):
        outbox.claim_due(T0.replace(tzinfo=None), limit=1, lease=LEASE)


def test_claim_takes_due_messages_longest_due_first_and_leases_them(
    outbox: OutboxStore, engine: Engine
) -> None:
    for minute, key in ((2, "b"), (1, "a"), (3, "c"), (30, "later")):
        enqueue(outbox, key, at=T0 + dt.timedelta(minutes=minute))
    now = T0 + dt.timedelta(minutes=10)

    first = outbox.claim_due(now, limit=2, lease=LEASE)
    assert [m.to_address for m in first] == ["a@example.vn", "b@example.vn"]
    assert row(engine, "a").claimed_until == now + LEASE

    second = outbox.claim_due(now, limit=10, lease=LEASE)
    assert [m.to_address for m in second] == ["c@example.vn"]  # "later" is not due yet
    assert outbox.claim_due(now, limit=10, lease=LEASE) == []


def test_an_expired_lease_is_claimable_again(outbox: OutboxStore) -> None:
    enqueue(outbox, "a")
    (claimed,) = outbox.claim_due(T0, limit=5, lease=LEASE)
    # The worker died: until the lease ends nobody else takes the message, then one does.
    assert outbox.claim_due(T0 + LEASE - dt.timedelta(seconds=1), limit=5, lease=LEASE) == []
    (again,) = outbox.claim_due(T0 + LEASE, limit=5, lease=LEASE)
    assert again.id == claimed.id
    assert outbox.claim_due(T0 + LEASE, limit=5, lease=LEASE) == []


def test_simultaneous_claims_get_disjoint_messages(engine: Engine) -> None:
    store = OutboxStore(engine)
    for n in range(24):
        enqueue(store, f"m{n}")
    workers = 4
    start = threading.Barrier(workers)

    def claim(_: int) -> list[int]:
        # Each worker its own store object, as in another process or replica.
        mine = OutboxStore(engine)
        start.wait(timeout=30)
        return [m.id for m in mine.claim_due(T0, limit=8, lease=LEASE)]

    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(claim, range(workers)))
    claimed = [message_id for ids in results for message_id in ids]
    assert len(claimed) == len(set(claimed)) == 24
    assert all(len(ids) <= 8 for ids in results)


def test_on_postgresql_a_message_locked_by_another_worker_is_skipped(
    outbox: OutboxStore, engine: Engine, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("row locks: PostgreSQL only (SQLite write transactions take turns)")
    enqueue(outbox, "a")
    enqueue(outbox, "b", at=T0 + dt.timedelta(seconds=1))
    first_id = row(engine, "a").id
    with engine.connect() as other:
        other.begin()
        # Another worker is in the middle of leasing "a": its row is locked.
        other.execute(text("SELECT id FROM outbox WHERE id = :id FOR UPDATE"), {"id": first_id})
        claimed = outbox.claim_due(T0 + dt.timedelta(minutes=1), limit=10, lease=LEASE)
        assert [m.to_address for m in claimed] == ["b@example.vn"]
        other.rollback()
    (later,) = outbox.claim_due(T0 + dt.timedelta(minutes=1), limit=10, lease=LEASE)
    assert later.id == first_id


def test_mark_sent_clears_the_body_and_ends_the_message(
    outbox: OutboxStore, engine: Engine
) -> None:
    enqueue(outbox, "ready:HS-1", body="Tải bản sao: https://example.vn/d/SECRET")
    (message,) = outbox.claim_due(T0, limit=1, lease=LEASE)
    assert "SECRET" in message.body
    sent_at = T0 + dt.timedelta(seconds=3)

    outbox.mark_sent(message.id, sent_at)

    done = row(engine, "ready:HS-1")
    assert (done.body, done.sent_at, done.claimed_until, done.attempts) == (None, sent_at, None, 1)
    assert outbox.claim_due(T0 + dt.timedelta(days=1), limit=5, lease=LEASE) == []
    outbox.mark_sent(message.id, sent_at + dt.timedelta(hours=1))  # again: nothing changes
    assert row(engine, "ready:HS-1").sent_at == sent_at
    # A worker whose lease ran out cannot unsend it.
    outbox.mark_failed(message.id, now=T0, retry_at=T0, error="mail_unavailable")
    assert row(engine, "ready:HS-1").sent_at == sent_at


def test_mark_failed_reschedules(outbox: OutboxStore, engine: Engine) -> None:
    enqueue(outbox, "a", body="giữ lại / kept")
    (message,) = outbox.claim_due(T0, limit=1, lease=LEASE)
    retry_at = T0 + dt.timedelta(seconds=30)

    outbox.mark_failed(message.id, now=T0, retry_at=retry_at, error="mail_unavailable" * 20)

    failed = row(engine, "a")
    assert failed.attempts == 1
    assert failed.next_attempt_at == retry_at
    assert failed.claimed_until is None
    assert failed.last_error == ("mail_unavailable" * 20)[:200]
    assert failed.body == "giữ lại / kept"
    assert outbox.claim_due(retry_at - dt.timedelta(seconds=1), limit=5, lease=LEASE) == []
    (again,) = outbox.claim_due(retry_at, limit=5, lease=LEASE)
    assert (again.id, again.attempts, again.body) == (message.id, 1, "giữ lại / kept")


def test_unknown_messages(outbox: OutboxStore) -> None:
    with pytest.raises(NotFoundError):
        outbox.mark_sent(12345, T0)
    with pytest.raises(NotFoundError):
        outbox.mark_failed(12345, now=T0, retry_at=T0, error="mail_unavailable")


def test_stats(outbox: OutboxStore) -> None:
    assert outbox.outbox_stats(T0) == OutboxStats(
        pending=0, failing=0, sent=0, oldest_pending_at=None, due=0
    )
    enqueue(outbox, "sent", at=T0 - dt.timedelta(hours=2))
    enqueue(outbox, "failing", at=T0 - dt.timedelta(hours=1))
    enqueue(outbox, "new", at=T0)
    enqueue(outbox, "future", at=T0 + dt.timedelta(hours=1))
    sent, failing = outbox.claim_due(T0 - dt.timedelta(minutes=30), limit=2, lease=LEASE)
    outbox.mark_sent(sent.id, T0 - dt.timedelta(minutes=30))
    outbox.mark_failed(
        failing.id, now=T0, retry_at=T0 + dt.timedelta(minutes=1), error="mail_rejected"
    )

    assert outbox.outbox_stats(T0) == OutboxStats(
        pending=3, failing=1, sent=1, oldest_pending_at=T0 - dt.timedelta(hours=1), due=1
    )
    assert outbox.outbox_stats(T0 + dt.timedelta(hours=1)).due == 3
