"""The citizens' side: the e-mail outbox, the notifier and tracking, each against a baseline.

What the outbox adds to sending an e-mail, what telling the citizen adds to a booking, and
what a tracking lookup costs over the bare application.

    .venv/bin/python bench/bench_citizens.py [--mails 200] [--bookings 300] [--lookups 200]
                                             [--runs 3] [--no-postgres]

One real world (bench/_world.py: PKI served over HTTP, MinIO, a migrated SQLite register) with
the application's services on it (``api.services.Services``, the citizens' side wired by
``api.citizen_services``), and a real SMTP server: aiosmtpd's ``Controller`` on 127.0.0.1 (a
thread of this process) whose handler counts every message per recipient. Measured in the
same run, each against its baseline, ``--runs`` rounds, medians:

1. mail — N e-mails (the booking confirmation of ``certify.mail_texts``: Vietnamese and
   English, UTF-8, quoted-printable) sent by ``SmtpTransport.send`` called directly
   (baseline), against the same N written to the outbox (``enqueue_mail``, one transaction
   each) and sent by ``OutboxSender.send_due`` rounds (claim a batch, send, mark each sent)
   until none is due — on the SQLite register and, when a PostgreSQL server answers on
   loopback (``CERTIFY_BENCH_DATABASE_URL``, else ``CERTIFY_TEST_POSTGRES_URL``, else
   127.0.0.1:54329), in a throw-away database there. Every mail must arrive exactly once;
2. notifier — M bookings by ``Citizens.book`` (each writes a ``request_booked`` audit event;
   the baseline, ms per booking), then ``Notifier.run_once`` turns them into outbox mails (ms
   per event): the ratio is what telling the citizen adds to booking;
3. tracking — ``GET /api/v1/tracking/{code}`` of a booked request through the application
   (``create_app``, driven in-process by Starlette's TestClient, rate limits off) against
   ``GET /healthz`` (the cheapest route: the bare application round trip), interleaved.

The application's own mail worker is off (``mail_interval_seconds=0``): the bench runs the
notifier and the sender itself.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import ipaddress
import os
import platform
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import SQLAlchemyError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _world

from api.app import create_app
from api.citizen_services import citizens, notifier
from api.services import Services
from api.settings import Settings
from api.smtp_transport import SmtpTransport
from certify.citizens import BookedOriginal, BookingIntake
from certify.mail_texts import booked_mail
from certify.outbox_sender import OutboxSender
from certify.ports import ItemRecord, RequestRecord, SystemClock
from certify.tracking_codes import new_tracking_code
from storage.database import make_engine, upgrade
from storage.minio_server import free_port
from storage.outbox import OutboxStore

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:54329/postgres"
SENDER = "UBND phường Tân Phú <chungthuc@tanphu.example.vn>"
ORIGINALS = (
    BookedOriginal("Giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở", 4, 2),
    BookedOriginal("Giấy khai sinh (bản chính)", 1, 3),
    BookedOriginal("Bằng tốt nghiệp trung học phổ thông", 1, 1),
)


class Mailbox:
    """An aiosmtpd handler counting the messages it is given, per recipient."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self.octets = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self._lock:
            for rcpt in envelope.rcpt_tos:
                self.received[rcpt] += 1
            self.octets += len(envelope.content)
        return "250 Message accepted for delivery"

    def check(self, expected: list[str]) -> str | None:
        """None if each of ``expected`` arrived exactly once, else what went wrong."""
        with self._lock:
            counts = [self.received[address] for address in expected]
        missing = sum(1 for c in counts if c == 0)
        twice = sum(1 for c in counts if c > 1)
        return None if not (missing or twice) else f"{missing} missing, {twice} more than once"


@contextlib.contextmanager
def smtp_server(mailbox: Mailbox) -> Iterator[int]:
    port = free_port()
    # server_hostname: no getfqdn() (a DNS look-up) at start.
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, server_hostname="bench")
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


# --- the mails -------------------------------------------------------------------------------


