"""The citizens' side (issue 12): book online, follow the request by its tracking code,
and receive the copy without coming back — the seed's "hai không".

- A **booking** lists the originals the citizen will bring, with a name and an e-mail
  address; it answers an unguessable tracking code (80 random bits, also printed as a QR
  code). The clerk finds the booking by that code when the citizen comes with the originals
  (:meth:`Citizens.receive_booking`), takes the ID number, and the due time starts then
  (DOMAIN.md: the original is always checked by a person).
- **Tracking** (:meth:`Citizens.track`) shows the holder of the code the request's state —
  booked, received, certified, refused, ready, delivered, cancelled — its due time, fee and
  payment (:mod:`certify.payments`). Only the code's holder and the authority's officers
  see the personal data; the routes rate-limit and record wrong codes.
- **Delivery**: once certified and paid (or the fee waived) the notifier makes the request
  ready: a download link per copy, e-mailed (:mod:`certify.notifier`); the tracking page
  serves the copies again until the links expire (:meth:`Citizens.copy_for_holder`).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from certify.access import Principal
from certify.citizen_ports import PaymentRecord, RequestView
from certify.desk import (
    Desk,
    DeskRequest,
    OriginalIntake,
    clean_originals,
    clean_text,
)
from certify.errors import InvalidInputError, NotFoundError
from certify.fees import certification_fee
from certify.ports import (
    AuditRecord,
    AuthorityRecord,
    Clock,
    DocumentEntry,
    ItemRecord,
    RequestRecord,
)
from certify.tracking_codes import email_address, new_tracking_code, normalise_tracking_code

# Who acts in the audit chain for someone without an account.
CITIZEN_ACTOR: Final = "citizen"
# The states a citizen is shown (issue 12.2).
STATES: Final = (
    "booked",
    "received",
    "certified",
    "refused",
    "ready",
    "delivered",
    "cancelled",
)
_PHONE_RE: Final = re.compile(r"\+?[0-9 .-]{8,20}")


# An original the citizen will bring: its name, about how many pages, the copies wanted.
BookedOriginal = OriginalIntake


@dataclass(frozen=True)
class BookingIntake:
    """A booking as the citizen fills it in. Personal data: never logged."""

    authority_code: str
    requester_name: str
    email: str
    originals: tuple[BookedOriginal, ...]
    phone: str | None = None


@dataclass(frozen=True)
class Tracking:
    """A request as its tracking code's holder sees it."""

    request: RequestRecord
    authority: AuthorityRecord
    items: tuple[ItemRecord, ...]
    documents: tuple[DocumentEntry, ...]
    payments: tuple[PaymentRecord, ...]
    # When the copies stop being downloadable (the delivery links' expiry), if ready.
    download_until: dt.datetime | None

    @property
    def state(self) -> str:
        """One of :data:`STATES`."""
        request = self.request
        if request.status in ("booked", "received", "refused", "cancelled"):
            return request.status
        if self.documents and all(d.status == "cancelled" for d in self.documents):
            return "cancelled"
        if request.delivered_at is not None:
            return "delivered"
        return "ready" if request.ready_at is not None else "certified"

    @property
    def estimated_fee(self) -> int:
        """The fee worked out from the pages declared or scanned (TT 226/2016), before it is
        final; 0 when the authority waives it."""
        return sum(
            certification_fee(i.scan_pages or i.pages, i.copies, waived=self.authority.fee_waived)
            for i in self.items
            if i.status != "refused"
        )

    @property
    def fee(self) -> int | None:
        """The fee due, once every original is finished: the register's fees of the copies
        (TT 226/2016); None before."""
        if self.request.status != "certified":
            return None
        return sum(d.fee for d in self.documents)

    @property
    def paid(self) -> int:
        return sum(p.amount for p in self.payments)

    @property
    def payment_state(self) -> str:
        """``waived``, ``pending`` (fee not final yet), ``unpaid``, ``paid``, or ``none``
        (nothing to pay: refused or cancelled)."""
        if self.authority.fee_waived:
            return "waived"
        if self.request.status in ("refused", "cancelled"):
            return "paid" if self.payments else "none"
        fee = self.fee
        if fee is None:
            return "pending"
        return "paid" if self.paid >= fee else "unpaid"

    def downloadable(self, now: dt.datetime) -> bool:
        return (
            self.state in ("ready", "delivered")
            and self.download_until is not None
            and now < self.download_until
        )


class CitizenRegister(Protocol):
    """What the citizens' side reads and writes (``storage.bookings`` and the desk's)."""

    def get_authority(self, code: str) -> AuthorityRecord: ...

    def list_authorities(self) -> list[AuthorityRecord]: ...

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
    ) -> tuple[RequestRecord, list[ItemRecord]]: ...

    def find_request_by_tracking(self, tracking_code: str) -> RequestRecord | None: ...

    def receive_booking(
        self,
        code: str,
        *,
        requester_id_number: str,
        received_at: dt.datetime,
        due_at: dt.datetime | None,
        audit: AuditRecord,
    ) -> tuple[RequestRecord, list[ItemRecord]]: ...

    def request_items(self, code: str) -> list[ItemRecord]: ...

    def request_view(
        self, *, code: str | None = None, tracking_code: str | None = None
    ) -> RequestView | None: ...

    def mark_delivered(self, code: str, at: dt.datetime) -> bool: ...


