"""Ports: what the domain needs from the outside world, as Protocols.

``storage`` and ``keys`` implement these; tests may implement them with fakes. The domain
imports no S3, database or web library.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO, Final, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # annotations only: the ports import no library and no other module
    from collections.abc import Iterable
    from pathlib import Path

    from asn1crypto import crl as asn1_crl
    from asn1crypto import ocsp as asn1_ocsp
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from pyhanko.sign.signers.pdf_cms import Signer
    from pyhanko.sign.timestamps import TimeStamper

    from certify.copy import CertificationText
    from certify.intake import ScanPage
    from certify.preservation_ports import CopyVersion
    from certify.verdicts import Validation


@dataclass(frozen=True)
class StoredObject:
    """What the object store knows of one stored object."""

    bucket: str
    key: str
    size: int
    sha256: str
    version_id: str | None = None
    content_type: str = "application/octet-stream"
    metadata: dict[str, str] = field(default_factory=dict)


class ObjectStore(Protocol):
    """The object store (MinIO). Raises ObjectNotFoundError / StorageUnavailableError."""

    scans_bucket: str
    copies_bucket: str

    def put_stream(
        self,
        bucket: str,
        key: str,
        stream: BinaryIO,
        *,
        content_type: str = "application/octet-stream",
        metadata: dict[str, str] | None = None,
    ) -> StoredObject: ...

    def open(
        self, bucket: str, key: str, *, version_id: str | None = None
    ) -> AbstractContextManager[BinaryIO]: ...

    def iter_chunks(
        self, bucket: str, key: str, *, version_id: str | None = None
    ) -> Iterator[bytes]: ...

    def stat(self, bucket: str, key: str, *, version_id: str | None = None) -> StoredObject: ...

    def list_objects(self, bucket: str, prefix: str = "") -> Iterator[tuple[str, dt.datetime]]: ...

    def copy(
        self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str
    ) -> StoredObject: ...

    def remove(self, bucket: str, key: str, *, version_id: str | None = None) -> None: ...

    def ping(self) -> None: ...


# Vietnam's time zone: dates shown to people and the register's year (DOMAIN.md: UTC stored,
# Asia/Ho_Chi_Minh shown). The one definition; import it from here.
VN_TZ: Final = ZoneInfo("Asia/Ho_Chi_Minh")


class Clock(Protocol):
    """Where the domain gets the time from (timezone-aware UTC)."""

    def now(self) -> dt.datetime: ...


class SystemClock:
    """The real clock."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


# --- The register (sổ chứng thực) -------------------------------------------------------------


@dataclass(frozen=True)
class AuthorityRecord:
    """An authority (UBND xã/phường/đặc khu) as the register knows it."""

    code: str
    name: str
    province_code: str
    province_name: str
    fee_waived: bool = False


@dataclass(frozen=True)
class OfficerRecord:
    """An officer of one authority. ``role`` is clerk, certifier, admin or auditor."""

    username: str
    full_name: str
    title: str
    role: str
    authority_code: str


@dataclass(frozen=True)
class DocumentEntry:
    """One line of the register: one original certified, possibly in several copies."""

    id: str
    authority_code: str
    request_code: str
    register_type: str
    year: int
    number: int
    book: str
    document_name: str
    pages: int
    copies: int
    fee: int
    page_hashes: tuple[str, ...]
    copy_key: str
    copy_sha256: str
    copy_size: int
    copy_version_id: str | None
    verification_token: str
    certifier_username: str
    issued_at: dt.datetime
    status: str = "issued"
    cancelled_reason: str | None = None
    cancelled_at: dt.datetime | None = None
    # The copy's validation at issue (JSON of certify.verdicts.Validation), if done.
    validation_json: str | None = field(default=None, repr=False)
    # Which original of its request (position, from 1) the entry certifies, when it was
    # received at the desk: the entry and the original's "certified" mark are one write.
    request_item: int | None = None


