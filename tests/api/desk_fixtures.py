"""Officers at the desk for tests: the seeded clerk and certifier with passwords, the
certifier's enrolled TOTP secret, an admin of the same authority, and helpers to log in
through the API."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from api.app import create_app
from api.services import Services
from certify.ports import OfficerRecord
from storage.minio_server import MinioServer
from tests.api.conftest import seeded_services
from tests.issuing import AUTHORITY, CERTIFIER, CLERK, OTHER_CERTIFIER, ServedPki, scan_jpeg

ADMIN = OfficerRecord("an.pv", "Phạm Văn An", "Chủ tịch UBND phường", "admin", AUTHORITY.code)
PASSWORDS = {
    CERTIFIER.username: "mật khẩu của Hồng 1",
    CLERK.username: "mật khẩu của Lan 2",
    OTHER_CERTIFIER.username: "mật khẩu của Bình 3",
    ADMIN.username: "mật khẩu của An 4",
}
# The certifier's TOTP secret (RFC 6238), enrolled before the tests sign.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def desk_services(
    minio_server: MinioServer,
    served_pki: ServedPki,
    data_dir: Path,
    *,
    totp: bool = True,
    **settings: object,
) -> Services:
    """Seeded services whose officers have passwords, an admin, and (unless ``totp`` is
    False) the certifier's enrolled TOTP secret."""
    services = seeded_services(minio_server, served_pki, data_dir, **settings)
    services.register.add_officer(ADMIN)
    hasher = PasswordHasher()
    for username, password in PASSWORDS.items():
        services.register.set_officer_password(username, hasher.hash(password))
    if totp:
        services.register.set_officer_totp(CERTIFIER.username, TOTP_SECRET)
    return services


def totp_now(services: Services) -> str:
    """The certifier's current code at the services' clock."""
    return pyotp.TOTP(TOTP_SECRET).at(services.clock.now())


def bearer(client: TestClient, services: Services, username: str) -> dict[str, str]:
    """An Authorization header for ``username`` (password, and TOTP when enrolled)."""
    body: dict[str, object] = {
        "username": username,
        "password": PASSWORDS[username],
        "name": "test",
    }
    if username == CERTIFIER.username:
        # The previous step's code (accepted: one step of drift), so that the current one
        # is still unused for signing: a code is accepted once (RFC 6238 §5.2).
        earlier = services.clock.now() - dt.timedelta(seconds=30)
        body["totp"] = pyotp.TOTP(TOTP_SECRET).at(earlier)
    answer = client.post("/api/v1/auth/tokens", json=body)
    assert answer.status_code == 201, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def hidden(page: str, name: str) -> str:
    """The value of hidden form field ``name`` in an HTML page."""
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no hidden field {name}"
    return html.unescape(found.group(1))


def page_login(client: TestClient, username: str) -> str:
    """Log ``username`` in through the login page (the client must not follow redirects);
    the session's CSRF token."""
    form = client.get("/desk/login")
    answer = client.post(
        "/desk/login",
        data={
            "username": username,
            "password": PASSWORDS[username],
            "csrf_token": hidden(form.text, "csrf_token"),
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    page = client.get("/desk/totp")
    assert page.status_code == 200
    return hidden(page.text, "csrf_token")


def page_files(count: int) -> list[tuple[str, tuple[str, io.BytesIO, str]]]:
    """``count`` A4 scan pages as multipart ``files`` fields."""
    return [
        ("files", (f"trang-{n}.jpg", io.BytesIO(scan_jpeg(f"TRANG {n}")), "image/jpeg"))
        for n in range(1, count + 1)
    ]


@pytest.fixture
def desk(minio_server: MinioServer, served_pki: ServedPki, data_dir: Path) -> Iterator[Services]:
    services = desk_services(minio_server, served_pki, data_dir)
    try:
        yield services
    finally:
        services.close()


@pytest.fixture
def client(desk: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=desk)) as client:
        yield client
