"""The provincial PKI: a root CA, an issuing CA, and the certificates they issue.

State lives in one directory (see :class:`ProvincialPKI`): certificates as PEM, private keys
only as encrypted PKCS#8 (mode 0600), an ``index.json`` written atomically, and the current
CRLs. The issuing CA signs the authorities' organisation certificates (the electronic seal),
the officers' personal certificates, the delegated OCSP responder and the TSA.
"""

from __future__ import annotations

import builtins
import datetime as dt
import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    PrivateKeyTypes,
    PublicKeyTypes,
)
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from certify.errors import KeyMaterialError
from keys._crypto import (
    Algorithm,
    check_algorithm,
    decrypt_private_key,
    encrypt_private_key,
    generate_key,
    load_certificates,
    utcnow,
    write_file,
    x509_sign_kwargs,
)
from keys.crl import CachedCrl, CrlCache, RevokedEntry, build_crl, crl_der, reason_flag
from keys.errors import (
    InvalidRevocationReasonError,
    NoCertificateError,
    PkiExistsError,
    PkiNotInitialisedError,
    UnreadableKeyMaterialError,
    WrongPassphraseError,
)
from keys.index_store import FileIndexStore, IndexStore
from keys.ocsp import CertStatus, OcspResponder
from keys.tsa import TimeStampAuthority

logger = logging.getLogger(__name__)

INDEX_FORMAT = 1
Kind = Literal["root", "issuing", "ocsp", "tsa", "authority", "officer", "chain"]
# The two CA names used in URLs: /pki/ca/{name}.crt and /pki/crl/{name}.crl.
CA_NAMES = ("root", "issuing")

VALIDITY: dict[str, dt.timedelta] = {
    "root": dt.timedelta(days=20 * 365),
    "issuing": dt.timedelta(days=10 * 365),
    "ocsp": dt.timedelta(days=365),
    "tsa": dt.timedelta(days=5 * 365),
    "authority": dt.timedelta(days=3 * 365),
    "officer": dt.timedelta(days=2 * 365),
}


@dataclass(frozen=True)
class CertificateRecord:
    """One certificate as the index knows it. ``status``: valid, revoked, expired,
    not_yet_valid. ``issuer``: root, issuing (ours) or external (imported)."""

    serial: int
    subject: str
    kind: str
    holder: str
    not_before: dt.datetime
    not_after: dt.datetime
    status: str
    revoked_at: dt.datetime | None = None
    revocation_reason: str | None = None
    issuer: str = "issuing"
    key_ref: str | None = None  # "file", "pkcs11:token=..;object=..", or None (no key here)
    name: str | None = None  # authority name (seal) or full name (officer)
    authority_code: str | None = None


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


class PkiEndpoints(Protocol):
    """What the HTTP faces (``api/routes/pki.py``) need of ``app.state.pki``."""

    def ca_certificate_der(self, name: str) -> bytes: ...

    def crl_der(self, name: str) -> bytes: ...

    def ocsp_respond(self, request_der: bytes) -> bytes: ...

    def tsa_respond(self, query_der: bytes) -> bytes: ...


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).isoformat()


def _parse_time(s: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(s) if s else None


def _name(*attrs: tuple[x509.ObjectIdentifier, str | None]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in attrs if value])


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text).strip("-")


