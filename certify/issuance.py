"""Issuing a certified copy: numbers, PDF, signatures, storage and the register, all or nothing.

The steps (DESIGN.md, "the flow"), in the order that leaves nothing half-issued:

1. The scan pages were taken in by ``certify.intake`` and stored in ``scans``.
2. In one register transaction (which holds the (authority, SCT/BS, year) counter lock):
   a. take the next number (NĐ 23/2015 art. 20: gapless, restarting each year);
   b. build the copy with the lời chứng and QR code into a temporary file, sign it twice
      there (``certify.signing``) and validate it;
   c. stage the signed copy in ``scans`` under ``staging/``, streamed from that file (no
      Object Lock, so it can still be removed);
   d. write the register entry and its audit event.
   The transaction commits only if all of that succeeded. If anything fails, the number is
   not consumed (the transaction rolls back) and the staged object is removed.
3. After the commit the staged copy is copied into ``copies`` (Object Lock), its version is
   recorded in the entry, and the staged object is removed. If MinIO fails at this point the
   entry exists and the staged copy is safe in ``scans``: :meth:`reconcile` finishes the move
   (it runs at start-up and from ``certify reconcile``).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import secrets
import tempfile
import unicodedata
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from certify.copy import CertificationText
from certify.errors import (
    CertifyError,
    InvalidInputError,
    InvalidScanError,
    NotFoundError,
    ObjectNotFoundError,
    PermissionDeniedError,
    RegisterConflictError,
)
from certify.fees import certification_fee
from certify.intake import IntakeResult, ScanLimits, ScanPage, read_scan
from certify.ports import (
    AuditRecord,
    Clock,
    CopyBuilderPort,
    DocumentEntry,
    IssuedCopyValidator,
    ObjectStore,
    RegisterRepository,
    StoredObject,
)
from certify.register import register_date
from certify.signing import CopySigner, SignatureText

log = logging.getLogger(__name__)

TOKEN_BYTES = 24  # 192-bit verification tokens: printed codes must not be guessable
MAX_COPIES = 100


@dataclass(frozen=True)
class IssueOrder:
    """What the certifier asks to issue: one original, in ``copies`` copies."""

    authority_code: str
    certifier_username: str
    request_code: str
    document_name: str
    pages: Sequence[ScanPage] = ()
    page_hashes: tuple[str, ...] = ()
    copies: int = 1
    document_id: str = ""
    # The original's position in its request, when it was received at the desk.
    request_item: int | None = None


@dataclass(frozen=True)
class IssuedCopy:
    """A certified copy as issued: its register entry, its public URL, and where the signed
    PDF is: ``stored`` in ``copies``, else (the move left to reconcile) ``staged``."""

    entry: DocumentEntry
    verify_url: str
    stored: StoredObject | None
    staged: StoredObject
    store: ObjectStore = field(repr=False, compare=False)

    @contextmanager
    def open(self) -> Iterator[BinaryIO]:
        """Stream the signed copy from the store. Raises ObjectNotFoundError,
        StorageUnavailableError."""
        where = self.stored or self.staged
        with self.store.open(where.bucket, where.key, version_id=where.version_id) as fh:
            yield fh

    @functools.cached_property
    def pdf(self) -> bytes:
        """The whole signed copy, read from the store once, when first asked for (a file to
        write, a test, a bench); a server streams it with :meth:`open`. Raises as :meth:`open`.
        """
        with self.open() as fh:
            return fh.read()


@dataclass(frozen=True)
class ReconcileReport:
    """What a reconcile run finished, and the copies it could not (key, error code)."""

    finished: int
    failed: tuple[tuple[str, str], ...] = ()


def copy_key(authority_code: str, year: int, number: int) -> str:
    """Object key of a signed copy (DESIGN.md: copies/{authority}/{year}/{number}.pdf)."""
    return f"{authority_code}/{year}/{number}.pdf"


def staging_key(authority_code: str, year: int, number: int, token: str) -> str:
    return f"staging/{authority_code}/{year}/{number}-{token[:16]}.pdf"


class CertificationService:
    """Issues certified copies. Build once per process and share; it is thread-safe."""

    def __init__(
        self,
        *,
        store: ObjectStore,
        register: RegisterRepository,
        builder: CopyBuilderPort,
        signer: CopySigner,
        clock: Clock,
        verify_base_url: str,
        register_type: str = "SCT/BS",
        book_number: str = "01",
        validator: IssuedCopyValidator | None = None,
    ) -> None:
        self._store = store
        self._register = register
        self._builder = builder
        self._signer = signer
        self._clock = clock
        self._verify_base_url = verify_base_url.rstrip("/")
        self._register_type = register_type
        self._book_number = book_number
        self._validator = validator

    def verify_url(self, token: str) -> str:
        return f"{self._verify_base_url}/v/{token}"

    def issue(self, order: IssueOrder, *, workdir: Path | None = None) -> IssuedCopy:
        """Issue one certified copy (or several identical copies sharing one number).

        The copy is built, signed, validated and stored as one temporary file in ``workdir``
        (the system's temporary directory if not given), removed when this returns.

        Raises:
            InvalidInputError: no pages, a bad copy count, an empty document name.
            NotFoundError: unknown authority, officer or request.
            PermissionDeniedError: the officer is not a certifier of this authority.
            KeyMaterialError: a certificate is expired or revoked.
            StorageUnavailableError, DatabaseUnavailableError: nothing was issued; retry.
        """
        if not order.pages:
            raise InvalidInputError("Bản quét không có trang nào. / The scan has no pages.")
        if not 1 <= order.copies <= MAX_COPIES:
            raise InvalidInputError(
                f"Số bản sao phải từ 1 đến {MAX_COPIES}. / Copies must be 1-{MAX_COPIES}."
            )
        name = order.document_name.strip()
        if not name or len(name) > 300:
            raise InvalidInputError(
                "Tên giấy tờ không hợp lệ. / The document name is empty or too long."
            )
        if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in name):
            # Control, format, surrogate and unassigned characters cannot be printed in the
            # lời chứng nor shown to a verifier.
            raise InvalidInputError(
                "Tên giấy tờ chứa ký tự điều khiển. / The document name contains control "
                "characters.",
                code="document_name_invalid",
            )
        authority = self._register.get_authority(order.authority_code)
        officer = self._register.get_officer(order.certifier_username)
        if officer.authority_code != authority.code or "certifier" not in self._register.roles_of(
            officer.username
        ):
            raise PermissionDeniedError(
                "Người ký không phải người thực hiện chứng thực của cơ quan này. / "
                "The officer is not a certifier of this authority."
            )

        now = self._clock.now()
        local_date = register_date(now)  # numbering restarts each year in Vietnam time
        year = local_date.year
        token = secrets.token_urlsafe(TOKEN_BYTES)
        url = self.verify_url(token)
        fee = certification_fee(len(order.pages), order.copies, waived=authority.fee_waived)
        signature_text = SignatureText(
            certifier_name=officer.full_name,
            certifier_title=officer.title,
            authority_name=authority.name,
            location=f"{authority.name}, {authority.province_name}",
        )
        staged: StoredObject | None = None
        try:
            with self._register.transaction() as tx:
                number = tx.next_number(authority.code, self._register_type, year)
                self._refuse_taken_number(authority.code, year, number)
                text = CertificationText(
                    number=number,
                    book=f"{self._book_number}/{year}",
                    register_code=self._register_type,
                    date=local_date,
                    certifier_name=officer.full_name,
                    certifier_title=officer.title,
                    authority_name=authority.name,
                    document_name=name,
                    copy_count=order.copies,
                )
                # One unnamed temporary file from build to storage (removed when closed, and
                # by the kernel if the process dies): the builder writes the copy (holding one
                # scanned page at a time), the signer appends its incremental updates (pyHanko's
                # in_place), the validator and the store read it in chunks. No step holds the
                # scan or the copy whole (docs/architecture.md, "Memory for large scans").
                with tempfile.TemporaryFile(prefix="copy-", dir=workdir) as document:
                    self._builder.build(
                        order.pages,
                        text,
                        url,
                        title=f"Bản sao chứng thực: {name}",
                        created_at=now,
                        output=document,
                        workdir=workdir,
                    )
                    self._signer.sign_in_place(
                        document,
                        officer_username=officer.username,
                        authority_code=authority.code,
                        text=signature_text,
                    )
                    validation_json = None
                    if self._validator is not None:
                        # Validate once, at issue: a copy that would not verify is not
                        # issued, and later checks of the same bytes are a hash and a lookup.
                        validation_json = self._validator(
                            document,
                            authority_code=authority.code,
                            certifier_username=officer.username,
                        )
                    document.seek(0)
                    staged = self._store.put_stream(
                        self._store.scans_bucket,
                        staging_key(authority.code, year, number, token),
                        document,
                        content_type="application/pdf",
                    )
                entry = DocumentEntry(
                    id=order.document_id or str(uuid.uuid4()),
                    authority_code=authority.code,
                    request_code=order.request_code,
                    register_type=self._register_type,
                    year=year,
                    number=number,
                    book=text.book,
                    document_name=name,
                    pages=len(order.pages),
                    copies=order.copies,
                    fee=fee,
                    page_hashes=order.page_hashes,
                    copy_key=copy_key(authority.code, year, number),
                    copy_sha256=staged.sha256,
                    copy_size=staged.size,
                    copy_version_id=None,
                    verification_token=token,
                    certifier_username=officer.username,
                    issued_at=now,
                    validation_json=validation_json,
                    request_item=order.request_item,
                )
                tx.add_document(entry)
                tx.append_audit(
                    AuditRecord(
                        actor=officer.username,
                        action="copy.issued",
                        subject=entry.id,
                        at=now,
                        details={
                            "authority": authority.code,
                            "number": str(number),
                            "book": text.book,
                            "sha256": staged.sha256,
                        },
                    )
                )
        except BaseException:
            if staged is not None:
                self._remove_staged(staged)
            raise

        stored: StoredObject | None = None
        try:
            stored = self._promote(entry, staged)
        except CertifyError as exc:
            log.warning(
                "copy %s registered but not yet moved to copies (%s); reconcile will finish it",
                entry.id,
                exc.code,
            )
        return IssuedCopy(
            entry=entry, verify_url=url, stored=stored, staged=staged, store=self._store
        )

    def certify_scans(
        self,
        order: IssueOrder,
        scans: Sequence[BinaryIO],
        *,
        limits: ScanLimits,
        workdir: Path,
    ) -> tuple[IssuedCopy, list[str]]:
        """Take in the scan files of one original, keep their pages in ``scans``, and issue.

        The pages of all files, in order, make the copy. Each page is stored as
        ``scans/{authority}/{request}/{document}/page-{n}`` with its SHA-256. If anything
        fails, the stored pages are removed again and nothing is issued. Returns the issued
        copy and the intake warnings (e.g. low resolution).

        Raises:
            InvalidScanError: a file was refused (nothing was stored).
            and everything :meth:`issue` raises.
        """
        if not scans:
            raise InvalidInputError("Chưa có bản quét. / No scan was given.")
        document_id = order.document_id or str(uuid.uuid4())
        results: list[IntakeResult] = []
        stored: list[StoredObject] = []
        try:
            for scan in scans:
                results.append(read_scan(scan, limits, workdir))
            pages = [page for result in results for page in result.pages]
            if len(pages) > limits.max_pages:
                raise InvalidScanError(
                    f"Quá {limits.max_pages} trang. / More than {limits.max_pages} pages.",
                    code="scan_too_many_pages",
                )
            prefix = f"{order.authority_code}/{order.request_code}/{document_id}"
            for n, page in enumerate(pages, start=1):
                with page.open() as fh:
                    stored.append(
                        self._store.put_stream(
                            self._store.scans_bucket,
                            f"{prefix}/page-{n}",
                            fh,
                            content_type=page.content_type,
                        )
                    )
            issued = self.issue(
                IssueOrder(
                    authority_code=order.authority_code,
                    certifier_username=order.certifier_username,
                    request_code=order.request_code,
                    document_name=order.document_name,
                    pages=pages,
                    page_hashes=tuple(obj.sha256 for obj in stored),
                    copies=order.copies,
                    document_id=document_id,
                    request_item=order.request_item,
                ),
                workdir=workdir,
            )
        except BaseException:
            for obj in stored:
                self._remove_staged(obj)
            raise
        finally:
            for result in results:
                result.cleanup()
        return issued, [w for result in results for w in result.warnings]

    def reconcile(self) -> ReconcileReport:
        """Finish entries whose signed copy is still staged. An entry that cannot be finished
        is reported and the others still are (one bad entry must not hold back the rest).

        Raises:
            StorageUnavailableError, DatabaseUnavailableError: while listing the entries.
        """
        done = 0
        failed: list[tuple[str, str]] = []
        for entry in self._register.documents_awaiting_copy():
            try:
                self._reconcile_one(entry)
                done += 1
            except CertifyError as exc:
                log.error(  # noqa: TRY400 - the code says why; the traceback adds nothing
                    "reconcile: copy %s not finished (%s)", entry.copy_key, exc.code
                )
                failed.append((entry.copy_key, exc.code))
        return ReconcileReport(finished=done, failed=tuple(failed))

    def _reconcile_one(self, entry: DocumentEntry) -> None:
        key = staging_key(entry.authority_code, entry.year, entry.number, entry.verification_token)
        try:
            staged = self._store.stat(self._store.scans_bucket, key)
        except ObjectNotFoundError:
            staged = None
        if staged is not None:
            self._promote(entry, staged)
            return
        # Moved already, but the version was not recorded: record what is there.
        try:
            stored = self._store.stat(self._store.copies_bucket, entry.copy_key)
        except ObjectNotFoundError:
            raise ObjectNotFoundError(
                "Bản sao đã ký không còn ở khu chờ lẫn trong kho. / The signed copy is "
                "neither staged nor in the copies bucket.",
                code="copy_lost",
            ) from None
        if stored.sha256 != entry.copy_sha256 or not stored.version_id:
            raise CertifyError(
                "Bản sao lưu trữ không khớp sổ. / Stored copy does not match the register.",
                code="copy_mismatch",
            )
        self._register.set_copy_version(entry.id, stored.version_id)

    def sweep(self, *, older_than: dt.timedelta = dt.timedelta(hours=1)) -> int:
        """Remove what failed certifications left in ``scans`` when MinIO could not be
        reached to clean up: scan pages of documents that are not in the register, and
        staged copies that no entry awaits. Only objects older than ``older_than`` are
        touched, so certifications in progress keep theirs. Returns how many were removed.

        Raises:
            StorageUnavailableError, DatabaseUnavailableError.
        """
        cutoff = self._clock.now() - older_than
        awaited = {
            staging_key(e.authority_code, e.year, e.number, e.verification_token)
            for e in self._register.documents_awaiting_copy()
        }
        known: dict[str, bool] = {}
        removed = 0
        bucket = self._store.scans_bucket
        for key, modified in list(self._store.list_objects(bucket)):
            if modified > cutoff:
                continue
            if key.startswith("staging/"):
                orphan = key not in awaited
            else:
                parts = key.split("/")
                if len(parts) != 4 or not parts[3].startswith("page-"):
                    continue  # not ours to judge
                document_id = parts[2]
                if document_id not in known:
                    try:
                        self._register.get_document(document_id)
                        known[document_id] = True
                    except NotFoundError:
                        known[document_id] = False
                orphan = not known[document_id]
            if orphan:
                self._store.remove(bucket, key)
                removed += 1
        return removed

    def _refuse_taken_number(self, authority_code: str, year: int, number: int) -> None:
        """The ``copies`` bucket is a second witness of the register: a number whose copy
        already exists there was issued before, and the register lost it (NĐ 23/2015 art.
        20: no number twice). Nothing is issued until ``certify check`` has been looked at.

        Raises:
            RegisterConflictError: code ``copy_number_taken``.
        """
        key = copy_key(authority_code, year, number)
        try:
            self._store.stat(self._store.copies_bucket, key)
        except ObjectNotFoundError:
            return
        log.error(
            "incident: register number %s of %s/%s is free but copies/%s exists; "
            "the register may have lost entries (run certify check)",
            number,
            authority_code,
            year,
            key,
        )
        raise RegisterConflictError(
            f"Số chứng thực {number} đã có bản sao lưu trữ nhưng không có trong sổ: sổ có thể "
            "đã mất dữ liệu; không cấp số này (chạy certify check). / "
            f"Number {number} already has a stored copy but no register entry: the register "
            "may have lost entries; it is not issued again (run certify check).",
            code="copy_number_taken",
        )

    def _promote(self, entry: DocumentEntry, staged: StoredObject) -> StoredObject:
        stored = self._store.copy(
            staged.bucket, staged.key, self._store.copies_bucket, entry.copy_key
        )
        if stored.sha256 != entry.copy_sha256 or stored.size != entry.copy_size:
            raise CertifyError(
                "Bản sao lưu trữ không khớp sổ. / Stored copy does not match the register.",
                code="copy_mismatch",
            )
        if stored.version_id:
            self._register.set_copy_version(entry.id, stored.version_id)
        self._remove_staged(staged)
        return stored

    def _remove_staged(self, staged: StoredObject) -> None:
        try:
            self._store.remove(staged.bucket, staged.key)
        except CertifyError as exc:
            log.warning("could not remove staged copy %s (%s)", staged.key, exc.code)
