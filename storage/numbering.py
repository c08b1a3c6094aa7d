"""Numbering and entries: the register transaction that takes the next number and writes
the entry, and the queries on entries (documents).

Numbering (NĐ 23/2015 art. 13, art. 20; TT 01/2020 art. 4): numbers run from 1 per
(authority, register type, year) with no gaps and no duplicates. The number is taken and the
entry written in one transaction, together with its audit event:

    with register.transaction() as tx:
        number = tx.next_number("79-tanphu", "SCT/BS", 2026)   # locks the counter
        tx.add_document(entry_with(number))                     # moves the counter
        tx.append_audit(AuditRecord(...))                        # chained audit event
    # committed here; any exception inside rolls everything back, the number included

Concurrency: on PostgreSQL the counter row is locked (``SELECT ... FOR UPDATE``) until the
transaction ends, and audit appends are serialised by a transaction-scoped advisory lock; on
SQLite every register transaction begins IMMEDIATE and so holds the database's write lock.
Take locks in that order (counter, then audit) so that transactions cannot deadlock.

Requests: a document's ``request_code`` must name an existing request (``add_request``) of
the same authority. The register is not auto-filled with an empty requester: the monthly
print needs the requester's name (TT 01/2020 art. 4), so a missing request is an error
(``NotFoundError``) rather than a silently created blank row.

Every method translates SQLAlchemy errors: integrity violations and lock conflicts become
``RegisterConflictError``, an unreachable or busy database ``DatabaseUnavailableError``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Select, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from certify.errors import InvalidInputError, NotFoundError, RegisterConflictError
from certify.ports import VN_TZ, AuditRecord, DocumentEntry
from certify.register import RegisterRow
from storage.audit_chain import append_event
from storage.database import Authority, Document, Officer, RegisterCounter, Request
from storage.request_items import link_item_to_document
from storage.sql_base import SqlBase, aware, translated


@dataclass(frozen=True)
class PublishedCancellation:
    """A cancelled entry as it is published (TT 01/2020 art. 7): what the register says of
    the certification and its cancellation, and nothing of the requester or the copy's
    verification code (NĐ 13/2023)."""

    document_id: str
    authority_code: str
    authority_name: str
    register_type: str
    number: int
    book: str
    issued_at: dt.datetime
    cancelled_at: dt.datetime
    reason: str


def document_select() -> Select[Document, str, str]:
    return (
        select(Document, Request.code, Officer.username)
        .join(Request, Document.request_id == Request.id)
        .join(Officer, Document.certifier_id == Officer.id)
    )


def entry_of(doc: Document, request_code: str, certifier_username: str) -> DocumentEntry:
    return DocumentEntry(
        id=doc.id,
        authority_code=doc.authority_code,
        request_code=request_code,
        register_type=doc.register_type,
        year=doc.year,
        number=doc.number,
        book=doc.book,
        document_name=doc.document_name,
        pages=doc.pages,
        copies=doc.copies,
        fee=doc.fee,
        page_hashes=tuple(json.loads(doc.page_hashes)),
        copy_key=doc.copy_key,
        copy_sha256=doc.copy_sha256,
        copy_size=doc.copy_size,
        copy_version_id=doc.copy_version_id,
        verification_token=doc.verification_token,
        certifier_username=certifier_username,
        issued_at=doc.issued_at,
        status=doc.status,
        cancelled_reason=doc.cancelled_reason,
        cancelled_at=doc.cancelled_at,
        validation_json=doc.validation,
    )


class SqlRegisterTransaction:
    """One register transaction (``certify.ports.RegisterTransaction``).

    Obtained from ``SqlRegister.transaction()``; valid only inside its ``with`` block.
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        bind = session.get_bind()
        self._dialect = bind.dialect.name

    def _lock_counter(self, authority_code: str, register_type: str, year: int) -> int:
        """Lock the counter row (creating it at 0) and return its last number."""
        locked = (
            select(RegisterCounter.last_number)
            .where(
                RegisterCounter.authority_code == authority_code,
                RegisterCounter.register_type == register_type,
                RegisterCounter.year == year,
            )
            # FOR UPDATE on PostgreSQL; SQLite renders nothing (the transaction is IMMEDIATE).
            .with_for_update()
        )
        last = self._session.execute(locked).scalar_one_or_none()
        if last is not None:
            return last
        if self._session.get(Authority, authority_code) is None:
            raise NotFoundError(f"Không có cơ quan {authority_code}. / No such authority.")
        insert = pg_insert if self._dialect == "postgresql" else sqlite_insert
        # Two first-of-the-year transactions may race to create the row: one inserts, the
        # other's insert does nothing, and both then queue on the row lock.
        self._session.execute(
            insert(RegisterCounter)
            .values(
                authority_code=authority_code,
                register_type=register_type,
                year=year,
                last_number=0,
            )
            .on_conflict_do_nothing()
        )
        return self._session.execute(locked).scalar_one()

    def next_number(self, authority_code: str, register_type: str, year: int) -> int:
        """Lock the (authority, type, year) counter and return last + 1 (not yet saved).

        The number is only consumed by ``add_document`` in this transaction; a rollback
        leaves no gap. Raises ``NotFoundError`` for an unknown authority.
        """
        with translated():
            return self._lock_counter(authority_code, register_type, year) + 1

    def add_document(self, entry: DocumentEntry) -> None:
        """Insert the entry and move the counter to its number (same transaction).

        Raises ``RegisterConflictError`` when ``entry.number`` is not the counter's next
        number, or the number or verification token is already used; ``NotFoundError`` when
        the request or the certifier does not exist; ``InvalidInputError`` for a naive time.
        """
        with translated():
            aware(entry.issued_at, "issued_at")
            if entry.number < 1 or entry.pages < 1 or entry.copies < 1 or entry.fee < 0:
                raise InvalidInputError(
                    "Số, số trang, số bản và lệ phí không hợp lệ. / "
                    "Invalid number, page count, copy count or fee."
                )
            if entry.cancelled_at is not None:
                aware(entry.cancelled_at, "cancelled_at")
            last = self._lock_counter(entry.authority_code, entry.register_type, entry.year)
            if entry.number != last + 1:
                raise RegisterConflictError(
                    f"Số chứng thực {entry.number} không liền sau số {last}. / "
                    f"Register number {entry.number} does not follow {last}."
                )
            request = self._session.execute(
                select(Request).where(Request.code == entry.request_code)
            ).scalar_one_or_none()
            if request is None:
                raise NotFoundError("Không tìm thấy hồ sơ. / No such request.")
            if request.authority_code != entry.authority_code:
                raise RegisterConflictError(
                    "Hồ sơ thuộc cơ quan khác. / The request belongs to another authority."
                )
            certifier_id = self._session.execute(
                select(Officer.id).where(Officer.username == entry.certifier_username)
            ).scalar_one_or_none()
            if certifier_id is None:
                raise NotFoundError("Không tìm thấy người chứng thực. / No such certifier.")
            self._session.execute(
                update(RegisterCounter)
                .where(
                    RegisterCounter.authority_code == entry.authority_code,
                    RegisterCounter.register_type == entry.register_type,
                    RegisterCounter.year == entry.year,
                )
                .values(last_number=entry.number)
            )
            self._session.add(
                Document(
                    id=entry.id,
                    request_id=request.id,
                    authority_code=entry.authority_code,
                    register_type=entry.register_type,
                    year=entry.year,
                    number=entry.number,
                    book=entry.book,
                    document_name=entry.document_name,
                    pages=entry.pages,
                    copies=entry.copies,
                    fee=entry.fee,
                    page_hashes=json.dumps(list(entry.page_hashes)),
                    copy_key=entry.copy_key,
                    copy_sha256=entry.copy_sha256,
                    copy_size=entry.copy_size,
                    copy_version_id=entry.copy_version_id,
                    verification_token=entry.verification_token,
                    certifier_id=certifier_id,
                    issued_at=entry.issued_at,
                    status=entry.status,
                    cancelled_reason=entry.cancelled_reason,
                    cancelled_at=entry.cancelled_at,
                    validation=entry.validation_json,
                )
            )
            self._session.flush()
            if entry.request_item is not None:
                link_item_to_document(self._session, request, entry.request_item, entry.id)

    def append_audit(self, record: AuditRecord) -> str:
        """Append an audit event chained to the previous one; return its hash
        (``storage.audit_chain.append_event``)."""
        with translated():
            return append_event(self._session, record)

    def get_document(self, document_id: str) -> DocumentEntry:
        """The entry ``document_id``. Raises ``NotFoundError``."""
        with translated():
            row = self._session.execute(
                document_select().where(Document.id == document_id)
            ).one_or_none()
            if row is None:
                raise NotFoundError("Không tìm thấy bản sao. / No such certified copy.")
            return entry_of(*row)

    def cancel_document(self, document_id: str, reason: str, at: dt.datetime) -> DocumentEntry:
        """Mark an issued entry cancelled (TT 01/2020 art. 7) and return it.

        The entry and its number stay in the register. Raises ``NotFoundError``,
        ``InvalidInputError`` (empty reason, naive time), ``RegisterConflictError`` (already
        cancelled).
        """
        with translated():
            if not reason.strip():
                raise InvalidInputError("Phải ghi lý do huỷ. / A reason is required.")
            aware(at, "at")
            doc = self._session.execute(
                select(Document).where(Document.id == document_id).with_for_update()
            ).scalar_one_or_none()
            if doc is None:
                raise NotFoundError("Không tìm thấy bản sao. / No such certified copy.")
            if doc.status == "cancelled":
                raise RegisterConflictError("Bản sao đã bị huỷ. / Already cancelled.")
            doc.status = "cancelled"
            doc.cancelled_reason = reason
            doc.cancelled_at = at
            self._session.flush()
            return self.get_document(document_id)


