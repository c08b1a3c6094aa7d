"""The register (sổ chứng thực) on SQLAlchemy: ``SqlRegister`` implements the domain's
``certify.ports.RegisterRepository`` on SQLite or PostgreSQL.

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
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Select, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from certify.errors import (
    CertifyError,
    DatabaseUnavailableError,
    InvalidInputError,
    NotFoundError,
    RegisterConflictError,
)
from certify.ports import AuditRecord, AuthorityRecord, DocumentEntry, OfficerRecord
from certify.register import RegisterRow
from storage.database import (
    REQUEST_STATUSES,
    ROLES,
    AuditEvent,
    Authority,
    Document,
    Officer,
    Province,
    RegisterCounter,
    Request,
    for_writing,
    is_unavailable,
)

__all__ = [
    "GENESIS_HASH",
    "REGISTER_TZ",
    "OfficerLogin",
    "RequestRecord",
    "SqlRegister",
    "SqlRegisterTransaction",
    "audit_hash",
]

# prev_hash of the first audit event.
GENESIS_HASH = "0" * 64
# Key of the PostgreSQL advisory lock that keeps the audit chain linear ("certaudt").
AUDIT_LOCK_KEY = 0x6365727461756474
# The register's months are Vietnamese months (UTC+7, no daylight saving time).
REGISTER_TZ = dt.timezone(dt.timedelta(hours=7), "Asia/Ho_Chi_Minh")
# SQLSTATE class 40: the transaction was rolled back (serialization failure, deadlock).
_RETRYABLE_SQLSTATE_PREFIX = "40"


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


@dataclass(frozen=True)
class OfficerLogin:
    """What authentication needs: the officer, the password hash (if any), active or not."""

    officer: OfficerRecord
    password_hash: str | None
    active: bool
    totp_secret: str | None = None


# --- Errors ----------------------------------------------------------------------------------


@contextmanager
def _translated() -> Iterator[None]:
    """Translate SQLAlchemy errors into the service's errors (STYLE: at the edge)."""
    try:
        yield
    except CertifyError:
        raise
    except IntegrityError as exc:
        raise RegisterConflictError() from exc
    except DataError as exc:
        raise InvalidInputError() from exc
    except SQLAlchemyError as exc:
        sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_RETRYABLE_SQLSTATE_PREFIX):
            raise RegisterConflictError() from exc
        if is_unavailable(exc):
            raise DatabaseUnavailableError() from exc
        raise CertifyError(code="database_error") from exc


def _aware(value: dt.datetime, name: str) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInputError(f"{name} must be timezone-aware")
    return value


# --- The audit chain -------------------------------------------------------------------------


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def audit_hash(
    prev_hash: str,
    *,
    at: dt.datetime,
    actor: str,
    action: str,
    subject: str,
    details: Mapping[str, Any],
) -> str:
    """The hash of an audit event: SHA-256 over ``prev_hash`` + canonical JSON of its fields.

    Canonical JSON: sorted keys, no whitespace, UTF-8; ``at`` in UTC ISO 8601 with
    microseconds.
    """
    fields = {
        "at": _aware(at, "at").astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "subject": subject,
        "details": dict(details),
    }
    payload = prev_hash + _canonical_json(fields)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _event_hash(event: AuditEvent) -> str:
    return audit_hash(
        event.prev_hash,
        at=event.at,
        actor=event.actor,
        action=event.action,
        subject=event.subject,
        details=json.loads(event.details),
    )


# --- Row <-> record --------------------------------------------------------------------------


def _document_select() -> Select[Document, str, str]:
    return (
        select(Document, Request.code, Officer.username)
        .join(Request, Document.request_id == Request.id)
        .join(Officer, Document.certifier_id == Officer.id)
    )


def _entry(doc: Document, request_code: str, certifier_username: str) -> DocumentEntry:
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


def _authority_record(authority: Authority, province: Province) -> AuthorityRecord:
    return AuthorityRecord(
        code=authority.code,
        name=authority.name,
        province_code=province.code,
        province_name=province.name,
        fee_waived=authority.fee_waived,
    )


