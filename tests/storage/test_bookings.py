"""Bookings, payments, delivery marks, the measure's rows and the notifier's place in the
audit chain (storage.bookings, storage.audit_chain), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from certify.citizen_ports import PaymentRecord
from certify.errors import NotFoundError, RegisterConflictError
from certify.ports import AuditRecord, AuthorityRecord
from storage.sql_register import SqlRegister

AUTHORITY = "79-tanphu"
OTHER = "01-hoankiem"
BOOKED_AT = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)
ITEMS = [("Giấy khai sinh", 1, 2), ("Bằng tốt nghiệp", 3, 1)]


def _event(action: str, subject: str, at: dt.datetime = BOOKED_AT) -> AuditRecord:
    return AuditRecord(actor="citizen", action=action, subject=subject, at=at)


@pytest.fixture
def seeded(register: SqlRegister) -> SqlRegister:
    register.add_authority(
        AuthorityRecord(AUTHORITY, "UBND phường Tân Phú", "79", "Thành phố Hồ Chí Minh")
    )
    register.add_authority(AuthorityRecord(OTHER, "UBND phường Hoàn Kiếm", "01", "Hà Nội", True))
    return register


def _book(register: SqlRegister, code: str, tracking: str, authority: str = AUTHORITY) -> None:
    register.add_booking(
        code,
        tracking_code=tracking,
        authority_code=authority,
        requester_name="Nguyễn Thị Mai",
        requester_email="mai@example.vn",
        requester_phone=None,
        created_at=BOOKED_AT,
        items=ITEMS,
        audit=_event("request_booked", code),
    )


def _payment(code: str, amount: int, txn: str | None, method: str = "transfer") -> PaymentRecord:
    return PaymentRecord(
        request_code=code,
        amount=amount,
        method=method,
        reference=code.replace("-", ""),
        paid_at=BOOKED_AT,
        recorded_by="bank",
        provider_txn=txn,
    )


def test_a_booking_is_found_by_its_tracking_code_and_received_once(seeded: SqlRegister) -> None:
    _book(seeded, "HS-00000000A1", "AAAABBBBCCCCDDDD")
    found = seeded.find_request_by_tracking("AAAABBBBCCCCDDDD")
    assert found is not None
    assert (found.code, found.status, found.requester_id_number) == ("HS-00000000A1", "booked", "")
    assert found.received_at is None and found.due_at is None
    assert [i.status for i in seeded.request_items("HS-00000000A1")] == ["booked", "booked"]
    assert seeded.find_request_by_tracking("AAAABBBBCCCCDDDE") is None
    assert seeded.find_request_by_tracking("") is None

    received_at = BOOKED_AT + dt.timedelta(days=1)
    due = received_at + dt.timedelta(hours=8)
    request, items = seeded.receive_booking(
        "HS-00000000A1",
        requester_id_number="079123456789",
        received_at=received_at,
        due_at=due,
        audit=_event("request_received", "HS-00000000A1", received_at),
    )
    assert (request.status, request.received_at, request.due_at) == ("received", received_at, due)
    assert request.requester_id_number == "079123456789"
    assert [i.status for i in items] == ["received", "received"]
    with pytest.raises(RegisterConflictError) as again:
        seeded.receive_booking(
            "HS-00000000A1",
            requester_id_number="1",
            received_at=received_at,
            due_at=due,
            audit=_event("request_received", "HS-00000000A1", received_at),
        )
    assert again.value.code == "request_state"
    # The refused second receipt left no audit event behind.
    _, events = seeded.audit_events_after(0, limit=100, actions=["request_received"])
    assert len(events) == 1


def test_a_taken_tracking_code_is_refused(seeded: SqlRegister) -> None:
    _book(seeded, "HS-00000000A1", "AAAABBBBCCCCDDDD")
    with pytest.raises(RegisterConflictError):
        _book(seeded, "HS-00000000A2", "AAAABBBBCCCCDDDD")
    with pytest.raises(NotFoundError):
        seeded.get_request("HS-00000000A2")


def test_a_bank_transaction_is_recorded_once(seeded: SqlRegister) -> None:
    _book(seeded, "HS-00000000A1", "AAAABBBBCCCCDDDD")
    _book(seeded, "HS-00000000A2", "AAAABBBBCCCCDDDE")
    first, new = seeded.add_payment(
        _payment("HS-00000000A1", 6000, "FT123"), audit=_event("payment_confirmed", "x")
    )
    assert new and first.cashless
    again, new = seeded.add_payment(
        _payment("HS-00000000A1", 6000, "FT123"), audit=_event("payment_confirmed", "x")
    )
    assert not new and again == first
    for other in (
        _payment("HS-00000000A1", 7000, "FT123"),
        _payment("HS-00000000A2", 6000, "FT123"),
    ):
        with pytest.raises(RegisterConflictError) as conflict:
            seeded.add_payment(other, audit=_event("payment_confirmed", "x"))
        assert conflict.value.code == "payment_conflict"
    seeded.add_payment(
        _payment("HS-00000000A1", 2000, None, "cash"), audit=_event("payment_recorded", "x")
    )
    paid = seeded.payments_of_requests(["HS-00000000A1", "HS-00000000A2"])
    assert [(p.amount, p.method, p.cashless) for p in paid["HS-00000000A1"]] == [
        (6000, "transfer", True),
        (2000, "cash", False),
    ]
    assert paid["HS-00000000A2"] == []
    _, events = seeded.audit_events_after(0, limit=100, actions=["payment_confirmed"])
    assert len(events) == 1  # the repeated and refused ones wrote nothing


def test_only_a_certified_request_becomes_ready_and_delivery_is_noted_once(
    seeded: SqlRegister,
) -> None:
    _book(seeded, "HS-00000000A1", "AAAABBBBCCCCDDDD")
    made = seeded.make_ready(
        "HS-00000000A1",
        now=BOOKED_AT,
        lifetime=dt.timedelta(hours=72),
        mail=None,
        audit=_event("request_ready", "HS-00000000A1"),
    )
    assert made is False
    assert seeded.get_request("HS-00000000A1").ready_at is None
    later = BOOKED_AT + dt.timedelta(hours=1)
    assert seeded.mark_delivered("HS-00000000A1", BOOKED_AT) is True
    assert seeded.mark_delivered("HS-00000000A1", later) is False
    assert seeded.get_request("HS-00000000A1").delivered_at == BOOKED_AT


def test_the_measure_reads_received_requests_of_the_given_authorities(
    seeded: SqlRegister,
) -> None:
    for n, authority in enumerate((AUTHORITY, AUTHORITY, OTHER), start=1):
        code = f"HS-00000000B{n}"
        _book(seeded, code, f"AAAABBBBCCCCEEE{'ABC'[n - 1]}", authority)
        if n < 3:
            at = BOOKED_AT + dt.timedelta(days=n)
            seeded.receive_booking(
                code,
                requester_id_number="1",
                received_at=at,
                due_at=None,
                audit=_event("request_received", code, at),
            )
    _book(seeded, "HS-00000000B4", "AAAABBBBCCCCEEEZ")  # booked, never received
    seeded.add_payment(_payment("HS-00000000B1", 6000, "FT1"), audit=_event("payment", "x"))
    rows = seeded.requests_for_measure(
        [AUTHORITY, OTHER], since=BOOKED_AT, until=BOOKED_AT + dt.timedelta(days=30)
    )
    assert [r.code for r, _, _ in rows] == ["HS-00000000B1", "HS-00000000B2"]
    assert [len(items) for _, items, _ in rows] == [2, 2]
    assert [len(paid) for _, _, paid in rows] == [1, 0]
    assert (
        seeded.requests_for_measure([OTHER], since=BOOKED_AT, until=BOOKED_AT.replace(2027)) == []
    )


def test_the_notifier_place_moves_forward_only(seeded: SqlRegister) -> None:
    _book(seeded, "HS-00000000A1", "AAAABBBBCCCCDDDD")
    _book(seeded, "HS-00000000A2", "AAAABBBBCCCCDDDE")
    assert seeded.projection_position("mail") == 0
    upto, events = seeded.audit_events_after(0, limit=1, actions=["request_booked"])
    assert [e.subject for _, e in events] == ["HS-00000000A1"]
    upto2, events = seeded.audit_events_after(upto, limit=10, actions=["request_booked"])
    assert [e.subject for _, e in events] == ["HS-00000000A2"] and upto2 > upto
    # Events of other actions are read past but not returned.
    _, none = seeded.audit_events_after(0, limit=10, actions=["copy.issued"])
    assert none == []
    seeded.set_projection_position("mail", upto2)
    seeded.set_projection_position("mail", upto)
    assert seeded.projection_position("mail") == upto2
    assert seeded.audit_events_after(upto2, limit=10, actions=["request_booked"]) == (upto2, [])


def test_a_request_is_read_whole_by_code_or_tracking_code(seeded: SqlRegister) -> None:
    _book(seeded, "HS-00000000A1", "AAAABBBBCCCCDDDD")
    seeded.add_payment(_payment("HS-00000000A1", 6000, "FT9"), audit=_event("payment", "x"))
    by_code = seeded.request_view(code="HS-00000000A1")
    by_tracking = seeded.request_view(tracking_code="AAAABBBBCCCCDDDD")
    assert by_code is not None and by_code == by_tracking
    assert by_code.authority.name == "UBND phường Tân Phú"
    assert [i.document_name for i in by_code.items] == ["Giấy khai sinh", "Bằng tốt nghiệp"]
    assert by_code.documents == ()
    assert [p.provider_txn for p in by_code.payments] == ["FT9"]
    assert seeded.request_view(tracking_code="AAAABBBBCCCCDDDE") is None
    assert seeded.request_view(code="HS-FFFFFFFFFF") is None
    assert seeded.request_view() is None