class Documents(SqlBase):
    """Register transactions and the queries on entries."""

    @contextmanager
    def transaction(self) -> Iterator[SqlRegisterTransaction]:
        """A register transaction: commits on clean exit, rolls back on an exception.

        Raises ``DatabaseUnavailableError`` when the database cannot be reached, and
        ``RegisterConflictError`` when the commit conflicts.
        """
        with self._session(write=True) as session:
            yield SqlRegisterTransaction(session)

    def get_document(self, document_id: str) -> DocumentEntry:
        """The entry ``document_id``. Raises ``NotFoundError``."""
        with self._session(write=False) as session:
            return SqlRegisterTransaction(session).get_document(document_id)

    def find_document_by_token(self, token: str) -> DocumentEntry | None:
        """The entry whose verification token is ``token``, or None."""
        with self._session(write=False) as session:
            row = session.execute(
                document_select().where(Document.verification_token == token)
            ).one_or_none()
            return None if row is None else entry_of(*row)

    def find_documents_by_sha256(self, hashes: Sequence[str]) -> list[DocumentEntry]:
        """The entries whose signed copy has one of these SHA-256 digests (hex), using the
        index on ``copy_sha256``. At most 256 digests are looked up."""
        wanted = [h for h in dict.fromkeys(hashes) if len(h) == 64][:256]
        if not wanted:
            return []
        stmt = document_select().where(Document.copy_sha256.in_(wanted))
        with self._session(write=False) as session:
            return [entry_of(*row) for row in session.execute(stmt)]

    def set_validation(self, document_id: str, validation_json: str) -> None:
        """Keep the copy's validation result with its entry. Raises ``NotFoundError``."""
        with self._session(write=True) as session:
            done = session.execute(
                update(Document)
                .where(Document.id == document_id)
                .values(validation=validation_json)
            )
            if not done.rowcount:  # type: ignore[attr-defined]
                raise NotFoundError("Không tìm thấy bản sao. / No such certified copy.")

    def list_documents(
        self,
        authority_code: str,
        *,
        year: int,
        month: int | None = None,
        register_type: str | None = None,
        tz: dt.tzinfo = VN_TZ,
    ) -> list[DocumentEntry]:
        """The authority's entries of register ``year``, in register order (type, number).

        With ``month``, only the entries issued in that month of ``year`` in ``tz``
        (Vietnamese time by default: the register is printed per calendar month).
        """
        if month is not None and not 1 <= month <= 12:
            raise InvalidInputError("Tháng không hợp lệ. / Invalid month.")
        stmt = document_select().where(
            Document.authority_code == authority_code, Document.year == year
        )
        if register_type is not None:
            stmt = stmt.where(Document.register_type == register_type)
        if month is not None:
            start = dt.datetime(year, month, 1, tzinfo=tz)
            end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
            stmt = stmt.where(Document.issued_at >= start, Document.issued_at < end)
        stmt = stmt.order_by(Document.register_type, Document.number)
        with self._session(write=False) as session:
            return [entry_of(*row) for row in session.execute(stmt)]

    def list_cancellations(
        self, *, authority_code: str | None, offset: int, limit: int
    ) -> list[PublishedCancellation]:
        """Cancelled entries, newest cancellation first (ties by entry id, so that pages do
        not overlap), of one authority or of all, with the authority's name.

        Raises ``InvalidInputError`` for a negative offset or a limit outside 1-1000.
        """
        if offset < 0 or not 1 <= limit <= 1000:
            raise InvalidInputError("Trang không hợp lệ. / Invalid page.")
        stmt = (
            select(
                Document.id,
                Document.authority_code,
                Authority.name,
                Document.register_type,
                Document.number,
                Document.book,
                Document.issued_at,
                Document.cancelled_at,
                Document.cancelled_reason,
            )
            .join(Authority, Document.authority_code == Authority.code)
            .where(Document.status == "cancelled", Document.cancelled_at.is_not(None))
        )
        if authority_code is not None:
            stmt = stmt.where(Document.authority_code == authority_code)
        stmt = stmt.order_by(Document.cancelled_at.desc(), Document.id.desc())
        published: list[PublishedCancellation] = []
        with self._session(write=False) as session:
            for row in session.execute(stmt.offset(offset).limit(limit)):
                doc_id, code, name, register_type, number, book, issued, cancelled, reason = row
                if cancelled is None:  # excluded by the query; this narrows the type
                    continue
                published.append(
                    PublishedCancellation(
                        document_id=doc_id,
                        authority_code=code,
                        authority_name=name,
                        register_type=register_type,
                        number=number,
                        book=book,
                        issued_at=issued,
                        cancelled_at=cancelled,
                        reason=reason or "",
                    )
                )
        return published

    def register_rows(
        self,
        authority_code: str,
        *,
        year: int,
        month: int | None = None,
        register_type: str | None = None,
    ) -> list[RegisterRow]:
        """The authority's register of ``year`` as printed (TT 01/2020 art. 4), in register
        order (type, number): each entry with its requester's name and its certifier's name
        and title. With ``month``, the entries issued in that Vietnamese month, as
        ``list_documents``. Holds personal data (requesters' names): do not log it.

        Raises ``InvalidInputError`` for a month outside 1-12.
        """
        if month is not None and not 1 <= month <= 12:
            raise InvalidInputError("Tháng không hợp lệ. / Invalid month.")
        stmt = (
            select(Document, Request.code, Officer.username)
            .add_columns(Request.requester_name, Officer.full_name, Officer.title)
            .join(Request, Document.request_id == Request.id)
            .join(Officer, Document.certifier_id == Officer.id)
            .where(Document.authority_code == authority_code, Document.year == year)
        )
        if register_type is not None:
            stmt = stmt.where(Document.register_type == register_type)
        if month is not None:
            start = dt.datetime(year, month, 1, tzinfo=VN_TZ)
            end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=VN_TZ)
            stmt = stmt.where(Document.issued_at >= start, Document.issued_at < end)
        stmt = stmt.order_by(Document.register_type, Document.number)
        with self._session(write=False) as session:
            return [
                RegisterRow.from_entry(
                    entry_of(doc, request_code, username),
                    requester_name=requester_name,
                    certifier_name=full_name,
                    certifier_title=title,
                )
                for doc, request_code, username, requester_name, full_name, title in (
                    session.execute(stmt)
                )
            ]

    def set_copy_version(self, document_id: str, version_id: str) -> None:
        """Record the object-store version of an entry's signed copy, once it is in place.

        Raises ``NotFoundError``, ``RegisterConflictError`` (a different version is recorded).
        """
        with self._session(write=True) as session:
            doc = session.execute(
                select(Document).where(Document.id == document_id).with_for_update()
            ).scalar_one_or_none()
            if doc is None:
                raise NotFoundError("Không tìm thấy bản sao. / No such certified copy.")
            if doc.copy_version_id not in (None, version_id):
                raise RegisterConflictError(
                    "Bản sao đã có phiên bản lưu trữ khác. / Another stored version is recorded."
                )
            doc.copy_version_id = version_id

    def iter_documents(self) -> Iterator[DocumentEntry]:
        """Every entry of the register, streamed in batches (the register is kept forever)."""
        stmt = document_select().order_by(Document.authority_code, Document.year, Document.number)
        with self._session(write=False) as session:
            for row in session.execute(stmt.execution_options(yield_per=1000)):
                yield entry_of(*row)

    def documents_awaiting_copy(self) -> list[DocumentEntry]:
        """Entries whose signed copy is not yet in the copies bucket (no version recorded)."""
        stmt = document_select().where(Document.copy_version_id.is_(None))
        with self._session(write=False) as session:
            return [entry_of(*row) for row in session.execute(stmt.order_by(Document.issued_at))]

    def cancel_document(
        self,
        document_id: str,
        reason: str,
        at: dt.datetime,
        *,
        audit: AuditRecord | None = None,
    ) -> DocumentEntry:
        """Cancel an entry (TT 01/2020 art. 7), with its audit event in the same
        transaction when given. Raises as ``SqlRegisterTransaction.cancel_document``."""
        with self.transaction() as tx:
            entry = tx.cancel_document(document_id, reason, at)
            if audit is not None:
                tx.append_audit(audit)
            return entry
