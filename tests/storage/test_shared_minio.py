"""One MinIO per data directory, shared by every certify process and stopped by its last
user (issue 8.5: runs started 0.7 s apart stopped each other's server)."""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import time
from pathlib import Path

import pytest

from storage.minio_server import MinioServer
from storage.objects import MinioObjectStore, ObjectStoreConfig

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _use(data_dir: str, name: str, hold: float, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    server = MinioServer.for_data_dir(Path(data_dir)).attach_or_start()
    try:
        store = MinioObjectStore(
            ObjectStoreConfig(
                endpoint=server.endpoint,
                access_key=server.access_key,
                secret_key=server.secret_key,
                scans_bucket=f"scans-{name}",
                copies_bucket=f"copies-{name}",
                retention_days=1,
            )
        )
        store.ensure_buckets()
        store.put_stream(store.scans_bucket, "page-1", io.BytesIO(b"scan " + name.encode()))
        time.sleep(hold)
        with store.open(store.scans_bucket, "page-1") as fh:
            assert fh.read() == b"scan " + name.encode()
        results.put((name, server.port, "ok"))
    except Exception as exc:
        results.put((name, 0, repr(exc)))
    finally:
        server.release()


def test_staggered_runs_share_one_server_and_the_last_stops_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "minio" / "data"
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    runs = [
        context.Process(target=_use, args=(str(data_dir), f"r{i}", 2.0 - 0.4 * i, results))
        for i in range(4)
    ]
    for run in runs:
        run.start()
        time.sleep(0.5)
    for run in runs:
        run.join(timeout=120)
        assert run.exitcode == 0
    answers = [results.get(timeout=5) for _ in runs]
    assert [a[2] for a in answers] == ["ok"] * 4, answers
    assert len({a[1] for a in answers}) == 1  # one server, one port
    state = data_dir.parent / "data.server.json"
    assert not state.exists()  # the last user stopped it


def test_a_second_user_keeps_the_server_when_the_first_leaves(tmp_path: Path) -> None:
    data_dir = tmp_path / "minio" / "data"
    first = MinioServer.for_data_dir(data_dir).attach_or_start()
    second = MinioServer.for_data_dir(data_dir).attach_or_start()
    assert second.endpoint == first.endpoint and second.process is None
    pid = json.loads((data_dir.parent / "data.server.json").read_text())["pid"]
    first.release()
    os.kill(pid, 0)  # still running: the second user holds it
    second.release()  # the last user: stops it, though the first one started it
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
