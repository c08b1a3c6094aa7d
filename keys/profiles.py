"""Certificate profiles of the provincial PKI: pure builders, no files and no index.

Each function returns a signed certificate for one role: the self-signed root, the issuing
CA, the delegated OCSP responder (RFC 6960 §4.2.2.2), the TSA (RFC 3161 §2.3), and the end
entities (an authority's seal, an officer's personal certificate). The caller supplies the
keys, the issuer and the time; :class:`keys.ca.ProvincialPKI` stores what comes back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificatePublicKeyTypes,
    PublicKeyTypes,
)
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from certify.errors import KeyMaterialError
from keys._crypto import Algorithm, generate_key, x509_sign_kwargs

VALIDITY: dict[str, dt.timedelta] = {
    "root": dt.timedelta(days=20 * 365),
    "issuing": dt.timedelta(days=10 * 365),
    "ocsp": dt.timedelta(days=365),
    "tsa": dt.timedelta(days=5 * 365),
    "authority": dt.timedelta(days=3 * 365),
    "officer": dt.timedelta(days=2 * 365),
}

# Backdated so that a relying party whose clock is a little behind accepts a new certificate.
BACKDATE = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Issuer:
    """A CA that signs: its certificate and key, its name in URLs ("root", "issuing",
    "issuing-g2", ...) and the service's public base URL (for the AIA and CRL distribution
    point)."""

    certificate: x509.Certificate
    key: CertificateIssuerPrivateKeyTypes
    name: str
    base_url: str


@dataclass(frozen=True)
class Made:
    """A certificate just made, with its new key, as the PKI records it."""

    kind: str
    certificate: x509.Certificate
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    issuer: str  # the issuing CA's name: "root", "issuing", "issuing-g2", ...
    name: str


def name(*attrs: tuple[x509.ObjectIdentifier, str | None]) -> x509.Name:
    """An X.501 name of the attributes given a value (empty ones left out)."""
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in attrs if value])


def _ca_name(province: str, role: str, generation: int = 1) -> x509.Name:
    # A renewed CA's subject tells the generations apart (" G2"): RFC 5280 §4.1.2.6 names
    # identify an issuer, and path building matches names before key identifiers.
    suffix = f" G{generation}" if generation > 1 else ""
    return name(
        (NameOID.COUNTRY_NAME, "VN"),
        (NameOID.STATE_OR_PROVINCE_NAME, province),
        (NameOID.ORGANIZATION_NAME, f"UBND {province}"),
        (NameOID.COMMON_NAME, f"Provincial {role} CA - {province}{suffix}"),
    )


def authority_subject(code: str, authority_name: str, province: str) -> x509.Name:
    """Seal subject: C=VN, ST/L = province, O = CN = the authority's name, OU = its code."""
    return name(
        (NameOID.COUNTRY_NAME, "VN"),
        (NameOID.STATE_OR_PROVINCE_NAME, province),
        (NameOID.LOCALITY_NAME, province),
        (NameOID.ORGANIZATION_NAME, authority_name),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, code),
        (NameOID.COMMON_NAME, authority_name),
    )


def officer_subject(
    username: str, full_name: str, title: str, authority_name: str | None, province: str
) -> x509.Name:
    """Officer subject: C=VN, ST = province, O = the authority, title, CN = full name, UID."""
    return name(
        (NameOID.COUNTRY_NAME, "VN"),
        (NameOID.STATE_OR_PROVINCE_NAME, province),
        (NameOID.ORGANIZATION_NAME, authority_name),
        (NameOID.TITLE, title),
        (NameOID.COMMON_NAME, full_name),
        (NameOID.USER_ID, username),
    )