def mail_texts(n: int, base_url: str) -> list[tuple[str, str]]:
    """N realistic booking confirmations (subject, body), each for its own request."""
    now = dt.datetime.now(dt.UTC)
    texts = []
    for i in range(n):
        code = "HS-" + secrets.token_hex(5).upper()
        tracking = new_tracking_code()
        request = RequestRecord(
            code=code,
            authority_code=_world.AUTHORITY.code,
            requester_name="Nguyễn Thị Ngọc Ánh",
            requester_id_number="",
            status="booked",
            created_at=now,
            tracking_code=tracking,
            requester_email=f"anh{i}@example.vn",
        )
        items = [
            ItemRecord(code, k, o.document_name, o.pages, o.copies, "booked")
            for k, o in enumerate(ORIGINALS, start=1)
        ]
        texts.append(
            booked_mail(
                authority_name=_world.AUTHORITY.name,
                request=request,
                items=items,
                tracking_url=f"{base_url}/t/{tracking}",
            )
        )
    return texts


def addresses(label: str, n: int) -> list[str]:
    return [f"c{i}.{label}@example.vn" for i in range(n)]


def send_direct(transport: SmtpTransport, texts: list[tuple[str, str]], to: list[str]) -> float:
    t0 = time.perf_counter()
    for address, (subject, body) in zip(to, texts, strict=True):
        transport.send(to=address, subject=subject, body=body)
    return time.perf_counter() - t0


def send_through_outbox(
    outbox: OutboxStore, sender: OutboxSender, texts: list[tuple[str, str]], to: list[str]
) -> tuple[float, float, int]:
    """Enqueue, then send rounds until none is due: (enqueue s, send s, rounds)."""
    t0 = time.perf_counter()
    for n, (address, (subject, body)) in enumerate(zip(to, texts, strict=True)):
        outbox.enqueue_mail(
            dedupe_key=f"bench:{address}:{n}",
            request_id=None,
            kind="booked",
            to_address=address,
            subject=subject,
            body=body,
            now=dt.datetime.now(dt.UTC),
        )
    t1 = time.perf_counter()
    rounds = 0
    while True:
        report = sender.send_due()
        if report.failed or report.deferred:
            raise RuntimeError(f"outbox round failed: {report}")
        if report.claimed == 0:
            break
        rounds += 1
    t2 = time.perf_counter()
    if outbox.outbox_stats(dt.datetime.now(dt.UTC)).pending:
        raise RuntimeError("outbox not empty after sending")
    return t1 - t0, t2 - t1, rounds


@contextlib.contextmanager
def postgres_outbox(admin_url: str) -> Iterator[OutboxStore]:
    """An outbox in a fresh, migrated PostgreSQL database, dropped at the end.

    Raises ``SQLAlchemyError`` when the server cannot be reached; ``RuntimeError`` for a
    server that is not on loopback (a bench drops what it created, never elsewhere)."""
    url = make_url(admin_url)
    host = url.host or "localhost"
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise RuntimeError(f"refusing a non-loopback database host: {host}")
    admin = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    name = f"certify_bench_{secrets.token_hex(4)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except SQLAlchemyError:
        admin.dispose()
        raise
    engine = None
    try:
        database_url = url.set(database=name).render_as_string(hide_password=False)
        upgrade(database_url)
        engine = make_engine(database_url)
        yield OutboxStore(engine)
    finally:
        if engine is not None:
            engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- the report ------------------------------------------------------------------------------


def row(label: str, value: str, ratio: str = "") -> None:
    print(f"  {label:<46} {value:>17}  {ratio}")


