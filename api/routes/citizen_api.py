"""The citizens' side through the API (issue 12, ``/api/v1``): booking, tracking by code, the
bank's payment webhook, the desk's payment and booking receipt, and the public measure.

- ``POST /api/v1/bookings`` (public, rate-limited per client address): a booking and its
  tracking code, given this once.
- ``GET /api/v1/tracking/{code}`` (public, rate-limited): the request as the code's holder
  sees it (:func:`public_tracking`, which ``GET /api/v1/requests/{code}`` also answers
  without a bearer token). A wrong code is 404 ``tracking_unknown`` and recorded in the
  audit chain (``tracking_refused``, subject 8 hex digits of the code's SHA-256, never the
  code).
- ``POST /api/v1/payments/webhook/{authority}`` (public, signed by the bank with HMAC):
  a transfer confirmed; idempotent per bank transaction.
- ``POST /api/v1/requests/{code}/payments`` and ``POST /api/v1/bookings/{code}/receive``
  (bearer token, clerk): a payment at the desk; a booking received with its originals.
- ``GET /api/v1/public/measure`` (public, rate-limited): the "hai không" counts by month.

Personal data (names, e-mail addresses, ID numbers) is answered only to the code's holder
and to the authority's officers, and never logged.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool

from api.citizen_schemas import (
    BookingIn,
    BookingOut,
    ErrorOut,
    MeasureOut,
    MonthOut,
    PaymentIn,
    PaymentOut,
    ReceiveBookingIn,
    TrackingOut,
    TransferConfirmationIn,
    WebhookOut,
)
from api.citizen_services import citizens, payments
from api.desk_schemas import RequestOut
from api.desk_views import month_bounds
from api.routes.auth import Officer
from api.routes.download_links import secret_subject
from api.services import Services
from api.sessions import audit, services_of
from api.uploads import read_body
from certify.citizens import CITIZEN_ACTOR, BookedOriginal, BookingIntake, Tracking
from certify.errors import InvalidInputError, NotFoundError
from certify.payments import payment_reference
from certify.ports import VN_TZ
from certify.public_measure import MonthMeasure, monthly_measure, total
from certify.tracking_codes import format_tracking_code

router = APIRouter(prefix="/api/v1", tags=["citizens"])

Code = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
AuthorityCode = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9-]+$")]
# A bank's confirmation is a small JSON object: anything larger is not read.
WEBHOOK_MAX_BYTES: Final = 16 * 1024


def _errors(described: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses``: each status's error codes, in the one error shape."""
    return {status: {"model": ErrorOut, "description": text} for status, text in described.items()}


def tracking_url(services: Services, tracking_code: str) -> str:
    """The tracking page of a request (what its QR code opens)."""
    return f"{services.settings.resolved_public_base_url}/t/{tracking_code}"


# --- booking --------------------------------------------------------------------------------


def booking_limit(request: Request) -> None:
    """Count a booking against the client's limit before anything of it is read."""
    request.app.state.booking_limiter.check(request)


def bring_list(intake: BookingIntake) -> list[tuple[str, str]]:
    """What the citizen brings to the office: each original, the ID paper, the code."""
    lines = [
        (
            f"Bản chính: {o.document_name} ({o.pages} trang), cần {o.copies} bản sao",
            f"Original: {o.document_name} ({o.pages} page(s)), {o.copies} cop"
            + ("y" if o.copies == 1 else "ies")
            + " wanted",
        )
        for o in intake.originals
    ]
    lines.append(
        (
            "Căn cước (hoặc giấy tờ tuỳ thân) của người yêu cầu",
            "The requester's citizen ID card (or other identity paper)",
        )
    )
    lines.append(
        (
            "Mã tra cứu này (bản in, ảnh chụp hoặc mã QR)",
            "This tracking code (printed, a photo, or its QR code)",
        )
    )
    return lines


def intake_of(body: BookingIn) -> BookingIntake:
    return BookingIntake(
        authority_code=body.authority_code,
        requester_name=body.requester_name,
        email=str(body.email),
        phone=body.phone,
        originals=tuple(BookedOriginal(o.document_name, o.pages, o.copies) for o in body.originals),
    )


def book(services: Services, body: BookingIn) -> tuple[Tracking, str, BookingOut]:
    """Book through the domain; the tracking, its code and the API's answer."""
    intake = intake_of(body)
    tracking, code = citizens(services).book(intake)
    out = BookingOut(
        tracking_code=format_tracking_code(code),
        tracking_url=tracking_url(services, code),
        status="booked",
        bring=[f"{vi} / {en}" for vi, en in bring_list(intake)],
        estimated_fee=tracking.estimated_fee,
    )
    return tracking, code, out


