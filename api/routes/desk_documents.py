"""The desk's pages of issued copies and of the register (issue 11.3-11.5).

- ``GET /desk/documents/{id}``: an issued copy (number, book, date, pages, copies, fee,
  status, verification link) with Download, "Make a download link" and, for an admin, Cancel.
- ``GET /desk/documents/{id}/copy.pdf``: the signed copy (recorded, ``via=page``).
- ``POST /desk/documents/{id}/links``: a download link. The answer is the copy's page itself,
  not a redirect, because it carries the link's secret: shown this once, never put in a
  redirect's URL (which browsers keep in history) nor stored; that address asked for again
  (``GET``) leads back to the copy's page.
- ``POST /desk/documents/{id}/cancel`` (admin; ``reason``): 303 back to the copy's page.
- ``GET /desk/register?year=&month=``: the register's month, for every role of the authority;
  ``GET /desk/register/print.pdf?year=&month=``: its monthly print (TT 01/2020 art. 4), the
  PDF ``certify register print`` makes.

Another authority's copy is the same 404 page as a missing one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import Response, StreamingResponse

from api.desk_views import copy_stream, register_print_pdf
from api.routes.desk_pages import Done, done_of, page_helpers, same_404, see_other
from api.routes.download_links import make_download_link
from api.sessions import NO_STORE, CsrfChecked, DeskUser, SignedIn, render_desk, services_of
from certify.errors import NotFoundError
from certify.ports import VN_TZ, DocumentEntry
from certify.register import RegisterRow

router = APIRouter(tags=["desk"], include_in_schema=False)

DocumentId = Annotated[str, Path(min_length=36, max_length=36)]
Year = Annotated[int | None, Query(ge=2000, le=2200)]
Month = Annotated[int | None, Query(ge=1, le=12)]
NO_COPY: Final = "Không tìm thấy bản sao này. / No such certified copy."


# --- an issued copy -------------------------------------------------------------------------


def document_page(
    request: Request,
    user: DeskUser,
    document_id: str,
    *,
    done: str | None = None,
    new_link: tuple[str, dt.datetime] | None = None,
    status_code: int = 200,
) -> Response:
    services = services_of(request)
    who = user.principal
    with same_404(NO_COPY):
        entry = services.desk().document(who, document_id)
    try:
        certifier = services.register.get_officer(entry.certifier_username)
        certifier_name = f"{certifier.full_name}, {certifier.title}"
    except NotFoundError:
        certifier_name = entry.certifier_username
    issued = entry.status != "cancelled"
    return render_desk(
        request,
        "desk/document.html",
        {
            "d": entry,
            "certifier": certifier_name,
            "verify_url": (
                f"{services.settings.resolved_public_base_url}/v/{entry.verification_token}"
            ),
            "link_hours": services.settings.download_link_hours,
            "can_link": issued,
            "can_cancel": issued and "admin" in who.roles,
            "done": done_of(done),
            "new_link": new_link,
            **page_helpers(),
        },
        status_code=status_code,
    )


@router.get("/desk/documents/{document_id}")
def show_document(
    request: Request, document_id: DocumentId, user: SignedIn, done: Done = None
) -> Response:
    """An issued copy of the authority and what may be done with it."""
    return document_page(request, user, document_id, done=done)


@router.get("/desk/documents/{document_id}/copy.pdf")
def download_copy(request: Request, document_id: DocumentId, user: SignedIn) -> StreamingResponse:
    """The signed copy, for the officers of its authority (each download is recorded)."""
    services = services_of(request)
    with same_404(NO_COPY):
        entry = services.desk().document(user.principal, document_id)
    return copy_stream(services, entry, actor=user.principal.username, via="page")


@router.post("/desk/documents/{document_id}/links")
def make_link(request: Request, document_id: DocumentId, user: CsrfChecked) -> Response:
    """Make a download link and show it this once, with its expiry."""
    with same_404(NO_COPY):
        url, record = make_download_link(services_of(request), user.principal, document_id)
    return document_page(request, user, document_id, new_link=(url, record.expires_at))


@router.get("/desk/documents/{document_id}/links")
def links_page(document_id: DocumentId, user: SignedIn) -> Response:
    """The address the page with a new link was shown at, asked for again (a reload of the
    address bar): the copy's page, without the link, which was shown once."""
    return see_other(f"/desk/documents/{document_id}")


@router.post("/desk/documents/{document_id}/cancel")
def cancel(
    request: Request,
    document_id: DocumentId,
    user: CsrfChecked,
    reason: Annotated[str, Form(max_length=1000)],
) -> Response:
    """Cancel the copy with a reason (admin; TT 01/2020 art. 7): the entry stays, marked, and
    public verification says cancelled at once."""
    with same_404(NO_COPY):
        services_of(request).desk().cancel(user.principal, document_id, reason)
    return see_other(f"/desk/documents/{document_id}?done=cancelled")


# --- the register ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterLine:
    """One entry of the register's month view."""

    entry: DocumentEntry
    certifier: str


def _month(year: int | None, month: int | None, now: dt.datetime) -> tuple[int, int]:
    local = now.astimezone(VN_TZ)
    return (year or local.year, month or local.month)


@router.get("/desk/register")
def register_page(
    request: Request, user: SignedIn, year: Year = None, month: Month = None
) -> Response:
    """The register's entries of a month (this month unless asked), in number order."""
    services = services_of(request)
    who = user.principal
    services.desk().staff(who, "register")
    year, month = _month(year, month, services.clock.now())
    register, kind = services.register, services.settings.register_type
    entries = register.list_documents(
        who.authority_code, year=year, month=month, register_type=kind
    )
    # The printed lines name each entry's certifier (register_rows joins the officers).
    names = {
        (row.register_type, row.number): row
        for row in register.register_rows(
            who.authority_code, year=year, month=month, register_type=kind
        )
    }
    lines = [RegisterLine(e, _certifier(names.get((e.register_type, e.number)))) for e in entries]
    previous = (year, month - 1) if month > 1 else (year - 1, 12)
    following = (year, month + 1) if month < 12 else (year + 1, 1)
    context: dict[str, Any] = {
        "lines": lines,
        "year": year,
        "month": month,
        "previous": previous,
        "following": following,
        "total_copies": sum(e.copies for e in entries),
        "total_fee": sum(e.fee for e in entries),
        "register_type": kind,
        **page_helpers(),
    }
    return render_desk(request, "desk/register.html", context)


def _certifier(row: RegisterRow | None) -> str:
    return f"{row.certifier_name}, {row.certifier_title}" if row else ""


@router.get("/desk/register/print.pdf")
def register_print(
    request: Request,
    user: SignedIn,
    year: Annotated[int, Query(ge=2000, le=2200)],
    month: Annotated[int, Query(ge=1, le=12)],
) -> Response:
    """The monthly print of the register (landscape A4 PDF), to be bound and sealed."""
    services = services_of(request)
    who = user.principal
    services.desk().staff(who, "register")
    settings = services.settings
    authority = services.register.get_authority(who.authority_code)
    rows = services.register.register_rows(
        authority.code, year=year, month=month, register_type=settings.register_type
    )
    pdf = register_print_pdf(settings, authority, rows, year=year, month=month)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="so-chung-thuc-{year}-{month:02d}.pdf"',
            **NO_STORE,
        },
    )