def median_ms(seconds: list[float], per: int = 1) -> float:
    return statistics.median(seconds) * 1000 / per


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = call()
    return time.perf_counter() - t0, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mails", type=int, default=200, help="e-mails per mode and round")
    parser.add_argument("--bookings", type=int, default=300, help="bookings per round")
    parser.add_argument("--lookups", type=int, default=200, help="tracking and healthz calls")
    parser.add_argument("--runs", type=int, default=3, help="rounds of the mail and notifier parts")
    parser.add_argument("--no-postgres", action="store_true", help="skip the outbox on PostgreSQL")
    args = parser.parse_args()
    _world.quiet_logs()
    started = time.perf_counter()

    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}")
    mailbox = Mailbox()
    with (
        tempfile.TemporaryDirectory(prefix="bench-citizens-") as tmp,
        _world.build_world(Path(tmp)) as world,
        smtp_server(mailbox) as smtp_port,
    ):
        settings = Settings(
            data_dir=Path(tmp) / "var",
            public_base_url=world.base_url,
            deployment="demo",
            booking_rate_limit="",
            tracking_rate_limit="",
            smtp_host="127.0.0.1",
            smtp_port=smtp_port,
            smtp_sender=SENDER,
            mail_interval_seconds=0,
        )
        services = Services(
            settings=settings,
            engine=world.register.engine,
            store=world.store,
            clock=SystemClock(),
            _pki=world.pki,
            _signers=world.signers,
            _certification=world.service,
        )
        # The transport and sender as api.citizen_services.mail_sender builds them.
        transport = SmtpTransport(
            settings.smtp_host,
            settings.smtp_port,
            sender=settings.smtp_sender,
            timeout=settings.smtp_timeout_seconds,
        )
        print(
            f"settings: {args.mails} mails, {args.bookings} bookings, {args.lookups} lookups, "
            f"{args.runs} rounds; SMTP 127.0.0.1:{smtp_port} (aiosmtpd, in-process thread), "
            "a connection per mail, OutboxSender defaults (batch 20, lease 5 min); rate limits "
            "off, mail_interval_seconds=0"
        )
        try:
            with contextlib.ExitStack() as stack:
                outboxes: dict[str, OutboxStore] = {"sqlite": world.register}
                if not args.no_postgres:
                    pg_url = os.environ.get("CERTIFY_BENCH_DATABASE_URL") or os.environ.get(
                        "CERTIFY_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL
                    )
                    shown = make_url(pg_url).render_as_string(hide_password=True)
                    try:
                        outboxes["postgresql"] = stack.enter_context(postgres_outbox(pg_url))
                        print(f"PostgreSQL: {shown} (a throw-away database)")
                    except SQLAlchemyError as exc:
                        print(f"PostgreSQL: skipped, {shown} unreachable ({type(exc).__name__})")
                mail_part(args, world.base_url, transport, outboxes, mailbox)
            notifier_part(args, services)
            tracking_part(args, services)
        finally:
            services.close()
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0


def mail_part(
    args: argparse.Namespace,
    base_url: str,
    transport: SmtpTransport,
    outboxes: dict[str, OutboxStore],
    mailbox: Mailbox,
) -> None:
    n = args.mails
    texts = mail_texts(n, base_url)
    size = statistics.mean(len(s.encode()) + len(b.encode()) for s, b in texts)
    senders = {name: OutboxSender(o, transport, SystemClock()) for name, o in outboxes.items()}
    # Warm-up (connections, the outbox's first statements), not counted.
    send_direct(transport, texts[:5], addresses("warm-direct", 5))
    for name, outbox in outboxes.items():
        send_through_outbox(outbox, senders[name], texts[:5], addresses(f"warm-{name}", 5))
    direct: list[float] = []
    enqueue: dict[str, list[float]] = {name: [] for name in outboxes}
    send: dict[str, list[float]] = {name: [] for name in outboxes}
    rounds: dict[str, int] = {}
    errors: list[str] = []
    for r in range(args.runs):  # interleaved: every mode sees the same machine
        to = addresses(f"r{r}-direct", n)
        direct.append(send_direct(transport, texts, to))
        if (wrong := mailbox.check(to)) is not None:
            errors.append(f"direct round {r}: {wrong}")
        for name, outbox in outboxes.items():
            to = addresses(f"r{r}-{name}", n)
            e, s, rounds[name] = send_through_outbox(outbox, senders[name], texts, to)
            enqueue[name].append(e)
            send[name].append(s)
            if (wrong := mailbox.check(to)) is not None:
                errors.append(f"{name} round {r}: {wrong}")
    expected = (5 + n * args.runs) * (1 + len(outboxes))
    total = sum(mailbox.received.values())
    print()
    print(
        f"1. e-mail: {n} mails per mode ({size / 1024:.1f} KiB of UTF-8 text each, "
        f"{mailbox.octets / max(total, 1) / 1024:.1f} KiB on the wire), median of {args.runs}"
    )
    d = median_ms(direct, n)
    row("direct  SmtpTransport.send", f"{d:6.2f} ms/mail", f"{1000 / d:6.0f} mails/s  (1.00x)")
    for name in outboxes:
        e, s = median_ms(enqueue[name], n), median_ms(send[name], n)
        both = statistics.median(a + b for a, b in zip(enqueue[name], send[name], strict=True))
        t = both * 1000 / n
        row(f"outbox  {name}: enqueue_mail", f"{e:6.2f} ms/mail", f"{e / d:5.2f}x direct")
        row(
            f"outbox  {name}: send_due, {rounds[name]} rounds",
            f"{s:6.2f} ms/mail",
            f"{s / d:5.2f}x direct  (claim + mark sent: {s - d:+.2f} ms/mail)",
        )
        row(
            f"outbox  {name}: enqueue + send",
            f"{t:6.2f} ms/mail",
            f"{1000 / t:6.0f} mails/s  ({t / d:.2f}x direct)",
        )
    verdict = "every mail arrived exactly once" if not errors else "; ".join(errors)
    print(f"  server received {total} of {expected} sent: {verdict}")
    if errors or total != expected:
        raise RuntimeError(f"mail delivery check failed: {verdict}")


