"""Every attack of the PDF-insecurity research, made against a copy this service issued, and
every malformed file, uploaded to the public endpoint: each gets its expected verdict (never
``genuine``), as an answer (HTTP 200), never a 5xx."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.services import Services
from certify.issuance import IssuedCopy
from tests import attacks
from tests import attacks_malformed as raw
from tests.api.conftest import issue_copy

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# The verdict each attack on an issued copy gets. Updates appended to the issued bytes are
# "modified" whatever they change (the file begins with a copy in the register); attacks that
# rewrite the signed bytes in place break a signature ("invalid") or its hash ("modified");
# a copy re-signed by a self-made CA with the same names is "untrusted"; the copy without its
# signatures is no copy of ours ("unknown").
EXPECTED: dict[str, str] = {
    "append_page_content": "modified",
    "append_annotation": "modified",
    "append_form_fill": "modified",
    "append_extra_signature": "modified",
    "append_empty_xref_update": "modified",
    "append_broken_xref_update": "modified",
    "append_noop_update": "modified",
    "append_garbage": "modified",
    "wrap_signature": "modified",
    "alter_byte_range": "modified",
    "zero_contents": "modified",
    "empty_contents": "modified",
    "remove_contents": "modified",
    "remove_byte_range": "modified",
    "alter_byte_range_in_place": "invalid",
    "zero_contents_in_place": "invalid",
    "empty_contents_in_place": "invalid",
    "remove_contents_in_place": "invalid",
    "remove_byte_range_in_place": "invalid",
    "shadow_hide": "modified",
    "shadow_replace_field": "modified",
    "certification_annotation": "modified",
    "certification_signature_field": "modified",
    "resign_with_fake_ca": "untrusted",
    "resign_with_fake_ca_ecdsa": "untrusted",
    "flip_byte": "modified",
    "truncate": "unreadable",
    "strip_signatures": "unknown",
    "malformed_broken_xref": "unreadable",
}
MALFORMED_EXPECTED: dict[str, str] = {
    "malformed_truncated_header": "unreadable",
    "reference_loop": "unknown",
    "deflate_bomb": "unknown",
    "many_objects": "unknown",  # no signature; bounded in time (below, at a larger size)
    "not_a_pdf": "unreadable",
    "not_a_pdf_text": "unreadable",
}


@pytest.fixture(scope="module")
def issued(verify_services: Services) -> IssuedCopy:
    return issue_copy(verify_services)


@pytest.fixture(scope="module")
def client(verify_services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=verify_services)) as client:
        yield client


def test_every_attack_is_listed() -> None:
    assert set(EXPECTED) == set(attacks.GENERATORS)
    assert set(MALFORMED_EXPECTED) == set(raw.MALFORMED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_attack_on_an_issued_copy(name: str, issued: IssuedCopy, client: TestClient) -> None:
    forged = attacks.GENERATORS[name](issued.pdf)
    assert forged != issued.pdf
    answer = client.post("/api/v1/verify", files={"file": ("copy.pdf", forged)})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["verdict"] == EXPECTED[name], body["reasons"]
    assert body["reasons"]
    if body["verdict"] == "modified" and forged.startswith(issued.pdf[:1024]):
        # What a person is shown: the register entry the file claims to be.
        assert body["register"] is None or body["register"]["number"] == issued.entry.number


@pytest.mark.parametrize("name", sorted(MALFORMED_EXPECTED))
def test_malformed_file(name: str, client: TestClient) -> None:
    answer = client.post("/api/v1/verify", files={"file": ("x.pdf", raw.MALFORMED[name]())})
    assert answer.status_code == 200, answer.text
    assert answer.json()["verdict"] == MALFORMED_EXPECTED[name]


def test_a_file_that_would_hold_a_worker_is_stopped_at_the_limit(
    client: TestClient, verify_services: Services
) -> None:
    """Twenty million cross-reference entries: past the time or memory limit of a worker,
    the answer is ``unreadable`` (too complex), and the next upload is answered as usual."""
    limit = verify_services.settings.verify_timeout_seconds
    started = time.monotonic()
    answer = client.post("/api/v1/verify", files={"file": ("x.pdf", raw.many_objects(20_000_000))})
    assert time.monotonic() - started < limit + 5
    assert answer.status_code == 200
    body = answer.json()
    assert body["verdict"] == "unreadable"
    assert [r["code"] for r in body["reasons"]] == ["too_complex"]
    again = client.post("/api/v1/verify", files={"file": ("x.pdf", raw.not_a_pdf())})
    assert again.json()["verdict"] == "unreadable"
