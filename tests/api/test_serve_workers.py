"""``certify serve --workers N`` (issue 13.1): N worker processes behind one port, each
building its app from the environment, all ready on the session's MinIO and one register."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from storage.minio_server import MinioServer, free_port
from tests.api.cli_run import cli_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid …: the command may hold spaces, so split after ")".
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def test_serve_runs_the_given_number_of_workers(minio_server: MinioServer, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **cli_env(minio_server, tmp_path),
        "CERTIFY_VERIFY_WORKERS": "1",
        "CERTIFY_MAIL_INTERVAL_SECONDS": "0",
        "CERTIFY_CHECK_INTERVAL_HOURS": "0",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--workers", "2", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        ready = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                if ready.status_code == 200 and len(_workers(server.pid)) == 2:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        assert ready is not None and ready.status_code == 200, ready and ready.text
        workers = _workers(server.pid)
        assert len(workers) == 2
        # Both answer: many requests at once are all served.
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            assert all(client.get("/healthz").status_code == 200 for _ in range(40))
    finally:
        server.send_signal(signal.SIGINT)
        try:
            output, _ = server.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            output, _ = server.communicate()
    assert "2 worker processes" in output
    assert server.returncode == 0, output[-3000:]


def _workers(pid: int) -> list[int]:
    """The uvicorn worker processes of ``pid`` (not the resource tracker, nor MinIO)."""
    found = []
    for child in children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"multiprocessing" in cmdline and b"resource_tracker" not in cmdline:
            found.append(child)
    return found
