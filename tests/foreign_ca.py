"""A certification authority other than the province's (standing in for the national CA, Ban Cơ
yếu Chính phủ): a root and a sub-CA whose certificates name where their CRLs and issuers'
certificates are published, for tests of imported certificates."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

NOW = dt.datetime.now(dt.UTC)


class ForeignCA:
    """Another CA (standing in for Ban Cơ yếu Chính phủ): a root, a sub-CA, and their CRLs
    published at ``{base_url}/foreign/{root,sub}.crl``, named in the certificates."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.revoked: set[int] = set()
        self.root_key = ec.generate_private_key(ec.SECP384R1())
        self.root = self._cert(_name("Foreign Root CA"), self.root_key, None, ca=True)
        self.sub_key = ec.generate_private_key(ec.SECP384R1())
        self.sub = self._cert(_name("Foreign Sub CA"), self.sub_key, "root", ca=True)

    def issuer(self, name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        return (self.root, self.root_key) if name == "root" else (self.sub, self.sub_key)

    def _cert(
        self,
        subject: x509.Name,
        key: ec.EllipticCurvePrivateKey,
        issuer: str | None,
        *,
        ca: bool,
    ) -> x509.Certificate:
        issuer_name, issuer_key = subject, key
        if issuer is not None:
            issuer_cert, issuer_key = self.issuer(issuer)
            issuer_name = issuer_cert.subject
        usage = x509.KeyUsage(
            digital_signature=not ca,
            content_commitment=not ca,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=ca,
            crl_sign=ca,
            encipher_only=False,
            decipher_only=False,
        )
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(days=1))
            .not_valid_after(NOW + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(usage, critical=True)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                critical=False,
            )
        )
        if issuer is not None:
            url = x509.UniformResourceIdentifier(f"{self.base_url}/foreign/{issuer}.crl")
            ca_issuers = x509.AccessDescription(
                AuthorityInformationAccessOID.CA_ISSUERS,
                x509.UniformResourceIdentifier(f"{self.base_url}/foreign/{issuer}.crt"),
            )
            builder = builder.add_extension(
                x509.CRLDistributionPoints([x509.DistributionPoint([url], None, None, None)]),
                critical=False,
            ).add_extension(x509.AuthorityInformationAccess([ca_issuers]), critical=False)
        return builder.sign(issuer_key, hashes.SHA384())

    def leaf(self, full_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = ec.generate_private_key(ec.SECP256R1())
        return key, self._cert(_name(full_name), key, "sub", ca=False)

    def crl(self, name: str) -> bytes:
        """The current CRL of ``name`` ("root" or "sub"), listing :attr:`revoked` serials."""
        cert, key = self.issuer(name)
        builder = x509.CertificateRevocationListBuilder()
        for serial in sorted(self.revoked):
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(NOW - dt.timedelta(minutes=30))
                .build()
            )
        crl = (
            builder.issuer_name(cert.subject)
            .last_update(NOW - dt.timedelta(hours=1))
            .next_update(NOW + dt.timedelta(days=7))
            .add_extension(x509.CRLNumber(1), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()),
                critical=False,
            )
            .sign(key, hashes.SHA384())
        )
        return crl.public_bytes(serialization.Encoding.DER)


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _pem(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def pem(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
