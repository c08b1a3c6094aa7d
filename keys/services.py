"""The PKI's public services, built from its index and keys and kept until they change: the
CRL of each CA (RFC 5280 §5, ``keys.crl``), the delegated OCSP responder (RFC 6960,
``keys.ocsp``) and the time-stamp authority (RFC 3161, ``keys.tsa``).
"""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

from keys._crypto import utcnow
from keys.crl import PublishedCrl
from keys.errors import NoCertificateError
from keys.index_store import CA_NAMES, CertificateIndex
from keys.issuance import Issuance
from keys.ocsp import OcspResponder
from keys.tsa import TimeStampAuthority


class PkiServices:
    """CRLs in ``crl_dir``, the OCSP responder and the TSA of one PKI. Thread-safe through
    the index's lock; :meth:`drop_responder` runs whenever the index is re-read."""

    def __init__(self, index: CertificateIndex, issuance: Issuance, *, crl_dir: Path) -> None:
        self._index = index
        self._issuance = issuance
        self._crls = {name: PublishedCrl(crl_dir / f"{name}.crl") for name in CA_NAMES}
        self._ocsp: OcspResponder | None = None
        self._tsa: TimeStampAuthority | None = None

    def drop_responder(self) -> None:
        self._ocsp = None  # status lookup reads the index; responder rebuilt lazily

    def crl_der(self, name: str) -> bytes:
        """DER of the current CRL of CA ``name``, rebuilt and written when due.
        Raises NoCertificateError for an unknown CA name, KeyUnavailableError."""
        if name not in CA_NAMES:
            raise NoCertificateError(f"Không có CRL {name!r}. / No CRL named {name!r}.")

        def issuer() -> tuple[x509.Certificate, CertificateIssuerPrivateKeyTypes]:
            ca = self._issuance.ca(name)
            return ca.certificate, ca.key

        with self._index.lock:
            revoked = self._index.revoked(name)
            return self._crls[name].der(revoked=revoked, issuer=issuer, now=utcnow())

    def ca_certificate(self, name: str) -> x509.Certificate:
        return self._index.certificate(self._index.ca_record(name, utcnow()).serial)

    def ocsp_responder(self) -> OcspResponder:
        """The delegated OCSP responder of the issuing CA. Raises KeyUnavailableError."""
        with self._index.lock:
            self._index.refresh()
            if self._ocsp is None:
                rec = self._index.service_record("ocsp", utcnow())
                self._ocsp = OcspResponder(
                    issuer_cert=self.ca_certificate("issuing"),
                    responder_cert=self._index.certificate(rec.serial),
                    responder_key=self._issuance.signing_key(rec.serial, "OCSP"),
                    lookup=lambda serial: self._index.status(serial, "issuing"),
                )
            return self._ocsp

    def tsa(self) -> TimeStampAuthority:
        """The province's time-stamp authority. Raises KeyUnavailableError."""
        with self._index.lock:
            self._index.refresh()
            if self._tsa is None:
                rec = self._index.service_record("tsa", utcnow())
                self._tsa = TimeStampAuthority(
                    cert=self._index.certificate(rec.serial),
                    key=self._issuance.signing_key(rec.serial, "TSA"),
                    chain=(self.ca_certificate("issuing"), self.ca_certificate("root")),
                )
            return self._tsa
