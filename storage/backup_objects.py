"""Backups of the object store: the versions of ``scans`` and ``copies`` that a database
snapshot can refer to (issue 14.4; docs/backup.md).

The database is dumped first (``storage.backup.dump_database``); what it holds decides which
object versions are taken, so that the restored register and buckets witness each other:

- ``copies``: only keys named by a register entry (``documents.copy_key``) — a copy without
  its entry would make the restored service refuse that number for ever
  (``certify.issuance._refuse_taken_number``). Of those keys: every version written before
  the snapshot, every version whose id a ``*version_id`` column names, and every version of
  a key whose entry still awaits its copy (reconcile would record it);
- ``scans``: every version written before the snapshot (scan pages and staged copies, which
  no column names one by one; one written later belongs to no entry of the snapshot).

Each version is streamed to ``objects/{bucket}/{n}`` with its SHA-256 computed on the way
and checked against the ``sha256`` metadata ``MinioObjectStore.put_stream`` stored; the list
``objects/{bucket}.jsonl`` keeps, per key, the oldest version first, with its old version
id, size, SHA-256, content type and user metadata. Delete markers of those keys are kept in
their place. ``{bucket}`` is the role (``scans``, ``copies``), not the bucket's name, which
the restored service's settings choose.

A restore uploads them in that order (so each key's newest version is again the latest),
into buckets made by ``ensure_buckets`` (copies get Object Lock and its default retention),
checks every SHA-256 again, and returns the map from old to new version ids.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from certify.errors import CertifyError, ObjectNotFoundError
from storage.backup import VERSION_ID_SUFFIX
from storage.backup_manifest import CHUNK, Backup, BackupWriter
from storage.objects import SHA256_META, MinioObjectStore, ObjectVersion

ROLES = ("scans", "copies")


@dataclass
class SnapshotReferences:
    """What a database snapshot refers to in ``copies``: fed every dumped row (a
    ``storage.backup.RowObserver``), then asked which versions to keep."""

    copy_keys: set[str] = field(default_factory=set)
    awaiting_keys: set[str] = field(default_factory=set)
    version_ids: set[str] = field(default_factory=set)

    def observe(self, table: str, row: Mapping[str, Any]) -> None:
        for column, value in row.items():
            if column.endswith(VERSION_ID_SUFFIX) and isinstance(value, str) and value:
                self.version_ids.add(value)
        if table == "documents" and row.get("copy_key"):
            self.copy_keys.add(str(row["copy_key"]))
            if row.get("copy_version_id") is None:
                self.awaiting_keys.add(str(row["copy_key"]))

    def wanted(self, role: str, version: ObjectVersion, taken_at: dt.datetime) -> bool:
        before = version.last_modified <= taken_at
        if role == "scans":
            return before
        if version.key not in self.copy_keys:
            return False
        if version.is_delete_marker:
            return before
        return before or version.version_id in self.version_ids or version.key in self.awaiting_keys


@dataclass(frozen=True)
class BucketStats:
    versions: int = 0
    delete_markers: int = 0
    bytes: int = 0
    left_out: int = 0

    def manifest_entry(self, role: str) -> dict[str, Any]:
        return {
            "index": f"objects/{role}.jsonl",
            "versions": self.versions,
            "delete_markers": self.delete_markers,
            "bytes": self.bytes,
            "left_out_after_snapshot": self.left_out,
        }


def _mismatch(bucket: str, key: str, what: str) -> CertifyError:
    return CertifyError(
        f"Đối tượng {bucket}/{key} không khớp mã băm SHA-256 của nó ({what}). / "
        f"Object {bucket}/{key} does not match its SHA-256 ({what}).",
        code="backup_object_mismatch",
    )


def _grouped(versions: Iterator[ObjectVersion]) -> Iterator[list[ObjectVersion]]:
    """The listing's versions, one key at a time, oldest first (S3 lists the newest first)."""
    current: list[ObjectVersion] = []
    for version in versions:
        if current and current[0].key != version.key:
            yield current[::-1]
            current = []
        current.append(version)
    if current:
        yield current[::-1]


