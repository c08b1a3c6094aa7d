"""The register database: SQLAlchemy 2 models, engines and Alembic migrations.

SQLite (the embedded default) and PostgreSQL (production) run the same schema. The schema is
created only by the Alembic migrations in ``storage/migrations``; the models here are the
reference they are tested against (``tests/storage/test_database.py``).

Public API:

- the models ``Base``, ``Province``, ``Authority``, ``Officer``, ``Request``, ``Document``,
  ``RegisterCounter``, ``AuditEvent`` and the column type ``UTCDateTime``;
- ``make_engine(url)`` — an engine configured for the register (see its docstring);
- ``for_writing(engine)`` — the same engine, whose transactions on SQLite begin IMMEDIATE;
- ``upgrade(url_or_engine)`` — run the migrations to head;
- ``ping(engine)`` — check the database answers, else ``DatabaseUnavailableError``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    make_url,
    text,
)
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from certify.errors import CertifyError, DatabaseUnavailableError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

ROLES = ("clerk", "certifier", "admin", "auditor")
REQUEST_STATUSES = ("booked", "received", "certified", "refused", "cancelled")
DOCUMENT_STATUSES = ("issued", "cancelled")
# NĐ 23/2015 art. 22: the six grounds on which an original is refused.
REFUSAL_CODES = ("altered", "damaged", "secret", "unlawful", "not_legalised", "self_made")
# One original of a request at the desk: booked online (issue 12), received, checked (or
# refused), scanned, certified.
ITEM_STATUSES = ("booked", "received", "checked", "refused", "scanned", "certified")

# Key of the PostgreSQL advisory lock that serialises migrations ("certmigr").
MIGRATION_LOCK_KEY = 0x636572746D696772
# The execution option read by the SQLite "begin" hook (see make_engine / for_writing).
SQLITE_BEGIN_OPTION = "certify_sqlite_begin"

# Constraint names are fixed so that migrations can name what they alter or drop.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# An autoincrementing 64-bit key on PostgreSQL; on SQLite only INTEGER is the rowid alias.
BigIntKey = BigInteger().with_variant(Integer(), "sqlite")


def _in_list(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware datetime, stored in UTC, returned aware (UTC) on every backend.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so the UTC wall time is
    stored and UTC is re-attached on the way out. Naive datetimes are refused: a naive time
    in the register would be ambiguous (STYLE: datetimes are timezone-aware).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime given for a timezone-aware column")
        utc = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return utc.replace(tzinfo=None)
        return utc

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"expected a datetime from the database, got {type(value)!r}")
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of the register's models."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Province(Base):
    """A province (tỉnh / thành phố trực thuộc trung ương)."""

    __tablename__ = "provinces"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Authority(Base):
    """A certifying authority (UBND xã / phường / đặc khu), in one province."""

    __tablename__ = "authorities"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    province_code: Mapped[str] = mapped_column(ForeignKey("provinces.code"), index=True)
    # TT 226/2016 art. 4: some provinces waive the e-copy fee.
    fee_waived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Officer(Base):
    """An officer of one authority, with one role."""

    __tablename__ = "officers"
    __table_args__ = (CheckConstraint(_in_list("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    authority_code: Mapped[str] = mapped_column(ForeignKey("authorities.code"), index=True)
    # None: the officer cannot log in with a password (e.g. token-only, or not yet set).
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # RFC 6238 TOTP secret (base32) once the officer enrolled a second factor; None: none.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    # The last TOTP time step a code was accepted for: a code is accepted once (RFC 6238 §5.2).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)


class OfficerRole(Base):
    """A role an officer holds in their authority; one person may hold several (the officer's
    ``role`` column is the role they were created with)."""

    __tablename__ = "officer_roles"
    __table_args__ = (CheckConstraint(_in_list("role", ROLES), name="role"),)

    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)


class ApiToken(Base):
    """A bearer token an officer created for the API. Only its SHA-256 is kept: the token
    itself is shown once, when it is made."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Request(Base):
    """A request (hồ sơ) with its tracking code: one requester, one or more originals."""

    __tablename__ = "requests"
    __table_args__ = (
        CheckConstraint(_in_list("status", REQUEST_STATUSES), name="status"),
        CheckConstraint(
            "refusal_code IS NULL OR " + _in_list("refusal_code", REFUSAL_CODES),
            name="refusal_code",
        ),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    authority_code: Mapped[str] = mapped_column(ForeignKey("authorities.code"), index=True)
    # Personal data (NĐ 13/2023): never logged, never shown by the public verifier.
    requester_name: Mapped[str] = mapped_column(String(200))
    requester_id_number: Mapped[str] = mapped_column(String(32))
    requester_contact: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    refusal_code: Mapped[str | None] = mapped_column(String(32))
    refusal_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # NĐ 23/2015 art. 7: the officer may extend by up to 2 working days (appointment slip).
    extended_to: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Issue 12: the citizen's unguessable tracking code (booking and desk alike), their
    # e-mail and phone, when the copies were e-mailed (ready) and first downloaded.
    tracking_code: Mapped[str | None] = mapped_column(String(32), unique=True)
    requester_email: Mapped[str | None] = mapped_column(String(254))
    requester_phone: Mapped[str | None] = mapped_column(String(32))
    ready_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Document(Base):
    """One line of the register: one original, certified in ``copies`` identical copies.

    Several copies of one original made together share one number (NĐ 23/2015 art. 20), so
    they are one row; numbers are unique per (authority, register type, year).
    """

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("authority_code", "register_type", "year", "number"),
        CheckConstraint(_in_list("status", DOCUMENT_STATUSES), name="status"),
        CheckConstraint("number > 0", name="number_positive"),
        CheckConstraint("pages > 0 AND copies > 0 AND fee >= 0", name="counts"),
        Index("ix_documents_authority_issued_at", "authority_code", "issued_at"),
        Index("ix_documents_copy_sha256", "copy_sha256"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    authority_code: Mapped[str] = mapped_column(ForeignKey("authorities.code"))
    register_type: Mapped[str] = mapped_column(String(32))
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    book: Mapped[str] = mapped_column(String(32))
    document_name: Mapped[str] = mapped_column(String(300))
    pages: Mapped[int] = mapped_column(Integer)
    copies: Mapped[int] = mapped_column(Integer)
    fee: Mapped[int] = mapped_column(BigInteger)
    # JSON array of the scan pages' SHA-256 hex digests, in page order.
    page_hashes: Mapped[str] = mapped_column(Text)
    copy_key: Mapped[str] = mapped_column(String(512))
    copy_sha256: Mapped[str] = mapped_column(String(64))
    copy_size: Mapped[int] = mapped_column(BigInteger)
    copy_version_id: Mapped[str | None] = mapped_column(String(128))
    # Printed on the copy (QR); unguessable so nobody can enumerate others' copies.
    verification_token: Mapped[str] = mapped_column(String(128), unique=True)
    certifier_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="issued")
    # TT 01/2020 art. 7: a cancellation is published with its date and reason.
    cancelled_reason: Mapped[str | None] = mapped_column(Text)
    # Indexed: the public list of cancellations reads the newest first.
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    # The copy's validation when it was issued (JSON of certify.verdicts.Validation): public
    # verification of the same bytes is then a hash and a lookup.
    validation: Mapped[str | None] = mapped_column(Text)


class RequestItem(Base):
    """One original of a request at the desk (issue 11.2): its name, pages and copies asked
    for; who checked it and when, or why it was refused (NĐ 23/2015 art. 22); its uploaded
    scan; the register entry it became."""

    __tablename__ = "request_items"
    __table_args__ = (
        UniqueConstraint("request_id", "position"),
        CheckConstraint(_in_list("status", ITEM_STATUSES), name="status"),
        CheckConstraint(
            "refusal_code IS NULL OR " + _in_list("refusal_code", REFUSAL_CODES),
            name="refusal_code",
        ),
        CheckConstraint("position > 0 AND pages > 0 AND copies > 0", name="counts"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    document_name: Mapped[str] = mapped_column(String(300))
    pages: Mapped[int] = mapped_column(Integer)
    copies: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    checked_by: Mapped[str | None] = mapped_column(String(100))
    checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    refusal_code: Mapped[str | None] = mapped_column(String(32))
    refusal_note: Mapped[str | None] = mapped_column(Text)
    # JSON array of the uploaded files' object keys in ``scans`` (page order), and how many
    # pages intake found in them.
    scan_keys: Mapped[str | None] = mapped_column(Text)
    scan_pages: Mapped[int | None] = mapped_column(Integer)
    document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id"))


class DeskSession(Base):
    """A signed-in officer's page session: the SHA-256 of the cookie's secret, its CSRF
    token, and when it ends (idle and absolute limits)."""

    __tablename__ = "desk_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class DownloadLink(Base):
    """An unguessable, expiring link to one issued copy (issue 11.3): the SHA-256 of its
    secret, who made it, until when."""

    __tablename__ = "download_links"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class PkiIndex(Base):
    """The provincial PKI's certificate index (JSON), one row, bumped ``version`` on every
    change (keys.index_store; storage.pki_index)."""

    __tablename__ = "pki_index"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)


class RegisterCounter(Base):
    """The last number taken in one register (authority, register type, year)."""

    __tablename__ = "register_counters"
    __table_args__ = (CheckConstraint("last_number >= 0", name="last_number"),)

    authority_code: Mapped[str] = mapped_column(ForeignKey("authorities.code"), primary_key=True)
    register_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class AuditEvent(Base):
    """An append-only audit event, chained: ``hash = sha256(prev_hash + canonical JSON)``."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    # Canonical JSON object of string values.
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


# --- Engines ---------------------------------------------------------------------------------


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from the sqlite3 module (it would BEGIN lazily and
    # DEFERRED); the "begin" hook emits BEGIN itself. Recipe from the SQLAlchemy SQLite
    # dialect docs ("Serializable isolation / Savepoints / Transactional DDL").
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        # FULL: a commit is on disk before it returns, in WAL mode too (NORMAL may lose the
        # last transactions on power loss, and with them issued register numbers).
        cursor.execute("PRAGMA synchronous=FULL")
    finally:
        cursor.close()


def _on_sqlite_begin(conn: Connection) -> None:
    # IMMEDIATE takes SQLite's write lock at BEGIN: two writers queue (busy_timeout) instead
    # of both reading the same counter and one failing at COMMIT.
    mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
    if mode not in ("DEFERRED", "IMMEDIATE", "EXCLUSIVE"):
        raise ValueError(f"unknown SQLite BEGIN mode {mode!r}")
    conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str | URL, *, echo: bool = False) -> Engine:
    """Create an engine for the register database at ``url``.

    SQLite: the parent directory is created; every connection uses WAL, enforces foreign
    keys and waits up to 30 s for a lock; SQLAlchemy, not the sqlite3 module, emits BEGIN,
    so that DDL is transactional and ``for_writing(engine)`` can begin IMMEDIATE.
    PostgreSQL: pooled connections are pre-pinged; unless the URL sets ``connect_timeout``,
    connecting gives up after 10 s.

    Raises ``ValueError`` for an unusable URL. Connecting is lazy: use ``ping`` to check.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, echo=echo)
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    if backend == "postgresql":
        connect_args: dict[str, Any] = {}
        if "connect_timeout" not in parsed.query:
            connect_args["connect_timeout"] = 10
        return create_engine(parsed, echo=echo, pool_pre_ping=True, connect_args=connect_args)
    raise ValueError(f"unsupported database backend {backend!r} (use sqlite or postgresql)")


def for_writing(engine: Engine) -> Engine:
    """The same engine (and pool), whose transactions begin IMMEDIATE on SQLite.

    On PostgreSQL the option is ignored: writers there lock rows explicitly.
    """
    return engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})


