"""Renewing the PKI's services and its issuing CA (rollover), keeping what came before.

Copies must stay verifiable for decades while the certificates that make them verifiable
live 1 (OCSP responder), 5 (TSA) and 10 (issuing CA) years (``keys.profiles.VALIDITY``).
A renewal makes a new key (kept encrypted, ``keys.keystore``) and certificate and records
it; nothing is removed: the old certificates stay in the index, so that validation can
still build the paths of what they signed (ETSI EN 319 102-1 §5.6.2.2, past validation;
ETSI TS 119 512 long-term preservation).

- ``tsa``: a new TSA certificate from the current issuing CA; the TSA signs with it from
  now on (``keys.services`` takes the newest valid TSA certificate).
- ``ocsp``: a new delegated responder (RFC 6960 §4.2.2.2) for every issuing CA generation
  still valid, so that the certificates of each keep their status answers.
- ``issuing``: a new issuing CA generation signed by the root, named ``issuing-g{n}`` in
  URLs (its certificates' AIA and CRL distribution point name it; the older CAs keep their
  names, CRLs and responders), with its own OCSP responder. New certificates come from it.

Another process (the running service) sees a renewal when it re-reads the index.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Literal, get_args

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from keys import profiles
from keys._crypto import Algorithm, check_algorithm, generate_key
from keys.errors import UnknownRenewalError
from keys.index_store import CertificateIndex
from keys.issuance import Issuance, IssuedCertificate
from keys.profiles import Issuer

logger = logging.getLogger(__name__)

Renewable = Literal["tsa", "ocsp", "issuing"]
RENEWABLE: tuple[str, ...] = get_args(Renewable)

_Profile = Callable[..., x509.Certificate]


def generation_name(generation: int) -> str:
    """The URL name of issuing CA ``generation``: "issuing", then "issuing-g2", ..."""
    return "issuing" if generation <= 1 else f"issuing-g{generation}"


class Rollover:
    """Renewals of one PKI (see the module's text); ``issuance`` is the PKI's writer."""

    def __init__(self, index: CertificateIndex, issuance: Issuance) -> None:
        self._index = index
        self._issuance = issuance

    def renew(self, kind: str, *, province: str) -> list[IssuedCertificate]:
        """Renew ``kind`` ("tsa", "ocsp", "issuing"); the certificates made, the one asked
        for first (for "issuing": the CA, then its OCSP responder).

        Raises UnknownRenewalError for another ``kind``, NoCertificateError when there is no
        CA to issue from, KeyUnavailableError.
        """
        if kind not in RENEWABLE:
            raise UnknownRenewalError(
                f"Không gia hạn được {kind!r}: chỉ tsa, ocsp hoặc issuing. / Cannot renew "
                f"{kind!r}: only tsa, ocsp or issuing."
            )
        with self._index.writing():
            if kind == "tsa":
                # The root certifies the TSA (keys.profiles.tsa_certificate).
                made = [self._service("tsa", self._issuance.ca("root"), province)]
            elif kind == "ocsp":
                made = [
                    self._service("ocsp", self._issuance.ca(name), province)
                    for name in self._valid_issuing_names()
                ]
            else:
                ca = self._issuing_ca(province)
                made = [ca, self._service("ocsp", self._issuance.ca(ca.holder), province)]
            self._index.save()
        for m in made:
            logger.info("renewed %s: certificate %x (%s)", m.kind, m.serial, m.holder)
        return made

    def _valid_issuing_names(self) -> list[str]:
        """Every issuing CA generation valid now, the current one first."""
        recs = self._index.ca_records(self._issuance.clock(), "issuing")
        return [r.holder for r in reversed(recs) if r.status == "valid"]

    def _service(self, kind: str, issuer: Issuer, province: str) -> IssuedCertificate:
        # The TSA signs with ECDSA P-256 whatever the PKI's algorithm (keys.profiles).
        key = generate_key("ecdsa-p256" if kind == "tsa" else self._algorithm())
        make: _Profile = profiles.tsa_certificate if kind == "tsa" else profiles.ocsp_certificate
        cert = make(issuer, key.public_key(), province, now=self._issuance.clock())
        self._issuance.store(kind, kind, cert, key, issuer=issuer.name, name=kind)
        above = () if issuer.name == "root" else (issuer.certificate,)
        return self._issued(kind, kind, cert, above)

    def _issuing_ca(self, province: str) -> IssuedCertificate:
        generation = len(self._index.ca_records(self._issuance.clock(), "issuing")) + 1
        name = generation_name(generation)
        root = self._issuance.ca("root")
        key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = generate_key(self._algorithm())
        cert = profiles.issuing_ca_certificate(
            root, key.public_key(), province, now=self._issuance.clock(), generation=generation
        )
        self._issuance.store("issuing", name, cert, key, issuer="root", name=province)
        return self._issued("issuing", name, cert, ())

    def _issued(
        self, kind: str, holder: str, cert: x509.Certificate, above: tuple[x509.Certificate, ...]
    ) -> IssuedCertificate:
        chain = (*above, self._issuance.root_certificate())
        return IssuedCertificate(cert.serial_number, kind, holder, cert, chain, "file")

    def _algorithm(self) -> Algorithm:
        return check_algorithm(self._index.algorithm)
