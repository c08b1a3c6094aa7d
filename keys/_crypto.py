"""Private helpers: key generation, signing parameters, encrypted PKCS#8, atomic files.

Internal to ``keys``; the public API is in the other modules (see ``keys/__init__.py``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Any, Literal

from asn1crypto import algos as asn1_algos
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    PrivateKeyTypes,
    PublicKeyTypes,
)
from cryptography.hazmat.primitives.serialization import pkcs12

from keys.errors import UnreadableKeyMaterialError, WrongPassphraseError

Algorithm = Literal["rsa-pss", "ecdsa-p256"]
ALGORITHMS: tuple[Algorithm, ...] = ("rsa-pss", "ecdsa-p256")

# TT 15/2025/TT-BKHCN: RSA >= 2048 bits with RSASSA-PSS, or ECDSA >= 256 bits; SHA-256+.
RSA_BITS = 3072
# RFC 4055 §3.1 / RFC 8017 §9.1: salt length equal to the hash output length.
PSS_SALT_LENGTH = 32


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC, whole seconds (X.509 times have no fractions)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def check_algorithm(algorithm: str) -> Algorithm:
    """Return ``algorithm`` if supported. Raises ValueError otherwise."""
    if algorithm == "rsa-pss":
        return "rsa-pss"
    if algorithm == "ecdsa-p256":
        return "ecdsa-p256"
    raise ValueError(f"unsupported algorithm {algorithm!r}; use one of {ALGORITHMS}")


def generate_key(algorithm: Algorithm) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    """A fresh private key of the family ``algorithm`` names."""
    if algorithm == "rsa-pss":
        return rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    return ec.generate_private_key(ec.SECP256R1())


def pss_padding() -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=PSS_SALT_LENGTH)


def x509_sign_kwargs(key: CertificateIssuerPrivateKeyTypes) -> dict[str, Any]:
    """Keyword arguments for cryptography's certificate/CRL builders' ``sign``.

    RSA issuers sign with RSASSA-PSS SHA-256 (TT 15/2025); EC issuers with ECDSA SHA-256.
    """
    if isinstance(key, rsa.RSAPrivateKey):
        return {"algorithm": hashes.SHA256(), "rsa_padding": pss_padding()}
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {"algorithm": hashes.SHA256()}
    raise UnreadableKeyMaterialError("Unsupported issuer key type (RSA or EC P-256 only).")


def raw_sign(key: PrivateKeyTypes, data: bytes) -> bytes:
    """Sign ``data`` with SHA-256: RSASSA-PSS for RSA keys, ECDSA for EC keys."""
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, pss_padding(), hashes.SHA256())
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(hashes.SHA256()))
    raise UnreadableKeyMaterialError("Unsupported key type (RSA or EC P-256 only).")


def asn1_signature_algorithm(key: PrivateKeyTypes) -> asn1_algos.SignedDigestAlgorithm:
    """The ASN.1 AlgorithmIdentifier matching :func:`raw_sign` for ``key``."""
    if isinstance(key, rsa.RSAPrivateKey):
        params = asn1_algos.RSASSAPSSParams(
            {
                "hash_algorithm": {"algorithm": "sha256"},
                "mask_gen_algorithm": {
                    "algorithm": "mgf1",
                    "parameters": {"algorithm": "sha256"},
                },
                "salt_length": PSS_SALT_LENGTH,
                "trailer_field": "trailer_field_bc",
            }
        )
        return asn1_algos.SignedDigestAlgorithm({"algorithm": "rsassa_pss", "parameters": params})
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return asn1_algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"})
    raise UnreadableKeyMaterialError("Unsupported key type (RSA or EC P-256 only).")


def public_key_der(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def same_public_key(a: PublicKeyTypes, b: PublicKeyTypes) -> bool:
    return public_key_der(a) == public_key_der(b)


# PBKDF2-HMAC-SHA256 iterations for keys at rest (OWASP Password Storage Cheat Sheet, 2023:
# 600,000). cryptography's PKCS#8 writer fixes 2,048, so keys are written as PKCS#12 with
# PBES2 (AES-256-CBC) at this cost; PKCS#8 PEM keys written before stay readable.
KEY_KDF_ROUNDS = 600_000


def encrypt_private_key(key: PrivateKeyTypes, passphrase: bytes) -> bytes:
    """DER PKCS#12 holding only ``key``: PBES2, PBKDF2-HMAC-SHA256 at ``KEY_KDF_ROUNDS``
    iterations, AES-256-CBC, an HMAC-SHA256 MAC."""
    if not passphrase:
        raise WrongPassphraseError(
            "Mật khẩu bảo vệ khoá không được để trống. / The key passphrase must not be empty."
        )
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(KEY_KDF_ROUNDS)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(passphrase)
    )
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise UnreadableKeyMaterialError("Unsupported key type (RSA or EC P-256 only).")
    return pkcs12.serialize_key_and_certificates(None, key, None, None, encryption)


def decrypt_private_key(data: bytes, passphrase: bytes) -> PrivateKeyTypes:
    """Load an encrypted key: PKCS#12 (as written now) or PKCS#8 PEM (as written before).

    Raises WrongPassphraseError if the passphrase does not open it, UnreadableKeyMaterialError
    if it is not a key at all.
    """
    if not data.lstrip().startswith(b"-----BEGIN"):
        try:
            key, _cert, _cas = pkcs12.load_key_and_certificates(data, passphrase)
        except ValueError as exc:  # a wrong password fails the MAC: the same error
            raise WrongPassphraseError() from exc
        if key is None:
            raise UnreadableKeyMaterialError()
        return key
    try:
        return serialization.load_pem_private_key(data, password=passphrase)
    except TypeError as exc:  # not encrypted, or no passphrase given
        raise UnreadableKeyMaterialError(
            "Khoá bí mật không được mã hoá như quy định. / The private key is not encrypted."
        ) from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        if b"ENCRYPTED PRIVATE KEY" in data:
            raise WrongPassphraseError() from exc
        raise UnreadableKeyMaterialError() from exc


def write_file(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Write ``data`` atomically: a temp file in the same directory, fsync, os.replace.

    Files are created with ``mode`` (0600 by default) so keys are never world-readable even
    for an instant.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def to_asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def to_asn1_key(key: PrivateKeyTypes) -> asn1_keys.PrivateKeyInfo:
    return asn1_keys.PrivateKeyInfo.load(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def is_self_signed(cert: x509.Certificate) -> bool:
    """True if ``cert`` names itself as issuer and its signature verifies with its own key."""
    if cert.issuer != cert.subject:
        return False
    return issued_by(cert, cert)


def issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """True if ``issuer``'s name and key signed ``cert``."""
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Certificates from PEM (one or several) or a single DER certificate.

    Raises UnreadableKeyMaterialError if nothing can be read.
    """
    try:
        if b"-----BEGIN" in data:
            certs = x509.load_pem_x509_certificates(data)
        else:
            certs = [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise UnreadableKeyMaterialError(
            "Không đọc được chứng thư số (PEM/DER). / Could not read the certificate (PEM/DER)."
        ) from exc
    return certs


def load_certificate_file(path: Path) -> list[x509.Certificate]:
    """Certificates from a PEM or DER file (``keys.ca`` exports it).
    Raises UnreadableKeyMaterialError."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UnreadableKeyMaterialError(f"Cannot read {path}.") from exc
    return load_certificates(data)
