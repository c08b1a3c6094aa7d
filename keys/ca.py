"""The provincial PKI: a root CA, an issuing CA, and the certificates they issue.

State lives in one directory (see :class:`ProvincialPKI`): certificates as PEM, private keys
only encrypted (mode 0600), the certificate index and the current CRLs. The issuing CA signs
the authorities' organisation certificates (the electronic seal), the officers' personal
certificates, the delegated OCSP responder and the TSA. The TSA, the responder and the
issuing CA are renewed with :meth:`ProvincialPKI.renew`; the older generations stay on file
for validation. Every time the PKI reads or writes comes from one injected ``clock``.

:class:`ProvincialPKI` is a facade; the work is done by ``keys.index_store`` (the index and
its records), ``keys.issuance`` with ``keys.profiles`` (issuing), ``keys.rollover``
(renewals), ``keys.keystore`` (files at rest), ``keys.chains`` (chains), ``keys.crl``,
``keys.ocsp`` and ``keys.tsa``.
"""

from __future__ import annotations

import builtins
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal, Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from keys import profiles
from keys._crypto import (
    Algorithm,
    check_algorithm,
    issued_by,
    load_certificate_file,
    utcnow,
)
from keys.chains import build_chain
from keys.crl import reason_flag
from keys.errors import (
    NoCertificateError,
    PkiExistsError,
    PkiNotInitialisedError,
    WrongPassphraseError,
)
from keys.index_store import (
    CA_NAMES,
    CertificateIndex,
    CertificateRecord,
    FileIndexStore,
    IndexStore,
    adopt_file_index,
)
from keys.issuance import Issuance, IssuedCertificate
from keys.keystore import KeyFiles
from keys.ocsp import CertStatus, OcspResponder, build_request
from keys.profiles import VALIDITY
from keys.rollover import Renewable, Rollover
from keys.services import PkiServices
from keys.tsa import TimeStampAuthority

logger = logging.getLogger(__name__)

Kind = Literal["root", "issuing", "ocsp", "tsa", "authority", "officer", "chain"]


class PkiEndpoints(Protocol):
    """What the HTTP faces (``api/routes/pki.py``) need of ``app.state.pki``."""

    def ca_certificate_der(self, name: str) -> bytes: ...

    def crl_der(self, name: str) -> bytes: ...

    def ocsp_respond(self, request_der: bytes) -> bytes: ...

    def tsa_respond(self, query_der: bytes) -> bytes: ...


