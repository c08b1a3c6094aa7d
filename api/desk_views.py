"""What the desk's pages and API (and ``certify register print``) share: an issued copy
streamed (and its download recorded), a month's bounds, the fonts prepared once, the
register's print and the appointment slip."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi.responses import StreamingResponse

from api.services import Services
from api.sessions import audit
from api.settings import Settings
from certify.access import Principal
from certify.appointment_slip import AppointmentSlip, render_appointment_slip
from certify.errors import InvalidInputError, ObjectNotFoundError, UnavailableError
from certify.fonts import PreparedFont, prepare_font
from certify.ports import VN_TZ, AuthorityRecord, DocumentEntry
from certify.register import RegisterRow
from certify.register_book import render_monthly_print, render_year_end


def month_bounds(year: int, month: int | None) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a month (or of the year, without one) in Vietnam time."""
    if month is None:
        start = dt.datetime(year, 1, 1, tzinfo=VN_TZ)
        end = dt.datetime(year + 1, 1, 1, tzinfo=VN_TZ)
    else:
        start = dt.datetime(year, month, 1, tzinfo=VN_TZ)
        end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=VN_TZ)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


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
    audit(services, actor, "copy_downloaded", entry.id, via=via)
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
def prepared_font(path: Path) -> PreparedFont:
    """A font prepared (subset, rescaled) once per process, for the desk's PDFs."""
    return prepare_font(path)


def register_print_pdf(
    settings: Settings,
    authority: AuthorityRecord,
    rows: list[RegisterRow],
    *,
    year: int,
    month: int | None,
) -> bytes:
    """The register's monthly print, or with no month its year-end closing, as PDF (the
    desk's print and ``certify register print``)."""
    common: dict[str, Any] = {
        "authority_name": authority.name,
        "province_name": authority.province_name,
        "year": year,
        "font": prepared_font(settings.font_path),
        "bold_font": prepared_font(settings.bold_font_path) if settings.bold_font_path else None,
    }
    if month is None:
        return render_year_end(rows, **common)
    return render_monthly_print(rows, month=month, **common)


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
    fees = services.desk().fees(who, desk)
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
        font=prepared_font(settings.font_path),
        bold_font=prepared_font(settings.bold_font_path) if settings.bold_font_path else None,
    )
