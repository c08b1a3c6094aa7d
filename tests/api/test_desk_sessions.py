"""Page sessions of the desk (issue 11.1): login with the password, the session cookie, its
idle and absolute limits, logout, CSRF on every POST, a safe ``next``, and TOTP enrolment;
every refusal recorded in the audit chain. Time comes from the services' fixed clock."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pyotp
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.routes.desk_login import LOGIN_CSRF_COOKIE
from api.services import Services
from api.sessions import SESSION_COOKIE, local_path
from certify.errors import InvalidInputError, NotFoundError
from storage.desk_sessions import secret_digest
from storage.minio_server import MinioServer
from storage.sql_register import SqlRegister
from tests.api.conftest import FixedClock, issue_copy
from tests.api.desk_fixtures import PASSWORDS, desk_services
from tests.issuing import AUTHORITY, CERTIFIER, CLERK, ServedPki, seed_register

pytestmark = pytest.mark.integration

IDLE = dt.timedelta(minutes=30)  # the default CERTIFY_SESSION_IDLE_MINUTES


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
    with TestClient(create_app(services=services), follow_redirects=False) as client:
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


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no hidden field {name}"
    return html.unescape(found.group(1))


def set_cookie_header(answer: httpx2.Response, name: str) -> str:
    headers = [h for h in answer.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert len(headers) == 1, answer.headers
    return headers[0]


def login_form(client: TestClient) -> str:
    """The login form's double-submit token (its cookie is now in the client)."""
    page = client.get("/desk/login")
    assert page.status_code == 200
    return hidden(page.text, "csrf_token")


def page_login(
    client: TestClient, username: str, password: str | None = None, **extra: str
) -> httpx2.Response:
    token = login_form(client)
    return client.post(
        "/desk/login",
        data={
            "username": username,
            "password": PASSWORDS[username] if password is None else password,
            "csrf_token": token,
            **extra,
        },
    )


def signed_in(client: TestClient, username: str = CERTIFIER.username) -> str:
    """Log ``username`` in; the session's CSRF token (read from a desk page)."""
    answer = page_login(client, username)
    assert answer.status_code == 303, answer.text
    page = client.get("/desk/totp")
    assert page.status_code == 200
    return hidden(page.text, "csrf_token")


# --- login ----------------------------------------------------------------------------------


def test_login_sets_a_strict_httponly_session_cookie_and_is_audited(
    client: TestClient, services: Services
) -> None:
    answer = page_login(client, CERTIFIER.username)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/desk"
    cookie = set_cookie_header(answer, SESSION_COOKIE)
    attributes = {a.strip().lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/"} <= attributes
    assert "secure" not in attributes  # the test deployment is http://testserver
    # only the secret's SHA-256 is stored
    secret = client.cookies[SESSION_COOKIE]
    path = services.settings.resolved_database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        ids = [r[0] for r in db.execute("SELECT id FROM desk_sessions")]
    assert ids == [secret_digest(secret)]
    actor, action, subject, details = events(services)[-1]
    assert (actor, action, details) == (CERTIFIER.username, "login", {"via": "page"})
    assert subject == f"session:{ids[0][:12]}"
    # the desk shows who is signed in, with their authority, and a logout form
    page = client.get("/desk/totp")
    assert CERTIFIER.full_name in page.text and AUTHORITY.name in page.text
    assert 'action="/desk/logout"' in page.text
    assert page.headers["cache-control"] == "no-store"


def test_login_pages_say_vietnamese_first_and_english_is_remembered(client: TestClient) -> None:
    page = client.get("/desk/login")
    assert '<html lang="vi">' in page.text
    assert page.text.index("Đăng nhập") < page.text.index("Log in")
    english = client.get("/desk/login?lang=en")
    assert '<html lang="en">' in english.text
    assert "certify_lang=en" in set_cookie_header(english, "certify_lang")
    assert '<html lang="en">' in client.get("/desk/login").text
    # no script, nothing inline: the CSP forbids both
    assert "<script" not in page.text and "style=" not in page.text


def test_a_wrong_password_is_refused_and_audited(client: TestClient, services: Services) -> None:
    for username in (CERTIFIER.username, "nobody.here"):
        token = login_form(client)
        answer = client.post(
            "/desk/login", data={"username": username, "password": "wrong", "csrf_token": token}
        )
        assert answer.status_code == 403
        assert "Sai tên đăng nhập hoặc mật khẩu" in answer.text
        assert SESSION_COOKIE not in client.cookies
    failed = [(e[0], e[2]) for e in events(services) if e[1] == "login_failed"]
    assert failed == [
        (CERTIFIER.username, f"officer:{CERTIFIER.username}"),
        ("nobody.here", "officer:nobody.here"),
    ]


def test_failed_logins_are_throttled(client: TestClient, services: Services) -> None:
    for _ in range(3):
        assert page_login(client, CERTIFIER.username, "wrong").status_code == 403
    # the account's limit (3) is reached: even the right password waits now
    throttled = page_login(client, CERTIFIER.username)
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) > 0
    assert SESSION_COOKIE not in client.cookies
    # another officer is not held up
    assert page_login(client, CLERK.username).status_code == 303
    assert [e[1] for e in events(services)].count("login_failed") == 3


