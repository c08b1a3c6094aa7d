"""Ports of the citizens' side (issue 12): payments, the e-mail outbox and its transport.

Like :mod:`certify.ports`, Protocols and records only; ``storage`` implements the register's
parts, ``api`` the SMTP transport.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Protocol

if TYPE_CHECKING:
    from certify.ports import AuthorityRecord, DocumentEntry, ItemRecord, RequestRecord

# How a fee was paid (TT 226/2016): cash is the only method that is not cashless.
PAYMENT_METHODS: Final = ("transfer", "card", "cash")


@dataclass(frozen=True)
class PaymentRecord:
    """One payment of a request's fee: confirmed by the bank (``recorded_by`` "bank", with
    the bank's transaction id) or recorded by a clerk at the desk."""

    request_code: str
    amount: int
    method: str
    reference: str
    paid_at: dt.datetime
    recorded_by: str
    provider_txn: str | None = None

    @property
    def cashless(self) -> bool:
        return self.method != "cash"


@dataclass(frozen=True)
class RequestView:
    """A request with everything its tracking page shows, read at one moment. Personal
    data: never logged."""

    request: RequestRecord
    authority: AuthorityRecord
    items: tuple[ItemRecord, ...]
    documents: tuple[DocumentEntry, ...]
    payments: tuple[PaymentRecord, ...]


@dataclass(frozen=True)
class MailMessage:
    """An e-mail of the outbox, claimed for sending. The body may hold a download link:
    never log it."""

    id: int
    kind: str
    to_address: str
    subject: str
    body: str
    attempts: int


class Outbox(Protocol):
    """The e-mail outbox in the register database (``storage.outbox``).

    Several workers (processes, replicas) may send at once: ``claim_due`` leases each message
    to one of them until ``lease`` has passed.
    """

    def claim_due(
        self, now: dt.datetime, *, limit: int, lease: dt.timedelta
    ) -> list[MailMessage]: ...

    def mark_sent(self, message_id: int, now: dt.datetime) -> None: ...

    def mark_failed(
        self, message_id: int, *, now: dt.datetime, retry_at: dt.datetime, error: str
    ) -> None: ...


class MailTransport(Protocol):
    """Sends one e-mail (``api.smtp_transport``). Raises ``MailUnavailableError`` when it
    could not be handed over (to try again later)."""

    def send(self, *, to: str, subject: str, body: str) -> None: ...


ReadyMail = Callable[["RequestRecord", list[tuple["DocumentEntry", str]]], tuple[str, str]]
"""``(request, [(entry, download secret)]) -> (subject, body)``: the e-mail of a request whose
copies are ready, composed inside the transaction that makes their download links."""
