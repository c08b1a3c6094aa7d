"""The citizens' side through the API (issue 12), on the real stack (MinIO, SQLite, the test
PKI, a fixed clock): a booking received at the desk by its code, tracked by its holder,
paid by a signed bank webhook or at the desk, made ready by the notifier; each refusal
(a bad booking, guessed codes, another authority, a forged, replayed or wrong webhook)
changes nothing and what reached the service is recorded; and the public measure."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.citizen_services import deliver_mail
from api.services import Services
from certify.payments import payment_reference
from certify.vietqr import vietqr_payload
from storage.minio_server import MinioServer
from tests.api.citizen_fixtures import (
    ACCOUNT,
    BOOKING,
    ID_NUMBER,
    book,
    certified,
    citizen_services,
    clock,
    events,
    instant,
    office,
    web,
    webhook,
)
from tests.api.desk_fixtures import bearer
from tests.issuing import AUTHORITY, CLERK, OTHER_CERTIFIER, ServedPki

pytestmark = pytest.mark.integration
__all__ = ["office", "web"]  # fixtures


def payments_of(services: Services, request_code: str) -> list[tuple[int, str]]:
    return [(p.amount, p.method) for p in services.register.payments_of(request_code)]


# --- booking --------------------------------------------------------------------------------


def test_a_booking_answers_its_tracking_code_and_what_to_bring(
    web: TestClient, office: Services
) -> None:
    body = book(web)
    code = body["tracking_code"]
    assert len(code) == 19 and code.count("-") == 3
    assert body["tracking_url"] == f"http://testserver/t/{code.replace('-', '')}"
    assert body["status"] == "booked"
    assert body["estimated_fee"] == 2 * 2000  # TT 226/2016: one page, two copies
    assert any("Giấy khai sinh" in line for line in body["bring"])
    assert any("citizen ID" in line for line in body["bring"])
    booked = [e for e in events(office) if e[1] == "request_booked"]
    assert [(e[0], e[3]["authority"]) for e in booked] == [("citizen", AUTHORITY.code)]
    # No personal data in the audit chain.
    assert BOOKING["email"] not in json.dumps(events(office))


@pytest.mark.parametrize(
    ("changes", "status", "error"),
    [
        ({"email": "not an address"}, 400, "invalid_request"),
        ({"originals": []}, 400, "invalid_request"),
        ({"phone": "call me"}, 400, "phone_invalid"),
        ({"authority_code": "nowhere"}, 404, "not_found"),
    ],
)
def test_a_wrong_booking_is_refused_with_its_code(
    web: TestClient, office: Services, changes: dict[str, object], status: int, error: str
) -> None:
    answer = web.post("/api/v1/bookings", json={**BOOKING, **changes})
    assert (answer.status_code, answer.json()["error"]) == (status, error), answer.text
    assert set(answer.json()) == {"error", "message"}
    assert not [e for e in events(office) if e[1] == "request_booked"]


def test_bookings_are_rate_limited(
    minio_server: MinioServer, served_pki: ServedPki, data_dir: Path
) -> None:
    services = citizen_services(minio_server, served_pki, data_dir, booking_rate_limit="2/minute")
    try:
        with TestClient(create_app(services=services)) as client:
            codes = [client.post("/api/v1/bookings", json=BOOKING).status_code for _ in range(3)]
            assert codes == [201, 201, 429]
            limited = client.post("/api/v1/bookings", json=BOOKING)
            assert limited.json()["error"] == "rate_limited"
            assert int(limited.headers["Retry-After"]) > 0
    finally:
        services.close()


# --- tracking -------------------------------------------------------------------------------


def test_the_holder_tracks_the_booking_by_its_code(web: TestClient, office: Services) -> None:
    code = book(web)["tracking_code"]
    for asked in (code, code.replace("-", ""), code.lower()):
        answer = web.get(f"/api/v1/tracking/{asked}")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (body["state"], body["tracking_code"]) == ("booked", code)
        assert body["requester_name"] == BOOKING["requester_name"]
        assert body["authority_name"] == AUTHORITY.name
        assert body["originals"][0]["status"] == "booked"
        assert (body["payment_state"], body["vietqr"], body["due_at"]) == ("pending", None, None)


def test_an_unknown_code_is_404_and_recorded_without_the_code(
    web: TestClient, office: Services
) -> None:
    guess = "ABCD-EFGH-IJKL-MNOP"
    answer = web.get(f"/api/v1/tracking/{guess}")
    assert (answer.status_code, answer.json()["error"]) == (404, "tracking_unknown")
    subject = hashlib.sha256(guess.encode()).hexdigest()[:8]
    assert events(office)[-1][:3] == ("citizen", "tracking_refused", subject)
    assert guess not in json.dumps(events(office))


def test_a_flood_of_guessed_codes_is_429(
    minio_server: MinioServer, served_pki: ServedPki, data_dir: Path
) -> None:
    services = citizen_services(minio_server, served_pki, data_dir, tracking_rate_limit="3/minute")
    try:
        with TestClient(create_app(services=services)) as client:
            answers = [client.get(f"/api/v1/tracking/GUESS{n:011d}") for n in range(5)]
            assert [a.status_code for a in answers] == [404, 404, 404, 429, 429]
            assert answers[-1].json()["error"] == "rate_limited"
            assert int(answers[-1].headers["Retry-After"]) > 0
        refused = [e for e in events(services) if e[1] == "tracking_refused"]
        assert len(refused) == 3  # a limited attempt does not reach the register
    finally:
        services.close()


# --- the desk receives a booking -----------------------------------------------------------


def test_a_clerk_receives_a_booking_by_its_code_once(web: TestClient, office: Services) -> None:
    code = book(web)["tracking_code"]
    stranger = bearer(web, office, OTHER_CERTIFIER.username)
    other = web.post(
        f"/api/v1/bookings/{code}/receive",
        json={"requester_id_number": ID_NUMBER},
        headers=stranger,
    )
    assert (other.status_code, other.json()["error"]) == (404, "not_found")
    assert web.get(f"/api/v1/tracking/{code}").json()["state"] == "booked"

    clerk = bearer(web, office, CLERK.username)
    answer = web.post(
        f"/api/v1/bookings/{code}/receive", json={"requester_id_number": ID_NUMBER}, headers=clerk
    )
    assert answer.status_code == 200, answer.text
    desk = answer.json()
    assert (desk["status"], desk["requester_id_number"]) == ("received", ID_NUMBER)
    # Received Tuesday 1 Dec 2026 at 09:00 (Vietnam): due at 17:00 the same day.
    assert instant(desk["due_at"]) == dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC)
    assert [o["status"] for o in desk["originals"]] == ["received"]
    tracked = web.get(f"/api/v1/tracking/{code}").json()
    assert tracked["state"] == "received"
    assert instant(tracked["due_at"]) == dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC)

    again = web.post(
        f"/api/v1/bookings/{code}/receive", json={"requester_id_number": ID_NUMBER}, headers=clerk
    )
    assert (again.status_code, again.json()["error"]) == (409, "request_state")
    unknown = web.post(
        "/api/v1/bookings/AAAABBBBCCCCDDDD/receive",
        json={"requester_id_number": ID_NUMBER},
        headers=clerk,
    )
    assert (unknown.status_code, unknown.json()["error"]) == (404, "tracking_unknown")
    anonymous = web.post(f"/api/v1/bookings/{code}/receive", json={"requester_id_number": "1"})
    assert anonymous.status_code == 401


# --- payment, readiness, copies --------------------------------------------------------------


def test_a_certified_request_shows_its_vietqr_and_a_desk_payment_makes_it_ready(
    web: TestClient, office: Services
) -> None:
    done = certified(web, office)
    tracked = web.get(f"/api/v1/tracking/{done.tracking_code}").json()
    assert (tracked["state"], tracked["payment_state"]) == ("certified", "unpaid")
    assert tracked["fee"] == done.fee == 4000
    assert tracked["due_amount"] == 4000
    assert tracked["payment_reference"] == payment_reference(done.request_code)
    assert tracked["vietqr"] == vietqr_payload(
        bank_bin=ACCOUNT["bank_bin"],
        account_number=ACCOUNT["account_number"],
        amount=4000,
        reference=payment_reference(done.request_code),
    )
    [copy] = tracked["copies"]
    assert copy["verification_url"].startswith("http://testserver/v/")
    assert copy["download_url"] is None  # not paid, not ready

    clerk = bearer(web, office, CLERK.username)
    stranger = bearer(web, office, OTHER_CERTIFIER.username)
    body = {"method": "cash", "amount": 4000}
    refused = web.post(
        f"/api/v1/requests/{done.request_code}/payments", json=body, headers=stranger
    )
    assert refused.status_code == 404
    wrong = web.post(
        f"/api/v1/requests/{done.request_code}/payments",
        json={"method": "cheque", "amount": 4000},
        headers=clerk,
    )
    assert wrong.status_code == 400
    assert payments_of(office, done.request_code) == []

    paid = web.post(f"/api/v1/requests/{done.request_code}/payments", json=body, headers=clerk)
    assert paid.status_code == 201, paid.text
    out = paid.json()
    assert (out["payment_state"], out["paid"], out["due_amount"]) == ("paid", 4000, 0)
    assert (out["method"], out["cashless"], out["recorded_by"]) == ("cash", False, CLERK.username)
    assert payments_of(office, done.request_code) == [(4000, "cash")]

    deliver_mail(office)
    tracked = web.get(f"/api/v1/tracking/{done.tracking_code}").json()
    assert (tracked["state"], tracked["vietqr"]) == ("ready", None)
    [copy] = tracked["copies"]
    assert copy["download_url"] == (
        f"http://testserver/t/{done.tracking_code}/copies/{done.document_id}"
    )
    assert instant(tracked["download_until"]) == clock(office).now() + dt.timedelta(hours=72)


def test_the_bank_webhook_records_a_transfer_once_and_refuses_the_rest(
    web: TestClient, office: Services
) -> None:
    done = certified(web, office)
    reference = payment_reference(done.request_code)
    now = clock(office).now()

    refusals = [
        (
            webhook(web, office, amount=4000, reference=reference, secret="not the secret"),
            403,
            "webhook_signature_invalid",
        ),
        (
            webhook(
                web, office, amount=4000, reference=reference, at=now - dt.timedelta(minutes=10)
            ),
            403,
            "webhook_stale",
        ),
        (webhook(web, office, amount=3000, reference=reference), 400, "payment_amount_mismatch"),
        (
            webhook(web, office, amount=4000, reference="HS0000000000"),
            400,
            "payment_reference_unknown",
        ),
        (
            webhook(web, office, amount=4000, reference=reference, authority="dn-binhda"),
            404,
            "payment_account_unknown",
        ),
    ]
    for answer, status, error in refusals:
        assert (answer.status_code, answer.json()["error"]) == (status, error), answer.text
    assert payments_of(office, done.request_code) == []
    reasons = [e[3]["reason"] for e in events(office) if e[1] == "payment_refused"]
    assert reasons == [
        "webhook_signature_invalid",
        "webhook_stale",
        "payment_amount_mismatch",
        "payment_reference_unknown",
    ]

    first = webhook(web, office, amount=4000, reference=reference)
    assert first.status_code == 200, first.text
    assert first.json() == {"recorded": True, "request_code": done.request_code, "amount": 4000}
    again = webhook(web, office, amount=4000, reference=reference)
    assert again.json() == {"recorded": False, "request_code": done.request_code, "amount": 4000}
    assert payments_of(office, done.request_code) == [(4000, "transfer")]
    tracked = web.get(f"/api/v1/tracking/{done.tracking_code}").json()
    assert (tracked["payment_state"], tracked["paid"], tracked["vietqr"]) == ("paid", 4000, None)
    assert tracked["payments"][0]["cashless"] is True
    # Paid: a replay of the accepted call later is stale, and changes nothing either.
    clock(office).at += dt.timedelta(minutes=30)
    replay = web.post(
        f"/api/v1/payments/webhook/{AUTHORITY.code}",
        content=first.request.content,
        headers=dict(first.request.headers),
    )
    assert (replay.status_code, replay.json()["error"]) == (403, "webhook_stale")
    assert payments_of(office, done.request_code) == [(4000, "transfer")]


def test_a_webhook_body_over_16_kib_is_not_read(web: TestClient, office: Services) -> None:
    answer = web.post(
        f"/api/v1/payments/webhook/{AUTHORITY.code}",
        content=b"{" + b" " * 20_000 + b"}",
        headers={"X-Certify-Timestamp": "1", "X-Certify-Signature": "sha256=" + "0" * 64},
    )
    assert answer.status_code == 413
    assert set(answer.json()) == {"error", "message"}


# --- the public measure ---------------------------------------------------------------------


def test_the_public_measure_counts_the_month_without_personal_data(
    web: TestClient, office: Services
) -> None:
    # The seeded register has a request of its own, received at the real time: counted apart.
    before = {
        query: web.get(f"/api/v1/public/measure?{query}&year=2026").json()["months"][11]
        for query in (f"authority={AUTHORITY.code}", "province=dn")
    }
    paid = certified(web, office)  # paid by transfer, then downloaded
    unpaid = certified(web, office)  # certified, not paid
    book(web)  # a booking not received: counted nowhere
    clerk = bearer(web, office, CLERK.username)
    refused_code = book(web)["tracking_code"]
    received = web.post(
        f"/api/v1/bookings/{refused_code}/receive",
        json={"requester_id_number": ID_NUMBER},
        headers=clerk,
    ).json()
    web.post(
        f"/api/v1/requests/{received['code']}/originals/1/refuse",
        json={"ground": "damaged", "note": ""},
        headers=clerk,
    ).raise_for_status()
    webhook(web, office, amount=4000, reference=payment_reference(paid.request_code))
    deliver_mail(office)
    pdf = web.get(f"/t/{paid.tracking_code}/copies/{paid.document_id}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert unpaid.request_code != paid.request_code

    for query in (f"authority={AUTHORITY.code}", "province=dn"):
        answer = web.get(f"/api/v1/public/measure?{query}&year=2026")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert len(body["months"]) == 12
        december = body["months"][11]
        assert (december["year"], december["month"]) == (2026, 12)
        counted = {k: v - before[query][k] for k, v in december.items() if "share" not in k}
        assert counted == {
            "year": 0,
            "month": 0,
            "received": 3,
            "certified": 2,
            "refused": 1,
            "delivered_electronically": 1,
            "paid": 1,
            "paid_cashless": 1,
            "on_time": 3,
            "overdue": 0,
            "open": 0,
        }
        if before[query]["received"] == 0:  # the shares, when nothing else is counted
            assert (december["delivered_share"], december["cashless_share"]) == (0.5, 1.0)
        for name in ("received", "certified", "paid", "open"):
            assert body["total"][name] == sum(m[name] for m in body["months"])
        assert BOOKING["requester_name"] not in answer.text
    assert web.get("/api/v1/public/measure?authority=dn-tanphu").json()["year"] == 2026
    unknown = web.get("/api/v1/public/measure?authority=nowhere")
    assert (unknown.status_code, unknown.json()["error"]) == (404, "measure_scope_unknown")
    both = web.get("/api/v1/public/measure?authority=dn-tanphu&province=dn")
    assert (both.status_code, both.json()["error"]) == (400, "measure_scope_invalid")
    assert web.get("/api/v1/public/measure").status_code == 400
