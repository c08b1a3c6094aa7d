"""The PKI's HTTP faces on a real HTTP server, checked with openssl as a relying party would."""

from __future__ import annotations

import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from tests.issuing import AUTHORITY, ServedPki

pytestmark = pytest.mark.integration


def openssl(*args: str, data: bytes | None = None) -> subprocess.CompletedProcess[Any]:
    return subprocess.run(
        ["openssl", *args], input=data, capture_output=True, check=False, text=data is None
    )


def fetch(url: str, body: bytes | None = None, content_type: str = "") -> bytes:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return bytes(response.read())


def test_openssl_ocsp_against_the_running_service_good_then_revoked(
    served_pki: ServedPki, tmp_path: Path
) -> None:
    pki = served_pki.pki
    issued = pki.issue_officer("ocsp.check", "Đỗ Minh Khoa", "Công chức", AUTHORITY.code)
    cert, issuing = tmp_path / "officer.pem", tmp_path / "issuing.pem"
    cert.write_bytes(issued.certificate.public_bytes(Encoding.PEM))
    issuing.write_bytes(pki.ca_certificate("issuing").public_bytes(Encoding.PEM))
    ask = [
        "ocsp",
        "-issuer",
        str(issuing),
        "-cert",
        str(cert),
        "-url",
        f"{served_pki.base_url}/pki/ocsp",
        "-CAfile",
        str(served_pki.root_pem),
    ]

    good = openssl(*ask)
    assert good.returncode == 0, good.stderr
    assert f"{cert}: good" in good.stdout
    assert "Response verify OK" in good.stderr

    pki.revoke(issued.certificate.serial_number, "keyCompromise")
    revoked = openssl(*ask)
    assert revoked.returncode == 0, revoked.stderr
    assert f"{cert}: revoked" in revoked.stdout
    assert "Reason: keyCompromise" in revoked.stdout
    assert "Revocation Time:" in revoked.stdout

    crl = tmp_path / "issuing.crl"
    crl.write_bytes(fetch(f"{served_pki.base_url}/pki/crl/issuing.crl"))
    listed = openssl(
        "crl",
        "-inform",
        "DER",
        "-in",
        str(crl),
        "-CAfile",
        str(issuing),
        "-verify",
        "-noout",
        "-text",
    )
    assert listed.returncode == 0, listed.stderr
    assert "verify OK" in listed.stderr
    assert f"{issued.certificate.serial_number:X}" in listed.stdout.replace(":", "").upper()


def test_openssl_timestamp_from_the_running_tsa_verifies(
    served_pki: ServedPki, tmp_path: Path
) -> None:
    data = tmp_path / "data.txt"
    data.write_bytes("Chứng thực bản sao".encode())
    query = openssl("ts", "-query", "-data", str(data), "-sha256", "-cert", data=b"")
    assert query.returncode == 0
    reply = tmp_path / "reply.tsr"
    reply.write_bytes(
        fetch(f"{served_pki.base_url}/pki/tsa", query.stdout, "application/timestamp-query")
    )
    chain = tmp_path / "chain.pem"
    chain.write_bytes(served_pki.pki.ca_certificate("issuing").public_bytes(Encoding.PEM))
    verified = openssl(
        "ts",
        "-verify",
        "-data",
        str(data),
        "-in",
        str(reply),
        "-CAfile",
        str(served_pki.root_pem),
        "-untrusted",
        str(chain),
    )
    assert verified.returncode == 0, verified.stderr
    assert "Verification: OK" in verified.stdout + verified.stderr
