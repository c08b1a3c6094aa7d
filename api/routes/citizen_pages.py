"""The citizens' pages (issue 12): book online, follow the request by its tracking code, pay
the fee by VietQR, download the copies, print the fee's receipt, and the public measure.

- ``GET /book``, ``POST /book``: the booking form; its answer shows the tracking code (large,
  and as a QR code of the tracking page) and what to bring. A refused form comes back with
  its values and the reason (400, 404, 413 or 429).
- ``GET /t/{code}``: the request for the holder of its code: state and progress, the
  originals (a refusal's ground in plain words), the due time, the fee and its payment
  (VietQR while something is due), and the copies while they are downloadable.
- ``GET /t/{code}/copies/{document_id}``: a copy of the holder's request (the first
  download marks it delivered).
- ``GET /t/{code}/receipt``: the printable receipt (biên lai thu phí) once something is paid.
- ``GET /public/measure``: the "hai không" figures of an authority or a province by month.

Vietnamese first with English beside it, ``?lang=en`` for English first. No JavaScript and
nothing inline (CSP). Lookups by code are rate-limited like the API's; a wrong code, another
request's copy, or an expired link all answer the same 404 page, and each attempt is recorded
(``tracking_refused``, never the code itself). Pages with personal data are never cached nor
sent as a referrer.
"""

from __future__ import annotations

import itertools
import urllib.parse
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api.citizen_i18n import STEPS, WORDS, day, method, percent, vnd, when
from api.citizen_schemas import BookingIn
from api.citizen_services import citizens, payments
from api.desk_views import copy_stream
from api.errors import error_headers, status_for
from api.i18n import UI, Pair, split_message
from api.qr_svg import qr_svg
from api.routes.citizen_api import book, bring_list, intake_of, measure, tracked, tracking_url
from api.routes.download_links import secret_subject
from api.routes.pages import templates
from api.services import Services
from api.sessions import audit, page_language, services_of
from api.uploads import read_body
from certify.citizens import CITIZEN_ACTOR, Tracking
from certify.errors import CertifyError, InvalidInputError, NotFoundError, RateLimitedError
from certify.payments import payment_reference
from certify.ports import VN_TZ
from certify.refusal_grounds import REFUSAL_REASONS
from certify.tracking_codes import format_tracking_code

router = APIRouter(tags=["citizen pages"], include_in_schema=False)

# Nothing of a holder's page is kept by a cache, nor is its address (the code) sent on.
PRIVATE: Final = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
# The booking form: lines shown, and how large its body may be.
FORM_LINES: Final = 5
FORM_MAX_BYTES: Final = 32 * 1024
_FORM_FIELDS: Final = ("authority_code", "requester_name", "email", "phone")


# --- rendering ------------------------------------------------------------------------------


def _with_lang(path: str, lang: str) -> str:
    return f"{path}?lang=en" if lang == "en" else path


def _switch_href(request: Request, other: str) -> str:
    """This page in the other language (a GET of the same path and query)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    params.append(("lang", other))
    return f"{request.url.path}?{urllib.parse.urlencode(params)}"


def _page(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    switch_href: str | None = None,
) -> Response:
    lang = page_language(request)
    other = "en" if lang == "vi" else "vi"
    return templates.TemplateResponse(
        request,
        name,
        {
            "lang": lang,
            "other": other,
            "switch_href": switch_href or _switch_href(request, other),
            "verify_href": _with_lang("/verify", lang),
            # The layout's words, with these pages' footer.
            "T": {**UI, "footer": WORDS["footer"]},
            "W": WORDS,
            "when": when,
            "day": day,
            "vnd": vnd,
            "percent": percent,
            "method_words": method,
            **context,
        },
        status_code=status_code,
        headers=headers,
    )


def _one(request: Request, pair: Pair) -> str:
    return pair[0] if page_language(request) == "vi" else pair[1]


def _refused(request: Request, status: int, headers: dict[str, str] | None = None) -> Response:
    """The one page for a wrong code, another request's copy, an expired link, or too many
    attempts: it says nothing of which it was."""
    return _page(
        request,
        "citizen/refused.html",
        {"too_many": status == 429},
        status_code=status,
        headers={**PRIVATE, **(headers or {})},
    )


def _limited(exc: RateLimitedError) -> dict[str, str]:
    return {"Retry-After": str(exc.retry_after)}


# --- booking --------------------------------------------------------------------------------


def _form(
    request: Request,
    *,
    values: dict[str, str] | None = None,
    lines: list[tuple[str, str, str]] | None = None,
    errors: dict[str, Pair] | None = None,
    error: Pair | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    services = services_of(request)
    rows = list(lines or [])
    rows += [("", "", "1")] * (FORM_LINES - len(rows))
    return _page(
        request,
        "citizen/book.html",
        {
            "authorities": citizens(services).authorities(),
            "values": values or {},
            "lines": rows,
            "errors": errors or {},
            "error": error,
        },
        status_code=status_code,
        headers={**PRIVATE, **(headers or {})} if (error or errors) else headers,
    )


@router.get("/book", response_class=HTMLResponse)
def booking_form(request: Request) -> Response:
    """The booking form."""
    return _form(request)


def _field_errors(exc: ValidationError, line_of: list[int]) -> dict[str, Pair]:
    """The form's fields that pydantic refused, each with words for it (never the value)."""
    found: dict[str, Pair] = {}
    for err in exc.errors():
        loc = err.get("loc", ())
        field = str(loc[0]) if loc else ""
        if field == "originals" and len(loc) >= 2 and isinstance(loc[1], int):
            found.setdefault(f"line-{line_of[loc[1]]}", WORDS["field_invalid"])
        elif field == "originals":
            found.setdefault("originals", WORDS["field_missing"])
        elif field == "email":
            found.setdefault("email", WORDS["email_invalid"])
        elif err.get("type") in ("missing", "string_too_short"):
            found.setdefault(field, WORDS["field_missing"])
        else:
            found.setdefault(field, WORDS["field_invalid"])
    return found


