"""The PKI's certificate index: one JSON document, read and replaced whole, under an
exclusive lock across processes while it changes, and the records read from it.

:class:`FileIndexStore` keeps it in ``index.json`` beside the keys (``index.lock`` for the
lock); ``storage.pki_index.SqlIndexStore`` keeps it in the register database, where every
replica of the service shares it and a change is one transaction (issue 8.1).
:class:`CertificateIndex` is the index in memory: what :class:`keys.ca.ProvincialPKI`
records and asks (records, revocations, a holder's current certificate), re-read when
another process changed it.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from keys._crypto import write_file
from keys.crl import RevokedEntry
from keys.errors import (
    CertificateRevokedError,
    InvalidRevocationReasonError,
    NoCertificateError,
    PkiNotInitialisedError,
    UnreadableKeyMaterialError,
)
from keys.ocsp import CertStatus

logger = logging.getLogger(__name__)

INDEX_FORMAT = 1
# The CA names of a PKI never renewed, used in URLs: /pki/ca/{name}.crt and
# /pki/crl/{name}.crl. A renewed issuing CA gets a name of its own ("issuing-g2", ...;
# keys.rollover), so that the URLs in certificates issued before keep naming their issuer.
CA_NAMES = ("root", "issuing")
# The kinds of our CA certificates; their "holder" is their name in URLs.
CA_KINDS = ("root", "issuing")


class IndexStore(Protocol):
    """The PKI index's home. ``version`` changes on every write (None: no index yet)."""

    def version(self) -> object | None: ...

    def read(self) -> tuple[dict[str, Any], object]: ...

    def write(self, index: dict[str, Any]) -> object: ...

    def locked(self) -> Any:
        """A context manager holding the index exclusively (all processes) until it exits;
        ``read`` and ``write`` inside it see and make the change."""
        ...


class FileIndexStore:
    """``index.json`` in the PKI directory, replaced atomically; ``index.lock`` is locked
    with ``flock`` while it changes."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / "index.json"
        self._lock_path = Path(directory) / "index.lock"

    def version(self) -> object | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        # Replaced atomically (a new inode) on every write, whatever the clock's resolution.
        return (st.st_ino, st.st_mtime_ns)

    def read(self) -> tuple[dict[str, Any], object]:
        """Raises OSError or ValueError for a missing or unreadable index."""
        version = self.version()
        index = json.loads(self.path.read_text(encoding="utf-8"))
        if not isinstance(index, dict):
            raise ValueError("the PKI index is not a JSON object")  # noqa: TRY004 - bad data
        return index, version

    def write(self, index: dict[str, Any]) -> object:
        data = json.dumps(index, ensure_ascii=False, indent=2).encode("utf-8")
        write_file(self.path, data)
        version = self.version()
        assert version is not None  # noqa: S101 - just written
        return version

    @contextmanager
    def locked(self) -> Iterator[None]:
        self._lock_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def adopt_file_index(store: IndexStore, directory: Path) -> None:
    """Move an ``index.json`` in ``directory`` into ``store`` if the store holds no index
    yet (once; the file is renamed ``index.json.moved``)."""
    legacy = FileIndexStore(directory)
    if not legacy.path.exists():
        return
    with store.locked():
        if store.version() is None:
            index, _ = legacy.read()
            store.write(index)
            legacy.path.rename(legacy.path.with_suffix(".json.moved"))
            logger.info("PKI index moved from %s into the index store", legacy.path)


@dataclass(frozen=True)
class CertificateRecord:
    """One certificate as the index knows it. ``status``: valid, revoked, expired,
    not_yet_valid. ``issuer``: the name of our CA that issued it (root, issuing, issuing-g2,
    ...) or external (imported). A CA's own name is its ``holder``."""

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


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).isoformat()


