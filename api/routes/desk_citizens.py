"""The desk's citizen parts (issue 12): receiving a booking by its tracking code, recording a
payment at the desk, and what a request's page shows of its citizen side (the tracking code
and its QR code, the fee's payment).

- ``POST /desk/bookings/receive`` (``tracking_code``, ``requester_id_number``; clerk): the
  booked request is received, its due time starts; 303 to the request's page. A refusal
  (unknown code, another authority's booking, received already) shows the queue again with
  the reason and the refusal's status.
- ``POST /desk/requests/{code}/payments`` (``method``, ``amount``; clerk): 303 back to the
  request's page.
- :func:`citizen_panel`: what ``desk/request.html`` shows of the citizen side (called by
  :func:`api.routes.desk_pages.request_page`).

Both forms carry the session's CSRF token (``CsrfChecked``). Requesters' codes and ID
numbers are shown to the officers, never logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from api.citizen_i18n import WORDS
from api.citizen_services import citizens, payments
from api.errors import error_headers, status_for
from api.i18n import split_message
from api.qr_svg import qr_svg
from api.routes.citizen_api import tracking_url
from api.sessions import NO_STORE, CsrfChecked, page_language, services_of
from api.sessions import templates as desk_templates
from certify.access import Principal
from certify.citizen_ports import PAYMENT_METHODS, PaymentRecord
from certify.errors import ConflictError, InvalidInputError, NotFoundError
from certify.ports import RequestRecord
from certify.tracking_codes import format_tracking_code

router = APIRouter(tags=["desk"], include_in_schema=False)

Code = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
MAX_AMOUNT_DIGITS: Final = 9

# The desk's templates read the citizen side's words as ``CW`` (queue and request pages).
desk_templates.env.globals.update(CW=WORDS, PAYMENT_METHODS=PAYMENT_METHODS)


@dataclass(frozen=True)
class CitizenPanel:
    """A request's citizen side as its page at the desk shows it."""

    tracking_code: str | None
    tracking_url: str | None
    qr: Markup | None
    payment_state: str
    fee: int | None
    estimated_fee: int
    paid: int
    due: int
    payments: tuple[PaymentRecord, ...]
    can_record: bool


def citizen_panel(request: Request, who: Principal, record: RequestRecord) -> CitizenPanel:
    """The citizen side of ``record``, a request the officer ``who`` may see (the desk's
    request page checked it)."""
    services = services_of(request)
    tracking = citizens(services).tracking_of(record)
    fees = payments(services)
    url = tracking_url(services, record.tracking_code) if record.tracking_code else None
    qr = None
    if url is not None:
        pair = WORDS["qr_of_code"]
        qr = qr_svg(url, title=pair[0] if page_language(request) == "vi" else pair[1])
    return CitizenPanel(
        tracking_code=format_tracking_code(record.tracking_code) if record.tracking_code else None,
        tracking_url=url,
        qr=qr,
        payment_state=tracking.payment_state,
        fee=tracking.fee,
        estimated_fee=tracking.estimated_fee,
        paid=tracking.paid,
        due=fees.due(tracking),
        payments=tracking.payments,
        can_record="clerk" in who.roles
        and record.status not in ("booked", "cancelled")
        and tracking.payment_state != "waived",
    )


def _see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303, headers=NO_STORE)


@router.post("/desk/bookings/receive")
def receive_booking(
    request: Request,
    user: CsrfChecked,
    tracking_code: Annotated[str, Form(max_length=64)] = "",
    requester_id_number: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Receive a booked request by the tracking code the citizen shows, with their ID number
    (clerk); go to the request's page. A refusal shows the queue again with the reason."""
    services = services_of(request)
    try:
        desk = citizens(services).receive_booking(
            user.principal, tracking_code, requester_id_number
        )
    except (InvalidInputError, NotFoundError, ConflictError) as exc:
        # The queue's page builds on the desk's module, which builds on this one.
        from api.routes.desk_pages import queue_page

        request.state.booking_error = split_message(exc.message)
        request.state.booking_code = tracking_code
        response = queue_page(request, user)
        response.status_code = status_for(exc)
        response.headers.update(error_headers(exc) or {})
        return response
    return _see_other(f"/desk/requests/{desk.request.code}?done=received")


def _amount(text: str) -> int:
    """An amount in đồng as typed: digits, with dots or spaces between thousands."""
    digits = "".join(text.split()).replace(".", "").replace(",", "")
    if not (digits.isascii() and digits.isdigit() and len(digits) <= MAX_AMOUNT_DIGITS):
        raise InvalidInputError(
            "Số tiền không hợp lệ. / The amount is not valid.", code="payment_invalid"
        )
    return int(digits)


@router.post("/desk/requests/{code}/payments")
def record_payment(
    request: Request,
    code: Code,
    user: CsrfChecked,
    method: Annotated[str, Form(max_length=16)] = "",
    amount: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Record a fee paid at the desk (clerk): transfer, card or cash."""
    payments(services_of(request)).record_at_desk(
        user.principal, code, method=method, amount=_amount(amount)
    )
    return _see_other(f"/desk/requests/{code}?paid=1#payment")
