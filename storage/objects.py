"""The object store: MinIO through the ``minio`` SDK.

Two buckets: ``scans`` (private working copies of the scanned pages) and ``copies`` (signed
certified copies, under Object Lock with a default retention so that nobody, not even an
administrator, can silently replace or delete one during retention).

Every upload streams in parts; its SHA-256 is computed while the bytes stream and stored in
the object's metadata (``x-amz-meta-sha256``). S3 and network errors are translated here into
the domain's errors: ``ObjectNotFoundError``, ``ObjectLockedError``, ``StorageUnavailableError``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import logging
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal, cast

import urllib3
from minio import Minio
from minio.commonconfig import COMPLIANCE, GOVERNANCE, CopySource
from minio.error import InvalidResponseError, MinioException, S3Error, ServerError
from minio.objectlockconfig import DAYS, ObjectLockConfig

from certify.errors import (
    CertifyError,
    ObjectLockedError,
    ObjectNotFoundError,
    StorageUnavailableError,
)
from certify.ports import StoredObject

log = logging.getLogger(__name__)

PART_SIZE = 8 * 1024 * 1024  # S3 multipart parts: >= 5 MiB; bounds memory per upload
CHUNK = 1024 * 1024
SHA256_META = "sha256"
_NOT_FOUND = {"NoSuchKey", "NoSuchBucket", "NoSuchVersion", "NoSuchObject"}
_LOCKED = {"ObjectLocked"}
# MinIO answers AccessDenied both to a write or delete that Object Lock forbids ("Object is
# WORM protected …") and to credentials or a policy that forbid the request: only the first
# is "locked"; the second is the server's configuration, not the caller's doing.
_LOCK_WORDS = ("worm", "retention", "legal hold", "object lock", "locked")


@dataclass(frozen=True)
class ObjectStoreConfig:
    """How to reach the S3 server and how to keep the copies."""

    endpoint: str
    access_key: str
    secret_key: str
    secure: bool = False
    region: str = "us-east-1"
    timeout_seconds: float = 10.0
    scans_bucket: str = "scans"
    copies_bucket: str = "copies"
    retention_mode: Literal["COMPLIANCE", "GOVERNANCE"] = "GOVERNANCE"
    retention_days: int = 3650


@dataclass(frozen=True)
class ObjectVersion:
    """One version of an object (or a delete marker) as a version listing shows it.

    ``version_id`` is None in a bucket without versioning (S3 names that version "null").
    """

    key: str
    version_id: str | None
    last_modified: dt.datetime
    size: int
    is_latest: bool
    is_delete_marker: bool


class _HashingReader:
    """A read-only stream that hashes and counts what is read through it."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.sha256.update(data)
        self.size += len(data)
        return data


class _TranslatingReader:
    """A response body whose read errors become the domain's errors (and nothing else)."""

    def __init__(self, store: MinioObjectStore, bucket: str, key: str, raw: Any) -> None:
        self._store, self._bucket, self._key, self._raw = store, bucket, key, raw

    def read(self, size: int = -1) -> bytes:
        with self._store._translate(self._bucket, self._key):
            data: bytes = self._raw.read(None if size < 0 else size)
        return data


def _seekable(stream: BinaryIO) -> bool:
    """Whether ``stream`` can be read twice (hashed, then uploaded) without a spool."""
    try:
        return bool(stream.seekable())
    except (AttributeError, OSError, ValueError):
        return False


