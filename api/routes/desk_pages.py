"""The clerk's and the certifier's pages of the desk (issue 11.2, 11.5): the queue with the
office's counts, receiving a request, a request with its originals and the forms that apply
to the officer's roles, the scan's page previews, certification with the TOTP code, the
extension and its appointment slip. The issued copies and the register are in
:mod:`api.routes.desk_documents`.

- ``GET /desk``: open requests by deadline, the overdue marked in words; the month's counts.
- ``GET /desk/requests/new``, ``POST /desk/requests``: receive a request.
- ``GET /desk/requests/{code}``: the request; ``?done=<action>`` says what the last form did.
- ``POST /desk/requests/{code}/originals/{n}/check`` | ``…/refuse`` (``ground``, ``note``) |
  ``…/scan`` (multipart ``files``) | ``…/certify`` (``totp``), and
  ``POST /desk/requests/{code}/extend`` (``working_days``, ``at``).
- ``GET /desk/requests/{code}/originals/{n}/pages/{p}.png``: a page preview.
- ``GET /desk/requests/{code}/appointment-slip.pdf``: the slip of an extended request.

Every page is a GET for a signed-in officer (``SignedIn``); every form carries the session's
CSRF token and is answered 303 back to a page (Post/Redirect/Get). One exception: an upload
whose intake changed something answers with the request's page and intake's notes, which a
redirect would lose (its address, asked for again, leads back to the request). The rules are
:class:`certify.desk.Desk`'s; a refusal is the desk's error page (``api.sessions``). Another
authority's request is the same 404 page as a missing one.
Upload, preview and certify block: their routes are plain ``def`` (FastAPI's thread pool) or
use ``run_in_threadpool``. Requesters' names and ID numbers are shown, never logged.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from api.desk_views import month_bounds, slip_pdf
from api.i18n import split_message
from api.metrics import observe_certification
from api.routes.desk_citizens import citizen_panel
from api.sessions import (
    CSRF_FIELD,
    NO_STORE,
    CsrfChecked,
    DeskUser,
    SignedIn,
    check_csrf,
    render_desk,
    services_of,
)
from api.uploads import too_large
from certify.desk import MAX_ORIGINALS, DeskRequest, OriginalIntake, RequestIntake
from certify.errors import (
    InvalidInputError,
    NotFoundError,
    ObjectNotFoundError,
)
from certify.ports import VN_TZ, ItemRecord
from certify.refusal_grounds import REFUSAL_REASONS

router = APIRouter(tags=["desk"], include_in_schema=False)

Code = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
Position = Annotated[int, Path(ge=1, le=MAX_ORIGINALS)]
Done = Annotated[str | None, Query(max_length=40)]

# The same page for a request that does not exist and one of another authority.
NO_REQUEST: Final = "Không tìm thấy hồ sơ hoặc bản chính này. / No such request or original."
# What ``?done=`` may name (the notice shown after a redirect).
DONE: Final = frozenset(
    {"received", "checked", "refused", "scanned", "extended", "certified", "cancelled"}
)
# The order originals' statuses are listed in (queue) and their words' keys.
ITEM_STATUSES: Final = ("received", "checked", "scanned", "certified", "refused")
# The receive form: blank lines shown, and at most as many as a request may list.
BLANK_LINES: Final = 5
MAX_SCAN_FILES: Final = 50
# A scan form's body: every file within intake's limit, four times over for the envelope of
# several files (as the API's upload).
SCAN_BODY_FACTOR: Final = 4


# --- shared by the desk's pages -------------------------------------------------------------


def when(value: dt.datetime | None) -> str:
    """A time as the desk shows it: ``dd/mm/yyyy HH:MM`` in Vietnam, or a dash."""
    return value.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M") if value else "—"


def vnd(amount: int) -> str:
    """An amount in đồng as Vietnamese writes it: ``10.000 đ``."""
    return f"{amount:,}".replace(",", ".") + " đ"


def see_other(path: str) -> RedirectResponse:
    """The answer to a form: 303 to the page that shows its result."""
    return RedirectResponse(path, status_code=303, headers=NO_STORE)


@contextmanager
def same_404(message: str) -> Iterator[None]:
    """Give every "not found" under it one message: a missing thing and another authority's
    (:func:`certify.access.require`) must look alike."""
    try:
        yield
    except ObjectNotFoundError:
        raise
    except NotFoundError:
        raise NotFoundError(message) from None


def done_of(done: str | None) -> str | None:
    return done if done in DONE else None


def page_helpers() -> dict[str, Any]:
    """What every desk page of this module formats with."""
    return {"when": when, "vnd": vnd}


# --- the queue ------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    """One open request of the queue."""

    code: str
    received_at: dt.datetime | None
    deadline: dt.datetime | None
    extended: bool
    overdue: bool
    by_status: tuple[tuple[str, int], ...]

    @classmethod
    def of(cls, desk: DeskRequest, now: dt.datetime) -> QueueRow:
        counts = {s: sum(1 for i in desk.items if i.status == s) for s in ITEM_STATUSES}
        return cls(
            code=desk.request.code,
            received_at=desk.request.received_at or desk.request.created_at,
            deadline=desk.request.deadline,
            extended=desk.request.extended_to is not None,
            overdue=desk.overdue(now),
            by_status=tuple((s, n) for s, n in counts.items() if n),
        )


@router.get("/desk")
def queue_page(request: Request, user: SignedIn) -> Response:
    """The authority's open requests, soonest deadline first, and this month's counts."""
    services = services_of(request)
    who = user.principal
    now = services.clock.now()
    rows = [QueueRow.of(d, now) for d in services.desk().queue(who)]
    local = now.astimezone(VN_TZ)
    since, until = month_bounds(local.year, local.month)
    return render_desk(
        request,
        "desk/queue.html",
        {
            "rows": rows,
            "overdue_now": sum(1 for r in rows if r.overdue),
            "counts": services.desk().counts(who, since, until),
            "month": local.month,
            "year": local.year,
            "can_receive": "clerk" in who.roles,
            **page_helpers(),
        },
    )


# --- receiving a request --------------------------------------------------------------------


@router.get("/desk/requests/new")
def receive_form(
    request: Request,
    user: SignedIn,
    lines: Annotated[int, Query(ge=1, le=MAX_ORIGINALS)] = BLANK_LINES,
) -> Response:
    """The receive form with ``lines`` blank lines of originals (no script adds lines)."""
    return render_desk(
        request,
        "desk/receive.html",
        {
            "lines": lines,
            "more_lines": min(MAX_ORIGINALS, lines + BLANK_LINES),
            "can_receive": "clerk" in user.principal.roles,
        },
    )


FormText = Annotated[str, Form(max_length=300)]
FormLines = Annotated[list[str] | None, Form()]


@router.post("/desk/requests")
def receive(
    request: Request,
    user: CsrfChecked,
    requester_name: FormText,
    requester_id_number: FormText,
    requester_contact: FormText = "",
    document_name: FormLines = None,
    pages: FormLines = None,
    copies: FormLines = None,
) -> Response:
    """Receive the request (clerk) and go to its page; its due time is computed."""
    originals = originals_of(document_name or [], pages or [], copies or [])
    desk = services_of(request).desk()
    received = desk.receive(
        user.principal,
        RequestIntake(
            requester_name=requester_name,
            requester_id_number=requester_id_number,
            requester_contact=requester_contact or None,
            originals=originals,
        ),
    )
    return see_other(f"/desk/requests/{received.request.code}?done=received")


def originals_of(
    names: Sequence[str], pages: Sequence[str], copies: Sequence[str]
) -> tuple[OriginalIntake, ...]:
    """The form's lines of originals; a line without a name and pages is a blank one.

    Raises ``InvalidInputError`` (``field_invalid``) naming the line of a wrong number."""
    lines = []
    rows = itertools.zip_longest(names, pages, copies, fillvalue="")
    for n, (name, page_count, copy_count) in enumerate(rows, start=1):
        if not name.strip() and not page_count.strip():
            continue
        lines.append(
            OriginalIntake(
                document_name=name,
                pages=_count(page_count, n, ("số trang", "pages")),
                copies=_count(copy_count, n, ("số bản sao", "copies")),
            )
        )
    return tuple(lines)


def _count(text: str, line: int, name: tuple[str, str]) -> int:
    text = text.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 6):
        raise InvalidInputError(
            f"Dòng {line}: {name[0]} phải là một số. / Line {line}: {name[1]} must be a number.",
            code="field_invalid",
        )
    return int(text)


# --- a request ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemView:
    """One original as its request's page shows it, with the forms that apply."""

    item: ItemRecord
    fee: int | None
    previews: tuple[str, ...]
    can_check: bool
    can_refuse: bool
    can_upload: bool
    can_certify: bool