def test_with_totp_enrolled_the_page_login_asks_only_the_password(
    client: TestClient, services: Services
) -> None:
    services.register.set_officer_totp(CERTIFIER.username, pyotp.random_base32())
    assert page_login(client, CERTIFIER.username).status_code == 303


def test_the_login_form_needs_its_double_submit_token(
    client: TestClient, services: Services
) -> None:
    form = {"username": CERTIFIER.username, "password": PASSWORDS[CERTIFIER.username]}
    login_form(client)
    missing = client.post("/desk/login", data=form)
    forged = client.post("/desk/login", data=form | {"csrf_token": "x" * 43})
    client.cookies.delete(LOGIN_CSRF_COOKIE, path="/desk/login")
    no_cookie = client.post("/desk/login", data=form | {"csrf_token": "x" * 43})
    for answer in (missing, forged, no_cookie):
        assert answer.status_code == 403
        assert SESSION_COOKIE not in client.cookies
    refused = [e[3]["reason"] for e in events(services) if e[1] == "csrf_refused"]
    assert refused == ["missing", "forged", "forged"]


@pytest.mark.parametrize(
    ("next_path", "location"),
    [
        ("/desk/requests/12?tab=scans", "/desk/requests/12?tab=scans"),
        ("https://evil.example/desk", "/desk"),
        ("//evil.example/desk", "/desk"),
        ("/\\evil.example", "/desk"),
        ("/verify", "/desk"),
        ("/desk/login", "/desk"),
        ("javascript:alert(1)", "/desk"),
    ],
)
def test_next_is_followed_only_to_a_desk_page(
    client: TestClient, next_path: str, location: str
) -> None:
    answer = page_login(client, CERTIFIER.username, next=next_path)
    assert answer.status_code == 303
    assert answer.headers["location"] == location


@pytest.mark.parametrize(
    "hostile",
    ["/desk\r\nSet-Cookie: x=y", "/desk/\t/evil", "http:/desk/x", "/desk@evil", "", None],
)
def test_local_path_refuses_every_way_off_the_desk(hostile: str | None) -> None:
    assert local_path(hostile) == "/desk"


# --- the session ----------------------------------------------------------------------------


def test_without_a_session_a_desk_page_leads_to_the_login(client: TestClient) -> None:
    answer = client.get("/desk/totp")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/desk/login?next=%2Fdesk%2Ftotp"
    client.cookies.set(SESSION_COOKIE, "guessed-secret")
    assert client.get("/desk/totp").headers["location"] == "/desk/login?next=%2Fdesk%2Ftotp"


def test_an_idle_session_expires_leads_to_login_and_is_audited(
    client: TestClient, services: Services
) -> None:
    signed_in(client)
    clock(services).at += IDLE - dt.timedelta(seconds=1)
    assert client.get("/desk/totp").status_code == 200  # in use: the idle time starts again
    clock(services).at += IDLE - dt.timedelta(seconds=1)
    assert client.get("/desk/totp").status_code == 200
    clock(services).at += IDLE + dt.timedelta(seconds=1)
    answer = client.get("/desk/totp")
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert location == "/desk/login?next=%2Fdesk%2Ftotp&expired=1"
    assert SESSION_COOKIE not in client.cookies  # cleared
    actor, action, subject, details = events(services)[-1]
    assert (actor, action, details) == (CERTIFIER.username, "session_expired", {"reason": "idle"})
    assert re.fullmatch(r"session:[0-9a-f]{12}", subject)
    page = client.get(location)
    assert "Phiên làm việc đã hết hạn" in page.text and "Your session has expired" in page.text
    assert hidden(page.text, "next") == "/desk/totp"
    assert services.register.verify_audit_chain()


