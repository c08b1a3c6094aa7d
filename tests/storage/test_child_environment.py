"""A child process (MinIO, go install) never sees the service's secrets (issue 8.3)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from storage.minio_server import MinioServer, child_environment


def test_no_certify_setting_reaches_a_child(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CERTIFY_PKI_PASSPHRASE", "hunter2")
    monkeypatch.setenv("CERTIFY_PKCS11_USER_PIN", "1234")
    monkeypatch.setenv("CERTIFY_S3_SECRET_KEY", "s3cr3t")
    env = child_environment()
    assert not [name for name in env if name.startswith("CERTIFY_")]
    assert env["PATH"] == os.environ["PATH"]


@pytest.mark.integration
def test_minio_runs_without_our_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CERTIFY_PKI_PASSPHRASE", "hunter2")
    server = MinioServer.for_data_dir(tmp_path / "data")
    server.start()
    try:
        assert server.process is not None
        environ = Path(f"/proc/{server.process.pid}/environ").read_bytes()
        assert b"hunter2" not in environ and b"CERTIFY_" not in environ
    finally:
        server.stop()


@pytest.mark.integration
def test_the_cli_creates_private_files(tmp_path: Path) -> None:
    env = {**os.environ, "CERTIFY_DATA_DIR": str(tmp_path / "var")}
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    database = tmp_path / "var" / "certify.db"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
