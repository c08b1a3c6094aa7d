"""Handing an issued copy over by a download link (issue 11.3): an unguessable URL that
expires, made by an officer of the copy's authority and opened by the requester without
logging in.

- ``GET /d/{secret}`` (public): a usable link answers the signed copy (the download is
  recorded, actor ``download-link``); an unknown, expired or cancelled copy's link answers
  the same bilingual 404 page, saying nothing of which it was, and the attempt is recorded
  (``download_link_refused``, subject the first 8 hex digits of the SHA-256 of what was
  given, never the secret itself). Rate-limited per client address like a verification code.
- ``POST /api/v1/documents/{id}/download-links`` (bearer token): a new link, ``{url,
  expires_at}``; the desk's page makes one the same way (:func:`make_download_link`).

The register keeps only the SHA-256 of a link's secret (:mod:`storage.desk_sessions`): the
URL is shown once, to the officer who made it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Annotated, Final

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.desk_views import copy_stream
from api.routes.auth import Officer
from api.routes.pages import templates
from api.services import Services
from api.sessions import NO_STORE, audit, download_link_lifetime, page_language, services_of
from certify.access import Principal
from certify.errors import RateLimitedError, RegisterConflictError
from certify.ports import DocumentEntry
from storage.bookings import DELIVERY_ACTOR
from storage.desk_sessions import DownloadLinkRecord

router = APIRouter(tags=["desk"])

DocumentId = Annotated[str, Path(min_length=36, max_length=36)]
LINK_ACTOR: Final = "download-link"
# What the page of a refused link says (Vietnamese, English), whichever the reason.
REFUSED_WORDS: Final = {
    "title": ("Không tải được bản sao", "The copy cannot be downloaded"),
    "body": (
        "Đường dẫn tải về này không đúng hoặc đã hết hạn.",
        "This download link is wrong or has expired.",
    ),
    "hint": (
        "Hãy liên hệ cơ quan đã chứng thực để được cấp đường dẫn mới. Bản sao đã nhận vẫn "
        "kiểm tra được tại trang kiểm tra.",
        "Ask the office that certified the copy for a new link. A copy you already have can "
        "still be checked on the verification page.",
    ),
    "verify": ("Kiểm tra bản sao điện tử", "Verify a certified copy"),
    "too_many": (
        "Quá nhiều yêu cầu; hãy thử lại sau ít phút.",
        "Too many requests; please try again in a few minutes.",
    ),
}


class DownloadLinkOut(BaseModel):
    url: str = Field(
        description="the link to hand to the requester; shown this once, never stored",
        examples=["https://chungthuc.example.gov.vn/d/3q2n…"],
    )
    expires_at: dt.datetime


def make_download_link(
    services: Services, who: Principal, document_id: str
) -> tuple[str, DownloadLinkRecord]:
    """A new download link to an issued copy of the officer's authority: its URL (with the
    secret, given this once) and its record; recorded as ``download_link_created``.

    Raises ``NotFoundError`` (also another authority's copy), ``PermissionDeniedError``
    (no staff role), ``RegisterConflictError`` (``copy_cancelled``).
    """
    entry = services.desk().document(who, document_id)
    if entry.status == "cancelled":
        raise RegisterConflictError(
            "Bản sao đã bị huỷ nên không thể trao. / The copy is cancelled and cannot be "
            "handed over.",
            code="copy_cancelled",
        )
    record, secret = services.register.create_download_link(
        entry.id,
        created_by=who.username,
        now=services.clock.now(),
        lifetime=download_link_lifetime(services.settings),
    )
    audit(
        services,
        who.username,
        "download_link_created",
        entry.id,
        authority=entry.authority_code,
        link=record.id[:8],
        expires_at=record.expires_at.isoformat(),
    )
    return f"{services.settings.resolved_public_base_url}/d/{secret}", record


@router.post(
    "/api/v1/documents/{document_id}/download-links",
    status_code=201,
    response_model=DownloadLinkOut,
)
def create_link(document_id: DocumentId, officer: Officer, request: Request) -> DownloadLinkOut:
    """A download link to hand the issued copy to its requester: it opens the PDF without
    logging in until ``expires_at`` (``CERTIFY_DOWNLOAD_LINK_HOURS``). Staff of the copy's
    authority; a cancelled copy is refused (409 ``copy_cancelled``)."""
    url, record = make_download_link(services_of(request), officer, document_id)
    return DownloadLinkOut(url=url, expires_at=record.expires_at)


def secret_subject(secret: str) -> str:
    """How a given secret is named in the audit chain: 8 hex digits of its SHA-256, enough
    to tell attempts apart and too few to find the secret again."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()[:8]


@router.get("/d/{secret}", include_in_schema=False)
def download(secret: str, request: Request) -> Response:
    """The copy behind a download link, or the same 404 page for any link that does not
    work now."""
    services = services_of(request)
    try:
        request.app.state.token_limiter.check(request)
    except RateLimitedError as exc:
        return _refused(request, 429, {"Retry-After": str(exc.retry_after)})
    link = services.register.find_download_link(secret)
    entry: DocumentEntry | None = None
    if link is None:
        reason = "unknown"
    elif not link.usable(services.clock.now()):
        reason = "expired"
    else:
        entry = services.register.get_document(link.document_id)
        # A cancelled copy (TT 01/2020 art. 7) is not handed over any more.
        reason = "cancelled" if entry.status == "cancelled" else ""
    if entry is None or reason:
        audit(services, LINK_ACTOR, "download_link_refused", secret_subject(secret), reason=reason)
        return _refused(request, 404)
    answer = copy_stream(services, entry, actor=LINK_ACTOR, via="link")
    if link is not None and link.created_by == DELIVERY_ACTOR:
        # The e-mailed link of a ready request: the citizen has the copy (issue 12.4).
        services.register.mark_delivered(entry.request_code, services.clock.now())
    return answer


def _refused(request: Request, status: int, headers: dict[str, str] | None = None) -> Response:
    lang = page_language(request)
    other = "en" if lang == "vi" else "vi"
    return templates.TemplateResponse(
        request,
        "link_refused.html",
        {
            "lang": lang,
            "other": other,
            "switch_href": f"{request.url.path}?lang={other}",
            "verify_href": "/verify?lang=en" if lang == "en" else "/verify",
            "W": REFUSED_WORDS,
            "too_many": status == 429,
        },
        status_code=status,
        headers={**NO_STORE, **(headers or {})},
    )
