"""The restore drill (issue 14.4): copies are issued and one cancelled on a real service (its
own PKI served over HTTP, MinIO, SQLite), ``certify backup`` runs as an operator runs it; then
the data directory (register, PKI, local passphrase) is destroyed and the source MinIO is not
used again. ``certify restore`` rebuilds the service on a second, fresh MinIO server and a new
database (SQLite, or a PostgreSQL schema), and there every copy verifies ``genuine`` by code
and by upload (the cancelled one ``cancelled``), the register numbers, books and the
cancellation are those of before, the audit chain is intact with the same head, ``certify
check`` finds nothing, and the next copy takes the next number.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import inspect

from api.errors import install_error_handlers
from api.routes.pki import router as pki_router
from api.secrets import local_pki_passphrase
from api.services import Services, build_services
from api.settings import Settings
from certify.consistency import check
from certify.ports import AuditRecord, DocumentEntry
from keys.ca import ProvincialPKI
from storage import database
from storage.backup_objects import store_is_empty
from storage.minio_server import MinioServer, free_port
from storage.objects import MinioObjectStore
from storage.pki_index import SqlIndexStore
from tests.api.cli_run import run
from tests.api.conftest import FixedClock, issue_copy
from tests.conftest import started_minio, store_config
from tests.issuing import AUTHORITY, CERTIFIER, seed_register, serve_in_thread

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REASON = "Chứng thực sai thẩm quyền"


@dataclasses.dataclass
class BackedUp:
    """What the source service issued, what it looked like, and its backup."""

    backup: Path
    passphrase: str
    pki: SimpleNamespace  # what the PKI's HTTP face serves (swapped after the restore)
    entries: dict[str, DocumentEntry]
    pdfs: dict[str, bytes]
    cancelled_id: str
    audit_head: str
    audit_events: int
    backup_output: str


def settings_env(settings: dict[str, str]) -> dict[str, str]:
    """The environment of a `certify` command: ours without CERTIFY_*, and ``settings``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("CERTIFY_")}
    return {**base, **settings}


def store_env(server: MinioServer) -> dict[str, str]:
    """CERTIFY_S3_* settings of buckets of their own on ``server``."""
    config = store_config(server)
    return {
        "CERTIFY_S3_ENDPOINT": config.endpoint,
        "CERTIFY_S3_ACCESS_KEY": config.access_key,
        "CERTIFY_S3_SECRET_KEY": config.secret_key,
        "CERTIFY_SCANS_BUCKET": config.scans_bucket,
        "CERTIFY_COPIES_BUCKET": config.copies_bucket,
        "CERTIFY_COPIES_RETENTION_DAYS": "1",
    }


def settings_of(env: dict[str, str]) -> Settings:
    fields = {k.removeprefix("CERTIFY_").lower(): v for k, v in env.items()}
    return Settings.model_validate(fields)


DEMO = {
    "CERTIFY_DEPLOYMENT": "demo",
    "CERTIFY_PUBLIC_BASE_URL": "http://testserver",
    "CERTIFY_MAIL_INTERVAL_SECONDS": "0",
}


@pytest.fixture(scope="module")
def second_minio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MinioServer]:
    """A second, fresh MinIO server: the restore's target on the new machine."""
    with started_minio(tmp_path_factory.mktemp("minio-restore") / "data") as server:
        yield server


@pytest.fixture(scope="module")
def backed_up(
    minio_server: MinioServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BackedUp]:
    root = tmp_path_factory.mktemp("drill")
    source = {"CERTIFY_DATA_DIR": str(root / "var"), **store_env(minio_server), **DEMO}
    settings = settings_of(source)
    port = free_port()
    served = SimpleNamespace(pki=None)
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(pki_router)
    app.state.services = SimpleNamespace(pki=lambda: served.pki)
    with serve_in_thread(app, port):
        settings.data_dir.mkdir(parents=True)
        database.upgrade(settings.resolved_database_url)
        services = build_services(settings)
        services.clock = FixedClock()
        try:
            seed_register(services.register)
            # The PKI in the data directory, its index in the register, its keys under the
            # generated local passphrase (the operator keeps that apart from the backup).
            passphrase = local_pki_passphrase(settings)
            pki = ProvincialPKI.init(
                settings.resolved_pki_dir,
                province="Đồng Nai",
                passphrase=passphrase,
                base_url=f"http://127.0.0.1:{port}",
                index_store=SqlIndexStore(services.engine),
            )
            pki.issue_authority(AUTHORITY.code, AUTHORITY.name)
            pki.issue_officer(
                CERTIFIER.username, CERTIFIER.full_name, CERTIFIER.title, AUTHORITY.code
            )
            served.pki = services.pki()
            issued = [
                issue_copy(services, document_name=name)
                for name in ("Giấy khai sinh", "Bằng tốt nghiệp", "Sổ hộ khẩu")
            ]
            cancelled = issued[1].entry.id
            now = services.clock.now()
            services.register.cancel_document(
                cancelled,
                REASON,
                now,
                audit=AuditRecord("chairman", "copy.cancelled", cancelled, now),
            )
            entries = {e.id: e for e in services.register.iter_documents()}
            pdfs = {i.entry.id: i.pdf for i in issued}
            head = services.register.audit_head()
            events = services.register.audit_event_count()

            backup = root / "backup"
            done = run(settings_env(source), "backup", str(backup))
            assert done.returncode == 0, done.stderr
        finally:
            services.close()
        # The machine is lost: its data directory (register, PKI, local passphrase) goes, and
        # the source MinIO is never used again; the PKI's HTTP face has nothing to serve.
        shutil.rmtree(settings.data_dir)
        served.pki = None
        yield BackedUp(
            backup=backup,
            passphrase=passphrase.decode(),
            pki=served,
            entries=entries,
            pdfs=pdfs,
            cancelled_id=cancelled,
            audit_head=head,
            audit_events=events,
            backup_output=done.stdout + done.stderr,
        )


