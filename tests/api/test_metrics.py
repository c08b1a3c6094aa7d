"""Observability (issue 13.5): ``/metrics`` after verifications, certifications and refusals,
named by route templates and never by a secret of a path; request ids; JSON log lines; the
multiprocess mode of several workers; a dependency that hangs during a scrape."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import values
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from api.log_format import REQUEST_ID_HEADER, JsonFormatter, RequestId, configure_logging
from api.metrics import Metrics
from api.services import Services
from api.settings import Settings
from storage.outbox import OutboxStats
from tests.api.conftest import issue_copy
from tests.api.desk_fixtures import bearer, client, desk, page_files, totp_now
from tests.issuing import AUTHORITY, CERTIFIER, CLERK

__all__ = ["client", "desk"]  # fixtures


def value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples ``name`` whose labels include ``labels``."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


def label_values(text: str, name: str, label: str) -> set[str]:
    return {
        sample.labels[label]
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and label in sample.labels
    }


@pytest.fixture(scope="module")
def verify_client(verify_services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=verify_services)) as client:
        yield client


@pytest.mark.integration
def test_metrics_count_verifications_and_refusals_by_route_template(
    verify_client: TestClient, verify_services: Services
) -> None:
    client = verify_client
    issued = issue_copy(verify_services)
    token = issued.entry.verification_token
    unknown = "NoSuchCode" + "Q" * 16
    link_secret = "link-secret-" + "z" * 20
    tracking = "TRACKINGCODE42"

    assert client.get(f"/api/v1/verify/{token}").json()["verdict"] == "genuine"
    assert client.get(f"/v/{token}").status_code == 200
    upload = client.post("/api/v1/verify", files={"file": ("copy.pdf", issued.pdf)})
    assert upload.json()["verdict"] == "genuine"
    assert client.get(f"/api/v1/verify/{unknown}").json()["verdict"] == "unknown"
    missing = client.post("/api/v1/verify")
    assert (missing.status_code, missing.json()["error"]) == (400, "upload_missing")
    anonymous = client.get("/api/v1/requests")
    assert (anonymous.status_code, anonymous.json()["error"]) == (401, "unauthenticated")
    assert client.get(f"/d/{link_secret}").status_code == 404
    assert client.get(f"/t/{tracking}").status_code == 404
    assert client.get("/no/such/place-9f8e").status_code == 404

    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["content-type"].startswith("text/plain")
    text = answer.text
    for secret in (token, unknown, link_secret, tracking, "place-9f8e"):
        assert secret not in text

    verified = "certify_verifications_total"
    assert value(text, verified, verdict="genuine", source="token") == 2
    assert value(text, verified, verdict="genuine", source="upload") == 1
    assert value(text, verified, verdict="unknown", source="token") == 1
    assert value(text, "certify_verification_duration_seconds_count", source="upload") == 1
    assert value(text, "certify_verification_duration_seconds_count", source="token") == 3

    refused = "certify_refusals_total"
    assert value(text, refused, code="upload_missing", status="400") == 1
    assert value(text, refused, code="unauthenticated", status="401") == 1
    assert value(text, refused, code="not_found", status="404") == 1  # the unknown path

    requests = "certify_http_requests_total"
    assert value(text, requests, method="GET", route="/api/v1/verify/{token}", status="200") == 2
    assert value(text, requests, method="GET", route="/v/{token}", status="200") == 1
    assert value(text, requests, method="POST", route="/api/v1/verify", status="400") == 1
    assert value(text, requests, method="GET", route="/d/{secret}", status="404") == 1
    assert value(text, requests, method="GET", route="/t/{code}", status="404") == 1
    assert value(text, requests, route="unmatched", status="404") == 1
    routes = label_values(text, requests, "route")
    assert all(r == "unmatched" or r.startswith("/") for r in routes), routes
    assert value(text, "certify_http_request_duration_seconds_count", route="/v/{token}") == 1

    assert value(text, "certify_dependency_up", dependency="database") == 1
    assert value(text, "certify_dependency_up", dependency="storage") == 1
    assert AUTHORITY.code in label_values(text, "certify_desk_queue_depth", "authority")
    assert "certify_mail_outbox_pending" in text
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]


@pytest.mark.integration
def test_metrics_count_issued_and_refused_certifications(
    client: TestClient, desk: Services
) -> None:
    clerk = bearer(client, desk, CLERK.username)
    certifier = bearer(client, desk, CERTIFIER.username)
    queue = value(client.get("/metrics").text, "certify_desk_queue_depth", authority=AUTHORITY.code)
    received = client.post(
        "/api/v1/requests",
        json={
            "requester_name": "Nguyễn Thị Hường",
            "requester_id_number": "079300004567",
            "originals": [{"document_name": "Giấy khai sinh", "pages": 1, "copies": 1}],
        },
        headers=clerk,
    )
    assert received.status_code == 201, received.text
    code = received.json()["code"]
    assert client.post(f"/api/v1/requests/{code}/originals/1/check", headers=clerk).is_success
    scan = client.put(
        f"/api/v1/requests/{code}/originals/1/scan", files=page_files(1), headers=clerk
    )
    assert scan.status_code == 200, scan.text
    path = f"/api/v1/requests/{code}/originals/1/certify"
    right = totp_now(desk)
    wrong = "000000" if right != "000000" else "111111"

    text = client.get("/metrics").text
    assert value(text, "certify_desk_queue_depth", authority=AUTHORITY.code) == queue + 1
    refused = client.post(path, json={"totp": wrong}, headers=certifier)
    assert refused.status_code == 403, refused.text
    issued = client.post(path, json={"totp": right}, headers=certifier)
    assert issued.status_code == 201, issued.text

    text = client.get("/metrics").text
    assert code not in text
    certified = "certify_certifications_total"
    assert value(text, certified, outcome="refused", code=refused.json()["error"]) == 1
    assert value(text, certified, outcome="issued") == 1
    assert value(text, "certify_certification_duration_seconds_count", outcome="issued") == 1
    template = "/api/v1/requests/{code}/originals/{position}/certify"
    assert value(text, "certify_http_requests_total", route=template, status="201") == 1


# --- request ids and JSON lines ---------------------------------------------------------------


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    """What the logger ``certify.test`` writes through the JSON formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("certify.test")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def logging_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(RequestId)

    @app.get("/work")
    def work() -> dict[str, str]:  # a plain def: run in a worker thread
        logging.getLogger("certify.test").info("working on it")
        return {"status": "ok"}

    return app


