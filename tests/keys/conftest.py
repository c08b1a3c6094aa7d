"""Fixtures for keys/: one provincial PKI per session in a temp dir, helpers for openssl.

The session PKI is shared: a test that revokes a certificate (or otherwise changes what
others read, such as a key file) takes ``own_pki``, a copy of it in its own directory.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fastapi import FastAPI
from fastapi.testclient import TestClient

from keys.ca import IssuedCertificate, ProvincialPKI

PASSPHRASE = b"test-passphrase-not-secret"
BASE_URL = "http://certify.test"


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> ProvincialPKI:
    """An RSA-PSS provincial PKI with one authority (TP01) and one officer (nva)."""
    directory = tmp_path_factory.mktemp("pki") / "pki"
    pki = ProvincialPKI.init(
        directory,
        province="Thành phố Hồ Chí Minh",
        passphrase=PASSPHRASE,
        base_url=BASE_URL,
    )
    pki.issue_authority("TP01", "UBND phường Tân Phú")
    pki.issue_officer("nva", "Nguyễn Văn A", "Phó Chủ tịch", "TP01")
    return pki


@pytest.fixture
def own_pki(pki: ProvincialPKI, tmp_path: Path) -> ProvincialPKI:
    """A PKI of this test's own: a copy of the session PKI (same CAs, TP01 and nva) in its
    own directory and index, so that what the test revokes or breaks stays there."""
    directory = tmp_path / "own-pki"
    shutil.copytree(pki.directory, directory)
    return ProvincialPKI.open(directory, passphrase=PASSPHRASE, base_url=BASE_URL)


@pytest.fixture(scope="session")
def pem_dir(pki: ProvincialPKI, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """root.pem and issuing.pem for openssl."""
    d = tmp_path_factory.mktemp("pem")
    write_pem(d / "root.pem", pki.ca_certificate("root"))
    write_pem(d / "issuing.pem", pki.ca_certificate("issuing"))
    return d


def write_pem(path: Path, *certs: x509.Certificate) -> Path:
    path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs))
    return path


def openssl(*args: str | Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run openssl; the test reads returncode/stdout/stderr."""
    return subprocess.run(
        ["openssl", *map(str, args)], input=stdin, capture_output=True, check=False, timeout=60
    )


@contextmanager
def pki_client(pki: ProvincialPKI) -> Iterator[TestClient]:
    """A minimal app with only the PKI router and the service's error handlers."""
    from api.errors import install_error_handlers
    from api.routes.pki import router

    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)
    # The router asks app.state.services.pki(), as api.services.Services provides.
    app.state.services = SimpleNamespace(pki=lambda: pki)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def client(pki: ProvincialPKI) -> Iterator[TestClient]:
    """The PKI router over the session PKI."""
    with pki_client(pki) as c:
        yield c


@pytest.fixture
def own_client(own_pki: ProvincialPKI) -> Iterator[TestClient]:
    """The PKI router over this test's own PKI."""
    with pki_client(own_pki) as c:
        yield c


def issue_officer(pki: ProvincialPKI, username: str) -> IssuedCertificate:
    return pki.issue_officer(username, f"Cán bộ {username}", "Công chức Tư pháp", "TP01")


def minimal_pdf() -> bytes:
    """A one-page PDF written by hand (no dependency on the domain's PDF code)."""
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    )
    return out.getvalue()
