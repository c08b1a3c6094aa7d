"""The published list of cancelled certifications (TT 01/2020/TT-BTP art. 7; issue 11.4).

A certification made in breach of the rules is cancelled by the chairman and the cancellation
is published. Three faces of one list, newest cancellation first, ``PAGE_SIZE`` a page:

- ``GET /public/cancellations``: a page for people, Vietnamese first (``?lang=en``);
- ``GET /public/cancellations.json``: the same as JSON (``CancellationsOut``);
- ``GET /public/cancellations.atom``: an Atom 1.0 feed (RFC 4287), paged as RFC 5005 says.

``?authority=CODE`` keeps one authority's cancellations (an unknown code is a 404), ``?page=``
runs from 1 to ``MAX_PAGE``. Each item is the number, the book, the authority, the dates of
certification and cancellation and the reason: never the requester's name or ID number (NĐ
13/2023), the document's name or the copy's verification code (it would open the copy's
verification page). No login; rate-limited per client like the verification by code.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from api import i18n
from api.deps import ServicesDep
from api.errors import error_headers, status_for
from api.schemas import CANCELLATIONS_EXAMPLE, CancellationOut, CancellationsOut
from api.services import Services
from certify.errors import CertifyError
from certify.ports import AuthorityRecord
from certify.register import register_date
from storage.numbering import PublishedCancellation

log = logging.getLogger(__name__)

router = APIRouter(prefix="/public", tags=["cancellations"])

PAGE_SIZE = 50
# Offsets stay bounded (the newest 50,000 cancellations, or an authority's): a deeper page
# would make the database skip ever more rows for an anonymous client.
MAX_PAGE = 1000
ATOM_NS = "http://www.w3.org/2005/Atom"
# Entry and feed ids are name-based UUIDs (RFC 9562 v5) in this namespace: stable for ever,
# made from the document id without publishing the register's internal key.
_URN_NAMESPACE = uuid.UUID("19ef87e8-a174-477d-b454-156a378452d6")
# Characters XML 1.0 does not allow (a reason typed with a stray control character must not
# make the feed unreadable).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# The list changes only when a certification is cancelled; verification reads status live.
CACHE = {"Cache-Control": "public, max-age=60"}
ATOM_MEDIA_TYPE = "application/atom+xml; charset=utf-8"

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
templates = Jinja2Templates(directory=TEMPLATES_DIR)  # autoescapes .html
templates.env.globals.update(T=i18n.UI)
templates.env.filters.update(vn_date=i18n.vn_date)

# The words of this page (Vietnamese, English), beside the shared ones of api.i18n.UI.
WORDS: dict[str, i18n.Pair] = {
    "title": ("Chứng thực bản sao đã bị huỷ", "Cancelled certifications"),
    "intro": (
        "Các chứng thực bản sao điện tử đã bị huỷ (Điều 7 Thông tư 01/2020/TT-BTP), mới huỷ "
        "trước. Bản sao có chứng thực đã bị huỷ không còn giá trị; mọi lần kiểm tra bản sao "
        "đó đều báo đã bị huỷ.",
        "Certifications of electronic copies that were cancelled (Circular 01/2020/TT-BTP, "
        "art. 7), newest first. A cancelled certified copy is no longer valid; every "
        "verification of it says so.",
    ),
    "only": ("Chỉ hiển thị chứng thực của", "Showing only the certifications of"),
    "all": ("Xem của mọi cơ quan", "Show every authority"),
    "empty": ("Không có chứng thực nào bị huỷ.", "No certification has been cancelled."),
    "page": ("Trang", "Page"),
    "previous": ("Trang trước", "Previous page"),
    "next": ("Trang sau", "Next page"),
    "pages": ("Các trang", "Pages"),
    "data": ("Dữ liệu mở", "Open data"),
    "error_heading": ("Không hiển thị được danh sách", "The list cannot be shown"),
}
FEED_TITLE = WORDS["title"][0]

Lang = Annotated[str | None, Query(description="vi (default) or en")]
Page = Annotated[
    int, Query(ge=1, le=MAX_PAGE, description=f"Page, 1 to {MAX_PAGE}, {PAGE_SIZE} a page")
]
AuthorityCode = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=32,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="Only this authority's cancellations (its code, e.g. dn-tanphu)",
    ),
]


@dataclass(frozen=True)
class Listing:
    """One page of the list, as the three faces show it."""

    authority: AuthorityRecord | None
    page: int
    items: list[PublishedCancellation]
    next_page: int | None


def listing(
    request: Request, services: Services, *, authority_code: str | None, page: int
) -> Listing:
    """Rate-limit, then read one page of the list.

    Raises:
        RateLimitedError: too many requests from this client.
        NotFoundError: ``authority_code`` names no authority.
    """
    request.app.state.listing_limiter.check(request)
    register = services.register
    authority = register.get_authority(authority_code) if authority_code is not None else None
    # One more than a page: whether there is a next page, without counting the rows.
    rows = register.list_cancellations(
        authority_code=authority_code, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE + 1
    )
    more = len(rows) > PAGE_SIZE and page < MAX_PAGE
    return Listing(authority, page, rows[:PAGE_SIZE], page + 1 if more else None)


def item_out(row: PublishedCancellation) -> CancellationOut:
    return CancellationOut(
        authority_code=row.authority_code,
        authority_name=row.authority_name,
        number=row.number,
        book=row.book,
        register_type=row.register_type,
        issued_on=register_date(row.issued_at).isoformat(),
        cancelled_on=register_date(row.cancelled_at).isoformat(),
        cancelled_reason=row.reason,
    )


def href(path: str, *, authority: str | None = None, page: int = 1, lang: str = "vi") -> str:
    """A link to one of the faces, with only the parameters that differ from the defaults."""
    query = {
        k: v
        for k, v in (("authority", authority), ("page", page if page > 1 else None))
        if v is not None
    }
    if lang == "en":
        query["lang"] = "en"
    return f"{path}?{urllib.parse.urlencode(query)}" if query else path


# --- HTML -------------------------------------------------------------------------------------


@router.get("/cancellations", response_class=HTMLResponse, include_in_schema=False)
def cancellations_page(
    request: Request,
    services: ServicesDep,
    lang: Lang = None,
    page: Page = 1,
    authority: AuthorityCode = None,
) -> Response:
    """The list for people: Vietnamese first, English beside it (``?lang=en`` swaps them)."""
    lang = i18n.language(lang)
    other = "en" if lang == "vi" else "vi"
    path = request.url.path
    context: dict[str, Any] = {
        "lang": lang,
        "other": other,
        "W": WORDS,
        "switch_href": href(path, authority=authority, page=page, lang=other),
        "verify_href": "/verify?lang=en" if lang == "en" else "/verify",
        "atom_href": href(f"{path}.atom", authority=authority, page=page),
        "json_href": href(f"{path}.json", authority=authority, page=page),
        "all_href": href(path, lang=lang),
    }
    try:
        shown = listing(request, services, authority_code=authority, page=page)
    except CertifyError as exc:
        status = status_for(exc)
        if status >= 500:
            log.warning("cancellations page not answered: %s", exc.code)
        return templates.TemplateResponse(
            request,
            "cancellations.html",
            {**context, "error": i18n.split_message(exc.message), "items": [], "listing": None},
            status_code=status,
            headers={**(error_headers(exc) or {}), "Cache-Control": "no-store"},
        )
    items = [
        {
            "heading": (
                f"Số chứng thực {row.number} quyển số {row.book}-{row.register_type}",
                f"No. {row.number}, book {row.book}-{row.register_type}",
            ),
            "book": f"{row.book}-{row.register_type}",
            "authority_name": row.authority_name,
            "issued_on": register_date(row.issued_at),
            "cancelled_on": register_date(row.cancelled_at),
            "reason": row.reason,
        }
        for row in shown.items
    ]
    return templates.TemplateResponse(
        request,
        "cancellations.html",
        {
            **context,
            "error": None,
            "listing": shown,
            "items": items,
            "previous_href": (
                href(path, authority=authority, page=page - 1, lang=lang) if page > 1 else None
            ),
            "next_href": (
                href(path, authority=authority, page=shown.next_page, lang=lang)
                if shown.next_page
                else None
            ),
        },
        headers=CACHE,
    )


# --- JSON -------------------------------------------------------------------------------------


@router.get(
    "/cancellations.json",
    response_model=CancellationsOut,
    responses={
        200: {"content": {"application/json": {"example": CANCELLATIONS_EXAMPLE}}},
        400: {"description": "A page or authority code that is not one (`invalid_request`)"},
        404: {"description": "No authority has this code (`not_found`)"},
        429: {"description": "Too many requests from this client (`rate_limited`, Retry-After)"},
    },
    summary="Chứng thực đã bị huỷ / Cancelled certifications",
)
def cancellations_json(
    request: Request,
    response: Response,
    services: ServicesDep,
    page: Page = 1,
    authority: AuthorityCode = None,
) -> CancellationsOut:
    """The published cancellations (TT 01/2020/TT-BTP art. 7), newest first, 50 a page:
    number, book, authority, dates of certification and cancellation (Vietnam) and reason.
    Never the requester, the document's name or the copy's verification code."""
    shown = listing(request, services, authority_code=authority, page=page)
    response.headers.update(CACHE)
    return CancellationsOut(
        authority_code=authority,
        page=shown.page,
        page_size=PAGE_SIZE,
        next_page=shown.next_page,
        items=[item_out(row) for row in shown.items],
    )


# --- Atom -------------------------------------------------------------------------------------


@router.get(
    "/cancellations.atom",
    response_class=Response,
    responses={
        200: {"content": {"application/atom+xml": {}}, "description": "An Atom 1.0 feed"},
        400: {"description": "A page or authority code that is not one (`invalid_request`)"},
        404: {"description": "No authority has this code (`not_found`)"},
        429: {"description": "Too many requests from this client (`rate_limited`, Retry-After)"},
    },
    summary="Chứng thực đã bị huỷ (Atom) / Cancelled certifications as an Atom feed",
)
def cancellations_atom(
    request: Request,
    services: ServicesDep,
    page: Page = 1,
    authority: AuthorityCode = None,
) -> Response:
    """The published cancellations as an Atom 1.0 feed (RFC 4287), newest first, paged with
    `first`/`previous`/`next` links (RFC 5005). Each entry: number and book in the title, the
    cancellation time as `updated`, the authority, dates and reason in the summary."""
    shown = listing(request, services, authority_code=authority, page=page)
    feed = atom_feed(
        shown,
        base_url=services.settings.resolved_public_base_url,
        authority_code=authority,
        now=services.clock.now(),
    )
    return Response(feed, media_type=ATOM_MEDIA_TYPE, headers=CACHE)


def atom_feed(
    shown: Listing, *, base_url: str, authority_code: str | None, now: dt.datetime
) -> bytes:
    """The Atom document of one page (UTF-8, with its XML declaration).

    ``now`` is the feed's ``updated`` only when the page is empty (RFC 4287 requires one).
    """
    path = f"{base_url}/public/cancellations"
    title = FEED_TITLE
    if shown.authority is not None:
        title = f"{title} — {shown.authority.name}"

    # Atom's elements are in its namespace and its attributes in none. ElementTree's writer
    # cannot make a namespace the default one with unqualified attributes (default_namespace
    # refuses them; register_namespace would change every serialisation in the process), so
    # the elements are written unqualified under an explicit xmlns: a reader sees Atom.
    feed = ET.Element("feed", {"xmlns": ATOM_NS, "xml:lang": "vi"})
    _text(feed, "id", _urn(f"feed:{authority_code or '*'}"))
    _text(feed, "title", title)
    newest = shown.items[0].cancelled_at if shown.items else now
    _text(feed, "updated", _rfc3339(newest))
    author = ET.SubElement(feed, "author")
    _text(author, "name", i18n.UI["service"][0])
    links = {
        "self": href(f"{path}.atom", authority=authority_code, page=shown.page),
        "first": href(f"{path}.atom", authority=authority_code),
        "previous": (
            href(f"{path}.atom", authority=authority_code, page=shown.page - 1)
            if shown.page > 1
            else None
        ),
        "next": (
            href(f"{path}.atom", authority=authority_code, page=shown.next_page)
            if shown.next_page
            else None
        ),
    }
    for rel, link in links.items():
        if link is not None:
            ET.SubElement(feed, "link", {"rel": rel, "href": link})
    ET.SubElement(
        feed,
        "link",
        {"rel": "alternate", "type": "text/html", "href": href(path, authority=authority_code)},
    )

    for row in shown.items:
        book = f"{row.book}-{row.register_type}"
        entry = ET.SubElement(feed, "entry")
        _text(entry, "id", _urn(f"cancellation:{row.document_id}"))
        _text(entry, "title", f"Số chứng thực {row.number} quyển số {book}")
        _text(entry, "updated", _rfc3339(row.cancelled_at))
        entry_author = ET.SubElement(entry, "author")
        _text(entry_author, "name", row.authority_name)
        # An entry without content needs an alternate link (RFC 4287 §4.1.2): the
        # authority's list, where its newest cancellations come first.
        ET.SubElement(
            entry,
            "link",
            {
                "rel": "alternate",
                "type": "text/html",
                "href": href(path, authority=row.authority_code),
            },
        )
        _text(
            entry,
            "summary",
            f"{row.authority_name} huỷ ngày {i18n.vn_date(register_date(row.cancelled_at))} "
            f"chứng thực số {row.number} quyển số {book} "
            f"(ngày chứng thực {i18n.vn_date(register_date(row.issued_at))}). "
            f"Lý do: {row.reason}",
        ).set("type", "text")
    data: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return data


def _text(parent: ET.Element, name: str, value: str) -> ET.Element:
    element = ET.SubElement(parent, name)
    element.text = _NOT_XML.sub("", value)
    return element


def _urn(name: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_URN_NAMESPACE, name)}"


def _rfc3339(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat(timespec="seconds")
