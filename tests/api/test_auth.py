"""Officers and the API: bearer tokens made with password (and TOTP), throttled failures,
revocation, roles and authorities, every step in the audit chain (issue 11.1)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.services import Services
from certify.access import Principal, require
from certify.errors import NotFoundError, PermissionDeniedError
from storage.minio_server import MinioServer
from tests.api.conftest import FixedClock
from tests.api.desk_fixtures import PASSWORDS, desk_services
from tests.issuing import CERTIFIER, CLERK, OTHER_CERTIFIER, ServedPki

pytestmark = pytest.mark.integration


@pytest.fixture
def services(
    minio_server: MinioServer, served_pki: ServedPki, data_dir: Path
) -> Iterator[Services]:
    services = desk_services(
        minio_server,
        served_pki,
        data_dir,
        totp=False,
        login_failure_limit_account="3/15 minutes",
        login_failure_limit_address="10/15 minutes",
    )
    try:
        yield services
    finally:
        services.close()


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=services)) as client:
        yield client


def login(client: TestClient, username: str, **extra: object) -> dict[str, str]:
    answer = client.post(
        "/api/v1/auth/tokens",
        json={"username": username, "password": PASSWORDS[username], "name": "desk", **extra},
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, str] = answer.json()
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def actions(services: Services) -> list[tuple[str, str]]:
    """(actor, action) of every audit event, oldest first."""
    path = services.settings.resolved_database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        return [tuple(r) for r in db.execute("SELECT actor, action FROM audit_events ORDER BY id")]


def test_a_token_is_made_with_the_password_shown_once_and_says_who_it_is(
    client: TestClient, services: Services
) -> None:
    made = login(client, CERTIFIER.username)
    assert made["token"].startswith("ctk_") and len(made["token"]) > 40
    assert made["expires_at"].startswith("2026-12-31")  # 30 days after the fixed clock
    me = client.get("/api/v1/me", headers=bearer(made["token"]))
    assert me.status_code == 200
    assert me.json() == {
        "username": CERTIFIER.username,
        "full_name": CERTIFIER.full_name,
        "title": CERTIFIER.title,
        "authority_code": CERTIFIER.authority_code,
        "roles": ["certifier"],
    }
    # only the token's hash is kept
    path = services.settings.resolved_database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        stored = db.execute("SELECT token_sha256 FROM api_tokens").fetchall()
    assert len(stored) == 1 and made["token"] not in str(stored)
    assert (CERTIFIER.username, "token_created") in actions(services)
    assert services.register.verify_audit_chain()


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Basic eDp5"}, {"Authorization": "Bearer "}, bearer("ctk_guessed")],
)
def test_no_usable_token_is_401_with_a_bearer_challenge(
    client: TestClient, headers: dict[str, str]
) -> None:
    answer = client.get("/api/v1/me", headers=headers)
    assert answer.status_code == 401
    assert answer.json()["error"] == "unauthenticated"
    assert answer.headers["WWW-Authenticate"] == "Bearer"


def test_wrong_passwords_are_refused_alike_counted_and_throttled(
    client: TestClient, services: Services
) -> None:
    for username in (CERTIFIER.username, "nobody.here"):
        wrong = client.post(
            "/api/v1/auth/tokens",
            json={"username": username, "password": "wrong", "name": "x"},
        )
        assert (wrong.status_code, wrong.json()["error"]) == (403, "login_failed")
    for _ in range(2):
        client.post(
            "/api/v1/auth/tokens",
            json={"username": CERTIFIER.username, "password": "wrong", "name": "x"},
        )
    # 3 failures for the account: even the right password waits now
    throttled = client.post(
        "/api/v1/auth/tokens",
        json={"username": CERTIFIER.username, "password": PASSWORDS[CERTIFIER.username]}
        | {"name": "x"},
    )
    assert (throttled.status_code, throttled.json()["error"]) == (429, "login_throttled")
    assert int(throttled.headers["Retry-After"]) > 0
    # another officer is not held up by her account's failures
    login(client, CLERK.username)
    failed = [a for a in actions(services) if a[1] == "login_failed"]
    assert failed.count((CERTIFIER.username, "login_failed")) == 3
    assert ("nobody.here", "login_failed") in failed


def test_with_totp_enrolled_the_code_is_needed(client: TestClient, services: Services) -> None:
    secret = pyotp.random_base32()
    services.register.set_officer_totp(CERTIFIER.username, secret)
    body = {"username": CERTIFIER.username, "password": PASSWORDS[CERTIFIER.username]}
    assert client.post("/api/v1/auth/tokens", json=body | {"name": "x"}).status_code == 403
    bad = body | {"name": "x", "totp": "000000"}
    assert client.post("/api/v1/auth/tokens", json=bad).status_code == 403
    # the service's clock is fixed: the code is the one for that moment
    code = pyotp.TOTP(secret).at(services.clock.now())
    assert login(client, CERTIFIER.username, totp=code)["token"]


def test_a_revoked_or_expired_token_is_refused_and_the_attempt_recorded(
    client: TestClient, services: Services
) -> None:
    first = login(client, CERTIFIER.username)
    second = login(client, CERTIFIER.username, days=1)
    gone = client.delete(f"/api/v1/auth/tokens/{first['id']}", headers=bearer(first["token"]))
    assert gone.status_code == 204
    assert client.get("/api/v1/me", headers=bearer(first["token"])).status_code == 401
    assert (CERTIFIER.username, "token_revoked") in actions(services)
    assert (CERTIFIER.username, "token_refused") in actions(services)
    assert isinstance(services.clock, FixedClock)
    services.clock.at += dt.timedelta(days=1, seconds=1)
    assert client.get("/api/v1/me", headers=bearer(second["token"])).status_code == 401
    assert actions(services).count((CERTIFIER.username, "token_refused")) == 2
    assert services.register.verify_audit_chain()


def test_only_an_admin_of_the_same_authority_revokes_anothers_token(
    client: TestClient, services: Services
) -> None:
    target = login(client, CERTIFIER.username)
    clerk = login(client, CLERK.username)["token"]
    stranger = login(client, OTHER_CERTIFIER.username)["token"]
    url = f"/api/v1/auth/tokens/{target['id']}"
    # another authority: as if the token did not exist
    assert client.delete(url, headers=bearer(stranger)).status_code == 404
    services.register.grant_role(OTHER_CERTIFIER.username, "admin")
    assert client.delete(url, headers=bearer(stranger)).status_code == 404
    # the same authority without the admin role
    refused = client.delete(url, headers=bearer(clerk))
    assert (refused.status_code, refused.json()["error"]) == (403, "role_required")
    services.register.grant_role(CLERK.username, "admin")
    assert client.delete(url, headers=bearer(clerk)).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(target["token"])).status_code == 401
    me = client.get("/api/v1/me", headers=bearer(clerk)).json()
    assert me["roles"] == ["admin", "clerk"]


def test_access_rules_without_http() -> None:
    clerk = Principal("lan.tt", "dn-tanphu", frozenset({"clerk"}))
    require(clerk, authority_code="dn-tanphu", role="clerk")
    with pytest.raises(NotFoundError):
        require(clerk, authority_code="dn-binhda", role="clerk")
    with pytest.raises(PermissionDeniedError) as exc:
        require(clerk, authority_code="dn-tanphu", role="certifier")
    assert exc.value.code == "role_required"
