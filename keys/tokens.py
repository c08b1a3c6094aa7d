"""Keys on PKCS#11 tokens (HSMs, USB tokens, SoftHSM2 in tests).

A key is generated on the token and never leaves it; the CA certifies its public key
(``ProvincialPKI.issue_officer(..., public_key=..., key_ref=key_uri(...))``) and signing goes
through pyHanko's :class:`pyhanko.sign.pkcs11.PKCS11Signer`. Keys are named by RFC 7512
URIs of the form ``pkcs11:token=LABEL;object=KEY_LABEL``.
"""

from __future__ import annotations

import hashlib
import threading
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import pkcs11
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from pkcs11 import Attribute, KeyType, ObjectClass
from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters
from pkcs11.util.rsa import encode_rsa_public_key

from keys._crypto import RSA_BITS, Algorithm, check_algorithm
from keys.errors import TokenError

_lock = threading.Lock()


@dataclass(frozen=True)
class TokenConfig:
    """Where a token is: the PKCS#11 module, the token label, and the user PIN."""

    module: str
    token_label: str
    user_pin: str = field(repr=False)


def key_uri(token_label: str, key_label: str) -> str:
    """An RFC 7512 PKCS#11 URI naming ``key_label`` on ``token_label``."""
    q = urllib.parse.quote
    return f"pkcs11:token={q(token_label, safe='')};object={q(key_label, safe='')}"


def parse_key_uri(uri: str) -> tuple[str, str]:
    """(token label, key label) of a URI made by :func:`key_uri`. Raises TokenError."""
    if not uri.startswith("pkcs11:"):
        raise TokenError(f"Not a PKCS#11 URI: {uri!r}.")
    parts = dict(p.split("=", 1) for p in uri[len("pkcs11:") :].split(";") if "=" in p)
    try:
        return urllib.parse.unquote(parts["token"]), urllib.parse.unquote(parts["object"])
    except KeyError:
        raise TokenError(f"PKCS#11 URI lacks token or object: {uri!r}.") from None


def _token(config: TokenConfig) -> Any:
    try:
        lib = pkcs11.lib(config.module)
        return lib.get_token(token_label=config.token_label)
    except (pkcs11.PKCS11Error, RuntimeError, OSError) as exc:
        raise TokenError(
            f"Không tìm thấy thiết bị ký số “{config.token_label}”. / "
            f"PKCS#11 token “{config.token_label}” not found."
        ) from exc


def open_session(config: TokenConfig, *, rw: bool = False) -> Any:
    """An open, logged-in session on the token (caller closes it). Raises TokenError."""
    token = _token(config)
    try:
        try:
            return token.open(rw=rw, user_pin=config.user_pin)
        except pkcs11.UserAlreadyLoggedIn:
            # The login is per application, not per session: a long-lived signing session of
            # this process is logged in already. A session opened without logging in shares
            # that login, and closing it does not log the other one out.
            return token.open(rw=rw)
    except pkcs11.PinIncorrect as exc:
        raise TokenError("Sai mã PIN của thiết bị ký số. / Wrong token PIN.") from exc
    except pkcs11.PKCS11Error as exc:
        raise TokenError() from exc


