"""The notifier (certify.notifier) on the real stack: status changes become e-mails in the
outbox once each, a paid request becomes ready with links that expire, an authority that
waives fees delivers at once, and the e-mailed link stops working when it expires."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.app import create_app
from api.citizen_services import deliver_mail, notifier
from api.services import Services
from storage.citizen_tables import OutboxMessage
from storage.database import Authority
from storage.minio_server import MinioServer
from tests.api.citizen_fixtures import (
    BOOKING,
    ID_NUMBER,
    book,
    certified,
    citizen_services,
    clock,
    events,
    office,
    web,
    webhook,
)
from tests.api.desk_fixtures import bearer
from tests.issuing import AUTHORITY, CLERK, ServedPki

pytestmark = pytest.mark.integration
__all__ = ["office", "web"]  # fixtures


def outbox(services: Services) -> list[OutboxMessage]:
    with Session(services.engine) as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def kinds(services: Services) -> list[str]:
    return [m.kind for m in outbox(services)]


def test_each_status_change_is_mailed_once_in_both_languages(
    web: TestClient, office: Services
) -> None:
    clerk = bearer(web, office, CLERK.username)
    code = book(web)["tracking_code"].replace("-", "")
    received = web.post(
        f"/api/v1/bookings/{code}/receive", json={"requester_id_number": ID_NUMBER}, headers=clerk
    ).json()["code"]
    refused = web.post(
        f"/api/v1/requests/{received}/originals/1/refuse",
        json={"ground": "damaged", "note": "Rách mất góc phải"},
        headers=clerk,
    )
    assert refused.status_code == 200, refused.text
    deliver_mail(office)
    deliver_mail(office)  # a second run (another replica, a restart) writes nothing twice
    assert kinds(office) == ["booked", "received", "refused"]
    mails = outbox(office)
    assert {m.to_address for m in mails} == {BOOKING["email"]}
    assert all(m.sent_at is None for m in mails)  # no SMTP host: they wait, none is lost
    refusal = mails[2].body or ""
    assert "hư hỏng" in refusal and "damaged" in refusal and "Rách mất góc phải" in refusal
    assert ID_NUMBER not in "".join(m.body or "" for m in mails)
    assert f"/t/{code}" in refusal


def test_an_extension_is_mailed_with_the_appointment(
    minio_server: MinioServer, served_pki: ServedPki, data_dir: Path
) -> None:
    services = citizen_services(minio_server, served_pki, data_dir)
    try:
        with TestClient(create_app(services=services)) as client:
            clerk = bearer(client, services, CLERK.username)
            answer = client.post(
                "/api/v1/requests",
                json={
                    "requester_name": "Lê Văn Tám",
                    "requester_id_number": "079200000001",
                    "requester_contact": "tam.le@example.vn",  # an e-mail at the desk
                    "originals": [{"document_name": "Học bạ", "pages": 40, "copies": 3}],
                },
                headers=clerk,
            )
            assert answer.status_code == 201, answer.text
            code = answer.json()["code"]
            extended = client.post(
                f"/api/v1/requests/{code}/extend",
                json={"working_days": 2, "at": "10:00"},
                headers=clerk,
            )
            assert extended.status_code == 200, extended.text
            deliver_mail(services)
        assert kinds(services) == ["received", "extended"]
        body = outbox(services)[1].body or ""
        # Received Tuesday 1 Dec 09:00, due 17:00 that day; +2 working days: Thursday 10:00.
        assert "03/12/2026 10:00" in body
        assert outbox(services)[1].to_address == "tam.le@example.vn"
    finally:
        services.close()


def test_a_paid_request_is_made_ready_once_and_its_links_expire(
    web: TestClient, office: Services
) -> None:
    done = certified(web, office)
    deliver_mail(office)
    assert "ready" not in kinds(office)  # certified, not paid: nothing to deliver yet
    assert webhook(web, office, amount=done.fee, reference=done.request_code.replace("-", ""))
    deliver_mail(office)
    notifier(office).settle(office.register.get_request(done.request_code))  # again: no-op
    assert kinds(office).count("ready") == 1
    assert [e[1] for e in events(office)].count("request_ready") == 1
    ready = next(m for m in outbox(office) if m.kind == "ready")
    link = re.search(r"/d/[A-Za-z0-9_-]+", ready.body or "")
    assert link is not None
    copy = f"/t/{done.tracking_code}/copies/{done.document_id}"

    assert web.get(link.group(0)).content.startswith(b"%PDF")
    assert web.get(copy).content.startswith(b"%PDF")
    assert web.get(f"/api/v1/tracking/{done.tracking_code}").json()["state"] == "delivered"

    clock(office).at += dt.timedelta(hours=72)  # CERTIFY_DOWNLOAD_LINK_HOURS
    assert web.get(link.group(0)).status_code == 404
    assert web.get(copy).status_code == 404
    tracked = web.get(f"/api/v1/tracking/{done.tracking_code}").json()
    assert all(c["download_url"] is None for c in tracked["copies"])


def test_an_authority_that_waives_fees_delivers_without_a_payment(
    minio_server: MinioServer, served_pki: ServedPki, data_dir: Path
) -> None:
    services = citizen_services(minio_server, served_pki, data_dir)
    try:
        with Session(services.engine) as session, session.begin():
            authority = session.get(Authority, AUTHORITY.code)
            assert authority is not None
            authority.fee_waived = True
        with TestClient(create_app(services=services)) as client:
            done = certified(client, services)
            deliver_mail(services)
            tracked = client.get(f"/api/v1/tracking/{done.tracking_code}").json()
            page = client.get(f"/t/{done.tracking_code}").text
        assert done.fee == 0
        assert (tracked["state"], tracked["payment_state"]) == ("ready", "waived")
        assert tracked["vietqr"] is None and 'data-test="pay"' not in page
        assert kinds(services)[-1] == "ready"
    finally:
        services.close()
