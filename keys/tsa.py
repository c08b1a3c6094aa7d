"""RFC 3161 time-stamp authority.

The TSA certificate is issued by the provincial issuing CA with a critical extended key usage
of id-kp-timeStamping only (RFC 3161 §2.3). Tokens are CMS SignedData over a TSTInfo, signed
with RSASSA-PSS or ECDSA SHA-256 (TT 15/2025), carrying the ESS signing-certificate-v2
attribute (RFC 5816). :meth:`TimeStampAuthority.respond` takes DER query bytes and returns
DER TimeStampResp bytes; the HTTP face lives in ``api/routes/pki.py``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable, Sequence

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from certify.errors import SigningError
from keys._crypto import asn1_signature_algorithm, raw_sign, to_asn1_cert, utcnow
from keys.errors import MalformedTimestampRequestError

# Our TSA policy (RFC 3161 §2.4.2 TSTInfo.policy). An OID under the test arc 2.999 (X.660)
# until the province registers its own.
DEFAULT_POLICY = "2.999.84.1.1"

# RFC 3161 §2.4.2: imprints with these hashes are accepted (SHA-1 and shorter are refused,
# TT 15/2025 asks for SHA-256 or stronger).
_DIGEST_SIZES = {"sha256": 32, "sha384": 48, "sha512": 64}


class TimeStampAuthority:
    """Issues RFC 3161 time-stamp tokens with one key and certificate."""

    def __init__(
        self,
        *,
        cert: x509.Certificate,
        key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
        chain: Sequence[x509.Certificate] = (),
        policy: str = DEFAULT_POLICY,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.cert = cert
        self._key = key
        self._asn1_cert = to_asn1_cert(cert)
        self._asn1_chain = [to_asn1_cert(c) for c in chain]
        self.policy = policy
        self._clock = clock
        # The parts of every token that never change, kept as DER: asn1crypto re-encodes
        # whole certificates when parsed objects are copied into a new structure, which made
        # each token cost ~50 ms; loading from DER keeps their encoding as it is.
        self._cert_ders = [c.dump() for c in [self._asn1_cert, *self._asn1_chain]]
        self._tsa_name_der = asn1_x509.GeneralName(
            name="directory_name", value=self._asn1_cert.subject
        ).dump()
        self._ess_attr_der = cms.CMSAttribute(
            {
                "type": "signing_certificate_v2",
                "values": [
                    {
                        "certs": [
                            {
                                "hash_algorithm": {"algorithm": "sha256"},
                                "cert_hash": self._asn1_cert.sha256,
                                "issuer_serial": {
                                    "issuer": [
                                        asn1_x509.GeneralName(
                                            name="directory_name", value=self._asn1_cert.issuer
                                        )
                                    ],
                                    "serial_number": self._asn1_cert.serial_number,
                                },
                            }
                        ]
                    }
                ],
            }
        ).dump()
        self._sid_der = cms.SignerIdentifier(
            {
                "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                    {
                        "issuer": self._asn1_cert.issuer,
                        "serial_number": self._asn1_cert.serial_number,
                    }
                )
            }
        ).dump()

    @staticmethod
    def parse_query(query_der: bytes) -> tsp.TimeStampReq:
        """Parse a DER TimeStampReq. Raises MalformedTimestampRequestError."""
        try:
            req = tsp.TimeStampReq.load(query_der, strict=True)
            _ = req.native  # asn1crypto parses lazily; force it so errors surface here
            # A field of the wrong universal type (e.g. a nonce retagged as REAL) parses
            # but is not what RFC 3161 §2.4.1 says: check the types the answer uses.
            nonce = req["nonce"]
            if not isinstance(nonce, core.Void | core.Integer):
                raise MalformedTimestampRequestError()
            if not isinstance(req["message_imprint"]["hashed_message"].native, bytes):
                raise MalformedTimestampRequestError()
        except MalformedTimestampRequestError:
            raise
        except Exception as exc:  # asn1crypto raises many types on hostile input
            raise MalformedTimestampRequestError() from exc
        if req["version"].native != "v1":
            raise MalformedTimestampRequestError()
        return req

    def respond(self, query_der: bytes) -> bytes:
        """Answer a DER TimeStampReq with a DER TimeStampResp.

        Unsupported hash algorithms, wrong imprint lengths and foreign policies get a
        ``rejection`` response with the RFC 3161 §2.4.2 failure info; a good query gets a
        ``granted`` response with the token.

        Raises MalformedTimestampRequestError if the bytes are not a DER TimeStampReq v1.
        """
        request = self.parse_query(query_der)
        try:
            answer = self._answer(request)
            return answer if isinstance(answer, bytes) else bytes(answer.dump())
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            # Hostile structure the parser let through: the request's fault, not a 500.
            raise MalformedTimestampRequestError() from exc

    def respond_to(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        """Answer a parsed request in-process (the signers' timestamper).

        Raises SigningError if the request is rejected (e.g. an unsupported hash).
        """
        answer = self._answer(req)
        if isinstance(answer, bytes):
            status = _StatusOnlyResp.load(answer)["status"]
            raise SigningError(
                "Máy chủ dấu thời gian từ chối yêu cầu. / The time-stamp authority refused the "
                f"request: {status['status_string'].native}."
            )
        return answer

    def _answer(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp | bytes:
        imprint = req["message_imprint"]
        md = imprint["hash_algorithm"]["algorithm"].native
        if md not in _DIGEST_SIZES:
            return _reject("bad_alg", f"unsupported hash algorithm {md}")
        if len(imprint["hashed_message"].native) != _DIGEST_SIZES[md]:
            return _reject("bad_data_format", "message imprint has the wrong length")
        requested_policy = req["req_policy"].native
        if requested_policy is not None and requested_policy != self.policy:
            return _reject("unaccepted_policy", "policy not supported")
        if req["extensions"].native:
            # RFC 3161 §2.4.2: we support no extensions.
            return _reject("unaccepted_extension", "extensions not supported")

        gen_time = self._clock()
        tst_info: dict[str, object] = {
            "version": "v1",
            "policy": self.policy,
            "message_imprint": imprint,
            # RFC 3161 §2.4.2: serialNumber unique per token, up to 160 bits.
            "serial_number": secrets.randbits(127) | 1,
            "gen_time": core.GeneralizedTime(gen_time),
            "accuracy": {"seconds": 1},
            "tsa": asn1_x509.GeneralName.load(self._tsa_name_der),
        }
        if req["nonce"].native is not None:
            tst_info["nonce"] = req["nonce"]
        tst_der = tsp.TSTInfo(tst_info).dump()

        signed_attrs = cms.CMSAttributes(
            [
                {"type": "content_type", "values": ["tst_info"]},
                {
                    "type": "signing_time",
                    "values": [cms.Time({"utc_time": core.UTCTime(gen_time)})],
                },
                {"type": "message_digest", "values": [hashlib.sha256(tst_der).digest()]},
                # RFC 5816: ESSCertIDv2 with SHA-256 identifies the TSA certificate.
                cms.CMSAttribute.load(self._ess_attr_der),
            ]
        )
        signature = raw_sign(self._key, signed_attrs.dump())
        digest_alg = algos.DigestAlgorithm({"algorithm": "sha256"})
        signer_info = cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier.load(self._sid_der),
                "digest_algorithm": digest_alg,
                "signature_algorithm": asn1_signature_algorithm(self._key),
                "signed_attrs": signed_attrs,
                "signature": signature,
            }
        )
        signed_data: dict[str, object] = {
            # RFC 5652 §5.1: v3 because the content type is not id-data.
            "version": "v3",
            "digest_algorithms": [digest_alg],
            "encap_content_info": {
                "content_type": "tst_info",
                "content": cms.ParsableOctetString(tst_der),
            },
            "signer_infos": [signer_info],
        }
        # RFC 3161 §2.4.1: certificates only when the requester asked (certReq).
        if req["cert_req"].native:
            signed_data["certificates"] = [cms.CertificateChoices.load(d) for d in self._cert_ders]
        token = cms.ContentInfo(
            {"content_type": "signed_data", "content": cms.SignedData(signed_data)}
        )
        return tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token})


class _StatusOnlyResp(core.Sequence):  # type: ignore[misc]
    # RFC 3161 §2.4.2: timeStampToken is absent unless granted; asn1crypto's TimeStampResp
    # declares it mandatory, so failure answers are encoded with this shape.
    _fields = [("status", tsp.PKIStatusInfo)]  # noqa: RUF012 - asn1crypto's declaration style


def parse_rejection(der: bytes) -> tuple[str, set[str]]:
    """(status, failure infos) of a non-granted TimeStampResp (no token)."""
    status = _StatusOnlyResp.load(der)["status"]
    return status["status"].native, set(status["fail_info"].native or ())


def _reject(failure: str, text: str) -> bytes:
    return bytes(
        _StatusOnlyResp(
            {
                "status": {
                    "status": "rejection",
                    "status_string": [text],
                    "fail_info": tsp.PKIFailureInfo({failure}),
                }
            }
        ).dump()
    )


def build_query(data: bytes, *, nonce: int | None = None, cert_req: bool = True) -> bytes:
    """A DER TimeStampReq over SHA-256 of ``data``. For tests and tools."""
    req: dict[str, object] = {
        "version": "v1",
        "message_imprint": {
            "hash_algorithm": {"algorithm": "sha256"},
            "hashed_message": hashlib.sha256(data).digest(),
        },
        "cert_req": cert_req,
    }
    if nonce is not None:
        req["nonce"] = nonce
    return bytes(tsp.TimeStampReq(req).dump())
