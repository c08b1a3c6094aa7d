"""JSON shapes of the citizens' side (issue 12, ``/api/v1``), for OpenAPI with examples:
bookings, tracking, payments, the bank's webhook and the public measure."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from api.schemas import Text
from certify.citizens import Tracking
from certify.desk import MAX_COPIES, MAX_DECLARED_PAGES, MAX_ORIGINALS
from certify.ports import ItemRecord
from certify.public_measure import MonthMeasure
from certify.refusal_grounds import REFUSAL_REASONS
from certify.tracking_codes import format_tracking_code

State = Literal["booked", "received", "certified", "refused", "ready", "delivered", "cancelled"]
PaymentState = Literal["waived", "pending", "unpaid", "paid", "none"]
Method = Literal["transfer", "card", "cash"]


class ErrorOut(BaseModel):
    """Every error answer (``api/errors.py``)."""

    error: str = Field(examples=["tracking_unknown"])
    message: str = Field(
        examples=["Không tìm thấy hồ sơ với mã tra cứu này. / No request has this tracking code."]
    )


# --- booking --------------------------------------------------------------------------------


class BookedOriginalIn(BaseModel):
    document_name: str = Field(min_length=1, max_length=300, examples=["Giấy khai sinh"])
    pages: int = Field(ge=1, le=MAX_DECLARED_PAGES, description="about how many pages")
    copies: int = Field(ge=1, le=MAX_COPIES, examples=[2])


class BookingIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "authority_code": "dn-tanphu",
                    "requester_name": "Nguyễn Thị Hường",
                    "email": "huong.nt@example.vn",
                    "phone": "0901234567",
                    "originals": [
                        {"document_name": "Bằng tốt nghiệp THPT", "pages": 1, "copies": 2}
                    ],
                }
            ]
        }
    )

    authority_code: str = Field(min_length=1, max_length=32, examples=["dn-tanphu"])
    requester_name: str = Field(min_length=1, max_length=200, examples=["Nguyễn Thị Hường"])
    email: EmailStr = Field(description="where the result and the copy's link are sent")
    phone: str | None = Field(default=None, max_length=20, examples=["0901234567"])
    originals: list[BookedOriginalIn] = Field(min_length=1, max_length=MAX_ORIGINALS)


class BookingOut(BaseModel):
    tracking_code: str = Field(
        description="given this once; printed in groups of four", examples=["K7QD-2MXA-9PLF-4TWE"]
    )
    tracking_url: str = Field(examples=["https://chungthuc.example.gov.vn/t/K7QD2MXA9PLF4TWE"])
    status: State = Field(examples=["booked"])
    bring: list[str] = Field(
        description="what to bring to the office, each 'Vietnamese / English'",
        examples=[["Căn cước công dân của người yêu cầu / The requester's citizen ID card"]],
    )
    estimated_fee: int = Field(description="đồng, from the pages declared (TT 226/2016)")


# --- tracking -------------------------------------------------------------------------------


class TrackedOriginalOut(BaseModel):
    position: int
    document_name: str
    pages: int
    copies: int
    status: str = Field(description="booked, received, checked, scanned, certified or refused")
    refusal_ground: Text | None = Field(
        description="the ground of NĐ 23/2015 art. 22 in plain words, when refused"
    )
    refusal_note: str | None

    @classmethod
    def of(cls, item: ItemRecord) -> TrackedOriginalOut:
        ground = REFUSAL_REASONS.get(item.refusal_code or "")
        return cls(
            position=item.position,
            document_name=item.document_name,
            pages=item.pages,
            copies=item.copies,
            status=item.status,
            refusal_ground=Text(vi=ground[0], en=ground[1]) if ground else None,
            refusal_note=(item.refusal_note or None) if item.status == "refused" else None,
        )


class TrackedCopyOut(BaseModel):
    document_id: str
    document_name: str
    number: int
    book: str
    status: str = Field(description="issued or cancelled")
    verification_url: str
    download_url: str | None = Field(
        description="the copy's PDF for the code's holder, while the links work"
    )


class PaymentLineOut(BaseModel):
    paid_at: dt.datetime
    method: Method
    amount: int
    cashless: bool


class TrackingOut(BaseModel):
    """A request as the holder of its tracking code sees it."""

    tracking_code: str = Field(examples=["K7QD-2MXA-9PLF-4TWE"])
    request_code: str = Field(examples=["HS-4F2A9C01B7"])
    state: State
    authority_code: str
    authority_name: str = Field(examples=["UBND phường Tân Phú"])
    requester_name: str
    originals: list[TrackedOriginalOut]
    created_at: dt.datetime
    received_at: dt.datetime | None
    due_at: dt.datetime | None = Field(description="when the result is due (extended or not)")
    extended: bool
    fee: int | None = Field(description="đồng, once every original is finished")
    estimated_fee: int
    payment_state: PaymentState
    paid: int
    due_amount: int = Field(description="đồng still to pay now")
    payment_reference: str = Field(examples=["HS4F2A9C01B7"])
    vietqr: str | None = Field(
        description="the VietQR (EMVCo) payload for the amount due, when payable by transfer"
    )
    payments: list[PaymentLineOut]
    copies: list[TrackedCopyOut]
    download_until: dt.datetime | None

    @classmethod
    def of(
        cls,
        tracking: Tracking,
        *,
        base_url: str,
        now: dt.datetime,
        due_amount: int,
        vietqr: str | None,
        reference: str,
    ) -> TrackingOut:
        r = tracking.request
        code = r.tracking_code or ""
        downloadable = tracking.downloadable(now)
        return cls(
            tracking_code=format_tracking_code(code),
            request_code=r.code,
            state=tracking.state,  # type: ignore[arg-type]
            authority_code=tracking.authority.code,
            authority_name=tracking.authority.name,
            requester_name=r.requester_name,
            originals=[TrackedOriginalOut.of(i) for i in tracking.items],
            created_at=r.created_at,
            received_at=r.received_at,
            due_at=r.deadline,
            extended=r.extended_to is not None,
            fee=tracking.fee,
            estimated_fee=tracking.estimated_fee,
            payment_state=tracking.payment_state,  # type: ignore[arg-type]
            paid=tracking.paid,
            due_amount=due_amount,
            payment_reference=reference,
            vietqr=vietqr,
            payments=[
                PaymentLineOut(
                    paid_at=p.paid_at,
                    method=p.method,  # type: ignore[arg-type]
                    amount=p.amount,
                    cashless=p.cashless,
                )
                for p in tracking.payments
            ],
            copies=[
                TrackedCopyOut(
                    document_id=d.id,
                    document_name=d.document_name,
                    number=d.number,
                    book=d.book,
                    status=d.status,
                    verification_url=f"{base_url}/v/{d.verification_token}",
                    download_url=f"{base_url}/t/{code}/copies/{d.id}"
                    if downloadable and d.status == "issued"
                    else None,
                )
                for d in tracking.documents
            ],
            download_until=tracking.download_until,
        )


# --- payments -------------------------------------------------------------------------------


class PaymentIn(BaseModel):
    method: Method = Field(description="transfer (seen at the desk), card or cash")
    amount: int = Field(ge=1, le=100_000_000, description="đồng", examples=[10000])


class PaymentOut(BaseModel):
    request_code: str = Field(examples=["HS-4F2A9C01B7"])
    amount: int
    method: Method
    cashless: bool
    reference: str = Field(examples=["HS4F2A9C01B7"])
    paid_at: dt.datetime
    recorded_by: str
    payment_state: PaymentState = Field(description="the request's, after this payment")
    paid: int = Field(description="đồng paid in all")
    due_amount: int = Field(description="đồng still due")


class TransferConfirmationIn(BaseModel):
    """The bank's confirmation of a transfer (the webhook's body, read as raw bytes: the
    signature is over them)."""

    transaction_id: str = Field(max_length=128, examples=["FT26335123456"])
    amount: int = Field(ge=1, description="đồng", examples=[4000])
    reference: str = Field(
        max_length=500,
        description="the transfer's description; holds the request's payment reference",
        examples=["HS4F2A9C01B7 chuyen khoan le phi"],
    )
    account_number: str | None = Field(default=None, examples=["113366668888"])


class WebhookOut(BaseModel):
    """The answer to the bank: no personal data."""

    recorded: bool = Field(
        description="true: recorded now; false: this transaction was recorded before (nothing "
        "changed)"
    )
    request_code: str = Field(examples=["HS-4F2A9C01B7"])
    amount: int


class ReceiveBookingIn(BaseModel):
    requester_id_number: str = Field(min_length=1, max_length=32, examples=["079300004567"])


# --- the public measure ---------------------------------------------------------------------


class MonthOut(BaseModel):
    year: int = Field(description="0 in the total")
    month: int = Field(description="1-12; 0 in the total")
    received: int
    certified: int
    refused: int
    delivered_electronically: int
    paid: int
    paid_cashless: int
    on_time: int
    overdue: int
    open: int
    delivered_share: float | None = Field(
        description="certified requests whose copy was downloaded from the link, of certified"
    )
    cashless_share: float | None = Field(description="paid without cash, of paid requests")

    @classmethod
    def of(cls, m: MonthMeasure) -> MonthOut:
        return cls(
            year=m.year,
            month=m.month,
            received=m.received,
            certified=m.certified,
            refused=m.refused,
            delivered_electronically=m.delivered_electronically,
            paid=m.paid,
            paid_cashless=m.paid_cashless,
            on_time=m.on_time,
            overdue=m.overdue,
            open=m.open,
            delivered_share=m.delivered_share,
            cashless_share=m.cashless_share,
        )


class MeasureOut(BaseModel):
    scope: Literal["authority", "province"]
    code: str = Field(examples=["dn-tanphu"])
    name: str = Field(examples=["UBND phường Tân Phú"])
    year: int = Field(examples=[2026])
    months: list[MonthOut] = Field(description="January to December (or to this month)")
    total: MonthOut
