"""Database fixtures: every register test runs on SQLite and on a real PostgreSQL server.

PostgreSQL: the server at ``CERTIFY_TEST_POSTGRES_URL`` (default: the one that
``scripts/start-postgres`` starts). One fresh database is created per test run and dropped at
its end; each test gets its own schema in it (via ``search_path``), so tests never share
state. When the server cannot be reached the PostgreSQL half is skipped, except on CI
(``CI=true``), where that is a failure.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from storage.database import make_engine, upgrade
from storage.sql_register import SqlRegister

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:54329/postgres"


def _assert_loopback(url: URL) -> None:
    """Tests talk only to servers on this machine: never drop a schema elsewhere."""
    host = url.host or "localhost"
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise RuntimeError(f"refusing non-loopback database host in tests: {host}")


def _admin_engine(url: URL) -> Engine:
    # AUTOCOMMIT: CREATE / DROP DATABASE cannot run inside a transaction.
    return create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[URL]:
    """A fresh PostgreSQL database for this test run (dropped at the end)."""
    admin_url = make_url(os.environ.get("CERTIFY_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    _assert_loopback(admin_url)
    admin = _admin_engine(admin_url)
    name = f"certify_test_{secrets.token_hex(4)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except SQLAlchemyError as exc:
        admin.dispose()
        reason = (
            f"PostgreSQL unreachable at {admin_url.render_as_string(hide_password=True)} "
            f"({type(exc.orig if hasattr(exc, 'orig') else exc).__name__}); "
            "run scripts/start-postgres or set CERTIFY_TEST_POSTGRES_URL"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield admin_url.set(database=name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_schema_url(postgres_database: URL) -> Iterator[str]:
    """A URL whose connections work in a schema of their own, dropped after the test."""
    schema = f"t_{secrets.token_hex(6)}"
    admin = _admin_engine(postgres_database)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = postgres_database.update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


@pytest.fixture(
    params=[
        pytest.param("sqlite"),
        pytest.param("postgresql", marks=pytest.mark.integration),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (no tables yet): SQLite in a file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'register.db'}"
    url: str = request.getfixturevalue("postgres_schema_url")
    return url


@pytest.fixture
def backend(database_url: str) -> str:
    return make_url(database_url).get_backend_name()


@pytest.fixture
def migrated_url(database_url: str) -> str:
    """``database_url`` with the migrations applied."""
    upgrade(database_url)
    return database_url


@pytest.fixture
def engine(migrated_url: str) -> Iterator[Engine]:
    """An engine on the migrated database, disposed after the test."""
    engine = make_engine(migrated_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def register(engine: Engine) -> SqlRegister:
    return SqlRegister(engine)