def _officer_record(officer: Officer) -> OfficerRecord:
    return OfficerRecord(
        username=officer.username,
        full_name=officer.full_name,
        title=officer.title,
        role=officer.role,
        authority_code=officer.authority_code,
    )


def _request_record(req: Request) -> RequestRecord:
    return RequestRecord(
        code=req.code,
        authority_code=req.authority_code,
        requester_name=req.requester_name,
        requester_id_number=req.requester_id_number,
        requester_contact=req.requester_contact,
        status=req.status,
        refusal_code=req.refusal_code,
        refusal_note=req.refusal_note,
        created_at=req.created_at,
        received_at=req.received_at,
        due_at=req.due_at,
        extended_to=req.extended_to,
    )


# --- The transaction -------------------------------------------------------------------------


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
        with _translated():
            return self._lock_counter(authority_code, register_type, year) + 1

    def add_document(self, entry: DocumentEntry) -> None:
        """Insert the entry and move the counter to its number (same transaction).

        Raises ``RegisterConflictError`` when ``entry.number`` is not the counter's next
        number, or the number or verification token is already used; ``NotFoundError`` when
        the request or the certifier does not exist; ``InvalidInputError`` for a naive time.
        """
        with _translated():
            _aware(entry.issued_at, "issued_at")
            if entry.number < 1 or entry.pages < 1 or entry.copies < 1 or entry.fee < 0:
                raise InvalidInputError(
                    "Số, số trang, số bản và lệ phí không hợp lệ. / "
                    "Invalid number, page count, copy count or fee."
                )
            if entry.cancelled_at is not None:
                _aware(entry.cancelled_at, "cancelled_at")
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

    def append_audit(self, record: AuditRecord) -> str:
        """Append an audit event chained to the previous one; return its hash.

        On PostgreSQL the chain is serialised by a transaction-scoped advisory lock, held
        until commit, so two transactions never chain to the same predecessor.
        """
        with _translated():
            _aware(record.at, "at")
            if self._dialect == "postgresql":
                self._session.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY}
                )
            prev_hash = self._session.execute(
                select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
            ).scalar_one_or_none()
            prev_hash = prev_hash or GENESIS_HASH
            details = dict(record.details)
            event_hash = audit_hash(
                prev_hash,
                at=record.at,
                actor=record.actor,
                action=record.action,
                subject=record.subject,
                details=details,
            )
            self._session.add(
                AuditEvent(
                    at=record.at,
                    actor=record.actor,
                    action=record.action,
                    subject=record.subject,
                    details=_canonical_json(details),
                    prev_hash=prev_hash,
                    hash=event_hash,
                )
            )
            self._session.flush()
            return event_hash

    def get_document(self, document_id: str) -> DocumentEntry:
        """The entry ``document_id``. Raises ``NotFoundError``."""
        with _translated():
            row = self._session.execute(
                _document_select().where(Document.id == document_id)
            ).one_or_none()
            if row is None:
                raise NotFoundError("Không tìm thấy bản sao. / No such certified copy.")
            return _entry(*row)

    def cancel_document(self, document_id: str, reason: str, at: dt.datetime) -> DocumentEntry:
        """Mark an issued entry cancelled (TT 01/2020 art. 7) and return it.

        The entry and its number stay in the register. Raises ``NotFoundError``,
        ``InvalidInputError`` (empty reason, naive time), ``RegisterConflictError`` (already
        cancelled).
        """
        with _translated():
            if not reason.strip():
                raise InvalidInputError("Phải ghi lý do huỷ. / A reason is required.")
            _aware(at, "at")
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


# --- The repository --------------------------------------------------------------------------


