"""Import certificates issued by another CA (e.g. Ban Cơ yếu Chính phủ) with their keys.

Accepted forms: PKCS#12, PEM key + PEM certificates, or a key that stays on a PKCS#11 token
(named by token and key label). Each import is checked in numbered steps
(:func:`keys.chains.check_credential`), each failing with its own KeyMaterialError subclass:

1. the private key matches the certificate (KeyMismatchError);
2. the certificate is valid now (CertificateExpiredError, RFC 5280 §4.1.2.5);
3. its key usage allows signing documents (WrongKeyUsageError, RFC 5280 §4.2.1.3);
4. a chain can be built to a self-signed root among the supplied and trusted certificates
   (IncompleteChainError, RFC 5280 §6.1).

Imported roots join the verification trust store (:meth:`ProvincialPKI.trust_roots`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.hazmat.primitives.serialization import load_pem_private_key, pkcs12

from keys._crypto import is_self_signed, load_certificates, same_public_key
from keys.chains import check_credential
from keys.errors import KeyMismatchError, UnreadableKeyMaterialError, WrongPassphraseError
from keys.issuance import IssuedCertificate

if TYPE_CHECKING:
    from keys.ca import ProvincialPKI
    from keys.tokens import TokenConfig


def _signing_cert(
    certs: Sequence[x509.Certificate], key: PublicKeyTypes | None
) -> x509.Certificate:
    """The end-entity certificate among ``certs`` (the one matching ``key`` if given)."""
    if key is not None:
        for c in certs:
            if same_public_key(c.public_key(), key):
                return c
        raise KeyMismatchError()
    leaves = [c for c in certs if not is_self_signed(c)]
    issuers = {c.issuer for c in certs}
    leaves = [c for c in leaves if c.subject not in issuers] or leaves
    if not leaves:
        raise UnreadableKeyMaterialError("Không có chứng thư người ký. / No signer certificate.")
    return leaves[0]


def import_pkcs12(
    pki: ProvincialPKI,
    data: bytes,
    password: bytes | None,
    *,
    kind: Literal["authority", "officer"],
    holder: str,
    name: str | None = None,
    authority_code: str | None = None,
    extra_certs: Sequence[x509.Certificate] = (),
) -> IssuedCertificate:
    """Import a PKCS#12 (key, certificate, chain). The key is re-stored encrypted with the
    PKI's passphrase. Raises WrongPassphraseError, UnreadableKeyMaterialError and the
    errors of :func:`keys.chains.check_credential`."""
    try:
        p12 = pkcs12.load_pkcs12(data, password)
    except ValueError as exc:
        raise WrongPassphraseError(
            "Không mở được tệp PKCS#12 (sai mật khẩu hoặc tệp hỏng). / "
            "Cannot open the PKCS#12 file (wrong password or corrupt file)."
        ) from exc
    if p12.key is None or p12.cert is None:
        raise UnreadableKeyMaterialError(
            "Tệp PKCS#12 thiếu khoá hoặc chứng thư. / The PKCS#12 file lacks a key or certificate."
        )
    certs = [c.certificate for c in p12.additional_certs] + list(extra_certs)
    return _import(
        pki, p12.cert.certificate, p12.key, None, certs, kind, holder, name, authority_code
    )


def import_pem(
    pki: ProvincialPKI,
    key_pem: bytes,
    key_password: bytes | None,
    certs_pem: bytes,
    *,
    kind: Literal["authority", "officer"],
    holder: str,
    name: str | None = None,
    authority_code: str | None = None,
) -> IssuedCertificate:
    """Import a PEM private key and PEM certificates (signer and chain, any order).

    Raises WrongPassphraseError, UnreadableKeyMaterialError and the errors of
    :func:`keys.chains.check_credential`.
    """
    try:
        key = load_pem_private_key(key_pem, password=key_password)
    except TypeError as exc:
        raise WrongPassphraseError(
            "Khoá cần (hoặc không cần) mật khẩu. / The key's password is missing or not needed."
        ) from exc
    except ValueError as exc:
        if b"ENCRYPTED" in key_pem:
            raise WrongPassphraseError() from exc
        raise UnreadableKeyMaterialError() from exc
    certs = load_certificates(certs_pem)
    cert = _signing_cert(certs, key.public_key())
    others = [c for c in certs if c is not cert]
    return _import(pki, cert, key, None, others, kind, holder, name, authority_code)


def import_pkcs11(
    pki: ProvincialPKI,
    token: TokenConfig,
    key_label: str,
    certs_pem: bytes,
    *,
    kind: Literal["authority", "officer"],
    holder: str,
    name: str | None = None,
    authority_code: str | None = None,
) -> IssuedCertificate:
    """Import a certificate whose key stays on a PKCS#11 token (``key_label``).

    Raises TokenError and the errors of :func:`keys.chains.check_credential`.
    """
    from keys.tokens import key_uri, public_key

    pub = public_key(token, key_label)
    certs = load_certificates(certs_pem)
    cert = _signing_cert(certs, pub)
    others = [c for c in certs if c is not cert]
    return _import(
        pki,
        cert,
        None,
        key_uri(token.token_label, key_label),
        others,
        kind,
        holder,
        name,
        authority_code,
        public=pub,
    )


def _import(
    pki: ProvincialPKI,
    cert: x509.Certificate,
    key: PrivateKeyTypes | None,
    key_ref: str | None,
    others: Sequence[x509.Certificate],
    kind: Literal["authority", "officer"],
    holder: str,
    name: str | None,
    authority_code: str | None,
    *,
    public: PublicKeyTypes | None = None,
) -> IssuedCertificate:
    held = key.public_key() if key is not None else public
    chain = check_credential(cert, held, others, pki.trust_roots(), now=pki.clock())
    return pki.register_external(
        kind=kind,
        holder=holder,
        certificate=cert,
        chain=chain,
        private_key=key,
        key_ref=key_ref,
        name=name or _cn(cert),
        authority_code=authority_code or (holder if kind == "authority" else None),
    )


def _cn(cert: x509.Certificate) -> str | None:
    attrs = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else None
