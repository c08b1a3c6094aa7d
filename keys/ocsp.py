"""OCSP responder (RFC 6960) for a provincial issuing CA, with a delegated responder.

The responder's certificate is issued by the issuing CA with extended key usage
id-kp-OCSPSigning and id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2, §4.2.2.2.1), so clients need
no revocation check of the responder itself. :meth:`OcspResponder.respond` takes DER request
bytes and returns DER response bytes; the HTTP face lives in ``api/routes/pki.py``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp

from keys._crypto import asn1_signature_algorithm, raw_sign, utcnow
from keys.crl import reason_flag
from keys.errors import MalformedOcspRequestError

# RFC 8954 §2.1: a nonce is 1 to 32 octets.
MAX_NONCE_LENGTH = 32
DEFAULT_VALIDITY = dt.timedelta(hours=12)

_HASHLIB_NAMES = {"sha1": "sha1", "sha256": "sha256", "sha384": "sha384", "sha512": "sha512"}


@dataclass(frozen=True)
class CertStatus:
    """What the CA knows of one serial number."""

    status: Literal["good", "revoked", "unknown"]
    revoked_at: dt.datetime | None = None
    reason: str | None = None


StatusLookup = Callable[[int], CertStatus]


class OcspResponder:
    """Answers OCSP requests about certificates of one issuer.

    ``lookup(serial)`` gives the status of a serial the issuer issued (``unknown`` if none).
    """

    def __init__(
        self,
        *,
        issuer_cert: x509.Certificate,
        responder_cert: x509.Certificate,
        responder_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
        lookup: StatusLookup,
        validity: dt.timedelta = DEFAULT_VALIDITY,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.issuer_cert = issuer_cert
        self.responder_cert = responder_cert
        self._key = responder_key
        self._lookup = lookup
        self.validity = validity
        self._clock = clock

    @staticmethod
    def names_issuer(request: ocsp.OCSPRequest, issuer_cert: x509.Certificate) -> bool:
        """True if the request's CertID names ``issuer_cert`` (name and key hashes)."""
        name = request.hash_algorithm.name
        if name not in _HASHLIB_NAMES:
            return False
        asn1_issuer = asn1_x509.Certificate.load(
            issuer_cert.public_bytes(serialization.Encoding.DER)
        )
        # RFC 6960 §4.1.1: issuerKeyHash is the hash of the BIT STRING subjectPublicKey
        # (without tag, length and unused-bits octet).
        key_bits = bytes(asn1_issuer.public_key["public_key"].contents[1:])
        name_hash = hashlib.new(_HASHLIB_NAMES[name], asn1_issuer.subject.dump()).digest()
        key_hash = hashlib.new(_HASHLIB_NAMES[name], key_bits).digest()
        return request.issuer_name_hash == name_hash and request.issuer_key_hash == key_hash

    def _issuer_matches(self, request: ocsp.OCSPRequest) -> bool:
        return self.names_issuer(request, self.issuer_cert)

    def respond(self, request_der: bytes) -> bytes:
        """Answer one DER OCSPRequest with a DER OCSPResponse.

        A request about another issuer gets an ``unauthorized`` response (RFC 6960 §2.3); a
        nonce longer than 32 octets a ``malformedRequest`` response (RFC 8954 §2.1); an
        unknown serial the ``unknown`` status.

        Raises MalformedOcspRequestError if the bytes are not a DER OCSPRequest with exactly
        one single request.
        """
        request = load_request(request_der)
        nonce: bytes | None = None
        try:
            nonce = request.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
        except x509.ExtensionNotFound:
            nonce = None
        if nonce is not None and not 1 <= len(nonce) <= MAX_NONCE_LENGTH:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.MALFORMED_REQUEST
            ).public_bytes(serialization.Encoding.DER)

        if not self._issuer_matches(request):
            return unauthorized_response()
        if request.serial_number <= 0:
            # RFC 5280 §4.1.2.2: serial numbers are positive; no certificate has this one.
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.MALFORMED_REQUEST
            ).public_bytes(serialization.Encoding.DER)
        try:
            return self._answer(request, nonce)
        except (ValueError, TypeError) as exc:  # a field the builder refuses: the request's
            raise MalformedOcspRequestError() from exc

    def _answer(self, request: ocsp.OCSPRequest, nonce: bytes | None) -> bytes:
        status = self._lookup(request.serial_number)
        now = self._clock()
        cert_status = {
            "good": ocsp.OCSPCertStatus.GOOD,
            "revoked": ocsp.OCSPCertStatus.REVOKED,
            "unknown": ocsp.OCSPCertStatus.UNKNOWN,
        }[status.status]
        reason = None
        if status.status == "revoked" and status.reason and status.reason != "unspecified":
            reason = reason_flag(status.reason)
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response_by_hash(
                issuer_name_hash=request.issuer_name_hash,
                issuer_key_hash=request.issuer_key_hash,
                serial_number=request.serial_number,
                algorithm=request.hash_algorithm,
                cert_status=cert_status,
                this_update=now,
                next_update=now + self.validity,
                revocation_time=status.revoked_at if status.status == "revoked" else None,
                revocation_reason=reason,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, self.responder_cert)
            .certificates([self.responder_cert])
        )
        if nonce is not None:
            # RFC 6960 §4.4.1 / RFC 8954: echo the client's nonce.
            builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
        response = builder.sign(self._key, hashes.SHA256())
        # cryptography's OCSP builder signs RSA with PKCS#1 v1.5 only (TT 15/2025 asks for
        # RSASSA-PSS) and dates producedAt by the machine's clock, not the PKI's: the
        # ResponseData is re-made with producedAt = ``now`` and signed again.
        return _resign(response.public_bytes(serialization.Encoding.DER), self._key, now)