def test_the_backup_holds_no_passphrase_and_warns_about_the_local_one(
    backed_up: BackedUp,
) -> None:
    out = backed_up.backup_output
    assert "WARNING" in out and "CẢNH BÁO" in out and "pki-passphrase" in out
    files = [p for p in backed_up.backup.rglob("*") if p.is_file()]
    names = {p.relative_to(backed_up.backup).as_posix() for p in files}
    assert "manifest.json" in names
    assert not any("secrets" in n for n in names)
    assert any(n.startswith("pki/private/") for n in names)  # the keys, encrypted
    secret = backed_up.passphrase.encode()
    assert not any(secret in p.read_bytes() for p in files)


@pytest.mark.parametrize("target", ["sqlite", pytest.param("postgresql")])
def test_restore_drill(
    target: str,
    backed_up: BackedUp,
    second_minio: MinioServer,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    new = {"CERTIFY_DATA_DIR": str(tmp_path / "var"), **store_env(second_minio), **DEMO}
    if target == "postgresql":
        new["CERTIFY_DATABASE_URL"] = request.getfixturevalue("postgres_schema_url")
    settings = settings_of(new)
    src = str(backed_up.backup)

    # Without the passphrase, or with a wrong one: refused, and nothing is changed.
    missing = run(settings_env(new), "restore", src)
    assert missing.returncode == 2 and "restore_passphrase_missing" in missing.stderr
    wrong = run(settings_env({**new, "CERTIFY_PKI_PASSPHRASE": "not it"}), "restore", src)
    assert wrong.returncode == 2 and "restore_wrong_passphrase" in wrong.stderr
    assert not settings.resolved_pki_dir.exists()
    assert_no_tables(settings.resolved_database_url)
    assert store_is_empty(MinioObjectStore(store_config(second_minio, **bucket_names(new))))

    # The operator gives the passphrase they kept apart from the backup.
    with_passphrase = {**new, "CERTIFY_PKI_PASSPHRASE": backed_up.passphrase}
    restored = run(settings_env(with_passphrase), "restore", src)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "certify: consistent" in restored.stdout
    assert "3 register entries" in restored.stdout

    # A second restore onto the same targets is refused.
    again = run(settings_env(with_passphrase), "restore", src)
    assert again.returncode == 2 and "restore_target_not_empty" in again.stderr

    services = build_services(settings_of(with_passphrase))
    services.clock = FixedClock()
    try:
        check_restored(services, backed_up)
    finally:
        services.close()
        backed_up.pki.pki = None


def bucket_names(env: dict[str, str]) -> dict[str, Any]:
    return {
        "scans_bucket": env["CERTIFY_SCANS_BUCKET"],
        "copies_bucket": env["CERTIFY_COPIES_BUCKET"],
    }


def assert_no_tables(url: str) -> None:
    engine = database.make_engine(url)
    try:
        with engine.connect() as conn:
            assert inspect(conn).get_table_names() == []
    finally:
        engine.dispose()


def check_restored(services: Services, before: BackedUp) -> None:
    # `certify check`: every copy there with its SHA-256 and version, none extra, chain intact.
    report = check(services.register, services.store)
    assert report.ok and report.findings == (), report.findings
    assert report.entries == report.objects == 3

    # The register: the same entries, numbers, books, cancellation; new object version ids.
    after = {e.id: e for e in services.register.iter_documents()}
    assert after.keys() == before.entries.keys()
    for doc_id, old in before.entries.items():
        new = after[doc_id]
        assert new.copy_version_id and new.copy_version_id != old.copy_version_id
        assert dataclasses.replace(new, copy_version_id=old.copy_version_id) == old
    assert after[before.cancelled_id].status == "cancelled"
    assert after[before.cancelled_id].cancelled_reason == REASON
    assert after[before.cancelled_id].cancelled_at == FixedClock().now()
    assert sorted(e.number for e in after.values()) == [1, 2, 3]

    # The audit chain: intact, with the head published before the loss.
    register = services.register
    assert register.verify_audit_chain()
    assert register.audit_head() == before.audit_head
    assert register.audit_event_count() == before.audit_events

    # Every copy verifies by its code and by upload.
    pki = services.pki()
    assert pki is not None  # the restored keys open with the passphrase
    before.pki.pki = pki
    verifier = services.local_verifier()
    for doc_id, entry in before.entries.items():
        expected = "cancelled" if doc_id == before.cancelled_id else "genuine"
        by_code = verifier.by_token(entry.verification_token)
        assert by_code.verdict == expected, by_code.reasons
        by_upload = verifier.by_upload(before.pdfs[doc_id])
        assert by_upload.verdict == expected, by_upload.reasons

    # The service goes on: the next copy takes the next number, signed with restored keys.
    issued = issue_copy(services, document_name="Giấy chứng nhận kết hôn")
    assert issued.entry.number == 4
    assert services.local_verifier().by_token(issued.entry.verification_token).verdict == (
        "genuine"
    )
    assert check(services.register, services.store).ok