def _item_view(code: str, item: ItemRecord, fee: int | None, roles: frozenset[str]) -> ItemView:
    scanned = item.status == "scanned"
    base = f"/desk/requests/{code}/originals/{item.position}/pages"
    previews = tuple(f"{base}/{p}.png" for p in range(1, (item.scan_pages or 0) + 1))
    return ItemView(
        item=item,
        fee=fee,
        previews=previews if scanned else (),
        can_check="clerk" in roles and item.status == "received",
        can_refuse=bool(roles & {"clerk", "certifier"})
        and item.status in ("received", "checked", "scanned"),
        can_upload="clerk" in roles and item.status in ("checked", "scanned"),
        can_certify="certifier" in roles and scanned,
    )


def request_page(
    request: Request,
    user: DeskUser,
    code: str,
    *,
    done: str | None = None,
    warnings: Sequence[str] = (),
) -> Response:
    services = services_of(request)
    who = user.principal
    with same_404(NO_REQUEST):
        desk = services.desk().get(who, code)
    now = services.clock.now()
    fees = services.desk().fees(who, desk)
    r = desk.request
    return render_desk(
        request,
        "desk/request.html",
        {
            "r": r,
            "items": [_item_view(r.code, i, fees.get(i.position), who.roles) for i in desk.items],
            "overdue": desk.overdue(now),
            "total_fee": sum(fees.values()) if fees else None,
            "grounds": REFUSAL_REASONS,
            "can_extend": bool(who.roles & {"clerk", "certifier"})
            and r.status == "received"
            and r.due_at is not None,
            "done": done_of(done),
            "warnings": [split_message(w) for w in warnings],
            "citizen": citizen_panel(request, who, r),
            **page_helpers(),
        },
    )


