"""The service's probes and error shape, with a real MinIO and a real SQLite register."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.services import Services
from api.settings import Settings
from storage import database
from storage.minio_server import MinioServer
from storage.objects import MinioObjectStore
from tests.conftest import store_config
from tests.issuing import ServedPki

pytestmark = pytest.mark.integration


def test_healthz_and_readyz_answer_200(services: Services) -> None:
    with TestClient(create_app(services=services)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 200
        # No PKI yet: reported, but verification of copies still works, so still ready.
        assert ready.json()["checks"] == {
            "storage": "ok",
            "database": "ok",
            "pki": "pki_not_initialised",
            "mail": "ok",
        }


def test_readyz_reports_the_pki_and_a_mail_backlog_without_failing(
    services: Services, served_pki: ServedPki
) -> None:
    services._pki = served_pki.pki
    written = services.register.enqueue_mail(
        dedupe_key="booked:HS-1",
        request_id=None,
        kind="booked",
        to_address="hs-1@example.vn",
        subject="Hồ sơ HS-1 / Request HS-1",
        body="Nội dung thư",
        now=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=61),
    )
    assert written
    with TestClient(create_app(services=services)) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {
        "storage": "ok",
        "database": "ok",
        "pki": "ok",
        "mail": "mail_backlog",
    }


def test_readyz_names_the_failing_store(services: Services, tmp_path: Path) -> None:
    down = MinioServer.for_data_dir(tmp_path / "down")  # never started: nothing listens
    services.store = MinioObjectStore(store_config(down, timeout_seconds=2.0))
    with TestClient(create_app(services=services)) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 503
    body = ready.json()
    assert body["error"] == "not_ready"
    assert body["checks"] == {
        "storage": "storage_unavailable",
        "database": "ok",
        "pki": "pki_not_initialised",
        "mail": "ok",
    }


def test_readyz_names_the_failing_database(services: Services) -> None:
    services.engine.dispose()
    services.engine = database.make_engine(
        "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"
    )
    with TestClient(create_app(services=services)) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"] == {
        "storage": "ok",
        "database": "database_unavailable",
        "pki": "database_unavailable",  # the PKI's index is in the register database
        "mail": "database_unavailable",
    }


def test_unknown_route_and_bad_method_use_the_error_shape(services: Services) -> None:
    with TestClient(create_app(services=services)) as client:
        missing = client.get("/no/such/page")
        assert missing.status_code == 404
        assert missing.json()["error"] == "not_found"
        wrong = client.post("/healthz")
        assert wrong.status_code == 405
        assert set(wrong.json()) == {"error", "message"}


def test_openapi_is_served(services: Services) -> None:
    with TestClient(create_app(services=services)) as client:
        assert client.get("/docs").status_code == 200
        spec = client.get("/openapi.json").json()
        assert "/readyz" in spec["paths"]


def test_app_started_on_defaults_runs_its_own_minio(tmp_path: Path) -> None:
    """What `certify serve` does: no endpoint set, so a local MinIO is started and stopped."""
    settings = Settings(data_dir=tmp_path / "var")
    settings.data_dir.mkdir()
    database.upgrade(settings.resolved_database_url)
    with TestClient(create_app(settings)) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        local = client.app.state.services.local_minio  # type: ignore[attr-defined]
        assert local is not None
        assert local.process is not None
    assert local.process is None  # stopped with the app


def test_api_docs_load_nothing_from_outside(services: Services) -> None:
    """Swagger UI and ReDoc come from the service itself: a network without internet can
    read the API documentation (issue 8.7)."""
    with TestClient(create_app(services=services)) as client:
        for page in ("/docs", "/redoc"):
            html = client.get(page).text
            sources = re.findall(r'(?:src|href)="([^"]+)"', html)
            assert sources, page
            assert all(not s.startswith(("http://", "https://", "//")) for s in sources), sources
            for source in sources:
                if source.startswith("/static-offline-docs/"):
                    assert client.get(source).status_code == 200
        answer = client.get("/healthz")
        assert answer.headers["x-frame-options"] == "DENY"
        assert "script-src 'none'" in answer.headers["content-security-policy"]
