"""The admin's desk (issue 11.1): officers added, roles granted and withdrawn, officers
deactivated, personal certificates issued and revoked, through the API and the pages, on the
real stack (MinIO, SQLite, the session's test PKI). Each change is in the audit chain; each
refusal (wrong role, another authority, one's own admin role or account, no CSRF token) is
answered as the access rules say and recorded.

The PKI is shared by the session: the officers given certificates here have usernames no
other test uses, and no seeded officer's certificate is ever revoked.
"""

from __future__ import annotations

import html
import json
import re
import sqlite3
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from api.admin_actions import REVOCATION_REASONS, ROLE_ORDER, new_password, parse_serial
from api.services import Services
from certify.access import ROLES
from certify.errors import InvalidInputError
from keys.crl import REASONS
from tests.api.desk_fixtures import ADMIN, PASSWORDS, bearer, client, desk, page_login
from tests.issuing import AUTHORITY, CERTIFIER, CLERK, OTHER_AUTHORITY, OTHER_CERTIFIER

pytestmark = pytest.mark.integration
__all__ = ["client", "desk"]  # fixtures

Event = tuple[str, str, str, dict[str, str]]


def events(services: Services) -> list[Event]:
    """(actor, action, subject, details) of every audit event, oldest first."""
    path = services.settings.resolved_database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT actor, action, subject, details FROM audit_events ORDER BY id")
        return [(a, b, c, json.loads(d)) for a, b, c, d in rows]


def recorded(services: Services, action: str) -> list[Event]:
    return [e for e in events(services) if e[1] == action]


def new_officer(username: str, *roles: str) -> dict[str, object]:
    return {
        "username": username,
        "full_name": "Lê Thị Mai",
        "title": "Công chức Tư pháp - Hộ tịch",
        "roles": list(roles) or ["clerk"],
    }


def token_for(client: TestClient, username: str, password: str) -> httpx2.Response:
    return client.post(
        "/api/v1/auth/tokens", json={"username": username, "password": password, "name": "t"}
    )


def pki_record(services: Services, serial_hex: str) -> tuple[str, str, str]:
    """(kind, holder, status) of ``serial_hex`` in the PKI's list."""
    pki = services.pki()
    assert pki is not None
    found = [r for r in pki.list() if r.serial == int(serial_hex, 16)]
    assert len(found) == 1
    return found[0].kind, found[0].holder, found[0].status


def officer_json(client: TestClient, headers: dict[str, str], username: str) -> dict[str, Any]:
    answer = client.get("/api/v1/officers", headers=headers)
    assert answer.status_code == 200, answer.text
    (found,) = [o for o in answer.json() if o["username"] == username]
    return dict(found)


# --- the API --------------------------------------------------------------------------------


