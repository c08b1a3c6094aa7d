"""The office desk through the API (issue 11, ``/api/v1``): requests and their originals,
scans, certification with the certifier's TOTP code, the issued copies, cancellation and
the office's counts. Officers authenticate with bearer tokens (``api/routes/auth.py``); the
rules are :class:`certify.desk.Desk`'s, the same the desk pages follow.

Errors are the one JSON shape (``api/errors.py``). Another authority's request or copy is
404, a missing role 403 ``role_required``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse
from starlette.datastructures import UploadFile

from api.citizen_schemas import TrackingOut
from api.desk_schemas import (
    CancelIn,
    CertifiedOut,
    CertifyIn,
    CountsOut,
    DocumentOut,
    ExtendIn,
    ItemOut,
    QueueEntryOut,
    RefusalIn,
    RequestIn,
    RequestOut,
    ScanOut,
)
from api.desk_views import copy_stream, month_bounds, slip_pdf
from api.metrics import observe_certification
from api.routes.auth import Officer, current_officer
from api.routes.citizen_api import public_tracking
from api.services import Services
from api.sessions import services_of
from api.uploads import too_large
from certify.desk import OriginalIntake, RequestIntake
from certify.errors import InvalidInputError

router = APIRouter(prefix="/api/v1", tags=["desk"])

Code = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
Position = Annotated[int, Path(ge=1, le=50)]
DocumentId = Annotated[str, Path(min_length=36, max_length=36)]
MAX_SCAN_FILES = 50


@router.post("/requests", status_code=201, response_model=RequestOut)
def receive(body: RequestIn, officer: Officer, request: Request) -> RequestOut:
    """Receive a request at the desk (clerk): the requester and one line per original. The
    due time is computed (same working day; after 15:00 the next)."""
    services = services_of(request)
    desk = services.desk().receive(
        officer,
        RequestIntake(
            requester_name=body.requester_name,
            requester_id_number=body.requester_id_number,
            requester_contact=body.requester_contact,
            originals=tuple(
                OriginalIntake(o.document_name, o.pages, o.copies) for o in body.originals
            ),
        ),
    )
    return RequestOut.of(desk, services.clock.now())


@router.get("/requests", response_model=list[QueueEntryOut])
def queue(officer: Officer, request: Request) -> list[QueueEntryOut]:
    """The authority's open requests, soonest deadline first, overdue ones marked."""
    services = services_of(request)
    now = services.clock.now()
    return [QueueEntryOut.of(d, now) for d in services.desk().queue(officer)]


@router.get("/requests/{code}", response_model=RequestOut | TrackingOut)
def show(
    code: Code, request: Request, authorization: Annotated[str | None, Header()] = None
) -> RequestOut | TrackingOut:
    """With a bearer token: a request of the officer's authority (its code ``HS-…``) with
    its originals and, once scanned, each original's fee. Without one: the request of a
    citizen's tracking code, as its holder sees it (``GET /api/v1/tracking/{code}``;
    rate-limited, a wrong code is recorded)."""
    if authorization is None:
        return public_tracking(request, code)
    officer = current_officer(request, authorization)
    services = services_of(request)
    desk = services.desk().get(officer, code)
    return RequestOut.of(desk, services.clock.now(), services.desk().fees(officer, desk))


@router.post("/requests/{code}/originals/{position}/check", response_model=ItemOut)
def check(code: Code, position: Position, officer: Officer, request: Request) -> ItemOut:
    """Record that the clerk checked the original (who, when)."""
    return ItemOut.of(services_of(request).desk().check(officer, code, position))


@router.post("/requests/{code}/originals/{position}/refuse", response_model=ItemOut)
def refuse(
    code: Code, position: Position, body: RefusalIn, officer: Officer, request: Request
) -> ItemOut:
    """Refuse an original on a ground of NĐ 23/2015 art. 22, with a note."""
    desk = services_of(request).desk()
    return ItemOut.of(desk.refuse(officer, code, position, body.ground, body.note))


@router.put("/requests/{code}/originals/{position}/scan", response_model=ScanOut)
async def upload_scan(
    code: Code, position: Position, officer: Officer, request: Request
) -> ScanOut:
    """Upload the scan of a checked original: multipart field ``files`` (one or more JPEG,
    PNG, TIFF or image-only PDF files, in page order). A new upload replaces the last."""
    services = services_of(request)
    files = await scan_files(request, services)
    try:
        item, warnings = await run_in_threadpool(
            services.desk().upload, officer, code, position, [f.file for f in files]
        )
    finally:
        for f in files:
            await f.close()
    previews = [
        f"/api/v1/requests/{code}/originals/{position}/pages/{n}.png"
        for n in range(1, (item.scan_pages or 0) + 1)
    ]
    return ScanOut(original=ItemOut.of(item), warnings=warnings, previews=previews)


