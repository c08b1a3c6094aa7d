"""Importing certificates from another CA: each refusal has its own error."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from keys.ca import ProvincialPKI
from keys.errors import (
    CertificateExpiredError,
    IncompleteChainError,
    KeyMismatchError,
    WrongKeyUsageError,
    WrongPassphraseError,
)
from keys.imports import import_pem, import_pkcs12
from keys.signers import SignerSource
from tests.keys.conftest import BASE_URL

NOW = dt.datetime.now(dt.UTC)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


class ForeignCA:
    """A small external CA (standing in for Ban Cơ yếu Chính phủ)."""

    def __init__(self) -> None:
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.root = self._cert(
            _name("Foreign Root"),
            self.root_key.public_key(),
            ca=True,
            issuer=_name("Foreign Root"),
            key=self.root_key,
        )
        self.sub_key = ec.generate_private_key(ec.SECP256R1())
        self.sub = self._cert(
            _name("Foreign Sub CA"),
            self.sub_key.public_key(),
            ca=True,
            issuer=self.root.subject,
            key=self.root_key,
        )

    def _cert(
        self,
        subject: x509.Name,
        public_key: ec.EllipticCurvePublicKey,
        *,
        ca: bool = False,
        issuer: x509.Name | None = None,
        key: ec.EllipticCurvePrivateKey | None = None,
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
        signing: bool = True,
        eku: list[x509.ObjectIdentifier] | None = None,
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer or self.sub.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or NOW - dt.timedelta(days=1))
            .not_valid_after(not_after or NOW + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=signing and not ca,
                    content_commitment=signing and not ca,
                    key_encipherment=not signing,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=ca,
                    crl_sign=ca,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
        )
        if eku:
            builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
        return builder.sign(key or self.sub_key, hashes.SHA256())

    def leaf(self, **kwargs: object) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = ec.generate_private_key(ec.SECP256R1())
        return key, self._cert(_name("Trần Thị B"), key.public_key(), **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def fresh_pki(tmp_path: Path) -> ProvincialPKI:
    return ProvincialPKI.init(
        tmp_path / "pki",
        province="Đà Nẵng",
        passphrase=b"pw",
        base_url=BASE_URL,
        algorithm="ecdsa-p256",
    )


def _pem(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def _key_pem(key: ec.EllipticCurvePrivateKey, password: bytes | None = None) -> bytes:
    enc: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)


def test_import_pem_and_sign(fresh_pki: ProvincialPKI) -> None:
    ca = ForeignCA()
    key, cert = ca.leaf()
    issued = import_pem(
        fresh_pki,
        _key_pem(key, b"k"),
        b"k",
        _pem(cert, ca.sub, ca.root),
        kind="officer",
        holder="ttb",
        authority_code="DN01",
    )
    assert issued.chain == (ca.sub, ca.root)
    assert ca.root in fresh_pki.trust_roots()
    signer = SignerSource(fresh_pki).officer_signer("ttb")
    assert signer.signing_cert is not None
    assert signer.signing_cert.dump() == cert.public_bytes(serialization.Encoding.DER)
    # The key is re-stored encrypted with the PKI passphrase.
    stored = fresh_pki.key_path(cert.serial_number)
    assert stored.suffix == ".p12"
    assert not stored.read_bytes().startswith(b"-----BEGIN")  # not the PEM given in


def test_import_pkcs12(fresh_pki: ProvincialPKI) -> None:
    ca = ForeignCA()
    key, cert = ca.leaf()
    p12 = pkcs12.serialize_key_and_certificates(
        b"b", key, cert, [ca.sub, ca.root], serialization.BestAvailableEncryption(b"p12pw")
    )
    with pytest.raises(WrongPassphraseError):
        import_pkcs12(fresh_pki, p12, b"wrong", kind="authority", holder="DN02")
    issued = import_pkcs12(fresh_pki, p12, b"p12pw", kind="authority", holder="DN02")
    assert fresh_pki.find("authority", "DN02").serial == issued.serial


def test_mismatched_key(fresh_pki: ProvincialPKI) -> None:
    ca = ForeignCA()
    _, cert = ca.leaf()
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(KeyMismatchError):
        import_pem(
            fresh_pki,
            _key_pem(other),
            None,
            _pem(cert, ca.sub, ca.root),
            kind="officer",
            holder="x",
        )


@pytest.mark.parametrize(
    "window",
    [
        (NOW - dt.timedelta(days=400), NOW - dt.timedelta(days=1)),
        (NOW + dt.timedelta(days=1), NOW + dt.timedelta(days=400)),
    ],
    ids=["expired", "not-yet-valid"],
)
def test_expired_or_not_yet_valid(
    fresh_pki: ProvincialPKI, window: tuple[dt.datetime, dt.datetime]
) -> None:
    ca = ForeignCA()
    key, cert = ca.leaf(not_before=window[0], not_after=window[1])
    with pytest.raises(CertificateExpiredError):
        import_pem(
            fresh_pki, _key_pem(key), None, _pem(cert, ca.sub, ca.root), kind="officer", holder="x"
        )


@pytest.mark.parametrize("variant", ["tls-only-ku", "server-auth-eku"])
def test_wrong_key_usage(fresh_pki: ProvincialPKI, variant: str) -> None:
    ca = ForeignCA()
    if variant == "tls-only-ku":
        key, cert = ca.leaf(signing=False)
    else:
        key, cert = ca.leaf(eku=[ExtendedKeyUsageOID.SERVER_AUTH])
    with pytest.raises(WrongKeyUsageError):
        import_pem(
            fresh_pki, _key_pem(key), None, _pem(cert, ca.sub, ca.root), kind="officer", holder="x"
        )


def test_incomplete_chain(fresh_pki: ProvincialPKI) -> None:
    ca = ForeignCA()
    key, cert = ca.leaf()
    with pytest.raises(IncompleteChainError, match="Foreign Sub CA"):
        import_pem(fresh_pki, _key_pem(key), None, _pem(cert, ca.root), kind="officer", holder="x")
    with pytest.raises(IncompleteChainError):  # root missing and not trusted
        import_pem(fresh_pki, _key_pem(key), None, _pem(cert, ca.sub), kind="officer", holder="x")
    assert len(fresh_pki.trust_roots()) == 1
