"""The `certify` command line as an administrator uses it: demo, issue, register print."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pyotp
import pytest

from certify.holidays import DEFAULT_CALENDAR
from storage.minio_server import MinioServer
from tests.api.cli_run import cli_env, run
from tests.issuing import scan_jpeg

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_demo_then_issue_then_register_print(minio_server: MinioServer, tmp_path: Path) -> None:
    env = cli_env(minio_server, tmp_path)
    # Before the demo marks this data directory as a demo, a loopback URL cannot go into
    # copies or certificates.
    scan_first = tmp_path / "first.jpg"
    scan_first.write_bytes(scan_jpeg())
    too_early = run(
        env,
        "issue",
        "--authority",
        "dn-tanphu",
        "--certifier",
        "hong.nt",
        "--document-name",
        "Giấy khai sinh",
        "--scan",
        str(scan_first),
        "--out",
        str(tmp_path / "early.pdf"),
        password="x",
    )
    assert too_early.returncode == 2
    assert "public_url_not_allowed" in too_early.stderr
    no_pki = run(env, "pki", "init", "--province", "Đồng Nai")
    assert no_pki.returncode == 2 and "public_url_not_allowed" in no_pki.stderr

    demo = run(env, "demo", "--json")
    assert demo.returncode == 0, demo.stderr
    made = json.loads(demo.stdout)
    assert {o["role"] for o in made["officers"]} == {"clerk", "certifier", "admin"}
    assert "079" not in demo.stderr  # no personal data in logs

    passwords = {o["username"]: o["password"] for o in made["officers"]}
    scan = tmp_path / "scan.jpg"
    scan.write_bytes(scan_jpeg())
    out = tmp_path / "copy.pdf"
    args = ["--authority", "dn-tanphu", "--document-name", "Giấy khai sinh", "--scan", str(scan)]

    # An --out that cannot be written is refused before a number is taken (the next copy
    # below is still number 1); a serial that is not hexadecimal is a clear error.
    nowhere = run(
        env,
        "issue",
        *args,
        "--certifier",
        "hong.nt",
        "--out",
        str(tmp_path / "no" / "x.pdf"),
        password=passwords["hong.nt"],
    )
    assert nowhere.returncode == 2
    assert "invalid_input" in nowhere.stderr and "Traceback" not in nowhere.stderr
    bad_serial = run(env, "pki", "revoke", "--serial", "zz-12", "--reason", "keyCompromise")
    assert bad_serial.returncode == 2
    assert "hexadecimal" in bad_serial.stderr and "Traceback" not in bad_serial.stderr
    # Anyone at the shell cannot sign as the certifier: her password is needed.
    for wrong in ("", "not her password"):
        forged = run(
            env, "issue", *args, "--certifier", "hong.nt", "--out", str(out), password=wrong
        )
        assert forged.returncode == 2
        assert "certifier_auth_failed" in forged.stderr
        assert not out.exists()
    issued = run(
        env,
        "issue",
        *args,
        "--certifier",
        "hong.nt",
        "--copies",
        "2",
        "--out",
        str(out),
        "--requester",
        "Phạm Văn Dũng",
        "--json",
        password=passwords["hong.nt"],
    )
    assert issued.returncode == 0, issued.stderr
    result = json.loads(issued.stdout)
    assert result["number"] == 1
    assert result["fee"] == 4_000
    assert out.read_bytes().startswith(b"%PDF")
    assert "Phạm Văn Dũng" not in issued.stderr  # personal data never reaches the logs

    # A clerk may not certify; the error is clear and nothing is issued.
    refused = run(
        env,
        "issue",
        *args,
        "--certifier",
        "lan.tt",
        "--out",
        str(tmp_path / "x.pdf"),
        password=passwords["lan.tt"],
    )
    assert refused.returncode == 2
    assert "permission_denied" in refused.stderr
    assert not (tmp_path / "x.pdf").exists()
    with sqlite3.connect(tmp_path / "var" / "certify.db") as db:  # no empty request left
        assert db.execute("SELECT count(*) FROM requests").fetchone() == (1,)
        # the request got its due time from the holiday calendar (certify.deadlines); the
        # CLI runs on the machine's clock, and the shipped calendar covers 2026-2027
        [(received, due)] = db.execute("SELECT received_at, due_at FROM requests").fetchall()
        covered = DEFAULT_CALENDAR.years
        assert (due is not None and due > received) == (int(received[:4]) in covered)

    book = tmp_path / "register.pdf"
    printed = run(
        env,
        "register",
        "print",
        "--authority",
        "dn-tanphu",
        "--year",
        result["book"][3:7],
        "--out",
        str(book),
    )
    assert printed.returncode == 0, printed.stderr
    text = subprocess.run(
        ["pdftotext", str(book), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Khoá sổ năm" in text or "Cả năm" in text

    # certify verify: offline, against the register and the trust roots; exit 0 only if
    # genuine. certify cancel: every verification then answers "cancelled".
    verified = run(env, "verify", str(out), "--json")
    assert verified.returncode == 0, verified.stderr
    answer = json.loads(verified.stdout)
    assert answer["verdict"] == "genuine"
    assert answer["register"]["number"] == 1
    assert "Phạm Văn Dũng" not in verified.stdout + verified.stderr

    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(out.read_bytes() + b"\n% appended\n")
    modified = run(env, "verify", str(tampered))
    assert modified.returncode == 1
    assert modified.stdout.startswith("MODIFIED")

    token = result["verify_url"].rsplit("/", 1)[1]
    cancelled = run(env, "cancel", f"--token={token}", "--reason", "Cấp sai thẩm quyền")
    assert cancelled.returncode == 0, cancelled.stderr
    after = run(env, "verify", str(out), "--json")
    assert after.returncode == 1
    assert json.loads(after.stdout)["register"]["cancelled_reason"] == "Cấp sai thẩm quyền"
    consistent = run(env, "check", "--json")
    assert consistent.returncode == 0, consistent.stdout + consistent.stderr
    assert json.loads(consistent.stdout)["entries"] == 1
    missing = run(env, "verify", str(tmp_path / "nope.pdf"))
    assert missing.returncode == 2
    assert "invalid_input" in missing.stderr

    # Once she enrolls a TOTP second factor (RFC 6238), her password alone signs nothing.
    enrolled = run(
        env, "officer", "totp-enroll", "--username", "hong.nt", password=passwords["hong.nt"]
    )
    assert enrolled.returncode == 0, enrolled.stderr
    secret = enrolled.stdout.split("secret ")[1].split()[0]
    second = tmp_path / "second.pdf"
    issue_again = [*args, "--certifier", "hong.nt", "--out", str(second)]
    no_code = run(env, "issue", *issue_again, password=passwords["hong.nt"])
    assert no_code.returncode == 2 and "certifier_auth_failed" in no_code.stderr
    wrong_code = run(env, "issue", *issue_again, password=passwords["hong.nt"] + "\n000000")
    assert wrong_code.returncode == 2 and not second.exists()
    code = pyotp.TOTP(secret).now()
    with_code = run(env, "issue", *issue_again, password=f"{passwords['hong.nt']}\n{code}")
    assert with_code.returncode == 0, with_code.stderr
    assert second.read_bytes().startswith(b"%PDF")


def test_no_go_and_no_minio_is_one_readable_line(tmp_path: Path) -> None:
    """A newcomer without Go or MinIO gets one line and an exit code, not a traceback; the
    traceback is there with --verbose (issue 9.4)."""
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {
        "PATH": "/usr/bin:/bin",  # no go, no minio
        "HOME": str(empty),
        "GOPATH": str(empty),
        "CERTIFY_DATA_DIR": str(tmp_path / "var"),
    }
    plain = run(env, "reconcile")
    assert plain.returncode == 2
    assert "minio_unavailable" in plain.stderr and "CERTIFY_S3_ENDPOINT" in plain.stderr
    assert "Traceback" not in plain.stderr
    verbose = run(env, "--verbose", "reconcile")
    assert verbose.returncode == 2
    assert "Traceback" in verbose.stderr


def test_invalid_settings_are_one_readable_line(tmp_path: Path) -> None:
    """Settings are read once per command; a bad CERTIFY_* value names itself, no traceback."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "CERTIFY_DATA_DIR": str(tmp_path / "var"),
        "CERTIFY_PORT": "not-a-port",
    }
    done = run(env, "db", "upgrade")
    assert done.returncode == 2
    assert "invalid_settings" in done.stderr and "port" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "var").exists()  # nothing was done
