"""The register and the copies bucket as each other's witness (issue 8.4): a number whose
copy already exists is never issued again, and certify check reports every difference."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from api.services import Services
from certify.consistency import check
from certify.errors import RegisterConflictError
from storage.minio_server import MinioServer
from tests.api.conftest import issue_copy, seeded_services
from tests.issuing import AUTHORITY, ServedPki

pytestmark = [pytest.mark.integration]


@pytest.fixture
def fresh(minio_server: MinioServer, served_pki: ServedPki, tmp_path: Path) -> Iterator[Services]:
    """Services with a register and buckets of their own."""
    services = seeded_services(minio_server, served_pki, tmp_path / "var")
    try:
        yield services
    finally:
        services.close()


def year_of(services: Services) -> int:
    return services.clock.now().year


def test_a_number_whose_copy_exists_is_not_issued_again(fresh: Services) -> None:
    first = issue_copy(fresh)
    assert first.entry.number == 1
    # A hardware fault took the entry away (e.g. a damaged WAL frame): the register would
    # hand out number 1 again, but copies/ still holds it.
    with fresh.engine.begin() as conn:
        conn.execute(text("DELETE FROM documents"))
        conn.execute(text("UPDATE register_counters SET last_number = 0"))
    with pytest.raises(RegisterConflictError) as refused:
        issue_copy(fresh)
    assert refused.value.code == "copy_number_taken"
    assert list(fresh.register.iter_documents()) == []
    report = check(fresh.register, fresh.store)
    assert not report.ok
    assert [(f.kind, f.subject) for f in report.findings] == [
        ("orphan_object", first.entry.copy_key)
    ]


def test_check_reports_overwritten_missing_and_orphan_copies_and_a_broken_chain(
    fresh: Services,
) -> None:
    one, two, three = (issue_copy(fresh) for _ in range(3))
    clean = check(fresh.register, fresh.store)
    assert clean.ok and clean.entries == 3 and clean.objects == 3
    assert clean.findings == ()

    store, bucket = fresh.store, fresh.store.copies_bucket
    store.put_stream(bucket, one.entry.copy_key, io.BytesIO(b"%PDF-1.7 another"))  # a 2nd version
    store.remove(bucket, two.entry.copy_key, version_id=two.entry.copy_version_id)
    year = year_of(fresh)
    store.put_stream(bucket, f"{AUTHORITY.code}/{year}/99.pdf", io.BytesIO(b"%PDF-1.7 stray"))
    with fresh.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'someone else' WHERE id = 2"))

    report = check(fresh.register, fresh.store)
    assert not report.ok
    found = {(f.kind, f.subject) for f in report.findings}
    assert found == {
        ("overwritten", one.entry.copy_key),
        ("missing_object", two.entry.copy_key),
        ("orphan_object", f"{AUTHORITY.code}/{year}/99.pdf"),
        ("audit_chain_broken", "2"),
    }
    assert three.entry.copy_key not in {f.subject for f in report.findings}
