"""The provincial CA: certificates, files at rest, passphrase."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from keys.ca import ProvincialPKI
from keys.errors import KeyUnavailableError, PkiExistsError, WrongPassphraseError
from tests.keys.conftest import BASE_URL, PASSPHRASE, openssl, write_pem


@pytest.mark.integration
@pytest.mark.parametrize(("kind", "holder"), [("authority", "TP01"), ("officer", "nva")])
def test_openssl_verifies_issued_certificates(
    pki: ProvincialPKI, pem_dir: Path, tmp_path: Path, kind: str, holder: str
) -> None:
    cert = write_pem(tmp_path / "leaf.pem", pki.find(kind, holder).certificate)
    res = openssl(
        "verify", "-CAfile", pem_dir / "root.pem", "-untrusted", pem_dir / "issuing.pem", cert
    )
    assert res.returncode == 0, res.stderr
    assert b"OK" in res.stdout


def test_signing_certificate_profile(pki: ProvincialPKI) -> None:
    cert = pki.find("officer", "nva").certificate
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical
    assert ku.value.digital_signature
    assert ku.value.content_commitment
    aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    urls = {d.access_method: d.access_location.value for d in aia}
    assert urls[AuthorityInformationAccessOID.OCSP] == f"{BASE_URL}/pki/ocsp"
    assert urls[AuthorityInformationAccessOID.CA_ISSUERS] == f"{BASE_URL}/pki/ca/issuing.crt"
    cdp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert cdp[0].full_name is not None
    assert cdp[0].full_name[0].value == f"{BASE_URL}/pki/crl/issuing.crl"
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Nguyễn Văn A"
    assert cert.subject.get_attributes_for_oid(NameOID.TITLE)[0].value == "Phó Chủ tịch"
    seal = pki.find("authority", "TP01").certificate
    assert seal.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == (
        "UBND phường Tân Phú"
    )


def test_keys_at_rest_are_encrypted_and_private(pki: ProvincialPKI) -> None:
    keys = list((pki.directory / "private").iterdir())
    assert keys
    for path in [*keys, pki.directory / "index.json"]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for path in keys:
        assert path.suffix == ".p12"
        # Read by openssl, not by us: PBES2 with PBKDF2 at the current recommended cost.
        info = subprocess.run(
            ["openssl", "pkcs12", "-info", "-noout", "-in", str(path), "-passin", "stdin"],
            input=PASSPHRASE + b"\n",
            capture_output=True,
            check=True,
        ).stderr.decode()
        assert "Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 600000" in info, info


def test_keys_written_before_as_pkcs8_stay_readable(own_pki: ProvincialPKI) -> None:
    from cryptography.hazmat.primitives import serialization

    pki = own_pki  # its key file is rewritten: not the shared PKI's
    rec = pki.find("authority", "TP01")
    key = pki.private_key(rec.serial)
    legacy = key.private_bytes(  # what a PKI written before issue 8 holds
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE),
    )
    (pki.directory / "private" / f"{rec.serial:x}.key.pem").write_bytes(legacy)
    again = ProvincialPKI.open(pki.directory, passphrase=PASSPHRASE, base_url=BASE_URL)
    assert again.key_path(rec.serial).suffix == ".pem"
    assert again.private_key(rec.serial).public_key() == key.public_key()


def test_open_with_wrong_passphrase(pki: ProvincialPKI) -> None:
    # The server's configured passphrase is wrong: the server's fault (key_unavailable).
    with pytest.raises(KeyUnavailableError, match="wrong PKI passphrase configured") as exc:
        ProvincialPKI.open(pki.directory, passphrase=b"wrong", base_url=BASE_URL)
    assert isinstance(exc.value.__cause__, WrongPassphraseError)
    again = ProvincialPKI.open(pki.directory, passphrase=PASSPHRASE, base_url=BASE_URL)
    assert {r.serial for r in again.list()} == {r.serial for r in pki.list()}


def test_init_refuses_existing(pki: ProvincialPKI) -> None:
    with pytest.raises(PkiExistsError):
        ProvincialPKI.init(pki.directory, province="X", passphrase=b"x", base_url=BASE_URL)


def test_ecdsa_pki(tmp_path: Path) -> None:
    pki = ProvincialPKI.init(
        tmp_path / "ec",
        province="Hà Nội",
        passphrase=b"pw",
        base_url=BASE_URL,
        algorithm="ecdsa-p256",
    )
    issued = pki.issue_authority("HN01", "UBND phường Ba Đình")
    issued.certificate.verify_directly_issued_by(pki.ca_certificate("issuing"))
    assert issued.certificate.signature_algorithm_oid.dotted_string == "1.2.840.10045.4.3.2"


def test_list_records(pki: ProvincialPKI) -> None:
    kinds = {r.kind for r in pki.list()}
    assert {"root", "issuing", "ocsp", "tsa", "authority", "officer"} <= kinds
    rec = next(r for r in pki.list() if r.holder == "nva")
    assert rec.status == "valid"
    assert rec.not_before.tzinfo is not None