def is_unavailable(exc: BaseException) -> bool:
    """Whether a SQLAlchemy error means the database cannot be reached or used right now."""
    if isinstance(exc, PoolTimeoutError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        sqlstate = getattr(exc.orig, "sqlstate", None)
        if isinstance(sqlstate, str):
            # Class 08: connection exception; 57P0x: shutdown; 53: insufficient resources.
            return sqlstate.startswith(("08", "57P", "53"))
        return type(exc).__name__ in ("OperationalError", "InterfaceError")
    return False


def ping(engine: Engine) -> None:
    """Check that the database answers a query.

    Raises ``DatabaseUnavailableError`` when it cannot be reached or fails to answer.
    """
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1")).scalar_one()
    except SQLAlchemyError as exc:
        raise DatabaseUnavailableError() from exc


# --- Migrations ------------------------------------------------------------------------------


def alembic_config(connection: Connection | None = None) -> Any:
    """An Alembic ``Config`` for ``storage/migrations`` (no alembic.ini needed).

    With ``connection``, env.py runs the migrations on it (it is not committed there).
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(target: str | URL | Engine, revision: str = "head") -> None:
    """Run the Alembic migrations on the database ``target`` up to ``revision``.

    Runs in one transaction on both backends (DDL is transactional on PostgreSQL and, with
    our BEGIN handling, on SQLite). Raises ``DatabaseUnavailableError`` when the database
    cannot be reached, ``CertifyError`` (code ``migration_failed``) when a migration fails.
    """
    from alembic import command

    engine = target if isinstance(target, Engine) else make_engine(target)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Replicas that all migrate at start-up take turns (released at commit).
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
            command.upgrade(alembic_config(connection), revision)
    except SQLAlchemyError as exc:
        if is_unavailable(exc):
            raise DatabaseUnavailableError() from exc
        raise CertifyError(
            "Không cập nhật được cấu trúc cơ sở dữ liệu. / The database migration failed.",
            code="migration_failed",
        ) from exc
    finally:
        if engine is not target:
            engine.dispose()
