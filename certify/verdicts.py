"""What a verification answers: the verdict, its reasons, the signatures, the register data.

The verdicts (DESIGN.md, "Verification verdicts"), each with a plain-language meaning in
Vietnamese and English (TT 15/2025/TT-BKHCN: the verifier shows its result in Vietnamese):

- ``genuine``    every signature intact and trusted, nothing changed after signing but this
                 service's own LTV updates, the copy is in the register and in force;
- ``cancelled``  genuine, but the certification was cancelled (TT 01/2020 art. 7);
- ``modified``   signed, then changed;
- ``untrusted``  signatures intact, but their chain does not lead to our roots;
- ``unknown``    not a copy this service issued (or no copy has the code given);
- ``invalid``    a signature is broken (malformed, or its value does not verify);
- ``unreadable`` not a PDF that can be read.

Everything here is plain data that survives JSON (it is stored with each register entry and
crosses process boundaries), and never holds the requester's identity.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Final

VERDICTS: Final = (
    "genuine",
    "cancelled",
    "modified",
    "untrusted",
    "unknown",
    "invalid",
    "unreadable",
)

# verdict -> (Vietnamese, English) headline shown to a person.
HEADLINES: Final[dict[str, tuple[str, str]]] = {
    "genuine": (
        "Bản sao điện tử hợp lệ: đúng bản đã được chứng thực.",
        "Genuine: this is the certified copy as issued.",
    ),
    "cancelled": (
        "Chứng thực này đã bị huỷ: bản sao không còn giá trị sử dụng.",
        "Cancelled: this certification has been withdrawn and the copy is no longer valid.",
    ),
    "modified": (
        "Tệp đã bị thay đổi sau khi ký: không phải bản sao đã được chứng thực.",
        "Modified after signing: this file is not the certified copy as issued.",
    ),
    "untrusted": (
        "Chữ ký không thuộc hệ thống chứng thực tin cậy.",
        "Untrusted: the signatures do not lead to a trusted certification authority.",
    ),
    "unknown": (
        "Không phải bản sao do hệ thống này cấp.",
        "Unknown: this is not a copy issued by this service.",
    ),
    "invalid": (
        "Chữ ký số không hợp lệ.",
        "Invalid: a digital signature is broken.",
    ),
    "unreadable": (
        "Không đọc được tệp PDF.",
        "Unreadable: the file is not a PDF that can be read.",
    ),
}

# reason code -> (Vietnamese, English). Codes are stable: clients may match on them.
REASONS: Final[dict[str, tuple[str, str]]] = {
    "matches_register": (
        "Tệp trùng khớp từng byte với bản sao lưu trong sổ chứng thực.",
        "The file is byte for byte the copy kept with the register entry.",
    ),
    "own_updates_only": (
        "Sau chữ ký chỉ có dữ liệu kiểm tra dài hạn và dấu thời gian của hệ thống.",
        "After the signatures there are only this service's long-term validation data "
        "and time-stamps.",
    ),
    "signatures_valid": (
        "Chữ ký của người thực hiện chứng thực và con dấu của cơ quan đều nguyên vẹn, "
        "hợp lệ và được tin cậy.",
        "The certifier's signature and the authority's seal are intact, valid and trusted.",
    ),
    "in_force": ("Chứng thực đang có hiệu lực.", "The certification is in force."),
    "cancelled": (
        "Người có thẩm quyền đã huỷ chứng thực này.",
        "The certification was cancelled by the competent person.",
    ),
    "appended_changes": (
        "Tệp có phần được thêm vào sau khi ký (chú thích, điền biểu mẫu, chữ ký khác hoặc "
        "dữ liệu khác) không do hệ thống tạo ra.",
        "Something was appended after signing (annotations, form data, another signature "
        "or other data) that this service did not add.",
    ),
    "content_changed": (
        "Nội dung đã ký bị thay đổi: mã băm không khớp với chữ ký.",
        "The signed content was changed: its hash does not match the signature.",
    ),
    "extra_signature": (
        "Tệp có thêm chữ ký không thuộc bản sao đã cấp.",
        "The file carries a signature that is not part of the issued copy.",
    ),
    "not_whole_file": (
        "Chữ ký không bao trùm toàn bộ tệp.",
        "A signature does not cover the whole file.",
    ),
    "broken_signature": (
        "Chữ ký số bị hỏng hoặc giá trị chữ ký không khớp với chứng thư số.",
        "A signature is malformed or its value does not verify against its certificate.",
    ),
    "untrusted_chain": (
        "Chứng thư số của người ký không dẫn tới chứng thư gốc tin cậy của tỉnh.",
        "The signer's certificate does not chain to a trusted provincial root.",
    ),
    "revoked": (
        "Chứng thư số của người ký đã bị thu hồi trước thời điểm ký.",
        "The signer's certificate was revoked before the time of signing.",
    ),
    "no_timestamp": (
        "Chữ ký không có dấu thời gian tin cậy.",
        "A signature has no trusted time-stamp.",
    ),
    "wrong_roles": (
        "Thiếu chữ ký của người thực hiện chứng thực hoặc con dấu của cơ quan đã ghi sổ.",
        "The signature of the certifier or the seal of the authority recorded in the "
        "register is missing.",
    ),
    "unsigned": ("Tệp không có chữ ký số.", "The file carries no digital signature."),
    "not_in_register": (
        "Không có bản sao nào trong sổ chứng thực khớp với tệp này.",
        "No copy in the register matches this file.",
    ),
    "signed_by_us_not_registered": (
        "Tệp được ký bằng chứng thư của tỉnh nhưng không có trong sổ chứng thực; sự việc "
        "đã được ghi nhận.",
        "The file is signed under the province's certificates but is not in the register; "
        "this has been recorded as an incident.",
    ),
    "no_such_code": (
        "Không có bản sao nào mang mã kiểm tra này.",
        "No copy carries this verification code.",
    ),
    "not_pdf": ("Tệp không phải PDF.", "The file is not a PDF."),
    "malformed_pdf": (
        "Tệp PDF bị hỏng hoặc có cấu trúc không hợp lệ.",
        "The PDF is damaged or its structure is invalid.",
    ),
    "too_complex": (
        "Tệp vượt quá giới hạn thời gian hoặc bộ nhớ khi kiểm tra.",
        "Checking the file exceeded the time or memory limit.",
    ),
}


@dataclass(frozen=True)
class Reason:
    """One reason for a verdict, in both languages."""

    code: str
    vi: str
    en: str

    @classmethod
    def of(cls, code: str) -> Reason:
        vi, en = REASONS[code]
        return cls(code, vi, en)


@dataclass(frozen=True)
class SignatureCheck:
    """One signature or document time-stamp of a PDF, as checked.

    ``role`` is ``certifier`` (the officer's personal signature), ``seal`` (the authority's),
    ``timestamp`` (a document time-stamp) or ``other``. Times are aware UTC.
    ``certificate_status`` is the signer's certificate status at the time of signing:
    ``good``, ``revoked``, ``expired`` or ``unknown``. ``indication`` and ``sub_indication``
    are the ETSI EN 319 102-1 main and sub indications (``TOTAL_PASSED``, ``TOTAL_FAILED``,
    ``INDETERMINATE``; ``HASH_FAILURE``, ``SIG_CRYPTO_FAILURE``, ``NO_CERTIFICATE_CHAIN_FOUND``,
    ``REVOKED``, ...).
    """

    field_name: str
    kind: str  # "signature" or "timestamp"
    role: str
    signer: str
    organisation: str | None
    certificate_serial: str  # hex
    certificate_sha256: str
    issuer: str
    intact: bool
    valid: bool
    trusted: bool
    certificate_status: str
    indication: str
    sub_indication: str | None
    signing_time: dt.datetime | None  # from the signature's RFC 3161 time-stamp
    claimed_time: dt.datetime | None  # /M: the signer's own claim, not proof
    tsa: str | None
    coverage: str  # ENTIRE_FILE, ENTIRE_REVISION, CONTIGUOUS_BLOCK_FROM_START, UNCLEAR
    modification_level: str | None  # pyHanko's: NONE, LTA_UPDATES, FORM_FILLING, ...
    digest_algorithm: str
    signature_algorithm: str
    signature_value_b64: str  # identifies the signature in the ETSI report
    signed_attrs_sha256_b64: str  # DTBSR digest for the ETSI report
    document_digest_b64: str  # the digest over the /ByteRange
    byte_range: tuple[int, ...]
    subfilter: str
    # Whether what later revisions changed is within what this signature allows (DocMDP /
    # field lock); None when no difference analysis was run.
    changes_allowed: bool | None = None

    @property
    def covered_end(self) -> int:
        """Where the signed bytes end (the end of the /ByteRange's second part)."""
        return self.byte_range[2] + self.byte_range[3] if len(self.byte_range) == 4 else 0


@dataclass(frozen=True)
class Validation:
    """The cryptographic check of one PDF file, independent of the register.

    ``outcome``: ``valid`` (every signature intact, valid and trusted, the whole file
    covered), ``modified``, ``invalid``, ``untrusted``, ``unsigned`` or ``unreadable``.
    ``pades_level`` is the highest ETSI EN 319 142-1 baseline level every signature reaches
    (``PAdES-BASELINE-B``, ``-T``, ``-LT``, ``-LTA``) or None.
    ``own_updates_only`` answers, when a stored copy was named as the file's beginning,
    whether everything after it is this service's own DSS and document time-stamps.
    """

    outcome: str
    reasons: tuple[Reason, ...]
    signatures: tuple[SignatureCheck, ...]
    pades_level: str | None
    validated_at: dt.datetime
    size: int
    sha256: str
    own_updates_only: bool | None = None

    @property
    def regular(self) -> tuple[SignatureCheck, ...]:
        return tuple(s for s in self.signatures if s.kind == "signature")

    def with_roles(self, roles: dict[str, str]) -> Validation:
        """The same check with each signature's role set from ``roles`` (certificate
        SHA-256 -> role), as the PKI's records say who holds which certificate."""
        return replace(
            self,
            signatures=tuple(
                replace(s, role=roles.get(s.certificate_sha256, s.role)) for s in self.signatures
            ),
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = _jsonable(asdict(self))
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Validation:
        sigs = tuple(
            SignatureCheck(
                **{
                    **s,
                    "signing_time": _time(s["signing_time"]),
                    "claimed_time": _time(s["claimed_time"]),
                    "byte_range": tuple(s["byte_range"]),
                }
            )
            for s in data["signatures"]
        )
        validated_at = dt.datetime.fromisoformat(data["validated_at"])
        return cls(
            outcome=data["outcome"],
            reasons=tuple(Reason(**r) for r in data["reasons"]),
            signatures=sigs,
            pades_level=data["pades_level"],
            validated_at=validated_at,
            size=data["size"],
            sha256=data["sha256"],
            own_updates_only=data.get("own_updates_only"),
        )


@dataclass(frozen=True)
class PublicEntry:
    """The register data a verifier may see (DOMAIN.md, Privacy): never the requester."""

    authority_code: str
    authority_name: str
    province_name: str
    document_name: str
    number: int
    book: str
    register_type: str
    issued_on: dt.date  # Vietnamese date of issue
    pages: int
    copies: int
    copy_sha256: str
    status: str  # issued | cancelled
    cancelled_on: dt.date | None = None
    cancelled_reason: str | None = None
    certifier_name: str | None = None
    certifier_title: str | None = None

    @property
    def reference(self) -> str:
        """ "Số chứng thực 12 quyển số 01/2026-SCT/BS"."""
        return f"{self.number} / {self.book}-{self.register_type}"


@dataclass(frozen=True)
class Verification:
    """The answer to one verification: what a person or a program is shown."""

    verdict: str
    reasons: tuple[Reason, ...]
    checked_at: dt.datetime
    method: str  # "upload" or "token"
    sha256: str | None  # of the file checked (the upload, or the stored copy)
    entry: PublicEntry | None = None
    validation: Validation | None = None
    token: str | None = field(default=None, repr=False)  # only when the caller gave it
    # Which stored version answered: 0 the copy as issued, n after n archive renewals.
    stored_version: int | None = None

    @property
    def headline(self) -> tuple[str, str]:
        return HEADLINES[self.verdict]

    @property
    def archive_timestamps(self) -> tuple[SignatureCheck, ...]:
        """The chain of document time-stamps, oldest first: the one made at issue, then each
        archive renewal's (ETSI EN 319 142-1 B-LTA)."""
        if self.validation is None:
            return ()
        stamps = [s for s in self.validation.signatures if s.kind == "timestamp"]
        return tuple(sorted(stamps, key=lambda s: s.covered_end))

    def to_json(self) -> dict[str, Any]:
        """The JSON answer of the API (``token`` is omitted: the caller has it)."""
        vi, en = self.headline
        validation = self.validation
        data: dict[str, Any] = {
            "verdict": self.verdict,
            "headline": {"vi": vi, "en": en},
            "reasons": [asdict(r) for r in self.reasons],
            "checked_at": self.checked_at,
            "method": self.method,
            "sha256": self.sha256,
            "pades_level": validation.pades_level if validation else None,
            "signatures": (
                [_public_signature(s) for s in validation.signatures] if validation else []
            ),
            "register": asdict(self.entry) if self.entry else None,
            "stored_version": self.stored_version,
            "archive_timestamps": [
                {
                    "time": s.signing_time,
                    "tsa": s.signer,
                    "digest_algorithm": s.digest_algorithm,
                    "valid": s.indication == "TOTAL_PASSED",
                }
                for s in self.archive_timestamps
            ],
        }
        answer: dict[str, Any] = _jsonable(data)
        return answer


def _public_signature(s: SignatureCheck) -> dict[str, Any]:
    return {
        "field": s.field_name,
        "kind": s.kind,
        "role": s.role,
        "signer": s.signer,
        "organisation": s.organisation,
        "certificate_serial": s.certificate_serial,
        "issuer": s.issuer,
        "intact": s.intact,
        "valid": s.valid,
        "trusted": s.trusted,
        "certificate_status": s.certificate_status,
        "indication": s.indication,
        "sub_indication": s.sub_indication,
        "signing_time": s.signing_time,
        "tsa": s.tsa,
        "coverage": s.coverage,
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _time(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)
