"""An imported certificate's revocation data comes from its own CA, fetched before signing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from fastapi import FastAPI, Response

from certify.errors import KeyMaterialError
from keys.ca import ProvincialPKI
from keys.errors import CertificateRevokedError
from keys.imports import import_pem
from keys.signers import SignerSource
from storage.minio_server import free_port
from tests.foreign_ca import ForeignCA, key_pem, pem
from tests.issuing import serve_in_thread
from tests.keys.conftest import BASE_URL


@pytest.fixture
def foreign() -> Iterator[ForeignCA]:
    port = free_port()
    ca = ForeignCA(f"http://127.0.0.1:{port}")
    app = FastAPI()

    @app.get("/foreign/{name}.crl")
    def crl(name: str) -> Response:
        return Response(ca.crl(name), media_type="application/pkix-crl")

    with serve_in_thread(app, port):
        yield ca


def _imported(tmp_path: Path, ca: ForeignCA) -> tuple[SignerSource, x509.Certificate]:
    pki = ProvincialPKI.init(
        tmp_path / "pki",
        province="Đà Nẵng",
        passphrase=b"pw",
        base_url=BASE_URL,
        algorithm="ecdsa-p256",
    )
    key, cert = ca.leaf("Trần Thị B")
    import_pem(
        pki,
        key_pem(key),
        None,
        pem(cert, ca.sub, ca.root),
        kind="officer",
        holder="ttb",
        authority_code="DN01",
    )
    return SignerSource(pki), cert


def test_the_imported_cas_crls_go_into_the_copy(tmp_path: Path, foreign: ForeignCA) -> None:
    source, cert = _imported(tmp_path, foreign)
    chain, _, crls = source.revocation_material(certs=[cert])
    issuers = {c.issuer.human_friendly for c in crls}
    assert "Common Name: Foreign Sub CA, Country: VN" in issuers  # the leaf's CRL
    assert "Common Name: Foreign Root CA, Country: VN" in issuers  # the sub-CA's CRL
    dumped = {c.dump() for c in chain}
    for c in (cert, foreign.sub, foreign.root):
        assert asn1_x509.Certificate.load(c.public_bytes(Encoding.DER)).dump() in dumped


def test_a_revoked_imported_certificate_cannot_sign(tmp_path: Path, foreign: ForeignCA) -> None:
    source, cert = _imported(tmp_path, foreign)
    foreign.revoked.add(cert.serial_number)
    with pytest.raises(CertificateRevokedError):
        source.revocation_material(certs=[cert])


def test_an_unreachable_ca_stops_signing_with_a_clear_code(tmp_path: Path) -> None:
    dead = ForeignCA(f"http://127.0.0.1:{free_port()}")  # nothing listens there
    source, cert = _imported(tmp_path, dead)
    with pytest.raises(KeyMaterialError) as exc:
        source.revocation_material(certs=[cert])
    assert exc.value.code == "revocation_unavailable"
    assert "OCSP" in str(exc.value)
