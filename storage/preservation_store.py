"""The register's part for preservation runs (``certify.preservation_ports``): stored
versions of copies, each copy's archive state, and leases.

A new version, the copy's state and the audit event are one transaction; the version is
unique per (copy, seq), so two runs that raced past the lease cannot both record one. The
lease is one conditional UPDATE (or the first INSERT): atomic on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from sqlalchemy import and_, or_, select, union, update
from sqlalchemy.orm import Session, aliased

from certify.errors import NotFoundError, RegisterConflictError
from certify.ports import AuditRecord, DocumentEntry
from certify.preservation_ports import ArchiveState, CopyVersion
from storage.audit_chain import append_event
from storage.database import Document
from storage.numbering import document_select, entry_of
from storage.preservation_tables import CopyArchiveState, CopyVersionRow, Lease
from storage.sql_base import SqlBase, aware


def _version(row: CopyVersionRow) -> CopyVersion:
    return CopyVersion(
        document_id=row.document_id,
        seq=row.seq,
        version_id=row.version_id,
        sha256=row.sha256,
        size=row.size,
        created_at=row.created_at,
        reason=row.reason,
        timestamp_at=row.timestamp_at,
        tsa_not_after=row.tsa_not_after,
        digest_algorithm=row.digest_algorithm,
        validation_json=row.validation,
    )


def _state(row: CopyArchiveState) -> ArchiveState:
    return ArchiveState(
        document_id=row.document_id,
        seq=row.seq,
        tsa_not_after=row.tsa_not_after,
        digest_algorithm=row.digest_algorithm,
    )


class PreservationStore(SqlBase):
    """Stored versions, archive states and leases in the register database."""

    # --- finding work ----------------------------------------------------------------------

    def uninspected(
        self, *, limit: int, after: tuple[dt.datetime, str] | None = None
    ) -> list[DocumentEntry]:
        """Copies in the copies bucket (a version is recorded) that no run has looked at
        yet, oldest first; ``after`` is the (issued at, id) of the previous page's last."""
        stmt = (
            document_select()
            .outerjoin(CopyArchiveState, CopyArchiveState.document_id == Document.id)
            .where(CopyArchiveState.document_id.is_(None), Document.copy_version_id.is_not(None))
        )
        if after is not None:
            stmt = stmt.where(
                or_(
                    Document.issued_at > after[0],
                    and_(Document.issued_at == after[0], Document.id > after[1]),
                )
            )
        stmt = stmt.order_by(Document.issued_at, Document.id).limit(limit)
        with self._session(write=False) as session:
            return [entry_of(*row) for row in session.execute(stmt)]

    def set_archive_states(self, states: Sequence[ArchiveState]) -> None:
        """Record where copies stand (their first inspection), in one transaction."""
        if not states:
            return
        with self._session(write=True) as session:
            for state in states:
                self._put_state(session, state)

    def set_archive_state(self, state: ArchiveState) -> None:
        """Record where one copy stands."""
        self.set_archive_states([state])

    @staticmethod
    def _put_state(session: Session, state: ArchiveState) -> None:
        aware(state.tsa_not_after, "tsa_not_after")
        row = session.get(CopyArchiveState, state.document_id)
        if row is None:
            session.add(
                CopyArchiveState(
                    document_id=state.document_id,
                    seq=state.seq,
                    tsa_not_after=state.tsa_not_after,
                    digest_algorithm=state.digest_algorithm,
                )
            )
        elif row.seq <= state.seq:
            row.seq = state.seq
            row.tsa_not_after = state.tsa_not_after
            row.digest_algorithm = state.digest_algorithm

    def due_archive_states(
        self,
        *,
        ends_before: dt.datetime,
        weak_digests: Collection[str],
        limit: int,
        after: tuple[dt.datetime, str] | None = None,
    ) -> list[ArchiveState]:
        """Copies due: their last time-stamp's TSA certificate ends before ``ends_before``
        (now plus the margin; the index on ``tsa_not_after``) or was made over one of
        ``weak_digests``. Ordered by that end, then document id; ``after`` is the last key of
        the previous page."""
        table = CopyArchiveState.__table__
        page = []
        if after is not None:
            page.append(
                or_(
                    table.c.tsa_not_after > after[0],
                    and_(table.c.tsa_not_after == after[0], table.c.document_id > after[1]),
                )
            )
        # Two selects, each served by its index (tsa_not_after; digest_algorithm), joined:
        # an OR of the two would read the whole table on every page.
        parts = [
            select(table).where(table.c.tsa_not_after <= aware(ends_before, "ends_before"), *page)
        ]
        if weak_digests:
            parts.append(
                select(table).where(table.c.digest_algorithm.in_(sorted(weak_digests)), *page)
            )
        both = union(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
        row = aliased(CopyArchiveState, both)
        stmt = select(row).order_by(row.tsa_not_after, row.document_id).limit(limit)
        with self._session(write=False) as session:
            return [_state(r) for r in session.scalars(stmt)]

    def archive_state(self, document_id: str) -> ArchiveState | None:
        with self._session(write=False) as session:
            row = session.get(CopyArchiveState, document_id)
            return None if row is None else _state(row)

    # --- versions --------------------------------------------------------------------------

    def latest_copy_version(self, document_id: str) -> CopyVersion | None:
        """The newest stored version of a copy after its issue, or None (never renewed)."""
        stmt = (
            select(CopyVersionRow)
            .where(CopyVersionRow.document_id == document_id)
            .order_by(CopyVersionRow.seq.desc())
            .limit(1)
        )
        with self._session(write=False) as session:
            row = session.scalars(stmt).one_or_none()
            return None if row is None else _version(row)

    def copy_versions(self, document_id: str) -> list[CopyVersion]:
        """Every stored version of a copy after its issue, oldest first."""
        stmt = (
            select(CopyVersionRow)
            .where(CopyVersionRow.document_id == document_id)
            .order_by(CopyVersionRow.seq)
        )
        with self._session(write=False) as session:
            return [_version(row) for row in session.scalars(stmt)]

    def find_copy_versions_by_sha256(
        self, hashes: Sequence[str]
    ) -> list[tuple[DocumentEntry, CopyVersion]]:
        """The versions (with their entries) whose SHA-256 is one of ``hashes`` (at most
        256 looked up, through the index on ``sha256``)."""
        wanted = [h for h in dict.fromkeys(hashes) if len(h) == 64][:256]
        if not wanted:
            return []
        stmt = (
            document_select()
            .add_columns(CopyVersionRow)
            .join(CopyVersionRow, CopyVersionRow.document_id == Document.id)
            .where(CopyVersionRow.sha256.in_(wanted))
        )
        with self._session(write=False) as session:
            return [
                (entry_of(doc, code, user), _version(row))
                for doc, code, user, row in session.execute(stmt)
            ]

    def add_copy_version(self, version: CopyVersion, state: ArchiveState, *, actor: str) -> None:
        """Record ``version``, move the copy's state to it and write the audit event
        ``copy_preserved``, in one transaction.

        Raises:
            RegisterConflictError: that seq is recorded already (another run was first).
            NotFoundError: no such copy.
        """
        aware(version.created_at, "created_at")
        with self._session(write=True) as session:
            if session.get(Document, version.document_id) is None:
                raise NotFoundError("Không tìm thấy bản sao. / No such certified copy.")
            session.add(
                CopyVersionRow(
                    document_id=version.document_id,
                    seq=version.seq,
                    version_id=version.version_id,
                    sha256=version.sha256,
                    size=version.size,
                    created_at=version.created_at,
                    reason=version.reason,
                    timestamp_at=version.timestamp_at,
                    tsa_not_after=version.tsa_not_after,
                    digest_algorithm=version.digest_algorithm,
                    validation=version.validation_json,
                )
            )
            session.flush()  # the unique (document, seq) speaks here, before the audit
            row = session.get(CopyArchiveState, version.document_id)
            if row is None:
                row = CopyArchiveState(document_id=version.document_id)
                session.add(row)
            row.seq = state.seq
            row.tsa_not_after = state.tsa_not_after
            row.digest_algorithm = state.digest_algorithm
            append_event(
                session,
                AuditRecord(
                    at=version.created_at,
                    actor=actor,
                    action="copy_preserved",
                    subject=version.document_id,
                    details={
                        "seq": str(version.seq),
                        "sha256": version.sha256,
                        "reason": version.reason,
                        "timestamp_at": version.timestamp_at.isoformat(),
                    },
                ),
            )

    # --- leases ----------------------------------------------------------------------------

    def acquire_lease(self, name: str, holder: str, *, now: dt.datetime, ttl: dt.timedelta) -> bool:
        """Take (or extend) the lease ``name`` for ``holder`` until ``now + ttl``; False if
        another holder has it and it has not expired."""
        expires = aware(now, "now") + ttl
        with self._session(write=True) as session:
            taken = session.execute(
                update(Lease)
                .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at < now))
                .values(holder=holder, expires_at=expires)
            )
            if taken.rowcount:  # type: ignore[attr-defined]
                return True
            if session.get(Lease, name) is not None:
                return False
        try:
            with self._session(write=True) as session:
                session.add(Lease(name=name, holder=holder, expires_at=expires))
        except RegisterConflictError:
            return False  # another holder's first insert came first
        return True

    def release_lease(self, name: str, holder: str) -> None:
        """Give the lease up (only its holder can)."""
        with self._session(write=True) as session:
            session.execute(
                update(Lease)
                .where(Lease.name == name, Lease.holder == holder)
                .values(expires_at=dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
            )
