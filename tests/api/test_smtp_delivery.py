"""E-mail delivery end to end: the outbox in the register database (SQLite and PostgreSQL),
OutboxSender, SmtpTransport and a real SMTP server (aiosmtpd on 127.0.0.1). A mail server
going down loses no e-mail and sends none twice; a clock the tests move decides retries."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.smtp_transport import SmtpTransport
from certify.errors import InvalidInputError, MailUnavailableError
from certify.mail_texts import booked_mail
from certify.outbox_sender import OutboxSender, SendReport
from certify.ports import ItemRecord, RequestRecord
from storage.citizen_tables import OutboxMessage
from storage.outbox import OutboxStats, OutboxStore

pytestmark = pytest.mark.integration

T0 = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
SENDER = "UBND phường Tân Phú <chungthuc@tanphu.example.vn>"


class MovableClock:
    def __init__(self, at: dt.datetime = T0) -> None:
        self.at = at

    def now(self) -> dt.datetime:
        return self.at


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps what it receives; refuses the recipients it is told
    to with the given reply."""

    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        parsed = []
        for _, _, content in self.received:
            message = email.message_from_bytes(content, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            parsed.append(message)
        return parsed


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class SmtpServer:
    """A real SMTP server on a fixed loopback port that can be stopped and started again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mailbox = Mailbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def outbox(engine: Engine) -> OutboxStore:
    return OutboxStore(engine)


def transport_for(server: SmtpServer, clock: MovableClock, **options: Any) -> SmtpTransport:
    return SmtpTransport("127.0.0.1", server.port, sender=SENDER, clock=clock, **options)


def enqueue(
    outbox: OutboxStore, key: str, to: str, subject: str, body: str, at: dt.datetime
) -> bool:
    return outbox.enqueue_mail(
        dedupe_key=key,
        request_id=None,
        kind="booked",
        to_address=to,
        subject=subject,
        body=body,
        now=at,
    )


def rows(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        found = list(session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())
        session.expunge_all()
        return found


def booked(n: int) -> tuple[str, str]:
    request = RequestRecord(
        code=f"HS-2026-{n:06d}",
        authority_code="79-tanphu",
        requester_name="Trần Thị Ngọc Ánh",
        requester_id_number="079188001234",
        status="booked",
        created_at=T0,
        tracking_code=f"TRK{n}",
    )
    items = [ItemRecord(request.code, 1, "Giấy chứng nhận quyền sử dụng đất", 2, 1, "booked")]
    return booked_mail(
        authority_name="UBND phường Tân Phú",
        request=request,
        items=items,
        tracking_url=f"https://chungthuc.example.vn/theo-doi/TRK{n}",
    )


def body_text(message: EmailMessage) -> str:
    return str(message.get_content()).replace("\r\n", "\n")


def test_mails_are_delivered_intact_and_their_bodies_cleared(
    smtp_server: SmtpServer, outbox: OutboxStore, engine: Engine, clock: MovableClock
) -> None:
    sent = {}
    for n in range(3):
        subject, body = booked(n)
        to = f"anh{n}@example.vn"
        assert enqueue(outbox, f"booked:{n}", to, subject, body, T0)
        sent[to] = (subject, body)
    sender = OutboxSender(outbox, transport_for(smtp_server, clock), clock)

    assert sender.send_due() == SendReport(sent=3)

    mailbox = smtp_server.mailbox
    assert [(mail_from, rcpt) for mail_from, rcpt, _ in mailbox.received] == [
        ("chungthuc@tanphu.example.vn", [to]) for to in sent
    ]
    for message in mailbox.messages():
        subject, body = sent[str(message["To"])]
        assert message["Subject"] == subject
        assert body_text(message) == body
        assert "Ánh" in body_text(message)
        assert message.get_content_charset() == "utf-8"
        assert message["From"] == SENDER
        assert message["Date"] == "Tue, 01 Dec 2026 09:00:00 +0700"
        assert str(message["Message-ID"]).endswith("@tanphu.example.vn>")
        assert message["Auto-Submitted"] == "auto-generated"
    assert len({str(m["Message-ID"]) for m in mailbox.messages()}) == 3
    assert [(r.body, r.sent_at, r.attempts) for r in rows(engine)] == [(None, T0, 1)] * 3
    assert sender.send_due() == SendReport()
    assert len(mailbox.received) == 3


class StoppingTransport(SmtpTransport):
    """The real transport; the server goes down right after the first e-mail of a batch."""

    def __init__(self, server: SmtpServer, clock: MovableClock) -> None:
        super().__init__("127.0.0.1", server.port, sender=SENDER, clock=clock, timeout=5)
        self.server = server

    def send(self, *, to: str, subject: str, body: str) -> None:
        super().send(to=to, subject=subject, body=body)
        self.server.stop()


def test_a_server_stopped_during_delivery_loses_no_mail(
    smtp_server: SmtpServer, outbox: OutboxStore, engine: Engine, clock: MovableClock
) -> None:
    for n in range(4):
        enqueue(outbox, f"k{n}", f"n{n}@example.vn", f"Thư {n} / Mail {n}", f"Nội dung {n}", T0)
    stopping = OutboxSender(outbox, StoppingTransport(smtp_server, clock), clock)

    # The first goes, then the server is gone: the next fails, the rest are put back.
    assert stopping.send_due() == SendReport(
        sent=1, failed=1, deferred=2, error_codes=("mail_unavailable",)
    )
    sender = OutboxSender(outbox, transport_for(smtp_server, clock, timeout=5), clock)
    assert [r.to_address for r in rows(engine) if r.sent_at] == ["n0@example.vn"]
    unsent = [r for r in rows(engine) if r.sent_at is None]
    assert [(r.attempts, r.last_error, r.claimed_until) for r in unsent] == [
        (1, "mail_unavailable", None)
    ] * 3
    assert {r.next_attempt_at for r in unsent} == {T0 + dt.timedelta(seconds=30)}
    assert all(r.body for r in unsent)

    # Still down a little later: nothing is due yet, so nothing is tried.
    clock.at = T0 + dt.timedelta(seconds=10)
    assert sender.send_due() == SendReport()

    # The server is back on the same port, but the retry time has not come.
    smtp_server.start()
    assert sender.send_due() == SendReport()
    assert len(smtp_server.mailbox.received) == 1

    clock.at = T0 + dt.timedelta(seconds=30)
    assert sender.send_due() == SendReport(sent=3)
    subjects = sorted(m["Subject"] for m in smtp_server.mailbox.messages())
    assert subjects == [f"Thư {n} / Mail {n}" for n in range(4)]  # each exactly once
    assert sender.send_due() == SendReport()
    assert outbox.outbox_stats(clock.now()) == OutboxStats(
        pending=0, failing=0, sent=4, oldest_pending_at=None, due=0
    )


def test_a_stopped_server_fails_the_batch_then_all_arrive_once(
    smtp_server: SmtpServer, outbox: OutboxStore, engine: Engine, clock: MovableClock
) -> None:
    for n in range(3):
        enqueue(outbox, f"k{n}", f"n{n}@example.vn", f"Thư {n} / Mail {n}", f"Nội dung {n}", T0)
    sender = OutboxSender(outbox, transport_for(smtp_server, clock, timeout=5), clock)
    smtp_server.stop()

    # The first fails; the others would fail alike, so they are put back untried.
    assert sender.send_due() == SendReport(failed=1, deferred=2, error_codes=("mail_unavailable",))
    assert smtp_server.mailbox.received == []
    assert [(r.sent_at, r.attempts) for r in rows(engine)] == [(None, 1)] * 3
    assert outbox.outbox_stats(clock.now()).failing == 3
    smtp_server.start()
    clock.at = T0 + dt.timedelta(seconds=29)
    assert sender.send_due() == SendReport()
    clock.at = T0 + dt.timedelta(seconds=31)
    assert sender.send_due() == SendReport(sent=3)
    assert sorted(to for _, (to,), _ in smtp_server.mailbox.received) == [
        "n0@example.vn",
        "n1@example.vn",
        "n2@example.vn",
    ]


def test_a_dedupe_key_sends_once(
    smtp_server: SmtpServer, outbox: OutboxStore, clock: MovableClock
) -> None:
    assert enqueue(outbox, "ready:HS-1", "a@example.vn", "Sẵn sàng / Ready", "lần 1", T0)
    assert not enqueue(outbox, "ready:HS-1", "a@example.vn", "Sẵn sàng / Ready", "lần 2", T0)
    sender = OutboxSender(outbox, transport_for(smtp_server, clock), clock)
    assert sender.send_due() == SendReport(sent=1)
    clock.at = T0 + dt.timedelta(hours=2)
    assert not enqueue(outbox, "ready:HS-1", "a@example.vn", "Sẵn sàng / Ready", "lần 3", T0)
    assert sender.send_due() == SendReport()
    (message,) = smtp_server.mailbox.messages()
    assert body_text(message) == "lần 1\n"


def test_a_refused_recipient_is_kept_and_the_others_go(
    smtp_server: SmtpServer, outbox: OutboxStore, engine: Engine, clock: MovableClock
) -> None:
    smtp_server.mailbox.refuse["gone@example.vn"] = "550 5.1.1 No such user"
    smtp_server.mailbox.refuse["full@example.vn"] = "452 4.2.2 Mailbox full"
    for n, to in enumerate(("gone@example.vn", "full@example.vn", "ok@example.vn")):
        enqueue(outbox, f"k{n}", to, "Thư / Mail", "Nội dung", T0)
    sender = OutboxSender(outbox, transport_for(smtp_server, clock), clock)

    report = sender.send_due()

    assert report == SendReport(sent=1, failed=2, error_codes=("mail_deferred", "mail_rejected"))
    assert [(r.to_address, r.last_error, r.sent_at is None) for r in rows(engine)] == [
        ("gone@example.vn", "mail_rejected", True),
        ("full@example.vn", "mail_deferred", True),
        ("ok@example.vn", None, False),
    ]


# --- the transport's errors, against real servers --------------------------------------------


def test_transport_errors(smtp_server: SmtpServer, clock: MovableClock) -> None:
    transport = transport_for(smtp_server, clock)
    smtp_server.mailbox.refuse["gone@example.vn"] = "550 5.1.1 No such user"
    smtp_server.mailbox.refuse["later@example.vn"] = "450 4.7.1 Greylisted"
    smtp_server.mailbox.refuse["closing@example.vn"] = "421 4.3.2 Shutting down"
    for to, code in (
        ("gone@example.vn", "mail_rejected"),
        ("later@example.vn", "mail_deferred"),
        ("closing@example.vn", "mail_unavailable"),
    ):
        with pytest.raises(MailUnavailableError) as caught:
            transport.send(to=to, subject="s", body="b")
        assert caught.value.code == code
        assert to not in caught.value.message

    for to, subject in (
        ("a@example.vn", "Hồ sơ\r\nBcc: x@example.vn"),
        ("a@example.vn\r\nBcc: x@example.vn", "s"),
        ("a@example.vn, x@example.vn", "s"),
        ("Lan <a@example.vn>", "s"),
        ("not-an-address", "s"),
    ):
        with pytest.raises(InvalidInputError) as invalid:
            transport.send(to=to, subject=subject, body="b")
        assert invalid.value.code == "mail_invalid"
    assert smtp_server.mailbox.received == []


def test_unreachable_and_silent_servers_are_unavailable(clock: MovableClock) -> None:
    closed = SmtpTransport("127.0.0.1", free_port(), sender=SENDER, clock=clock)
    with pytest.raises(MailUnavailableError) as refused:
        closed.send(to="a@example.vn", subject="s", body="b")
    assert refused.value.code == "mail_unavailable"
    assert isinstance(refused.value.__cause__, OSError)

    with socket.socket() as silent:  # accepts the connection, never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        mute = SmtpTransport("127.0.0.1", port, sender=SENDER, clock=clock, timeout=0.3)
        with pytest.raises(MailUnavailableError) as timed_out:
            mute.send(to="a@example.vn", subject="s", body="b")
    assert timed_out.value.code == "mail_unavailable"


@pytest.mark.parametrize("sender", ["", "no-domain", "a@b.vn, c@d.vn", "X <a@b.vn>\r\nBcc: c@d.vn"])
def test_the_sender_must_be_one_address(sender: str) -> None:
    with pytest.raises(ValueError, match="sender"):
        SmtpTransport("127.0.0.1", 25, sender=sender)
