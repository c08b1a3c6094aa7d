"""API test fixtures: services on a real MinIO and a migrated SQLite register."""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.services import Services
from api.settings import Settings
from certify.issuance import IssuedCopy, IssueOrder
from storage import database
from storage.minio_server import MinioServer
from storage.objects import MinioObjectStore
from storage.sql_register import SqlRegister
from tests.conftest import store_config
from tests.issuing import AUTHORITY, CERTIFIER, ServedPki, scan_jpeg, seed_register


@pytest.fixture
def services(minio_server: MinioServer, data_dir: Path) -> Iterator[Services]:
    settings = Settings(data_dir=data_dir)
    database.upgrade(settings.resolved_database_url)
    store = MinioObjectStore(store_config(minio_server))
    store.ensure_buckets()
    engine = database.make_engine(settings.resolved_database_url)
    yield Services(settings=settings, engine=engine, store=store)
    engine.dispose()


# --- public verification: one real service for the session -----------------------------------


class FixedClock:
    """Time in tests comes from a fixed clock (2026-12-01 09:00 in Vietnam)."""

    def __init__(self, at: dt.datetime = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)) -> None:
        self.at = at

    def now(self) -> dt.datetime:
        return self.at


@pytest.fixture(scope="session")
def verify_services(
    minio_server: MinioServer,
    served_pki: ServedPki,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Services]:
    """Real services (MinIO, SQLite, the test PKI served over HTTP, validation workers) on
    which copies are issued and verified; shared by the session's verification tests."""
    services = seeded_services(
        minio_server,
        served_pki,
        tmp_path_factory.mktemp("verify") / "var",
        verify_workers=2,
        verify_timeout_seconds=10,
        verify_upload_rate_limit="",
        verify_token_rate_limit="",
    )
    try:
        yield services
    finally:
        services.close()


def seeded_services(
    minio_server: MinioServer, served_pki: ServedPki, data_dir: Path, **settings: Any
) -> Services:
    """Real services with a register (SQLite) and buckets of their own, seeded with the
    test authorities and officers, on the session's PKI and a fixed clock."""
    config = Settings(  # a test deployment: copies carry http://testserver
        data_dir=data_dir,
        deployment="demo",
        # The mail worker runs when a test calls it (api.citizen_services.deliver_mail).
        **{
            "public_base_url": "http://testserver",
            "mail_interval_seconds": 0,
            "preserve_interval_hours": 0,  # a test runs preservation when it means to
            **settings,
        },
    )
    database.upgrade(config.resolved_database_url)
    store = MinioObjectStore(store_config(minio_server))
    store.ensure_buckets()
    engine = database.make_engine(config.resolved_database_url)
    seed_register(SqlRegister(engine))
    return Services(
        settings=config,
        engine=engine,
        store=store,
        clock=FixedClock(),
        _pki=served_pki.pki,
        _signers=served_pki.signers,
    )


def issue_copy(
    services: Services, *pages: bytes, document_name: str = "Giấy khai sinh"
) -> IssuedCopy:
    """Issue a certified copy of ``pages`` (default: one A4 scan) through the real service."""
    with tempfile.TemporaryDirectory(prefix="certify-test-") as work:
        issued, _ = services.certification().certify_scans(
            IssueOrder(
                authority_code=AUTHORITY.code,
                certifier_username=CERTIFIER.username,
                request_code="YC-0001",
                document_name=document_name,
            ),
            [io.BytesIO(p) for p in (pages or (scan_jpeg(),))],
            limits=services.scan_limits(),
            workdir=Path(work),
        )
    return issued