@router.post("/book", response_class=HTMLResponse)
async def booking_submit(request: Request) -> Response:
    """Book from the form; the answer is the tracking code and what to bring."""
    services = services_of(request)
    try:
        request.app.state.booking_limiter.check(request)
        body = await read_body(request, max_bytes=FORM_MAX_BYTES)
    except CertifyError as exc:
        return _form(
            request,
            error=split_message(exc.message),
            status_code=status_for(exc),
            headers=error_headers(exc),
        )
    try:
        pairs = urllib.parse.parse_qsl(
            body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=200
        )
    except ValueError:
        pairs = []
    values = {k: v[:300] for k, v in pairs if k in _FORM_FIELDS}
    names = [v[:300] for k, v in pairs if k == "document_name"]
    pages = [v[:10] for k, v in pairs if k == "pages"]
    copies = [v[:10] for k, v in pairs if k == "copies"]
    lines = list(itertools.zip_longest(names, pages, copies, fillvalue=""))
    given = [
        (n, line) for n, line in enumerate(lines, start=1) if line[0].strip() or line[1].strip()
    ]
    try:
        booking = BookingIn.model_validate(
            {
                "authority_code": values.get("authority_code", ""),
                "requester_name": values.get("requester_name", ""),
                "email": values.get("email", "").strip(),
                "phone": values.get("phone", "").strip() or None,
                "originals": [
                    {"document_name": n, "pages": p.strip(), "copies": c.strip() or "1"}
                    for _, (n, p, c) in given
                ],
            }
        )
    except ValidationError as exc:
        errors = _field_errors(exc, [n for n, _ in given])
        return _form(request, values=values, lines=lines, errors=errors, status_code=400)
    try:
        tracking, code, _ = await run_in_threadpool(book, services, booking)
    except CertifyError as exc:
        return _form(
            request,
            values=values,
            lines=lines,
            error=split_message(exc.message),
            status_code=status_for(exc),
            headers=error_headers(exc),
        )
    url = tracking_url(services, code)
    lang = page_language(request)
    return _page(
        request,
        "citizen/booked.html",
        {
            "code": format_tracking_code(code),
            "href": _with_lang(f"/t/{code}", lang),
            "url": url,
            "qr": qr_svg(url, title=_one(request, WORDS["qr_of_code"]), css_class="qr-code"),
            "bring": bring_list(intake_of(booking)),
            "authority": tracking.authority,
            "estimated_fee": tracking.estimated_fee,
        },
        headers=PRIVATE,
        # The answer cannot be asked for again: the switch leads to the tracking page.
        switch_href=f"/t/{code}?lang={'en' if lang == 'vi' else 'vi'}",
    )


# --- tracking -------------------------------------------------------------------------------


def _steps(state: str) -> list[tuple[str, str]]:
    """The progress line: each step and whether it is ``done``, ``current`` or ``todo``."""
    reached = {"booked": 0, "received": 1, "refused": 1, "cancelled": 1}.get(state)
    if reached is None:
        reached = STEPS.index(state) if state in STEPS else 0
    return [
        (step, "done" if n < reached else "current" if n == reached else "todo")
        for n, step in enumerate(STEPS)
    ]


