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
from collections.abc import Callable, Iterable, Mapping, Sequence

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
from keys._crypto import to_asn1_cert, to_asn1_key
from keys.ca import IssuedCertificate, ProvincialPKI
from keys.errors import CertificateExpiredError, CertificateRevokedError, NoCertificateError
from keys.tokens import TokenConfig, parse_key_uri, pkcs11_signer
from keys.tsa import TimeStampAuthority

_SHA256 = hashes.SHA256()
# How long an embedded OCSP response is reused across copies, by the PKI's clock.
OCSP_REUSE = dt.timedelta(seconds=60)


def _recent(made: dt.datetime, now: dt.datetime) -> bool:
    """True if something made at ``made`` may be reused at ``now`` (``OCSP_REUSE``); never
    when the clock went back, or jumped ahead (a test's clock moved by years)."""
    return dt.timedelta(0) <= now - made < OCSP_REUSE


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
    """A TimeStamper that asks the in-process TSA (no HTTP): ``tsa``, or the one a callable
    gives at each request (the PKI's current TSA, which a renewal replaces)."""

    def __init__(self, tsa: TimeStampAuthority | Callable[[], TimeStampAuthority]) -> None:
        super().__init__(include_nonce=True)  # type: ignore[no-untyped-call]
        self._tsa = tsa

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        tsa = self._tsa if isinstance(self._tsa, TimeStampAuthority) else self._tsa()
        return tsa.respond_to(req)


class SignerSource:
    """Signers of officers and authority seals, the timestamper and the validation context.

    ``tokens`` maps token labels to their :class:`TokenConfig` for keys held on PKCS#11
    tokens (certificate ``key_ref`` "pkcs11:token=..;object=.."). ``tsa_url`` selects an
    external RFC 3161 TSA instead of the province's own. ``extra_roots`` are trusted for
    validation in addition to :meth:`ProvincialPKI.trust_roots`. ``clock`` is the PKI's
    (:attr:`ProvincialPKI.clock`) unless given.
    """

    def __init__(
        self,
        pki: ProvincialPKI,
        *,
        tokens: Mapping[str, TokenConfig] | None = None,
        tsa_url: str | None = None,
        extra_roots: Iterable[x509.Certificate] = (),
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.pki = pki
        self._tokens = dict(tokens or {})
        self._tsa_url = tsa_url or None
        self._extra_roots = list(extra_roots)
        self._clock = clock or pki.clock
        self._lock = threading.Lock()
        self._signers: dict[tuple[str, str], tuple[IssuedCertificate, Signer]] = {}
        self._timestamper: TimeStamper | None = None
        self._generation = -1
        self._ocsp_cache: dict[int, tuple[dt.datetime, bytes]] = {}
        self._external_cache: dict[
            int,
            tuple[dt.datetime, tuple[list[asn1_ocsp.OCSPResponse], list[asn1_crl.CertificateList]]],
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
            now = self._clock()
            cached = self._ocsp_cache.get(cert.serial_number)
            if cached is not None and _recent(cached[0], now):
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
                    # Asked at each token: a renewed TSA signs from the next one on.
                    self._timestamper = LocalTimeStamper(lambda: self.pki.tsa)
            return self._timestamper

    def tsa_certificate(self) -> x509.Certificate | None:
        """The certificate the next time-stamp token will be signed with: the province's TSA
        now; None with an external TSA (its certificate is known from its answer only)."""
        return None if self._tsa_url else self.pki.tsa.cert

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
        """A ValidationContext trusting the provincial (and imported, and extra) roots, at
        ``moment`` (the PKI clock's now by default).

        No fetching (allow_fetching=False): every CA generation and service certificate on
        file, the current CRLs of the root and of every issuing CA not yet expired, and a
        fresh OCSP response for each of ``certs`` an issuing CA of ours issued, so pyHanko
        can embed revocation info (PAdES B-LT, ETSI EN 319 142-1) without network.
        """
        roots = [to_asn1_cert(c) for c in self.trusted_roots()]
        others = [to_asn1_cert(c) for c in [*self.pki.intermediates(), *self._services()]]
        crls = self._crl_ders()
        ocsps = [der for c in certs if (der := self._own_ocsp(c)) is not None]
        return ValidationContext(
            trust_roots=roots,
            other_certs=others,
            crls=crls,
            ocsps=ocsps,
            allow_fetching=False,
            revocation_mode=revocation_mode,
            moment=moment or self._clock(),  # the PKI's time, not the machine's
        )

    def revocation_material(
        self, *, certs: Iterable[x509.Certificate] = ()
    ) -> tuple[
        list[asn1_x509.Certificate], list[asn1_ocsp.OCSPResponse], list[asn1_crl.CertificateList]
    ]:
        """What a PAdES DSS needs so that ``certs`` validate offline (ETSI EN 319 142-1 B-LT):
        the certificates of every CA generation and service on file (an expired TSA
        certificate still builds the path of the timestamps it made), a fresh OCSP response
        for each of ``certs`` an issuing CA of ours issued and whose responder can answer,
        and the current CRLs of the root and of every issuing CA not yet expired (which also
        cover the TSA and OCSP responder certificates)."""
        targets = list(certs)
        chain = [*self.pki.trust_roots(), *self.pki.intermediates(), *targets, *self._services()]
        ocsps = [
            asn1_ocsp.OCSPResponse.load(der)
            for c in targets
            if (der := self._own_ocsp(c)) is not None
        ]
        crls = [asn1_crl.CertificateList.load(der) for der in self._crl_ders()]
        for cert in targets:
            if self.pki.issuer_name(cert) is None:
                ext_ocsps, ext_crls = self._external_revocation(cert)
                ocsps += ext_ocsps
                crls += ext_crls
        return [to_asn1_cert(c) for c in chain], ocsps, crls

    def _services(self) -> list[x509.Certificate]:
        """Every OCSP responder and TSA certificate on file, whatever its status."""
        recs = [r for r in self.pki.list() if r.kind in ("ocsp", "tsa")]
        return [self.pki.certificate(r.serial) for r in recs]

    def _crl_ders(self) -> list[bytes]:
        """The current CRLs of the root and of every issuing CA not yet expired."""
        now = self._clock()
        cas = [r for r in self.pki.ca_records() if r.kind == "root" or r.not_after >= now]
        return [self.pki.crl_der(r.holder) for r in cas]

    def _own_ocsp(self, cert: x509.Certificate) -> bytes | None:
        """:meth:`_ocsp_response` for a certificate an issuing CA of ours issued; None for
        another, or when its CA has no valid responder (its CRL answers then)."""
        if self.pki.issuer_name(cert) in (None, "root"):
            return None
        try:
            return self._ocsp_response(cert)
        except NoCertificateError:
            return None

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
            if cached is not None and _recent(cached[0], self._clock()):
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
            self._external_cache[key] = (moment, material)
        return material

    def check_usable(self, cert: x509.Certificate) -> None:
        """Check before signing (TT 15/2025/TT-BKHCN): ``cert`` is valid now and, if the
        province issued it, not revoked.

        Raises CertificateExpiredError, CertificateRevokedError.
        """
        now = self._clock()
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise CertificateExpiredError()
        if self.pki.issuer_name(cert) is not None:
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
