"""The published list of cancelled certifications (TT 01/2020 art. 7; issue 11.4).

Two copies are issued through the real service, one is cancelled through the register as
the chairman's cancellation does it; then the page, the JSON and the Atom feed list exactly
that one, with its number, book, authority, dates and reason, and nothing that leads to the
requester or to the copy (name, ID number, verification code, document name, register id).
The query itself runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.routes import cancellations
from api.services import Services
from certify.errors import InvalidInputError
from certify.issuance import IssuedCopy
from certify.ports import AuditRecord, AuthorityRecord, DocumentEntry, OfficerRecord
from storage.minio_server import MinioServer
from storage.numbering import PublishedCancellation
from storage.sql_register import SqlRegister
from tests.api.conftest import issue_copy, seeded_services
from tests.issuing import AUTHORITY, CERTIFIER, OTHER_AUTHORITY, ServedPki

ATOM = "{http://www.w3.org/2005/Atom}"
REASON = "Chứng thực sai thẩm quyền"
REQUESTER_NAME = "Phạm Văn Dũng"  # tests.issuing.seed_register
REQUESTER_ID = "079200001234"
FACES = ("/public/cancellations", "/public/cancellations.json", "/public/cancellations.atom")


@dataclasses.dataclass
class Published:
    client: TestClient
    services: Services
    cancelled: IssuedCopy
    kept: IssuedCopy

    def secrets_of_the_copies(self) -> list[str]:
        """What must never be published: the requester, and what leads to a copy."""
        found = [REQUESTER_NAME, REQUESTER_ID, "YC-0001", "Giấy khai sinh"]
        for copy in (self.cancelled, self.kept):
            found += [copy.entry.verification_token, copy.entry.id, copy.entry.copy_sha256]
        return found


@pytest.fixture(scope="module")
def published(
    minio_server: MinioServer,
    served_pki: ServedPki,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Published]:
    services = seeded_services(
        minio_server,
        served_pki,
        tmp_path_factory.mktemp("cancellations") / "var",
        verify_token_rate_limit="",
    )
    try:
        cancelled, kept = issue_copy(services), issue_copy(services)
        now = services.clock.now()
        services.register.cancel_document(
            cancelled.entry.id,
            REASON,
            now,
            audit=AuditRecord("chairman", "copy.cancelled", cancelled.entry.id, now),
        )
        with TestClient(create_app(services=services)) as client:
            yield Published(client, services, cancelled, kept)
    finally:
        services.close()


@pytest.fixture
def fresh(minio_server: MinioServer, served_pki: ServedPki, tmp_path: Path) -> Iterator[Services]:
    """Services with a register of their own in which nothing is cancelled yet."""
    services = seeded_services(
        minio_server, served_pki, tmp_path / "var", verify_token_rate_limit=""
    )
    try:
        yield services
    finally:
        services.close()


def parse_atom(data: bytes) -> ET.Element:
    """Our own feed, parsed by the standard library as a feed reader would."""
    return ET.fromstring(data)  # noqa: S314 - the service's own output, in a test


def assert_nothing_personal(body: str, published: Published) -> None:
    for secret in published.secrets_of_the_copies():
        assert secret not in body


# --- the three faces ------------------------------------------------------------------------


@pytest.mark.integration
def test_json_lists_exactly_the_cancelled_copy(published: Published) -> None:
    answer = published.client.get("/public/cancellations.json")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "public, max-age=60"
    entry = published.cancelled.entry
    assert answer.json() == {
        "authority_code": None,
        "page": 1,
        "page_size": 50,
        "next_page": None,
        "items": [
            {
                "authority_code": AUTHORITY.code,
                "authority_name": AUTHORITY.name,
                "number": entry.number,
                "book": entry.book,
                "register_type": "SCT/BS",
                "issued_on": "2026-12-01",  # 09:00 in Vietnam (the fixed clock)
                "cancelled_on": "2026-12-01",
                "cancelled_reason": REASON,
            }
        ],
    }
    assert_nothing_personal(answer.text, published)


@pytest.mark.integration
def test_atom_feed_is_atom_with_one_entry(published: Published) -> None:
    answer = published.client.get("/public/cancellations.atom")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/atom+xml")
    assert answer.content.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert_nothing_personal(answer.text, published)

    feed = parse_atom(answer.content)
    assert feed.tag == f"{ATOM}feed"
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "vi"
    assert (feed.findtext(f"{ATOM}id") or "").startswith("urn:uuid:")
    assert feed.findtext(f"{ATOM}title") == "Chứng thực bản sao đã bị huỷ"
    assert feed.findtext(f"{ATOM}updated") == "2026-12-01T02:00:00+00:00"
    assert feed.findtext(f"{ATOM}author/{ATOM}name")
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert links == {
        "self": "http://testserver/public/cancellations.atom",
        "first": "http://testserver/public/cancellations.atom",
        "alternate": "http://testserver/public/cancellations",
    }

    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 1
    (item,) = entries
    entry = published.cancelled.entry
    book = f"{entry.book}-SCT/BS"
    entry_id = item.findtext(f"{ATOM}id") or ""
    assert entry_id.startswith("urn:uuid:")
    uuid.UUID(entry_id.removeprefix("urn:uuid:"))
    assert entry.id not in entry_id  # the register's own key is not published
    assert item.findtext(f"{ATOM}title") == f"Số chứng thực {entry.number} quyển số {book}"
    assert item.findtext(f"{ATOM}updated") == "2026-12-01T02:00:00+00:00"
    assert item.findtext(f"{ATOM}author/{ATOM}name") == AUTHORITY.name
    summary = item.find(f"{ATOM}summary")
    assert summary is not None and summary.get("type") == "text"
    assert AUTHORITY.name in (summary.text or "")
    assert "01/12/2026" in (summary.text or "")
    assert REASON in (summary.text or "")
    alternate = item.find(f"{ATOM}link")
    assert alternate is not None and alternate.get("rel") == "alternate"

    again = parse_atom(published.client.get("/public/cancellations.atom").content)
    assert again.findtext(f"{ATOM}entry/{ATOM}id") == entry_id  # stable


@pytest.mark.integration
def test_page_is_vietnamese_first_without_script(published: Published) -> None:
    answer = published.client.get("/public/cancellations")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    page = answer.text
    assert_nothing_personal(page, published)
    assert '<html lang="vi">' in page
    assert "<title>Chứng thực bản sao đã bị huỷ ·" in page
    assert "<script" not in page.lower() and " style=" not in page.lower()
    assert "script-src 'none'" in answer.headers["content-security-policy"]
    entry = published.cancelled.entry
    assert page.count('class="card"') == 1
    assert f"Số chứng thực {entry.number} quyển số {entry.book}-SCT/BS" in page
    assert AUTHORITY.name in page and REASON in page
    assert "01/12/2026" in page
    assert 'type="application/atom+xml" href="/public/cancellations.atom"' in page
    assert 'href="/public/cancellations?lang=en"' in page  # the language switch

    english = published.client.get("/public/cancellations", params={"lang": "en"}).text
    assert '<html lang="en">' in english
    assert "<title>Cancelled certifications ·" in english
    assert f"No. {entry.number}, book {entry.book}-SCT/BS" in english
    assert 'href="/public/cancellations"' in english  # back to Vietnamese
    assert_nothing_personal(english, published)


@pytest.mark.integration
def test_openapi_documents_the_json_and_the_feed(published: Published) -> None:
    paths = published.client.get("/openapi.json").json()["paths"]
    assert "/public/cancellations" not in paths  # a page, not an API
    listed = paths["/public/cancellations.json"]["get"]
    example = listed["responses"]["200"]["content"]["application/json"]["example"]
    assert example["items"][0]["book"] == "01/2026"
    assert (
        "application/atom+xml"
        in (paths["/public/cancellations.atom"]["get"]["responses"]["200"]["content"])
    )


# --- filters, pages and errors --------------------------------------------------------------


@pytest.mark.integration
def test_authority_filter(published: Published) -> None:
    client = published.client
    mine = client.get("/public/cancellations.json", params={"authority": AUTHORITY.code}).json()
    assert mine["authority_code"] == AUTHORITY.code
    assert [i["number"] for i in mine["items"]] == [published.cancelled.entry.number]
    other = client.get("/public/cancellations.json", params={"authority": OTHER_AUTHORITY.code})
    assert other.status_code == 200 and other.json()["items"] == []

    feed = parse_atom(
        client.get("/public/cancellations.atom", params={"authority": AUTHORITY.code}).content
    )
    assert feed.findtext(f"{ATOM}title") == f"Chứng thực bản sao đã bị huỷ — {AUTHORITY.name}"
    assert len(feed.findall(f"{ATOM}entry")) == 1
    page = client.get("/public/cancellations", params={"authority": OTHER_AUTHORITY.code})
    assert page.status_code == 200
    assert 'id="filter"' in page.text and OTHER_AUTHORITY.name in page.text
    assert 'id="empty"' in page.text

    for face in FACES[1:]:
        unknown = client.get(face, params={"authority": "no-such-office"})
        assert unknown.status_code == 404
        assert unknown.json() == {
            "error": "not_found",
            "message": "Không có cơ quan này. / No such authority.",
        }
    unknown_page = client.get(FACES[0], params={"authority": "no-such-office"})
    assert unknown_page.status_code == 404
    assert "No such authority" in unknown_page.text and "<script" not in unknown_page.text


@pytest.mark.integration
@pytest.mark.parametrize("face", FACES)
@pytest.mark.parametrize(
    "params",
    [
        {"page": "0"},
        {"page": "-1"},
        {"page": "abc"},
        {"page": str(cancellations.MAX_PAGE + 1)},
        {"page": "1" + "0" * 40},
        {"authority": "<script>"},
        {"authority": "x" * 33},
    ],
)
def test_bad_page_or_code_is_400_in_the_error_shape(
    published: Published, face: str, params: dict[str, str]
) -> None:
    answer = published.client.get(face, params=params)
    assert answer.status_code == 400
    body = answer.json()
    assert body["error"] == "invalid_request"
    assert set(body) == {"error", "message"}
    assert "<script>" not in answer.text  # the value is not echoed


@pytest.mark.integration
def test_a_page_past_the_end_is_empty(published: Published) -> None:
    past = published.client.get("/public/cancellations.json", params={"page": "2"}).json()
    assert past["page"] == 2 and past["items"] == [] and past["next_page"] is None
    page = published.client.get("/public/cancellations", params={"page": "2"}).text
    assert 'id="empty"' in page
    assert 'rel="prev" href="/public/cancellations"' in page


@pytest.mark.integration
def test_empty_list(fresh: Services) -> None:
    issue_copy(fresh)  # issued, not cancelled: not listed
    with TestClient(create_app(services=fresh)) as client:
        listed = client.get("/public/cancellations.json").json()
        assert listed["items"] == [] and listed["next_page"] is None
        feed = parse_atom(client.get("/public/cancellations.atom").content)
        assert feed.tag == f"{ATOM}feed"
        assert feed.findall(f"{ATOM}entry") == []
        assert feed.findtext(f"{ATOM}updated") == "2026-12-01T02:00:00+00:00"  # the clock
        page = client.get("/public/cancellations")
        assert page.status_code == 200
        assert "Không có chứng thực nào bị huỷ." in page.text


def register_entry(register: SqlRegister, authority: str, certifier: str, request: str) -> str:
    """An entry written straight into the register (no copy: the lists need none)."""
    with register.transaction() as tx:
        number = tx.next_number(authority, "SCT/BS", 2026)
        entry = DocumentEntry(
            id=str(uuid.uuid4()),
            authority_code=authority,
            request_code=request,
            register_type="SCT/BS",
            year=2026,
            number=number,
            book="01/2026",
            document_name="Giấy khai sinh",
            pages=1,
            copies=1,
            fee=2_000,
            page_hashes=(hashlib.sha256(b"page").hexdigest(),),
            copy_key=f"{authority}/2026/{number}.pdf",
            copy_sha256=hashlib.sha256(secrets.token_bytes(8)).hexdigest(),
            copy_size=1,
            copy_version_id="v1",
            verification_token=secrets.token_urlsafe(24),
            certifier_username=certifier,
            issued_at=dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC),
        )
        tx.add_document(entry)
    return entry.id


@pytest.mark.integration
def test_pages_follow_each_other(fresh: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cancellations, "PAGE_SIZE", 2)
    register = fresh.register
    for day in range(1, 6):
        doc = register_entry(register, AUTHORITY.code, CERTIFIER.username, "YC-0001")
        register.cancel_document(doc, f"Lý do {day}", dt.datetime(2026, 4, day, tzinfo=dt.UTC))
    with TestClient(create_app(services=fresh)) as client:
        reasons: list[str] = []
        page: int | None = 1
        while page is not None:
            listed = client.get("/public/cancellations.json", params={"page": page}).json()
            assert listed["page_size"] == 2 and len(listed["items"]) <= 2
            reasons += [i["cancelled_reason"] for i in listed["items"]]
            page = listed["next_page"]
        assert reasons == [f"Lý do {day}" for day in range(5, 0, -1)]  # newest first

        feed = parse_atom(client.get("/public/cancellations.atom?page=2").content)
        links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
        base = "http://testserver/public/cancellations.atom"
        assert links["self"] == f"{base}?page=2"
        assert links["previous"] == base and links["first"] == base
        assert links["next"] == f"{base}?page=3"
        html = client.get("/public/cancellations", params={"page": 2, "lang": "en"}).text
        assert 'rel="prev" href="/public/cancellations?lang=en"' in html
        assert 'rel="next" href="/public/cancellations?page=3&amp;lang=en"' in html


@pytest.mark.integration
def test_a_flood_is_429(fresh: Services) -> None:
    limited = fresh.settings.model_copy(update={"verify_token_rate_limit": "2/minute"})
    with TestClient(create_app(limited, services=fresh)) as client:
        answers = [client.get(face).status_code for face in FACES]
        assert answers == [200, 200, 429]
        flooded = client.get("/public/cancellations.json")
        assert flooded.status_code == 429 and flooded.json()["error"] == "rate_limited"
        assert 1 <= int(flooded.headers["retry-after"]) <= 60
        page = client.get("/public/cancellations")
        assert page.status_code == 429 and "retry-after" in page.headers


def test_control_characters_do_not_break_the_feed() -> None:
    row = PublishedCancellation(
        document_id="d1",
        authority_code="x",
        authority_name="UBND xã <A&B>",
        register_type="SCT/BS",
        number=3,
        book="01/2026",
        issued_at=dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
        cancelled_at=dt.datetime(2026, 1, 3, tzinfo=dt.UTC),
        reason="sai\x00 thẩm\x1b quyền ]]> </summary>",
    )
    feed = cancellations.atom_feed(
        cancellations.Listing(None, 1, [row], None),
        base_url="https://chungthuc.example.gov.vn",
        authority_code=None,
        now=dt.datetime(2026, 1, 4, tzinfo=dt.UTC),
    )
    parsed = parse_atom(feed)
    summary = parsed.findtext(f"{ATOM}entry/{ATOM}summary") or ""
    assert "sai thẩm quyền ]]> </summary>" in summary
    assert parsed.findtext(f"{ATOM}entry/{ATOM}author/{ATOM}name") == "UBND xã <A&B>"


# --- the query, on SQLite and PostgreSQL ----------------------------------------------------


def test_list_cancellations_newest_first_by_authority(register: SqlRegister) -> None:
    for record in (AUTHORITY, OTHER_AUTHORITY):
        register.add_authority(AuthorityRecord(record.code, record.name, "dn", "Đồng Nai"))
    certifiers = {AUTHORITY.code: CERTIFIER.username, OTHER_AUTHORITY.code: "binh.lv"}
    register.add_officer(CERTIFIER)
    register.add_officer(
        OfficerRecord("binh.lv", "Lê Văn Bình", "Chủ tịch", "certifier", OTHER_AUTHORITY.code)
    )
    for authority in certifiers:
        register.add_request(
            f"R-{authority}",
            authority_code=authority,
            requester_name=REQUESTER_NAME,
            requester_id_number=REQUESTER_ID,
        )
    at = dt.datetime(2026, 5, 1, 3, 0, tzinfo=dt.UTC)
    made: list[tuple[str, str]] = []
    for i, authority in enumerate([AUTHORITY.code, OTHER_AUTHORITY.code, AUTHORITY.code]):
        doc = register_entry(register, authority, certifiers[authority], f"R-{authority}")
        register.cancel_document(doc, f"lý do {i}", at + dt.timedelta(hours=i))
        made.append((authority, doc))
    register_entry(register, AUTHORITY.code, CERTIFIER.username, f"R-{AUTHORITY.code}")

    everything = register.list_cancellations(authority_code=None, offset=0, limit=10)
    assert [c.document_id for c in everything] == [doc for _, doc in reversed(made)]
    newest = everything[0]
    assert newest.authority_name == AUTHORITY.name
    assert (newest.number, newest.book, newest.register_type) == (2, "01/2026", "SCT/BS")
    assert newest.cancelled_at == at + dt.timedelta(hours=2)
    assert newest.reason == "lý do 2"
    assert [
        c.reason for c in register.list_cancellations(authority_code=None, offset=1, limit=1)
    ] == ["lý do 1"]
    mine = register.list_cancellations(authority_code=AUTHORITY.code, offset=0, limit=10)
    assert [c.reason for c in mine] == ["lý do 2", "lý do 0"]
    assert register.list_cancellations(authority_code="nobody", offset=0, limit=10) == []
    for offset, limit in ((-1, 10), (0, 0), (0, 1001)):
        with pytest.raises(InvalidInputError):
            register.list_cancellations(authority_code=None, offset=offset, limit=limit)
