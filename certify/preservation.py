# pyHanko's PDF reader is not fully annotated; calls into it are Any.
# mypy: disable-error-code="no-untyped-call"
"""Preservation runs: every stored copy stays verifiable for as long as the register is kept.

A copy is issued PAdES B-LTA: its document time-stamp proves the signatures and their
validation data existed then. That proof lasts as long as the time-stamp's TSA certificate
(and its hash algorithm). Before it ends, a run adds the current validation data and a new
document time-stamp over everything (PAdES B-LTA renewal, ETSI EN 319 142-1 §5.5; the chain
of document time-stamps is the evidence record of ETSI EN 319 102-1 §5.6.3), and stores the
result as a new version of the object under Object Lock, recorded in the register.

One run (:meth:`Preserver.run`):

1. takes the lease ``preservation`` in the register database (several replicas may run it
   at once: the others find it held and do nothing);
2. *inspects* copies no run has seen: when their last time-stamp's TSA certificate expires,
   from the validation kept at issue and the PKI's records, without reading the object
   (read only if the record does not say);
3. *renews* the copies due (the TSA certificate ends within the margin, or the time-stamp's
   hash algorithm is one the settings mark as weakening), in due order: the newest version
   is read (its SHA-256 checked against the register), renewed in a temporary file, its
   appended part validated (only this service's own updates, under our roots), stored as a
   new version, and recorded with the copy's next due time and an audit event in one
   transaction.

Each copy is its own step: a run stopped anywhere leaves every copy either renewed and
recorded or as it was, and the next run takes up what is still due (resumable); running it
again when nothing is due changes nothing (idempotent). A version uploaded by a run that
then lost the race to record it stays in the bucket unrecorded (Object Lock forbids
removing it); verification never uses an unrecorded version.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

from pyhanko.pdf_utils.reader import PdfFileReader

from certify.errors import CertifyError, InvalidInputError, RegisterConflictError
from certify.ports import Clock, DocumentEntry, FileCheck, ObjectStore
from certify.preservation_ports import ArchiveState, CopyVersion, PreservationRegister
from certify.verdicts import Validation

log = logging.getLogger(__name__)

LEASE_NAME = "preservation"
_CHUNK = 1024 * 1024


class Renewer(Protocol):
    """Appends validation data and a new document time-stamp (``certify.signing``)."""

    def renew_archive(self, document: BinaryIO, *, md_algorithm: str = "sha256") -> None: ...


# A certificate's SHA-256 (hex) -> its notAfter, or None if the PKI does not know it.
CertificateExpiry = Callable[[str], dt.datetime | None]


@dataclass(frozen=True)
class PreservationPolicy:
    """When a copy is renewed, and how.

    ``margin``: renew once the last time-stamp's TSA certificate ends within this time.
    ``weak_digests``: hash algorithms no longer trusted for long (a time-stamp made with one
    is renewed at once). ``digest_algorithm``: the hash of new archive time-stamps.
    """

    margin: dt.timedelta = dt.timedelta(days=180)
    weak_digests: frozenset[str] = frozenset()
    digest_algorithm: str = "sha256"
    batch: int = 200
    lease_ttl: dt.timedelta = dt.timedelta(minutes=10)

    def __post_init__(self) -> None:
        if self.digest_algorithm in self.weak_digests:
            # Every renewal would be due again at once: a new locked version of every copy
            # on every run.
            raise InvalidInputError(
                "Thuật toán băm cho dấu thời gian mới nằm trong danh sách thuật toán yếu. / "
                f"The archive time-stamps' hash {self.digest_algorithm} is one of the weak "
                "digests.",
                code="preservation_digest_weak",
            )


@dataclass(frozen=True)
class ArchiveStamp:
    """The last document time-stamp of a file."""

    gen_time: dt.datetime
    tsa_not_after: dt.datetime
    digest_algorithm: str


@dataclass
class PreservationReport:
    """What one run did. ``objects_read``/``objects_written`` count object-store reads and
    uploads of copies."""

    lease_held_elsewhere: bool = False
    inspected: int = 0
    renewed: int = 0
    objects_read: int = 0
    objects_written: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (document id, code)
    stopped: str | None = None  # the code a run stopped on (e.g. tsa_expiring)
    seconds: float = 0.0

    def to_json(self) -> dict[str, object]:
        return dataclasses.asdict(self)


class PreservationError(CertifyError):
    """A preservation run cannot go on (e.g. the TSA itself is about to expire)."""

    code = "preservation_failed"
    default_message = "Không gia hạn được dấu thời gian lưu trữ. / Preservation failed."


def last_archive_stamp(stream: BinaryIO) -> ArchiveStamp | None:
    """The last document time-stamp of the PDF in ``stream`` (None if it has none).

    Raises ValueError-like errors of the reader for a file that is not a PDF: callers pass
    our own stored copies only.
    """
    stream.seek(0)
    reader = PdfFileReader(stream, strict=False)
    stamps = reader.embedded_timestamp_signatures
    if not stamps:
        return None
    last = stamps[-1]
    tst_info = last.signed_data["encap_content_info"]["content"].parsed
    cert = last.signer_cert
    return ArchiveStamp(
        gen_time=tst_info["gen_time"].native,
        tsa_not_after=cert["tbs_certificate"]["validity"]["not_after"].native,
        # The hash over the document (the token's message imprint): the one that weakens.
        digest_algorithm=str(tst_info["message_imprint"]["hash_algorithm"]["algorithm"].native),
    )


def stamp_from_validation(
    validation_json: str | None, expiry: CertificateExpiry
) -> ArchiveStamp | None:
    """The last document time-stamp as the kept validation records it, with its TSA
    certificate's end from the PKI; None when either does not say."""
    if not validation_json:
        return None
    try:
        validation = Validation.from_json(json.loads(validation_json))
    except (ValueError, KeyError, TypeError):
        return None
    stamps = [s for s in validation.signatures if s.kind == "timestamp" and s.signing_time]
    if not stamps:
        return None
    last = max(stamps, key=lambda s: s.covered_end)
    not_after = expiry(last.certificate_sha256)
    if not_after is None or last.signing_time is None:
        return None
    return ArchiveStamp(last.signing_time, not_after, last.digest_algorithm)


