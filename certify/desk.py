"""The office desk (issue 11.2): a clerk receives a request with its originals, checks each
original or refuses it (NĐ 23/2015 art. 22), uploads its scan; a certifier reviews the pages
and the fee and certifies with a second factor; an admin cancels (TT 01/2020 art. 7).

Every action is checked against who asks (:mod:`certify.access`: another authority's request
is "not found", a missing role is ``role_required``) and written with its audit event in one
transaction. The pages and the API both call this; neither holds workflow rules of its own.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import tempfile
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

from certify import deadlines
from certify.access import Principal, require
from certify.desk_scans import DeskScans
from certify.errors import (
    CertifyError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    RegisterConflictError,
)
from certify.fees import certification_fee
from certify.holidays import HolidayCalendar
from certify.intake import INTAKE_PREFIX
from certify.issuance import CertificationService, IssuedCopy, IssueOrder
from certify.office_counts import OfficeCounts, office_counts
from certify.ports import (
    AuditRecord,
    Clock,
    DeskRegister,
    DocumentEntry,
    ItemRecord,
    ObjectStore,
    RequestRecord,
)
from certify.refusal_grounds import REFUSAL_REASONS
from certify.tracking_codes import email_address, new_tracking_code

log = logging.getLogger(__name__)

MAX_ORIGINALS: Final = 50
MAX_DECLARED_PAGES: Final = 1000
MAX_COPIES: Final = 100
_NOTE_MAX: Final = 1000
_STAFF: Final = ("clerk", "certifier", "admin", "auditor")


@dataclass(frozen=True)
class OriginalIntake:
    """One original as the clerk lists it: its name, pages and the copies asked for."""

    document_name: str
    pages: int
    copies: int


@dataclass(frozen=True)
class RequestIntake:
    """A request as the clerk receives it. Personal data: never logged."""

    requester_name: str
    requester_id_number: str
    originals: tuple[OriginalIntake, ...]
    requester_contact: str | None = None


@dataclass(frozen=True)
class DeskRequest:
    """A request with its originals, as the desk shows it."""

    request: RequestRecord
    items: tuple[ItemRecord, ...]

    def overdue(self, now: dt.datetime) -> bool:
        deadline = self.request.deadline
        return (
            self.request.status == "received"
            and deadline is not None
            and deadlines.is_overdue(deadline, now)
        )

    def item(self, position: int) -> ItemRecord:
        for item in self.items:
            if item.position == position:
                return item
        raise _no_original()


SecondFactor = Callable[[str, str], bool | None]
"""``(username, code) -> True | False``, or None when the officer enrolled no second factor."""


class Desk:
    """The desk's actions. Build once per process (``api.services.Services.desk``)."""

    def __init__(
        self,
        *,
        register: DeskRegister,
        store: ObjectStore,
        scans: DeskScans,
        certification: Callable[[], CertificationService],
        second_factor: SecondFactor,
        clock: Clock,
        calendar: Callable[[], HolidayCalendar],
        closes_at: dt.time,
        workdir: Path,
    ) -> None:
        self._register = register
        self._store = store
        self._scans = scans
        self._certification = certification
        self._second_factor = second_factor
        self._clock = clock
        self._calendar = calendar
        self._closes_at = closes_at
        self._workdir = workdir

    # --- reading ---------------------------------------------------------------------------

    def get(self, who: Principal, code: str) -> DeskRequest:
        """A request of the officer's authority. Raises ``NotFoundError`` (also for another
        authority's), ``PermissionDeniedError`` (no staff role)."""
        try:
            request = self._register.get_request(code)
        except NotFoundError:
            raise NotFoundError() from None  # the same answer as another authority's
        self._allow(who, code, authority_code=request.authority_code, roles=_STAFF)
        return DeskRequest(request, tuple(self._register.request_items(code)))

    def queue(self, who: Principal) -> list[DeskRequest]:
        """The authority's open requests, soonest deadline first."""
        self.staff(who, "queue")
        requests = self._register.open_requests(who.authority_code)
        items = self._register.items_of_requests([r.code for r in requests])
        return [DeskRequest(r, tuple(items[r.code])) for r in requests]

    def fees(self, who: Principal, desk: DeskRequest) -> dict[int, int]:
        """The fee of each original that has a scan (TT 226/2016; 0 when waived), by
        position."""
        scanned = [i for i in desk.items if i.scan_pages and i.status in ("scanned", "certified")]
        if not scanned:
            return {}
        waived = self._register.get_authority(who.authority_code).fee_waived
        return {
            i.position: certification_fee(i.scan_pages or i.pages, i.copies, waived=waived)
            for i in scanned
        }

    def counts(self, who: Principal, since: dt.datetime, until: dt.datetime) -> OfficeCounts:
        """The authority's counts of the requests received in [since, until), as they stand
        now (certify.office_counts)."""
        self.staff(who, "counts")
        rows = self._register.requests_received(who.authority_code, since=since, until=until)
        return office_counts(rows, now=self._clock.now())

    def staff(self, who: Principal, subject: str) -> None:
        """Refuse (and record) an officer who holds no role of the desk."""
        self._allow(who, subject, roles=_STAFF)

    def document(self, who: Principal, document_id: str) -> DocumentEntry:
        """An issued entry of the officer's authority (``NotFoundError`` otherwise)."""
        self.staff(who, document_id)
        try:
            entry = self._register.get_document(document_id)
        except NotFoundError:
            raise NotFoundError() from None  # the same answer as another authority's
        self._allow(who, document_id, authority_code=entry.authority_code)
        return entry

    # --- the clerk -------------------------------------------------------------------------

    def receive(self, who: Principal, intake: RequestIntake) -> DeskRequest:
        """Receive a request at the desk: its due time is computed from now.

        Raises ``InvalidInputError`` (empty or unprintable fields, counts out of range),
        ``PermissionDeniedError`` (``role_required``: clerk).
        """
        self._allow(who, "request", roles=("clerk",))
        name = clean_text(intake.requester_name, "requester_name", 200)
        id_number = clean_text(intake.requester_id_number, "requester_id_number", 32)
        contact = clean_text(intake.requester_contact or "", "requester_contact", 200, empty=True)
        items = clean_originals(intake.originals)
        now = self._clock.now()
        due = self.due(now)
        code = "HS-" + secrets.token_hex(5).upper()
        request, rows = self._register.add_request_with_items(
            code,
            authority_code=who.authority_code,
            requester_name=name,
            requester_id_number=id_number,
            requester_contact=contact or None,
            received_at=now,
            due_at=due,
            items=items,
            audit=self._event(who, "request_received", code, originals=str(len(items))),
            # The citizen follows it on /t/{code} and gets the e-mails (issue 12).
            tracking_code=new_tracking_code(),
            requester_email=email_address(contact),
        )
        return DeskRequest(request, tuple(rows))

    def check(self, who: Principal, code: str, position: int) -> ItemRecord:
        """Record that the clerk compared the original with what was asked (who, when)."""
        self.own(who, code, role="clerk")
        now = self._clock.now()
        return self._register.update_item(
            code,
            position,
            expect=("received",),
            status="checked",
            checked_by=who.username,
            checked_at=now,
            audit=self._event(who, "original_checked", code, original=str(position)),
        )

    def refuse(
        self, who: Principal, code: str, position: int, reason: str, note: str
    ) -> ItemRecord:
        """Refuse an original on a ground of NĐ 23/2015 art. 22, with a note; its uploaded
        scan, if any, is removed.

        Raises ``InvalidInputError`` (``refusal_code_invalid``, a note too long).
        """
        before = self.own(who, code, roles=("clerk", "certifier")).item(position)
        if reason not in REFUSAL_REASONS:
            raise InvalidInputError(
                "Lý do từ chối không thuộc Điều 22 Nghị định 23/2015. / The ground is not one "
                "of Decree 23/2015 art. 22.",
                code="refusal_code_invalid",
            )
        note = clean_text(note, "note", _NOTE_MAX, empty=True)
        item = self._register.update_item(
            code,
            position,
            expect=("received", "checked", "scanned"),
            status="refused",
            refusal_code=reason,
            refusal_note=note or None,
            checked_by=who.username,
            checked_at=self._clock.now(),
            scan_keys=(),
            scan_pages=None,
            audit=self._event(who, "original_refused", code, original=str(position), ground=reason),
        )
        self._scans.remove(before.scan_keys)
        return item

    def upload(
        self, who: Principal, code: str, position: int, files: Sequence[BinaryIO]
    ) -> tuple[ItemRecord, list[str]]:
        """Take in the scan of a checked original (files in page order; a new upload replaces
        the last). The pages go through intake's checks and limits; previews are made.

        Returns the original and intake's warnings. Raises ``InvalidScanError`` (refused
        scan; nothing kept), ``RegisterConflictError`` (``item_state``: not checked).
        """
        current = self.own(who, code, role="clerk").item(position)
        if current.status not in ("checked", "scanned"):
            raise _state(current)
        stored = self._scans.take_in(who.authority_code, code, position, files, self._workdir)
        try:
            item = self._register.update_item(
                code,
                position,
                expect=("checked", "scanned"),
                status="scanned",
                scan_keys=stored.keys,
                scan_pages=stored.pages,
                audit=self._event(
                    who,
                    "scan_uploaded",
                    code,
                    original=str(position),
                    pages=str(stored.pages),
                    sha256=",".join(stored.sha256s),
                ),
            )
        except BaseException:
            self._scans.remove(stored.keys)
            raise
        self._scans.remove(current.scan_keys)
        return item, stored.warnings

    def preview(self, who: Principal, code: str, position: int, page: int) -> bytes:
        """The PNG preview of page ``page`` (from 1) of an original's uploaded scan."""
        item = self.get(who, code).item(position)
        return self._scans.preview(item.scan_keys, page)

    def extend(self, who: Principal, code: str, working_days: int, at: dt.time) -> RequestRecord:
        """Extend a request by 1 or 2 working days to ``at`` (Vietnam time): the appointment
        on the slip (NĐ 23/2015 art. 21)."""
        desk = self.own(who, code, roles=("clerk", "certifier"))
        request = desk.request
        if request.status != "received" or request.due_at is None:
            raise InvalidInputError(
                "Chỉ gia hạn được hồ sơ đang giải quyết có thời hạn. / Only an open request "
                "with a due time can be extended.",
                code="extension_invalid",
            )
        appointment = deadlines.extend(
            request.due_at,
            working_days,
            at=at,
            calendar=self._calendar(),
            closes_at=self._closes_at,
        )
        updated = self._register.update_request(code, extended_to=appointment)
        self._audit(who, "request_extended", code, to=appointment.isoformat())
        return updated

    # --- the certifier ---------------------------------------------------------------------

    def certify(
        self, who: Principal, code: str, position: int, second_factor: str
    ) -> tuple[IssuedCopy, list[str]]:
        """Certify a scanned original: one number, the two signatures, the register entry.
        The certifier's key is used only after their second factor (TOTP) is right.

        Raises ``PermissionDeniedError`` (``totp_not_enrolled``, ``totp_invalid``, each
        recorded), ``RegisterConflictError`` (``item_state``), and what issuing raises.
        """
        item = self.own(who, code, role="certifier").item(position)
        if item.status != "scanned":
            raise _state(item)
        verdict = self._second_factor(who.username, second_factor.strip())
        if verdict is not True:
            why = "totp_not_enrolled" if verdict is None else "totp_invalid"
            self._audit(who, "certify_refused", code, original=str(position), reason=why)
            if verdict is None:
                raise PermissionDeniedError(
                    "Cần đăng ký mã xác thực (TOTP) trước khi ký. / Enrol an authentication "
                    "code (TOTP) before signing.",
                    code="totp_not_enrolled",
                )
            raise PermissionDeniedError(
                "Mã xác thực không đúng: chưa ký. / Wrong authentication code: nothing was signed.",
                code="totp_invalid",
            )
        service = self._certification()
        self._workdir.mkdir(parents=True, exist_ok=True)
        with (
            tempfile.TemporaryDirectory(prefix=INTAKE_PREFIX, dir=self._workdir) as tmp,
            self._scans.opened(item.scan_keys, Path(tmp)) as files,
        ):
            issued, warnings = service.certify_scans(
                IssueOrder(
                    authority_code=who.authority_code,
                    certifier_username=who.username,
                    request_code=code,
                    document_name=item.document_name,
                    copies=item.copies,
                    request_item=position,
                ),
                files,
                limits=self._scans.limits,
                workdir=Path(tmp),
            )
        self._scans.remove(item.scan_keys)
        return issued, warnings

    # --- the admin -------------------------------------------------------------------------

    def cancel(self, who: Principal, document_id: str, reason: str) -> DocumentEntry:
        """Cancel an issued copy with a reason (TT 01/2020 art. 7): the entry stays, marked."""
        entry = self.document(who, document_id)
        self._allow(who, document_id, roles=("admin",))
        reason = clean_text(reason, "reason", _NOTE_MAX)
        now = self._clock.now()
        return self._register.cancel_document(
            entry.id,
            reason,
            now,
            audit=AuditRecord(
                actor=who.username,
                action="copy.cancelled",
                subject=entry.id,
                at=now,
                details={"authority": entry.authority_code, "number": str(entry.number)},
            ),
        )

    # --- helpers ---------------------------------------------------------------------------

    def own(
        self, who: Principal, code: str, *, role: str | None = None, roles: Sequence[str] = ()
    ) -> DeskRequest:
        """A request of the officer's authority that one of ``roles`` may act on (404 first:
        another authority learns nothing; then ``role_required``)."""
        desk = self.get(who, code)
        wanted = (role,) if role is not None else tuple(roles)
        if wanted:
            self._allow(who, code, roles=wanted)
        return desk

    def _allow(
        self,
        who: Principal,
        subject: str,
        *,
        authority_code: str | None = None,
        roles: Sequence[str] = (),
    ) -> None:
        """Refuse unless ``who`` acts for ``authority_code`` in one of ``roles``; a refusal
        is recorded in the audit chain (``access_refused``) before it is raised: another
        authority's thing is "not found" (404), a missing role ``role_required`` (403)."""
        try:
            require(who, authority_code=authority_code)
            if roles and not who.roles.intersection(roles):
                require(who, role=roles[0])
        except (NotFoundError, PermissionDeniedError) as exc:
            reason = "other_authority" if isinstance(exc, NotFoundError) else "role_required"
            self._audit(who, "access_refused", subject, reason=reason, needs="|".join(roles))
            raise

    def due(self, received_at: dt.datetime) -> dt.datetime | None:
        """The due time of a request received at ``received_at`` (None: no calendar)."""
        try:
            return deadlines.due_at(
                received_at, calendar=self._calendar(), closes_at=self._closes_at
            )
        except InvalidInputError as exc:
            if exc.code != "holiday_calendar_missing":
                raise
            log.warning("no holiday calendar for %s: the request has no due time", received_at.year)
            return None

    def _event(self, who: Principal, action: str, subject: str, **details: str) -> AuditRecord:
        return AuditRecord(
            actor=who.username,
            action=action,
            subject=subject,
            at=self._clock.now(),
            details={"authority": who.authority_code, **details},
        )

    def _audit(self, who: Principal, action: str, subject: str, **details: str) -> None:
        with self._register.transaction() as tx:
            tx.append_audit(self._event(who, action, subject, **details))


