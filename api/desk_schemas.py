"""JSON shapes of the desk's API (``/api/v1`` for officers), for OpenAPI with examples."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from certify.desk import DeskRequest
from certify.office_counts import OfficeCounts
from certify.ports import DocumentEntry, ItemRecord


class OriginalIn(BaseModel):
    document_name: str = Field(min_length=1, max_length=300, examples=["Giấy khai sinh"])
    pages: int = Field(ge=1, le=1000, examples=[1])
    copies: int = Field(ge=1, le=100, examples=[2])


class RequestIn(BaseModel):
    requester_name: str = Field(min_length=1, max_length=200, examples=["Phạm Văn Dũng"])
    requester_id_number: str = Field(min_length=1, max_length=32, examples=["079200001234"])
    requester_contact: str | None = Field(default=None, max_length=200, examples=["0901234567"])
    originals: list[OriginalIn] = Field(min_length=1, max_length=50)


class RefusalIn(BaseModel):
    ground: str = Field(
        description="NĐ 23/2015 art. 22: altered, damaged, secret, unlawful, not_legalised, "
        "self_made",
        examples=["damaged"],
    )
    note: str = Field(default="", max_length=1000, examples=["Bản chính rách mất góc phải"])


class CertifyIn(BaseModel):
    totp: str = Field(
        min_length=1,
        max_length=10,
        description="the certifier's current TOTP code",
        examples=["123456"],
    )


class ExtendIn(BaseModel):
    working_days: int = Field(ge=1, le=30, examples=[2], description="1 or 2")
    at: dt.time = Field(description="appointment hour, Vietnam time", examples=["10:00"])


class CancelIn(BaseModel):
    reason: str = Field(min_length=1, max_length=1000, examples=["Cấp nhầm người yêu cầu"])


class ItemOut(BaseModel):
    position: int
    document_name: str
    pages: int
    copies: int
    status: str = Field(description="received, checked, refused, scanned or certified")
    checked_by: str | None
    checked_at: dt.datetime | None
    refusal_code: str | None
    refusal_note: str | None
    scan_pages: int | None
    document_id: str | None
    fee: int | None = Field(description="fee in đồng once scanned (TT 226/2016)")

    @classmethod
    def of(cls, item: ItemRecord, fee: int | None = None) -> ItemOut:
        return cls(
            position=item.position,
            document_name=item.document_name,
            pages=item.pages,
            copies=item.copies,
            status=item.status,
            checked_by=item.checked_by,
            checked_at=item.checked_at,
            refusal_code=item.refusal_code,
            refusal_note=item.refusal_note,
            scan_pages=item.scan_pages,
            document_id=item.document_id,
            fee=fee,
        )


class RequestOut(BaseModel):
    code: str
    authority_code: str
    requester_name: str
    requester_id_number: str
    requester_contact: str | None
    status: str
    received_at: dt.datetime | None
    due_at: dt.datetime | None
    extended_to: dt.datetime | None
    overdue: bool
    originals: list[ItemOut]

    @classmethod
    def of(
        cls, desk: DeskRequest, now: dt.datetime, fees: dict[int, int] | None = None
    ) -> RequestOut:
        r = desk.request
        return cls(
            code=r.code,
            authority_code=r.authority_code,
            requester_name=r.requester_name,
            requester_id_number=r.requester_id_number,
            requester_contact=r.requester_contact,
            status=r.status,
            received_at=r.received_at,
            due_at=r.due_at,
            extended_to=r.extended_to,
            overdue=desk.overdue(now),
            originals=[ItemOut.of(i, (fees or {}).get(i.position)) for i in desk.items],
        )


class QueueEntryOut(BaseModel):
    code: str
    status: str
    received_at: dt.datetime | None
    deadline: dt.datetime | None
    overdue: bool
    originals: int
    waiting: dict[str, int] = Field(description="originals by status")

    @classmethod
    def of(cls, desk: DeskRequest, now: dt.datetime) -> QueueEntryOut:
        waiting: dict[str, int] = {}
        for item in desk.items:
            waiting[item.status] = waiting.get(item.status, 0) + 1
        return cls(
            code=desk.request.code,
            status=desk.request.status,
            received_at=desk.request.received_at,
            deadline=desk.request.deadline,
            overdue=desk.overdue(now),
            originals=len(desk.items),
            waiting=waiting,
        )


class DocumentOut(BaseModel):
    id: str
    request_code: str
    number: int
    book: str
    register_type: str
    document_name: str
    pages: int
    copies: int
    fee: int
    issued_at: dt.datetime
    status: str
    cancelled_reason: str | None
    cancelled_at: dt.datetime | None
    copy_sha256: str
    verify_url: str
    download: str = Field(description="path of the PDF for officers of the authority")

    @classmethod
    def of(cls, entry: DocumentEntry, base_url: str) -> DocumentOut:
        return cls(
            id=entry.id,
            request_code=entry.request_code,
            number=entry.number,
            book=entry.book,
            register_type=entry.register_type,
            document_name=entry.document_name,
            pages=entry.pages,
            copies=entry.copies,
            fee=entry.fee,
            issued_at=entry.issued_at,
            status=entry.status,
            cancelled_reason=entry.cancelled_reason,
            cancelled_at=entry.cancelled_at,
            copy_sha256=entry.copy_sha256,
            verify_url=f"{base_url}/v/{entry.verification_token}",
            download=f"/api/v1/documents/{entry.id}/copy.pdf",
        )


class CertifiedOut(BaseModel):
    document: DocumentOut
    warnings: list[str]


class ScanOut(BaseModel):
    original: ItemOut
    warnings: list[str]
    previews: list[str] = Field(description="paths of the pages' PNG previews")


class CountsOut(BaseModel):
    authority_code: str
    since: dt.datetime
    until: dt.datetime
    received: int
    originals: int
    certified: int
    refused: int
    on_time: int
    overdue: int
    open: int

    @classmethod
    def of(
        cls, authority: str, since: dt.datetime, until: dt.datetime, c: OfficeCounts
    ) -> CountsOut:
        return cls(
            authority_code=authority,
            since=since,
            until=until,
            received=c.received,
            originals=c.originals,
            certified=c.certified,
            refused=c.refused,
            on_time=c.on_time,
            overdue=c.overdue,
            open=c.open,
        )
