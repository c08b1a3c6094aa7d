"""The citizens' side for tests (issue 12): services whose authority has a fee account and a
webhook secret, and helpers that take a booking through the API to a certified copy and
sign the bank's webhook calls."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.services import Services
from certify.webhook_signature import sign
from storage.minio_server import MinioServer
from tests.api.conftest import FixedClock
from tests.api.desk_fixtures import bearer, desk_services, page_files, totp_now
from tests.issuing import AUTHORITY, CERTIFIER, CLERK, ServedPki

WEBHOOK_SECRET = "bí mật webhook của phường Tân Phú"
ACCOUNT = {
    "bank_bin": "970415",
    "account_number": "113366668888",
    "account_name": "UBND PHUONG TAN PHU",
    "webhook_secret": WEBHOOK_SECRET,
}
BOOKING: dict[str, Any] = {
    "authority_code": AUTHORITY.code,
    "requester_name": "Nguyễn Thị Hường",
    "email": "huong.nt@example.vn",
    "phone": "0901234567",
    "originals": [{"document_name": "Giấy khai sinh", "pages": 1, "copies": 2}],
}
ID_NUMBER = "079300004567"


def citizen_services(
    minio_server: MinioServer, served_pki: ServedPki, data_dir: Path, **settings: object
) -> Services:
    """Desk services whose authority (dn-tanphu) takes fees by transfer."""
    settings = {"payment_accounts": {AUTHORITY.code: ACCOUNT}, **settings}
    return desk_services(minio_server, served_pki, data_dir, totp=True, **settings)


@pytest.fixture
def office(minio_server: MinioServer, served_pki: ServedPki, data_dir: Path) -> Iterator[Services]:
    services = citizen_services(minio_server, served_pki, data_dir)
    try:
        yield services
    finally:
        services.close()


@pytest.fixture
def web(office: Services) -> Iterator[TestClient]:
    """The app; redirects are answered as they are."""
    with TestClient(create_app(services=office), follow_redirects=False) as client:
        yield client


def clock(services: Services) -> FixedClock:
    assert isinstance(services.clock, FixedClock)
    return services.clock


def events(services: Services) -> list[tuple[str, str, str, dict[str, str]]]:
    """(actor, action, subject, details) of every audit event, oldest first."""
    path = services.settings.resolved_database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT actor, action, subject, details FROM audit_events ORDER BY id")
        return [(a, b, c, json.loads(d)) for a, b, c, d in rows]


def instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def book(client: TestClient, **changes: Any) -> dict[str, Any]:
    """A booking through the API; its answer."""
    answer = client.post("/api/v1/bookings", json={**BOOKING, **changes})
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


@dataclass(frozen=True)
class Certified:
    """A booking taken through the desk to a certified copy."""

    tracking_code: str  # as stored (no dashes)
    request_code: str
    document_id: str
    fee: int


def certified(client: TestClient, services: Services, **changes: Any) -> Certified:
    """Book, receive by the code, check, scan and certify (TOTP) through the API."""
    clerk = bearer(client, services, CLERK.username)
    certifier = bearer(client, services, CERTIFIER.username)
    code = book(client, **changes)["tracking_code"].replace("-", "")
    received = client.post(
        f"/api/v1/bookings/{code}/receive", json={"requester_id_number": ID_NUMBER}, headers=clerk
    )
    assert received.status_code == 200, received.text
    request_code = received.json()["code"]
    base = f"/api/v1/requests/{request_code}/originals/1"
    assert client.post(f"{base}/check", headers=clerk).is_success
    scan = client.put(f"{base}/scan", files=page_files(1), headers=clerk)
    assert scan.status_code == 200, scan.text
    done = client.post(f"{base}/certify", json={"totp": totp_now(services)}, headers=certifier)
    assert done.status_code == 201, done.text
    document = done.json()["document"]
    # A TOTP code signs once (RFC 6238 §5.2): the next certification is a step later.
    clock(services).at += dt.timedelta(seconds=60)
    return Certified(code, request_code, document["id"], document["fee"])


def webhook(
    client: TestClient,
    services: Services,
    *,
    amount: int,
    reference: str,
    txn: str = "FT26335123456",
    at: dt.datetime | None = None,
    secret: str = WEBHOOK_SECRET,
    authority: str = AUTHORITY.code,
) -> httpx2.Response:
    """A call of the bank's payment webhook, signed with ``secret`` at ``at`` (now)."""
    body = json.dumps(
        {
            "transaction_id": txn,
            "amount": amount,
            "reference": f"{reference} chuyen khoan le phi",
            "account_number": ACCOUNT["account_number"],
        }
    ).encode()
    timestamp = str(int((at or services.clock.now()).timestamp()))
    return client.post(
        f"/api/v1/payments/webhook/{authority}",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Certify-Timestamp": timestamp,
            "X-Certify-Signature": sign(secret.encode("utf-8"), timestamp, body),
        },
    )