def test_a_session_ends_at_its_absolute_limit_at_logout_and_with_its_officer(
    register: SqlRegister,
) -> None:
    """The register's part alone, on SQLite and PostgreSQL."""
    seed_register(register)
    now = FixedClock().now()
    hour = dt.timedelta(hours=1)
    record, secret = register.create_desk_session(
        CERTIFIER.username, now=now, idle=IDLE, absolute=hour
    )
    assert record.id == secret_digest(secret) and not record.expired
    assert record.expires_at == now + hour
    assert record.roles == {"certifier"} and record.authority_name == AUTHORITY.name
    for minutes in (20, 40):
        at = now + dt.timedelta(minutes=minutes)
        found = register.find_desk_session(secret, now=at, idle=IDLE)
        assert found is not None and not found.expired and found.last_seen_at == at
    late = register.find_desk_session(secret, now=now + hour, idle=IDLE)
    assert late is not None and late.expired_because == "absolute"
    assert late.last_seen_at == now + dt.timedelta(minutes=40)  # not touched once expired

    clerk, clerk_secret = register.create_desk_session(
        CLERK.username, now=now, idle=IDLE, absolute=hour
    )
    register.end_desk_session(clerk.id, now=now)  # by id, as a logout does
    register.end_desk_session(clerk_secret, now=now + hour)  # idempotent: the first end stays
    ended = register.find_desk_session(clerk_secret, now=now, idle=IDLE)
    assert ended is not None and (ended.expired_because, ended.ended_at) == ("ended", now)

    _, other = register.create_desk_session(CLERK.username, now=now, idle=IDLE, absolute=hour)
    register.set_officer_active(CLERK.username, False)
    gone = register.find_desk_session(other, now=now, idle=IDLE)
    assert gone is not None and (gone.expired_because, gone.officer_active) == ("inactive", False)

    assert register.find_desk_session("never-issued", now=now, idle=IDLE) is None
    assert register.find_desk_session(record.id, now=now, idle=IDLE) is None  # the hash is no key
    with pytest.raises(InvalidInputError):
        register.create_desk_session(CLERK.username, now=now, idle=IDLE, absolute=dt.timedelta(0))
    with pytest.raises(InvalidInputError):
        register.find_desk_session(secret, now=now.replace(tzinfo=None), idle=IDLE)
    with pytest.raises(NotFoundError):
        register.create_desk_session("nobody", now=now, idle=IDLE, absolute=IDLE)


def test_logout_ends_the_session(client: TestClient, services: Services) -> None:
    csrf = signed_in(client)
    secret = client.cookies[SESSION_COOKIE]
    answer = client.post("/desk/logout", data={"csrf_token": csrf})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/desk/login?logged_out=1"
    assert SESSION_COOKIE not in client.cookies
    assert (CERTIFIER.username, "logout") in [(e[0], e[1]) for e in events(services)]
    # the old cookie, replayed, is no use any more
    client.cookies.set(SESSION_COOKIE, secret)
    replay = client.get("/desk/totp")
    assert replay.status_code == 303 and "expired=1" in replay.headers["location"]
    assert events(services)[-1][1:4:2] == ("session_expired", {"reason": "ended"})
    record = services.register.find_desk_session(secret, now=clock(services).now(), idle=IDLE)
    assert record is not None and record.ended_at == clock(services).now()


def test_a_new_login_ends_the_session_it_replaces(client: TestClient, services: Services) -> None:
    signed_in(client)
    first = client.cookies[SESSION_COOKIE]
    page_login(client, CERTIFIER.username)
    assert client.cookies[SESSION_COOKIE] != first
    old = services.register.find_desk_session(first, now=clock(services).now(), idle=IDLE)
    assert old is not None and old.expired_because == "ended"


# --- CSRF -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("submitted", "reason"), [(None, "missing"), ("forged-token", "forged")])
def test_a_post_without_the_sessions_csrf_token_is_refused_and_audited(
    client: TestClient, services: Services, submitted: str | None, reason: str
) -> None:
    signed_in(client)
    data = {} if submitted is None else {"csrf_token": submitted}
    answer = client.post("/desk/logout", data=data)
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("text/html")
    assert "csrf_failed" in answer.text
    assert "mã chống giả mạo" in answer.text and "anti-forgery token" in answer.text
    assert events(services)[-1] == (
        CERTIFIER.username,
        "csrf_refused",
        "/desk/logout",
        {"reason": reason},
    )
    # the session was not ended
    assert client.get("/desk/totp").status_code == 200
    assert services.register.verify_audit_chain()


def test_errors_outside_the_desk_stay_json(client: TestClient) -> None:
    answer = client.get("/api/v1/me")
    assert answer.status_code == 401
    assert answer.json()["error"] == "unauthenticated"
    missing = client.get("/desk/no-such-page")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")


# --- TOTP enrolment -------------------------------------------------------------------------


def enrolment(client: TestClient) -> tuple[str, str, str]:
    """The CSRF token, nonce and offered secret of the enrolment page."""
    page = client.get("/desk/totp")
    assert page.status_code == 200
    assert 'src="data:image/svg+xml;base64,' in page.text
    secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page.text)
    assert secret
    return (
        hidden(page.text, "csrf_token"),
        hidden(page.text, "enrolment"),
        secret.group(1).replace(" ", ""),
    )


