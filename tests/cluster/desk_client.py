"""The office desk of the loopback cluster, driven over HTTP through its balancer: the demo's
clerk receives, checks and scans an original, its certifier signs with a TOTP code. Used by
the cluster's tests and fault tests (issue 13.3, 13.4)."""

from __future__ import annotations

import io
from typing import Any

import httpx

from deploy.cluster import DEMO_ADMIN, DEMO_CERTIFIER, DEMO_CLERK, Cluster
from tests.issuing import scan_jpeg


def http_client(cluster: Cluster, *, timeout: float = 120.0) -> httpx.Client:
    """A client of the balancer (no proxy from the environment: it is loopback)."""
    return httpx.Client(base_url=cluster.url, timeout=timeout, trust_env=False)


def bearer(
    http: httpx.Client, cluster: Cluster, username: str, password: str | None = None
) -> dict[str, str]:
    """An Authorization header for ``username``: a demo officer, or one made by
    :func:`add_certifier` (with its ``password``). Certifiers give a TOTP code."""
    body: dict[str, object] = {
        "username": username,
        "password": password or cluster.password(username),
        "name": "cluster test",
    }
    if username == DEMO_CERTIFIER or password is not None:
        body["totp"] = cluster.totp_code(username)
    answer = http.post("/api/v1/auth/tokens", json=body)
    assert answer.status_code == 201, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


class Desk:
    """The demo's clerk and a certifier (the demo's, or one of :func:`add_certifier` with
    its password), logged in through the balancer."""

    def __init__(
        self,
        http: httpx.Client,
        cluster: Cluster,
        certifier: str = DEMO_CERTIFIER,
        password: str | None = None,
    ) -> None:
        self.http = http
        self.cluster = cluster
        self.certifier_name = certifier
        self.clerk = bearer(http, cluster, DEMO_CLERK)
        self.certifier = bearer(http, cluster, certifier, password)

    def scanned(self, name: str = "Giấy khai sinh", *, text: str = "GIẤY KHAI SINH") -> str:
        """A request received with one original of one page, checked and scanned; its code."""
        answer = self.http.post(
            "/api/v1/requests",
            json={
                "requester_name": "Nguyễn Thị Hường",
                "requester_id_number": "079300004567",
                "originals": [{"document_name": name, "pages": 1, "copies": 1}],
            },
            headers=self.clerk,
        )
        assert answer.status_code == 201, answer.text
        code: str = answer.json()["code"]
        checked = self.http.post(f"/api/v1/requests/{code}/originals/1/check", headers=self.clerk)
        assert checked.status_code == 200, checked.text
        page = ("files", ("trang-1.jpg", io.BytesIO(scan_jpeg(text)), "image/jpeg"))
        upload = self.http.put(
            f"/api/v1/requests/{code}/originals/1/scan", files=[page], headers=self.clerk
        )
        assert upload.status_code == 200, upload.text
        return code

    def certify(self, code: str) -> dict[str, Any]:
        """Sign the request's first original; the document (``DocumentOut``)."""
        answer = self.http.post(
            f"/api/v1/requests/{code}/originals/1/certify",
            json={"totp": self.cluster.totp_code(self.certifier_name)},
            headers=self.certifier,
        )
        assert answer.status_code == 201, answer.text
        document: dict[str, Any] = answer.json()["document"]
        return document

    def download(self, document: dict[str, Any]) -> bytes:
        answer = self.http.get(document["download"], headers=self.clerk)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/pdf"
        return answer.content

    def verdict(self, pdf: bytes) -> str:
        """The public verification's verdict on ``pdf`` (no login)."""
        answer = self.http.post(
            "/api/v1/verify", content=pdf, headers={"Content-Type": "application/pdf"}
        )
        assert answer.status_code == 200, answer.text
        verdict: str = answer.json()["verdict"]
        return verdict


def add_certifier(http: httpx.Client, cluster: Cluster, username: str) -> str:
    """A new certifier of the demo authority, made by its admin through the API, with a
    personal certificate and a TOTP secret (remembered by ``cluster``); their password.

    One certifier signs about twice a minute (a TOTP code is accepted once): a stream of
    certifications needs several.
    """
    admin = bearer(http, cluster, DEMO_ADMIN)
    made = http.post(
        "/api/v1/officers",
        json={
            "username": username,
            "full_name": f"Cán bộ {username}",
            "title": "Phó Chủ tịch UBND phường",
            "roles": ["certifier"],
        },
        headers=admin,
    )
    assert made.status_code == 201, made.text
    password: str = made.json()["initial_password"]
    issued = http.post(f"/api/v1/officers/{username}/certificates", headers=admin)
    assert issued.status_code == 201, issued.text
    cluster.enroll_totp(username, password)
    return password
