"""``certify audit verify`` on a real register (SQLite) and MinIO, as an operator runs it.

The register is made by ``certify demo``, copies are issued and cancelled with ``certify
issue`` and ``certify cancel``, and the audit table is then tampered with through sqlite3
directly, behind the service's back. An edited event is named; a deleted event in the middle
breaks the link of the event after the gap, which is named. Deleting the *newest* events
cannot be seen from the chain alone (what is left is a valid, shorter chain): that is what the
printed head hash is for, so the test asserts that the head changed.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from storage.minio_server import MinioServer
from tests.api.cli_run import cli_env, run
from tests.issuing import scan_jpeg

pytestmark = [pytest.mark.integration, pytest.mark.slow]

INTACT = re.compile(r"^certify: .*audit chain intact: (\d+) events, head ([0-9a-f]{64})$")
BROKEN = re.compile(
    r"^certify: .*audit chain BROKEN at event (\d+) "
    r"\((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00), ([a-z.]+)\)$"
)


def audit_verify(env: dict[str, str]) -> tuple[int, str]:
    """Exit status and the one line ``certify audit verify`` prints."""
    done = run(env, "audit", "verify")
    assert done.returncode in (0, 1), done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout
    return done.returncode, lines[0]


def intact(env: dict[str, str]) -> tuple[int, str]:
    """(event count, head hash) of an intact chain."""
    status, line = audit_verify(env)
    match = INTACT.match(line)
    assert status == 0 and match, line
    return int(match.group(1)), match.group(2)


def broken_at(env: dict[str, str]) -> tuple[int, str, str]:
    """(event id, action) of the first broken event, and the line that names it."""
    status, line = audit_verify(env)
    match = BROKEN.match(line)
    assert status == 1 and match, line
    return int(match.group(1)), match.group(3), line


def copy_db(source: Path, target: Path) -> None:
    """Copy a SQLite database (WAL included) with the backup API."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def test_audit_verify_finds_edits_and_gaps_but_needs_the_head_for_a_cut_tail(
    minio_server: MinioServer, tmp_path: Path
) -> None:
    env = cli_env(minio_server, tmp_path)
    db = tmp_path / "var" / "certify.db"
    demo = run(env, "demo", "--json")
    assert demo.returncode == 0, demo.stderr
    password = {o["username"]: o["password"] for o in json.loads(demo.stdout)["officers"]}
    assert intact(env) == (0, "0" * 64)  # an empty chain: the genesis hash

    scan = tmp_path / "scan.jpg"
    scan.write_bytes(scan_jpeg())

    def issue(name: str) -> dict[str, object]:
        done = run(
            env,
            "issue",
            *("--authority", "dn-tanphu", "--certifier", "hong.nt"),
            *("--document-name", "Giấy khai sinh", "--scan", str(scan)),
            *("--requester", "Phạm Văn Dũng", "--out", str(tmp_path / name), "--json"),
            password=password["hong.nt"],
        )
        assert done.returncode == 0, done.stderr
        issued: dict[str, object] = json.loads(done.stdout)
        return issued

    first = issue("first.pdf")
    count, head_one = intact(env)
    assert count == 1

    issue("second.pdf")
    cancelled = run(
        env,
        "cancel",
        *("--authority", "dn-tanphu", "--year", str(first["book"])[3:7], "--number", "1"),
        *("--reason", "Chứng thực sai thẩm quyền"),
    )
    assert cancelled.returncode == 0, cancelled.stderr
    count, head = intact(env)
    assert count == 3 and head != head_one
    with sqlite3.connect(db) as conn:
        events = conn.execute("SELECT id, action, subject, details FROM audit_events").fetchall()
    conn.close()
    assert [(e[0], e[1]) for e in events] == [
        (1, "copy.issued"),
        (2, "copy.issued"),
        (3, "copy.cancelled"),
    ]
    pristine = tmp_path / "pristine.db"
    copy_db(db, pristine)

    # 1. An event's details edited in place: that event is named, by id, time and action
    # only (never its subject or details).
    with sqlite3.connect(db) as conn:
        conn.execute(
            'UPDATE audit_events SET details = replace(details, \'"number":"2"\', '
            '\'"number":"7"\') WHERE id = 2'
        )
    conn.close()
    event, action, line = broken_at(env)
    assert (event, action) == (2, "copy.issued")
    for _, _, subject, details in events:
        assert subject not in line and details not in line
    assert "Phạm Văn Dũng" not in line

    # 2. An event in the middle deleted: the next event's link is broken, and it is named.
    copy_db(pristine, db)
    assert intact(env) == (3, head)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM audit_events WHERE id = 2")
    conn.close()
    assert broken_at(env)[:2] == (3, "copy.cancelled")

    # 3. The newest event deleted: what is left is a valid chain, one event shorter. Only a
    # head published before (the hash printed above) shows that something is gone.
    copy_db(pristine, db)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM audit_events WHERE id = 3")
    conn.close()
    count, cut_head = intact(env)
    assert count == 2
    assert cut_head != head