@router.get("/desk/requests/{code}")
def show_request(request: Request, code: Code, user: SignedIn, done: Done = None) -> Response:
    """The request, its originals, and the actions of the officer's roles."""
    return request_page(request, user, code, done=done)


def _back(code: str, done: str, position: int | None = None) -> RedirectResponse:
    anchor = f"#original-{position}" if position else ""
    return see_other(f"/desk/requests/{code}?done={done}{anchor}")


@router.post("/desk/requests/{code}/originals/{position}/check")
def check(request: Request, code: Code, position: Position, user: CsrfChecked) -> Response:
    """Record that the clerk checked the original (who, when)."""
    with same_404(NO_REQUEST):
        services_of(request).desk().check(user.principal, code, position)
    return _back(code, "checked", position)


@router.post("/desk/requests/{code}/originals/{position}/refuse")
def refuse(
    request: Request,
    code: Code,
    position: Position,
    user: CsrfChecked,
    ground: Annotated[str, Form(max_length=40)],
    note: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Refuse the original on a ground of NĐ 23/2015 art. 22, with a note."""
    with same_404(NO_REQUEST):
        services_of(request).desk().refuse(user.principal, code, position, ground, note)
    return _back(code, "refused", position)


@router.post("/desk/requests/{code}/originals/{position}/scan")
async def upload_scan(request: Request, code: Code, position: Position, user: SignedIn) -> Response:
    """Take in the scan (multipart ``files``, in page order; a new upload replaces the last).

    The body is bounded by its declared length before it is read; the form's CSRF token is
    checked before anything of it is used."""
    services = services_of(request)
    limit = services.settings.max_scan_bytes * SCAN_BODY_FACTOR
    declared = request.headers.get("content-length", "")
    if not declared.isdigit():
        # Browsers always declare a form's length; an undeclared body is not read unbounded.
        raise InvalidInputError(
            "Thiếu độ dài dữ liệu gửi lên. / The upload did not declare its length.",
            code="length_required",
        )
    if int(declared) > limit:
        raise too_large(limit, upload=True)
    form = await request.form(max_files=MAX_SCAN_FILES, max_fields=20)
    try:
        token = form.get(CSRF_FIELD)
        await run_in_threadpool(
            check_csrf, request, user, token if isinstance(token, str) else None
        )
        # A file input left empty is sent as a part without a file name.
        files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
        if not files:
            raise InvalidInputError(
                "Chưa chọn tệp quét nào. / No scan file was chosen.", code="scan_missing"
            )
        with same_404(NO_REQUEST):
            _, warnings = await run_in_threadpool(
                services.desk().upload, user.principal, code, position, [f.file for f in files]
            )
    finally:
        await form.close()
    if warnings:
        return await run_in_threadpool(
            request_page, request, user, code, done="scanned", warnings=warnings
        )
    return _back(code, "scanned", position)


@router.get("/desk/requests/{code}/originals/{position}/scan")
def scan_page(code: Code, position: Position, user: SignedIn) -> Response:
    """The address an upload's notes were shown at, asked for again: the request's page."""
    return see_other(f"/desk/requests/{code}#original-{position}")


@router.get("/desk/requests/{code}/originals/{position}/pages/{page}.png")
def preview(
    request: Request,
    code: Code,
    position: Position,
    page: Annotated[int, Path(ge=1, le=10_000)],
    user: SignedIn,
) -> Response:
    """The PNG preview of one page of the original's uploaded scan."""
    with same_404(NO_REQUEST):
        png = services_of(request).desk().preview(user.principal, code, position, page)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, no-store"})


@router.post("/desk/requests/{code}/originals/{position}/certify")
def certify(
    request: Request,
    code: Code,
    position: Position,
    user: CsrfChecked,
    totp: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Certify the scanned original (certifier) with the current TOTP code; go to the copy.
    A wrong or missing code signs nothing (403 ``totp_invalid``, recorded)."""
    with same_404(NO_REQUEST), observe_certification(request):
        issued, _ = services_of(request).desk().certify(user.principal, code, position, totp)
    return see_other(f"/desk/documents/{issued.entry.id}?done=certified")


@router.post("/desk/requests/{code}/extend")
def extend(
    request: Request,
    code: Code,
    user: CsrfChecked,
    working_days: Annotated[int, Form(ge=1, le=2)],
    at: Annotated[str, Form(max_length=8)],
) -> Response:
    """Extend by 1 or 2 working days to an hour (NĐ 23/2015 art. 21); the slip follows."""
    with same_404(NO_REQUEST):
        services_of(request).desk().extend(user.principal, code, working_days, _hour(at))
    return _back(code, "extended")


def _hour(text: str) -> dt.time:
    try:
        hour = dt.time.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInputError(
            "Giờ hẹn phải có dạng HH:MM. / The appointment hour must be HH:MM.",
            code="field_invalid",
        ) from None
    return hour.replace(second=0, microsecond=0, tzinfo=None)


@router.get("/desk/requests/{code}/appointment-slip.pdf")
def appointment_slip(request: Request, code: Code, user: SignedIn) -> Response:
    """The appointment slip (phiếu hẹn) of an extended request, as PDF."""
    with same_404(NO_REQUEST):
        pdf = slip_pdf(services_of(request), user.principal, code)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="phieu-hen-{code}.pdf"',
            **NO_STORE,
        },
    )
