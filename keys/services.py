"""The PKI's public services, built from its index and keys and kept until they change: the
CRL of each CA (RFC 5280 §5, ``keys.crl``), the delegated OCSP responder of each issuing CA
generation (RFC 6960, ``keys.ocsp``) and the time-stamp authority (RFC 3161, ``keys.tsa``).

After a rollover (``keys.rollover``) every CA generation keeps its own CRL and responder:
the certificates it issued name its CRL, and RFC 6960 §4.2.2.2 wants a delegated responder
certified by the CA whose certificates it answers for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

from keys._crypto import utcnow
from keys.crl import PublishedCrl
from keys.errors import NoCertificateError
from keys.index_store import CertificateIndex
from keys.issuance import Issuance
from keys.ocsp import OcspResponder, load_request, unauthorized_response
from keys.tsa import TimeStampAuthority


class PkiServices:
    """CRLs in ``crl_dir``, the OCSP responders and the TSA of one PKI. Thread-safe through
    the index's lock. The services are rebuilt when the index changes (a renewal, here or
    in another process) or when the certificate they sign with expires by ``clock``."""

    def __init__(
        self,
        index: CertificateIndex,
        issuance: Issuance,
        *,
        crl_dir: Path,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._index = index
        self._issuance = issuance
        self._crl_dir = crl_dir
        self._clock = clock
        self._crls: dict[str, PublishedCrl] = {}
        self._ocsp: dict[str, OcspResponder] = {}
        self._tsa: TimeStampAuthority | None = None
        self._generation = -1

    def drop_responder(self) -> None:
        """Forget the OCSP responders and the TSA (rebuilt lazily from the index)."""
        with self._index.lock:
            self._ocsp.clear()
            self._tsa = None

    def _fresh(self) -> dt.datetime:
        """Re-read the index, drop services built from an older one; the time now."""
        self._index.refresh()
        if self._index.generation != self._generation:
            self.drop_responder()
            self._generation = self._index.generation
        return self._clock()

    def crl_der(self, name: str) -> bytes:
        """DER of the current CRL of CA ``name``, rebuilt and written when due.
        Raises NoCertificateError for an unknown CA name, KeyUnavailableError."""
        with self._index.lock:
            now = self._fresh()
            if name not in self._index.ca_names():  # never a path made of a caller's text
                raise NoCertificateError(f"Không có CRL {name!r}. / No CRL named {name!r}.")

            def issuer() -> tuple[x509.Certificate, CertificateIssuerPrivateKeyTypes]:
                ca = self._issuance.ca(name)
                return ca.certificate, ca.key

            published = self._crls.setdefault(name, PublishedCrl(self._crl_dir / f"{name}.crl"))
            revoked = self._index.revoked(name)
            return published.der(revoked=revoked, issuer=issuer, now=now)

    def ca_certificate(self, name: str) -> x509.Certificate:
        return self._index.certificate(self._index.ca_record(name, self._clock()).serial)

    def ocsp_responder(self, ca_name: str | None = None) -> OcspResponder:
        """The delegated OCSP responder of issuing CA ``ca_name`` (the current one if None).
        Raises NoCertificateError (no valid responder), KeyUnavailableError."""
        with self._index.lock:
            now = self._fresh()
            name = ca_name or self._index.current_issuing(now).holder
            responder = self._ocsp.get(name)
            if responder is None or responder.responder_cert.not_valid_after_utc < now:
                rec = self._index.service_record("ocsp", now, issuer=name)
                responder = OcspResponder(
                    issuer_cert=self.ca_certificate(name),
                    responder_cert=self._index.certificate(rec.serial),
                    responder_key=self._issuance.signing_key(rec.serial, "OCSP"),
                    lookup=lambda serial: self._index.status(serial, name),
                    clock=self._clock,
                )
                self._ocsp[name] = responder
            return responder

    def ocsp_respond(self, request_der: bytes) -> bytes:
        """Answer with the responder of the issuing CA the request's CertID names (issuer
        name and key hashes); ``unauthorized`` (RFC 6960 §2.3) when no CA of ours that has
        a valid responder is named. Raises MalformedOcspRequestError, KeyUnavailableError."""
        request = load_request(request_der)
        try:
            with self._index.lock:
                now = self._fresh()
                named = [
                    rec.holder
                    for rec in self._index.ca_records(now, "issuing")
                    if OcspResponder.names_issuer(request, self._index.certificate(rec.serial))
                ]
                # A CA the request names, or the current one (which answers "unauthorized"
                # after checking the request as it checks every request).
                responder = self.ocsp_responder(named[-1] if named else None)
        except NoCertificateError:
            return unauthorized_response()
        return responder.respond(request_der)  # signed outside the lock

    def tsa(self) -> TimeStampAuthority:
        """The province's time-stamp authority: the newest valid TSA certificate.
        Raises NoCertificateError (no valid TSA certificate), KeyUnavailableError."""
        with self._index.lock:
            now = self._fresh()
            if self._tsa is None or self._tsa.cert.not_valid_after_utc < now:
                self._tsa = None
                rec = self._index.service_record("tsa", now)
                self._tsa = TimeStampAuthority(
                    cert=self._index.certificate(rec.serial),
                    key=self._issuance.signing_key(rec.serial, "TSA"),
                    chain=(
                        (self.ca_certificate("root"),)
                        if rec.issuer == "root"
                        else (self.ca_certificate(rec.issuer), self.ca_certificate("root"))
                    ),
                    clock=self._clock,
                )
            return self._tsa