def backup_objects(
    store: MinioObjectStore,
    writer: BackupWriter,
    references: SnapshotReferences,
    taken_at: dt.datetime,
) -> dict[str, BucketStats]:
    """Stream the wanted versions of ``scans`` and ``copies`` into ``writer``.

    Raises:
        CertifyError: code ``backup_object_mismatch`` (an object's bytes do not match the
            SHA-256 stored with it).
        StorageUnavailableError.
    """
    stats: dict[str, BucketStats] = {}
    for role in ROLES:
        bucket = store.scans_bucket if role == "scans" else store.copies_bucket
        versions = markers = size = left_out = 0
        with writer.create(f"objects/{role}.jsonl") as index:
            for group in _grouped(store.list_versions(bucket)):
                for version in group:
                    if not references.wanted(role, version, taken_at):
                        left_out += 1
                        continue
                    line: dict[str, Any] = {
                        "key": version.key,
                        "version_id": version.version_id,
                        "last_modified": version.last_modified.isoformat(),
                        "delete_marker": version.is_delete_marker,
                    }
                    if version.is_delete_marker:
                        markers += 1
                    else:
                        versions += 1
                        line.update(_download(store, writer, role, bucket, version, versions))
                        size += line["size"]
                    index.write(json.dumps(line, ensure_ascii=False).encode() + b"\n")
        stats[role] = BucketStats(versions, markers, size, left_out)
    return stats


def _download(
    store: MinioObjectStore,
    writer: BackupWriter,
    role: str,
    bucket: str,
    version: ObjectVersion,
    n: int,
) -> dict[str, Any]:
    relpath = f"objects/{role}/{n:08d}"
    with (
        store.open_version(bucket, version.key, version_id=version.version_id) as (info, body),
        writer.create(relpath) as out,
    ):
        while chunk := body.read(CHUNK):
            out.write(chunk)
        digest = out.sha256.hexdigest()
        if info.sha256 and info.sha256 != digest:
            raise _mismatch(bucket, version.key, "read back")
        if out.size != info.size:
            raise _mismatch(bucket, version.key, "size")
    return {
        "file": relpath,
        "size": out.size,
        "sha256": digest,
        "sha256_in_metadata": bool(info.sha256),
        "content_type": info.content_type,
        "metadata": {k: v for k, v in info.metadata.items() if k != SHA256_META},
    }


def store_is_empty(store: MinioObjectStore) -> bool:
    """Whether neither bucket holds any object version (a missing bucket is empty)."""
    for bucket in (store.scans_bucket, store.copies_bucket):
        try:
            if next(iter(store.list_versions(bucket)), None) is not None:
                return False
        except ObjectNotFoundError:
            continue
    return True


@dataclass(frozen=True)
class RestoredObjects:
    version_ids: dict[str, str]  # old -> new
    stats: dict[str, BucketStats]


def restore_objects(store: MinioObjectStore, backup: Backup) -> RestoredObjects:
    """Upload every version of the backup, oldest first per key, into the store's buckets
    (made by ``ensure_buckets`` first); check each SHA-256 again.

    Raises:
        CertifyError: code ``backup_object_mismatch``.
        StorageUnavailableError, ObjectLockedError.
    """
    store.ensure_buckets()
    mapping: dict[str, str] = {}
    stats: dict[str, BucketStats] = {}
    for role in ROLES:
        bucket = store.scans_bucket if role == "scans" else store.copies_bucket
        versions = markers = size = 0
        with backup.path(f"objects/{role}.jsonl").open("rb") as index:
            for raw in index:
                line = json.loads(raw)
                if line["delete_marker"]:
                    store.remove(bucket, line["key"])
                    markers += 1
                    continue
                with backup.path(line["file"]).open("rb") as fh:
                    stored = store.put_stream(
                        bucket,
                        line["key"],
                        fh,
                        content_type=line["content_type"],
                        metadata=dict(line["metadata"]),
                    )
                if stored.sha256 != line["sha256"] or stored.size != line["size"]:
                    raise _mismatch(bucket, line["key"], "uploaded")
                if line["version_id"] and stored.version_id:
                    mapping[line["version_id"]] = stored.version_id
                versions += 1
                size += stored.size
        stats[role] = BucketStats(versions, markers, size)
    return RestoredObjects(mapping, stats)