def test_totp_enrolment_stores_the_secret_only_with_the_right_code(
    client: TestClient, services: Services
) -> None:
    signed_in(client)
    csrf, nonce, secret = enrolment(client)
    password = PASSWORDS[CERTIFIER.username]
    now = clock(services).now()
    right = pyotp.TOTP(secret).at(now)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    form = {"csrf_token": csrf, "enrolment": nonce, "password": password}
    refused = client.post("/desk/totp", data=form | {"code": wrong})
    assert refused.status_code == 400
    assert services.register.get_officer_login(CERTIFIER.username).totp_secret is None
    bad_password = client.post("/desk/totp", data=form | {"code": right, "password": "wrong"})
    assert bad_password.status_code == 403
    assert services.register.get_officer_login(CERTIFIER.username).totp_secret is None

    done = client.post("/desk/totp", data=form | {"code": right})
    assert done.status_code == 303 and done.headers["location"] == "/desk/totp?enrolled=1"
    assert services.register.get_officer_login(CERTIFIER.username).totp_secret == secret
    assert (CERTIFIER.username, "totp_enrolled") in [(e[0], e[1]) for e in events(services)]
    reasons = [e[3]["reason"] for e in events(services) if e[1] == "totp_enrolment_refused"]
    assert reasons == ["code", "credentials"]
    assert secret not in json.dumps(events(services))  # never in the audit chain

    # the API's login needs the code now
    body = {"username": CERTIFIER.username, "password": password, "name": "máy quét"}
    assert client.post("/api/v1/auth/tokens", json=body).status_code == 403
    assert client.post("/api/v1/auth/tokens", json=body | {"totp": right}).status_code == 201
    # and the page login still does not
    assert page_login(client, CERTIFIER.username).status_code == 303


def test_replacing_an_enrolled_totp_needs_its_current_code(
    client: TestClient, services: Services
) -> None:
    old = pyotp.random_base32()
    services.register.set_officer_totp(CERTIFIER.username, old)
    signed_in(client)
    csrf, nonce, secret = enrolment(client)
    now = clock(services).now()
    form = {
        "csrf_token": csrf,
        "enrolment": nonce,
        "password": PASSWORDS[CERTIFIER.username],
        "code": pyotp.TOTP(secret).at(now),
    }
    assert client.post("/desk/totp", data=form).status_code == 403
    assert services.register.get_officer_login(CERTIFIER.username).totp_secret == old
    answer = client.post("/desk/totp", data=form | {"current_code": pyotp.TOTP(old).at(now)})
    assert answer.status_code == 303
    assert services.register.get_officer_login(CERTIFIER.username).totp_secret == secret


def test_an_enrolment_form_is_good_for_minutes_and_only_in_its_session(
    client: TestClient, services: Services
) -> None:
    signed_in(client)
    csrf, nonce, secret = enrolment(client)
    clock(services).at += dt.timedelta(minutes=11)
    code = pyotp.TOTP(secret).at(clock(services).now())
    form = {"csrf_token": csrf, "enrolment": nonce, "password": PASSWORDS[CERTIFIER.username]}
    assert client.post("/desk/totp", data=form | {"code": code}).status_code == 400
    assert services.register.get_officer_login(CERTIFIER.username).totp_secret is None
    # another session (a new login) cannot confirm a secret offered to the first one
    csrf2 = signed_in(client)
    form2 = form | {"csrf_token": csrf2, "code": code}
    clock(services).at -= dt.timedelta(minutes=5)
    assert client.post("/desk/totp", data=form2).status_code == 400
    assert services.register.get_officer_login(CERTIFIER.username).totp_secret is None


# --- download links (issue 11.3) ------------------------------------------------------------


def test_a_download_link_keeps_only_its_hash_and_expires(services: Services) -> None:
    register, now = services.register, clock(services).now()
    with pytest.raises(NotFoundError):
        register.create_download_link(
            "no-such-copy", created_by=CLERK.username, now=now, lifetime=dt.timedelta(hours=72)
        )
    issued = issue_copy(services)
    record, secret = register.create_download_link(
        issued.entry.id, created_by=CLERK.username, now=now, lifetime=dt.timedelta(hours=72)
    )
    assert len(secret) >= 43 and record.id == secret_digest(secret)
    found = register.find_download_link(secret)
    assert found == record and found.document_id == issued.entry.id
    assert found.usable(now + dt.timedelta(hours=71))
    assert not found.usable(now + dt.timedelta(hours=72))
    assert register.find_download_link(secret[:-1]) is None
    assert register.find_download_link(record.id) is None  # the stored hash opens nothing
