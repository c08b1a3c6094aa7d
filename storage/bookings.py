"""The citizens' side of requests (issue 12): bookings made online, found by their tracking
code and received at the desk; the fee's payments; the copies made ready (download links and
the e-mail, one transaction) and their first download; the rows of the public measure.

Holds personal data through the requests it reads: never log it.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from certify.citizen_ports import PaymentRecord, ReadyMail, RequestView
from certify.errors import InvalidInputError, NotFoundError, RegisterConflictError
from certify.ports import AuditRecord, AuthorityRecord, DocumentEntry, ItemRecord, RequestRecord
from storage.audit_chain import append_event
from storage.citizen_tables import Payment
from storage.database import Authority, Document, DownloadLink, Province, Request, RequestItem
from storage.desk_sessions import secret_digest
from storage.numbering import document_select, entry_of
from storage.officers import authority_record
from storage.outbox import add_mail
from storage.request_items import add_with_items, item_record, items_select
from storage.requests import request_record
from storage.sql_base import SqlBase, aware

# Who made the download links of a ready request (issue 12.4), as download_links.created_by.
DELIVERY_ACTOR = "delivery"


def _payment_record(row: Payment, request_code: str) -> PaymentRecord:
    return PaymentRecord(
        request_code=request_code,
        amount=row.amount,
        method=row.method,
        reference=row.reference,
        paid_at=row.paid_at,
        recorded_by=row.recorded_by,
        provider_txn=row.provider_txn,
    )


def _locked_request(session: Session, code: str) -> Request:
    request = session.execute(
        select(Request).where(Request.code == code).with_for_update()
    ).scalar_one_or_none()
    if request is None:
        raise NotFoundError("Không tìm thấy hồ sơ. / No such request.")
    return request


class Bookings(SqlBase):
    """Bookings, payments, readiness and delivery of requests."""

    def list_authorities(self) -> list[AuthorityRecord]:
        """Every authority, by province and name (the booking form's choice)."""
        with self._session(write=False) as session:
            rows = session.execute(
                select(Authority, Province)
                .join(Province, Authority.province_code == Province.code)
                .order_by(Province.name, Authority.name)
            ).all()
            return [authority_record(a, p) for a, p in rows]

    def add_booking(
        self,
        code: str,
        *,
        tracking_code: str,
        authority_code: str,
        requester_name: str,
        requester_email: str,
        requester_phone: str | None,
        created_at: dt.datetime,
        items: Sequence[tuple[str, int, int]],
        audit: AuditRecord,
    ) -> tuple[RequestRecord, list[ItemRecord]]:
        """Create a booked request (no ID number yet: the clerk takes it at the desk) with its
        originals ``(document name, pages, copies)`` and its audit event, in one transaction.

        Raises ``InvalidInputError`` (no originals, naive time), ``NotFoundError`` (unknown
        authority), ``RegisterConflictError`` (code or tracking code taken).
        """
        if not items:
            raise InvalidInputError("Hồ sơ chưa có bản chính nào. / The request lists no original.")
        aware(created_at, "created_at")
        with self._session(write=True) as session:
            if session.get(Authority, authority_code) is None:
                raise NotFoundError("Không có cơ quan này. / No such authority.")
            request = Request(
                code=code,
                tracking_code=tracking_code,
                authority_code=authority_code,
                requester_name=requester_name,
                requester_id_number="",
                requester_email=requester_email,
                requester_phone=requester_phone,
                status="booked",
                created_at=created_at,
            )
            rows = add_with_items(session, request, items, status="booked")
            append_event(session, audit)
            session.flush()
            return request_record(request), [item_record(r, code, None) for r in rows]

    def find_request_by_tracking(self, tracking_code: str) -> RequestRecord | None:
        """The request whose tracking code is ``tracking_code``, or None."""
        if not tracking_code or len(tracking_code) > 32:
            return None
        with self._session(write=False) as session:
            request = session.execute(
                select(Request).where(Request.tracking_code == tracking_code)
            ).scalar_one_or_none()
            return None if request is None else request_record(request)

    def set_tracking(
        self, code: str, *, tracking_code: str, requester_email: str | None
    ) -> RequestRecord:
        """Give a request received at the desk its tracking code (and the e-mail address its
        contact gave). Raises ``NotFoundError``, ``RegisterConflictError``."""
        with self._session(write=True) as session:
            request = _locked_request(session, code)
            request.tracking_code = tracking_code
            request.requester_email = requester_email
            session.flush()
            return request_record(request)

    def receive_booking(
        self,
        code: str,
        *,
        requester_id_number: str,
        received_at: dt.datetime,
        due_at: dt.datetime | None,
        audit: AuditRecord,
    ) -> tuple[RequestRecord, list[ItemRecord]]:
        """The booked request ``code`` received at the desk: its originals are there now, the
        requester's ID number is taken and the due time starts (DOMAIN: the original is always
        checked by a person). One transaction with its audit event.

        Raises ``NotFoundError``, ``RegisterConflictError`` (``request_state``: not booked,
        e.g. received already by another clerk).
        """
        aware(received_at, "received_at")
        with self._session(write=True) as session:
            request = _locked_request(session, code)
            if request.status != "booked":
                raise RegisterConflictError(
                    "Hồ sơ này đã được tiếp nhận hoặc đã đóng. / This request was received "
                    "already or is closed.",
                    code="request_state",
                )
            request.status = "received"
            request.requester_id_number = requester_id_number
            request.received_at = received_at
            request.due_at = due_at
            session.execute(
                update(RequestItem)
                .where(RequestItem.request_id == request.id, RequestItem.status == "booked")
                .values(status="received")
            )
            append_event(session, audit)
            session.flush()
            items = session.execute(
                items_select()
                .where(RequestItem.request_id == request.id)
                .order_by(RequestItem.position)
            ).all()
            return request_record(request), [item_record(i, rc, at) for i, rc, at in items]

    def request_view(
        self, *, code: str | None = None, tracking_code: str | None = None
    ) -> RequestView | None:
        """A request (by its code or its tracking code) with its authority, originals,
        register entries and payments, read in one transaction; None when there is none."""
        if code is None and not tracking_code:
            return None
        with self._session(write=False) as session:
            where = (
                Request.code == code if code is not None else Request.tracking_code == tracking_code
            )
            row = session.execute(
                select(Request, Authority, Province)
                .join(Authority, Request.authority_code == Authority.code)
                .join(Province, Authority.province_code == Province.code)
                .where(where)
            ).one_or_none()
            if row is None:
                return None
            request, authority, province = row
            items = session.execute(
                items_select()
                .where(RequestItem.request_id == request.id)
                .order_by(RequestItem.position)
            ).all()
            documents = session.execute(
                document_select().where(Document.request_id == request.id).order_by(Document.number)
            ).all()
            payments = session.execute(
                select(Payment)
                .where(Payment.request_id == request.id)
                .order_by(Payment.paid_at, Payment.id)
            ).scalars()
            return RequestView(
                request=request_record(request),
                authority=authority_record(authority, province),
                items=tuple(item_record(i, rc, at) for i, rc, at in items),
                documents=tuple(entry_of(*d) for d in documents),
                payments=tuple(_payment_record(p, request.code) for p in payments),
            )

    def documents_of_request(self, code: str) -> list[DocumentEntry]:
        """The register entries of request ``code``, by number."""
        with self._session(write=False) as session:
            rows = session.execute(
                document_select().where(Request.code == code).order_by(Document.number)
            ).all()
            return [entry_of(*row) for row in rows]

    # --- payments ------------------------------------------------------------------------

    def add_payment(
        self, payment: PaymentRecord, *, audit: AuditRecord
    ) -> tuple[PaymentRecord, bool]:
        """Record a payment of request ``payment.request_code`` with its audit event. A bank
        transaction already recorded is not recorded again: the first record is returned
        with ``False`` (idempotent webhook).

        Raises ``NotFoundError``, ``RegisterConflictError`` (``payment_conflict``: the
        transaction id was recorded for another request or amount).
        """
        aware(payment.paid_at, "paid_at")
        with self._session(write=True) as session:
            request = _locked_request(session, payment.request_code)
            if payment.provider_txn is not None:
                seen = session.execute(
                    select(Payment, Request.code)
                    .join(Request, Payment.request_id == Request.id)
                    .where(Payment.provider_txn == payment.provider_txn)
                ).one_or_none()
                if seen is not None:
                    row, code = seen
                    if code != payment.request_code or row.amount != payment.amount:
                        raise RegisterConflictError(
                            "Mã giao dịch này đã được ghi cho khoản khác. / This transaction "
                            "was recorded for another payment.",
                            code="payment_conflict",
                        )
                    return _payment_record(row, code), False
            row = Payment(
                request_id=request.id,
                amount=payment.amount,
                method=payment.method,
                reference=payment.reference,
                provider_txn=payment.provider_txn,
                paid_at=payment.paid_at,
                recorded_by=payment.recorded_by,
            )
            session.add(row)
            append_event(session, audit)
            session.flush()
            return _payment_record(row, request.code), True

    def payments_of(self, code: str) -> list[PaymentRecord]:
        """The payments of request ``code``, oldest first."""
        return self.payments_of_requests([code]).get(code, [])

    def payments_of_requests(self, codes: Sequence[str]) -> dict[str, list[PaymentRecord]]:
        """The payments of each request in ``codes`` (every code is a key)."""
        found: dict[str, list[PaymentRecord]] = {c: [] for c in codes}
        if not codes:
            return found
        with self._session(write=False) as session:
            rows = session.execute(
                select(Payment, Request.code)
                .join(Request, Payment.request_id == Request.id)
                .where(Request.code.in_(list(codes)))
                .order_by(Payment.paid_at, Payment.id)
            ).all()
            for row, code in rows:
                found[code].append(_payment_record(row, code))
        return found

    # --- ready and delivered -------------------------------------------------------------

    def make_ready(
        self,
        code: str,
        *,
        now: dt.datetime,
        lifetime: dt.timedelta,
        mail: ReadyMail | None,
        audit: AuditRecord,
    ) -> bool:
        """Make a certified request's copies ready, once: a download link to each issued copy
        (not cancelled), the e-mail that carries them (``mail``; None: no address), the audit
        event and ``ready_at`` — one transaction, so the links and the mail exist together or
        not at all. Returns False when it was ready already or is not certified.
        """
        aware(now, "now")
        with self._session(write=True) as session:
            request = _locked_request(session, code)
            if request.ready_at is not None or request.status != "certified":
                return False
            rows = session.execute(
                document_select()
                .where(Document.request_id == request.id, Document.status == "issued")
                .order_by(Document.number)
            ).all()
            links: list[tuple[DocumentEntry, str]] = []
            for row in rows:
                secret = secrets.token_urlsafe(32)
                session.add(
                    DownloadLink(
                        id=secret_digest(secret),
                        document_id=row[0].id,
                        created_by=DELIVERY_ACTOR,
                        created_at=now,
                        expires_at=now + lifetime,
                    )
                )
                links.append((entry_of(*row), secret))
            if not links:
                return False
            request.ready_at = now
            session.flush()
            if mail is not None and request.requester_email:
                subject, body = mail(request_record(request), links)
                add_mail(
                    session,
                    dedupe_key=f"ready:{code}",
                    request_id=request.id,
                    kind="ready",
                    to_address=request.requester_email,
                    subject=subject,
                    body=body,
                    now=now,
                )
            append_event(session, audit)
            return True

    def mark_delivered(self, code: str, at: dt.datetime) -> bool:
        """Note the first download of a ready request's copy by its requester. Returns
        whether this was the first."""
        aware(at, "at")
        with self._session(write=True) as session:
            done = session.execute(
                update(Request)
                .where(Request.code == code, Request.delivered_at.is_(None))
                .values(delivered_at=at)
            )
            return bool(getattr(done, "rowcount", 0))

    # --- the public measure --------------------------------------------------------------

    def requests_for_measure(
        self, authority_codes: Sequence[str], *, since: dt.datetime, until: dt.datetime
    ) -> list[tuple[RequestRecord, list[ItemRecord], list[PaymentRecord]]]:
        """The requests of ``authority_codes`` received in [since, until), each with its
        originals and payments."""
        aware(since, "since")
        aware(until, "until")
        with self._session(write=False) as session:
            requests = list(
                session.execute(
                    select(Request)
                    .where(
                        Request.authority_code.in_(list(authority_codes)),
                        Request.received_at >= since,
                        Request.received_at < until,
                    )
                    .order_by(Request.received_at, Request.id)
                ).scalars()
            )
            items: dict[str, list[ItemRecord]] = {r.code: [] for r in requests}
            ids = [r.id for r in requests]
            if ids:
                for item, rc, issued in session.execute(
                    items_select()
                    .where(RequestItem.request_id.in_(ids))
                    .order_by(RequestItem.request_id, RequestItem.position)
                ):
                    items[rc].append(item_record(item, rc, issued))
        payments = self.payments_of_requests([r.code for r in requests])
        return [(request_record(r), items[r.code], payments[r.code]) for r in requests]
