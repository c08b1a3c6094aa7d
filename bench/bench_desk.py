"""The office desk: what the desk adds to a certification, and how its queue grows.

    .venv/bin/python bench/bench_desk.py [--runs N] [--queue 10,100,400]

One real world (bench/_world.py: PKI served over HTTP, MinIO, SQLite, the service) and the
whole application on it (``api.app.create_app``, driven in-process by Starlette's
TestClient, so no network stack is measured). Measured in the same run:

1. baseline — ``CertificationService.certify_scans`` of a one-page scan, as ``certify issue``
   does it (no request, no desk);
2. desk — the same original through the desk's API: receive the request, check the
   original, upload its scan (intake, previews, MinIO), certify with a TOTP code (read back
   from MinIO, intake again, issue). The ratio desk / baseline is what the desk's steps cost;
3. queue — ``GET /api/v1/requests`` with 10, 100, 400 open requests: ms per call and per
   request listed (how the desk's first page grows with a busy office).

TOTP codes are accepted once per 30-second step (RFC 6238 §5.2), so the service's clock is
moved on by 30 s before each certification; the time-stamps of the signatures are real.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyotp
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _world

from api.app import create_app
from api.services import Services
from api.settings import Settings
from certify.ports import OfficerRecord

CLERK = OfficerRecord("lan.tt", "Trần Thị Lan", "Công chức", "clerk", _world.AUTHORITY.code)
PASSWORD = "bench password"  # noqa: S105 - a throw-away bench officer's
SECRET = pyotp.random_base32()


class MovableClock:
    """The wall clock plus an offset the bench moves (a fresh TOTP step per certification)."""

    def __init__(self) -> None:
        self.offset = dt.timedelta(0)

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset


def token(client: TestClient, username: str, code: str | None = None) -> dict[str, str]:
    body = {"username": username, "password": PASSWORD, "name": "bench", "totp": code}
    answer = client.post("/api/v1/auth/tokens", json=body)
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def receive(client: TestClient, clerk: dict[str, str]) -> str:
    body = {
        "requester_name": "Phạm Văn Dũng",
        "requester_id_number": "079200001234",
        "originals": [{"document_name": "Giấy khai sinh", "pages": 1, "copies": 1}],
    }
    answer = client.post("/api/v1/requests", json=body, headers=clerk)
    answer.raise_for_status()
    code: str = answer.json()["code"]
    return code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=8, help="certifications per mode")
    parser.add_argument("--queue", default="10,100,400", help="open requests in the queue")
    args = parser.parse_args()
    sizes = [int(n) for n in args.queue.split(",")]
    _world.quiet_logs()
    page = _world.text_page_jpeg()

    with (
        tempfile.TemporaryDirectory(prefix="bench-desk-") as tmp,
        _world.build_world(Path(tmp)) as world,
    ):
        hasher = PasswordHasher()
        world.register.add_officer(CLERK, password_hash=hasher.hash(PASSWORD))
        world.register.set_officer_password(_world.CERTIFIER.username, hasher.hash(PASSWORD))
        world.register.set_officer_totp(_world.CERTIFIER.username, SECRET)
        clock = MovableClock()
        settings = Settings(
            data_dir=Path(tmp) / "var",
            public_base_url=world.base_url,
            deployment="demo",
            login_failure_limit_account="",
            login_failure_limit_address="",
        )
        services = Services(
            settings=settings,
            engine=world.register.engine,
            store=world.store,
            clock=clock,
            _pki=world.pki,
            _signers=world.signers,
            _certification=world.service,
        )
        with TestClient(create_app(services=services)) as client:
            clerk = token(client, CLERK.username)
            certifier = token(client, _world.CERTIFIER.username, pyotp.TOTP(SECRET).at(clock.now()))

            def baseline_once(i: int) -> float:
                work = world.workdir(f"base-{i}")
                t0 = time.perf_counter()
                world.service.certify_scans(
                    _world.order(), [io.BytesIO(page)], limits=services.scan_limits(), workdir=work
                )
                return time.perf_counter() - t0

            def desk_once() -> float:
                clock.offset += dt.timedelta(seconds=30)
                t0 = time.perf_counter()
                code = receive(client, clerk)
                client.post(f"/api/v1/requests/{code}/originals/1/check", headers=clerk)
                files = [("files", ("p.jpg", io.BytesIO(page), "image/jpeg"))]
                up = client.put(
                    f"/api/v1/requests/{code}/originals/1/scan", files=files, headers=clerk
                )
                up.raise_for_status()
                done = client.post(
                    f"/api/v1/requests/{code}/originals/1/certify",
                    json={"totp": pyotp.TOTP(SECRET).at(clock.now())},
                    headers=certifier,
                )
                done.raise_for_status()
                return time.perf_counter() - t0

            baseline_once(0)  # warm-up: fonts, signers, validation
            desk_once()
            base: list[float] = []
            desk: list[float] = []
            for i in range(args.runs):  # interleaved: both see the same machine
                base.append(baseline_once(i + 1))
                desk.append(desk_once())
            b, d = statistics.median(base), statistics.median(desk)
            print(f"certification of a 1-page original, median of {args.runs} each:")
            print(f"  baseline  certify_scans (as certify issue)  {b * 1000:7.0f} ms")
            print(f"  desk      receive+check+upload+certify API  {d * 1000:7.0f} ms")
            print(f"  ratio desk / baseline                       {d / b:7.2f}x")

            print("queue (GET /api/v1/requests), median of 5 calls:")
            listed = len(client.get("/api/v1/requests", headers=clerk).json())
            first: float | None = None
            for size in sizes:
                while listed < size:
                    receive(client, clerk)
                    listed += 1
                times = []
                for _ in range(5):
                    t0 = time.perf_counter()
                    answer = client.get("/api/v1/requests", headers=clerk)
                    times.append(time.perf_counter() - t0)
                    answer.raise_for_status()
                ms = statistics.median(times) * 1000
                first = first or ms / size
                print(
                    f"  {size:4d} open requests  {ms:7.1f} ms  {ms / size:5.2f} ms/request  "
                    f"({ms / size / first:4.2f}x the first size's per-request cost)"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
