"""SqlRegister.register_rows: the register's printed lines, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid

import pytest

from certify.errors import InvalidInputError
from certify.ports import AuthorityRecord, DocumentEntry, OfficerRecord
from certify.register import RegisterRow
from storage.sql_register import SqlRegister

SCT = "SCT/BS"
AUTHORITY = "79-tanphu"
OTHER = "01-hoankiem"


@pytest.fixture
def seeded(register: SqlRegister) -> SqlRegister:
    register.add_authority(
        AuthorityRecord(AUTHORITY, "UBND phường Tân Phú", "79", "Thành phố Hồ Chí Minh")
    )
    register.add_authority(AuthorityRecord(OTHER, "UBND phường Hoàn Kiếm", "01", "Hà Nội"))
    register.add_officer(
        OfficerRecord(
            "nguyenvanan", "Nguyễn Văn An", "Phó Chủ tịch UBND phường", "certifier", AUTHORITY
        )
    )
    register.add_officer(
        OfficerRecord(
            "tranthibich", "Trần Thị Bích", "Chủ tịch UBND phường", "certifier", AUTHORITY
        )
    )
    register.add_officer(OfficerRecord("lehk", "Lê Hoàn", "Chủ tịch", "certifier", OTHER))
    for code, name, authority in (
        ("HS-1", "Phạm Thị Ánh Tuyết", AUTHORITY),
        ("HS-2", "Đặng Quốc Việt", AUTHORITY),
        ("HS-HK", "Hoàng Văn Hà", OTHER),
    ):
        register.add_request(
            code, authority_code=authority, requester_name=name, requester_id_number="0790001"
        )
    return register


def add(
    register: SqlRegister,
    issued_at: dt.datetime,
    *,
    request: str = "HS-1",
    certifier: str = "nguyenvanan",
    authority: str = AUTHORITY,
    document_name: str = "Giấy khai sinh",
    copies: int = 2,
) -> DocumentEntry:
    with register.transaction() as tx:
        number = tx.next_number(authority, SCT, 2026)
        made = DocumentEntry(
            id=str(uuid.uuid4()),
            authority_code=authority,
            request_code=request,
            register_type=SCT,
            year=2026,
            number=number,
            book="01/2026",
            document_name=document_name,
            pages=1,
            copies=copies,
            fee=2_000 * copies,
            page_hashes=(hashlib.sha256(b"p").hexdigest(),),
            copy_key=f"{authority}/2026/{number}.pdf",
            copy_sha256=hashlib.sha256(b"c").hexdigest(),
            copy_size=1,
            copy_version_id="v1",
            verification_token=secrets.token_urlsafe(24),
            certifier_username=certifier,
            issued_at=issued_at,
        )
        tx.add_document(made)
    return made


def utc(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


def test_register_rows_join_the_names_in_number_order(seeded: SqlRegister) -> None:
    add(seeded, utc(2026, 3, 2, 2, 0), document_name="Căn cước công dân")
    add(seeded, utc(2026, 3, 2, 3, 0), request="HS-2", certifier="tranthibich", copies=3)
    third = add(seeded, utc(2026, 3, 3, 9, 0), document_name="Bằng tốt nghiệp đại học")
    add(seeded, utc(2026, 3, 3, 9, 0), authority=OTHER, request="HS-HK", certifier="lehk")
    seeded.cancel_document(third.id, "Chứng thực sai thẩm quyền", utc(2026, 3, 20, 18, 0))

    rows = seeded.register_rows(AUTHORITY, year=2026, month=3)

    assert [r.number for r in rows] == [1, 2, 3]
    assert rows[0] == RegisterRow(
        number=1,
        date=dt.date(2026, 3, 2),
        requester_name="Phạm Thị Ánh Tuyết",
        document_name="Căn cước công dân",
        certifier_name="Nguyễn Văn An",
        certifier_title="Phó Chủ tịch UBND phường",
        copies=2,
        fee=4_000,
        book="01/2026",
        register_type=SCT,
    )
    assert (rows[1].requester_name, rows[1].certifier_name, rows[1].certifier_title) == (
        "Đặng Quốc Việt",
        "Trần Thị Bích",
        "Chủ tịch UBND phường",
    )
    assert rows[1].copies == 3
    assert rows[2].cancelled
    # 18:00 UTC on 20 March is 21 March in Vietnam
    assert rows[2].notes == "Đã huỷ ngày 21/03/2026: Chứng thực sai thẩm quyền"
    assert seeded.register_rows(AUTHORITY, year=2026) == rows
    assert seeded.register_rows(AUTHORITY, year=2026, register_type="SCT/CK") == []
    assert [r.requester_name for r in seeded.register_rows(OTHER, year=2026)] == ["Hoàng Văn Hà"]


def test_register_rows_respect_vietnamese_month_boundaries(seeded: SqlRegister) -> None:
    add(seeded, utc(2026, 1, 31, 16, 59))  # 23:59 on 31 January in Vietnam
    add(seeded, utc(2026, 1, 31, 17, 0))  # 00:00 on 1 February in Vietnam
    add(seeded, utc(2026, 2, 28, 16, 59))  # 23:59 on 28 February
    add(seeded, utc(2026, 2, 28, 17, 0))  # 1 March

    january = seeded.register_rows(AUTHORITY, year=2026, month=1)
    february = seeded.register_rows(AUTHORITY, year=2026, month=2)
    march = seeded.register_rows(AUTHORITY, year=2026, month=3)
    assert [(r.number, r.date) for r in january] == [(1, dt.date(2026, 1, 31))]
    assert [(r.number, r.date) for r in february] == [
        (2, dt.date(2026, 2, 1)),
        (3, dt.date(2026, 2, 28)),
    ]
    assert [(r.number, r.date) for r in march] == [(4, dt.date(2026, 3, 1))]
    assert seeded.register_rows(AUTHORITY, year=2026, month=12) == []
    with pytest.raises(InvalidInputError):
        seeded.register_rows(AUTHORITY, year=2026, month=0)
