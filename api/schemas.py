"""JSON shapes of the public API, for OpenAPI (the answers are built by
``certify.verdicts.Verification.to_json``; these models document and check them)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Verdict = Literal[
    "genuine", "cancelled", "modified", "untrusted", "unknown", "invalid", "unreadable"
]


class Text(BaseModel):
    vi: str
    en: str


class ReasonOut(BaseModel):
    code: str = Field(description="Stable machine code of the reason")
    vi: str
    en: str


class SignatureOut(BaseModel):
    field: str
    kind: Literal["signature", "timestamp"]
    role: str = Field(description="certifier, seal, timestamp or other")
    signer: str
    organisation: str | None
    certificate_serial: str
    issuer: str
    intact: bool
    valid: bool
    trusted: bool
    certificate_status: str = Field(description="good, revoked, expired or unknown, at signing")
    indication: str = Field(description="ETSI EN 319 102-1 main indication")
    sub_indication: str | None
    signing_time: str | None = Field(description="From the RFC 3161 time-stamp (UTC)")
    tsa: str | None
    coverage: str


class RegisterOut(BaseModel):
    authority_code: str
    authority_name: str
    province_name: str
    document_name: str
    number: int = Field(description="Số chứng thực")
    book: str = Field(description="Quyển số, e.g. 01/2026")
    register_type: str
    issued_on: str
    pages: int
    copies: int
    copy_sha256: str
    status: Literal["issued", "cancelled"]
    cancelled_on: str | None
    cancelled_reason: str | None
    certifier_name: str | None
    certifier_title: str | None


class ArchiveTimestampOut(BaseModel):
    time: str | None = Field(description="When the document time-stamp was made (UTC)")
    tsa: str = Field(description="The time-stamp authority")
    digest_algorithm: str
    valid: bool


class VerificationOut(BaseModel):
    verdict: Verdict
    headline: Text
    reasons: list[ReasonOut]
    checked_at: str
    method: Literal["upload", "token"]
    sha256: str | None = Field(description="SHA-256 of the file checked")
    pades_level: str | None
    signatures: list[SignatureOut]
    register_entry: RegisterOut | None = Field(
        alias="register", description="What the register may show; never the requester"
    )
    stored_version: int | None = Field(
        default=None,
        description="The stored version that answered: 0 the copy as issued, n after n "
        "archive renewals (certify preserve)",
    )
    archive_timestamps: list[ArchiveTimestampOut] = Field(
        default_factory=list,
        description="The document time-stamps, oldest first: at issue, then each renewal "
        "(PAdES B-LTA)",
    )


GENUINE_EXAMPLE: dict[str, Any] = {
    "verdict": "genuine",
    "headline": {
        "vi": "Bản sao điện tử hợp lệ: đúng bản đã được chứng thực.",
        "en": "Genuine: this is the certified copy as issued.",
    },
    "reasons": [
        {
            "code": "matches_register",
            "vi": "Tệp trùng khớp từng byte với bản sao lưu trong sổ chứng thực.",
            "en": "The file is byte for byte the copy kept with the register entry.",
        },
        {
            "code": "in_force",
            "vi": "Chứng thực đang có hiệu lực.",
            "en": "The certification is in force.",
        },
    ],
    "checked_at": "2026-12-01T08:30:00+00:00",
    "method": "upload",
    "sha256": "9f2c…",
    "pades_level": "PAdES-BASELINE-LTA",
    "signatures": [
        {
            "field": "officer",
            "kind": "signature",
            "role": "certifier",
            "signer": "Nguyễn Thị Hồng",
            "organisation": "UBND phường Tân Phú",
            "certificate_serial": "5f1a…",
            "issuer": "CA cấp dưới - Đồng Nai",
            "intact": True,
            "valid": True,
            "trusted": True,
            "certificate_status": "good",
            "indication": "TOTAL_PASSED",
            "sub_indication": None,
            "signing_time": "2026-12-01T02:15:07+00:00",
            "tsa": "Time Stamping Authority - Đồng Nai",
            "coverage": "ENTIRE_REVISION",
        }
    ],
    "register": {
        "authority_code": "dn-tanphu",
        "authority_name": "UBND phường Tân Phú",
        "province_name": "Đồng Nai",
        "document_name": "Giấy khai sinh",
        "number": 12,
        "book": "01/2026",
        "register_type": "SCT/BS",
        "issued_on": "2026-12-01",
        "pages": 2,
        "copies": 2,
        "copy_sha256": "9f2c…",
        "status": "issued",
        "cancelled_on": None,
        "cancelled_reason": None,
        "certifier_name": "Nguyễn Thị Hồng",
        "certifier_title": "Phó Chủ tịch UBND phường",
    },
}
MODIFIED_EXAMPLE: dict[str, Any] = {
    **GENUINE_EXAMPLE,
    "verdict": "modified",
    "headline": {
        "vi": "Tệp đã bị thay đổi sau khi ký: không phải bản sao đã được chứng thực.",
        "en": "Modified after signing: this file is not the certified copy as issued.",
    },
    "reasons": [
        {
            "code": "appended_changes",
            "vi": "Tệp có phần được thêm vào sau khi ký …",
            "en": "Something was appended after signing …",
        }
    ],
}


class CancellationOut(BaseModel):
    """A cancelled certification as published (TT 01/2020 art. 7): never the requester, the
    document's name or the copy's verification code."""

    authority_code: str
    authority_name: str
    number: int = Field(description="Số chứng thực")
    book: str = Field(description="Quyển số, e.g. 01/2026")
    register_type: str = Field(description="Register type, e.g. SCT/BS")
    issued_on: str = Field(description="Date of certification (Vietnam)")
    cancelled_on: str = Field(description="Date of cancellation (Vietnam)")
    cancelled_reason: str


class CancellationsOut(BaseModel):
    """One page of the published cancellations, newest first."""

    authority_code: str | None = Field(description="The authority filter, if any")
    page: int
    page_size: int
    next_page: int | None = Field(description="The next page's number, if there is one")
    items: list[CancellationOut]


CANCELLATIONS_EXAMPLE: dict[str, Any] = {
    "authority_code": None,
    "page": 1,
    "page_size": 50,
    "next_page": None,
    "items": [
        {
            "authority_code": "dn-tanphu",
            "authority_name": "UBND phường Tân Phú",
            "number": 12,
            "book": "01/2026",
            "register_type": "SCT/BS",
            "issued_on": "2026-12-01",
            "cancelled_on": "2026-12-03",
            "cancelled_reason": "Chứng thực sai thẩm quyền",
        }
    ],
}