class SqlRegister:
    """The register database (``certify.ports.RegisterRepository``) on SQLAlchemy.

    The engine comes from ``storage.database.make_engine`` (the SQLite BEGIN handling
    depends on it) and is not disposed of here: its owner does that.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._write_engine = for_writing(engine)

    @property
    def engine(self) -> Engine:
        return self._engine

    @contextmanager
    def _session(self, *, write: bool) -> Iterator[Session]:
        engine = self._write_engine if write else self._engine
        with (
            _translated(),
            Session(engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    @contextmanager
    def transaction(self) -> Iterator[SqlRegisterTransaction]:
        """A register transaction: commits on clean exit, rolls back on an exception.

        Raises ``DatabaseUnavailableError`` when the database cannot be reached, and
        ``RegisterConflictError`` when the commit conflicts.
        """
        with self._session(write=True) as session:
            yield SqlRegisterTransaction(session)

    # --- Seed and administration ----------------------------------------------------------

    def add_province(self, code: str, name: str) -> None:
        """Add a province. Raises ``RegisterConflictError`` if the code exists."""
        with self._session(write=True) as session:
            session.add(Province(code=code, name=name))

    def add_authority(
        self, record: AuthorityRecord, *, created_at: dt.datetime | None = None
    ) -> AuthorityRecord:
        """Add an authority; its province is created from the record if it is new.

        Raises ``RegisterConflictError`` if the authority code exists.
        """
        created = _aware(created_at, "created_at") if created_at else dt.datetime.now(dt.UTC)
        with self._session(write=True) as session:
            province = session.get(Province, record.province_code)
            if province is None:
                province = Province(code=record.province_code, name=record.province_name)
                session.add(province)
                # No ORM relationship orders the inserts: write the province first.
                session.flush()
            authority = Authority(
                code=record.code,
                name=record.name,
                province_code=record.province_code,
                fee_waived=record.fee_waived,
                created_at=created,
            )
            session.add(authority)
            session.flush()
            return _authority_record(authority, province)

    def add_officer(
        self, record: OfficerRecord, *, password_hash: str | None = None, active: bool = True
    ) -> OfficerRecord:
        """Add an officer. Raises ``InvalidInputError`` (unknown role), ``NotFoundError``
        (unknown authority), ``RegisterConflictError`` (username taken)."""
        if record.role not in ROLES:
            raise InvalidInputError(f"Vai trò không hợp lệ. / Unknown role {record.role!r}.")
        with self._session(write=True) as session:
            if session.get(Authority, record.authority_code) is None:
                raise NotFoundError("Không có cơ quan này. / No such authority.")
            officer = Officer(
                username=record.username,
                full_name=record.full_name,
                title=record.title,
                role=record.role,
                authority_code=record.authority_code,
                password_hash=password_hash,
                active=active,
            )
            session.add(officer)
            session.flush()
            return _officer_record(officer)

    def set_officer_password(self, username: str, password_hash: str | None) -> None:
        """Set (or clear) an officer's password hash. Raises ``NotFoundError``."""
        with self._session(write=True) as session:
            result = session.execute(
                update(Officer)
                .where(Officer.username == username)
                .values(password_hash=password_hash)
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise NotFoundError("Không tìm thấy cán bộ. / No such officer.")

    def set_officer_totp(self, username: str, secret: str | None) -> None:
        """Enrol (or, with None, remove) the officer's TOTP secret. Raises NotFoundError."""
        with self._session(write=True) as session:
            officer = session.execute(
                select(Officer).where(Officer.username == username)
            ).scalar_one_or_none()
            if officer is None:
                raise NotFoundError("Không tìm thấy cán bộ. / No such officer.")
            officer.totp_secret = secret

    def set_officer_active(self, username: str, active: bool) -> None:
        """Activate or deactivate an officer. Raises ``NotFoundError``."""
        with self._session(write=True) as session:
            result = session.execute(
                update(Officer).where(Officer.username == username).values(active=active)
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise NotFoundError("Không tìm thấy cán bộ. / No such officer.")

    def get_authority(self, code: str) -> AuthorityRecord:
        """The authority ``code``. Raises ``NotFoundError``."""
        with self._session(write=False) as session:
            row = session.execute(
                select(Authority, Province)
                .join(Province, Authority.province_code == Province.code)
                .where(Authority.code == code)
            ).one_or_none()
            if row is None:
                raise NotFoundError("Không có cơ quan này. / No such authority.")
            return _authority_record(*row)

    def get_officer(self, username: str) -> OfficerRecord:
        """The officer ``username`` (active or not). Raises ``NotFoundError``."""
        return self.get_officer_login(username).officer

    def get_officer_login(self, username: str) -> OfficerLogin:
        """The officer with password hash and active flag. Raises ``NotFoundError``."""
        with self._session(write=False) as session:
            officer = session.execute(
                select(Officer).where(Officer.username == username)
            ).scalar_one_or_none()
            if officer is None:
                raise NotFoundError("Không tìm thấy cán bộ. / No such officer.")
            return OfficerLogin(
                _officer_record(officer), officer.password_hash, officer.active, officer.totp_secret
            )

    # --- Requests ------------------------------------------------------------------------

    def add_request(
        self,
        code: str,
        *,
        authority_code: str,
        requester_name: str,
        requester_id_number: str,
        requester_contact: str | None = None,
        status: str = "received",
        created_at: dt.datetime | None = None,
        received_at: dt.datetime | None = None,
        due_at: dt.datetime | None = None,
    ) -> RequestRecord:
        """Create a request with its tracking ``code``.

        Raises ``InvalidInputError`` (bad status, naive time), ``NotFoundError`` (unknown
        authority), ``RegisterConflictError`` (code taken).
        """
        if status not in REQUEST_STATUSES:
            raise InvalidInputError(f"Trạng thái không hợp lệ. / Unknown status {status!r}.")
        for name, value in (("received_at", received_at), ("due_at", due_at)):
            if value is not None:
                _aware(value, name)
        created = _aware(created_at, "created_at") if created_at else dt.datetime.now(dt.UTC)
        with self._session(write=True) as session:
            if session.get(Authority, authority_code) is None:
                raise NotFoundError("Không có cơ quan này. / No such authority.")
            request = Request(
                code=code,
                authority_code=authority_code,
                requester_name=requester_name,
                requester_id_number=requester_id_number,
                requester_contact=requester_contact,
                status=status,
                created_at=created,
                received_at=received_at,
                due_at=due_at,
            )
            session.add(request)
            session.flush()
            return _request_record(request)

    def remove_request_without_documents(self, code: str) -> bool:
        """Delete request ``code`` if no register entry refers to it (a request made for a
        certification that was then refused). Returns whether it was deleted."""
        with self._session(write=True) as session:
            request = session.execute(
                select(Request).where(Request.code == code).with_for_update()
            ).scalar_one_or_none()
            if request is None:
                return False
            used = session.execute(
                select(Document.id).where(Document.request_id == request.id).limit(1)
            ).first()
            if used is not None:
                return False
            session.delete(request)
            return True

    def get_request(self, code: str) -> RequestRecord:
        """The request with tracking ``code``. Raises ``NotFoundError``."""
        with self._session(write=False) as session:
            request = session.execute(
                select(Request).where(Request.code == code)
            ).scalar_one_or_none()
            if request is None:
                raise NotFoundError("Không tìm thấy hồ sơ. / No such request.")
            return _request_record(request)

    def update_request(self, code: str, **changes: Any) -> RequestRecord:
        """Change a request's status and dates: ``status``, ``refusal_code``,
        ``refusal_note``, ``requester_contact``, ``received_at``, ``due_at``,
        ``extended_to``. The domain decides which transitions are allowed.

        Raises ``InvalidInputError`` (unknown field or status, naive time), ``NotFoundError``,
        ``RegisterConflictError`` (a value the schema refuses, e.g. unknown refusal code).
        """
        allowed = {
            "status",
            "refusal_code",
            "refusal_note",
            "requester_contact",
            "received_at",
            "due_at",
            "extended_to",
        }
        unknown = set(changes) - allowed
        if unknown:
            raise InvalidInputError(f"Cannot change {sorted(unknown)}.")
        if "status" in changes and changes["status"] not in REQUEST_STATUSES:
            raise InvalidInputError(
                f"Trạng thái không hợp lệ. / Unknown status {changes['status']!r}."
            )
        for name in ("received_at", "due_at", "extended_to"):
            if changes.get(name) is not None:
                _aware(changes[name], name)
        with self._session(write=True) as session:
            request = session.execute(
                select(Request).where(Request.code == code).with_for_update()
            ).scalar_one_or_none()
            if request is None:
                raise NotFoundError("Không tìm thấy hồ sơ. / No such request.")
            for name, value in changes.items():
                setattr(request, name, value)
            session.flush()
            return _request_record(request)

    # --- Documents -----------------------------------------------------------------------

    def get_document(self, document_id: str) -> DocumentEntry:
        """The entry ``document_id``. Raises ``NotFoundError``."""
        with self._session(write=False) as session:
            return SqlRegisterTransaction(session).get_document(document_id)

    def find_document_by_token(self, token: str) -> DocumentEntry | None:
        """The entry whose verification token is ``token``, or None."""
        with self._session(write=False) as session:
            row = session.execute(
                _document_select().where(Document.verification_token == token)
            ).one_or_none()
            return None if row is None else _entry(*row)

    def find_documents_by_sha256(self, hashes: Sequence[str]) -> list[DocumentEntry]:
        """The entries whose signed copy has one of these SHA-256 digests (hex), using the
        index on ``copy_sha256``. At most 256 digests are looked up."""
        wanted = [h for h in dict.fromkeys(hashes) if len(h) == 64][:256]
        if not wanted:
            return []
        stmt = _document_select().where(Document.copy_sha256.in_(wanted))
        with self._session(write=False) as session:
            return [_entry(*row) for row in session.execute(stmt)]

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
        tz: dt.tzinfo = REGISTER_TZ,
    ) -> list[DocumentEntry]:
        """The authority's entries of register ``year``, in register order (type, number).

        With ``month``, only the entries issued in that month of ``year`` in ``tz``
        (Vietnamese time by default: the register is printed per calendar month).
        """
        if month is not None and not 1 <= month <= 12:
            raise InvalidInputError("Tháng không hợp lệ. / Invalid month.")
        stmt = _document_select().where(
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
            return [_entry(*row) for row in session.execute(stmt)]

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
            start = dt.datetime(year, month, 1, tzinfo=REGISTER_TZ)
            end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=REGISTER_TZ)
            stmt = stmt.where(Document.issued_at >= start, Document.issued_at < end)
        stmt = stmt.order_by(Document.register_type, Document.number)
        with self._session(write=False) as session:
            return [
                RegisterRow.from_entry(
                    _entry(doc, request_code, username),
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
        stmt = _document_select().order_by(Document.authority_code, Document.year, Document.number)
        with self._session(write=False) as session:
            for row in session.execute(stmt.execution_options(yield_per=1000)):
                yield _entry(*row)

    def documents_awaiting_copy(self) -> list[DocumentEntry]:
        """Entries whose signed copy is not yet in the copies bucket (no version recorded)."""
        stmt = _document_select().where(Document.copy_version_id.is_(None))
        with self._session(write=False) as session:
            return [_entry(*row) for row in session.execute(stmt.order_by(Document.issued_at))]

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

    # --- Audit ---------------------------------------------------------------------------

    def audit_head(self) -> str:
        """The hash of the last audit event (``GENESIS_HASH`` when there is none).

        Publish or countersign it from time to time: the chain alone cannot reveal that its
        newest events were deleted.
        """
        with self._session(write=False) as session:
            head = session.execute(
                select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
            ).scalar_one_or_none()
            return head or GENESIS_HASH

    def first_broken_audit_event(self) -> int | None:
        """The id of the first audit event whose link or hash is wrong, or None."""
        expected_prev = GENESIS_HASH
        with self._session(write=False) as session:
            # Streamed (server-side cursor on PostgreSQL): the chain may be long.
            result = session.execute(
                select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=1000)
            )
            try:
                for event in result.scalars():
                    try:
                        recomputed = _event_hash(event)
                    except (ValueError, TypeError):  # unparsable details: tampered
                        return event.id
                    if event.prev_hash != expected_prev or recomputed != event.hash:
                        return event.id
                    expected_prev = event.hash
            finally:
                result.close()
        return None

    def verify_audit_chain(self) -> bool:
        """Whether every audit event links to its predecessor and hashes to its hash."""
        return self.first_broken_audit_event() is None
