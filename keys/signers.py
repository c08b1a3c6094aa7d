"""Signers, timestamper and validation context for the domain (``certify.signing``).

:class:`SignerSource` builds each holder's pyHanko signer once and caches it: the private
key is decrypted once and kept parsed, because pyHanko's stock ``SimpleSigner`` re-parses the
DER key on every signature (≈36 ms for RSA-3072 under OpenSSL 3's key checks). The cache is
dropped whenever the PKI index changes (issue, revoke, import — also from another process).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from pyhanko.sign.signers import Signer, SimpleSigner
from pyhanko.sign.timestamps import TimeStamper
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import PathError, RevokedError, ValidationError
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash, process_pss_params

from certify.errors import KeyMaterialError
from keys._crypto import to_asn1_cert, to_asn1_key, utcnow
from keys.ca import IssuedCertificate, ProvincialPKI
from keys.errors import CertificateExpiredError, CertificateRevokedError
from keys.tokens import TokenConfig, parse_key_uri, pkcs11_signer
from keys.tsa import TimeStampAuthority

_SHA256 = hashes.SHA256()
OCSP_REUSE = 60.0  # seconds an embedded OCSP response is reused across copies


class CachedKeySigner(SimpleSigner):
    """A pyHanko SimpleSigner that keeps the parsed private key object.

    RSA keys sign with RSASSA-PSS (TT 15/2025/TT-BKHCN), EC keys with ECDSA.
    """

    def __init__(
        self,
        *,
        private_key: PrivateKeyTypes,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate],
    ) -> None:
        if not isinstance(private_key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise KeyMaterialError("Chỉ hỗ trợ khoá RSA hoặc ECDSA. / Only RSA or EC keys.")
        asn1_chain = [to_asn1_cert(c) for c in chain]
        super().__init__(
            signing_cert=to_asn1_cert(certificate),
            signing_key=to_asn1_key(private_key),
            cert_registry=SimpleCertificateStore.from_certs(asn1_chain),  # type: ignore[no-untyped-call]
            prefer_pss=isinstance(private_key, rsa.RSAPrivateKey),
        )
        self._private_key = private_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        algo = mechanism["algorithm"].native
        key = self._private_key
        if algo == "rsassa_pss" and isinstance(key, rsa.RSAPrivateKey):
            pad, hash_algo = process_pss_params(mechanism["parameters"])
            return key.sign(data, pad, hash_algo)
        if algo.endswith("ecdsa") and isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(get_pyca_cryptography_hash(digest_algorithm)))
        return super().sign_raw(data, digest_algorithm)


class LocalTimeStamper(TimeStamper):
    """A TimeStamper that asks the in-process TSA (no HTTP)."""

    def __init__(self, tsa: TimeStampAuthority) -> None:
        super().__init__(include_nonce=True)  # type: ignore[no-untyped-call]
        self._tsa = tsa

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        return self._tsa.respond_to(req)


class SignerSource:
    """Signers of officers and authority seals, the timestamper and the validation context.

    ``tokens`` maps token labels to their :class:`TokenConfig` for keys held on PKCS#11
    tokens (certificate ``key_ref`` "pkcs11:token=..;object=.."). ``tsa_url`` selects an
    external RFC 3161 TSA instead of the province's own. ``extra_roots`` are trusted for
    validation in addition to :meth:`ProvincialPKI.trust_roots`.
    """

    def __init__(
        self,
        pki: ProvincialPKI,
        *,
        tokens: Mapping[str, TokenConfig] | None = None,
        tsa_url: str | None = None,
        extra_roots: Iterable[x509.Certificate] = (),
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.pki = pki
        self._tokens = dict(tokens or {})
        self._tsa_url = tsa_url or None
        self._extra_roots = list(extra_roots)
        self._clock = clock
        self._lock = threading.Lock()
        self._signers: dict[tuple[str, str], tuple[IssuedCertificate, Signer]] = {}
        self._timestamper: TimeStamper | None = None
        self._generation = -1
        self._ocsp_cache: dict[int, tuple[float, bytes]] = {}
        self._external_cache: dict[
            int, tuple[float, tuple[list[asn1_ocsp.OCSPResponse], list[asn1_crl.CertificateList]]]
        ] = {}

    def invalidate(self) -> None:
        """Drop every cached signer (done automatically when the PKI changes)."""
        with self._lock:
            self._signers.clear()
            self._timestamper = None

    def _fresh_cache(self) -> None:
        gen = self.pki.refresh()
        if gen != self._generation:
            self._signers.clear()
            self._ocsp_cache.clear()
            self._external_cache.clear()
            self._timestamper = None
            self._generation = gen

    def _ocsp_response(self, cert: x509.Certificate) -> bytes:
        """A fresh OCSP response for ``cert`` to embed, reused for ``OCSP_REUSE`` seconds.

        Producing one costs ~14 ms (RSA-PSS signature and DER building); every copy embeds
        two. Any change to the PKI (a revocation) drops the cache at once, so a revoked
        certificate never gets a stale "good" (RFC 6960 §2.4: thisUpdate is kept recent).
        """
        with self._lock:
            self._fresh_cache()
            now = time.monotonic()
            cached = self._ocsp_cache.get(cert.serial_number)
            if cached is not None and now - cached[0] < OCSP_REUSE:
                return cached[1]
        response = self.pki.ocsp_response_for(cert)
        with self._lock:
            self._ocsp_cache[cert.serial_number] = (now, response)
        return response

    def officer_signer(self, username: str) -> Signer:
        """The signer of officer ``username`` (personal certificate).

        Raises CertificateRevokedError if the officer's certificate is revoked (and no newer
        one is valid), NoCertificateError if there is none (never issued, or expired),
        CertificateExpiredError, KeyUnavailableError (a server-side fault: the key file
        cannot be loaded), TokenError.
        """
        return self._signer("officer", username)

    def seal_signer(self, authority_code: str) -> Signer:
        """The signer of authority ``authority_code`` (organisation certificate, the seal).

        Raises as :meth:`officer_signer`.
        """
        return self._signer("authority", authority_code)

    def certificate_of(self, kind: str, holder: str) -> IssuedCertificate:
        """The certificate (and chain) the signer of ``holder`` uses."""
        self._signer(kind, holder)
        return self._signers[(kind, holder)][0]

    def _signer(self, kind: str, holder: str) -> Signer:
        with self._lock:
            self._fresh_cache()
            cached = self._signers.get((kind, holder))
            if cached is not None:
                self.check_usable(cached[0].certificate)
                return cached[1]
            issued = self.pki.find(kind, holder)
            self.check_usable(issued.certificate)
            signer = self._build(issued)
            self._signers[(kind, holder)] = (issued, signer)
            return signer

    def _build(self, issued: IssuedCertificate) -> Signer:
        ref = issued.key_ref
        if ref == "file":
            return CachedKeySigner(
                private_key=self.pki.private_key(issued.serial),
                certificate=issued.certificate,
                chain=issued.chain,
            )
        if ref and ref.startswith("pkcs11:"):
            token_label, key_label = parse_key_uri(ref)
            config = self._tokens.get(token_label)
            if config is None:
                raise KeyMaterialError(
                    f"Chưa cấu hình thiết bị ký số “{token_label}”. / "
                    f"PKCS#11 token “{token_label}” is not configured."
                )
            signer: Signer = pkcs11_signer(config, key_label, issued.certificate, issued.chain)
            return signer
        raise KeyMaterialError(
            "Không có khoá bí mật cho chứng thư này. / No private key for this certificate."
        )

    def timestamper(self) -> TimeStamper:
        """The RFC 3161 timestamper: the external TSA at ``tsa_url`` if set, else the
        province's own TSA called in-process."""
        with self._lock:
            self._fresh_cache()
            if self._timestamper is None:
                if self._tsa_url:
                    from pyhanko.sign.timestamps import HTTPTimeStamper

                    self._timestamper = HTTPTimeStamper(self._tsa_url)
                else:
                    self._timestamper = LocalTimeStamper(self.pki.tsa)
            return self._timestamper

    def trusted_roots(self) -> list[x509.Certificate]:
        """Every root verification trusts: the provincial and imported roots, and the extra
        roots of the settings."""
        return [*self.pki.trust_roots(), *self._extra_roots]

    def validation_context(
        self,
        *,
        certs: Iterable[x509.Certificate] = (),
        moment: dt.datetime | None = None,
        revocation_mode: str = "hard-fail",
    ) -> ValidationContext:
        """A ValidationContext trusting the provincial (and imported, and extra) roots.

        No fetching (allow_fetching=False): the current CRLs of the root and issuing CA are
        supplied, plus a fresh OCSP response for each of ``certs`` the issuing CA issued, so
        pyHanko can embed revocation info (PAdES B-LT, ETSI EN 319 142-1) without network.
        """
        roots = [to_asn1_cert(c) for c in self.trusted_roots()]
        others = [to_asn1_cert(c) for c in self.pki.intermediates()]
        for kind in ("ocsp", "tsa"):
            for rec in self.pki.list():
                if rec.kind == kind and rec.status == "valid":
                    others.append(to_asn1_cert(self.pki.certificate(rec.serial)))
        crls = [self.pki.crl_der("root"), self.pki.crl_der("issuing")]
        issuing = self.pki.ca_certificate("issuing")
        ocsps = [self._ocsp_response(c) for c in certs if c.issuer == issuing.subject]
        kwargs: dict[str, Any] = {}
        if moment is not None:
            kwargs["moment"] = moment
        return ValidationContext(
            trust_roots=roots,
            other_certs=others,
            crls=crls,
            ocsps=ocsps,
            allow_fetching=False,
            revocation_mode=revocation_mode,
            **kwargs,
        )

    def revocation_material(
        self, *, certs: Iterable[x509.Certificate] = ()
    ) -> tuple[
        list[asn1_x509.Certificate], list[asn1_ocsp.OCSPResponse], list[asn1_crl.CertificateList]
    ]:
        """What a PAdES DSS needs so that ``certs`` validate offline (ETSI EN 319 142-1 B-LT):
        the chain and service certificates, a fresh OCSP response for each of ``certs`` the
        issuing CA issued, and the current CRLs of the root and issuing CA (which also cover
        the TSA and OCSP responder certificates)."""
        issuing = self.pki.ca_certificate("issuing")
        targets = list(certs)
        chain = [*self.pki.trust_roots(), *self.pki.intermediates(), *targets]
        for kind in ("ocsp", "tsa"):
            for rec in self.pki.list():
                if rec.kind == kind and rec.status == "valid":
                    chain.append(self.pki.certificate(rec.serial))
        ocsps = [
            asn1_ocsp.OCSPResponse.load(self._ocsp_response(c))
            for c in targets
            if c.issuer == issuing.subject
        ]
        crls = [
            asn1_crl.CertificateList.load(self.pki.crl_der(name)) for name in ("root", "issuing")
        ]
        for cert in targets:
            if cert.issuer != issuing.subject:
                ext_ocsps, ext_crls = self._external_revocation(cert)
                ocsps += ext_ocsps
                crls += ext_crls
        return [to_asn1_cert(c) for c in chain], ocsps, crls

    def _external_revocation(
        self, cert: x509.Certificate
    ) -> tuple[list[asn1_ocsp.OCSPResponse], list[asn1_crl.CertificateList]]:
        """The revocation data of an imported certificate and its CA chain, fetched from the
        OCSP and CRL addresses in the certificates (the national CA publishes them), reused
        for ``OCSP_REUSE`` seconds.

        Raises KeyMaterialError when the status cannot be had or the path does not reach an
        imported root; CertificateRevokedError when it is revoked.
        """
        key = int.from_bytes(cert.fingerprint(_SHA256), "big")
        with self._lock:
            self._fresh_cache()
            cached = self._external_cache.get(key)
            if cached is not None and time.monotonic() - cached[0] < OCSP_REUSE:
                return cached[1]
        roots = [to_asn1_cert(c) for c in self.trusted_roots()]
        others = [to_asn1_cert(c) for c in self.pki.intermediates()]
        moment = self._clock()

        async def validate() -> ValidationContext:
            async with AIOHttpFetcherBackend(per_request_timeout=10) as fetchers:
                context = ValidationContext(
                    trust_roots=roots,
                    other_certs=others,
                    allow_fetching=True,
                    fetchers=fetchers,
                    revocation_mode="hard-fail",
                    moment=moment,
                )
                validator = CertificateValidator(to_asn1_cert(cert), validation_context=context)
                await validator.async_validate_usage(set())  # type: ignore[no-untyped-call]
                return context

        try:
            context = asyncio.run(validate())
        except RevokedError as exc:
            raise CertificateRevokedError() from exc
        except (PathError, ValidationError) as exc:
            raise KeyMaterialError(
                "Không kiểm tra được tình trạng thu hồi của chứng thư số được nhập (OCSP/CRL của"
                " CA cấp). / The revocation status of the imported certificate cannot be"
                " obtained from its CA's OCSP or CRL.",
                code="revocation_unavailable",
            ) from exc
        material = (list(context.ocsps), list(context.crls))
        with self._lock:
            self._external_cache[key] = (time.monotonic(), material)
        return material

    def check_usable(self, cert: x509.Certificate) -> None:
        """Check before signing (TT 15/2025/TT-BKHCN): ``cert`` is valid now and, if the
        province issued it, not revoked.

        Raises CertificateExpiredError, CertificateRevokedError.
        """
        now = self._clock()
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise CertificateExpiredError()
        issuing = self.pki.ca_certificate("issuing")
        if cert.issuer == issuing.subject:
            status = self.pki.status(cert.serial_number)
            if status.status == "revoked":
                raise CertificateRevokedError(
                    f"Chứng thư số đã bị thu hồi ({status.reason}). / "
                    f"The certificate has been revoked ({status.reason})."
                )
            if status.status == "unknown":
                raise KeyMaterialError(
                    "Chứng thư số không có trong sổ của CA. / Certificate unknown to the CA."
                )
