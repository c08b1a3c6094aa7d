"""``certify preserve`` as an operator runs it, and the run the service schedules itself
(issue 14.1)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from storage.minio_server import MinioServer
from tests.api.cli_run import cli_env, run
from tests.api.conftest import issue_copy, seeded_services
from tests.issuing import ServedPki, scan_jpeg

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Copies are made due by marking their time-stamps' hash as weakening (the TSA certificate
# of this day's PKI lives 5 years).
WEAK = {"CERTIFY_PRESERVE_WEAK_DIGESTS": "sha256", "CERTIFY_PRESERVE_DIGEST_ALGORITHM": "sha512"}


def test_certify_preserve_renews_what_is_due_then_nothing(
    minio_server: MinioServer, tmp_path: Path
) -> None:
    env = cli_env(minio_server, tmp_path)
    demo = run(env, "demo", "--json")
    assert demo.returncode == 0, demo.stderr
    password = next(o for o in json.loads(demo.stdout)["officers"] if o["role"] == "certifier")
    scan = tmp_path / "scan.jpg"
    scan.write_bytes(scan_jpeg())
    out = tmp_path / "copy.pdf"
    issued = run(
        env,
        "issue",
        "--authority",
        "dn-tanphu",
        "--document-name",
        "Giấy khai sinh",
        "--scan",
        str(scan),
        "--certifier",
        password["username"],
        "--out",
        str(out),
        password=password["password"],
    )
    assert issued.returncode == 0, issued.stderr

    nothing_due = run(env, "preserve", "--json")
    assert nothing_due.returncode == 0, nothing_due.stderr
    report = json.loads(nothing_due.stdout)
    assert (report["inspected"], report["renewed"], report["objects_read"]) == (1, 0, 0)

    weak = {**env, **WEAK}
    renewed = run(weak, "preserve")
    assert renewed.returncode == 0, renewed.stderr
    assert "0 inspected, 1 renewed, 0 failed; 1 objects read, 1 written" in renewed.stdout
    again = run(weak, "preserve", "--json")
    assert json.loads(again.stdout)["renewed"] == 0

    # The copy the citizen holds (the issued version) still verifies, and so does the
    # register against the bucket with its renewed version.
    verified = run(env, "verify", str(out), "--json")
    assert json.loads(verified.stdout)["verdict"] == "genuine", verified.stdout
    consistent = run(env, "check", "--json")
    assert consistent.returncode == 0, consistent.stdout


def test_the_service_runs_preservation_on_its_own(
    minio_server: MinioServer, served_pki: ServedPki, tmp_path: Path
) -> None:
    services = seeded_services(
        minio_server,
        served_pki,
        tmp_path / "var",
        preserve_interval_hours=0.0002,  # under a second
        preserve_weak_digests="sha256",
        preserve_digest_algorithm="sha512",
    )
    try:
        issued = issue_copy(services)
        with TestClient(create_app(services=services)):
            deadline = time.monotonic() + 60
            while services.register.latest_copy_version(issued.entry.id) is None:
                assert time.monotonic() < deadline, "the scheduled run did not renew the copy"
                time.sleep(0.2)
        answer = services.local_verifier().by_token(issued.entry.verification_token)
        assert answer.verdict == "genuine" and answer.stored_version == 1
    finally:
        services.close()