@dataclass(frozen=True)
class RequestRecord:
    """A request (hồ sơ) as the register knows it. Holds personal data: do not log it."""

    code: str
    authority_code: str
    requester_name: str
    requester_id_number: str
    status: str
    created_at: dt.datetime
    requester_contact: str | None = None
    refusal_code: str | None = None
    refusal_note: str | None = None
    received_at: dt.datetime | None = None
    due_at: dt.datetime | None = None
    extended_to: dt.datetime | None = None
    # Issue 12: the citizen's tracking code, e-mail and phone; when the copies were e-mailed
    # (ready) and first downloaded (delivered).
    tracking_code: str | None = field(default=None, repr=False)
    requester_email: str | None = None
    requester_phone: str | None = None
    ready_at: dt.datetime | None = None
    delivered_at: dt.datetime | None = None

    @property
    def deadline(self) -> dt.datetime | None:
        """When the result is due: the extended time if extended, else the due time."""
        return self.extended_to or self.due_at


@dataclass(frozen=True)
class ItemRecord:
    """One original of a request at the desk (``request_items``)."""

    request_code: str
    position: int
    document_name: str
    pages: int
    copies: int
    status: str
    checked_by: str | None = None
    checked_at: dt.datetime | None = None
    refusal_code: str | None = None
    refusal_note: str | None = None
    scan_keys: tuple[str, ...] = ()
    scan_pages: int | None = None
    document_id: str | None = None
    # When it was finished: the register entry's issue time, or the refusal's time.
    closed_at: dt.datetime | None = None


@dataclass(frozen=True)
class AuditRecord:
    """An append-only audit event; the repository chains each to the previous one's hash."""

    actor: str
    action: str
    subject: str
    at: dt.datetime
    details: dict[str, str] = field(default_factory=dict)


class RegisterTransaction(Protocol):
    """One database transaction over the register. Commits on clean exit, else rolls back."""

    def next_number(self, authority_code: str, register_type: str, year: int) -> int:
        """Lock the (authority, type, year) counter and return last + 1 (not yet saved)."""
        ...

    def add_document(self, entry: DocumentEntry) -> None:
        """Insert the entry and move the counter to its number (same transaction)."""
        ...

    def append_audit(self, record: AuditRecord) -> str:
        """Append an audit event chained to the previous one; return its hash."""
        ...


class RegisterRepository(Protocol):
    """The register database (SQLite or PostgreSQL)."""

    def transaction(self) -> AbstractContextManager[RegisterTransaction]: ...

    def get_authority(self, code: str) -> AuthorityRecord: ...

    def get_officer(self, username: str) -> OfficerRecord: ...

    def roles_of(self, username: str) -> frozenset[str]: ...

    def find_document_by_token(self, token: str) -> DocumentEntry | None: ...

    def find_documents_by_sha256(self, hashes: Sequence[str]) -> list[DocumentEntry]: ...

    def set_validation(self, document_id: str, validation_json: str) -> None: ...

    def get_document(self, document_id: str) -> DocumentEntry: ...

    def set_copy_version(self, document_id: str, version_id: str) -> None: ...

    def documents_awaiting_copy(self) -> list[DocumentEntry]: ...

    def list_documents(
        self, authority_code: str, *, year: int, month: int | None = None
    ) -> list[DocumentEntry]: ...


# --- Issuing: building, signing and validating a copy ------------------------------------------


class IssuedCopyValidator(Protocol):
    """Validates a freshly signed copy in full and returns the result to keep with its entry
    (``certify.verifier.Verifier.validate_issued``). ``pdf`` is the signed copy's file (a
    seekable binary stream), read from its start."""

    def __call__(self, pdf: BinaryIO, *, authority_code: str, certifier_username: str) -> str: ...


class CopyBuilderPort(Protocol):
    def build(
        self,
        pages: Sequence[ScanPage],
        text: CertificationText,
        verify_url: str,
        *,
        title: str,
        created_at: dt.datetime | None = None,
        output: BinaryIO | None = None,
        workdir: Path | None = None,
    ) -> bytes: ...


