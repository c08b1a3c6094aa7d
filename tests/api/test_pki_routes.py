"""The PKI's HTTP faces as wired by create_app: before and after `certify pki init`."""

from __future__ import annotations

import pytest
from cryptography import x509
from fastapi.testclient import TestClient

from api.app import create_app
from api.secrets import local_pki_passphrase
from api.services import Services
from keys.ca import ProvincialPKI

pytestmark = pytest.mark.integration


def test_pki_routes_answer_503_until_the_pki_exists_then_serve_it(services: Services) -> None:
    settings = services.settings
    with TestClient(create_app(services=services)) as client:
        before = client.get("/pki/ca/root.crt")
        assert before.status_code == 503
        assert before.json()["error"] == "pki_not_initialised"
        # one code, one status, wherever the missing PKI is met (here: verification)
        verify = client.get("/api/v1/verify/" + "A" * 32)
        assert (verify.status_code, verify.json()["error"]) == (503, "pki_not_initialised")

        ProvincialPKI.init(
            settings.resolved_pki_dir,
            province="Đồng Nai",
            passphrase=local_pki_passphrase(settings),
            base_url=settings.resolved_public_base_url,
        )
        after = client.get("/pki/ca/root.crt")
        assert after.status_code == 200
        root = x509.load_der_x509_certificate(after.content)
        assert root.subject == root.issuer
        crl = client.get("/pki/crl/issuing.crl")
        assert crl.status_code == 200
        assert x509.load_der_x509_crl(crl.content).issuer != root.subject
        assert client.post("/pki/ocsp", content=b"\x30\x03garbage").status_code == 400


def test_local_passphrase_is_private_and_stable(services: Services) -> None:
    first = local_pki_passphrase(services.settings)
    assert first == local_pki_passphrase(services.settings)
    path = services.settings.data_dir / "secrets" / "pki-passphrase"
    assert path.stat().st_mode & 0o777 == 0o600
    assert len(first) >= 32
