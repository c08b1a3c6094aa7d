"""What the desk's pages and API both give: an issued copy streamed (and its download
recorded), a month's bounds, the fees of a request's originals, the appointment slip."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from pathlib import Path

from fastapi.responses import StreamingResponse

from api.services import Services
from certify.access import Principal
from certify.appointment_slip import AppointmentSlip, render_appointment_slip
from certify.desk import DeskRequest
from certify.errors import InvalidInputError, ObjectNotFoundError, UnavailableError
from certify.fonts import PreparedFont, prepare_font
from certify.ports import VN_TZ, AuditRecord, DocumentEntry


def month_bounds(year: int, month: int | None) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a month (or of the year, without one) in Vietnam time."""
    if month is None:
        start = dt.datetime(year, 1, 1, tzinfo=VN_TZ)
        end = dt.datetime(year + 1, 1, 1, tzinfo=VN_TZ)
    else:
        start = dt.datetime(year, month, 1, tzinfo=VN_TZ)
        end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=VN_TZ)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def request_fees(services: Services, who: Principal, desk: DeskRequest) -> dict[int, int]:
    """The fee of each original that has a scan, by position."""
    d = services.desk()
    return {
        i.position: d.fee(who, i)
        for i in desk.items
        if i.scan_pages and i.status in ("scanned", "certified")
    }


def audit_download(services: Services, actor: str, document_id: str, via: str) -> None:
    with services.register.transaction() as tx:
        tx.append_audit(
            AuditRecord(
                actor=actor,
                action="copy_downloaded",
                subject=document_id,
                at=services.clock.now(),
                details={"via": via},
            )
        )


def copy_stream(
    services: Services, entry: DocumentEntry, *, actor: str, via: str
) -> StreamingResponse:
    """The signed copy as stored, streamed, after recording the download.

    Raises ``UnavailableError`` (code ``copy_pending``) while the copy is still being moved
    into the copies bucket (``certify reconcile`` finishes it)."""
    store = services.store
    try:
        store.stat(store.copies_bucket, entry.copy_key, version_id=entry.copy_version_id)
    except ObjectNotFoundError:
        raise UnavailableError(
            "Bản sao đang được lưu trữ, vui lòng thử lại sau ít phút. / The copy is still "
            "being stored; please retry in a few minutes.",
            code="copy_pending",
        ) from None
    audit_download(services, actor, entry.id, via)
    chunks: Iterator[bytes] = store.iter_chunks(
        store.copies_bucket, entry.copy_key, version_id=entry.copy_version_id
    )
    name = f"ban-sao-{entry.year}-{entry.number}.pdf"
    return StreamingResponse(
        chunks,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )


@functools.cache
def _font(path: Path) -> PreparedFont:
    return prepare_font(path)


prepared_font = _font  # the fonts read once per process, for the desk's PDFs


def slip_pdf(services: Services, who: Principal, code: str) -> bytes:
    """The appointment slip of an extended request of the officer's authority.

    Raises ``InvalidInputError`` (code ``not_extended``), ``NotFoundError``."""
    desk = services.desk().get(who, code)
    request = desk.request
    if request.extended_to is None or request.received_at is None:
        raise InvalidInputError(
            "Hồ sơ chưa được gia hạn nên không có phiếu hẹn. / The request was not extended, "
            "so it has no appointment slip.",
            code="not_extended",
        )
    authority = services.register.get_authority(request.authority_code)
    officer = services.register.get_officer(who.username)
    fees = request_fees(services, who, desk)
    settings = services.settings
    return render_appointment_slip(
        AppointmentSlip(
            authority_name=authority.name,
            province_name=authority.province_name,
            request_code=request.code,
            requester_name=request.requester_name,
            documents=tuple((i.document_name, i.copies) for i in desk.items),
            received_at=request.received_at,
            appointment_at=request.extended_to,
            officer_name=officer.full_name,
            fee=sum(fees.values()) if fees else None,
        ),
        font=_font(settings.font_path),
        bold_font=_font(settings.bold_font_path) if settings.bold_font_path else None,
    )
