"""The object store against a real MinIO server."""

from __future__ import annotations

import hashlib
import io
import os
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from certify.errors import ObjectLockedError, ObjectNotFoundError, StorageUnavailableError
from storage.minio_server import MinioServer
from storage.objects import MinioObjectStore
from tests.conftest import store_config

pytestmark = pytest.mark.integration

MIB = 1024 * 1024


def test_small_object_round_trips_with_sha256_in_metadata(object_store: MinioObjectStore) -> None:
    data = b"trang 1 \xe1\xba\xa3n qu\xc3\xa9t" * 100
    stored = object_store.put_stream(
        object_store.scans_bucket, "a/b/page-1", io.BytesIO(data), content_type="image/jpeg"
    )
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.size == len(data)
    st = object_store.stat(object_store.scans_bucket, "a/b/page-1")
    assert st.sha256 == stored.sha256
    assert st.size == len(data)
    assert st.content_type == "image/jpeg"
    assert b"".join(object_store.iter_chunks(object_store.scans_bucket, "a/b/page-1")) == data


@pytest.mark.slow
def test_50_mb_object_round_trips_byte_exact_in_bounded_memory(
    object_store: MinioObjectStore, tmp_path: Path
) -> None:
    source = tmp_path / "big.bin"
    expected = hashlib.sha256()
    with source.open("wb") as fh:
        for _ in range(50):
            block = os.urandom(MIB)
            expected.update(block)
            fh.write(block)

    tracemalloc.start()
    try:
        with source.open("rb") as fh:
            stored = object_store.put_stream(object_store.scans_bucket, "big", fh)
        got = hashlib.sha256()
        size = 0
        with object_store.open(object_store.scans_bucket, "big") as stream:
            while chunk := stream.read(MIB):
                got.update(chunk)
                size += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert stored.sha256 == expected.hexdigest()
    assert size == 50 * MIB
    assert got.hexdigest() == expected.hexdigest()
    # One 8 MiB part in flight plus buffers; far under the 50 MiB object.
    assert peak < 25 * MIB, f"peak Python memory {peak / MIB:.1f} MiB"


class _Pipe(io.RawIOBase):
    """A stream that can only be read forwards (an HTTP body, a pipe)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_a_file_is_uploaded_from_its_position_and_a_pipe_through_a_spool(
    object_store: MinioObjectStore, tmp_path: Path
) -> None:
    data = os.urandom(3 * MIB + 5)
    path = tmp_path / "copy.pdf"
    path.write_bytes(b"skipped" + data)
    bucket = object_store.scans_bucket
    with path.open("rb") as fh:
        fh.seek(len(b"skipped"))  # a file is hashed where it is, then read again from there
        from_file = object_store.put_stream(bucket, "from-file", fh)
    from_pipe = object_store.put_stream(bucket, "from-pipe", _Pipe(data))  # type: ignore[arg-type]
    for stored in (from_file, from_pipe):
        assert stored.sha256 == hashlib.sha256(data).hexdigest()
        assert stored.size == len(data)
        assert b"".join(object_store.iter_chunks(bucket, stored.key)) == data


def test_missing_object_is_object_not_found(object_store: MinioObjectStore) -> None:
    with pytest.raises(ObjectNotFoundError):
        object_store.stat(object_store.scans_bucket, "nope")
    with pytest.raises(ObjectNotFoundError):
        list(object_store.iter_chunks(object_store.copies_bucket, "nope"))


def test_copy_under_retention_cannot_be_deleted_or_overwritten(
    object_store: MinioObjectStore,
) -> None:
    bucket = object_store.copies_bucket
    original = object_store.put_bytes(bucket, "x/2026/1.pdf", b"%PDF-1.7 signed copy")
    assert original.version_id

    # Deleting the version is refused by the server (Object Lock, default retention).
    with pytest.raises(ObjectLockedError):
        object_store.remove(bucket, "x/2026/1.pdf", version_id=original.version_id)

    # Writing the same key again cannot replace it: the locked version stays as it was.
    second = object_store.put_bytes(bucket, "x/2026/1.pdf", b"%PDF-1.7 forged")
    assert second.version_id != original.version_id
    with pytest.raises(ObjectLockedError):
        object_store.remove(bucket, "x/2026/1.pdf", version_id=second.version_id)
    kept = b"".join(
        object_store.iter_chunks(bucket, "x/2026/1.pdf", version_id=original.version_id)
    )
    assert kept == b"%PDF-1.7 signed copy"
    assert object_store.stat(bucket, "x/2026/1.pdf", version_id=original.version_id).sha256 == (
        hashlib.sha256(b"%PDF-1.7 signed copy").hexdigest()
    )


def test_ensure_buckets_is_idempotent(object_store: MinioObjectStore) -> None:
    object_store.ensure_buckets()
    object_store.ensure_buckets()
    object_store.ping()


@pytest.mark.slow
def test_storage_down_fails_fast_and_recovers(tmp_path: Path) -> None:
    server = MinioServer.for_data_dir(tmp_path / "minio")
    server.start()
    try:
        store = MinioObjectStore(store_config(server, timeout_seconds=3.0))
        store.ensure_buckets()
        store.put_bytes(store.scans_bucket, "k", b"before")

        server.stop()
        started = time.monotonic()
        with pytest.raises(StorageUnavailableError):
            store.stat(store.scans_bucket, "k")
        with pytest.raises(StorageUnavailableError):
            store.put_bytes(store.scans_bucket, "k2", b"while down")
        with pytest.raises(StorageUnavailableError):
            store.ping()
        assert time.monotonic() - started < 10, "calls must fail fast, not hang"

        server.start()
        assert b"".join(store.iter_chunks(store.scans_bucket, "k")) == b"before"
        store.put_bytes(store.scans_bucket, "k2", b"after")
        store.ping()
    finally:
        server.stop()


def test_access_denied_by_policy_is_not_object_locked(
    object_store: MinioObjectStore, minio_server: MinioServer
) -> None:
    """MinIO says AccessDenied both for a locked version and for credentials without the
    right: a read-only account writing a copy is the server's configuration (503
    storage_access_denied), not a locked object (409)."""
    from minio.credentials.providers import StaticProvider
    from minio.minioadmin import MinioAdmin

    admin = MinioAdmin(
        endpoint=minio_server.endpoint,
        credentials=StaticProvider(minio_server.access_key, minio_server.secret_key),
        secure=False,
    )
    user, secret = f"reader{os.getpid()}", "reader-secret-123"
    admin.user_add(user, secret)
    admin.attach_policy(["readonly"], user=user)
    reader = MinioObjectStore(
        store_config(
            minio_server,
            access_key=user,
            secret_key=secret,
            scans_bucket=object_store.scans_bucket,
            copies_bucket=object_store.copies_bucket,
        )
    )
    with pytest.raises(StorageUnavailableError) as exc:
        reader.put_bytes(object_store.scans_bucket, "k", b"not allowed")
    assert exc.value.code == "storage_access_denied"
    assert not isinstance(exc.value, ObjectLockedError)
