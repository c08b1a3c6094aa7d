"""The office desk of the loopback cluster, driven over HTTP through its balancer: the demo's
clerk receives, checks and scans an original, its certifier signs with a TOTP code. Used by
the cluster's tests and fault tests (issue 13.3, 13.4)."""

from __future__ import annotations

import copy
import io
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from deploy.cluster import DEMO_ADMIN, DEMO_CERTIFIER, DEMO_CLERK, Cluster
from tests.issuing import scan_jpeg


def http_client(cluster: Cluster, *, timeout: float = 120.0) -> httpx.Client:
    """A client of the balancer (no proxy from the environment: it is loopback)."""
    return httpx.Client(base_url=cluster.url, timeout=timeout, trust_env=False)


# Answers a client retries once: a backend down (the service's 503 with its code) or the
# balancer's own 502, 503, 504; with an error code, i.e. an answer on purpose, not a crash.
RETRIED_STATUSES = frozenset({502, 503, 504})
RETRY_PAUSE_SECONDS = 1.0


def error_code(answer: httpx.Response) -> str | None:
    """The ``error`` of an answer in the service's error shape, else None."""
    try:
        body = answer.json()
    except ValueError:
        return None
    code = body.get("error") if isinstance(body, dict) else None
    return code if isinstance(code, str) else None


@dataclass
class Retries:
    """A client's rule for faults, with what it met: an answer of :data:`RETRIED_STATUSES`
    with an error code is retried once, after a pause; the second answer is final. Shared
    by threads."""

    seen: list[tuple[str, int, str]] = field(default_factory=list)  # (what, status, code)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def once(self, what: str, send: Callable[[], httpx.Response]) -> httpx.Response:
        """``send()``, and ``send()`` again if the first answer is one to retry."""
        answer = send()
        code = error_code(answer)
        if answer.status_code in RETRIED_STATUSES and code is not None:
            with self._lock:
                self.seen.append((what, answer.status_code, code))
            time.sleep(RETRY_PAUSE_SECONDS)
            answer = send()
        return answer


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
        self.retries: Retries | None = None

    def using(self, http: httpx.Client | None = None, retries: Retries | None = None) -> Desk:
        """The same officers (their tokens) through another client, or retrying once as
        ``retries`` says (the fault tests' client); every request, not only the first."""
        other = copy.copy(self)
        other.http = http or self.http
        other.retries = retries
        return other

    def _send(self, what: str, send: Callable[[], httpx.Response]) -> httpx.Response:
        return send() if self.retries is None else self.retries.once(what, send)

    def scanned(self, name: str = "Giấy khai sinh", *, text: str = "GIẤY KHAI SINH") -> str:
        """A request received with one original of one page, checked and scanned; its code."""
        answer = self._send(
            "receive",
            lambda: self.http.post(
                "/api/v1/requests",
                json={
                    "requester_name": "Nguyễn Thị Hường",
                    "requester_id_number": "079300004567",
                    "originals": [{"document_name": name, "pages": 1, "copies": 1}],
                },
                headers=self.clerk,
            ),
        )
        assert answer.status_code == 201, answer.text
        code: str = answer.json()["code"]
        checked = self._send(
            "check",
            lambda: self.http.post(
                f"/api/v1/requests/{code}/originals/1/check", headers=self.clerk
            ),
        )
        assert checked.status_code == 200, checked.text
        scan = scan_jpeg(text)
        upload = self._send(
            "scan",
            lambda: self.http.put(
                f"/api/v1/requests/{code}/originals/1/scan",
                files=[("files", ("trang-1.jpg", io.BytesIO(scan), "image/jpeg"))],
                headers=self.clerk,
            ),
        )
        assert upload.status_code == 200, upload.text
        return code

    def certify_answer(self, code: str) -> httpx.Response:
        """The answer to signing the request's first original, with a fresh TOTP code (also
        when retried: a code is accepted once)."""
        return self._send(
            "certify",
            lambda: self.http.post(
                f"/api/v1/requests/{code}/originals/1/certify",
                json={"totp": self.cluster.totp_code(self.certifier_name)},
                headers=self.certifier,
            ),
        )

    def certify(self, code: str) -> dict[str, Any]:
        """Sign the request's first original; the document (``DocumentOut``)."""
        answer = self.certify_answer(code)
        assert answer.status_code == 201, answer.text
        document: dict[str, Any] = answer.json()["document"]
        return document

    def original(self, code: str) -> dict[str, Any]:
        """The request's first original as the desk shows it (``status``, ``document_id``)."""
        answer = self._send(
            "show", lambda: self.http.get(f"/api/v1/requests/{code}", headers=self.clerk)
        )
        assert answer.status_code == 200, answer.text
        original: dict[str, Any] = answer.json()["originals"][0]
        return original

    def document(self, document_id: str) -> dict[str, Any]:
        """The register entry of an issued copy (``DocumentOut``)."""
        answer = self._send(
            "document",
            lambda: self.http.get(f"/api/v1/documents/{document_id}", headers=self.clerk),
        )
        assert answer.status_code == 200, answer.text
        document: dict[str, Any] = answer.json()
        return document

    def download(self, document: dict[str, Any]) -> bytes:
        answer = self._send(
            "download", lambda: self.http.get(document["download"], headers=self.clerk)
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/pdf"
        return answer.content

    def verdict(self, pdf: bytes) -> str:
        """The public verification's verdict on ``pdf`` (no login)."""
        answer = self._send(
            "verify upload",
            lambda: self.http.post(
                "/api/v1/verify", content=pdf, headers={"Content-Type": "application/pdf"}
            ),
        )
        assert answer.status_code == 200, answer.text
        verdict: str = answer.json()["verdict"]
        return verdict

    def verdict_by_token(self, document: dict[str, Any]) -> str:
        """The public verification's verdict by the copy's verification code (no login)."""
        token = document["verify_url"].rsplit("/", 1)[-1]
        answer = self._send("verify token", lambda: self.http.get(f"/api/v1/verify/{token}"))
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