class MinioObjectStore:
    """The :class:`certify.ports.ObjectStore` on MinIO (or any S3 server with Object Lock)."""

    def __init__(self, config: ObjectStoreConfig) -> None:
        self.config = config
        self.scans_bucket = config.scans_bucket
        self.copies_bucket = config.copies_bucket
        timeout = urllib3.Timeout(
            connect=min(2.0, config.timeout_seconds), read=config.timeout_seconds
        )
        # Fail fast when MinIO is down (one connect retry), and never sleep on a server's
        # Retry-After: a node back from an outage answers 503 SlowDownWrite with
        # "Retry-After: 120" for a few seconds, which would hold a request for two minutes.
        # Two short retries of a 503 ride that out (tests/cluster/test_faults.py).
        http = urllib3.PoolManager(
            timeout=timeout,
            maxsize=16,
            retries=urllib3.Retry(
                total=3,
                connect=1,
                read=0,
                redirect=0,
                status=2,
                status_forcelist=(503,),
                backoff_factor=0.5,
                respect_retry_after_header=False,
            ),
        )
        self._client = Minio(
            config.endpoint,
            access_key=config.access_key,
            secret_key=config.secret_key,
            secure=config.secure,
            region=config.region,
            http_client=http,
        )

    # --- set-up ---------------------------------------------------------------------------

    def ensure_buckets(self) -> None:
        """Create ``scans`` and ``copies`` (with Object Lock and default retention) if missing.

        Raises:
            StorageUnavailableError: the server cannot be reached.
            CertifyError: ``copies`` exists without Object Lock (it cannot be added later).
        """
        with self._translate(self.scans_bucket, ""):
            if not self._client.bucket_exists(self.scans_bucket):
                self._client.make_bucket(self.scans_bucket)
            if not self._client.bucket_exists(self.copies_bucket):
                self._client.make_bucket(self.copies_bucket, object_lock=True)
            mode = COMPLIANCE if self.config.retention_mode == "COMPLIANCE" else GOVERNANCE
            try:
                current = self._client.get_object_lock_config(self.copies_bucket)
            except S3Error as exc:
                if exc.code == "ObjectLockConfigurationNotFoundError":
                    raise CertifyError(
                        f"Bucket '{self.copies_bucket}' has no Object Lock; it must be created "
                        "with Object Lock enabled.",
                        code="storage_misconfigured",
                    ) from exc
                raise
            wanted = (mode, self.config.retention_days, DAYS)
            if (current.mode, current.duration, current.duration_unit) != wanted:
                self._client.set_object_lock_config(
                    self.copies_bucket, ObjectLockConfig(mode, self.config.retention_days, DAYS)
                )

    def ping(self) -> None:
        """Check the server answers and the buckets exist.

        Raises:
            StorageUnavailableError: it does not.
        """
        with self._translate(self.copies_bucket, ""):
            if not self._client.bucket_exists(self.copies_bucket):
                raise StorageUnavailableError(
                    "Kho lưu trữ chưa sẵn sàng (thiếu bucket). / "
                    "Storage not ready (bucket missing)."
                )

    # --- objects --------------------------------------------------------------------------

    def put_stream(
        self,
        bucket: str,
        key: str,
        stream: BinaryIO,
        *,
        content_type: str = "application/octet-stream",
        metadata: dict[str, str] | None = None,
    ) -> StoredObject:
        """Upload ``stream``, from its current position to its end, in parts; its SHA-256
        goes in the object's metadata.

        S3 takes user metadata when the upload starts, so the SHA-256 is known first: a
        seekable stream (a file: a scan page, a signed copy) is hashed where it is and read
        again for the upload; any other stream is spooled to a temporary file while it is
        hashed. Either way the memory used is one part, not the object. The bytes actually
        sent are hashed again on the way out and must match, else the object is removed.

        Raises:
            StorageUnavailableError: the server cannot be reached, or the stream changed
                while it was uploaded.
            ObjectLockedError: the server refused to overwrite a locked object.
        """
        with contextlib.ExitStack() as stack:
            hashing_in = _HashingReader(stream)
            source: BinaryIO
            if _seekable(stream):
                source, start = stream, stream.tell()
                while hashing_in.read(CHUNK):
                    pass
            else:
                source, start = stack.enter_context(tempfile.TemporaryFile()), 0
                shutil.copyfileobj(hashing_in, source, CHUNK)
            digest = hashing_in.sha256.hexdigest()
            size = hashing_in.size
            source.seek(start)
            meta = {**(metadata or {}), SHA256_META: digest}
            hashing_out = _HashingReader(source)
            with self._translate(bucket, key):
                result = self._client.put_object(
                    bucket,
                    key,
                    hashing_out,  # type: ignore[arg-type]
                    length=size,
                    content_type=content_type,
                    metadata=meta,  # type: ignore[arg-type]
                    part_size=PART_SIZE,
                    num_parallel_uploads=1,
                )
            if hashing_out.sha256.hexdigest() != digest or hashing_out.size != size:
                self._remove_quietly(bucket, key, result.version_id)
                raise StorageUnavailableError(
                    "Dữ liệu thay đổi trong khi tải lên. / Data changed during upload."
                )
        return StoredObject(
            bucket=bucket,
            key=key,
            size=size,
            sha256=digest,
            version_id=result.version_id,
            content_type=content_type,
            metadata=meta,
        )

    def put_bytes(
        self, bucket: str, key: str, data: bytes, *, content_type: str = "application/octet-stream"
    ) -> StoredObject:
        """Upload a small object held in memory."""
        return self.put_stream(bucket, key, io.BytesIO(data), content_type=content_type)

    def copy(self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str) -> StoredObject:
        """Copy an object server-side, keeping its metadata (its SHA-256 among them).

        Raises:
            ObjectNotFoundError, ObjectLockedError, StorageUnavailableError.
        """
        with self._translate(dst_bucket, dst_key):
            result = self._client.copy_object(dst_bucket, dst_key, CopySource(src_bucket, src_key))
        return self.stat(dst_bucket, dst_key, version_id=result.version_id)

    def list_objects(self, bucket: str, prefix: str = "") -> Iterator[tuple[str, dt.datetime]]:
        """Keys under ``prefix`` with their last-modified times (latest versions only).

        Raises:
            StorageUnavailableError.
        """
        with self._translate(bucket, prefix):
            for obj in self._client.list_objects(bucket, prefix=prefix, recursive=True):
                if obj.object_name is not None and obj.last_modified is not None:
                    yield obj.object_name, obj.last_modified

    def list_versions(self, bucket: str, prefix: str = "") -> Iterator[ObjectVersion]:
        """Every version and delete marker under ``prefix``, as the server lists them: by
        key, and for each key the newest version first (``certify backup``).

        Raises:
            StorageUnavailableError.
        """
        with self._translate(bucket, prefix):
            for obj in self._client.list_objects(
                bucket, prefix=prefix, recursive=True, include_version=True
            ):
                if obj.object_name is None or obj.last_modified is None:
                    continue
                version = obj.version_id if obj.version_id not in (None, "", "null") else None
                yield ObjectVersion(
                    key=obj.object_name,
                    version_id=version,
                    last_modified=obj.last_modified,
                    size=int(obj.size or 0),
                    is_latest=str(obj.is_latest).lower() == "true",
                    is_delete_marker=bool(obj.is_delete_marker),
                )

    @contextmanager
    def open_version(
        self, bucket: str, key: str, *, version_id: str | None = None
    ) -> Iterator[tuple[StoredObject, BinaryIO]]:
        """One version of an object: what the server says of it (size, SHA-256 and user
        metadata, content type, version) and a streaming reader of its bytes, from the same
        response, so that the two cannot describe different versions.

        Raises:
            ObjectNotFoundError, StorageUnavailableError.
        """
        with self._translate(bucket, key):
            response = self._client.get_object(bucket, key, version_id=version_id)
        try:
            headers = {k.lower(): v for k, v in response.headers.items()}
            user_meta = {
                k.removeprefix("x-amz-meta-"): str(v)
                for k, v in headers.items()
                if k.startswith("x-amz-meta-")
            }
            served_version = headers.get("x-amz-version-id")
            info = StoredObject(
                bucket=bucket,
                key=key,
                size=int(headers.get("content-length") or 0),
                sha256=user_meta.get(SHA256_META, ""),
                version_id=served_version if served_version not in (None, "", "null") else None,
                content_type=headers.get("content-type") or "application/octet-stream",
                metadata=user_meta,
            )
            yield info, cast(BinaryIO, _TranslatingReader(self, bucket, key, response))
        finally:
            response.close()
            response.release_conn()

    def stat(self, bucket: str, key: str, *, version_id: str | None = None) -> StoredObject:
        """What the server knows of an object.

        Raises:
            ObjectNotFoundError, StorageUnavailableError.
        """
        with self._translate(bucket, key):
            st = self._client.stat_object(bucket, key, version_id=version_id)
        meta = {k.lower(): v for k, v in (st.metadata or {}).items()}
        user_meta = {
            k.removeprefix("x-amz-meta-"): str(v)
            for k, v in meta.items()
            if k.startswith("x-amz-meta-")
        }
        return StoredObject(
            bucket=bucket,
            key=key,
            size=int(st.size or 0),
            sha256=user_meta.get(SHA256_META, ""),
            version_id=st.version_id,
            content_type=st.content_type or "application/octet-stream",
            metadata=user_meta,
        )

    def iter_chunks(
        self, bucket: str, key: str, *, version_id: str | None = None
    ) -> Iterator[bytes]:
        """Stream an object's bytes in chunks.

        Raises:
            ObjectNotFoundError, StorageUnavailableError (also in the middle of the stream).
        """
        with self._translate(bucket, key):
            response = self._client.get_object(bucket, key, version_id=version_id)
        try:
            with self._translate(bucket, key):
                yield from response.stream(CHUNK)
        finally:
            response.close()
            response.release_conn()

    @contextmanager
    def open(self, bucket: str, key: str, *, version_id: str | None = None) -> Iterator[BinaryIO]:
        """A file-like, streaming reader of an object.

        Raises:
            ObjectNotFoundError, StorageUnavailableError.
        """
        with self._translate(bucket, key):
            response = self._client.get_object(bucket, key, version_id=version_id)
        try:
            yield response  # type: ignore[misc]
        finally:
            response.close()
            response.release_conn()

    def remove(self, bucket: str, key: str, *, version_id: str | None = None) -> None:
        """Delete an object (or one version). A locked version is refused by the server.

        Raises:
            ObjectLockedError, StorageUnavailableError.
        """
        with self._translate(bucket, key):
            self._client.remove_object(bucket, key, version_id=version_id)

    # --- internals ------------------------------------------------------------------------

    def _remove_quietly(self, bucket: str, key: str, version_id: str | None) -> None:
        try:
            self.remove(bucket, key, version_id=version_id)
        except CertifyError:
            log.warning("could not remove object %s/%s after a failed upload", bucket, key)

    @contextmanager
    def _translate(self, bucket: str, key: str) -> Iterator[None]:
        """Turn S3 and network errors into the domain's errors (with ``from exc``)."""
        try:
            yield
        except S3Error as exc:
            if exc.code in _NOT_FOUND:
                raise ObjectNotFoundError() from exc
            if exc.code in _LOCKED or (
                exc.code in ("AccessDenied", "InvalidRequest")
                and any(w in (exc.message or "").lower() for w in _LOCK_WORDS)
            ):
                raise ObjectLockedError() from exc
            if exc.code == "AccessDenied":
                log.warning("S3 access denied on %s/%s: check the credentials", bucket, key)
                raise StorageUnavailableError(
                    "Kho lưu trữ từ chối quyền truy cập của dịch vụ (kiểm tra khoá truy cập và"
                    " chính sách). / The object store denied the service access (check its"
                    " access key and policy).",
                    code="storage_access_denied",
                ) from exc
            log.warning("S3 error %s on %s/%s", exc.code, bucket, key)
            raise StorageUnavailableError() from exc
        except (ServerError, InvalidResponseError, MinioException) as exc:
            raise StorageUnavailableError() from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise StorageUnavailableError() from exc
        except ValueError as exc:  # a bucket or key we made is malformed: our bug, not input
            raise CertifyError(
                "Tên đối tượng lưu trữ không hợp lệ. / Malformed object name.",
                code="invalid_object_name",
            ) from exc


def object_store_from_config(config: ObjectStoreConfig) -> MinioObjectStore:
    """Build the store and create its buckets.

    Raises:
        StorageUnavailableError: the server cannot be reached.
    """
    store = MinioObjectStore(config)
    store.ensure_buckets()
    return store
