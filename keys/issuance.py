"""Issuing and recording certificates: the PKI's writes.

:class:`Issuance` makes a certificate with ``keys.profiles``, writes its files
(``keys.keystore``) and its index entry (``keys.index_store``) under the index's write lock,
and answers with an :class:`IssuedCertificate`. It also records certificates issued by
another CA (checked by ``keys.imports`` first) and loads the PKI's own signing keys.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from certify.errors import KeyMaterialError
from keys import profiles
from keys._crypto import Algorithm, generate_key, is_self_signed, utcnow
from keys.index_store import CertificateIndex, sha256_hex
from keys.keystore import KeyFiles
from keys.profiles import Issuer


@dataclass(frozen=True)
class IssuedCertificate:
    """A certificate with the chain up to (and including) its root."""

    serial: int
    kind: str
    holder: str
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    key_ref: str | None = None

    def pem(self) -> bytes:
        """The certificate followed by its chain, PEM."""
        return b"".join(
            c.public_bytes(serialization.Encoding.PEM) for c in (self.certificate, *self.chain)
        )


class Issuance:
    """The writes of one PKI: ``index`` and ``files`` are the PKI's, ``base_url`` goes into
    the AIA and CRL distribution point of every certificate issued, ``clock`` gives the
    time of every certificate and record."""

    def __init__(
        self,
        index: CertificateIndex,
        files: KeyFiles,
        *,
        base_url: str,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.index = index
        self.files = files
        self.base_url = base_url
        self.clock = clock

    def store(
        self,
        kind: str,
        holder: str,
        cert: x509.Certificate,
        key: PrivateKeyTypes | None,
        *,
        issuer: str,
        key_ref: str | None = None,
        name: str | None = None,
        authority_code: str | None = None,
    ) -> None:
        """Write ``cert`` (and ``key``, encrypted) and add its index entry; the caller holds
        the index for writing and saves it."""
        self.files.write(cert, key)
        self.index.add(
            kind,
            holder,
            cert,
            issuer=issuer,
            key_ref="file" if key is not None else key_ref,
            name=name,
            authority_code=authority_code,
        )

    def key(self, serial: int) -> PrivateKeyTypes:
        """The decrypted key of ``serial``. Raises NoCertificateError, KeyMaterialError if it
        is not held in a file here, KeyUnavailableError if the file cannot be loaded."""
        if self.index.entry(serial).get("key_ref") != "file":
            raise KeyMaterialError(
                "Khoá bí mật của chứng thư này không được lưu trong tệp. / "
                "This certificate's private key is not held in a file."
            )
        return self.files.load(serial)

    def signing_key(self, serial: int, what: str) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
        """:meth:`key`, for a CA or service that signs (``what`` names it in the error)."""
        key = self.key(serial)
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise KeyMaterialError(f"Unsupported {what} key type.")
        return key

    def ca(self, name: str) -> Issuer:
        """Our CA ``name`` ("root", "issuing", "issuing-g2", ...) ready to sign."""
        rec = self.index.ca_record(name, self.clock())
        key = self.signing_key(rec.serial, "CA")
        return Issuer(self.index.certificate(rec.serial), key, name, self.base_url)

    def current_ca(self) -> Issuer:
        """The issuing CA that issues new certificates now (the newest generation)."""
        return self.ca(self.index.current_issuing(self.clock()).holder)

    def root_certificate(self) -> x509.Certificate:
        return self.index.certificate(self.index.ca_record("root", self.clock()).serial)

    def hierarchy(self, province: str, algorithm: Algorithm) -> None:
        """Make and record the root, the issuing CA, the OCSP responder and the TSA."""
        made = profiles.provincial_hierarchy(province, algorithm, self.base_url, now=self.clock())
        for batch in made:  # the CAs, then the services: the index saved after each
            for m in batch:
                self.store(m.kind, m.kind, m.certificate, m.key, issuer=m.issuer, name=m.name)
            self.index.save()

    def end_entity(
        self,
        *,
        kind: Literal["authority", "officer"],
        holder: str,
        subject: x509.Name,
        public_key: PublicKeyTypes | None,
        key_ref: str | None,
        validity: dt.timedelta,
        name: str,
        authority_code: str,
        algorithm: Algorithm,
    ) -> IssuedCertificate:
        """Issue and record a seal or officer certificate; a key of ``algorithm`` is made
        (and kept encrypted) unless ``public_key`` is given. Raises KeyMaterialError for an
        unusable public key, KeyUnavailableError."""
        with self.index.writing():
            issuer = self.current_ca()
            key: PrivateKeyTypes | None = None
            if public_key is None:
                key = generate_key(algorithm)
                public_key = key.public_key()
            now = self.clock()
            cert = profiles.certificate(
                issuer,
                subject=subject,
                public_key=profiles.check_subject_key(public_key),
                now=now,
                not_after=now + validity,
            )
            self.store(
                kind,
                holder,
                cert,
                key,
                issuer=issuer.name,
                key_ref=key_ref,
                name=name,
                authority_code=authority_code,
            )
            self.index.save()
            return IssuedCertificate(
                serial=cert.serial_number,
                kind=kind,
                holder=holder,
                certificate=cert,
                chain=(issuer.certificate, self.root_certificate()),
                key_ref="file" if key is not None else key_ref,
            )

    def external(
        self,
        *,
        kind: Literal["authority", "officer"],
        holder: str,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate],
        private_key: PrivateKeyTypes | None,
        key_ref: str | None,
        name: str | None,
        authority_code: str | None,
    ) -> IssuedCertificate:
        """Record a certificate another CA issued, its chain certificates as kind "chain"
        (holder "root" for self-signed ones) unless already on file."""
        with self.index.writing():
            known = self.index.fingerprints()
            for ca in chain:
                if sha256_hex(ca) in known:
                    continue
                holder_ca = "root" if is_self_signed(ca) else "intermediate"
                self.store("chain", holder_ca, ca, None, issuer="external", name=None)
                known.add(sha256_hex(ca))
            self.store(
                kind,
                holder,
                certificate,
                private_key,
                issuer="external",
                key_ref=key_ref,
                name=name,
                authority_code=authority_code,
            )
            self.index.save()
            return IssuedCertificate(
                serial=certificate.serial_number,
                kind=kind,
                holder=holder,
                certificate=certificate,
                chain=tuple(chain),
                key_ref="file" if private_key is not None else key_ref,
            )