class SignerSource(Protocol):
    """What signing needs from ``keys``: ready signers, a timestamper, revocation data."""

    def officer_signer(self, username: str) -> Signer: ...

    def seal_signer(self, authority_code: str) -> Signer: ...

    def timestamper(self) -> TimeStamper: ...

    def tsa_certificate(self) -> x509.Certificate | None: ...

    def revocation_material(
        self, *, certs: Iterable[x509.Certificate] = ()
    ) -> tuple[
        list[asn1_x509.Certificate], list[asn1_ocsp.OCSPResponse], list[asn1_crl.CertificateList]
    ]: ...

    def check_usable(self, cert: x509.Certificate) -> None: ...


# --- Verification and checks ---------------------------------------------------------------------


class Check(Protocol):
    """Runs :func:`certify.verification.validate_pdf` with the service's trust anchors."""

    def __call__(
        self, data: bytes, *, base_length: int | None = None, analyse_changes: bool = True
    ) -> Validation: ...


@runtime_checkable
class FileCheck(Protocol):
    """A :class:`Check` that can also read a file in chunks instead of its bytes in memory
    (``certify.verification.LocalCheck``): a large copy just signed is validated from disk."""

    def check_file(
        self, stream: BinaryIO, *, analyse_changes: bool = True, base_length: int | None = None
    ) -> Validation: ...


class VerificationRegister(Protocol):
    """What verification reads from (and keeps in) the register."""

    def find_document_by_token(self, token: str) -> DocumentEntry | None: ...

    def find_documents_by_sha256(self, hashes: Sequence[str]) -> list[DocumentEntry]: ...

    def get_authority(self, code: str) -> AuthorityRecord: ...

    def get_officer(self, username: str) -> OfficerRecord: ...

    def set_validation(self, document_id: str, validation_json: str) -> None: ...

    def latest_copy_version(self, document_id: str) -> CopyVersion | None: ...

    def find_copy_versions_by_sha256(
        self, hashes: Sequence[str]
    ) -> list[tuple[DocumentEntry, CopyVersion]]: ...


class AuditedRegister(Protocol):
    def iter_documents(self) -> Iterable[DocumentEntry]: ...

    def latest_copy_version(self, document_id: str) -> CopyVersion | None: ...

    def first_broken_audit_event(self) -> int | None: ...


# --- The office desk (certify.desk) -------------------------------------------------------------


class DeskRegister(Protocol):
    """What the desk reads and writes in the register (``storage.request_items`` and the
    parts above). Every change carries its audit event, written in the same transaction."""

    def transaction(self) -> AbstractContextManager[RegisterTransaction]: ...

    def get_authority(self, code: str) -> AuthorityRecord: ...

    def get_officer(self, username: str) -> OfficerRecord: ...

    def get_request(self, code: str) -> RequestRecord: ...

    def update_request(self, code: str, **changes: object) -> RequestRecord: ...

    def add_request_with_items(
        self,
        code: str,
        *,
        authority_code: str,
        requester_name: str,
        requester_id_number: str,
        requester_contact: str | None,
        received_at: dt.datetime,
        due_at: dt.datetime | None,
        items: Sequence[tuple[str, int, int]],
        audit: AuditRecord | None = None,
        tracking_code: str | None = None,
        requester_email: str | None = None,
    ) -> tuple[RequestRecord, list[ItemRecord]]: ...

    def request_items(self, code: str) -> list[ItemRecord]: ...

    def items_of_requests(self, codes: Sequence[str]) -> dict[str, list[ItemRecord]]: ...

    def update_item(
        self,
        code: str,
        position: int,
        *,
        expect: Collection[str],
        audit: AuditRecord | None = None,
        **changes: object,
    ) -> ItemRecord: ...

    def open_requests(self, authority_code: str) -> list[RequestRecord]: ...

    def requests_received(
        self, authority_code: str, *, since: dt.datetime, until: dt.datetime
    ) -> list[tuple[RequestRecord, list[ItemRecord]]]: ...

    def get_document(self, document_id: str) -> DocumentEntry: ...

    def cancel_document(
        self, document_id: str, reason: str, at: dt.datetime, *, audit: AuditRecord | None = None
    ) -> DocumentEntry: ...
