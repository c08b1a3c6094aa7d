"""The register (sổ chứng thực) on SQLite and PostgreSQL: numbering, entries, audit chain."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, text

from certify.errors import (
    DatabaseUnavailableError,
    InvalidInputError,
    NotFoundError,
    RegisterConflictError,
)
from certify.ports import (
    AuditRecord,
    AuthorityRecord,
    DocumentEntry,
    OfficerRecord,
    RegisterRepository,
)
from storage.database import make_engine
from storage.sql_register import GENESIS_HASH, SqlRegister, SqlRegisterTransaction, audit_hash
from tests.storage.test_database import closed_port

SCT = "SCT/BS"
AUTHORITY = "79-tanphu"
OTHER_AUTHORITY = "01-hoankiem"
CERTIFIER = "nguyenvana"
REQUEST = "HS-2026-0001"
ISSUED = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)


class DeliberateError(Exception):
    """An error raised inside a transaction on purpose."""


@pytest.fixture
def seeded(register: SqlRegister) -> SqlRegister:
    """A register with two authorities, a certifier and one received request."""
    register.add_authority(
        AuthorityRecord(AUTHORITY, "UBND phường Tân Phú", "79", "Thành phố Hồ Chí Minh")
    )
    register.add_authority(
        AuthorityRecord(OTHER_AUTHORITY, "UBND phường Hoàn Kiếm", "01", "Hà Nội", True)
    )
    register.add_officer(
        OfficerRecord(CERTIFIER, "Nguyễn Văn A", "Phó Chủ tịch", "certifier", AUTHORITY),
        password_hash="$argon2id$not-a-real-hash",
    )
    register.add_officer(
        OfficerRecord("tranthib", "Trần Thị B", "Chủ tịch", "certifier", OTHER_AUTHORITY)
    )
    register.add_request(
        REQUEST,
        authority_code=AUTHORITY,
        requester_name="Lê Văn C",
        requester_id_number="079000000001",
    )
    register.add_request(
        "HS-HK-0001",
        authority_code=OTHER_AUTHORITY,
        requester_name="Phạm Thị D",
        requester_id_number="001000000002",
    )
    return register


def entry(number: int, **changes: object) -> DocumentEntry:
    """A register entry with plausible values and a fresh id and token."""
    values: dict[str, object] = {
        "id": str(uuid.uuid4()),
        "authority_code": AUTHORITY,
        "request_code": REQUEST,
        "register_type": SCT,
        "year": 2026,
        "number": number,
        "book": "01/2026",
        "document_name": "Giấy khai sinh",
        "pages": 2,
        "copies": 3,
        "fee": 12_000,
        "page_hashes": (hashlib.sha256(b"p1").hexdigest(), hashlib.sha256(b"p2").hexdigest()),
        "copy_key": f"copies/{AUTHORITY}/2026/{number}.pdf",
        "copy_sha256": hashlib.sha256(b"copy").hexdigest(),
        "copy_size": 123_456,
        "copy_version_id": "v1",
        "verification_token": secrets.token_urlsafe(24),
        "certifier_username": CERTIFIER,
        "issued_at": ISSUED,
    }
    values.update(changes)
    return DocumentEntry(**values)  # type: ignore[arg-type]


def audit(action: str = "certify", **details: str) -> AuditRecord:
    return AuditRecord(
        actor=CERTIFIER,
        action=action,
        subject=f"document:{uuid.uuid4()}",
        at=dt.datetime.now(dt.UTC),
        details=details,
    )


def certify(
    register: SqlRegister,
    *,
    authority: str = AUTHORITY,
    request: str = REQUEST,
    year: int = 2026,
    **changes: object,
) -> DocumentEntry:
    """One certification as the domain does it: number, entry, audit, one transaction."""
    certifier = CERTIFIER if authority == AUTHORITY else "tranthib"
    with register.transaction() as tx:
        number = tx.next_number(authority, SCT, year)
        made = entry(
            number,
            authority_code=authority,
            request_code=request,
            year=year,
            certifier_username=certifier,
            issued_at=ISSUED.replace(year=year),
            **changes,
        )
        tx.add_document(made)
        tx.append_audit(audit(number=str(number)))
    return made


def add_next(register: SqlRegister, **changes: object) -> None:
    """Take the next number and write an entry with it, in one transaction."""
    with register.transaction() as tx:
        tx.add_document(entry(tx.next_number(AUTHORITY, SCT, 2026), **changes))


def abandon(register: SqlRegister, work: Callable[[SqlRegisterTransaction], object]) -> None:
    """Do ``work`` in a transaction, then fail before the commit."""
    with register.transaction() as tx:
        work(tx)
        raise DeliberateError


def certify_in(tx: SqlRegisterTransaction) -> None:
    tx.add_document(entry(tx.next_number(AUTHORITY, SCT, 2026)))
    tx.append_audit(audit())


def numbers(register: SqlRegister, authority: str = AUTHORITY, year: int = 2026) -> list[int]:
    return [e.number for e in register.list_documents(authority, year=year)]


def test_sql_register_works_through_the_domains_port(seeded: SqlRegister) -> None:
    """What the domain does, typed as the port alone (mypy checks the assignment): a
    transaction takes the next number and records the entry, and the port reads it back."""
    repository: RegisterRepository = seeded
    with repository.transaction() as tx:
        first = entry(tx.next_number(AUTHORITY, SCT, 2026))
        tx.add_document(first)
        tx.append_audit(audit())
    assert first.number == 1
    assert repository.get_document(first.id).verification_token == first.verification_token


# --- Seed data -------------------------------------------------------------------------------


def test_authorities_and_officers_round_trip(seeded: SqlRegister) -> None:
    authority = seeded.get_authority(OTHER_AUTHORITY)
    assert authority == AuthorityRecord(
        OTHER_AUTHORITY, "UBND phường Hoàn Kiếm", "01", "Hà Nội", fee_waived=True
    )
    officer = seeded.get_officer(CERTIFIER)
    assert officer.full_name == "Nguyễn Văn A"
    assert officer.role == "certifier"
    login = seeded.get_officer_login(CERTIFIER)
    assert login.password_hash == "$argon2id$not-a-real-hash"
    assert login.active
    seeded.set_officer_active(CERTIFIER, False)
    seeded.set_officer_password(CERTIFIER, None)
    login = seeded.get_officer_login(CERTIFIER)
    assert (login.active, login.password_hash) == (False, None)


def test_missing_authority_and_officer_are_not_found(seeded: SqlRegister) -> None:
    with pytest.raises(NotFoundError):
        seeded.get_authority("nowhere")
    with pytest.raises(NotFoundError):
        seeded.get_officer("nobody")
    with pytest.raises(NotFoundError):
        seeded.add_officer(OfficerRecord("x", "X", "X", "clerk", "nowhere"))
    with pytest.raises(InvalidInputError):
        seeded.add_officer(OfficerRecord("x", "X", "X", "janitor", AUTHORITY))


def test_duplicate_seed_data_is_a_conflict(seeded: SqlRegister) -> None:
    with pytest.raises(RegisterConflictError):
        seeded.add_officer(OfficerRecord(CERTIFIER, "Khác", "Khác", "clerk", AUTHORITY))
    with pytest.raises(RegisterConflictError):
        seeded.add_province("79", "Thành phố Hồ Chí Minh")
    with pytest.raises(RegisterConflictError):
        seeded.add_request(
            REQUEST, authority_code=AUTHORITY, requester_name="X", requester_id_number="1"
        )


def test_requests_round_trip_and_update(seeded: SqlRegister) -> None:
    due = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)
    updated = seeded.update_request(REQUEST, status="refused", refusal_code="damaged", due_at=due)
    assert updated.status == "refused"
    assert seeded.get_request(REQUEST) == updated
    assert updated.due_at == due
    with pytest.raises(InvalidInputError):
        seeded.update_request(REQUEST, status="lost")
    with pytest.raises(RegisterConflictError):  # not an art. 22 code: the schema refuses it
        seeded.update_request(REQUEST, refusal_code="ugly")
    with pytest.raises(NotFoundError):
        seeded.get_request("HS-none")


# --- Numbering -------------------------------------------------------------------------------


def test_numbers_run_from_one_per_authority_type_and_year(seeded: SqlRegister) -> None:
    assert [certify(seeded).number for _ in range(3)] == [1, 2, 3]
    # A new year restarts at 1 (NĐ 23/2015 art. 20); other authorities count on their own.
    assert certify(seeded, year=2027).number == 1
    assert certify(seeded, authority=OTHER_AUTHORITY, request="HS-HK-0001").number == 1
    with seeded.transaction() as tx:
        assert tx.next_number(AUTHORITY, "SCT/CK", 2026) == 1  # another register type
        assert tx.next_number(AUTHORITY, SCT, 2026) == 4
    assert numbers(seeded) == [1, 2, 3]
    assert numbers(seeded, year=2027) == [1]


def test_next_number_alone_consumes_nothing(seeded: SqlRegister) -> None:
    with seeded.transaction() as tx:
        assert tx.next_number(AUTHORITY, SCT, 2026) == 1
        assert tx.next_number(AUTHORITY, SCT, 2026) == 1
    with seeded.transaction() as tx:
        assert tx.next_number(AUTHORITY, SCT, 2026) == 1


def test_one_transaction_may_number_several_originals(seeded: SqlRegister) -> None:
    with seeded.transaction() as tx:
        for name in ("Giấy khai sinh", "Bằng tốt nghiệp", "Học bạ"):
            tx.add_document(entry(tx.next_number(AUTHORITY, SCT, 2026), document_name=name))
    assert numbers(seeded) == [1, 2, 3]


def test_a_failed_transaction_leaves_no_gap(seeded: SqlRegister) -> None:
    certify(seeded)
    with pytest.raises(DeliberateError):
        abandon(seeded, certify_in)
    assert certify(seeded).number == 2
    assert numbers(seeded) == [1, 2]
    assert seeded.verify_audit_chain()


def test_a_number_out_of_sequence_is_refused(seeded: SqlRegister) -> None:
    certify(seeded)
    with pytest.raises(RegisterConflictError), seeded.transaction() as tx:
        tx.add_document(entry(1))  # taken
    with pytest.raises(RegisterConflictError), seeded.transaction() as tx:
        tx.add_document(entry(3))  # would leave a gap
    assert numbers(seeded) == [1]


def test_a_duplicate_number_is_refused_by_the_database(seeded: SqlRegister, engine: Engine) -> None:
    certify(seeded)
    # Even if the counter were wrong, the UNIQUE constraint keeps the number single.
    with engine.begin() as conn:
        conn.execute(text("UPDATE register_counters SET last_number = 0"))
    with pytest.raises(RegisterConflictError) as info:
        add_next(seeded)
    assert info.value.code == "register_conflict"
    assert numbers(seeded) == [1]


def test_a_duplicate_verification_token_is_refused(seeded: SqlRegister) -> None:
    first = certify(seeded)
    with pytest.raises(RegisterConflictError):
        add_next(seeded, verification_token=first.verification_token)
    assert numbers(seeded) == [1]


def test_unknown_request_authority_or_certifier(seeded: SqlRegister) -> None:
    with pytest.raises(NotFoundError), seeded.transaction() as tx:
        tx.next_number("nowhere", SCT, 2026)
    with pytest.raises(NotFoundError), seeded.transaction() as tx:
        tx.add_document(entry(1, request_code="HS-none"))
    with pytest.raises(NotFoundError), seeded.transaction() as tx:
        tx.add_document(entry(1, certifier_username="nobody"))
    with pytest.raises(RegisterConflictError), seeded.transaction() as tx:
        tx.add_document(entry(1, request_code="HS-HK-0001"))  # another authority's request
    with pytest.raises(InvalidInputError), seeded.transaction() as tx:
        tx.add_document(entry(1, issued_at=dt.datetime(2026, 1, 1)))  # noqa: DTZ001
    with pytest.raises(InvalidInputError), seeded.transaction() as tx:
        tx.add_document(entry(1, copies=0))
    assert numbers(seeded) == []


@pytest.mark.slow
def test_fifty_concurrent_certifications_take_numbers_one_to_fifty(
    seeded: SqlRegister,
) -> None:
    workers = 50
    start = threading.Barrier(workers, timeout=30)

    def work(_: int) -> int:
        start.wait()
        return certify(seeded).number

    with ThreadPoolExecutor(max_workers=workers) as pool:
        taken = list(pool.map(work, range(workers)))
    assert sorted(taken) == list(range(1, workers + 1))
    assert numbers(seeded) == list(range(1, workers + 1))
    assert seeded.verify_audit_chain()
    with seeded.transaction() as tx:
        assert tx.next_number(AUTHORITY, SCT, 2026) == workers + 1


# --- Reading the register --------------------------------------------------------------------


def test_find_by_token_returns_the_whole_entry(seeded: SqlRegister) -> None:
    made = certify(seeded)
    found = seeded.find_document_by_token(made.verification_token)
    assert found == made
    assert found is not None
    assert found.page_hashes == made.page_hashes
    assert found.issued_at.tzinfo is not None
    assert seeded.get_document(made.id) == made
    assert seeded.find_document_by_token("no-such-token") is None
    with pytest.raises(NotFoundError):
        seeded.get_document(str(uuid.uuid4()))


def test_find_by_sha256_and_keep_the_validation(seeded: SqlRegister) -> None:
    first = certify(seeded, copy_sha256=hashlib.sha256(b"first").hexdigest())
    second = certify(seeded, copy_sha256=hashlib.sha256(b"second").hexdigest())
    found = seeded.find_documents_by_sha256(
        [hashlib.sha256(b"second").hexdigest(), hashlib.sha256(b"other").hexdigest(), "short"]
    )
    assert [e.id for e in found] == [second.id]
    assert seeded.find_documents_by_sha256([]) == []
    assert found[0].validation_json is None

    seeded.set_validation(first.id, '{"outcome": "valid"}')
    kept = seeded.find_document_by_token(first.verification_token)
    assert kept is not None and kept.validation_json == '{"outcome": "valid"}'
    with pytest.raises(NotFoundError):
        seeded.set_validation(str(uuid.uuid4()), "{}")


def test_list_documents_by_vietnamese_month(seeded: SqlRegister) -> None:
    # 31 Jan 18:00 UTC is 1 Feb 01:00 in Vietnam: a February entry of the register.
    times = [
        dt.datetime(2026, 1, 31, 16, 59, tzinfo=dt.UTC),  # 23:59 on 31 Jan, Vietnam
        dt.datetime(2026, 1, 31, 18, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 2, 28, 10, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 12, 31, 16, 0, tzinfo=dt.UTC),  # 23:00 on 31 Dec, Vietnam
    ]
    with seeded.transaction() as tx:
        for issued_at in times:
            tx.add_document(entry(tx.next_number(AUTHORITY, SCT, 2026), issued_at=issued_at))
    assert [e.number for e in seeded.list_documents(AUTHORITY, year=2026, month=1)] == [1]
    assert [e.number for e in seeded.list_documents(AUTHORITY, year=2026, month=2)] == [2, 3]
    assert [e.number for e in seeded.list_documents(AUTHORITY, year=2026, month=12)] == [4]
    assert seeded.list_documents(AUTHORITY, year=2026, month=3) == []
    assert seeded.list_documents(OTHER_AUTHORITY, year=2026) == []
    with pytest.raises(InvalidInputError):
        seeded.list_documents(AUTHORITY, year=2026, month=13)


def test_cancel_document_keeps_the_entry_and_records_why(seeded: SqlRegister) -> None:
    made = certify(seeded)
    at = dt.datetime(2026, 4, 1, 3, 0, tzinfo=dt.UTC)
    cancelled = seeded.cancel_document(
        made.id, "Chứng thực sai thẩm quyền", at, audit=audit("cancel")
    )
    assert cancelled == dataclasses.replace(
        made, status="cancelled", cancelled_reason="Chứng thực sai thẩm quyền", cancelled_at=at
    )
    assert seeded.find_document_by_token(made.verification_token) == cancelled
    with pytest.raises(RegisterConflictError):
        seeded.cancel_document(made.id, "again", at)
    with pytest.raises(InvalidInputError):
        seeded.cancel_document(made.id, "  ", at)
    with pytest.raises(NotFoundError):
        seeded.cancel_document(str(uuid.uuid4()), "x", at)
    assert numbers(seeded) == [1]
    assert seeded.verify_audit_chain()


# --- The audit chain -------------------------------------------------------------------------


def test_audit_events_chain_from_genesis(seeded: SqlRegister) -> None:
    assert seeded.audit_head() == GENESIS_HASH
    assert seeded.verify_audit_chain()
    record = audit("login", ip="127.0.0.1")
    with seeded.transaction() as tx:
        first = tx.append_audit(record)
        second = tx.append_audit(audit("logout"))
    assert first == audit_hash(
        GENESIS_HASH,
        at=record.at,
        actor=record.actor,
        action=record.action,
        subject=record.subject,
        details=record.details,
    )
    assert second != first
    assert seeded.audit_head() == second
    assert seeded.verify_audit_chain()


def test_a_rolled_back_audit_event_leaves_the_chain_intact(seeded: SqlRegister) -> None:
    certify(seeded)
    with pytest.raises(DeliberateError):
        abandon(seeded, lambda tx: tx.append_audit(audit()))
    certify(seeded)
    assert seeded.verify_audit_chain()


@pytest.mark.parametrize(
    "tamper",
    [
        'UPDATE audit_events SET details = \'{"number":"99"}\' WHERE id = {id}',
        "UPDATE audit_events SET actor = 'someone-else' WHERE id = {id}",
        "UPDATE audit_events SET details = 'not json' WHERE id = {id}",
        "DELETE FROM audit_events WHERE id = {id}",
    ],
    ids=["details", "actor", "garbage", "deleted"],
)
def test_a_tampered_audit_event_breaks_the_chain(
    seeded: SqlRegister, engine: Engine, tamper: str
) -> None:
    for _ in range(3):
        certify(seeded)
    assert seeded.verify_audit_chain()
    with engine.begin() as conn:
        ids = conn.execute(text("SELECT id FROM audit_events ORDER BY id")).scalars().all()
        conn.execute(text(tamper.replace("{id}", str(ids[1]))))
    assert not seeded.verify_audit_chain()
    assert seeded.first_broken_audit_event() in (ids[1], ids[2])


# --- An unreachable database -----------------------------------------------------------------


def test_an_unreachable_database_is_unavailable_quickly() -> None:
    engine = make_engine(
        f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/x?connect_timeout=2"
    )
    register = SqlRegister(engine)
    try:
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailableError), register.transaction() as tx:
            tx.next_number(AUTHORITY, SCT, 2026)
        with pytest.raises(DatabaseUnavailableError):
            register.get_authority(AUTHORITY)
        with pytest.raises(DatabaseUnavailableError):
            register.verify_audit_chain()
        assert time.monotonic() - started < 10
    finally:
        engine.dispose()