def generate_key(
    config: TokenConfig, key_label: str, *, algorithm: str = "rsa-pss"
) -> PublicKeyTypes:
    """Generate a non-extractable signing key pair on the token; return its public key.

    RSA-3072 for "rsa-pss", EC P-256 for "ecdsa-p256" (TT 15/2025). Raises TokenError, also
    if a key with ``key_label`` already exists.
    """
    alg: Algorithm = check_algorithm(algorithm)
    key_id = hashlib.sha256(key_label.encode()).digest()[:16]
    with _lock, open_session(config, rw=True) as session:
        if list(
            session.get_objects(
                {Attribute.LABEL: key_label, Attribute.CLASS: ObjectClass.PRIVATE_KEY}
            )
        ):
            raise TokenError(
                f"Khoá “{key_label}” đã có trên thiết bị. / Key “{key_label}” already exists."
            )
        private_template = {
            Attribute.SENSITIVE: True,
            Attribute.EXTRACTABLE: False,
            Attribute.SIGN: True,
            Attribute.PRIVATE: True,
        }
        try:
            if alg == "rsa-pss":
                session.generate_keypair(
                    KeyType.RSA,
                    RSA_BITS,
                    label=key_label,
                    id=key_id,
                    store=True,
                    private_template=private_template,
                )
            else:
                params = session.create_domain_parameters(
                    KeyType.EC,
                    {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")},
                    local=True,
                )
                params.generate_keypair(
                    label=key_label, id=key_id, store=True, private_template=private_template
                )
        except pkcs11.PKCS11Error as exc:
            raise TokenError("Không tạo được khoá trên thiết bị. / Key generation failed.") from exc
    return public_key(config, key_label)


def public_key(config: TokenConfig, key_label: str) -> PublicKeyTypes:
    """The public key of the key pair ``key_label``. Raises TokenError if absent."""
    with open_session(config) as session:
        try:
            pub = session.get_key(object_class=ObjectClass.PUBLIC_KEY, label=key_label)
        except (pkcs11.NoSuchKey, pkcs11.MultipleObjectsReturned) as exc:
            raise TokenError(
                f"Không tìm thấy khoá “{key_label}” trên thiết bị. / "
                f"Key “{key_label}” not found on the token."
            ) from exc
        if pub.key_type == KeyType.RSA:
            spki = asn1_keys.PublicKeyInfo(
                {
                    "algorithm": {"algorithm": "rsa"},
                    "public_key": asn1_keys.RSAPublicKey.load(encode_rsa_public_key(pub)),
                }
            ).dump()
        elif pub.key_type == KeyType.EC:
            spki = encode_ec_public_key(pub)
        else:
            raise TokenError("Chỉ hỗ trợ khoá RSA/EC. / Only RSA and EC keys are supported.")
    return serialization.load_der_public_key(spki)


def store_certificate(config: TokenConfig, key_label: str, cert: x509.Certificate) -> None:
    """Put ``cert`` on the token next to its key (same label and id). Raises TokenError."""
    der = cert.public_bytes(serialization.Encoding.DER)
    asn1_cert = asn1_x509.Certificate.load(der)
    key_id = hashlib.sha256(key_label.encode()).digest()[:16]
    with _lock, open_session(config, rw=True) as session:
        try:
            session.create_object(
                {
                    Attribute.CLASS: ObjectClass.CERTIFICATE,
                    Attribute.CERTIFICATE_TYPE: pkcs11.CertificateType.X_509,
                    Attribute.TOKEN: True,
                    Attribute.LABEL: key_label,
                    Attribute.ID: key_id,
                    Attribute.SUBJECT: asn1_cert.subject.dump(),
                    Attribute.ISSUER: asn1_cert.issuer.dump(),
                    Attribute.SERIAL_NUMBER: asn1_cert["tbs_certificate"]["serial_number"].dump(),
                    Attribute.VALUE: der,
                }
            )
        except pkcs11.PKCS11Error as exc:
            raise TokenError(
                "Không ghi được chứng thư lên thiết bị. / Could not store cert."
            ) from exc


def pkcs11_signer(
    config: TokenConfig,
    key_label: str,
    cert: x509.Certificate,
    chain: tuple[x509.Certificate, ...],
) -> Any:
    """A pyHanko PKCS11Signer for ``key_label`` with a session kept open for reuse.

    RSA keys sign with RSASSA-PSS (prefer_pss), EC keys with ECDSA. Raises TokenError.
    """
    from pyhanko.sign.pkcs11 import PKCS11Signer

    from keys._crypto import to_asn1_cert

    session = open_session(config)
    is_rsa = isinstance(cert.public_key(), rsa.RSAPublicKey)
    return PKCS11Signer(
        session,
        key_label=key_label,
        signing_cert=to_asn1_cert(cert),
        ca_chain=[to_asn1_cert(c) for c in chain],
        prefer_pss=is_rsa,
        other_certs_to_pull=(),
    )