@router.post(
    "/bookings",
    status_code=201,
    response_model=BookingOut,
    dependencies=[Depends(booking_limit)],
    responses=_errors(
        {
            400: "invalid_request (e.g. the e-mail address), field_invalid, originals_invalid, "
            "phone_invalid",
            404: "no such authority",
            429: "rate_limited: too many bookings from this address",
        }
    ),
)
def create_booking(body: BookingIn, request: Request) -> BookingOut:
    """Book a request with an authority: the originals the citizen will bring, a name and
    an e-mail address (no account). The answer's tracking code is given this once: the
    clerk receives the booking by it, and the citizen follows the request with it. The due
    time starts when the originals are received at the office."""
    _, _, out = book(services_of(request), body)
    return out


# --- tracking -------------------------------------------------------------------------------


def tracked(request: Request, code: str) -> Tracking:
    """The request of tracking code ``code``, after the client's tracking limit; a wrong
    code is recorded (``tracking_refused``, never the code itself).

    Raises ``RateLimitedError``, ``NotFoundError`` (``tracking_unknown``)."""
    request.app.state.tracking_limiter.check(request)
    services = services_of(request)
    try:
        return citizens(services).track(code)
    except NotFoundError:
        audit(services, CITIZEN_ACTOR, "tracking_refused", secret_subject(code))
        raise


def tracking_out(services: Services, tracking: Tracking) -> TrackingOut:
    fees = payments(services)
    return TrackingOut.of(
        tracking,
        base_url=services.settings.resolved_public_base_url,
        now=services.clock.now(),
        due_amount=fees.due(tracking),
        vietqr=fees.qr_payload(tracking),
        reference=payment_reference(tracking.request.code),
    )


def public_tracking(request: Request, code: str) -> TrackingOut:
    """The request of tracking code ``code`` as its holder sees it (what
    ``GET /api/v1/requests/{code}`` answers without a bearer token).

    Raises ``RateLimitedError`` (429), ``NotFoundError`` (404 ``tracking_unknown``,
    recorded)."""
    return tracking_out(services_of(request), tracked(request, code))


@router.get(
    "/tracking/{code}",
    response_model=TrackingOut,
    responses=_errors({404: "tracking_unknown (recorded)", 429: "rate_limited: too many lookups"}),
)
def show_tracking(code: Code, request: Request) -> TrackingOut:
    """The request of a tracking code, for its holder: its state (booked, received,
    certified, refused, ready, delivered, cancelled), the originals (a refusal's ground in
    plain words), the due time, the fee and its payment (with the VietQR payload while
    something is due), and the copies (downloadable while the links work). Guessing codes
    is rate-limited and each wrong code is recorded."""
    return public_tracking(request, code)


# --- payments -------------------------------------------------------------------------------


@router.post(
    "/payments/webhook/{authority_code}",
    response_model=WebhookOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": TransferConfirmationIn.model_json_schema()}},
        }
    },
    responses=_errors(
        {
            400: "webhook_invalid, payment_account_mismatch, payment_reference_unknown, "
            "payment_amount_mismatch",
            403: "webhook_signature_invalid, webhook_stale (a replay)",
            404: "payment_account_unknown",
            409: "payment_conflict: the transaction was recorded with another amount",
            413: "the body is larger than 16 KiB",
        }
    ),
)
async def payment_webhook(
    authority_code: AuthorityCode,
    request: Request,
    timestamp: Annotated[str, Header(alias="X-Certify-Timestamp")] = "",
    signature: Annotated[str, Header(alias="X-Certify-Signature")] = "",
) -> WebhookOut:
    """The bank confirms a transfer to the authority's fee account. The body is JSON
    ``{"transaction_id", "amount", "reference", "account_number"}``; ``X-Certify-Signature``
    is ``sha256=`` and the hex HMAC-SHA256, under the authority's webhook secret, of
    ``X-Certify-Timestamp`` (Unix seconds), ``.`` and the body. A call more than a few
    minutes from now is refused (replay). The same transaction sent again answers
    ``recorded: false`` and changes nothing. Every refusal is recorded."""
    body = await read_body(request, max_bytes=WEBHOOK_MAX_BYTES)
    payment, new = await run_in_threadpool(
        payments(services_of(request)).confirm_transfer,
        authority_code,
        timestamp=timestamp,
        signature=signature,
        body=body,
    )
    return WebhookOut(recorded=new, request_code=payment.request_code, amount=payment.amount)


