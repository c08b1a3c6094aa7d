"""OutboxSender: sends the due messages, retries failures with exponential backoff, stops a
batch when the server is down without losing or holding back a message. An in-memory outbox
(the lease rules of storage.outbox) and a scripted transport; a clock the test moves."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import pytest

from certify.citizen_ports import MailMessage
from certify.errors import InvalidInputError, MailUnavailableError
from certify.outbox_sender import OutboxSender, SendReport

T0 = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self, at: dt.datetime = T0) -> None:
        self.at = at

    def now(self) -> dt.datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += dt.timedelta(**delta)


@dataclass
class Stored:
    message: MailMessage
    next_attempt_at: dt.datetime
    claimed_until: dt.datetime | None = None
    sent_at: dt.datetime | None = None
    last_error: str | None = None


class MemoryOutbox:
    """``certify.citizen_ports.Outbox`` in memory, with the lease rules of the real one."""

    def __init__(self) -> None:
        self.rows: dict[int, Stored] = {}

    def add(self, to: str, *, at: dt.datetime = T0, attempts: int = 0) -> int:
        message_id = len(self.rows) + 1
        message = MailMessage(message_id, "booked", to, f"Chủ đề {to}", f"Thân {to}", attempts)
        self.rows[message_id] = Stored(message, next_attempt_at=at)
        return message_id

    def claim_due(self, now: dt.datetime, *, limit: int, lease: dt.timedelta) -> list[MailMessage]:
        due = sorted(
            (
                s
                for s in self.rows.values()
                if s.sent_at is None
                and s.next_attempt_at <= now
                and (s.claimed_until is None or s.claimed_until <= now)
            ),
            key=lambda s: (s.next_attempt_at, s.message.id),
        )[:limit]
        for s in due:
            s.claimed_until = now + lease
        return [s.message for s in due]

    def mark_sent(self, message_id: int, now: dt.datetime) -> None:
        s = self.rows[message_id]
        s.sent_at, s.claimed_until = now, None
        s.message = replace(s.message, body="", attempts=s.message.attempts + 1)

    def mark_failed(
        self, message_id: int, *, now: dt.datetime, retry_at: dt.datetime, error: str
    ) -> None:
        s = self.rows[message_id]
        s.next_attempt_at, s.claimed_until, s.last_error = retry_at, None, error
        s.message = replace(s.message, attempts=s.message.attempts + 1)

    def unsent(self) -> list[int]:
        return [i for i, s in self.rows.items() if s.sent_at is None]


class Transport:
    """Delivers, or fails for the addresses (or all) it is told to."""

    def __init__(self) -> None:
        self.delivered: list[tuple[str, str, str]] = []
        self.failures: dict[str, Exception] = {}
        self.down = False
        self.tried: list[str] = []

    def send(self, *, to: str, subject: str, body: str) -> None:
        self.tried.append(to)
        if self.down:
            raise MailUnavailableError()
        if to in self.failures:
            raise self.failures[to]
        self.delivered.append((to, subject, body))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def outbox() -> MemoryOutbox:
    return MemoryOutbox()


@pytest.fixture
def transport() -> Transport:
    return Transport()


@pytest.fixture
def sender(outbox: MemoryOutbox, transport: Transport, clock: Clock) -> OutboxSender:
    return OutboxSender(outbox, transport, clock, batch=10)


def test_due_messages_are_sent_and_marked(
    sender: OutboxSender, outbox: MemoryOutbox, transport: Transport, clock: Clock
) -> None:
    outbox.add("a@example.vn")
    outbox.add("b@example.vn")
    outbox.add("later@example.vn", at=T0 + dt.timedelta(minutes=1))

    assert sender.send_due() == SendReport(sent=2)

    assert transport.delivered == [
        ("a@example.vn", "Chủ đề a@example.vn", "Thân a@example.vn"),
        ("b@example.vn", "Chủ đề b@example.vn", "Thân b@example.vn"),
    ]
    assert outbox.rows[1].sent_at == T0
    assert outbox.unsent() == [3]
    assert sender.send_due() == SendReport()
    clock.advance(minutes=1)
    assert sender.send_due().sent == 1
    assert outbox.unsent() == []


def test_backoff_doubles_up_to_the_maximum(outbox: MemoryOutbox, transport: Transport) -> None:
    sender = OutboxSender(
        outbox,
        transport,
        Clock(),
        backoff_base=dt.timedelta(seconds=30),
        backoff_max=dt.timedelta(hours=1),
    )
    seconds = [sender.backoff(n).total_seconds() for n in range(10)]
    assert seconds == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]
    assert sender.backoff(10**9) == dt.timedelta(hours=1)


def test_a_failing_message_is_retried_after_its_backoff(
    sender: OutboxSender, outbox: MemoryOutbox, transport: Transport, clock: Clock
) -> None:
    outbox.add("full@example.vn")
    transport.failures["full@example.vn"] = MailUnavailableError(code="mail_deferred")

    retries = []
    for _ in range(4):
        report = sender.send_due()
        assert report == SendReport(failed=1, error_codes=("mail_deferred",))
        retry_at = outbox.rows[1].next_attempt_at
        retries.append((retry_at - clock.now()).total_seconds())
        # Not tried again before its time...
        clock.at = retry_at - dt.timedelta(seconds=1)
        assert sender.send_due() == SendReport()
        clock.at = retry_at  # ...and tried again at it.
    assert retries == [30, 60, 120, 240]
    assert outbox.rows[1].last_error == "mail_deferred"
    assert outbox.rows[1].claimed_until is None

    del transport.failures["full@example.vn"]
    assert sender.send_due() == SendReport(sent=1)
    assert outbox.rows[1].message.attempts == 5


def test_one_bad_message_does_not_stop_the_others(
    sender: OutboxSender, outbox: MemoryOutbox, transport: Transport
) -> None:
    outbox.add("a@example.vn")
    outbox.add("rejected@example.vn")
    outbox.add("bug@example.vn")
    outbox.add("b@example.vn")
    transport.failures["rejected@example.vn"] = MailUnavailableError(code="mail_rejected")
    transport.failures["bug@example.vn"] = RuntimeError("unexpected in a@example.vn")

    report = sender.send_due()

    assert report == SendReport(sent=2, failed=2, error_codes=("mail_error", "mail_rejected"))
    assert [to for to, _, _ in transport.delivered] == ["a@example.vn", "b@example.vn"]
    assert outbox.rows[2].last_error == "mail_rejected"
    assert outbox.rows[3].last_error == "mail_error"
    assert outbox.rows[3].next_attempt_at == T0 + dt.timedelta(seconds=30)


def test_an_invalid_message_is_kept_with_its_code(
    sender: OutboxSender, outbox: MemoryOutbox, transport: Transport
) -> None:
    outbox.add("x@example.vn")
    transport.failures["x@example.vn"] = InvalidInputError(code="mail_invalid")
    assert sender.send_due() == SendReport(failed=1, error_codes=("mail_invalid",))
    assert outbox.unsent() == [1]
    assert outbox.rows[1].last_error == "mail_invalid"


def test_server_down_stops_the_batch_and_puts_the_rest_back(
    sender: OutboxSender, outbox: MemoryOutbox, transport: Transport, clock: Clock
) -> None:
    outbox.add("a@example.vn", attempts=3)
    outbox.add("b@example.vn")
    outbox.add("c@example.vn", attempts=1)
    transport.down = True

    report = sender.send_due()

    assert report == SendReport(failed=1, deferred=2, error_codes=("mail_unavailable",))
    assert transport.tried == ["a@example.vn"]  # the next ones would fail the same way
    # None waits for its lease: each is back with its own backoff.
    assert [outbox.rows[i].claimed_until for i in (1, 2, 3)] == [None, None, None]
    assert [outbox.rows[i].next_attempt_at - T0 for i in (1, 2, 3)] == [
        dt.timedelta(seconds=240),
        dt.timedelta(seconds=30),
        dt.timedelta(seconds=60),
    ]
    assert {outbox.rows[i].last_error for i in (1, 2, 3)} == {"mail_unavailable"}

    transport.down = False
    clock.advance(seconds=240)
    assert sender.send_due() == SendReport(sent=3)
    assert sorted(to for to, _, _ in transport.delivered) == [
        "a@example.vn",
        "b@example.vn",
        "c@example.vn",
    ]
    assert outbox.unsent() == []


def test_refused_login_also_stops_the_batch(
    sender: OutboxSender, outbox: MemoryOutbox, transport: Transport
) -> None:
    outbox.add("a@example.vn")
    outbox.add("b@example.vn")
    transport.failures["a@example.vn"] = MailUnavailableError(code="mail_auth_failed")
    assert sender.send_due() == SendReport(failed=1, deferred=1, error_codes=("mail_auth_failed",))
    assert transport.tried == ["a@example.vn"]


def test_a_batch_stops_when_its_lease_runs_out(outbox: MemoryOutbox, clock: Clock) -> None:
    class SlowTransport(Transport):
        def send(self, *, to: str, subject: str, body: str) -> None:
            super().send(to=to, subject=subject, body=body)
            clock.advance(minutes=2)

    transport = SlowTransport()
    sender = OutboxSender(outbox, transport, clock, lease=dt.timedelta(minutes=5))
    for n in range(5):
        outbox.add(f"m{n}@example.vn")

    report = sender.send_due()

    # Sent at 0, 2, 4 minutes; at 6 the lease is over and another worker may own the rest.
    assert report == SendReport(sent=3, deferred=2)
    assert outbox.unsent() == [4, 5]
    assert sender.send_due() == SendReport(sent=2)  # claimable again, lease ended


def test_batch_size(outbox: MemoryOutbox, transport: Transport, clock: Clock) -> None:
    for n in range(5):
        outbox.add(f"m{n}@example.vn")
    sender = OutboxSender(outbox, transport, clock, batch=2)
    assert [sender.send_due().sent for _ in range(4)] == [2, 2, 1, 0]


@pytest.mark.parametrize(
    "settings",
    [
        {"batch": 0},
        {"lease": dt.timedelta(0)},
        {"backoff_base": dt.timedelta(0)},
        {"backoff_base": dt.timedelta(minutes=2), "backoff_max": dt.timedelta(minutes=1)},
    ],
)
def test_unusable_settings(
    outbox: MemoryOutbox, transport: Transport, clock: Clock, settings: dict[str, object]
) -> None:
    with pytest.raises(ValueError, match="must"):
        OutboxSender(outbox, transport, clock, **settings)  # type: ignore[arg-type]
