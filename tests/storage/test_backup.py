"""Backups of the register database and the object store (issue 14.4).

Every table round-trips exactly, between SQLite and PostgreSQL both ways; a tampered or
incomplete backup, a target database that holds a register and a backup directory that is
not empty are refused and change nothing; only the object versions a snapshot can refer to
are taken, and restored with their SHA-256, oldest first, under new version ids.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, select, text

from certify.errors import ConflictError, InvalidInputError
from certify.ports import AuditRecord, AuthorityRecord, OfficerRecord
from storage.audit_chain import AuditChain
from storage.backup import dump_database, load_database, target_needs_schema
from storage.backup_manifest import MANIFEST, Backup, BackupWriter
from storage.backup_objects import (
    SnapshotReferences,
    backup_objects,
    restore_objects,
    store_is_empty,
)
from storage.database import make_engine, upgrade
from storage.minio_server import MinioServer
from storage.objects import MinioObjectStore
from storage.sql_register import SqlRegister
from tests.conftest import store_config
from tests.storage.test_register import AUTHORITY, CERTIFIER, REQUEST, SCT, entry

AT = dt.datetime(2026, 3, 10, 2, 0, 0, 123456, tzinfo=dt.UTC)
BIG = 2**62 + 12345  # beyond 32 bits, within BIGINT


def fixed_now() -> dt.datetime:
    return AT


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'a' / 'register.db'}"


def url_for(kind: str, request: pytest.FixtureRequest, tmp_path: Path, name: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / name / 'register.db'}"
    url: str = request.getfixturevalue("postgres_schema_url")
    return url


@pytest.fixture
def engines(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    source_kind, target_kind = request.param
    source = make_engine(url_for(source_kind, request, tmp_path, "source"))
    target = make_engine(url_for(target_kind, request, tmp_path, "target"))
    try:
        yield source, target
    finally:
        source.dispose()
        target.dispose()


def seed(engine: Engine) -> SqlRegister:
    """A register with entries (one cancelled, one awaiting its copy), officers with and
    without TOTP, edge values (big integers, nulls, Vietnamese text, microseconds) and a
    chain of audit events."""
    upgrade(engine)
    register = SqlRegister(engine)
    register.add_authority(AuthorityRecord(AUTHORITY, "UBND phường Tân Phú", "79", "TP HCM"))
    register.add_officer(
        OfficerRecord(CERTIFIER, "Nguyễn Văn Á", "Phó Chủ tịch", "certifier", AUTHORITY),
        password_hash="$argon2id$not-a-real-hash",
    )
    register.add_request(
        REQUEST,
        authority_code=AUTHORITY,
        requester_name="Lê Văn Ç — “ngoặc”",
        requester_id_number="079000000001",
        received_at=AT,
    )
    made = []
    for n, version in ((1, "old-version-1"), (2, "old-version-2"), (3, None)):
        with register.transaction() as tx:
            number = tx.next_number(AUTHORITY, SCT, 2026)
            made.append(
                entry(number, copy_version_id=version, fee=BIG if n == 1 else 0, issued_at=AT)
            )
            tx.add_document(made[-1])
            tx.append_audit(
                AuditRecord(CERTIFIER, "copy.issued", made[-1].id, AT, {"number": str(n)})
            )
    register.cancel_document(
        made[1].id,
        "Chứng thực sai thẩm quyền",
        AT + dt.timedelta(hours=1),
        audit=AuditRecord("chairman", "copy.cancelled", made[1].id, AT + dt.timedelta(hours=1)),
    )
    with engine.begin() as conn:
        conn.execute(text("UPDATE officers SET totp_last_step = :s"), {"s": BIG})
    return register


def all_rows(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, datetimes in UTC, in primary-key order."""
    metadata = MetaData()
    with engine.connect() as conn:
        metadata.reflect(conn)
        out = {}
        for name, table in metadata.tables.items():
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).mappings()
            out[name] = [
                {
                    k: (
                        (v if v.tzinfo else v.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
                        if isinstance(v, dt.datetime)
                        else v
                    )
                    for k, v in row.items()
                }
                for row in rows
            ]
    return out


def write_backup(engine: Engine, dest: Path) -> tuple[Backup, SnapshotReferences]:
    writer = BackupWriter(dest)
    references = SnapshotReferences()
    dump = dump_database(engine, writer, now=fixed_now, observe=references.observe)
    writer.finish({"database": dump.manifest_entry(), "objects": {}})
    return Backup.open(dest), references


@pytest.mark.parametrize(
    "engines",
    [
        pytest.param(("sqlite", "sqlite"), id="sqlite-sqlite"),
        pytest.param(("sqlite", "postgresql"), id="sqlite-pg", marks=pytest.mark.integration),
        pytest.param(("postgresql", "sqlite"), id="pg-sqlite", marks=pytest.mark.integration),
    ],
    indirect=True,
)
def test_every_table_round_trips_exactly(engines: tuple[Engine, Engine], tmp_path: Path) -> None:
    source, target = engines
    seed(source)
    before = all_rows(source)
    head = AuditChain(source).audit_head()
    backup, references = write_backup(source, tmp_path / "backup")

    assert references.version_ids == {"old-version-1", "old-version-2"}
    assert len(references.copy_keys) == 3 and len(references.awaiting_keys) == 1
    manifest = backup.manifest
    assert manifest["database"]["dialect"] == source.dialect.name
    assert manifest["database"]["revision"] == before["alembic_version"][0]["version_num"]
    tables = manifest["database"]["tables"]
    assert {"alembic_version", "pki_index", "audit_events", "documents"} <= set(tables)
    assert set(tables) == set(before)
    assert tables["documents"]["rows"] == 3
    # Private: the directory 0700, every file 0600.
    assert stat.S_IMODE((tmp_path / "backup").stat().st_mode) == 0o700
    for path in (tmp_path / "backup").rglob("*"):
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600)

    assert target_needs_schema(target, backup.revision) is True
    upgrade(target, backup.revision)
    report = load_database(target, backup, version_ids={"old-version-1": "new-version-1"})
    upgrade(target)

    assert report.rewritten_version_ids == 1
    assert report.audit_events_naming_versions == ()
    after = all_rows(target)
    for row in before["documents"]:
        if row["copy_version_id"] == "old-version-1":
            row["copy_version_id"] = "new-version-1"
    assert after == before
    assert BIG in [d["fee"] for d in after["documents"]]
    assert [o["totp_last_step"] for o in after["officers"]] == [BIG]
    chain = AuditChain(target)
    assert chain.verify_audit_chain() and chain.audit_head() == head

    # The ids go on after the highest one loaded (PostgreSQL: the sequences were moved on).
    restored = SqlRegister(target)
    restored.add_officer(OfficerRecord("moi.nv", "Mới", "Công chức", "clerk", AUTHORITY))
    with target.connect() as conn:
        ids = sorted(conn.execute(text("SELECT id FROM officers")).scalars())
    assert ids == [1, 2]
    with restored.transaction() as tx:
        tx.append_audit(AuditRecord(CERTIFIER, "after.restore", "x", AT))
    assert restored.verify_audit_chain()


