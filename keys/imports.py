"""Import certificates issued by another CA (e.g. Ban Cơ yếu Chính phủ) with their keys.

Accepted forms: PKCS#12, PEM key + PEM certificates, or a key that stays on a PKCS#11 token
(named by token and key label). Each import is checked in numbered steps, each failing with
its own KeyMaterialError subclass:

1. the private key matches the certificate (KeyMismatchError);
2. the certificate is valid now (CertificateExpiredError, RFC 5280 §4.1.2.5);
3. its key usage allows signing documents (WrongKeyUsageError, RFC 5280 §4.2.1.3);
4. a chain can be built to a self-signed root among the supplied and trusted certificates
   (IncompleteChainError, RFC 5280 §6.1).

Imported roots join the verification trust store (:meth:`ProvincialPKI.trust_roots`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.hazmat.primitives.serialization import load_pem_private_key, pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

from keys._crypto import is_self_signed, issued_by, load_certificates, same_public_key, utcnow
from keys.errors import (
    CertificateExpiredError,
    IncompleteChainError,
    KeyMismatchError,
    UnreadableKeyMaterialError,
    WrongKeyUsageError,
    WrongPassphraseError,
)

if TYPE_CHECKING:
    from keys.ca import IssuedCertificate, ProvincialPKI
    from keys.tokens import TokenConfig

MAX_CHAIN_LENGTH = 8

# Extended key usages compatible with document signatures, when an EKU is present at all.
_SIGNING_EKUS = {
    ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
    ExtendedKeyUsageOID.EMAIL_PROTECTION,
    ObjectIdentifier("1.3.6.1.5.5.7.3.36"),  # id-kp-documentSigning (RFC 9336)
    ObjectIdentifier("1.2.840.113583.1.1.5"),  # Adobe Authentic Documents Trust
    ObjectIdentifier("1.3.6.1.4.1.311.10.3.12"),  # Microsoft document signing
}


def build_chain(
    cert: x509.Certificate,
    candidates: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate] = (),
) -> list[x509.Certificate]:
    """The path ``[cert, issuer, ..., self-signed root]`` built from ``candidates`` and ``roots``.

    Signatures are checked at each step. Raises IncompleteChainError if no self-signed root
    is reached.
    """
    pool = [*roots, *candidates]
    path = [cert]
    current = cert
    for _ in range(MAX_CHAIN_LENGTH):
        if is_self_signed(current):
            return path
        issuer = next((c for c in pool if c not in path and issued_by(current, c)), None)
        if issuer is None:
            raise IncompleteChainError(
                "Chuỗi chứng thư không đầy đủ: thiếu chứng thư của "
                f"“{current.issuer.rfc4514_string()}”. / Incomplete chain: the issuer "
                f"“{current.issuer.rfc4514_string()}” is neither supplied nor trusted."
            )
        path.append(issuer)
        current = issuer
    raise IncompleteChainError("Chuỗi chứng thư quá dài. / The certificate chain is too long.")


def check_signing_certificate(cert: x509.Certificate, *, now: dt.datetime | None = None) -> None:
    """Steps 2 and 3: valid now, and usable for document signatures.

    Raises CertificateExpiredError, WrongKeyUsageError.
    """
    now = now or utcnow()
    if now < cert.not_valid_before_utc:
        raise CertificateExpiredError(
            "Chứng thư số chưa có hiệu lực (từ "
            f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC). / The certificate is not yet "
            f"valid (valid from {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC)."
        )
    if now > cert.not_valid_after_utc:
        raise CertificateExpiredError(
            f"Chứng thư số đã hết hạn ngày {cert.not_valid_after_utc:%Y-%m-%d}. / "
            f"The certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}."
        )
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        if bc.ca:
            raise WrongKeyUsageError(
                "Đây là chứng thư của CA, không dùng để ký văn bản. / "
                "This is a CA certificate, not a signing certificate."
            )
    except x509.ExtensionNotFound:
        pass
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        raise WrongKeyUsageError(
            "Chứng thư số thiếu phần mở rộng keyUsage. / The certificate has no key usage "
            "extension (digitalSignature/nonRepudiation required)."
        ) from None
    if not (ku.digital_signature or ku.content_commitment):
        raise WrongKeyUsageError()
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not _SIGNING_EKUS.intersection(eku):
        raise WrongKeyUsageError(
            "Mục đích sử dụng mở rộng (EKU) của chứng thư không cho phép ký văn bản. / "
            "The certificate's extended key usage does not allow document signing."
        )


def check_credential(
    cert: x509.Certificate,
    public_key: PublicKeyTypes | None,
    supplied: Sequence[x509.Certificate],
    trusted: Sequence[x509.Certificate],
    *,
    now: dt.datetime | None = None,
) -> list[x509.Certificate]:
    """Run steps 1-4; return the chain above ``cert`` (issuer first, root last).

    ``public_key`` is the key actually held (None to skip step 1). Raises KeyMismatchError,
    CertificateExpiredError, WrongKeyUsageError, IncompleteChainError.
    """
    if public_key is not None and not same_public_key(public_key, cert.public_key()):
        raise KeyMismatchError()
    check_signing_certificate(cert, now=now)
    path = build_chain(cert, supplied, trusted)
    for ca in path[1:]:
        if not ca.not_valid_before_utc <= (now or utcnow()) <= ca.not_valid_after_utc:
            raise CertificateExpiredError(
                f"Chứng thư CA “{ca.subject.rfc4514_string()}” đã hết hạn hoặc chưa có hiệu "
                f"lực. / The CA certificate “{ca.subject.rfc4514_string()}” is not valid now."
            )
    return path[1:]


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
    errors of :func:`check_credential`."""
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
    :func:`check_credential`.
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

    Raises TokenError and the errors of :func:`check_credential`.
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
    chain = check_credential(cert, held, others, pki.trust_roots())
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