@router.post(
    "/requests/{code}/payments",
    status_code=201,
    response_model=PaymentOut,
    responses=_errors(
        {
            400: "payment_invalid",
            401: "no usable bearer token",
            403: "role_required (clerk)",
            404: "no such request at this authority",
        }
    ),
)
def record_payment(code: Code, body: PaymentIn, officer: Officer, request: Request) -> PaymentOut:
    """Record a fee paid at the desk (clerk): a transfer seen, a card, or cash. The public
    measure counts cash apart."""
    services = services_of(request)
    fees = payments(services)
    payment = fees.record_at_desk(officer, code, method=body.method, amount=body.amount)
    tracking = citizens(services).for_officer(officer, code)
    return PaymentOut(
        request_code=payment.request_code,
        amount=payment.amount,
        method=body.method,
        cashless=payment.cashless,
        reference=payment.reference,
        paid_at=payment.paid_at,
        recorded_by=payment.recorded_by,
        payment_state=tracking.payment_state,  # type: ignore[arg-type]
        paid=tracking.paid,
        due_amount=fees.due(tracking),
    )


@router.post(
    "/bookings/{tracking_code}/receive",
    response_model=RequestOut,
    responses=_errors(
        {
            400: "field_invalid",
            401: "no usable bearer token",
            403: "role_required (clerk)",
            404: "tracking_unknown: no booking with this code at this authority",
            409: "request_state: received already",
        }
    ),
)
def receive_booking(
    tracking_code: Code, body: ReceiveBookingIn, officer: Officer, request: Request
) -> RequestOut:
    """Receive a booked request (clerk) found by the tracking code the citizen shows, with
    the requester's ID number: the originals are at the desk and the due time starts now."""
    services = services_of(request)
    desk = citizens(services).receive_booking(officer, tracking_code, body.requester_id_number)
    return RequestOut.of(desk, services.clock.now())


# --- the public measure ---------------------------------------------------------------------


def measure(
    services: Services, *, authority: str | None, province: str | None, year: int | None
) -> MeasureOut:
    """The public measure of one authority or one province for a year (this year by
    default), month by month as the requests stand now.

    Raises ``InvalidInputError`` (``measure_scope_invalid``: not exactly one of the two),
    ``NotFoundError`` (``measure_scope_unknown``)."""
    if (authority is None) == (province is None):
        raise InvalidInputError(
            "Chọn một cơ quan (authority) hoặc một tỉnh (province). / Give one authority or "
            "one province.",
            code="measure_scope_invalid",
        )
    known = citizens(services).authorities()
    if authority is not None:
        chosen = [a for a in known if a.code == authority]
        scope, code = "authority", authority
        name = chosen[0].name if chosen else ""
    else:
        chosen = [a for a in known if a.province_code == province]
        scope, code = "province", province or ""
        name = chosen[0].province_name if chosen else ""
    if not chosen:
        raise NotFoundError(
            "Không có cơ quan hoặc tỉnh này. / There is no such authority or province.",
            code="measure_scope_unknown",
        )
    now = services.clock.now()
    this_year = now.astimezone(VN_TZ).year
    year = year or this_year
    since, until = month_bounds(year, None)
    rows = services.register.requests_for_measure(
        [a.code for a in chosen], since=since, until=until
    )
    found = {(m.year, m.month): m for m in monthly_measure(rows, now=now)}
    last = 12 if year < this_year else (now.astimezone(VN_TZ).month if year == this_year else 0)
    months = [found.get((year, n), MonthMeasure(year=year, month=n)) for n in range(1, last + 1)]
    return MeasureOut(
        scope=scope,  # type: ignore[arg-type]
        code=code,
        name=name,
        year=year,
        months=[MonthOut.of(m) for m in months],
        total=MonthOut.of(total(months)),
    )


@router.get(
    "/public/measure",
    response_model=MeasureOut,
    responses=_errors(
        {
            400: "measure_scope_invalid: give exactly one of authority and province",
            404: "measure_scope_unknown",
            429: "rate_limited",
        }
    ),
)
def public_measure(
    request: Request,
    authority: Annotated[str | None, Query(max_length=32, examples=["dn-tanphu"])] = None,
    province: Annotated[str | None, Query(max_length=16, examples=["dn"])] = None,
    year: Annotated[int | None, Query(ge=2000, le=2200, examples=[2026])] = None,
) -> MeasureOut:
    """The seed's own figures for one authority (``authority``) or a whole province
    (``province``), for a year (this year by default), by the month requests were received:
    received, certified, refused, the share of certified requests delivered electronically,
    the share of paid requests paid without cash, on time, overdue and still open. No
    personal data."""
    request.app.state.listing_limiter.check(request)
    return measure(services_of(request), authority=authority, province=province, year=year)