def _tracking_context(request: Request, services: Services, t: Tracking) -> dict[str, Any]:
    fees = payments(services)
    code = t.request.tracking_code or ""
    now = services.clock.now()
    payload = fees.qr_payload(t)
    due = fees.due(t)
    qr = None
    if payload is not None:
        title = WORDS["qr_pay"]
        qr = qr_svg(payload, title=f"{_one(request, title)}: {vnd(due)}", css_class="qr-code")
    downloadable = t.downloadable(now)
    lang = page_language(request)
    return {
        "t": t,
        "state": t.state,
        "steps": _steps(t.state),
        "code": format_tracking_code(code),
        "grounds": REFUSAL_REASONS,
        "due": due,
        "qr": qr,
        "account": fees.account(t.authority.code) if payload else None,
        "reference": payment_reference(t.request.code),
        "receipt_href": _with_lang(f"/t/{code}/receipt", lang) if t.payments else None,
        "downloadable": downloadable,
        "copies": [
            (
                d,
                f"/t/{code}/copies/{d.id}" if downloadable and d.status == "issued" else None,
                _with_lang(f"/v/{d.verification_token}", lang),
            )
            for d in t.documents
        ],
    }


@router.get("/t/{code}", response_class=HTMLResponse)
def tracking_page(code: str, request: Request) -> Response:
    """The request of a tracking code, for its holder."""
    services = services_of(request)
    try:
        tracking = tracked(request, code)
    except RateLimitedError as exc:
        return _refused(request, 429, _limited(exc))
    except NotFoundError:
        return _refused(request, 404)
    return _page(
        request,
        "citizen/tracking.html",
        _tracking_context(request, services, tracking),
        headers=PRIVATE,
    )


@router.get("/t/{code}/copies/{document_id}")
def holder_copy(code: str, document_id: str, request: Request) -> Response:
    """A copy of the holder's request, while its links work; else the same 404 page."""
    services = services_of(request)
    try:
        request.app.state.tracking_limiter.check(request)
    except RateLimitedError as exc:
        return _refused(request, 429, _limited(exc))
    try:
        entry = citizens(services).copy_for_holder(code, document_id)
        return copy_stream(services, entry, actor=CITIZEN_ACTOR, via="tracking")
    except CertifyError as exc:
        audit(services, CITIZEN_ACTOR, "tracking_refused", secret_subject(code), reason=exc.code)
        return _refused(request, 404)


@router.get("/t/{code}/receipt", response_class=HTMLResponse)
def receipt(code: str, request: Request) -> Response:
    """The fee's receipt (biên lai thu phí), to print, once something was paid."""
    try:
        tracking = tracked(request, code)
    except RateLimitedError as exc:
        return _refused(request, 429, _limited(exc))
    except NotFoundError:
        return _refused(request, 404)
    if not tracking.payments:
        return _refused(request, 404)
    tracking_code = tracking.request.tracking_code or ""
    return _page(
        request,
        "citizen/receipt.html",
        {
            "t": tracking,
            "reference": payment_reference(tracking.request.code),
            "back_href": _with_lang(f"/t/{tracking_code}", page_language(request)),
        },
        headers=PRIVATE,
    )


# --- the public measure ---------------------------------------------------------------------


def _year(text: str | None) -> int | None:
    """The year asked for (None: this year). Raises ``InvalidInputError``."""
    text = (text or "").strip()
    if not text:
        return None
    if text.isascii() and text.isdigit() and len(text) == 4 and 2000 <= int(text) <= 2200:
        return int(text)
    raise InvalidInputError("Năm không hợp lệ. / The year is not valid.", code="year_invalid")


@router.get("/public/measure", response_class=HTMLResponse)
def measure_page(
    request: Request,
    authority: str | None = None,
    province: str | None = None,
    year: str | None = None,
) -> Response:
    """The public measure as a table by month, for an authority or a province."""
    services = services_of(request)
    known = citizens(services).authorities()
    provinces = sorted({(a.province_code, a.province_name) for a in known}, key=lambda p: p[1])
    now_year = services.clock.now().astimezone(VN_TZ).year
    context: dict[str, Any] = {
        "authorities": known,
        "provinces": provinces,
        "chosen_authority": (authority or "")[:64],
        "chosen_province": (province or "")[:64],
        "year": now_year,
        "years": list(range(now_year, now_year - 6, -1)),
        "result": None,
        "error": None,
    }
    try:
        request.app.state.listing_limiter.check(request)
    except RateLimitedError as exc:
        context["error"] = WORDS["too_many"]
        return _page(
            request, "citizen/measure.html", context, status_code=429, headers=_limited(exc)
        )
    try:
        chosen_year = _year(year)
        context["year"] = chosen_year or now_year
        if not authority and not province:
            return _page(request, "citizen/measure.html", context)
        context["result"] = measure(
            services, authority=authority or None, province=province or None, year=chosen_year
        )
    except CertifyError as exc:
        context["error"] = (
            WORDS["measure_unknown"]
            if isinstance(exc, NotFoundError)
            else split_message(exc.message)
        )
        return _page(request, "citizen/measure.html", context, status_code=status_for(exc))
    return _page(request, "citizen/measure.html", context)
