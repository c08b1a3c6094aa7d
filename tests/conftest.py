"""Session-wide fixtures: a real MinIO server, started once, and a guard for loopback only."""

from __future__ import annotations

import contextlib
import ipaddress
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.minio_server import MinioServer
from storage.objects import MinioObjectStore, ObjectStoreConfig

# Database fixtures (SQLite and PostgreSQL): database_url, engine, register, ...
pytest_plugins = ["tests.db_fixtures", "tests.issuing"]


def assert_loopback(endpoint: str) -> None:
    """Tests talk only to servers on this machine (polar's guard)."""
    host = endpoint.rsplit(":", 1)[0].strip("[]")
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise RuntimeError(f"refusing non-loopback endpoint in tests: {endpoint}")


@contextlib.contextmanager
def started_minio(data_dir: Path) -> Iterator[MinioServer]:
    """A real MinIO server on loopback with its data in ``data_dir``, stopped after."""
    server = MinioServer.for_data_dir(data_dir)
    assert_loopback(server.endpoint)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def minio_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MinioServer]:
    """One real MinIO server for the whole test session."""
    with started_minio(tmp_path_factory.mktemp("minio") / "data") as server:
        yield server


def store_config(server: MinioServer, **overrides: object) -> ObjectStoreConfig:
    """An object-store config with buckets of its own, so tests never share state."""
    suffix = secrets.token_hex(4)
    values: dict[str, object] = {
        "endpoint": server.endpoint,
        "access_key": server.access_key,
        "secret_key": server.secret_key,
        "timeout_seconds": 5.0,
        "scans_bucket": f"scans-{suffix}",
        "copies_bucket": f"copies-{suffix}",
        "retention_mode": "GOVERNANCE",
        "retention_days": 1,
    }
    values.update(overrides)
    return ObjectStoreConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
def object_store(minio_server: MinioServer) -> MinioObjectStore:
    """A MinIO-backed object store with fresh buckets for this test."""
    store = MinioObjectStore(store_config(minio_server))
    store.ensure_buckets()
    return store


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "var"
    path.mkdir()
    return path