class ProvincialPKI:
    """A province's PKI on disk. Build it with :meth:`init` or :meth:`open`.

    Layout of ``directory``: ``index.json`` (the register of certificates), ``certs/{serial
    hex}.pem``, ``private/{serial hex}.key.p12`` (PKCS#12, PBES2 at 600,000 PBKDF2
    iterations, 0600; keys written before as encrypted PKCS#8 ``.key.pem`` stay readable),
    ``crl/{name}.crl``, ``index.lock`` (held while the index changes).
    Thread-safe; another process's changes (e.g. a CLI revocation or renewal) are picked up
    by re-reading the index when its modification time changes.

    :attr:`clock` (a callable returning an aware UTC datetime, ``keys._crypto.utcnow`` by
    default) is the PKI's only source of time: certificate validity, record status, CRL
    thisUpdate, OCSP producedAt, TSA genTime and the choice of the current CA and services.
    """

    def __init__(
        self,
        directory: Path,
        *,
        passphrase: bytes,
        base_url: str,
        index_store: IndexStore | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        """Internal: use :meth:`init` or :meth:`open`."""
        self.directory = Path(directory)
        self.base_url = base_url.rstrip("/")
        self.clock = clock
        files = KeyFiles(self.directory, passphrase)
        self._index = CertificateIndex(
            index_store or FileIndexStore(self.directory),
            cert_copy=files.cert_path,
            on_reload=self._drop_responder,
        )
        self._issuance = Issuance(self._index, files, base_url=self.base_url, clock=clock)
        self._services = PkiServices(
            self._index, self._issuance, crl_dir=self.directory / "crl", clock=clock
        )
        self._rollover = Rollover(self._index, self._issuance)

    def __repr__(self) -> str:  # never show the passphrase
        return f"ProvincialPKI({str(self.directory)!r}, province={self.province!r})"

    def _drop_responder(self) -> None:
        self._services.drop_responder()

    # --- construction -----------------------------------------------------------------------

    @classmethod
    def init(
        cls,
        directory: Path,
        *,
        province: str,
        passphrase: bytes,
        base_url: str,
        algorithm: str = "rsa-pss",
        index_store: IndexStore | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> ProvincialPKI:
        """Create the root CA, issuing CA, OCSP responder and TSA for ``province``; the
        index goes to ``index_store`` (default: ``index.json`` in ``directory``); ``clock``
        gives the PKI's time (see the class).

        ``algorithm``: "rsa-pss" (RSA-3072, RSASSA-PSS SHA-256) or "ecdsa-p256"
        (TT 15/2025/TT-BKHCN). Raises PkiExistsError if ``directory`` already holds a PKI,
        ValueError for an unknown algorithm, WrongPassphraseError for an empty passphrase.
        """
        alg = check_algorithm(algorithm)
        directory = Path(directory)
        store = index_store or FileIndexStore(directory)
        if store.version() is not None or (directory / "index.json").exists():
            raise PkiExistsError()
        if not passphrase:
            raise WrongPassphraseError(
                "Mật khẩu bảo vệ khoá không được để trống. / The key passphrase must not be empty."
            )
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        pki = cls(
            directory, passphrase=passphrase, base_url=base_url, index_store=store, clock=clock
        )
        pki._index.start(province=province, algorithm=alg)
        pki._issuance.hierarchy(province, alg)
        logger.info("initialised provincial PKI for %s (%s) in %s", province, alg, directory)
        return pki

    @classmethod
    def open(
        cls,
        directory: Path,
        *,
        passphrase: bytes,
        base_url: str,
        index_store: IndexStore | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> ProvincialPKI:
        """Open an existing PKI and check the passphrase by decrypting the issuing CA key;
        ``clock`` gives the PKI's time (see the class).

        With an ``index_store`` that holds no index yet while ``directory`` has an
        ``index.json``, that index moves into the store (once; the file is renamed).
        Raises PkiNotInitialisedError if there is no PKI in ``directory``,
        KeyUnavailableError (a server-side fault) if the passphrase does not open the keys.
        """
        directory = Path(directory)
        store = index_store or FileIndexStore(directory)
        if index_store is not None:
            adopt_file_index(store, directory)
        if store.version() is None:
            raise PkiNotInitialisedError()
        pki = cls(
            directory, passphrase=passphrase, base_url=base_url, index_store=store, clock=clock
        )
        pki._index.refresh()
        pki._issuance.key(pki._index.current_issuing(clock()).serial)
        return pki

    def refresh(self) -> int:
        """Re-read the index if another process changed it; return :attr:`generation`."""
        self._index.refresh()
        return self.generation

    @property
    def generation(self) -> int:
        """Bumped on every change of the index, so caches (signers) know to drop entries."""
        return self._index.generation

    @property
    def province(self) -> str:
        return self._index.province

    @property
    def algorithm(self) -> Algorithm:
        return check_algorithm(self._index.algorithm)

    # --- reading ----------------------------------------------------------------------------

    def list(self) -> list[CertificateRecord]:
        """Every certificate on file (ours and imported), oldest first."""
        return self._index.records(self.clock())

    def record(self, serial: int) -> CertificateRecord:
        """The record of one serial. Raises NoCertificateError."""
        with self._index.lock:
            self._index.refresh()
            return self._index.to_record(self._index.entry(serial), self.clock())

    def certificate(self, serial: int) -> x509.Certificate:
        """The certificate with ``serial``. Raises NoCertificateError."""
        return self._index.certificate(serial)

    def ca_certificate(self, name: str) -> x509.Certificate:
        """The CA certificate called ``name`` in URLs: "root", "issuing" (the first issuing
        CA), "issuing-g2", ... (see :meth:`ca_names`). Raises NoCertificateError."""
        return self.certificate(self._index.ca_record(name, self.clock()).serial)

    def ca_names(self) -> builtins.list[str]:
        """The names of our CAs in URLs (/pki/ca/{name}.crt, /pki/crl/{name}.crl): "root",
        then the issuing CA generations oldest first ("issuing", "issuing-g2", ...)."""
        return self._index.ca_names()

    def ca_records(self, kind: str | None = None) -> builtins.list[CertificateRecord]:
        """The records of our CA certificates (of ``kind``, "root" or "issuing", if given),
        oldest first; a record's ``holder`` is the CA's name in URLs."""
        return self._index.ca_records(self.clock(), kind)

    def ca_certificates(self, kind: str = "issuing") -> builtins.list[x509.Certificate]:
        """Every generation of our CA ``kind`` ("issuing" or "root"), newest last, whatever
        its status (an expired CA still validates what it signed in its time)."""
        return [self.certificate(r.serial) for r in self.ca_records(kind)]

    def current_issuing_name(self) -> str:
        """The name of the issuing CA that issues new certificates (the newest valid one).
        Raises NoCertificateError."""
        return self._index.current_issuing(self.clock()).holder

    def issuer_name(self, cert: x509.Certificate) -> str | None:
        """The name of our CA whose name and key signed ``cert``; None if none did."""
        issuer = cert.issuer.rfc4514_string()
        for rec in self.ca_records():
            if rec.subject == issuer and issued_by(cert, self.certificate(rec.serial)):
                return rec.holder
        return None

    def ca_certificate_der(self, name: str) -> bytes:
        """DER of :meth:`ca_certificate` (served at /pki/ca/{name}.crt)."""
        return self.ca_certificate(name).public_bytes(serialization.Encoding.DER)

    def trust_roots(self) -> builtins.list[x509.Certificate]:
        """Self-signed roots to trust: the provincial root and every imported root."""
        imported = [r for r in self.list() if r.kind == "chain" and r.holder == "root"]
        return [self.ca_certificate("root"), *(self.certificate(r.serial) for r in imported)]

    def intermediates(self) -> builtins.list[x509.Certificate]:
        """Non-root CA certificates known: every issuing CA generation (oldest first) and
        the imported intermediates."""
        imported = [r for r in self.list() if r.kind == "chain" and r.holder != "root"]
        return [*self.ca_certificates("issuing"), *(self.certificate(r.serial) for r in imported)]

    def chain_of(self, cert: x509.Certificate) -> tuple[x509.Certificate, ...]:
        """The chain above ``cert`` (issuer first, root last) among the CAs on file.

        Raises IncompleteChainError (keys.chains.build_chain) when none reaches a root.
        """
        return tuple(build_chain(cert, self.intermediates(), self.trust_roots())[1:])

    def find(self, kind: str, holder: str) -> IssuedCertificate:
        """The newest currently valid certificate of ``kind`` held by ``holder``.

        Raises CertificateRevokedError if the holder's newest certificate is revoked and no
        valid one is left, NoCertificateError if there is none (never issued, or expired).
        """
        rec = self._index.current(kind, holder, self.clock())
        cert = self.certificate(rec.serial)
        chain = self.chain_of(cert)
        return IssuedCertificate(rec.serial, rec.kind, rec.holder, cert, chain, rec.key_ref)

    def private_key(self, serial: int) -> PrivateKeyTypes:
        """Decrypt the private key of ``serial`` (cached in memory after the first time).

        Raises NoCertificateError, KeyMaterialError if the key is not held in a file here
        (e.g. on a PKCS#11 token), KeyUnavailableError (a server-side fault) if the file
        cannot be loaded: damaged, or not opened by the configured PKI passphrase.
        """
        return self._issuance.key(serial)

    def key_path(self, serial: int) -> Path:
        """Where the encrypted key of ``serial`` lives (it may not exist)."""
        return self._issuance.files.key_path(serial)

    # --- issuing ----------------------------------------------------------------------------

    def issue_authority(
        self,
        code: str,
        name: str,
        *,
        province: str | None = None,
        public_key: PublicKeyTypes | None = None,
        key_ref: str | None = None,
        validity: dt.timedelta | None = None,
    ) -> IssuedCertificate:
        """Issue the organisation certificate (electronic seal) of authority ``code``.

        Subject: C=VN, ST/L = province, O = CN = ``name`` (e.g. "UBND phường Tân Phú").
        Without ``public_key`` a key is generated and kept encrypted here; with one (e.g. a
        PKCS#11 token key) only the certificate is made and ``key_ref`` says where the key is.
        Raises KeyMaterialError for an unusable public key, KeyUnavailableError.
        """
        return self._issuance.end_entity(
            kind="authority",
            holder=code,
            subject=profiles.authority_subject(code, name, province or self.province),
            public_key=public_key,
            key_ref=key_ref,
            validity=validity or VALIDITY["authority"],
            name=name,
            authority_code=code,
            algorithm=self.algorithm,
        )

    def issue_officer(
        self,
        username: str,
        full_name: str,
        title: str,
        authority_code: str,
        *,
        authority_name: str | None = None,
        public_key: PublicKeyTypes | None = None,
        key_ref: str | None = None,
        validity: dt.timedelta | None = None,
    ) -> IssuedCertificate:
        """Issue the personal certificate of officer ``username``.

        Subject: C=VN, ST = province, O = the authority's name, title, CN = ``full_name``,
        UID = ``username``. The authority name is taken from its seal certificate unless
        ``authority_name`` is given. Raises NoCertificateError if the authority is unknown,
        KeyMaterialError for an unusable public key, KeyUnavailableError.
        """
        if authority_name is None:
            authority_name = self._index.authority_name(authority_code, self.clock())
        return self._issuance.end_entity(
            kind="officer",
            holder=username,
            subject=profiles.officer_subject(
                username, full_name, title, authority_name, self.province
            ),
            public_key=public_key,
            key_ref=key_ref,
            validity=validity or VALIDITY["officer"],
            name=full_name,
            authority_code=authority_code,
            algorithm=self.algorithm,
        )

    def register_external(
        self,
        *,
        kind: Literal["authority", "officer"],
        holder: str,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate],
        private_key: PrivateKeyTypes | None = None,
        key_ref: str | None = None,
        name: str | None = None,
        authority_code: str | None = None,
    ) -> IssuedCertificate:
        """Record a certificate issued by another CA (checked by ``keys.imports`` first).

        Its chain certificates are stored as kind "chain" (holder "root" for self-signed
        ones, which join :meth:`trust_roots`). The key, if given, is stored encrypted.
        """
        return self._issuance.external(
            kind=kind,
            holder=holder,
            certificate=certificate,
            chain=chain,
            private_key=private_key,
            key_ref=key_ref,
            name=name,
            authority_code=authority_code,
        )

    def orphans(self) -> builtins.list[Path]:
        """Certificate and key files that no index entry names (left by a process killed
        between writing a file and the index). ``certify pki check`` reports them."""
        with self._index.writing():
            known = self._index.serials_hex()
        return self._issuance.files.orphans(known)

    # --- revocation ---------------------------------------------------------------------------

    def revoke(self, serial: int, reason: str) -> CertificateRecord:
        """Revoke the certificate ``serial`` (ours) for an RFC 5280 §5.3.1 ``reason``.

        The CRL is regenerated at once. Raises NoCertificateError, InvalidRevocationReasonError
        (also for revoking the root, which no CRL can do).
        """
        reason_flag(reason)
        with self._index.writing():
            record, changed = self._index.revoke(serial, reason, self.clock())
            if changed:
                self._services.drop_responder()
                self.crl_der(record.issuer)
                logger.info("revoked certificate %x (%s)", serial, reason)
            return record

    def status(self, serial: int, *, issuer: str | None = None) -> CertStatus:
        """Revocation status of ``serial`` among certificates CA ``issuer`` issued (any of
        our CAs if None)."""
        return self._index.status(serial, issuer)

    def crl(self, name: str | None = None) -> x509.CertificateRevocationList:
        """The current CRL of CA ``name`` (the current issuing CA if None).
        Raises NoCertificateError."""
        return x509.load_der_x509_crl(self.crl_der(name))

    def crl_der(self, name: str | None = None) -> bytes:
        """DER of the current CRL of ``name`` (served at /pki/crl/{name}.crl; the current
        issuing CA if None).

        Regenerated when a revocation changed the list or the CRL is older than the schedule
        period (keys.crl.DEFAULT_PERIOD); the new CRL is written to ``crl/{name}.crl``.
        Raises NoCertificateError for an unknown CA name, KeyUnavailableError.
        """
        return self._services.crl_der(name or self.current_issuing_name())

    # --- rollover ---------------------------------------------------------------------------

    def renew(self, kind: Renewable) -> builtins.list[IssuedCertificate]:
        """Renew the TSA ("tsa"), the OCSP responders ("ocsp") or the issuing CA
        ("issuing"), keeping the old certificates for validation (``keys.rollover``).

        Returns the certificates made, the one asked for first. Raises UnknownRenewalError,
        NoCertificateError (no valid CA to issue from), KeyUnavailableError.
        """
        return self._rollover.renew(kind, province=self.province)

    # --- services ---------------------------------------------------------------------------------

    @property
    def ocsp_responder(self) -> OcspResponder:
        """The delegated OCSP responder of the current issuing CA.
        Raises NoCertificateError, KeyUnavailableError."""
        return self._services.ocsp_responder()

    @property
    def tsa(self) -> TimeStampAuthority:
        """The province's RFC 3161 time-stamp authority. Raises KeyUnavailableError."""
        return self._services.tsa()

    def ocsp_respond(self, request_der: bytes) -> bytes:
        """See :meth:`keys.ocsp.OcspResponder.respond`: answered by the responder of the
        issuing CA the request names. Raises MalformedOcspRequestError, KeyUnavailableError."""
        return self._services.ocsp_respond(request_der)

    def tsa_respond(self, query_der: bytes) -> bytes:
        """See :meth:`keys.tsa.TimeStampAuthority.respond`.
        Raises MalformedTimestampRequestError, KeyUnavailableError."""
        return self.tsa.respond(query_der)

    def ocsp_response_for(self, cert: x509.Certificate) -> bytes:
        """A fresh DER OCSP response about ``cert`` (to embed as revocation info) from the
        responder of the issuing CA that signed it. Raises NoCertificateError if no issuing
        CA of ours signed it or its CA has no valid responder, KeyUnavailableError."""
        name = self.issuer_name(cert)
        if name is None or name == "root":
            raise NoCertificateError("Not issued by an issuing CA of ours.")
        responder = self._services.ocsp_responder(name)
        return responder.respond(build_request(cert, responder.issuer_cert))


__all__ = [
    "CA_NAMES",
    "VALIDITY",
    "CertificateRecord",
    "IssuedCertificate",
    "PkiEndpoints",
    "ProvincialPKI",
    "load_certificate_file",
]