def notifier_part(args: argparse.Namespace, services: Services) -> None:
    m = args.bookings
    booking = citizens(services)
    telling = notifier(services)
    outbox: OutboxStore = services.register
    telling.run_once()  # catch up with the world's own events (none is a booking's)

    def intake(i: int) -> BookingIntake:
        return BookingIntake(
            authority_code=_world.AUTHORITY.code,
            requester_name="Nguyễn Thị Ngọc Ánh",
            email=f"anh.{i}@example.vn",
            phone="0912 345 678",
            originals=ORIGINALS,
        )

    book: list[float] = []
    project: list[float] = []
    made = 0
    for _ in range(args.runs):
        before = outbox.outbox_stats(dt.datetime.now(dt.UTC)).pending
        t0 = time.perf_counter()
        for _ in range(m):
            booking.book(intake(made))
            made += 1
        book.append(time.perf_counter() - t0)
        seconds, handled = timed(telling.run_once)
        project.append(seconds)
        written = outbox.outbox_stats(dt.datetime.now(dt.UTC)).pending - before
        if handled != m or written != m:
            raise RuntimeError(f"notifier handled {handled} and wrote {written} of {m}")
    b, p = median_ms(book, m), median_ms(project, m)
    print()
    print(
        f"2. notifier: {m} bookings per round ({len(ORIGINALS)} originals each), "
        f"then Notifier.run_once, median of {args.runs} rounds ({made} bookings in all)"
    )
    row("baseline  Citizens.book", f"{b:6.2f} ms/booking", f"{1000 / b:6.0f} bookings/s  (1.00x)")
    row(
        "notifier  run_once: booked event -> outbox",
        f"{p:6.2f} ms/event",
        f"{1000 / p:6.0f} events/s   ({p / b:.2f}x a booking)",
    )
    per_round = ", ".join(f"{s * 1000 / m:.2f}" for s in project)
    print(f"  notifier ms/event by round (register growing): {per_round}")


def tracking_part(args: argparse.Namespace, services: Services) -> None:
    k = args.lookups
    intake = BookingIntake(
        authority_code=_world.AUTHORITY.code,
        requester_name="Trần Văn Bình",
        email="binh@example.vn",
        originals=ORIGINALS,
    )
    _, code = citizens(services).book(intake)
    with TestClient(create_app(services=services)) as client:

        def call(path: str) -> float:
            t0 = time.perf_counter()
            answer = client.get(path)
            seconds = time.perf_counter() - t0
            answer.raise_for_status()
            return seconds

        tracking = f"/api/v1/tracking/{code}"
        if client.get(tracking).json()["state"] != "booked":
            raise RuntimeError("the tracked request is not booked")
        for _ in range(20):  # warm-up (and the start-up register check)
            call("/healthz")
            call(tracking)
        health: list[float] = []
        track: list[float] = []
        for _ in range(k):  # interleaved
            health.append(call("/healthz"))
            track.append(call(tracking))
    h, t = median_ms(health), median_ms(track)
    q = statistics.quantiles(track, n=10)[-1] * 1000
    print()
    print(f"3. tracking lookup through the app (TestClient, in-process), median of {k} calls")
    row("baseline  GET /healthz", f"{h:6.2f} ms", "(1.00x)")
    row("tracking  GET /api/v1/tracking/{code}", f"{t:6.2f} ms", f"{t / h:5.2f}x healthz")
    row("tracking  p90", f"{q:6.2f} ms", "")


if __name__ == "__main__":
    raise SystemExit(main())
