"""The register's part for preservation runs on SQLite and PostgreSQL: copies not yet
inspected page by page, due copies through either condition, a version recorded once with its
audit event, and the lease (certify.preservation_ports)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from certify.errors import RegisterConflictError
from certify.preservation import PreservationPolicy
from certify.preservation_ports import ArchiveState, CopyVersion
from storage.sql_register import SqlRegister
from tests.storage import test_register
from tests.storage.test_register import certify

seeded = test_register.seeded  # the register with its authorities and officers (fixture)
NOW = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
Y = dt.timedelta(days=365)


def state(
    document_id: str, ends: dt.datetime, digest: str = "sha256", seq: int = 0
) -> ArchiveState:
    return ArchiveState(document_id, seq, ends, digest)


def test_uninspected_copies_page_by_page_and_once_inspected_no_more(seeded: SqlRegister) -> None:
    made = [certify(seeded) for _ in range(5)]
    first = seeded.uninspected(limit=2)
    second = seeded.uninspected(limit=2, after=(first[-1].issued_at, first[-1].id))
    rest = seeded.uninspected(limit=2, after=(second[-1].issued_at, second[-1].id))
    assert sorted(e.id for e in first + second + rest) == sorted(m.id for m in made)
    seeded.set_archive_states([state(e.id, NOW + 5 * Y) for e in first + second])
    assert [e.id for e in seeded.uninspected(limit=10)] == [rest[0].id]


def test_due_copies_by_expiry_or_weak_hash_in_order_and_by_page(seeded: SqlRegister) -> None:
    ids = [certify(seeded).id for _ in range(4)]
    seeded.set_archive_states(
        [
            state(ids[0], NOW + 1 * Y),
            state(ids[1], NOW + 3 * Y),
            state(ids[2], NOW + 4 * Y, "sha1"),  # weak, though its TSA lives long
            state(ids[3], NOW + 2 * Y),
        ]
    )
    due = seeded.due_archive_states(ends_before=NOW + 2 * Y, weak_digests=(), limit=10)
    assert [s.document_id for s in due] == [ids[0], ids[3]]
    assert due[0].tsa_not_after == NOW + 1 * Y  # aware UTC, as stored
    with_weak = seeded.due_archive_states(ends_before=NOW + 2 * Y, weak_digests=("sha1",), limit=10)
    assert [s.document_id for s in with_weak] == [ids[0], ids[3], ids[2]]
    page = seeded.due_archive_states(
        ends_before=NOW + 2 * Y,
        weak_digests=("sha1",),
        limit=10,
        after=(with_weak[1].tsa_not_after, with_weak[1].document_id),
    )
    assert [s.document_id for s in page] == [ids[2]]


def test_a_version_is_recorded_once_with_its_state_and_audit_event(seeded: SqlRegister) -> None:
    doc = certify(seeded).id
    seeded.set_archive_state(state(doc, NOW + 5 * Y))
    events = seeded.audit_event_count()
    version = CopyVersion(
        document_id=doc,
        seq=1,
        version_id="v2",
        sha256="b" * 64,
        size=10,
        created_at=NOW,
        reason="tsa_expiry",
        timestamp_at=NOW,
        tsa_not_after=NOW + 9 * Y,
        digest_algorithm="sha256",
    )
    seeded.add_copy_version(version, state(doc, NOW + 9 * Y, seq=1), actor="system:test")
    assert seeded.latest_copy_version(doc) == version
    assert seeded.archive_state(doc) == state(doc, NOW + 9 * Y, seq=1)
    assert seeded.audit_event_count() == events + 1
    assert seeded.first_broken_audit_event() is None
    [(entry, found)] = seeded.find_copy_versions_by_sha256(["b" * 64, "c" * 64])
    assert entry.id == doc and found == version
    with pytest.raises(RegisterConflictError):  # another run recorded seq 1 first
        seeded.add_copy_version(version, state(doc, NOW + 9 * Y, seq=1), actor="system:test")
    assert seeded.audit_event_count() == events + 1  # nothing of the refused one is kept


def test_the_lease_has_one_holder_until_it_expires_or_is_released(seeded: SqlRegister) -> None:
    ttl = dt.timedelta(minutes=10)
    assert seeded.acquire_lease("preservation", "a", now=NOW, ttl=ttl)
    assert not seeded.acquire_lease("preservation", "b", now=NOW, ttl=ttl)
    assert seeded.acquire_lease("preservation", "a", now=NOW + ttl / 2, ttl=ttl)  # extended
    assert not seeded.acquire_lease("preservation", "b", now=NOW + ttl, ttl=ttl)
    assert seeded.acquire_lease("preservation", "b", now=NOW + 2 * ttl, ttl=ttl)  # expired
    seeded.release_lease("preservation", "a")  # not a's any more: nothing happens
    assert not seeded.acquire_lease("preservation", "a", now=NOW + 2 * ttl, ttl=ttl)
    seeded.release_lease("preservation", "b")
    assert seeded.acquire_lease("preservation", "a", now=NOW + 2 * ttl, ttl=ttl)


def test_many_contenders_for_a_new_lease_one_wins(seeded: SqlRegister) -> None:
    won: list[str] = []
    barrier = threading.Barrier(8)

    def contend(name: str) -> None:
        barrier.wait()
        if seeded.acquire_lease("race", name, now=NOW, ttl=dt.timedelta(minutes=1)):
            won.append(name)

    threads = [threading.Thread(target=contend, args=(f"r{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1


def test_a_policy_whose_new_hash_is_weak_is_refused() -> None:
    from certify.errors import InvalidInputError

    with pytest.raises(InvalidInputError) as refused:
        PreservationPolicy(weak_digests=frozenset({"sha1", "sha256"}), digest_algorithm="sha256")
    assert refused.value.code == "preservation_digest_weak"