def test_admin_adds_an_officer_grants_issues_revokes_and_withdraws(
    client: TestClient, desk: Services
) -> None:
    admin = bearer(client, desk, ADMIN.username)

    answer = client.post("/api/v1/officers", json=new_officer("mai.lt", "clerk"), headers=admin)
    assert answer.status_code == 201, answer.text
    added = answer.json()
    assert added["roles"] == ["clerk"]
    assert added["active"] and added["has_password"] and not added["totp_enrolled"]
    assert added["certificates"] == []
    password = added["initial_password"]
    assert re.fullmatch(r"([a-z2-9]{5}-){3}[a-z2-9]{5}", password)
    # The initial password logs in, and only its hash is kept.
    assert token_for(client, "mai.lt", password).status_code == 201
    assert desk.register.get_officer_login("mai.lt").password_hash != password
    assert "initial_password" not in officer_json(client, admin, "mai.lt")

    answer = client.post("/api/v1/officers/mai.lt/roles", json={"role": "certifier"}, headers=admin)
    assert answer.status_code == 200, answer.text
    assert answer.json()["roles"] == ["clerk", "certifier"]
    assert desk.register.roles_of("mai.lt") == {"clerk", "certifier"}

    answer = client.post("/api/v1/officers/mai.lt/certificates", headers=admin)
    assert answer.status_code == 201, answer.text
    serial = answer.json()["serial"]
    assert answer.json()["status"] == "valid"
    assert pki_record(desk, serial) == ("officer", "mai.lt", "valid")
    listed = officer_json(client, admin, "mai.lt")["certificates"]
    assert [c["serial"] for c in listed] == [serial]

    answer = client.post(
        f"/api/v1/certificates/{serial}/revoke",
        json={"reason": "affiliationChanged"},
        headers=admin,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "revoked"
    assert answer.json()["revocation_reason"] == "affiliationChanged"
    assert pki_record(desk, serial) == ("officer", "mai.lt", "revoked")
    pki = desk.pki()
    assert pki is not None
    assert int(serial, 16) in {c.serial_number for c in pki.crl()}

    answer = client.delete("/api/v1/officers/mai.lt/roles/certifier", headers=admin)
    assert answer.status_code == 200, answer.text
    assert answer.json()["roles"] == ["clerk"]

    admin_events = [
        (action, subject, details)
        for actor, action, subject, details in events(desk)
        if actor == ADMIN.username and action not in ("token_created", "login")
    ]
    assert admin_events == [
        (
            "officer_added",
            "officer:mai.lt",
            {"authority": AUTHORITY.code, "roles": "clerk", "title": "Công chức Tư pháp - Hộ tịch"},
        ),
        ("role_granted", "officer:mai.lt", {"authority": AUTHORITY.code, "role": "certifier"}),
        (
            "certificate_issued",
            f"certificate:{serial}",
            {"authority": AUTHORITY.code, "holder": "mai.lt"},
        ),
        (
            "certificate_revoked",
            f"certificate:{serial}",
            {"authority": AUTHORITY.code, "holder": "mai.lt", "reason": "affiliationChanged"},
        ),
        ("role_withdrawn", "officer:mai.lt", {"authority": AUTHORITY.code, "role": "certifier"}),
    ]


def test_the_list_shows_the_authoritys_officers_only(client: TestClient, desk: Services) -> None:
    answer = client.get("/api/v1/officers", headers=bearer(client, desk, ADMIN.username))
    assert answer.status_code == 200, answer.text
    officers = {o["username"]: o for o in answer.json()}
    assert set(officers) == {CERTIFIER.username, CLERK.username, ADMIN.username}
    hong = officers[CERTIFIER.username]
    assert "certifier" in hong["roles"] and hong["totp_enrolled"]
    assert any(c["status"] == "valid" for c in hong["certificates"])
    assert officers[CLERK.username]["certificates"] == []


def test_a_deactivated_officer_can_no_longer_use_the_api(
    client: TestClient, desk: Services
) -> None:
    admin = bearer(client, desk, ADMIN.username)
    clerk = bearer(client, desk, CLERK.username)
    assert client.get("/api/v1/me", headers=clerk).status_code == 200

    answer = client.post(f"/api/v1/officers/{CLERK.username}/deactivate", headers=admin)
    assert answer.status_code == 200, answer.text
    assert answer.json()["active"] is False

    assert client.get("/api/v1/me", headers=clerk).status_code == 401
    assert token_for(client, CLERK.username, PASSWORDS[CLERK.username]).status_code == 403
    assert recorded(desk, "officer_deactivated") == [
        (ADMIN.username, "officer_deactivated", "officer:lan.tt", {"authority": AUTHORITY.code})
    ]


def test_a_clerk_is_refused_with_role_required(client: TestClient, desk: Services) -> None:
    clerk = bearer(client, desk, CLERK.username)
    attempts = [
        client.get("/api/v1/officers", headers=clerk),
        client.post("/api/v1/officers", json=new_officer("tuan.nv"), headers=clerk),
        client.post(
            f"/api/v1/officers/{CLERK.username}/roles", json={"role": "admin"}, headers=clerk
        ),
        client.post(f"/api/v1/officers/{CERTIFIER.username}/certificates", headers=clerk),
    ]
    for answer in attempts:
        assert answer.status_code == 403, answer.text
        assert answer.json()["error"] == "role_required"
    assert desk.register.roles_of(CLERK.username) == {"clerk"}
    refused = recorded(desk, "admin_refused")
    assert len(refused) == len(attempts)
    assert all(e[0] == CLERK.username and e[3]["reason"] == "role_required" for e in refused)
    assert [e[3]["attempted"] for e in refused] == [
        "officers_listed",
        "officer_added",
        "role_granted",
        "certificate_issued",
    ]


def test_an_admin_of_another_authority_gets_404(client: TestClient, desk: Services) -> None:
    desk.register.grant_role(OTHER_CERTIFIER.username, "admin")
    other = bearer(client, desk, OTHER_CERTIFIER.username)
    pki = desk.pki()
    assert pki is not None
    hong_serial = pki.find("officer", CERTIFIER.username).serial

    listed = client.get("/api/v1/officers", headers=other)
    assert listed.status_code == 200
    assert [o["username"] for o in listed.json()] == [OTHER_CERTIFIER.username]

    attempts = [
        client.post(
            f"/api/v1/officers/{CLERK.username}/roles", json={"role": "admin"}, headers=other
        ),
        client.delete(f"/api/v1/officers/{CERTIFIER.username}/roles/certifier", headers=other),
        client.post(f"/api/v1/officers/{CLERK.username}/deactivate", headers=other),
        client.post(f"/api/v1/officers/{CERTIFIER.username}/certificates", headers=other),
        client.post(
            f"/api/v1/certificates/{hong_serial:x}/revoke",
            json={"reason": "keyCompromise"},
            headers=other,
        ),
    ]
    for answer in attempts:
        assert answer.status_code == 404, answer.text
        assert answer.json()["error"] == "not_found"
    # A missing officer answers the same as another authority's.
    missing = client.post("/api/v1/officers/khong.co/deactivate", headers=other)
    assert (missing.status_code, missing.json()) == (404, attempts[2].json())

    assert desk.register.roles_of(CLERK.username) == {"clerk"}
    assert desk.register.roles_of(CERTIFIER.username) == {"certifier"}
    assert desk.register.get_officer_login(CLERK.username).active
    assert pki.record(hong_serial).status == "valid"
    refused = recorded(desk, "admin_refused")
    assert len(refused) == len(attempts) + 1
    assert all(
        e[0] == OTHER_CERTIFIER.username
        and e[3] == {**e[3], "authority": OTHER_AUTHORITY.code, "reason": "not_found"}
        for e in refused
    )


def test_an_admin_cannot_withdraw_their_own_admin_role_nor_deactivate_themselves(
    client: TestClient, desk: Services
) -> None:
    admin = bearer(client, desk, ADMIN.username)
    answer = client.delete(f"/api/v1/officers/{ADMIN.username}/roles/admin", headers=admin)
    assert answer.status_code == 403
    assert answer.json()["error"] == "own_admin_role"
    answer = client.post(f"/api/v1/officers/{ADMIN.username}/deactivate", headers=admin)
    assert answer.status_code == 403
    assert answer.json()["error"] == "own_account"
    assert desk.register.roles_of(ADMIN.username) == {"admin"}
    assert desk.register.get_officer_login(ADMIN.username).active
    assert [e[3]["reason"] for e in recorded(desk, "admin_refused")] == [
        "own_admin_role",
        "own_account",
    ]

    # Another admin may.
    desk.register.grant_role(CLERK.username, "admin")
    answer = client.delete(
        f"/api/v1/officers/{ADMIN.username}/roles/admin",
        headers=bearer(client, desk, CLERK.username),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["roles"] == []


def test_bad_requests_are_refused_with_their_codes(client: TestClient, desk: Services) -> None:
    admin = bearer(client, desk, ADMIN.username)
    clerk = f"/api/v1/officers/{CLERK.username}"
    cases: list[tuple[str, str, object, int, str]] = [
        ("POST", "/api/v1/officers", new_officer(CLERK.username), 409, "username_taken"),
        ("POST", "/api/v1/officers", new_officer("Bad Name"), 400, "invalid_request"),
        ("POST", "/api/v1/officers", {**new_officer("ha.pt"), "roles": []}, 400, "invalid_request"),
        ("POST", f"{clerk}/roles", {"role": "mayor"}, 400, "invalid_request"),
        ("DELETE", f"{clerk}/roles/mayor", None, 400, "invalid_request"),
        ("POST", f"{clerk}/certificates", None, 409, "not_a_certifier"),
        ("POST", "/api/v1/certificates/abc/revoke", {"reason": "cACompromise"}, 400,
         "invalid_request"),
        ("POST", "/api/v1/certificates/abc/revoke", {"reason": "superseded"}, 404, "not_found"),
        ("POST", "/api/v1/certificates/xyz/revoke", {"reason": "superseded"}, 400,
         "invalid_request"),
    ]  # fmt: skip
    for method, path, body, status, code in cases:
        answer = client.request(method, path, json=body, headers=admin)
        assert (answer.status_code, answer.json()["error"]) == (status, code), (path, answer.text)
        assert " / " in answer.json()["message"]
    # An authority's seal certificate is not an officer's: not found here.
    pki = desk.pki()
    assert pki is not None
    seal = pki.find("authority", AUTHORITY.code).serial
    answer = client.post(
        f"/api/v1/certificates/{seal:x}/revoke", json={"reason": "superseded"}, headers=admin
    )
    assert answer.status_code == 404
    assert pki.record(seal).status == "valid"


def test_the_openapi_documents_the_admin_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/officers",
        "/api/v1/officers/{username}/roles",
        "/api/v1/officers/{username}/roles/{role}",
        "/api/v1/officers/{username}/deactivate",
        "/api/v1/officers/{username}/certificates",
        "/api/v1/certificates/{serial}/revoke",
    ):
        assert path in paths
    assert not any(p.startswith("/desk/admin") for p in paths)


# --- the pages ------------------------------------------------------------------------------


def test_the_admin_page_lists_the_officers_and_acts(client: TestClient, desk: Services) -> None:
    csrf = page_login(client, ADMIN.username)
    page = client.get("/desk/admin")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    for officer in (CERTIFIER, CLERK, ADMIN):
        assert f'id="o-{officer.username}"' in page.text
        assert officer.full_name in page.text
    assert OTHER_CERTIFIER.username not in page.text
    assert "Cán bộ và chứng thư số" in page.text and "Officers and certificates" in page.text
    # No withdraw button for the admin's own admin role.
    assert f"/desk/admin/officers/{ADMIN.username}/roles/admin/withdraw" not in page.text
    assert f"/desk/admin/officers/{CLERK.username}/roles/clerk/withdraw" in page.text
    forms = page.text.count('method="post"')
    assert page.text.count(f'name="csrf_token" value="{csrf}"') == forms  # logout's too

    # Add: the answer is the page with the initial password, never a URL carrying it.
    answer = client.post(
        "/desk/admin/officers",
        data={
            "csrf_token": csrf,
            "username": "thu.hn",
            "full_name": "Hoàng Ngọc Thư",
            "title": "Công chức Tư pháp",
            "roles": ["clerk", "certifier"],
        },
        follow_redirects=False,
    )
    assert answer.status_code == 200, answer.text
    found = re.search(r'<code class="secret" id="initial-password">([^<]+)</code>', answer.text)
    assert found
    assert token_for(client, "thu.hn", html.unescape(found.group(1))).status_code == 201
    assert desk.register.roles_of("thu.hn") == {"clerk", "certifier"}
    again = client.get("/desk/admin")
    assert found.group(1) not in again.text  # shown once

    def post(path: str, **fields: str) -> httpx2.Response:
        return client.post(path, data={"csrf_token": csrf, **fields}, follow_redirects=False)

    answer = post("/desk/admin/officers/thu.hn/roles", role="auditor")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/desk/admin?done=role_granted#o-thu.hn"
    assert "Đã giao vai trò." in client.get(answer.headers["location"]).text
    assert desk.register.roles_of("thu.hn") == {"clerk", "certifier", "auditor"}

    answer = post("/desk/admin/officers/thu.hn/certificates")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/desk/admin?done=certificate_issued#o-thu.hn"
    pki = desk.pki()
    assert pki is not None
    serial = pki.find("officer", "thu.hn").serial
    assert pki_record(desk, f"{serial:x}") == ("officer", "thu.hn", "valid")
    page = client.get("/desk/admin")
    assert f"/desk/admin/certificates/{serial:x}/revoke" in page.text

    answer = post(f"/desk/admin/certificates/{serial:x}/revoke", reason="superseded")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/desk/admin?done=certificate_revoked#o-thu.hn"
    assert pki_record(desk, f"{serial:x}") == ("officer", "thu.hn", "revoked")

    answer = post("/desk/admin/officers/thu.hn/roles/auditor/withdraw")
    assert answer.headers["location"] == "/desk/admin?done=role_withdrawn#o-thu.hn"
    assert desk.register.roles_of("thu.hn") == {"clerk", "certifier"}

    answer = post("/desk/admin/officers/thu.hn/deactivate")
    assert answer.headers["location"] == "/desk/admin?done=officer_deactivated#o-thu.hn"
    assert not desk.register.get_officer_login("thu.hn").active

    actions = [e[1] for e in events(desk) if e[0] == ADMIN.username and e[1] != "login"]
    assert actions == [
        "officer_added",
        "role_granted",
        "certificate_issued",
        "certificate_revoked",
        "role_withdrawn",
        "officer_deactivated",
    ]


def test_the_admin_page_in_english(client: TestClient, desk: Services) -> None:
    page_login(client, ADMIN.username)
    page = client.get("/desk/admin?lang=en")
    assert page.status_code == 200
    assert '<span lang="en">Officers and certificates</span>' in page.text


def test_a_refused_form_shows_the_page_with_the_reason(client: TestClient, desk: Services) -> None:
    csrf = page_login(client, ADMIN.username)
    answer = client.post(
        "/desk/admin/officers",
        data={
            "csrf_token": csrf,
            "username": CLERK.username,
            "full_name": "Trùng Tên",
            "title": "Cán bộ",
            "roles": ["clerk"],
        },
    )
    assert answer.status_code == 409
    assert "Tên đăng nhập này đã được dùng" in answer.text
    assert 'value="Trùng Tên"' in answer.text  # the form keeps what was typed
    answer = client.post(
        f"/desk/admin/officers/{CLERK.username}/certificates", data={"csrf_token": csrf}
    )
    assert answer.status_code == 409
    assert "Chỉ cấp chứng thư số cho người thực hiện chứng thực" in answer.text
    answer = client.post(
        f"/desk/admin/officers/{ADMIN.username}/roles/admin/withdraw", data={"csrf_token": csrf}
    )
    assert answer.status_code == 403
    assert "own_admin_role" in answer.text
    answer = client.post(
        f"/desk/admin/officers/{CLERK.username}/roles", data={"csrf_token": csrf, "role": "mayor"}
    )
    assert answer.status_code == 400
    assert "Vai trò không hợp lệ" in answer.text
    assert desk.register.roles_of(CLERK.username) == {"clerk"}


def test_a_clerk_gets_the_403_page(client: TestClient, desk: Services) -> None:
    csrf = page_login(client, CLERK.username)
    page = client.get("/desk/admin")
    assert page.status_code == 403
    assert "role_required" in page.text
    answer = client.post(
        f"/desk/admin/officers/{CLERK.username}/roles", data={"csrf_token": csrf, "role": "admin"}
    )
    assert answer.status_code == 403
    assert desk.register.roles_of(CLERK.username) == {"clerk"}


def test_an_admin_of_another_authority_gets_the_404_page(
    client: TestClient, desk: Services
) -> None:
    desk.register.grant_role(OTHER_CERTIFIER.username, "admin")
    csrf = page_login(client, OTHER_CERTIFIER.username)
    page = client.get("/desk/admin")
    assert page.status_code == 200
    assert CLERK.username not in page.text
    answer = client.post(
        f"/desk/admin/officers/{CLERK.username}/deactivate", data={"csrf_token": csrf}
    )
    assert answer.status_code == 404
    assert desk.register.get_officer_login(CLERK.username).active


def test_a_post_without_csrf_is_refused(client: TestClient, desk: Services) -> None:
    page_login(client, ADMIN.username)
    for data in ({}, {"csrf_token": "forged"}):
        answer = client.post(
            f"/desk/admin/officers/{CLERK.username}/roles", data={**data, "role": "admin"}
        )
        assert answer.status_code == 403
        assert "csrf_failed" in answer.text
    answer = client.post(
        "/desk/admin/officers",
        data={"username": "x.y", "full_name": "X", "title": "Y", "roles": ["clerk"]},
    )
    assert answer.status_code == 403
    assert "csrf_failed" in answer.text
    assert desk.register.roles_of(CLERK.username) == {"clerk"}
    assert [e[3]["reason"] for e in recorded(desk, "csrf_refused")] == [
        "missing",
        "forged",
        "missing",
    ]
    assert recorded(desk, "role_granted") == recorded(desk, "officer_added") == []


# --- units ----------------------------------------------------------------------------------


def test_roles_and_reasons_match_the_domain_and_the_pki() -> None:
    assert frozenset(ROLE_ORDER) == ROLES
    assert set(REVOCATION_REASONS) <= set(REASONS)


def test_initial_passwords_are_random_and_readable() -> None:
    passwords = {new_password() for _ in range(50)}
    assert len(passwords) == 50
    assert all(not set(p) & set("01ilo") for p in passwords)


def test_serials_are_hexadecimal() -> None:
    assert parse_serial("0x1F") == parse_serial("1f") == 31
    for bad in ("", "xyz", "1" * 41, "-1"):
        with pytest.raises(InvalidInputError):
            parse_serial(bad)