def load_request(request_der: bytes) -> ocsp.OCSPRequest:
    """Parse a DER OCSPRequest with exactly one single request, every field it is answered
    by read. Raises MalformedOcspRequestError."""
    try:
        request = ocsp.load_der_ocsp_request(request_der)
        # Touch the lazily parsed fields so malformed content fails here.
        _ = (request.serial_number, request.hash_algorithm, request.extensions)
        _ = (request.issuer_name_hash, request.issuer_key_hash)
    except (ValueError, TypeError, x509.UnsupportedGeneralNameType) as exc:
        raise MalformedOcspRequestError() from exc
    except Exception as exc:  # cryptography raises its own types for unknown hashes
        raise MalformedOcspRequestError() from exc
    return request


def unauthorized_response() -> bytes:
    """The DER ``unauthorized`` answer (RFC 6960 §2.3): not a CA we answer for."""
    return ocsp.OCSPResponseBuilder.build_unsuccessful(
        ocsp.OCSPResponseStatus.UNAUTHORIZED
    ).public_bytes(serialization.Encoding.DER)


def _resign(
    der: bytes, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, produced_at: dt.datetime
) -> bytes:
    resp = asn1_ocsp.OCSPResponse.load(der)
    basic = resp["response_bytes"]["response"].parsed
    old = basic["tbs_response_data"]
    fields = {
        "responder_id": old["responder_id"],
        "produced_at": produced_at,
        "responses": old["responses"],
    }
    if old["response_extensions"].native is not None:
        fields["response_extensions"] = old["response_extensions"]
    tbs = asn1_ocsp.ResponseData(fields)
    new_basic = asn1_ocsp.BasicOCSPResponse(
        {
            "tbs_response_data": tbs,
            "signature_algorithm": asn1_signature_algorithm(key),
            "signature": raw_sign(key, tbs.dump()),
            "certs": basic["certs"],
        }
    )
    out = asn1_ocsp.OCSPResponse(
        {
            "response_status": "successful",
            "response_bytes": {"response_type": "basic_ocsp_response", "response": new_basic},
        }
    )
    return bytes(out.dump())


def build_request(
    cert: x509.Certificate, issuer: x509.Certificate, *, nonce: bytes | None = None
) -> bytes:
    """A DER OCSP request for ``cert`` (SHA-1 CertID, as most clients send). For tests/tools."""
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1())  # noqa: S303 - RFC 6960 CertID
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)