class ProvincialPKI:
    """A province's PKI on disk. Build it with :meth:`init` or :meth:`open`.

    Layout of ``directory``: ``index.json`` (the register of certificates), ``certs/{serial
    hex}.pem``, ``private/{serial hex}.key.p12`` (PKCS#12, PBES2 at 600,000 PBKDF2
    iterations, 0600; keys written before as encrypted PKCS#8 ``.key.pem`` stay readable),
    ``crl/{name}.crl``, ``index.lock`` (held while the index changes).
    Thread-safe; another process's changes (e.g. a CLI revocation) are picked up by
    re-reading the index when its modification time changes.
    """

    def __init__(
        self,
        directory: Path,
        *,
        passphrase: bytes,
        base_url: str,
        index_store: IndexStore | None = None,
    ) -> None:
        """Internal: use :meth:`init` or :meth:`open`."""
        self.directory = Path(directory)
        self._index_store: IndexStore = index_store or FileIndexStore(self.directory)
        self._passphrase = passphrase
        self.base_url = base_url.rstrip("/")
        self._lock = threading.RLock()
        self._index: dict[str, Any] = {}
        self._index_version: object | None = None
        self._write_depth = 0
        self._keys: dict[int, PrivateKeyTypes] = {}
        self._crl_caches = {name: CrlCache() for name in CA_NAMES}
        self._ocsp: OcspResponder | None = None
        self._tsa: TimeStampAuthority | None = None
        # Bumped on every change of the index, so caches (signers) know to drop entries.
        self.generation = 0

    def __repr__(self) -> str:  # never show the passphrase
        return f"ProvincialPKI({str(self.directory)!r}, province={self.province!r})"

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
    ) -> ProvincialPKI:
        """Create the root CA, issuing CA, OCSP responder and TSA for ``province``; the
        index goes to ``index_store`` (default: ``index.json`` in ``directory``).

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
        pki = cls(directory, passphrase=passphrase, base_url=base_url, index_store=store)
        pki._index = {
            "format": INDEX_FORMAT,
            "province": province,
            "algorithm": alg,
            "certificates": [],
        }
        now = utcnow()
        # RFC 5280 §4.2.1.9: the root may sign one level of CA below it.
        root_key = generate_key(alg)
        root_name = _name(
            (NameOID.COUNTRY_NAME, "VN"),
            (NameOID.STATE_OR_PROVINCE_NAME, province),
            (NameOID.ORGANIZATION_NAME, f"UBND {province}"),
            (NameOID.COMMON_NAME, f"Provincial Root CA - {province}"),
        )
        root_builder = (
            x509.CertificateBuilder()
            .subject_name(root_name)
            .issuer_name(root_name)
            .public_key(root_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + VALIDITY["root"])
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(_ca_key_usage(), critical=True)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False
            )
        )
        root = root_builder.sign(private_key=root_key, **x509_sign_kwargs(root_key))
        pki._store("root", "root", root, root_key, issuer="root", name=f"Root CA {province}")

        issuing_key = generate_key(alg)
        issuing_name = _name(
            (NameOID.COUNTRY_NAME, "VN"),
            (NameOID.STATE_OR_PROVINCE_NAME, province),
            (NameOID.ORGANIZATION_NAME, f"UBND {province}"),
            (NameOID.COMMON_NAME, f"Provincial Issuing CA - {province}"),
        )
        issuing = pki._build(
            subject=issuing_name,
            public_key=issuing_key.public_key(),
            issuer_cert=root,
            issuer_key=root_key,
            issuer_ca_name="root",
            not_after=now + VALIDITY["issuing"],
            ca=True,
            ocsp=False,
        )
        pki._store("issuing", "issuing", issuing, issuing_key, issuer="root", name=province)
        pki._save_index()

        pki._issue_service("ocsp", province)
        pki._issue_service("tsa", province)
        pki._save_index()
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
    ) -> ProvincialPKI:
        """Open an existing PKI and check the passphrase by decrypting the issuing CA key.

        With an ``index_store`` that holds no index yet while ``directory`` has an
        ``index.json``, that index moves into the store (once; the file is renamed).
        Raises PkiNotInitialisedError if there is no PKI in ``directory``,
        WrongPassphraseError if the passphrase does not open the keys.
        """
        directory = Path(directory)
        store = index_store or FileIndexStore(directory)
        legacy = FileIndexStore(directory)
        if index_store is not None and legacy.path.exists():
            with store.locked():
                if store.version() is None:
                    index, _ = legacy.read()
                    store.write(index)
                    legacy.path.rename(legacy.path.with_suffix(".json.moved"))
                    logger.info("PKI index moved from %s into the index store", legacy.path)
        if store.version() is None:
            raise PkiNotInitialisedError()
        pki = cls(directory, passphrase=passphrase, base_url=base_url, index_store=store)
        pki._refresh()
        pki._key_of(pki._ca_record("issuing").serial)
        return pki

    def refresh(self) -> int:
        """Re-read the index if another process changed it; return :attr:`generation`."""
        self._refresh()
        return self.generation

    # --- properties ---------------------------------------------------------------------------

    @property
    def province(self) -> str:
        return str(self._index.get("province", ""))

    @property
    def algorithm(self) -> Algorithm:
        return check_algorithm(str(self._index.get("algorithm", "rsa-pss")))

    # --- index ----------------------------------------------------------------------------------

    def _index_path(self) -> Path:
        return self.directory / "index.json"

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the index for a change, against this process's threads and every other
        process (the index store's lock), with the index re-read under the lock: a change
        made by ``certify pki`` while the service runs, or by two commands at once, is never
        lost (issue 8.1: revocations lost to a read-modify-write race)."""
        with self._lock:
            if self._write_depth:
                self._write_depth += 1
                try:
                    yield
                finally:
                    self._write_depth -= 1
                return
            with self._index_store.locked():
                self._write_depth = 1
                try:
                    self._index_version = None  # re-read under the lock
                    self._refresh()
                    yield
                finally:
                    self._write_depth = 0

    def _refresh(self) -> None:
        with self._lock:
            version = self._index_store.version()
            if version is None:
                raise PkiNotInitialisedError()
            if version == self._index_version:
                return
            try:
                index, version = self._index_store.read()
            except (OSError, ValueError) as exc:
                raise UnreadableKeyMaterialError(
                    "Không đọc được chỉ mục PKI. / The PKI index cannot be read."
                ) from exc
            if index.get("format") != INDEX_FORMAT:
                raise UnreadableKeyMaterialError("Unsupported PKI index format.")
            self._index = index
            self._index_version = version
            self._ocsp = None  # status lookup reads the index; responder rebuilt lazily
            self.generation += 1

    def _save_index(self) -> None:
        with self._lock:
            self._index_version = self._index_store.write(self._index)
            self.generation += 1

    def _entries(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self._index.setdefault("certificates", [])
        return entries

    def _entry(self, serial: int) -> dict[str, Any]:
        for e in self._entries():
            if int(e["serial"]) == serial:
                return e
        raise NoCertificateError(
            f"Không tìm thấy chứng thư số có số hiệu {serial:x}. / No certificate with serial "
            f"{serial:x}."
        )

    def _cert_path(self, serial: int) -> Path:
        return self.directory / "certs" / f"{serial:x}.pem"

    def _key_path(self, serial: int) -> Path:
        """The key file of ``serial``: PKCS#12 (``.key.p12``) as written now, or the PKCS#8
        PEM (``.key.pem``) a key written before was kept in."""
        legacy = self.directory / "private" / f"{serial:x}.key.pem"
        return legacy if legacy.exists() else self.directory / "private" / f"{serial:x}.key.p12"

    def _store(
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
        serial = cert.serial_number
        write_file(self._cert_path(serial), cert.public_bytes(serialization.Encoding.PEM))
        if key is not None:
            write_file(self._key_path(serial), encrypt_private_key(key, self._passphrase))
            self._keys[serial] = key
            key_ref = "file"
        self._entries().append(
            {
                "serial": str(serial),
                "kind": kind,
                "holder": holder,
                "subject": cert.subject.rfc4514_string(),
                "not_before": _iso(cert.not_valid_before_utc),
                "not_after": _iso(cert.not_valid_after_utc),
                "issuer": issuer,
                "key_ref": key_ref,
                "name": name,
                "authority_code": authority_code,
                "revoked_at": None,
                "reason": None,
                "sha256": cert.fingerprint(_sha256()).hex(),
                # The certificate itself, so that the index alone is the truth (the file in
                # certs/ is a copy for tools) and an index kept in a database is complete.
                "pem": cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
            }
        )

    def _record(self, e: dict[str, Any], now: dt.datetime) -> CertificateRecord:
        nb = dt.datetime.fromisoformat(e["not_before"])
        na = dt.datetime.fromisoformat(e["not_after"])
        revoked_at = _parse_time(e.get("revoked_at"))
        if revoked_at is not None:
            status = "revoked"
        elif now > na:
            status = "expired"
        elif now < nb:
            status = "not_yet_valid"
        else:
            status = "valid"
        return CertificateRecord(
            serial=int(e["serial"]),
            subject=e["subject"],
            kind=e["kind"],
            holder=e["holder"],
            not_before=nb,
            not_after=na,
            status=status,
            revoked_at=revoked_at,
            revocation_reason=e.get("reason"),
            issuer=e.get("issuer", "issuing"),
            key_ref=e.get("key_ref"),
            name=e.get("name"),
            authority_code=e.get("authority_code"),
        )

    # --- reading ----------------------------------------------------------------------------

    def list(self) -> list[CertificateRecord]:
        """Every certificate on file (ours and imported), oldest first."""
        with self._lock:
            self._refresh()
            now = utcnow()
            return [self._record(e, now) for e in self._entries()]

    def record(self, serial: int) -> CertificateRecord:
        """The record of one serial. Raises NoCertificateError."""
        with self._lock:
            self._refresh()
            return self._record(self._entry(serial), utcnow())

    def certificate(self, serial: int) -> x509.Certificate:
        """The certificate with ``serial``. Raises NoCertificateError."""
        entry = self._entry(serial)
        try:
            if entry.get("pem"):
                return x509.load_pem_x509_certificate(str(entry["pem"]).encode("ascii"))
            return x509.load_pem_x509_certificate(self._cert_path(serial).read_bytes())
        except (OSError, ValueError) as exc:
            raise UnreadableKeyMaterialError() from exc

    def _ca_record(self, name: str) -> CertificateRecord:
        for rec in reversed(self.list()):
            if rec.kind == name and rec.issuer in ("root", "issuing"):
                return rec
        raise NoCertificateError(f"Không có CA {name!r}. / No CA named {name!r}.")

    def ca_certificate(self, name: str) -> x509.Certificate:
        """The CA certificate called ``name`` ("root" or "issuing"). Raises NoCertificateError."""
        if name not in CA_NAMES:
            raise NoCertificateError(f"Không có CA {name!r}. / No CA named {name!r}.")
        return self.certificate(self._ca_record(name).serial)

    def ca_certificate_der(self, name: str) -> bytes:
        """DER of :meth:`ca_certificate` (served at /pki/ca/{name}.crt)."""
        return self.ca_certificate(name).public_bytes(serialization.Encoding.DER)

    def trust_roots(self) -> builtins.list[x509.Certificate]:
        """Self-signed roots to trust: the provincial root and every imported root."""
        roots = [self.ca_certificate("root")]
        for rec in self.list():
            if rec.kind == "chain" and rec.holder == "root":
                roots.append(self.certificate(rec.serial))
        return roots

    def intermediates(self) -> builtins.list[x509.Certificate]:
        """Non-root CA certificates known: the issuing CA and imported intermediates."""
        certs = [self.ca_certificate("issuing")]
        for rec in self.list():
            if rec.kind == "chain" and rec.holder != "root":
                certs.append(self.certificate(rec.serial))
        return certs

    def chain_of(self, cert: x509.Certificate) -> tuple[x509.Certificate, ...]:
        """The chain above ``cert`` (issuer first, root last) among the CAs on file.

        Raises IncompleteChainError (via keys.imports.build_chain) when none reaches a root.
        """
        from keys.imports import build_chain

        return tuple(build_chain(cert, self.intermediates(), self.trust_roots())[1:])

    def find(self, kind: str, holder: str) -> IssuedCertificate:
        """The newest currently valid certificate of ``kind`` held by ``holder``.

        Raises NoCertificateError if there is none (never issued, revoked or expired).
        """
        candidates = [
            r for r in self.list() if r.kind == kind and r.holder == holder and r.status == "valid"
        ]
        if not candidates:
            raise NoCertificateError(
                f"Không có chứng thư số còn hiệu lực cho {holder!r}. / "
                f"No valid {kind} certificate for {holder!r}."
            )
        rec = max(candidates, key=lambda r: r.not_before)
        cert = self.certificate(rec.serial)
        return IssuedCertificate(
            serial=rec.serial,
            kind=rec.kind,
            holder=rec.holder,
            certificate=cert,
            chain=self.chain_of(cert),
            key_ref=rec.key_ref,
        )

    def private_key(self, serial: int) -> PrivateKeyTypes:
        """Decrypt the private key of ``serial`` (cached in memory after the first time).

        Raises NoCertificateError, KeyMaterialError if the key is not held in a file here
        (e.g. on a PKCS#11 token), WrongPassphraseError.
        """
        return self._key_of(serial)

    def _key_of(self, serial: int) -> PrivateKeyTypes:
        with self._lock:
            if serial in self._keys:
                return self._keys[serial]
            entry = self._entry(serial)
            if entry.get("key_ref") != "file":
                raise KeyMaterialError(
                    "Khoá bí mật của chứng thư này không được lưu trong tệp. / "
                    "This certificate's private key is not held in a file."
                )
            try:
                data = self._key_path(serial).read_bytes()
            except OSError as exc:
                raise UnreadableKeyMaterialError() from exc
            key = decrypt_private_key(data, self._passphrase)
            self._keys[serial] = key
            return key

    def key_path(self, serial: int) -> Path:
        """Where the encrypted key of ``serial`` lives (it may not exist)."""
        return self._key_path(serial)

    # --- building certificates -------------------------------------------------------------

    def _build(
        self,
        *,
        subject: x509.Name,
        public_key: PublicKeyTypes,
        issuer_cert: x509.Certificate,
        issuer_key: PrivateKeyTypes,
        issuer_ca_name: str,
        not_after: dt.datetime,
        ca: bool = False,
        ocsp: bool = True,
        key_usage: x509.KeyUsage | None = None,
        eku: Sequence[x509.ObjectIdentifier] = (),
        eku_critical: bool = False,
        extra: Iterable[tuple[x509.ExtensionType, bool]] = (),
    ) -> x509.Certificate:
        if not isinstance(issuer_key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise KeyMaterialError("Unsupported CA key type.")
        now = utcnow()
        # RFC 5280 §6.1.3: a certificate outliving its issuer cannot be validated after.
        not_after = min(not_after, issuer_cert.not_valid_after_utc)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer_cert.subject)
            .public_key(public_key)  # type: ignore[arg-type]
            # RFC 5280 §4.1.2.2: positive, at most 20 octets, unpredictable.
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(not_after)
            .add_extension(
                x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True
            )
            .add_extension(
                key_usage or (_ca_key_usage() if ca else _signing_key_usage()), critical=True
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)  # type: ignore[arg-type]
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_cert.public_key()),  # type: ignore[arg-type]
                critical=False,
            )
        )
        aia = [
            x509.AccessDescription(
                AuthorityInformationAccessOID.CA_ISSUERS,
                x509.UniformResourceIdentifier(f"{self.base_url}/pki/ca/{issuer_ca_name}.crt"),
            )
        ]
        if ocsp:
            aia.insert(
                0,
                x509.AccessDescription(
                    AuthorityInformationAccessOID.OCSP,
                    x509.UniformResourceIdentifier(f"{self.base_url}/pki/ocsp"),
                ),
            )
        builder = builder.add_extension(x509.AuthorityInformationAccess(aia), critical=False)
        builder = builder.add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        full_name=[
                            x509.UniformResourceIdentifier(
                                f"{self.base_url}/pki/crl/{issuer_ca_name}.crl"
                            )
                        ],
                        relative_name=None,
                        reasons=None,
                        crl_issuer=None,
                    )
                ]
            ),
            critical=False,
        )
        if eku:
            builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=eku_critical)
        for ext, critical in extra:
            builder = builder.add_extension(ext, critical=critical)
        return builder.sign(private_key=issuer_key, **x509_sign_kwargs(issuer_key))

    def _issuer(self) -> tuple[x509.Certificate, CertificateIssuerPrivateKeyTypes]:
        rec = self._ca_record("issuing")
        key = self._key_of(rec.serial)
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise KeyMaterialError("Unsupported CA key type.")
        return self.certificate(rec.serial), key

    def _issue_service(self, kind: Literal["ocsp", "tsa"], province: str) -> None:
        issuer_cert, issuer_key = self._issuer()
        # The TSA signs with ECDSA P-256 whatever the PKI's algorithm (TT 15/2025 allows it):
        # OpenSSL's RFC 3161 verifier (PKCS#7 code) cannot check RSASSA-PSS SignerInfos, and
        # relying parties commonly verify tokens with it.
        key = generate_key("ecdsa-p256" if kind == "tsa" else self.algorithm)
        if kind == "ocsp":
            # RFC 6960 §4.2.2.2: delegated responder, id-kp-OCSPSigning; §4.2.2.2.1 nocheck.
            cert = self._build(
                subject=_name(
                    (NameOID.COUNTRY_NAME, "VN"),
                    (NameOID.STATE_OR_PROVINCE_NAME, province),
                    (NameOID.COMMON_NAME, f"OCSP Responder - {province}"),
                ),
                public_key=key.public_key(),
                issuer_cert=issuer_cert,
                issuer_key=issuer_key,
                issuer_ca_name="issuing",
                not_after=utcnow() + VALIDITY["ocsp"],
                ocsp=False,
                key_usage=_usage(digital_signature=True),
                eku=[ExtendedKeyUsageOID.OCSP_SIGNING],
                extra=[(x509.OCSPNoCheck(), False)],
            )
        else:
            # RFC 3161 §2.3: the TSA certificate has exactly one EKU, timeStamping, critical.
            cert = self._build(
                subject=_name(
                    (NameOID.COUNTRY_NAME, "VN"),
                    (NameOID.STATE_OR_PROVINCE_NAME, province),
                    (NameOID.COMMON_NAME, f"Time Stamping Authority - {province}"),
                ),
                public_key=key.public_key(),
                issuer_cert=issuer_cert,
                issuer_key=issuer_key,
                issuer_ca_name="issuing",
                not_after=utcnow() + VALIDITY["tsa"],
                key_usage=_usage(digital_signature=True, content_commitment=True),
                eku=[ExtendedKeyUsageOID.TIME_STAMPING],
                eku_critical=True,
            )
        self._store(kind, kind, cert, key, issuer="issuing", name=kind)

    def _issue_end_entity(
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
    ) -> IssuedCertificate:
        with self._writing():
            issuer_cert, issuer_key = self._issuer()
            key: PrivateKeyTypes | None = None
            if public_key is None:
                key = generate_key(self.algorithm)
                public_key = key.public_key()
            elif not isinstance(public_key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
                raise KeyMaterialError("Chỉ hỗ trợ khoá RSA hoặc ECDSA. / Only RSA or EC keys.")
            elif isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size < 2048:
                # TT 15/2025/TT-BKHCN: RSA keys of at least 2048 bits.
                raise KeyMaterialError("Khoá RSA phải ≥ 2048 bit. / RSA keys must be ≥ 2048 bits.")
            cert = self._build(
                subject=subject,
                public_key=public_key,
                issuer_cert=issuer_cert,
                issuer_key=issuer_key,
                issuer_ca_name="issuing",
                not_after=utcnow() + validity,
            )
            self._store(
                kind,
                holder,
                cert,
                key,
                issuer="issuing",
                key_ref=key_ref,
                name=name,
                authority_code=authority_code,
            )
            self._save_index()
            return IssuedCertificate(
                serial=cert.serial_number,
                kind=kind,
                holder=holder,
                certificate=cert,
                chain=(issuer_cert, self.ca_certificate("root")),
                key_ref="file" if key is not None else key_ref,
            )

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
        Raises KeyMaterialError for an unusable public key, WrongPassphraseError.
        """
        prov = province or self.province
        subject = _name(
            (NameOID.COUNTRY_NAME, "VN"),
            (NameOID.STATE_OR_PROVINCE_NAME, prov),
            (NameOID.LOCALITY_NAME, prov),
            (NameOID.ORGANIZATION_NAME, name),
            (NameOID.ORGANIZATIONAL_UNIT_NAME, code),
            (NameOID.COMMON_NAME, name),
        )
        return self._issue_end_entity(
            kind="authority",
            holder=code,
            subject=subject,
            public_key=public_key,
            key_ref=key_ref,
            validity=validity or VALIDITY["authority"],
            name=name,
            authority_code=code,
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
        KeyMaterialError for an unusable public key.
        """
        if authority_name is None:
            recs = [
                r
                for r in self.list()
                if r.kind == "authority" and r.holder == authority_code and r.name
            ]
            if not recs:
                raise NoCertificateError(
                    f"Không tìm thấy cơ quan {authority_code!r}. / Unknown authority "
                    f"{authority_code!r}: issue its seal first or give its name."
                )
            authority_name = recs[-1].name
        subject = _name(
            (NameOID.COUNTRY_NAME, "VN"),
            (NameOID.STATE_OR_PROVINCE_NAME, self.province),
            (NameOID.ORGANIZATION_NAME, authority_name),
            (NameOID.TITLE, title),
            (NameOID.COMMON_NAME, full_name),
            (NameOID.USER_ID, username),
        )
        return self._issue_end_entity(
            kind="officer",
            holder=username,
            subject=subject,
            public_key=public_key,
            key_ref=key_ref,
            validity=validity or VALIDITY["officer"],
            name=full_name,
            authority_code=authority_code,
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
        from keys._crypto import is_self_signed

        with self._writing():
            known = {e.get("sha256") for e in self._entries()}
            for ca in chain:
                if ca.fingerprint(_sha256()).hex() in known:
                    continue
                holder_ca = "root" if is_self_signed(ca) else "intermediate"
                self._store("chain", holder_ca, ca, None, issuer="external", name=None)
                known.add(ca.fingerprint(_sha256()).hex())
            self._store(
                kind,
                holder,
                certificate,
                private_key,
                issuer="external",
                key_ref=key_ref,
                name=name,
                authority_code=authority_code,
            )
            self._save_index()
            return IssuedCertificate(
                serial=certificate.serial_number,
                kind=kind,
                holder=holder,
                certificate=certificate,
                chain=tuple(chain),
                key_ref="file" if private_key is not None else key_ref,
            )

    # --- revocation ---------------------------------------------------------------------------

    def orphans(self) -> builtins.list[Path]:
        """Certificate and key files that no index entry names (left by a process killed
        between writing a file and the index). ``certify pki check`` reports them."""
        with self._writing():
            known = {f"{int(e['serial']):x}" for e in self._entries()}
        found = []
        for folder, suffix in (("certs", ".pem"), ("private", ".key.pem"), ("private", ".key.p12")):
            for path in sorted((self.directory / folder).glob(f"*{suffix}")):
                if path.name.removesuffix(suffix) not in known:
                    found.append(path)
        return found

    def revoke(self, serial: int, reason: str) -> CertificateRecord:
        """Revoke the certificate ``serial`` (ours) for an RFC 5280 §5.3.1 ``reason``.

        The CRL is regenerated at once. Raises NoCertificateError, InvalidRevocationReasonError
        (also for revoking the root, which no CRL can do).
        """
        reason_flag(reason)
        with self._writing():
            entry = self._entry(serial)
            if entry["issuer"] not in CA_NAMES or entry["kind"] == "root":
                raise InvalidRevocationReasonError(
                    "Chỉ thu hồi được chứng thư do CA của tỉnh cấp. / "
                    "Only certificates issued by the provincial CAs can be revoked here."
                )
            if entry.get("revoked_at") is None:
                entry["revoked_at"] = _iso(utcnow())
                entry["reason"] = reason
                self._save_index()
                self._ocsp = None
                self.crl_der(entry["issuer"])
                logger.info("revoked certificate %x (%s)", serial, reason)
            return self._record(entry, utcnow())

    def status(self, serial: int, *, issuer: str = "issuing") -> CertStatus:
        """Revocation status of ``serial`` among certificates ``issuer`` issued."""
        with self._lock:
            self._refresh()
            for e in self._entries():
                if int(e["serial"]) == serial and e.get("issuer") == issuer:
                    revoked_at = _parse_time(e.get("revoked_at"))
                    if revoked_at is not None:
                        return CertStatus("revoked", revoked_at, e.get("reason"))
                    return CertStatus("good")
            return CertStatus("unknown")

    def crl(self, name: str = "issuing") -> x509.CertificateRevocationList:
        """The current CRL of CA ``name``. Raises NoCertificateError."""
        return x509.load_der_x509_crl(self.crl_der(name))

    def crl_der(self, name: str = "issuing") -> bytes:
        """DER of the current CRL of ``name`` (served at /pki/crl/{name}.crl).

        Regenerated when a revocation changed the list or the CRL is older than the schedule
        period (keys.crl.DEFAULT_PERIOD); the new CRL is written to ``crl/{name}.crl``.
        Raises NoCertificateError for an unknown CA name.
        """
        if name not in CA_NAMES:
            raise NoCertificateError(f"Không có CRL {name!r}. / No CRL named {name!r}.")
        with self._lock:
            self._refresh()
            revoked = [
                RevokedEntry(int(e["serial"]), _parse_time(e["revoked_at"]), e["reason"])  # type: ignore[arg-type]
                for e in self._entries()
                if e.get("issuer") == name and e.get("revoked_at")
            ]
            state = ",".join(sorted(f"{r.serial:x}" for r in revoked))
            cache = self._crl_caches[name]
            path = self.directory / "crl" / f"{name}.crl"
            last_number = 0
            if cache._current is None and path.exists():
                cache.prime(_cached_from_disk(path.read_bytes()))
            ca_rec = self._ca_record(name)

            def build(number: int, this: dt.datetime, nxt: dt.datetime) -> CachedCrl:
                key = self._key_of(ca_rec.serial)
                if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
                    raise KeyMaterialError("Unsupported CA key type.")
                crl = build_crl(
                    issuer_cert=self.certificate(ca_rec.serial),
                    issuer_key=key,
                    revoked=revoked,
                    number=number,
                    this_update=this,
                    next_update=nxt,
                )
                return CachedCrl(crl_der(crl), number, this, nxt, state)

            cached, rebuilt = cache.get(
                now=utcnow(), state=state, build=build, last_number=last_number
            )
            if rebuilt:
                write_file(path, cached.der, mode=0o644)
            return cached.der

    # --- services ---------------------------------------------------------------------------------

    @property
    def ocsp_responder(self) -> OcspResponder:
        """The delegated OCSP responder of the issuing CA."""
        with self._lock:
            self._refresh()
            if self._ocsp is None:
                rec = self._service_record("ocsp")
                key = self._key_of(rec.serial)
                if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
                    raise KeyMaterialError("Unsupported OCSP key type.")
                self._ocsp = OcspResponder(
                    issuer_cert=self.ca_certificate("issuing"),
                    responder_cert=self.certificate(rec.serial),
                    responder_key=key,
                    lookup=self.status,
                )
            return self._ocsp

    @property
    def tsa(self) -> TimeStampAuthority:
        """The province's RFC 3161 time-stamp authority."""
        with self._lock:
            self._refresh()
            if self._tsa is None:
                rec = self._service_record("tsa")
                key = self._key_of(rec.serial)
                if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
                    raise KeyMaterialError("Unsupported TSA key type.")
                self._tsa = TimeStampAuthority(
                    cert=self.certificate(rec.serial),
                    key=key,
                    chain=(self.ca_certificate("issuing"), self.ca_certificate("root")),
                )
            return self._tsa

    def _service_record(self, kind: str) -> CertificateRecord:
        recs = [r for r in self.list() if r.kind == kind and r.status == "valid"]
        if not recs:
            raise NoCertificateError(f"No valid {kind} certificate.")
        return recs[-1]

    def ocsp_respond(self, request_der: bytes) -> bytes:
        """See :meth:`keys.ocsp.OcspResponder.respond`. Raises MalformedOcspRequestError."""
        return self.ocsp_responder.respond(request_der)

    def tsa_respond(self, query_der: bytes) -> bytes:
        """See :meth:`keys.tsa.TimeStampAuthority.respond`.
        Raises MalformedTimestampRequestError."""
        return self.tsa.respond(query_der)

    def ocsp_response_for(self, cert: x509.Certificate) -> bytes:
        """A fresh DER OCSP response about ``cert`` (to embed as revocation info)."""
        from keys.ocsp import build_request

        return self.ocsp_respond(build_request(cert, self.ca_certificate("issuing")))


def _cached_from_disk(der: bytes) -> CachedCrl | None:
    try:
        crl = x509.load_der_x509_crl(der)
        number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except (ValueError, x509.ExtensionNotFound):
        return None
    state = ",".join(sorted(f"{r.serial_number:x}" for r in crl))
    nxt = crl.next_update_utc
    if nxt is None:
        return None
    return CachedCrl(der, number, crl.last_update_utc, nxt, state)


def _usage(*, digital_signature: bool = False, content_commitment: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=content_commitment,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _signing_key_usage() -> x509.KeyUsage:
    # Signing certificates: digitalSignature + nonRepudiation (contentCommitment), critical
    # (RFC 5280 §4.2.1.3; ETSI EN 319 412-2 §4.3.2 for non-repudiation signatures).
    return _usage(digital_signature=True, content_commitment=True)


def _ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def _sha256() -> Any:
    from cryptography.hazmat.primitives import hashes

    return hashes.SHA256()


def load_certificate_file(path: Path) -> list[x509.Certificate]:
    """Certificates from a PEM or DER file. Raises UnreadableKeyMaterialError."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UnreadableKeyMaterialError(f"Cannot read {path}.") from exc
    return load_certificates(data)


__all__ = [
    "CA_NAMES",
    "CertificateRecord",
    "IssuedCertificate",
    "PkiEndpoints",
    "ProvincialPKI",
    "load_certificate_file",
]