async def scan_files(request: Request, services: Services) -> list[UploadFile]:
    """The uploaded files of a multipart request, bounded in number and total size.

    Raises ``PayloadTooLargeError`` (413), ``InvalidInputError`` (no file)."""
    limit = services.settings.max_scan_bytes * 4
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit, upload=True)
    form = await request.form(max_files=MAX_SCAN_FILES, max_fields=20)
    files = [v for v in form.getlist("files") if isinstance(v, UploadFile)]
    if not files:
        raise InvalidInputError(
            "Chưa chọn tệp quét nào (trường “files”). / No scan file was sent (field “files”).",
            code="scan_missing",
        )
    return files


@router.get(
    "/requests/{code}/originals/{position}/pages/{page}.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def preview(
    code: Code,
    position: Position,
    page: Annotated[int, Path(ge=1, le=10_000)],
    officer: Officer,
    request: Request,
) -> Response:
    """The preview of one page of an original's uploaded scan."""
    png = services_of(request).desk().preview(officer, code, position, page)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, no-store"})


@router.post(
    "/requests/{code}/originals/{position}/certify", status_code=201, response_model=CertifiedOut
)
def certify(
    code: Code, position: Position, body: CertifyIn, officer: Officer, request: Request
) -> CertifiedOut:
    """Certify a scanned original (certifier): with the certifier's current TOTP code, one
    register number, the two signatures, the register entry."""
    services = services_of(request)
    with observe_certification(request):
        issued, warnings = services.desk().certify(officer, code, position, body.totp)
    base = services.settings.resolved_public_base_url
    return CertifiedOut(document=DocumentOut.of(issued.entry, base), warnings=warnings)


@router.post("/requests/{code}/extend", response_model=RequestOut)
def extend(code: Code, body: ExtendIn, officer: Officer, request: Request) -> RequestOut:
    """Extend by 1 or 2 working days to an appointment hour (NĐ 23/2015 art. 21); the
    appointment slip is then at ``…/appointment-slip.pdf``."""
    services = services_of(request)
    desk = services.desk()
    desk.extend(officer, code, body.working_days, body.at)
    return RequestOut.of(desk.get(officer, code), services.clock.now())


@router.get(
    "/requests/{code}/appointment-slip.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def appointment_slip(code: Code, officer: Officer, request: Request) -> Response:
    """The appointment slip (phiếu hẹn) of an extended request, as PDF."""
    services = services_of(request)
    pdf = slip_pdf(services, officer, code)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="phieu-hen-{code}.pdf"'},
    )


@router.get("/documents/{document_id}", response_model=DocumentOut)
def document(document_id: DocumentId, officer: Officer, request: Request) -> DocumentOut:
    """An issued copy of the authority: its register data and links."""
    services = services_of(request)
    entry = services.desk().document(officer, document_id)
    return DocumentOut.of(entry, services.settings.resolved_public_base_url)


@router.get(
    "/documents/{document_id}/copy.pdf",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/pdf": {}}}},
)
def download(document_id: DocumentId, officer: Officer, request: Request) -> StreamingResponse:
    """The signed copy, for the officers of its authority (each download is recorded)."""
    services = services_of(request)
    entry = services.desk().document(officer, document_id)
    return copy_stream(services, entry, actor=officer.username, via="api")


@router.post("/documents/{document_id}/cancel", response_model=DocumentOut)
def cancel(
    document_id: DocumentId, body: CancelIn, officer: Officer, request: Request
) -> DocumentOut:
    """Cancel an issued copy with a reason (admin; TT 01/2020 art. 7). Public verification
    shows it cancelled at once, and it is published in ``/public/cancellations``."""
    services = services_of(request)
    entry = services.desk().cancel(officer, document_id, body.reason)
    return DocumentOut.of(entry, services.settings.resolved_public_base_url)


@router.get("/office/counts", response_model=CountsOut)
def counts(
    officer: Officer,
    request: Request,
    year: Annotated[int, Query(ge=2000, le=2200)],
    month: Annotated[int | None, Query(ge=1, le=12)] = None,
) -> CountsOut:
    """The authority's counts for a month (or a year) of requests received: received,
    certified, refused, on time, overdue, still open."""
    since, until = month_bounds(year, month)
    counts = services_of(request).desk().counts(officer, since, until)
    return CountsOut.of(officer.authority_code, since, until, counts)
