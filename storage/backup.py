"""Backups of the register database: a logical dump of every table, and its restore
(issue 14.4; ``certify backup`` / ``certify restore``, docs/backup.md).

The database is dumped through SQLAlchemy, not with a backend's own tool, so that a backup
of SQLite restores into PostgreSQL and back:

- one read transaction for every table (PostgreSQL: REPEATABLE READ, READ ONLY; SQLite: one
  transaction, whose first read fixes its WAL snapshot), so the tables agree with each other;
- every table the database holds, ``alembic_version``, the PKI index and the audit chain
  among them, as ``db/{table}.jsonl``: one JSON array per row, in primary-key order; the
  columns and their kinds are in the manifest. Datetimes are ISO 8601 in UTC with
  microseconds (every datetime of the schema is UTC, ``storage.database.UTCDateTime``);
  integers of any size, nulls and text are JSON's own; bytes base64; decimals strings.

A restore loads the rows into a database that holds no register: the schema is made by the
migrations (up to the backup's revision), the rows go in foreign-key order in one
transaction, PostgreSQL's sequences are moved past the highest ids, then the migrations run
to head. Columns whose name ends in ``version_id`` name object versions in MinIO, which a
restore cannot keep: the loader rewrites them from old to new ids (given by the caller).
No other value is changed; the audit chain hashes its events' details, which name no
object version today (checked on every restore: :attr:`LoadReport.audit_events_naming_versions`).

The files go into a backup directory (``storage.backup_manifest``); the manifest lists
the tables with their columns, kinds and row counts, the dialect and the schema revision.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    Table,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.types import JSON

from certify.errors import (
    CertifyError,
    ConflictError,
    DatabaseUnavailableError,
    InvalidInputError,
)
from storage.backup_manifest import Backup, BackupWriter
from storage.database import is_unavailable

ALEMBIC_TABLE = "alembic_version"
VERSION_ID_SUFFIX = "version_id"
_BATCH = 1000

RowObserver = Callable[[str, Mapping[str, Any]], None]


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# --- values -----------------------------------------------------------------------------------


def _kind(column_type: Any) -> str:
    """The kind of a column in the backup, from its (reflected) type."""
    if isinstance(column_type, DateTime):
        return "datetime"
    if isinstance(column_type, Date):
        return "date"
    if isinstance(column_type, Boolean):
        return "boolean"
    if isinstance(column_type, Integer):
        return "integer"
    if isinstance(column_type, Float):
        return "float"
    if isinstance(column_type, Numeric):
        return "decimal"
    if isinstance(column_type, LargeBinary):
        return "binary"
    if isinstance(column_type, JSON):
        return "json"
    return "string"


def _encode(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "datetime":
        if value.tzinfo is None:  # SQLite: the UTC wall time (UTCDateTime)
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if kind == "date":
        return value.isoformat()
    if kind == "decimal":
        return str(value)
    if kind == "binary":
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _decode(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "datetime":
        parsed = dt.datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError(f"naive datetime in the backup: {value!r}")
        return parsed.astimezone(dt.UTC)
    if kind == "date":
        return dt.date.fromisoformat(value)
    if kind == "decimal":
        return decimal.Decimal(value)
    if kind == "binary":
        return base64.b64decode(value)
    return value


def _bind(value: Any, column_type: Any, dialect: str) -> Any:
    """A decoded value as the target column takes it."""
    if isinstance(value, dt.datetime) and isinstance(column_type, DateTime):
        if dialect == "postgresql" and column_type.timezone:
            return value
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


# --- the schema, as the database has it -------------------------------------------------------


@dataclass(frozen=True)
class _Schema:
    tables: dict[str, Table]  # in foreign-key order (parents first)
    primary_keys: dict[str, list[str]]


def _reflect(conn: Connection) -> _Schema:
    """The tables and columns the database holds (no indexes: only what a dump needs), in
    foreign-key order."""
    inspector = inspect(conn)
    names = sorted(inspector.get_table_names())
    metadata = MetaData()
    tables: dict[str, Table] = {}
    primary: dict[str, list[str]] = {}
    parents: dict[str, set[str]] = {}
    for name in names:
        columns = inspector.get_columns(name)
        tables[name] = Table(name, metadata, *(Column(c["name"], c["type"]) for c in columns))
        pk = inspector.get_pk_constraint(name).get("constrained_columns") or []
        primary[name] = list(pk) or [c["name"] for c in columns]
        parents[name] = {
            fk["referred_table"]
            for fk in inspector.get_foreign_keys(name)
            if fk["referred_table"] != name and fk["referred_table"] in names
        }
    ordered: list[str] = []
    while len(ordered) < len(names):
        ready = [n for n in names if n not in ordered and parents[n] <= set(ordered)]
        if not ready:
            raise CertifyError(
                "Các bảng tham chiếu vòng tròn. / The tables' foreign keys form a cycle.",
                code="backup_schema_cycle",
            )
        ordered.extend(ready)
    return _Schema({n: tables[n] for n in ordered}, primary)


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except CertifyError:
        raise
    except SQLAlchemyError as exc:
        if is_unavailable(exc):
            raise DatabaseUnavailableError() from exc
        raise CertifyError(
            "Lỗi cơ sở dữ liệu khi sao lưu hoặc khôi phục. / "
            "A database error stopped the backup or restore.",
            code="database_error",
        ) from exc


# --- dump -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatabaseDump:
    """What :func:`dump_database` wrote: the snapshot's time (taken after its first read,
    so every row it holds was committed before), dialect, schema revision and tables."""

    taken_at: dt.datetime
    dialect: str
    revision: str
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)

    def manifest_entry(self) -> dict[str, Any]:
        return {
            "dialect": self.dialect,
            "revision": self.revision,
            "snapshot_at": self.taken_at.isoformat(timespec="microseconds"),
            "tables": self.tables,
        }


def dump_database(
    engine: Engine,
    writer: BackupWriter,
    *,
    now: Callable[[], dt.datetime],
    observe: RowObserver | None = None,
) -> DatabaseDump:
    """Dump every table of the database at ``engine`` into ``writer`` as ``db/{table}.jsonl``,
    all in one read transaction; ``observe(table, row)`` sees every row as it is written.

    Raises:
        InvalidInputError: code ``backup_no_register`` (the database was never migrated).
        DatabaseUnavailableError, CertifyError (``database_error``).
    """
    with _translated(), engine.connect() as base:
        dialect = base.dialect.name
        conn = base
        if dialect == "postgresql":
            conn = base.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        with conn.begin():
            schema = _reflect(conn)
            if ALEMBIC_TABLE not in schema.tables:
                raise InvalidInputError(
                    "Cơ sở dữ liệu chưa có sổ chứng thực nào để sao lưu. / "
                    "The database holds no register to back up.",
                    code="backup_no_register",
                )
            revision = conn.execute(select(schema.tables[ALEMBIC_TABLE].c.version_num)).scalar_one()
            taken_at = now()
            tables: dict[str, dict[str, Any]] = {}
            for name, table in schema.tables.items():
                columns = [(c.name, _kind(c.type)) for c in table.columns]
                relpath = f"db/{name}.jsonl"
                order = [table.c[pk] for pk in schema.primary_keys[name]]
                result = conn.execution_options(yield_per=_BATCH).execute(
                    select(table).order_by(*order)
                )
                rows = 0
                with writer.create(relpath) as out:
                    for row in result.mappings():
                        values = [_encode(kind, row[col]) for col, kind in columns]
                        out.write(_canonical(values) + b"\n")
                        if observe is not None:
                            observe(name, cast(Mapping[str, Any], row))
                        rows += 1
                tables[name] = {
                    "file": relpath,
                    "rows": rows,
                    "columns": [list(c) for c in columns],
                }
    return DatabaseDump(taken_at=taken_at, dialect=dialect, revision=revision, tables=tables)


def table_rows(backup: Backup, table: str) -> Iterator[dict[str, Any]]:
    """The rows of ``table`` as ``backup`` holds them, decoded (datetimes aware, UTC)."""
    spec = backup.manifest["database"]["tables"][table]
    names = [name for name, _kind in spec["columns"]]
    kinds = [kind for _name, kind in spec["columns"]]
    with backup.path(spec["file"]).open("rb") as fh:
        for line in fh:
            values = json.loads(line)
            yield {n: _decode(k, v) for n, k, v in zip(names, kinds, values, strict=True)}


# --- restore ----------------------------------------------------------------------------------


def target_needs_schema(engine: Engine, revision: str) -> bool:
    """Whether the target database is empty (True: the schema is to be made) or migrated to
    ``revision`` with no rows (False). Reads only.

    Raises:
        ConflictError: code ``restore_target_not_empty`` (it holds rows, or a schema at
            another revision).
        DatabaseUnavailableError.
    """
    with _translated(), engine.connect() as conn, conn.begin():
        schema = _reflect(conn)
        if not schema.tables:
            return True
        holding = [
            name
            for name, table in schema.tables.items()
            if name != ALEMBIC_TABLE
            and conn.execute(select(func.count()).select_from(table)).scalar_one()
        ]
        current = None
        if ALEMBIC_TABLE in schema.tables:
            current = conn.execute(
                select(schema.tables[ALEMBIC_TABLE].c.version_num)
            ).scalar_one_or_none()
    if holding or current != revision:
        raise ConflictError(
            "Cơ sở dữ liệu đích đã có dữ liệu hoặc cấu trúc khác: chỉ khôi phục vào một cơ sở "
            "dữ liệu trống; không thay đổi gì. / The target database is not empty (it holds "
            f"{', '.join(holding) or 'a schema at revision ' + repr(current)}): a restore goes "
            "only into an empty database; nothing was changed.",
            code="restore_target_not_empty",
        )
    return False


@dataclass(frozen=True)
class LoadReport:
    """What :func:`load_database` loaded: rows per table, version ids rewritten, and the
    audit events whose details name an old object version (kept as they are: the chain
    hashes them)."""

    rows: dict[str, int]
    rewritten_version_ids: int
    audit_events_naming_versions: tuple[int, ...]


def load_database(engine: Engine, backup: Backup, *, version_ids: Mapping[str, str]) -> LoadReport:
    """Load every table of ``backup`` into the (migrated, empty) database at ``engine`` in one
    transaction, parents before children; rewrite every ``*version_id`` column through
    ``version_ids`` (old → new; ids it lacks are kept); on PostgreSQL move every sequence
    past the highest id.

    Raises:
        InvalidInputError: code ``backup_schema_mismatch`` (the backup's tables or columns are
            not the database's at the backup's revision).
        DatabaseUnavailableError, CertifyError (``database_error``).
    """
    backed_up = backup.manifest["database"]["tables"]
    rows: dict[str, int] = {}
    rewritten = 0
    naming: list[int] = []
    old_ids = set(version_ids)
    with _translated(), engine.connect() as conn, conn.begin():
        dialect = conn.dialect.name
        schema = _reflect(conn)
        if set(schema.tables) != set(backed_up):
            raise _schema_mismatch(sorted(set(schema.tables) ^ set(backed_up)))
        for name, table in schema.tables.items():
            backup_columns = [c for c, _k in backed_up[name]["columns"]]
            if set(backup_columns) != set(table.c.keys()):
                raise _schema_mismatch([name])
            if name == ALEMBIC_TABLE:
                continue  # written by the migrations, at the backup's revision
            to_rewrite = [c for c in backup_columns if c.endswith(VERSION_ID_SUFFIX)]
            types = {c.name: c.type for c in table.columns}
            batch: list[dict[str, Any]] = []
            count = 0
            for row in table_rows(backup, name):
                for col in to_rewrite:
                    if row[col] in old_ids:
                        row[col] = version_ids[row[col]]
                        rewritten += 1
                if name == "audit_events" and old_ids and _names_any(row.get("details"), old_ids):
                    naming.append(int(row["id"]))
                batch.append({k: _bind(v, types[k], dialect) for k, v in row.items()})
                count += 1
                if len(batch) >= _BATCH:
                    conn.execute(insert(table), batch)
                    batch = []
            if batch:
                conn.execute(insert(table), batch)
            rows[name] = count
        if dialect == "postgresql":
            _reset_sequences(conn, schema)
    return LoadReport(rows, rewritten, tuple(naming))


def _names_any(details: Any, ids: set[str]) -> bool:
    if not isinstance(details, str):
        return False
    try:
        parsed = json.loads(details)
    except ValueError:
        return any(i in details for i in ids)
    values = parsed.values() if isinstance(parsed, dict) else [parsed]
    return any(isinstance(v, str) and (v in ids or any(i in v for i in ids)) for v in values)


def _schema_mismatch(names: list[str]) -> InvalidInputError:
    return InvalidInputError(
        "Bảng trong bản sao lưu không khớp cấu trúc cơ sở dữ liệu ở phiên bản của nó: "
        f"{', '.join(names)}. / The backup's tables do not match the schema at its revision: "
        f"{', '.join(names)}.",
        code="backup_schema_mismatch",
    )


def _reset_sequences(conn: Connection, schema: _Schema) -> None:
    """Move every sequence owned by a column past the highest value loaded (PostgreSQL: an
    explicit id does not advance a serial's sequence)."""
    quote = conn.dialect.identifier_preparer.quote
    for name, table in schema.tables.items():
        for column in table.columns:
            if not isinstance(column.type, Integer):
                continue
            sequence = conn.execute(
                text("SELECT pg_get_serial_sequence(:table, :column)"),
                {"table": quote(name), "column": column.name},
            ).scalar_one_or_none()
            if sequence is None:
                continue
            highest = conn.execute(select(func.max(column))).scalar_one_or_none()
            conn.execute(
                text("SELECT setval(CAST(:seq AS regclass), :value, :called)"),
                {"seq": sequence, "value": highest or 1, "called": highest is not None},
            )
