"""Ports of the preservation runs (issue 14): what ``certify.preservation`` needs of the
register. ``storage.preservation_store`` implements them on the register database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from certify.ports import DocumentEntry


@dataclass(frozen=True)
class CopyVersion:
    """One stored version of a copy after its issue: the issued copy followed by this
    service's own updates only (DSS data and an archive document time-stamp, PAdES B-LTA
    renewal, ETSI EN 319 142-1 §5.5). ``seq`` counts from 1; the issued copy is version 0
    and lives in the document's entry."""

    document_id: str
    seq: int
    version_id: str
    sha256: str
    size: int
    created_at: dt.datetime
    reason: str  # "tsa_expiry" | "weak_digest"
    timestamp_at: dt.datetime  # genTime of the archive time-stamp it ends with
    tsa_not_after: dt.datetime  # when that time-stamp's TSA certificate expires
    digest_algorithm: str
    validation_json: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ArchiveState:
    """Where a copy stands for preservation: its newest version, when that version's last
    time-stamp's TSA certificate ends, and the hash that time-stamp was made over."""

    document_id: str
    seq: int  # 0: the issued copy
    tsa_not_after: dt.datetime
    digest_algorithm: str


class PreservationRegister(Protocol):
    """What the preservation run reads and writes in the register."""

    def uninspected(
        self, *, limit: int, after: tuple[dt.datetime, str] | None = None
    ) -> list[DocumentEntry]: ...

    def set_archive_states(self, states: Sequence[ArchiveState]) -> None: ...

    def due_archive_states(
        self,
        *,
        ends_before: dt.datetime,
        weak_digests: Collection[str],
        limit: int,
        after: tuple[dt.datetime, str] | None = None,
    ) -> list[ArchiveState]: ...

    def get_document(self, document_id: str) -> DocumentEntry: ...

    def latest_copy_version(self, document_id: str) -> CopyVersion | None: ...

    def add_copy_version(self, version: CopyVersion, state: ArchiveState, *, actor: str) -> None:
        """Record ``version`` (unique per document and seq), move the copy's state, and write
        the audit event, in one transaction. Raises RegisterConflictError if another run
        recorded that seq first."""
        ...

    def acquire_lease(
        self, name: str, holder: str, *, now: dt.datetime, ttl: dt.timedelta
    ) -> bool: ...

    def release_lease(self, name: str, holder: str) -> None: ...


class VersionLookup(Protocol):
    """What public verification reads of the stored versions."""

    def latest_copy_version(self, document_id: str) -> CopyVersion | None: ...

    def find_copy_versions_by_sha256(
        self, hashes: Sequence[str]
    ) -> list[tuple[DocumentEntry, CopyVersion]]: ...