def test_a_database_holding_a_register_is_refused_and_unchanged(
    tmp_path: Path, sqlite_url: str
) -> None:
    source = make_engine(sqlite_url)
    target = make_engine(f"sqlite:///{tmp_path / 'b' / 'register.db'}")
    try:
        seed(source)
        backup, _ = write_backup(source, tmp_path / "backup")
        # Migrated, empty, at the backup's revision: accepted (no schema to make).
        upgrade(target, backup.revision)
        assert target_needs_schema(target, backup.revision) is False
        # Holding a register: refused.
        SqlRegister(target).add_authority(AuthorityRecord("x", "UBND X", "79", "TP HCM"))
        before = all_rows(target)
        with pytest.raises(ConflictError) as refused:
            target_needs_schema(target, backup.revision)
        assert refused.value.code == "restore_target_not_empty"
        assert "authorities" in refused.value.message
        assert all_rows(target) == before
    finally:
        source.dispose()
        target.dispose()


def test_tampered_or_incomplete_backups_are_refused(tmp_path: Path, sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        seed(engine)
        backup, _ = write_backup(engine, tmp_path / "backup")
    finally:
        engine.dispose()
    root = backup.root

    def refused(code: str) -> str:
        with pytest.raises(InvalidInputError) as caught:
            Backup.open(root)
        assert caught.value.code == code
        return caught.value.message

    documents = root / "db" / "documents.jsonl"
    original = documents.read_bytes()
    documents.write_bytes(original.replace(b"Gi", b"gi", 1))  # one byte
    assert "db/documents.jsonl" in refused("backup_tampered")
    documents.write_bytes(original)
    Backup.open(root)

    extra = root / "db" / "extra.jsonl"
    extra.write_bytes(b"[]\n")
    assert "db/extra.jsonl" in refused("backup_tampered")
    extra.unlink()

    manifest_path = root / MANIFEST
    manifest_text = manifest_path.read_text()
    manifest = json.loads(manifest_text)
    manifest["database"]["tables"]["documents"]["rows"] = 2  # a careless edit
    manifest_path.write_text(json.dumps(manifest))
    assert "manifest" in refused("backup_tampered")
    manifest_path.write_text("{not json")
    refused("backup_tampered")
    manifest_path.unlink()
    assert "manifest.json" in refused("backup_incomplete")
    manifest_path.write_text(manifest_text)
    Backup.open(root)


def test_restore_refuses_a_tampered_backup_before_touching_the_targets(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from api.cli import main

    engine = make_engine(sqlite_url)
    try:
        seed(engine)
        backup, _ = write_backup(engine, tmp_path / "backup")
    finally:
        engine.dispose()
    (backup.root / "db" / "audit_events.jsonl").write_bytes(b"[]\n")
    target = tmp_path / "target"
    monkeypatch.setenv("CERTIFY_DATA_DIR", str(target / "var"))
    monkeypatch.setenv("CERTIFY_S3_ENDPOINT", "127.0.0.1:9")  # never reached
    umask = os.umask(0o022)
    try:
        assert main(["restore", str(backup.root)]) == 2
    finally:
        os.umask(umask)
    err = capsys.readouterr().err
    assert "backup_tampered" in err and "db/audit_events.jsonl" in err
    assert not target.exists()


def test_a_backup_never_goes_into_a_directory_that_is_not_empty(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "earlier-backup.txt").write_text("kept")
    with pytest.raises(ConflictError) as refused:
        BackupWriter(dest)
    assert refused.value.code == "backup_dest_not_empty"
    assert [p.name for p in dest.iterdir()] == ["earlier-backup.txt"]
    assert (dest / "earlier-backup.txt").read_text() == "kept"


@pytest.mark.integration
def test_only_object_versions_the_snapshot_refers_to_are_taken(
    minio_server: MinioServer, tmp_path: Path, sqlite_url: str
) -> None:
    source = MinioObjectStore(store_config(minio_server))
    source.ensure_buckets()
    put = source.put_bytes
    first = put(source.copies_bucket, "dn/2026/1.pdf", b"%PDF copy one")
    orphan = put(source.copies_bucket, "dn/2026/9.pdf", b"%PDF no entry")
    page = put(source.scans_bucket, "dn/YC/doc/page-1", b"scan page")
    references = SnapshotReferences()
    references.observe(
        "documents", {"copy_key": "dn/2026/1.pdf", "copy_version_id": first.version_id}
    )
    # The snapshot's time, on MinIO's clock: after every write so far.
    taken_at = max(
        v.last_modified
        for bucket in (source.scans_bucket, source.copies_bucket)
        for v in source.list_versions(bucket)
    )
    time.sleep(0.05)  # MinIO's times have millisecond resolution
    # Written after the snapshot: left out (a later scan, a newer version of the copy).
    later_page = put(source.scans_bucket, "dn/YC/doc2/page-1", b"later scan")
    source.put_bytes(source.copies_bucket, "dn/2026/1.pdf", b"%PDF a later version")
    writer = BackupWriter(tmp_path / "backup")
    stats = backup_objects(source, writer, references, taken_at)
    writer.finish({"database": {"revision": "x", "tables": {}}})
    backup = Backup.open(tmp_path / "backup")

    index = {
        role: [
            json.loads(line)
            for line in backup.path(f"objects/{role}.jsonl").read_text().splitlines()
        ]
        for role in ("scans", "copies")
    }
    assert [(v["key"], v["version_id"]) for v in index["copies"]] == [
        ("dn/2026/1.pdf", first.version_id)
    ]
    assert orphan.key not in {v["key"] for v in index["copies"]}
    assert [v["key"] for v in index["scans"]] == [page.key]
    assert later_page.key not in {v["key"] for v in index["scans"]}
    assert stats["copies"].left_out == 2 and stats["scans"].left_out == 1
    assert index["copies"][0]["sha256"] == hashlib.sha256(b"%PDF copy one").hexdigest()

    target = MinioObjectStore(store_config(minio_server))
    assert store_is_empty(target)
    restored = restore_objects(target, backup)
    assert not store_is_empty(target)
    new_id = restored.version_ids[first.version_id or ""]
    assert new_id and new_id != first.version_id
    got = target.stat(target.copies_bucket, "dn/2026/1.pdf", version_id=new_id)
    assert got.sha256 == first.sha256
    with target.open(target.scans_bucket, page.key) as fh:
        assert fh.read() == b"scan page"