def usage(*, digital_signature: bool = False, content_commitment: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=content_commitment,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def signing_key_usage() -> x509.KeyUsage:
    # Signing certificates: digitalSignature + nonRepudiation (contentCommitment), critical
    # (RFC 5280 §4.2.1.3; ETSI EN 319 412-2 §4.3.2 for non-repudiation signatures).
    return usage(digital_signature=True, content_commitment=True)


def ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def check_subject_key(public_key: PublicKeyTypes) -> CertificatePublicKeyTypes:
    """``public_key`` if the PKI certifies keys of its kind. Raises KeyMaterialError."""
    if not isinstance(public_key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise KeyMaterialError("Chỉ hỗ trợ khoá RSA hoặc ECDSA. / Only RSA or EC keys.")
    if isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size < 2048:
        # TT 15/2025/TT-BKHCN: RSA keys of at least 2048 bits.
        raise KeyMaterialError("Khoá RSA phải ≥ 2048 bit. / RSA keys must be ≥ 2048 bits.")
    return public_key


def root_certificate(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, province: str, *, now: dt.datetime
) -> x509.Certificate:
    """The self-signed provincial root."""
    subject = _ca_name(province, "Root")
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + VALIDITY["root"])
        # RFC 5280 §4.2.1.9: the root may sign one level of CA below it.
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(ca_key_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(private_key=key, **x509_sign_kwargs(key))
    )


def provincial_hierarchy(
    province: str, algorithm: Algorithm, base_url: str, *, now: dt.datetime
) -> tuple[list[Made], list[Made]]:
    """New keys and certificates of a province's root and issuing CA, then of the services:
    the OCSP responder (certified by the issuing CA it answers for) and the TSA (certified by
    the root, see :func:`tsa_certificate`)."""
    root_key = generate_key(algorithm)
    root = root_certificate(root_key, province, now=now)
    issuing_key = generate_key(algorithm)
    root_ca = Issuer(root, root_key, "root", base_url)
    issuing = issuing_ca_certificate(root_ca, issuing_key.public_key(), province, now=now)
    issuing_ca = Issuer(issuing, issuing_key, "issuing", base_url)
    ocsp_key = generate_key(algorithm)
    # The TSA signs with ECDSA P-256 whatever the PKI's algorithm (TT 15/2025 allows it):
    # OpenSSL's RFC 3161 verifier (PKCS#7 code) cannot check RSASSA-PSS SignerInfos, and
    # relying parties commonly verify tokens with it.
    tsa_key = generate_key("ecdsa-p256")
    ocsp = ocsp_certificate(issuing_ca, ocsp_key.public_key(), province, now=now)
    tsa = tsa_certificate(root_ca, tsa_key.public_key(), province, now=now)
    cas = [
        Made("root", root, root_key, "root", f"Root CA {province}"),
        Made("issuing", issuing, issuing_key, "root", province),
    ]
    services = [
        Made("ocsp", ocsp, ocsp_key, "issuing", "ocsp"),
        Made("tsa", tsa, tsa_key, "root", "tsa"),
    ]
    return cas, services


def issuing_ca_certificate(
    root: Issuer,
    public_key: CertificatePublicKeyTypes,
    province: str,
    *,
    now: dt.datetime,
    generation: int = 1,
) -> x509.Certificate:
    """The issuing CA (of ``generation``, 1 the first), signed by the root; it signs every
    other certificate."""
    return certificate(
        root,
        subject=_ca_name(province, "Issuing", generation),
        public_key=public_key,
        now=now,
        not_after=now + VALIDITY["issuing"],
        ca=True,
        ocsp=False,
    )


def ocsp_certificate(
    issuing: Issuer, public_key: CertificatePublicKeyTypes, province: str, *, now: dt.datetime
) -> x509.Certificate:
    """RFC 6960 §4.2.2.2: a delegated responder, id-kp-OCSPSigning; §4.2.2.2.1 nocheck."""
    return certificate(
        issuing,
        subject=name(
            (NameOID.COUNTRY_NAME, "VN"),
            (NameOID.STATE_OR_PROVINCE_NAME, province),
            (NameOID.COMMON_NAME, f"OCSP Responder - {province}"),
        ),
        public_key=public_key,
        now=now,
        not_after=now + VALIDITY["ocsp"],
        ocsp=False,
        key_usage=usage(digital_signature=True),
        eku=[ExtendedKeyUsageOID.OCSP_SIGNING],
        extra=[(x509.OCSPNoCheck(), False)],
    )


def tsa_certificate(
    issuer: Issuer, public_key: CertificatePublicKeyTypes, province: str, *, now: dt.datetime
) -> x509.Certificate:
    """RFC 3161 §2.3: the TSA certificate has exactly one EKU, timeStamping, critical.

    The root certifies the TSA, not the issuing CA: archive renewals (certify.preservation)
    then carry the root's CRL for the time-stamps' chain and no fresh CRL of the CA that
    certified the signers, whose certificates have long expired; an ETSI EN 319 102-1
    validator seeing such a CRL would check those certificates in the present instead of at
    the time of signing. No OCSP address: the root's certificates are covered by its CRL."""
    return certificate(
        issuer,
        subject=name(
            (NameOID.COUNTRY_NAME, "VN"),
            (NameOID.STATE_OR_PROVINCE_NAME, province),
            (NameOID.COMMON_NAME, f"Time Stamping Authority - {province}"),
        ),
        public_key=public_key,
        now=now,
        not_after=now + VALIDITY["tsa"],
        ocsp=False,
        key_usage=usage(digital_signature=True, content_commitment=True),
        eku=[ExtendedKeyUsageOID.TIME_STAMPING],
        eku_critical=True,
    )


def certificate(
    issuer: Issuer,
    *,
    subject: x509.Name,
    public_key: CertificatePublicKeyTypes,
    now: dt.datetime,
    not_after: dt.datetime,
    ca: bool = False,
    ocsp: bool = True,
    key_usage: x509.KeyUsage | None = None,
    eku: Sequence[x509.ObjectIdentifier] = (),
    eku_critical: bool = False,
    extra: Iterable[tuple[x509.ExtensionType, bool]] = (),
) -> x509.Certificate:
    """A certificate ``issuer`` signs; by default an end entity's signing certificate
    (digitalSignature + nonRepudiation) with the OCSP and CA-issuer AIA and the CRL
    distribution point of ``issuer``. Raises KeyMaterialError for an unusable issuer key."""
    if not isinstance(issuer.key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise KeyMaterialError("Unsupported CA key type.")
    # RFC 5280 §6.1.3: a certificate outliving its issuer cannot be validated after.
    not_after = min(not_after, issuer.certificate.not_valid_after_utc)
    issuer_public = issuer.certificate.public_key()
    if not isinstance(issuer_public, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise KeyMaterialError("Unsupported CA key type.")
    base = issuer.base_url
    aia = [
        x509.AccessDescription(
            AuthorityInformationAccessOID.CA_ISSUERS,
            x509.UniformResourceIdentifier(f"{base}/pki/ca/{issuer.name}.crt"),
        )
    ]
    if ocsp:
        aia.insert(
            0,
            x509.AccessDescription(
                AuthorityInformationAccessOID.OCSP,
                x509.UniformResourceIdentifier(f"{base}/pki/ocsp"),
            ),
        )
    crl_point = x509.DistributionPoint(
        full_name=[x509.UniformResourceIdentifier(f"{base}/pki/crl/{issuer.name}.crl")],
        relative_name=None,
        reasons=None,
        crl_issuer=None,
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject)
        .public_key(public_key)
        # RFC 5280 §4.1.2.2: positive, at most 20 octets, unpredictable.
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(key_usage or (ca_key_usage() if ca else signing_key_usage()), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public), critical=False
        )
        .add_extension(x509.AuthorityInformationAccess(aia), critical=False)
        .add_extension(x509.CRLDistributionPoints([crl_point]), critical=False)
    )
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=eku_critical)
    for ext, critical in extra:
        builder = builder.add_extension(ext, critical=critical)
    return builder.sign(private_key=issuer.key, **x509_sign_kwargs(issuer.key))