def merged_validation(previous: Validation, appended: Validation) -> Validation:
    """The validation of a version: the previous version's signatures and time-stamps, then
    the appended archive time-stamps, for the new file's bytes."""
    return dataclasses.replace(
        previous,
        signatures=previous.signatures + appended.signatures,
        sha256=appended.sha256,
        size=appended.size,
        validated_at=appended.validated_at,
        own_updates_only=None,
    )


class Preserver:
    """Runs preservation over the register. Build once per process; :meth:`run` is safe to
    call from several processes and replicas at once (the lease)."""

    def __init__(
        self,
        *,
        register: PreservationRegister,
        store: ObjectStore,
        renewer: Renewer,
        check: FileCheck,
        expiry: CertificateExpiry,
        clock: Clock,
        policy: PreservationPolicy | None = None,
        holder: str | None = None,
        workdir: Path | None = None,
    ) -> None:
        self._register = register
        self._store = store
        self._renewer = renewer
        self._check = check
        self._expiry = expiry
        self._clock = clock
        self.policy = policy or PreservationPolicy()
        self._holder = holder or f"preserver-{uuid.uuid4()}"
        self._workdir = workdir

    def run(self, *, limit: int | None = None) -> PreservationReport:
        """Inspect new copies and renew the ones due; at most ``limit`` renewals.

        Raises StorageUnavailableError / DatabaseUnavailableError when they are down (the
        copies done so far stay done).
        """
        started = time.monotonic()
        report = PreservationReport()
        if not self._take_lease():
            report.lease_held_elsewhere = True
            return report
        try:
            self._inspect_all(report)
            self._renew_due(report, limit)
        except PreservationError as exc:
            report.stopped = exc.code
            log.error("preservation stopped: %s", exc.code)  # noqa: TRY400 - code says why
        finally:
            self._register.release_lease(LEASE_NAME, self._holder)
            report.seconds = time.monotonic() - started
        return report

    def _take_lease(self) -> bool:
        return self._register.acquire_lease(
            LEASE_NAME, self._holder, now=self._clock.now(), ttl=self.policy.lease_ttl
        )

    # --- inspection ----------------------------------------------------------------------

    def _inspect_all(self, report: PreservationReport) -> None:
        after: tuple[dt.datetime, str] | None = None
        while batch := self._register.uninspected(limit=self.policy.batch, after=after):
            states = [s for s in (self._inspect(e, report) for e in batch) if s is not None]
            self._register.set_archive_states(states)  # one transaction a batch
            report.inspected += len(states)
            after = (batch[-1].issued_at, batch[-1].id)  # a failed copy is not asked again
            if not self._take_lease():
                raise PreservationError("lease lost", code="lease_lost")

    def _inspect(self, entry: DocumentEntry, report: PreservationReport) -> ArchiveState | None:
        stamp = stamp_from_validation(entry.validation_json, self._expiry)
        if stamp is None:
            try:
                with (
                    self._store.open(
                        self._store.copies_bucket, entry.copy_key, version_id=entry.copy_version_id
                    ) as fh,
                    tempfile.TemporaryFile(dir=self._workdir) as tmp,
                ):
                    shutil.copyfileobj(fh, tmp, _CHUNK)
                    report.objects_read += 1
                    stamp = last_archive_stamp(tmp)
            except CertifyError as exc:
                report.failed.append((entry.id, exc.code))
                return None
            except Exception:  # a copy of ours the reader cannot parse: an incident
                log.exception("preservation: copy %s unreadable", entry.id)
                report.failed.append((entry.id, "copy_unreadable"))
                return None
        if stamp is None:
            report.failed.append((entry.id, "no_archive_timestamp"))
            return None
        return self._state(entry.id, 0, stamp)

    def _state(self, document_id: str, seq: int, stamp: ArchiveStamp) -> ArchiveState:
        return ArchiveState(
            document_id=document_id,
            seq=seq,
            tsa_not_after=stamp.tsa_not_after,
            digest_algorithm=stamp.digest_algorithm,
        )

    # --- renewal -------------------------------------------------------------------------

    def _renew_due(self, report: PreservationReport, limit: int | None) -> None:
        ends_before = self._clock.now() + self.policy.margin
        after: tuple[dt.datetime, str] | None = None
        while limit is None or report.renewed < limit:
            size = self.policy.batch if limit is None else min(self.policy.batch, limit)
            due = self._register.due_archive_states(
                ends_before=ends_before,
                weak_digests=self.policy.weak_digests,
                limit=size,
                after=after,
            )
            if not due:
                return
            for state in due:
                if limit is not None and report.renewed >= limit:
                    return
                self._renew_one(state, report)
            after = (due[-1].tsa_not_after, due[-1].document_id)
            if not self._take_lease():
                raise PreservationError("lease lost", code="lease_lost")

    def _renew_one(self, state: ArchiveState, report: PreservationReport) -> None:
        try:
            self._renew(state, report)
        except PreservationError:
            raise
        except RegisterConflictError:
            log.warning("preservation: copy %s renewed by another run first", state.document_id)
            report.failed.append((state.document_id, "renewed_elsewhere"))
        except CertifyError as exc:
            log.warning("preservation: copy %s not renewed (%s)", state.document_id, exc.code)
            report.failed.append((state.document_id, exc.code))

    def _renew(self, state: ArchiveState, report: PreservationReport) -> None:
        entry = self._register.get_document(state.document_id)
        latest = self._register.latest_copy_version(entry.id)
        seq = latest.seq if latest else 0
        if seq != state.seq:
            raise RegisterConflictError()  # another run moved the copy on since we read it
        version_id = latest.version_id if latest else entry.copy_version_id
        sha256 = latest.sha256 if latest else entry.copy_sha256
        size = latest.size if latest else entry.copy_size
        previous_json = latest.validation_json if latest else entry.validation_json
        with tempfile.TemporaryFile(dir=self._workdir) as tmp:
            self._fetch(entry.copy_key, version_id, sha256, tmp)
            report.objects_read += 1
            old_stamp = last_archive_stamp(tmp)
            self._renewer.renew_archive(tmp, md_algorithm=self.policy.digest_algorithm)
            appended = self._check.check_file(tmp, analyse_changes=False, base_length=size)
            if not appended.own_updates_only:
                raise CertifyError(
                    "Bản gia hạn không kiểm tra được là hợp lệ. / The renewed copy does not "
                    "validate.",
                    code="renewal_not_valid",
                )
            stamp = last_archive_stamp(tmp)
            if stamp is None or (old_stamp and stamp.gen_time < old_stamp.gen_time):
                raise CertifyError(code="renewal_not_valid")
            if stamp.tsa_not_after - self.policy.margin <= self._clock.now():
                raise PreservationError(
                    "Chứng thư của máy chủ dấu thời gian sắp hết hạn: gia hạn TSA trước (certify "
                    "pki renew tsa). / The TSA's own certificate ends within the margin: renew "
                    "the TSA first (certify pki renew tsa).",
                    code="tsa_expiring",
                )
            tmp.seek(0)
            stored = self._store.put_stream(
                self._store.copies_bucket, entry.copy_key, tmp, content_type="application/pdf"
            )
            report.objects_written += 1
        if not stored.version_id:
            raise CertifyError(
                "Kho không ghi phiên bản (bucket chưa bật versioning). / The store kept no "
                "version (the bucket is not versioned).",
                code="storage_misconfigured",
            )
        validation_json = None
        if previous_json:
            try:
                previous = Validation.from_json(json.loads(previous_json))
                validation_json = json.dumps(
                    merged_validation(previous, appended).to_json(), ensure_ascii=False
                )
            except (ValueError, KeyError, TypeError):
                log.warning("preservation: kept validation of %s unreadable", entry.id)
        version = CopyVersion(
            document_id=entry.id,
            seq=seq + 1,
            version_id=stored.version_id,
            sha256=stored.sha256,
            size=stored.size,
            created_at=self._clock.now(),
            reason=(
                "weak_digest"
                if state.digest_algorithm in self.policy.weak_digests
                else "tsa_expiry"
            ),
            timestamp_at=stamp.gen_time,
            tsa_not_after=stamp.tsa_not_after,
            digest_algorithm=stamp.digest_algorithm,
            validation_json=validation_json,
        )
        self._register.add_copy_version(
            version, self._state(entry.id, seq + 1, stamp), actor="system:preservation"
        )
        report.renewed += 1

    def _fetch(self, key: str, version_id: str | None, sha256: str, out: BinaryIO) -> None:
        """Copy the stored version into ``out``, checking its SHA-256 against the register."""
        digest = hashlib.sha256()
        with self._store.open(self._store.copies_bucket, key, version_id=version_id) as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256:
            log.error("incident: stored copy %s differs from the register's SHA-256", key)
            raise CertifyError(
                "Bản sao lưu trữ không khớp sổ. / Stored copy does not match the register.",
                code="copy_mismatch",
            )
        out.seek(0)
