"""API test fixtures: services on a real MinIO and a migrated SQLite register."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api.services import Services
from api.settings import Settings
from storage import database
from storage.minio_server import MinioServer
from storage.objects import MinioObjectStore
from tests.conftest import store_config


@pytest.fixture
def services(minio_server: MinioServer, data_dir: Path) -> Iterator[Services]:
    settings = Settings(data_dir=data_dir)
    database.upgrade(settings.resolved_database_url)
    store = MinioObjectStore(store_config(minio_server))
    store.ensure_buckets()
    engine = database.make_engine(settings.resolved_database_url)
    yield Services(settings=settings, engine=engine, store=store)
    engine.dispose()
