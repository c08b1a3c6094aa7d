"""The notifier (issue 12.4): what happens to a request becomes e-mail to its citizen, and a
certified, paid request becomes ready for download — without coming back to the office.

It reads the audit chain forward from where it stopped (a projection: every change of a
request is an audit event written in the change's own transaction, so nothing that happened
can be missed, and nothing is told twice):

- ``request_booked``, ``request_received``, ``original_refused``, ``request_extended``
  enqueue the matching e-mail (:mod:`certify.mail_texts`) in the outbox, keyed by the event,
  so running twice (two replicas, a crash before the cursor moved) writes it once;
- ``copy.issued``, ``payment_confirmed``, ``payment_recorded`` (and a refusal that finishes a
  request) make the request ready when it is certified and its fee is paid or waived: a
  download link per copy and the e-mail carrying them, in one transaction
  (``storage.bookings.Bookings.make_ready``), at most once.

The outbox is then sent by :class:`certify.outbox_sender.OutboxSender`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Final, Protocol

from certify import mail_texts
from certify.citizen_ports import ReadyMail
from certify.citizens import Citizens, Tracking
from certify.errors import NotFoundError
from certify.ports import AuditRecord, Clock, DocumentEntry, RequestRecord

log = logging.getLogger(__name__)

PROJECTION: Final = "mail"
NOTIFIER_ACTOR: Final = "notifier"
_MAILED: Final = ("request_booked", "request_received", "original_refused", "request_extended")
_SETTLING: Final = ("copy.issued", "payment_confirmed", "payment_recorded", "original_refused")
WATCHED: Final = tuple(dict.fromkeys(_MAILED + _SETTLING))


class NotifierRegister(Protocol):
    def audit_events_after(
        self, last_id: int, *, limit: int, actions: Sequence[str]
    ) -> tuple[int, list[tuple[int, AuditRecord]]]: ...

    def projection_position(self, name: str) -> int: ...

    def set_projection_position(self, name: str, event_id: int) -> None: ...

    def get_request(self, code: str) -> RequestRecord: ...

    def request_of_document(self, document_id: str) -> RequestRecord: ...

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
    ) -> bool: ...

    def make_ready(
        self,
        code: str,
        *,
        now: dt.datetime,
        lifetime: dt.timedelta,
        mail: ReadyMail | None,
        audit: AuditRecord,
    ) -> bool: ...


class Notifier:
    """Turns the audit chain's request events into e-mails and ready requests."""

    def __init__(
        self,
        *,
        register: NotifierRegister,
        citizens: Citizens,
        clock: Clock,
        base_url: str,
        link_lifetime: dt.timedelta,
        batch: int = 500,
    ) -> None:
        self._register = register
        self._citizens = citizens
        self._clock = clock
        self._base_url = base_url.rstrip("/")
        self._lifetime = link_lifetime
        self._batch = batch

    def run_once(self) -> int:
        """Handle the events written since the last run; returns how many were handled.

        Raises what the register raises (``DatabaseUnavailableError``): the place stays
        where it was and the next run starts there again.
        """
        handled = 0
        while True:
            start = self._register.projection_position(PROJECTION)
            upto, events = self._register.audit_events_after(
                start, limit=self._batch, actions=WATCHED
            )
            for event_id, event in events:
                self._handle(event_id, event)
                handled += 1
            if upto == start:
                return handled
            self._register.set_projection_position(PROJECTION, upto)

    def _handle(self, event_id: int, event: AuditRecord) -> None:
        try:
            if event.action == "copy.issued":
                request = self._register.request_of_document(event.subject)
            else:
                request = self._register.get_request(event.subject)
        except NotFoundError:
            return  # e.g. a refused certification's request, removed again
        if event.action in _MAILED:
            self._mail(event_id, event, request)
        if event.action in _SETTLING:
            self.settle(request)

    def _url(self, request: RequestRecord) -> str:
        return f"{self._base_url}/t/{request.tracking_code}"

    def _mail(self, event_id: int, event: AuditRecord, request: RequestRecord) -> None:
        if not request.requester_email or not request.tracking_code:
            return
        tracking = self._citizens.tracking_of(request)
        name, url = tracking.authority.name, self._url(request)
        if event.action == "request_booked":
            text = mail_texts.booked_mail(
                authority_name=name, request=request, items=tracking.items, tracking_url=url
            )
        elif event.action == "request_received":
            text = mail_texts.received_mail(
                authority_name=name, request=request, items=tracking.items, tracking_url=url
            )
        elif event.action == "original_refused":
            position = int(event.details.get("original", "0"))
            item = next((i for i in tracking.items if i.position == position), None)
            if item is None or item.status != "refused":
                return
            text = mail_texts.refused_mail(
                authority_name=name, request=request, item=item, tracking_url=url
            )
        else:  # request_extended
            appointment = request.extended_to
            if appointment is None:
                return
            text = mail_texts.extended_mail(
                authority_name=name, request=request, appointment=appointment, tracking_url=url
            )
        subject, body = text
        self._register.enqueue_mail(
            dedupe_key=f"{event.action}:{event_id}",
            request_id=None,
            kind=event.action.removeprefix("request_").removeprefix("original_"),
            to_address=request.requester_email,
            subject=subject,
            body=body,
            now=self._clock.now(),
        )

    def settle(self, request: RequestRecord) -> bool:
        """Make ``request`` ready if it is certified and its fee paid or waived (once).
        Returns whether it became ready now."""
        tracking = self._citizens.tracking_of(request)
        if tracking.state != "certified" or tracking.payment_state not in ("paid", "waived"):
            return False
        now = self._clock.now()
        done = self._register.make_ready(
            request.code,
            now=now,
            lifetime=self._lifetime,
            mail=self._ready_mail(tracking, now),
            audit=AuditRecord(
                actor=NOTIFIER_ACTOR,
                action="request_ready",
                subject=request.code,
                at=now,
                details={"authority": request.authority_code},
            ),
        )
        if done:
            log.info("request ready for download (%s)", request.authority_code)
        return done

    def _ready_mail(self, tracking: Tracking, now: dt.datetime) -> ReadyMail:
        def compose(
            request: RequestRecord, links: list[tuple[DocumentEntry, str]]
        ) -> tuple[str, str]:
            copies = [
                (
                    entry,
                    f"{self._base_url}/d/{secret}",
                    f"{self._base_url}/v/{entry.verification_token}",
                )
                for entry, secret in links
            ]
            return mail_texts.ready_mail(
                authority_name=tracking.authority.name,
                request=request,
                copies=copies,
                expires_at=now + self._lifetime,
                tracking_url=self._url(request),
            )

        return compose
