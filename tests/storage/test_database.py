"""The register database: engines, migrations, the UTC column type, unreachable servers."""

from __future__ import annotations

import datetime as dt
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

import storage.citizen_tables
import storage.preservation_tables  # noqa: F401
from certify.errors import DatabaseUnavailableError
from storage.database import (
    Authority,
    Base,
    Province,
    alembic_config,
    make_engine,
    ping,
    upgrade,
)

TABLES = {
    "provinces",
    "authorities",
    "officers",
    "officer_roles",
    "api_tokens",
    "requests",
    "documents",
    "register_counters",
    "audit_events",
    "pki_index",
    "request_items",
    "desk_sessions",
    "download_links",
    "payments",
    "outbox",
    "notifier_cursor",
    "copy_versions",
    "copy_archive",
    "leases",
}


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_migrations_create_every_table(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert tables >= TABLES | {"alembic_version"}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == (
            "0009"
        )


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_is_idempotent_and_downgrade_removes_everything(
    migrated_url: str,
) -> None:
    upgrade(migrated_url)  # already at head: nothing to do
    engine = make_engine(migrated_url)
    try:
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "base")
        assert not set(inspect(engine).get_table_names()) & TABLES
        upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()


@pytest.mark.integration
def test_replicas_migrating_at_once_take_turns(postgres_schema_url: str) -> None:
    """Two replicas starting together both run the migrations: one waits for the other's
    lock and then finds nothing to do (without it, both would create the same tables)."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        outcomes = list(pool.map(lambda _: upgrade(postgres_schema_url), range(3)))
    assert outcomes == [None, None, None]
    engine = make_engine(postgres_schema_url)
    try:
        assert set(inspect(engine).get_table_names()) >= TABLES
        with engine.connect() as conn:
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        assert version == "0009"
    finally:
        engine.dispose()


def test_datetimes_are_stored_utc_and_come_back_aware(engine: Engine) -> None:
    hanoi = dt.timezone(dt.timedelta(hours=7))
    created = dt.datetime(2026, 1, 1, 6, 30, 15, 123456, tzinfo=hanoi)
    with Session(engine) as session, session.begin():
        session.add(Province(code="01", name="Hà Nội"))
        session.flush()
        session.add(
            Authority(
                code="01-hoankiem",
                name="UBND phường Hoàn Kiếm",
                province_code="01",
                fee_waived=False,
                created_at=created,
            )
        )
    with Session(engine) as session:
        stored = session.execute(select(Authority.created_at)).scalar_one()
    assert stored == created
    assert stored.utcoffset() == dt.timedelta(0)
    assert stored == dt.datetime(2025, 12, 31, 23, 30, 15, 123456, tzinfo=dt.UTC)


def test_naive_datetimes_are_refused(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(Province(code="01", name="Hà Nội"))
        session.flush()
        session.add(
            Authority(
                code="x",
                name="x",
                province_code="01",
                fee_waived=False,
                created_at=dt.datetime(2026, 1, 1),  # noqa: DTZ001 - the point of the test
            )
        )
        with pytest.raises(StatementError, match="naive datetime"):
            session.flush()


def test_sqlite_engine_is_configured_for_the_register(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "register.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 30000
        assert path.parent.is_dir()
    finally:
        engine.dispose()


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(
            Authority(
                code="orphan",
                name="x",
                province_code="no-such-province",
                fee_waived=False,
                created_at=dt.datetime.now(dt.UTC),
            )
        )
        with pytest.raises(IntegrityError, match=r"(?i)foreign key"):
            session.flush()


def test_ping_answers_on_a_live_database(engine: Engine) -> None:
    ping(engine)


def test_unsupported_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        make_engine("mysql://localhost/x")


def test_unreachable_postgresql_is_database_unavailable_quickly() -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/x?connect_timeout=2"
    engine = make_engine(url)
    try:
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailableError) as info:
            ping(engine)
        assert time.monotonic() - started < 5
        assert info.value.code == "database_unavailable"
        assert info.value.__cause__ is not None
    finally:
        engine.dispose()


def test_upgrade_of_unreachable_postgresql_is_database_unavailable() -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/x?connect_timeout=2"
    with pytest.raises(DatabaseUnavailableError):
        upgrade(url)


def test_unopenable_sqlite_file_is_database_unavailable(tmp_path: Path) -> None:
    # A directory where the database file should be: SQLite cannot open it.
    (tmp_path / "register.db").mkdir()
    engine = make_engine(f"sqlite:///{tmp_path / 'register.db'}")
    try:
        with pytest.raises(DatabaseUnavailableError):
            ping(engine)
    finally:
        engine.dispose()
