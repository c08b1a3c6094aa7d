"""The e-mails to citizens: Vietnamese then English, Vietnam time, the refusal's ground, the
links; the requester's name but never the ID number or contact details."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from certify.errors import InvalidInputError
from certify.mail_texts import (
    SEPARATOR,
    booked_mail,
    extended_mail,
    ready_mail,
    received_mail,
    refused_mail,
)
from certify.ports import DocumentEntry, ItemRecord, RequestRecord
from certify.refusal_grounds import REFUSAL_REASONS

AUTHORITY = "UBND phường Tân Phú"
TRACK = "https://chungthuc.example.vn/theo-doi/K7QF2M9XPL4D"
ID_NUMBER = "079188001234"
# 2026-12-02 10:00 UTC is Wednesday 02/12/2026 17:00 in Vietnam.
DUE = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)
REQUEST = RequestRecord(
    code="HS-2026-000123",
    authority_code="79-tanphu",
    requester_name="Nguyễn Thị Lan",
    requester_id_number=ID_NUMBER,
    status="received",
    created_at=dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC),
    requester_contact="0909 123 456",
    due_at=DUE,
    tracking_code="K7QF2M9XPL4D",
    requester_email="lan@example.vn",
    requester_phone="0909123456",
)
ITEMS = (
    ItemRecord(REQUEST.code, 1, "Giấy khai sinh", pages=1, copies=2, status="received"),
    ItemRecord(REQUEST.code, 2, "Bằng tốt nghiệp THPT", pages=2, copies=1, status="received"),
)


def split(body: str) -> tuple[str, str]:
    vi, sep, en = body.partition(f"\n{SEPARATOR}\n")
    assert sep, "the English part follows the separator line"
    return vi, en


def check_common(subject: str, body: str) -> tuple[str, str]:
    """What every mail shares: bilingual subject of at most 200 characters, Vietnamese then
    English, the tracking link in both, the name, and no ID number or contact details."""
    assert len(subject) <= 200
    assert " / " in subject
    assert "\n" not in subject
    assert REQUEST.code in subject
    vi, en = split(body)
    assert "Kính gửi ông/bà Nguyễn Thị Lan," in vi
    assert "Dear Nguyễn Thị Lan," in en
    assert TRACK in vi
    assert TRACK in en
    for private in (ID_NUMBER, "0909", "lan@example.vn"):
        assert private not in subject
        assert private not in body
    return vi, en


def test_booked_mail() -> None:
    subject, body = booked_mail(
        authority_name=AUTHORITY, request=REQUEST, items=ITEMS, tracking_url=TRACK
    )
    vi, en = check_common(subject, body)
    assert subject.startswith("Đã đặt lịch")
    for part in (vi, en):
        assert "K7QF2M9XPL4D" in part
        assert "HS-2026-000123" in part
        assert "Giấy khai sinh" in part
        assert "Bằng tốt nghiệp THPT" in part
        assert "CCCD" in part
    assert "1. Giấy khai sinh (1 trang, 2 bản sao)" in vi
    assert "2. Bằng tốt nghiệp THPT (2 pages, 1 copy)" in en
    assert "hộ chiếu" in vi
    assert "passport" in en
    assert "tính từ khi cơ quan nhận bản chính" in vi
    assert "starts when the originals are received" in en


def test_received_mail_shows_the_due_time_in_vietnam_time() -> None:
    extended = replace(REQUEST, extended_to=DUE + dt.timedelta(days=2))
    subject, body = received_mail(
        authority_name=AUTHORITY,
        request=REQUEST,
        items=(*ITEMS, replace(ITEMS[0], position=3, document_name="Sổ đỏ", status="booked")),
        tracking_url=TRACK,
    )
    vi, en = check_common(subject, body)
    assert "Hẹn trả kết quả: thứ Tư, 02/12/2026 17:00 (giờ Việt Nam)" in vi
    assert "Result due: Wednesday, 02/12/2026 17:00 (Vietnam time)" in en
    assert "10:00" not in body
    assert "Bằng tốt nghiệp THPT" in vi
    assert "Sổ đỏ" not in body  # still only booked: not received

    _, body = received_mail(
        authority_name=AUTHORITY, request=extended, items=ITEMS, tracking_url=TRACK
    )
    assert "thứ Sáu, 04/12/2026 17:00 (giờ Việt Nam)" in body  # the extended time wins


def test_received_mail_without_a_due_time() -> None:
    subject, body = received_mail(
        authority_name=AUTHORITY,
        request=replace(REQUEST, due_at=None),
        items=ITEMS,
        tracking_url=TRACK,
    )
    vi, en = check_common(subject, body)
    assert "không có giờ hẹn" in vi
    assert "No due time was set" in en
    assert "Hẹn trả kết quả:" not in vi


@pytest.mark.parametrize("code", sorted(REFUSAL_REASONS))
def test_refused_mail_gives_the_ground(code: str) -> None:
    item = replace(
        ITEMS[1],
        status="refused",
        refusal_code=code,
        refusal_note="Trang 2 bị\nrách góc",
    )
    subject, body = refused_mail(
        authority_name=AUTHORITY, request=REQUEST, item=item, tracking_url=TRACK
    )
    vi, en = check_common(subject, body)
    ground_vi, ground_en = REFUSAL_REASONS[code]
    assert f"Lý do: {ground_vi}." in vi
    assert f"Ground: {ground_en}." in en
    assert "“Bằng tốt nghiệp THPT”" in vi
    assert "“Bằng tốt nghiệp THPT”" in en
    assert "Ghi chú của cán bộ: Trang 2 bị rách góc" in vi
    assert "The officer's note: Trang 2 bị rách góc" in en
    assert "Giấy khai sinh" not in body  # only the refused original


def test_refused_mail_without_note_or_known_ground() -> None:
    item = replace(ITEMS[0], status="refused", refusal_code="withdrawn-ground")
    _, body = refused_mail(authority_name=AUTHORITY, request=REQUEST, item=item, tracking_url=TRACK)
    vi, en = split(body)
    assert "Điều 22 Nghị định 23/2015/NĐ-CP" in vi
    assert "Decree 23/2015, art. 22" in en
    assert "Ghi chú" not in vi
    assert "note" not in en


def test_extended_mail_gives_the_appointment_day_and_hour() -> None:
    # 2026-12-04 01:30 UTC: Friday 04/12/2026 08:30 in Vietnam.
    appointment = dt.datetime(2026, 12, 4, 1, 30, tzinfo=dt.UTC)
    subject, body = extended_mail(
        authority_name=AUTHORITY, request=REQUEST, appointment=appointment, tracking_url=TRACK
    )
    vi, en = check_common(subject, body)
    assert "gia hạn đến thứ Sáu, 04/12/2026 08:30 (giờ Việt Nam)" in vi
    assert "extended to Friday, 04/12/2026 08:30 (Vietnam time)" in en
    assert subject.startswith("Gia hạn")


def entry(number: int, name: str, token: str) -> DocumentEntry:
    return DocumentEntry(
        id=f"doc-{number}",
        authority_code="79-tanphu",
        request_code=REQUEST.code,
        register_type="SCT/BS",
        year=2026,
        number=number,
        book="01/2026-SCT/BS",
        document_name=name,
        pages=1,
        copies=1,
        fee=4000,
        page_hashes=("00",),
        copy_key="k",
        copy_sha256="00",
        copy_size=1,
        copy_version_id=None,
        verification_token=token,
        certifier_username="nguyenvanan",
        issued_at=DUE,
    )


def test_ready_mail_lists_each_copy_with_its_links() -> None:
    copies = [
        (
            entry(41, "Giấy khai sinh", "tok41"),
            "https://chungthuc.example.vn/tai/SECRET41",
            "https://chungthuc.example.vn/v/tok41",
        ),
        (
            entry(42, "Bằng tốt nghiệp THPT", "tok42"),
            "https://chungthuc.example.vn/tai/SECRET42",
            "https://chungthuc.example.vn/v/tok42",
        ),
    ]
    # 16:59 UTC on 31 December is 23:59 in Vietnam the same day.
    expires = dt.datetime(2026, 12, 31, 16, 59, tzinfo=dt.UTC)
    subject, body = ready_mail(
        authority_name=AUTHORITY,
        request=REQUEST,
        copies=copies,
        expires_at=expires,
        tracking_url=TRACK,
    )
    vi, en = check_common(subject, body)
    for part in (vi, en):
        for number, secret in ((41, "SECRET41"), (42, "SECRET42")):
            assert f"https://chungthuc.example.vn/tai/{secret}" in part
            assert f"https://chungthuc.example.vn/v/tok{number}" in part
    assert "Số chứng thực 41 quyển số 01/2026-SCT/BS" in vi
    assert "Số chứng thực 42 quyển số 01/2026-SCT/BS" in vi
    assert "Certification no. 42, book no. 01/2026-SCT/BS" in en
    assert "đến thứ Năm, 31/12/2026 23:59 (giờ Việt Nam)" in vi
    assert "until Thursday, 31/12/2026 23:59 (Vietnam time)" in en
    assert "tải lại bản sao từ trang theo dõi hồ sơ" in vi
    assert "again from the tracking page" in en
    assert "mã QR" in vi
    assert "lets anyone check" in en


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(InvalidInputError) as caught:
        extended_mail(
            authority_name=AUTHORITY,
            request=REQUEST,
            appointment=dt.datetime(2026, 12, 4, 8, 30),  # noqa: DTZ001 - the case under test
            tracking_url=TRACK,
        )
    assert caught.value.code == "naive_datetime"


def test_a_long_code_keeps_the_subject_short() -> None:
    subject, _ = booked_mail(
        authority_name=AUTHORITY,
        request=replace(REQUEST, code="HS-" + "9" * 200),
        items=ITEMS,
        tracking_url=TRACK,
    )
    assert len(subject) == 200
    assert subject.endswith("…")
