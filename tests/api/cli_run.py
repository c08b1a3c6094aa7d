"""Running the `certify` command as an operator does: a subprocess with its own environment."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from storage.minio_server import MinioServer


def run(
    env: dict[str, str], *args: str, password: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``certify ARGS``; with ``password``, it is given on standard input (--password-fd 0)."""
    if password is not None:
        args = (*args, "--password-fd", "0")
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env=env,
        input=None if password is None else password + "\n",
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def cli_env(minio_server: MinioServer, tmp_path: Path) -> dict[str, str]:
    """The environment of a `certify` command on the session's MinIO, with buckets of its
    own, and its data directory under ``tmp_path / "var"``."""
    suffix = secrets.token_hex(4)
    return {
        **os.environ,
        "CERTIFY_DATA_DIR": str(tmp_path / "var"),
        "CERTIFY_S3_ENDPOINT": minio_server.endpoint,
        "CERTIFY_S3_ACCESS_KEY": minio_server.access_key,
        "CERTIFY_S3_SECRET_KEY": minio_server.secret_key,
        "CERTIFY_SCANS_BUCKET": f"scans-{suffix}",
        "CERTIFY_COPIES_BUCKET": f"copies-{suffix}",
        "CERTIFY_COPIES_RETENTION_DAYS": "1",
    }