class Citizens:
    """Bookings, tracking and delivery. Build once per process (``api.services``)."""

    def __init__(
        self,
        *,
        register: CitizenRegister,
        desk: Desk,
        clock: Clock,
        link_lifetime: dt.timedelta,
    ) -> None:
        self._register = register
        self._desk = desk
        self._clock = clock
        self._link_lifetime = link_lifetime

    def authorities(self) -> list[AuthorityRecord]:
        """The authorities a citizen may book with (any: residence does not matter)."""
        return self._register.list_authorities()

    def book(self, intake: BookingIntake) -> tuple[Tracking, str]:
        """Book a request: the citizen's originals, name and e-mail. Returns its tracking and
        the tracking code (given this once to the citizen, who keeps it).

        Raises ``InvalidInputError`` (``field_invalid``, ``originals_invalid``,
        ``email_invalid``), ``NotFoundError`` (no such authority).
        """
        name = clean_text(intake.requester_name, "requester_name", 200)
        email = email_address(unicodedata.normalize("NFC", intake.email or ""))
        if email is None:
            raise InvalidInputError(
                "Địa chỉ thư điện tử không hợp lệ. / The e-mail address is not valid.",
                code="email_invalid",
            )
        phone = (intake.phone or "").strip() or None
        if phone is not None and not _PHONE_RE.fullmatch(phone):
            raise InvalidInputError(
                "Số điện thoại không hợp lệ. / The phone number is not valid.",
                code="phone_invalid",
            )
        items = clean_originals(intake.originals)
        authority = self._register.get_authority(intake.authority_code)
        now = self._clock.now()
        code = "HS-" + secrets.token_hex(5).upper()
        tracking_code = new_tracking_code()
        request, rows = self._register.add_booking(
            code,
            tracking_code=tracking_code,
            authority_code=authority.code,
            requester_name=name,
            requester_email=email,
            requester_phone=phone,
            created_at=now,
            items=items,
            audit=AuditRecord(
                actor=CITIZEN_ACTOR,
                action="request_booked",
                subject=code,
                at=now,
                details={"authority": authority.code, "originals": str(len(items))},
            ),
        )
        return Tracking(request, authority, tuple(rows), (), (), None), tracking_code

    def track(self, tracking_code: str) -> Tracking:
        """The request of ``tracking_code``. Raises ``NotFoundError`` (the same for a code
        that is malformed, unknown, or anything else)."""
        code = normalise_tracking_code(tracking_code)
        view = self._register.request_view(tracking_code=code) if code else None
        if view is None:
            raise NotFoundError(
                "Không tìm thấy hồ sơ với mã tra cứu này. / No request has this tracking code.",
                code="tracking_unknown",
            )
        return self._tracking(view)

    def tracking_of(self, request: RequestRecord) -> Tracking:
        """The tracking view of ``request`` as it stands now (for its holder or its
        authority's officers). Raises ``NotFoundError``."""
        view = self._register.request_view(code=request.code)
        if view is None:
            raise NotFoundError("Không tìm thấy hồ sơ. / No such request.")
        return self._tracking(view)

    def _tracking(self, view: RequestView) -> Tracking:
        ready_at = view.request.ready_at
        return Tracking(
            request=view.request,
            authority=view.authority,
            items=view.items,
            documents=view.documents,
            payments=view.payments,
            download_until=None if ready_at is None else ready_at + self._link_lifetime,
        )

    def for_officer(self, who: Principal, code: str) -> Tracking:
        """The tracking view of request ``code`` for an officer of its authority (desk rules:
        another authority's is not found, and the refusal is recorded)."""
        return self.tracking_of(self._desk.get(who, code).request)

    def receive_booking(
        self, who: Principal, tracking_code: str, requester_id_number: str
    ) -> DeskRequest:
        """The clerk receives a booked request, found by its tracking code, with the
        citizen's ID number: the originals are at the desk and the due time starts now.

        Raises ``NotFoundError`` (no booking with that code at the clerk's authority; the
        refusal is recorded), ``PermissionDeniedError`` (not a clerk),
        ``RegisterConflictError`` (``request_state``: not a booking any more),
        ``InvalidInputError`` (``field_invalid``).
        """
        code = normalise_tracking_code(tracking_code)
        found = self._register.find_request_by_tracking(code) if code else None
        if found is None:
            self._desk.staff(who, "booking")
            raise NotFoundError(
                "Không tìm thấy hồ sơ đặt trước với mã này. / No booking has this code.",
                code="tracking_unknown",
            )
        booked = self._desk.own(who, found.code, role="clerk")
        id_number = clean_text(requester_id_number, "requester_id_number", 32)
        now = self._clock.now()
        request, items = self._register.receive_booking(
            found.code,
            requester_id_number=id_number,
            received_at=now,
            due_at=self._desk.due(now),
            audit=AuditRecord(
                actor=who.username,
                action="request_received",
                subject=found.code,
                at=now,
                details={
                    "authority": who.authority_code,
                    "originals": str(len(booked.items)),
                    "booked": "true",
                },
            ),
        )
        return DeskRequest(request, tuple(items))

    def copy_for_holder(self, tracking_code: str, document_id: str) -> DocumentEntry:
        """A copy of the holder's request, while its delivery links work; the first such
        download marks the request delivered.

        Raises ``NotFoundError`` (unknown code, a copy of another request, not ready,
        expired or cancelled: one answer for all).
        """
        tracking = self.track(tracking_code)
        now = self._clock.now()
        for entry in tracking.documents:
            if entry.id == document_id and entry.status == "issued" and tracking.downloadable(now):
                self.delivered(tracking.request.code)
                return entry
        raise NotFoundError(
            "Bản sao này không tải được từ mã tra cứu này. / This copy cannot be downloaded "
            "with this tracking code.",
            code="copy_unavailable",
        )

    def delivered(self, request_code: str) -> None:
        """Note that the requester downloaded a copy (the first time counts)."""
        self._register.mark_delivered(request_code, self._clock.now())