def test_request_id_is_echoed_when_sane_and_made_otherwise(logged: io.StringIO) -> None:
    with TestClient(logging_app()) as client:
        given = client.get("/work", headers={REQUEST_ID_HEADER: "edge-1.req_42"})
        made = client.get("/work")
        too_long = client.get("/work", headers={REQUEST_ID_HEADER: "a" * 65})
        odd = client.get("/work", headers={REQUEST_ID_HEADER: "bad id;<b>"})
    assert given.headers[REQUEST_ID_HEADER] == "edge-1.req_42"
    generated = [r.headers[REQUEST_ID_HEADER] for r in (made, too_long, odd)]
    assert all(len(g) == 32 and int(g, 16) >= 0 for g in generated)
    assert len(set(generated)) == 3

    lines = [json.loads(line) for line in logged.getvalue().splitlines()]
    assert [line["request_id"] for line in lines] == ["edge-1.req_42", *generated]
    first = lines[0]
    assert set(first) == {"time", "level", "logger", "message", "request_id"}
    assert (first["level"], first["logger"], first["message"]) == (
        "INFO",
        "certify.test",
        "working on it",
    )
    assert first["time"].endswith("Z")


def test_json_lines_carry_the_traceback_and_a_redacted_access_line(
    logged: io.StringIO,
) -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("certify.test").exception("failed")
    (line,) = [json.loads(x) for x in logged.getvalue().splitlines()]
    assert line["request_id"] is None
    assert "ValueError: boom" in line["exc_info"]

    secret = "SeCrEtVerificationCode123"
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/v/{secret}?lang=en", "1.1", 200),
        None,
    )
    access = json.loads(JsonFormatter().format(record))
    assert secret not in json.dumps(access)
    assert access["http"] == {"method": "GET", "path": "/v/…?…", "status": 200}


def test_configure_logging_keeps_the_redaction_in_both_formats() -> None:
    text = configure_logging(Settings())
    assert text["loggers"]["uvicorn.access"]["filters"] == ["redact_secrets"]
    assert text["filters"]["redact_secrets"]["()"] == "api.access_log.RedactSecrets"
    assert "root" not in text  # the CLI's own logging stays as it is

    js = configure_logging(Settings(log_format="json"))
    assert js["loggers"]["uvicorn.access"]["filters"] == ["redact_secrets"]
    assert {h["formatter"] for h in js["handlers"].values()} == {"json"}
    assert js["formatters"]["json"]["()"] == "api.log_format.JsonFormatter"
    assert js["root"]["handlers"] == ["default"]


# --- several processes, and a dependency that hangs -------------------------------------------


def test_multiprocess_mode_sums_the_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers (each its own process id, as ``--workers 2`` gives) write to the shared
    directory; ``/metrics`` in either shows the sum."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    workers = []
    for pid, verdict in ((101, "genuine"), (102, "modified")):
        process = values.MultiProcessValue(lambda pid=pid: pid)  # type: ignore[no-untyped-call]
        monkeypatch.setattr(values, "ValueClass", process)
        metrics = Metrics()
        metrics.verification("genuine", "token", 0.2)
        metrics.verification(verdict, "upload", 0.3)
        metrics.error(404, "not_found")
        metrics.request("GET", "/v/{token}", 200, 0.01)
        workers.append(metrics)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "counter_101.db",
        "counter_102.db",
        "histogram_101.db",
        "histogram_102.db",
    ]
    for metrics in workers:
        text = metrics.exposition()[0].decode()
        assert value(text, "certify_verifications_total", verdict="genuine", source="token") == 2
        assert value(text, "certify_verifications_total", verdict="modified") == 1
        assert value(text, "certify_refusals_total", code="not_found") == 2
        assert value(text, "certify_verification_duration_seconds_count", source="upload") == 2
        assert value(text, "certify_http_requests_total", route="/v/{token}") == 2
    values.ValueClass.close_all_files()


class HangingRegister:
    """A register whose database does not answer until released."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def open_request_counts(self) -> dict[str, int]:
        self.release.wait(10)
        return {}

    def outbox_stats(self, now: Any) -> OutboxStats:
        return OutboxStats(pending=0, failing=0, sent=0, oldest_pending_at=None, due=0)


def test_a_hanging_database_makes_the_scrape_say_so() -> None:
    register = HangingRegister()
    services = SimpleNamespace(
        clock=SimpleNamespace(now=lambda: None),
        register=register,
        store=SimpleNamespace(ping=lambda: None),
    )
    metrics = Metrics(lambda: cast(Services, services), read_timeout_seconds=0.2)
    try:
        for _ in range(2):  # the second scrape does not start another read
            text = metrics.exposition()[0].decode()
            assert value(text, "certify_dependency_up", dependency="database") == 0
            assert value(text, "certify_dependency_up", dependency="storage") == 1
            assert "certify_desk_queue_depth" not in text
    finally:
        register.release.set()