def _no_original() -> CertifyError:
    return NotFoundError("Không tìm thấy bản chính này. / No such original.")


def _state(item: ItemRecord) -> CertifyError:
    return RegisterConflictError(
        f"Bản chính đang ở trạng thái “{item.status}”, không làm được việc này. / "
        f"The original is “{item.status}”; this cannot be done now.",
        code="item_state",
    )


def clean_text(value: str, name: str, limit: int, *, empty: bool = False) -> str:
    text = unicodedata.normalize("NFC", value or "").strip()
    if (not text and not empty) or len(text) > limit:
        raise InvalidInputError(
            f"Trường “{name}” trống hoặc dài quá {limit} ký tự. / “{name}” is empty or longer "
            f"than {limit} characters.",
            code="field_invalid",
        )
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in text if ch != "\n"):
        raise InvalidInputError(
            f"Trường “{name}” chứa ký tự điều khiển. / “{name}” contains control characters.",
            code="field_invalid",
        )
    return text


def clean_originals(
    originals: Sequence[OriginalIntake],
) -> list[tuple[str, int, int]]:
    """The originals of a request as ``(document name, pages, copies)``, checked: 1 to
    ``MAX_ORIGINALS`` of them. Raises ``InvalidInputError`` (``originals_invalid``,
    ``field_invalid``)."""
    if not 1 <= len(originals) <= MAX_ORIGINALS:
        raise InvalidInputError(
            f"Hồ sơ phải có từ 1 đến {MAX_ORIGINALS} bản chính. / A request lists 1 to "
            f"{MAX_ORIGINALS} originals.",
            code="originals_invalid",
        )
    return [
        (
            clean_text(o.document_name, "document_name", 300),
            clean_count(o.pages, "pages", MAX_DECLARED_PAGES),
            clean_count(o.copies, "copies", MAX_COPIES),
        )
        for o in originals
    ]


def clean_count(value: int, name: str, limit: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
        raise InvalidInputError(
            f"“{name}” phải từ 1 đến {limit}. / “{name}” must be 1 to {limit}.",
            code="field_invalid",
        )
    return value