def _parse_time(s: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(s) if s else None


def sha256_hex(cert: x509.Certificate) -> str:
    """The certificate's SHA-256 fingerprint, as the index keeps it."""
    return cert.fingerprint(hashes.SHA256()).hex()


class CertificateIndex:
    """The index in memory, kept in step with its :class:`IndexStore`.

    Thread-safe through :attr:`lock` (an RLock the PKI shares, so that one lock orders the
    index, the CRLs and the services). ``on_reload`` runs whenever the index is re-read.
    Readers call :meth:`refresh` (the public ones do it themselves); changes happen inside
    :meth:`writing` and end with :meth:`save`.
    """

    def __init__(
        self,
        store: IndexStore,
        *,
        cert_copy: Callable[[int], Path],
        on_reload: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self._cert_copy = cert_copy  # a serial's PEM copy, read for entries older than "pem"
        self.lock = threading.RLock()
        self._data: dict[str, Any] = {}
        self._version: object | None = None
        self._write_depth = 0
        self._on_reload = on_reload
        # Bumped on every change of the index, so caches (signers) know to drop entries.
        self.generation = 0

    def start(self, *, province: str, algorithm: str) -> None:
        """Begin an empty index (for ``ProvincialPKI.init``; :meth:`save` writes it)."""
        self._data = {
            "format": INDEX_FORMAT,
            "province": province,
            "algorithm": algorithm,
            "certificates": [],
        }

    @property
    def province(self) -> str:
        return str(self._data.get("province", ""))

    @property
    def algorithm(self) -> str:
        return str(self._data.get("algorithm", "rsa-pss"))

    # --- keeping in step with the store ------------------------------------------------------

    def refresh(self) -> None:
        """Re-read the index if the store's version changed.

        Raises PkiNotInitialisedError (no index), UnreadableKeyMaterialError.
        """
        with self.lock:
            version = self.store.version()
            if version is None:
                raise PkiNotInitialisedError()
            if version == self._version:
                return
            try:
                data, version = self.store.read()
            except (OSError, ValueError) as exc:
                raise UnreadableKeyMaterialError(
                    "Không đọc được chỉ mục PKI. / The PKI index cannot be read."
                ) from exc
            if data.get("format") != INDEX_FORMAT:
                raise UnreadableKeyMaterialError("Unsupported PKI index format.")
            self._data = data
            self._version = version
            self._on_reload()
            self.generation += 1

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the index for a change, against this process's threads and every other
        process (the index store's lock), with the index re-read under the lock: a change
        made by ``certify pki`` while the service runs, or by two commands at once, is never
        lost (issue 8.1: revocations lost to a read-modify-write race)."""
        with self.lock:
            if self._write_depth:
                self._write_depth += 1
                try:
                    yield
                finally:
                    self._write_depth -= 1
                return
            with self.store.locked():
                self._write_depth = 1
                try:
                    self._version = None  # re-read under the lock
                    self.refresh()
                    yield
                finally:
                    self._write_depth = 0

    def save(self) -> None:
        with self.lock:
            self._version = self.store.write(self._data)
            self.generation += 1

    # --- entries --------------------------------------------------------------------------------

    def _entries(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self._data.setdefault("certificates", [])
        return entries

    def entry(self, serial: int) -> dict[str, Any]:
        """The raw entry of ``serial`` (as read last). Raises NoCertificateError."""
        for e in self._entries():
            if int(e["serial"]) == serial:
                return e
        raise NoCertificateError(
            f"Không tìm thấy chứng thư số có số hiệu {serial:x}. / No certificate with serial "
            f"{serial:x}."
        )

    def add(
        self,
        kind: str,
        holder: str,
        cert: x509.Certificate,
        *,
        issuer: str,
        key_ref: str | None,
        name: str | None,
        authority_code: str | None,
    ) -> None:
        """Append the entry of ``cert`` (inside :meth:`writing`, then :meth:`save`)."""
        pem = cert.public_bytes(serialization.Encoding.PEM)
        self._entries().append(
            {
                "serial": str(cert.serial_number),
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
                "sha256": sha256_hex(cert),
                # The certificate itself, so that the index alone is the truth (the file in
                # certs/ is a copy for tools) and an index kept in a database is complete.
                "pem": pem.decode("ascii"),
            }
        )

    def certificate(self, serial: int) -> x509.Certificate:
        """The certificate with ``serial``. Raises NoCertificateError,
        UnreadableKeyMaterialError."""
        pem = self.entry(serial).get("pem")
        try:
            data = str(pem).encode("ascii") if pem else self._cert_copy(serial).read_bytes()
            return x509.load_pem_x509_certificate(data)
        except (OSError, ValueError) as exc:
            raise UnreadableKeyMaterialError() from exc

    def fingerprints(self) -> set[str]:
        """SHA-256 fingerprints of every certificate on file."""
        return {str(e.get("sha256")) for e in self._entries()}

    def serials_hex(self) -> set[str]:
        return {f"{int(e['serial']):x}" for e in self._entries()}

    def revoke(self, serial: int, reason: str, now: dt.datetime) -> tuple[CertificateRecord, bool]:
        """Record the revocation of ``serial`` and save; the record, and False if it was
        revoked already. Inside :meth:`writing`.

        Raises NoCertificateError, InvalidRevocationReasonError (not ours, or the root).
        """
        entry = self.entry(serial)
        if entry["issuer"] not in self.ca_names() or entry["kind"] == "root":
            raise InvalidRevocationReasonError(
                "Chỉ thu hồi được chứng thư do CA của tỉnh cấp. / "
                "Only certificates issued by the provincial CAs can be revoked here."
            )
        changed = entry.get("revoked_at") is None
        if changed:
            entry["revoked_at"] = _iso(now)
            entry["reason"] = reason
            self.save()
        return self.to_record(entry, now), changed

    # --- records ----------------------------------------------------------------------------------

    @staticmethod
    def to_record(e: dict[str, Any], now: dt.datetime) -> CertificateRecord:
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

    def records(self, now: dt.datetime) -> list[CertificateRecord]:
        """Every certificate on file (ours and imported), oldest first, status at ``now``."""
        with self.lock:
            self.refresh()
            return [self.to_record(e, now) for e in self._entries()]

    def ca_records(self, now: dt.datetime, kind: str | None = None) -> list[CertificateRecord]:
        """Our CA certificates (of ``kind``, "root" or "issuing", if given), oldest first:
        one per generation, the holder being the CA's name in URLs."""
        return [
            r
            for r in self.records(now)
            if r.kind in CA_KINDS and r.issuer != "external" and kind in (None, r.kind)
        ]

    def ca_names(self) -> list[str]:
        """The names of our CAs ("root", "issuing", "issuing-g2", ...), oldest first."""
        with self.lock:
            self.refresh()
            names = [
                str(e["holder"])
                for e in self._entries()
                if e["kind"] in CA_KINDS and e.get("issuer") != "external"
            ]
        return list(dict.fromkeys(names))

    def ca_record(self, name: str, now: dt.datetime) -> CertificateRecord:
        """The newest CA certificate of ours called ``name``. Raises NoCertificateError."""
        for rec in reversed(self.ca_records(now)):
            if rec.holder == name:
                return rec
        raise NoCertificateError(f"Không có CA {name!r}. / No CA named {name!r}.")

    def current_issuing(self, now: dt.datetime) -> CertificateRecord:
        """The issuing CA that issues new certificates: the newest valid generation (the
        newest of all when none is valid). Raises NoCertificateError."""
        recs = self.ca_records(now, "issuing")
        valid = [r for r in recs if r.status == "valid"] or recs
        if not valid:
            raise NoCertificateError("Không có CA cấp chứng thư. / No issuing CA.")
        return valid[-1]

    def service_record(
        self, kind: str, now: dt.datetime, issuer: str | None = None
    ) -> CertificateRecord:
        """The newest valid certificate of service ``kind`` ("ocsp", "tsa"), issued by CA
        ``issuer`` if given. Raises NoCertificateError."""
        recs = [
            r
            for r in self.records(now)
            if r.kind == kind and r.status == "valid" and issuer in (None, r.issuer)
        ]
        if not recs:
            raise NoCertificateError(
                f"Không có chứng thư {kind} còn hiệu lực. / No valid {kind} certificate."
            )
        return max(reversed(recs), key=lambda r: r.not_before)

    def authority_name(self, code: str, now: dt.datetime) -> str | None:
        """The name on the newest seal of authority ``code``. Raises NoCertificateError."""
        recs = [r for r in self.records(now) if r.kind == "authority" and r.holder == code]
        if not any(r.name for r in recs):
            raise NoCertificateError(
                f"Không tìm thấy cơ quan {code!r}. / Unknown authority "
                f"{code!r}: issue its seal first or give its name."
            )
        return [r for r in recs if r.name][-1].name

    def current(self, kind: str, holder: str, now: dt.datetime) -> CertificateRecord:
        """The newest currently valid certificate of ``kind`` held by ``holder``.

        Raises CertificateRevokedError when the holder's newest certificate is revoked and
        no valid one is left (a certifier or seal whose only certificate was revoked),
        NoCertificateError when there is none at all (never issued, or expired).
        """
        held = [r for r in self.records(now) if r.kind == kind and r.holder == holder]
        valid = [r for r in held if r.status == "valid"]
        if valid:
            return max(valid, key=lambda r: r.not_before)
        newest = max(reversed(held), key=lambda r: r.not_before, default=None)
        if newest is not None and newest.status == "revoked":
            reason = newest.revocation_reason
            raise CertificateRevokedError(
                f"Chứng thư số của {holder!r} đã bị thu hồi ({reason}). / "
                f"The {kind} certificate of {holder!r} has been revoked ({reason})."
            )
        raise NoCertificateError(
            f"Không có chứng thư số còn hiệu lực cho {holder!r}. / "
            f"No valid {kind} certificate for {holder!r}."
        )

    def status(self, serial: int, issuer: str | None = None) -> CertStatus:
        """Revocation status of ``serial`` among certificates CA ``issuer`` issued (any of
        our CAs if None)."""
        with self.lock:
            self.refresh()
            ours = self.ca_names() if issuer is None else [issuer]
            for e in self._entries():
                if int(e["serial"]) == serial and e.get("issuer") in ours:
                    revoked_at = _parse_time(e.get("revoked_at"))
                    if revoked_at is not None:
                        return CertStatus("revoked", revoked_at, e.get("reason"))
                    return CertStatus("good")
            return CertStatus("unknown")

    def revoked(self, issuer: str) -> list[RevokedEntry]:
        """The revoked certificates ``issuer`` issued, as its CRL lists them."""
        with self.lock:
            self.refresh()
            return [
                RevokedEntry(
                    int(e["serial"]), dt.datetime.fromisoformat(e["revoked_at"]), e["reason"]
                )
                for e in self._entries()
                if e.get("issuer") == issuer and e.get("revoked_at")
            ]
