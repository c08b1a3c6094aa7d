"""``certify backup DEST`` and ``certify restore SRC`` (issue 14.4; docs/backup.md).

``backup`` writes, into a new or empty ``DEST``: a consistent dump of the register database
(``storage.backup``), the object versions that dump can refer to (``storage.backup_objects``),
the PKI directory as it is (keys stay encrypted), and ``manifest.json`` last, with every
file's size and SHA-256. The PKI passphrase is never written into a backup: a backup holding
the encrypted keys and their passphrase would hold the keys. When the service runs on the
generated local passphrase (``{data_dir}/secrets/pki-passphrase``, ``api.secrets``) a warning
says it must be kept apart from the backup.

``restore`` rebuilds a service on empty targets named by the settings (CERTIFY_DATA_DIR /
CERTIFY_PKI_DIR, CERTIFY_DATABASE_URL, the CERTIFY_S3_* endpoint and buckets). Before it
changes anything it checks every file of the backup against the manifest, that the PKI
passphrase (CERTIFY_PKI_PASSPHRASE, or the local secret file put back by the operator) opens
the issuing CA's key, and that the database, the buckets and the PKI directory are empty.
Then it uploads the objects, copies the PKI files, makes the schema and loads the rows (new
object version ids written into the ``*version_id`` columns), and checks the result as
``certify check`` does: every copy the register names is there with its SHA-256, and the
audit chain is intact.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from api.services import object_store_of
from api.settings import DEMO_MARKER, Settings
from certify.consistency import check
from certify.errors import CertifyError, ConflictError, KeyMaterialError
from certify.ports import SystemClock
from storage import database
from storage.backup import dump_database, load_database, table_rows, target_needs_schema
from storage.backup_manifest import Backup, BackupWriter
from storage.backup_objects import (
    SnapshotReferences,
    backup_objects,
    restore_objects,
    store_is_empty,
)
from storage.objects import MinioObjectStore
from storage.sql_register import SqlRegister

# Files of the PKI directory a backup leaves out: the lock held while the index changes.
PKI_SKIP = frozenset({"index.lock"})
LOCAL_PASSPHRASE = Path("secrets") / "pki-passphrase"


@contextlib.contextmanager
def _object_store(settings: Settings) -> Iterator[MinioObjectStore]:
    """The settings' object store (a local MinIO started when no endpoint is set); no bucket
    is created here."""
    local, store = object_store_of(settings)
    try:
        yield store
    finally:
        if local is not None:
            local.release()


# --- backup -----------------------------------------------------------------------------------


def _backup(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    writer = BackupWriter(Path(args.dest))  # refuses a non-empty DEST before anything else
    clock = SystemClock()
    engine = database.make_engine(settings.resolved_database_url)
    try:
        with _object_store(settings) as store:
            references = SnapshotReferences()
            dump = dump_database(engine, writer, now=clock.now, observe=references.observe)
            objects = backup_objects(store, writer, references, dump.taken_at)
    finally:
        engine.dispose()
    pki_dir = settings.resolved_pki_dir
    pki_files = writer.copy_tree(pki_dir, "pki", skip=PKI_SKIP)
    digest = writer.finish(
        {
            "created_at": clock.now().isoformat(timespec="seconds"),
            "database": dump.manifest_entry(),
            "objects": {role: s.manifest_entry(role) for role, s in objects.items()},
            "pki": {"files": pki_files, "passphrase_included": False},
            "demo": (settings.data_dir / DEMO_MARKER).exists(),
        }
    )
    rows = sum(t["rows"] for t in dump.tables.values())
    print(
        f"certify: đã sao lưu / backup written to {writer.dest}: {len(dump.tables)} tables "
        f"({rows} rows, {dump.dialect}, revision {dump.revision}); "
        + ", ".join(
            f"{role} {s.versions} versions ({s.bytes} bytes)" for role, s in objects.items()
        )
        + f"; {pki_files} PKI files"
    )
    left_out = sum(s.left_out for s in objects.values())
    if left_out:
        print(f"certify: {left_out} object versions newer than the snapshot were left out")
    print(f"certify: manifest SHA-256 {digest} (keep it apart from the backup)")
    if pki_files and not settings.pki_passphrase.get_secret_value():
        print(
            "certify: CẢNH BÁO: khoá PKI được mã hoá bằng mật khẩu cục bộ tự sinh "
            f"({settings.data_dir / LOCAL_PASSPHRASE}), KHÔNG có trong bản sao lưu: hãy cất giữ "
            "nó riêng, tách khỏi bản sao lưu; thiếu nó thì không khôi phục được khoá. / "
            "WARNING: the PKI keys are encrypted with the generated local passphrase "
            f"({settings.data_dir / LOCAL_PASSPHRASE}), which is NOT in the backup: keep it "
            "separately, apart from the backup; without it the keys cannot be restored.",
            file=sys.stderr,
        )
    return 0


# --- restore ----------------------------------------------------------------------------------


class _BackedUpIndex:
    """The PKI index as the backup holds it, read-only (keys.index_store.IndexStore): enough
    for ProvincialPKI.open to check the passphrase on a copy of the backup's PKI files."""

    def __init__(self, document: dict[str, Any]) -> None:
        self._document = document

    def version(self) -> object | None:
        return 1

    def read(self) -> tuple[dict[str, Any], object]:
        return self._document, 1

    def write(self, index: dict[str, Any]) -> object:
        raise RuntimeError("the backed-up PKI index is read-only")

    def locked(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()


def _restore_passphrase(settings: Settings) -> bytes:
    configured = settings.pki_passphrase.get_secret_value()
    if configured:
        return configured.encode()
    local = settings.data_dir / LOCAL_PASSPHRASE
    if local.is_file():
        return local.read_text().strip().encode()
    raise KeyMaterialError(
        "Cần mật khẩu PKI để khôi phục (CERTIFY_PKI_PASSPHRASE, hoặc đặt lại tệp "
        f"{local}): bản sao lưu không chứa mật khẩu. / The PKI passphrase is needed to "
        f"restore (CERTIFY_PKI_PASSPHRASE, or put the file {local} back): backups never "
        "hold it.",
        code="restore_passphrase_missing",
    )


def _check_passphrase(backup: Backup, settings: Settings) -> None:
    """Open a scratch copy of the backup's PKI with the passphrase (ProvincialPKI.open
    decrypts the issuing CA's key), before anything is restored."""
    from keys.ca import ProvincialPKI

    if not backup.files_under("pki"):
        return
    passphrase = _restore_passphrase(settings)
    index_rows = (
        list(table_rows(backup, "pki_index"))
        if "pki_index" in backup.manifest["database"]["tables"]
        else []
    )
    with tempfile.TemporaryDirectory(prefix="certify-restore-") as scratch:
        directory = Path(scratch) / "pki"
        backup.extract_tree("pki", directory)
        store = _BackedUpIndex(json.loads(index_rows[0]["document"])) if index_rows else None
        try:
            ProvincialPKI.open(
                directory,
                passphrase=passphrase,
                base_url=settings.resolved_public_base_url,
                index_store=store,
            )
        except CertifyError as exc:
            raise KeyMaterialError(
                "Mật khẩu PKI không mở được khoá của CA cấp chứng thư trong bản sao lưu; "
                f"không khôi phục gì ({exc.code}). / The PKI passphrase does not open the "
                f"issuing CA's key in the backup; nothing was restored ({exc.code}).",
                code="restore_wrong_passphrase",
            ) from exc


def _not_empty(what: tuple[str, str], where: object) -> ConflictError:
    return ConflictError(
        f"{what[0]} đích ({where}) không trống: chỉ khôi phục vào chỗ trống; không thay đổi gì. "
        f"/ The target {what[1]} ({where}) is not empty: a restore goes only into empty "
        "targets; nothing was changed.",
        code="restore_target_not_empty",
    )


def _restore(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    backup = Backup.open(Path(args.src))  # every SHA-256, before anything else
    _check_passphrase(backup, settings)
    pki_dir = settings.resolved_pki_dir
    if pki_dir.exists() and any(pki_dir.iterdir()):
        raise _not_empty(("Thư mục PKI", "PKI directory"), pki_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = database.make_engine(settings.resolved_database_url)
    try:
        needs_schema = target_needs_schema(engine, backup.revision)
        with _object_store(settings) as store:
            if not store_is_empty(store):
                raise _not_empty(
                    ("Kho đối tượng", "object store"),
                    f"{store.scans_bucket}, {store.copies_bucket}",
                )
            # From here on the targets change.
            objects = restore_objects(store, backup)
            pki_files = backup.extract_tree("pki", pki_dir)
            if needs_schema:
                database.upgrade(engine, backup.revision)
            loaded = load_database(engine, backup, version_ids=objects.version_ids)
            database.upgrade(engine, "head")
            if backup.manifest.get("demo"):
                (settings.data_dir / DEMO_MARKER).touch()
            register = SqlRegister(engine)
            report = check(register, store)
            head, events = register.audit_head(), register.audit_event_count()
    finally:
        engine.dispose()
    stored_bytes = sum(s.bytes for s in objects.stats.values())
    print(
        f"certify: đã khôi phục / restored from {backup.root}: {report.entries} register "
        f"entries, {sum(loaded.rows.values())} rows in {len(loaded.rows)} tables, "
        + ", ".join(f"{role} {s.versions} versions" for role, s in objects.stats.items())
        + f" ({stored_bytes} bytes), {pki_files} PKI files, "
        f"{loaded.rewritten_version_ids} object version ids rewritten"
    )
    if loaded.audit_events_naming_versions:
        print(
            "certify: audit events naming old object versions, kept unchanged (the chain "
            f"hashes them): {', '.join(map(str, loaded.audit_events_naming_versions))}"
        )
    for finding in report.findings:
        print(f"  {finding.kind}: {finding.subject} — {finding.message}")
    chain = "BROKEN" if any(f.kind == "audit_chain_broken" for f in report.findings) else "intact"
    print(
        f"certify: {report.objects} stored copies checked against the register; audit chain "
        f"{chain} ({events} events, head {head})"
    )
    print("certify: consistent" if report.ok else "certify: NOT CONSISTENT")
    return 0 if report.ok else 1


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    backup = subparsers.add_parser(
        "backup",
        help="write a consistent backup (register database, PKI files with encrypted keys, "
        "objects, SHA-256 manifest) into DEST, which must be new or empty",
    )
    backup.add_argument("dest", help="the backup directory (new or empty)")
    backup.set_defaults(handler=_backup)
    restore = subparsers.add_parser(
        "restore",
        help="rebuild the service from the backup SRC onto the empty database, buckets and "
        "PKI directory of the settings (needs the PKI passphrase)",
    )
    restore.add_argument("src", help="a backup directory written by `certify backup`")
    restore.set_defaults(handler=_restore)


__all__ = ["register"]
