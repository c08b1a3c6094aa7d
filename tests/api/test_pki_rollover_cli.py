"""`certify pki renew tsa|ocsp|issuing` as an administrator runs it (issue 14)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.api.cli_run import run

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _env(tmp_path: Path) -> dict[str, str]:
    """A demo deployment of its own (the PKI commands need no object store)."""
    return {
        **os.environ,
        "CERTIFY_DATA_DIR": str(tmp_path / "var"),
        "CERTIFY_DEPLOYMENT": "demo",
    }


def _bilingual_error(stderr: str, code: str) -> None:
    assert f"certify: {code}: " in stderr
    message = stderr.split(f"certify: {code}: ", 1)[1].splitlines()[0]
    vietnamese, english = message.split(" / ", 1)
    assert vietnamese and english
    assert "Traceback" not in stderr


def test_renew_tsa_ocsp_and_issuing_from_the_command_line(tmp_path: Path) -> None:
    env = _env(tmp_path)
    before = run(env, "pki", "renew", "tsa")
    assert before.returncode == 2
    _bilingual_error(before.stderr, "pki_not_initialised")

    init = run(env, "pki", "init", "--province", "Đồng Nai", "--algorithm", "ecdsa-p256")
    assert init.returncode == 0, init.stderr

    tsa = run(env, "pki", "renew", "tsa")
    assert tsa.returncode == 0, tsa.stderr
    assert tsa.stdout.startswith("certify: renewed tsa (tsa): certificate ")
    assert "subject: CN=Time Stamping Authority - Đồng Nai" in tsa.stdout
    assert "issuer: CN=Provincial Root CA - Đồng Nai," in tsa.stdout  # the root certifies TSAs
    assert " UTC to " in tsa.stdout

    ocsp = run(env, "pki", "renew", "ocsp")
    assert ocsp.returncode == 0, ocsp.stderr
    assert ocsp.stdout.count("certify: renewed ocsp") == 1

    issuing = run(env, "pki", "renew", "issuing")
    assert issuing.returncode == 0, issuing.stderr
    lines = issuing.stdout.splitlines()
    assert lines[0].startswith("certify: renewed issuing (issuing-g2): certificate ")
    assert "subject: CN=Provincial Issuing CA - Đồng Nai G2," in issuing.stdout
    assert "certify: renewed ocsp (ocsp)" in issuing.stdout
    assert "issuer: CN=Provincial Issuing CA - Đồng Nai G2," in issuing.stdout

    refused = run(env, "pki", "renew", "root")
    assert refused.returncode == 2
    _bilingual_error(refused.stderr, "unknown_renewal")

    # New certificates come from the new CA; the old ones stay listed.
    seal = run(env, "pki", "issue-authority", "--code", "TP01", "--name", "UBND phường Tân Phú")
    assert seal.returncode == 0, seal.stderr
    listed = run(env, "pki", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    kinds = [(r["kind"], r["holder"], r["issuer"], r["status"]) for r in rows]
    assert kinds == [
        ("root", "root", "root", "valid"),
        ("issuing", "issuing", "root", "valid"),
        ("ocsp", "ocsp", "issuing", "valid"),
        ("tsa", "tsa", "root", "valid"),
        ("tsa", "tsa", "root", "valid"),
        ("ocsp", "ocsp", "issuing", "valid"),
        ("issuing", "issuing-g2", "root", "valid"),
        ("ocsp", "ocsp", "issuing-g2", "valid"),
        ("authority", "TP01", "issuing-g2", "valid"),
    ]
