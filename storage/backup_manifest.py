"""A backup directory and its manifest (issue 14.4; docs/backup.md).

:class:`BackupWriter` writes a new backup into a directory that is absent or empty (never
over an earlier backup): directories 0700, files 0600, each file's size and SHA-256 recorded
as it is written; :meth:`BackupWriter.finish` writes ``manifest.json`` last (a directory
without one is an incomplete backup), with the manifest's own SHA-256 in it.

:meth:`Backup.open` reads a finished backup and checks, before anything is restored, that
every file the manifest lists is there with its size and SHA-256, that no other file is, and
that the manifest matches its own digest. That digest guards against damage and careless
edits, not against someone who can rewrite the whole backup: keep the digest that
``certify backup`` prints apart from the backup to compare it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from certify.errors import ConflictError, InvalidInputError

FORMAT = "certify-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CHUNK = 1024 * 1024


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# --- the backup directory ---------------------------------------------------------------------


class _HashingFile:
    """A file being written into the backup, hashed and counted as it is written."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self._raw.write(data)


def _safe_relpath(relpath: str) -> PurePosixPath:
    path = PurePosixPath(relpath)
    if path.is_absolute() or ".." in path.parts or not path.parts or relpath != str(path):
        raise InvalidInputError(
            f"Đường dẫn không hợp lệ trong bản sao lưu: {relpath!r}. / "
            f"Invalid path in the backup: {relpath!r}.",
            code="backup_tampered",
        )
    return path


class BackupWriter:
    """Writes a new backup into ``dest`` (absent or an empty directory; never overwritten).

    Raises:
        ConflictError: code ``backup_dest_not_empty``.
    """

    def __init__(self, dest: Path) -> None:
        self.dest = Path(dest)
        if self.dest.exists() and (not self.dest.is_dir() or any(self.dest.iterdir())):
            raise ConflictError(
                f"Thư mục sao lưu {self.dest} đã có dữ liệu: không ghi đè một bản sao lưu. / "
                f"The backup directory {self.dest} is not empty: a backup is never overwritten.",
                code="backup_dest_not_empty",
            )
        self._mkdir(self.dest)
        self.files: dict[str, dict[str, Any]] = {}

    @staticmethod
    def _mkdir(path: Path) -> None:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.chmod(0o700)

    @contextmanager
    def create(self, relpath: str) -> Iterator[_HashingFile]:
        """A new file at ``relpath`` (0600); its size and SHA-256 are recorded when closed."""
        rel = _safe_relpath(relpath)
        if relpath in self.files or relpath == MANIFEST:
            raise ValueError(f"backup file written twice: {relpath}")
        target = self.dest.joinpath(*rel.parts)
        self._mkdir(target.parent)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw:
            hashing = _HashingFile(raw)
            yield hashing
            raw.flush()
            os.fsync(raw.fileno())
        self.files[relpath] = {"size": hashing.size, "sha256": hashing.sha256.hexdigest()}

    def copy_tree(self, source: Path, prefix: str, *, skip: frozenset[str] = frozenset()) -> int:
        """Copy the regular files under ``source`` to ``prefix/…`` as they are (names in
        ``skip`` left out; symbolic links are not followed). Returns how many were copied."""
        count = 0
        if not source.is_dir():
            return 0
        for path in sorted(source.rglob("*")):
            if path.name in skip or path.is_symlink() or not path.is_file():
                continue
            rel = path.relative_to(source).as_posix()
            with path.open("rb") as fh, self.create(f"{prefix}/{rel}") as out:
                while chunk := fh.read(CHUNK):
                    out.write(chunk)
            count += 1
        return count

    def finish(self, body: Mapping[str, Any]) -> str:
        """Write ``manifest.json`` (last): ``body`` with the format, the files and the
        manifest's own digest. Returns that digest (to be kept apart from the backup)."""
        manifest = {**body, "format": FORMAT, "format_version": FORMAT_VERSION}
        manifest["files"] = dict(sorted(self.files.items()))
        manifest.pop("manifest_sha256", None)
        digest = hashlib.sha256(_canonical(manifest)).hexdigest()
        manifest["manifest_sha256"] = digest
        partial = self.dest / (MANIFEST + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(json.dumps(manifest, ensure_ascii=False, indent=1).encode())
            fh.flush()
            os.fsync(fh.fileno())
        partial.replace(self.dest / MANIFEST)
        dir_fd = os.open(self.dest, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return digest


def _tampered(what: str) -> InvalidInputError:
    return InvalidInputError(
        f"Bản sao lưu bị sửa hoặc hỏng: {what}. Không khôi phục gì. / "
        f"The backup was altered or is damaged: {what}. Nothing was restored.",
        code="backup_tampered",
    )


class Backup:
    """A finished backup, checked against its manifest. Build it with :meth:`open`."""

    def __init__(self, root: Path, manifest: dict[str, Any]) -> None:
        """Internal: use :meth:`open`."""
        self.root = root
        self.manifest = manifest

    @classmethod
    def open(cls, root: Path) -> Backup:
        """Read ``root/manifest.json`` and check every file against it: present, listed,
        of its size and SHA-256. Reads only.

        Raises:
            InvalidInputError: code ``backup_incomplete`` (no manifest), ``backup_unsupported``
                (another format), ``backup_tampered`` (a file missing, added or changed).
        """
        root = Path(root)
        try:
            raw = (root / MANIFEST).read_bytes()
        except FileNotFoundError:
            raise InvalidInputError(
                f"{root} không phải bản sao lưu hoàn chỉnh (thiếu {MANIFEST}). / "
                f"{root} is not a complete backup ({MANIFEST} is missing).",
                code="backup_incomplete",
            ) from None
        except OSError as exc:
            raise _tampered(f"{MANIFEST} unreadable") from exc
        try:
            manifest = json.loads(raw)
        except ValueError as exc:
            raise _tampered(f"{MANIFEST} is not JSON") from exc
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise _tampered(f"{MANIFEST} is not a certify backup manifest")
        if manifest.get("format_version") != FORMAT_VERSION:
            raise InvalidInputError(
                f"Định dạng bản sao lưu {manifest.get('format_version')!r} không được hỗ trợ. / "
                f"Backup format version {manifest.get('format_version')!r} is not supported.",
                code="backup_unsupported",
            )
        body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
        if hashlib.sha256(_canonical(body)).hexdigest() != manifest.get("manifest_sha256"):
            raise _tampered(f"{MANIFEST} does not match its own digest")
        files = manifest.get("files")
        if not isinstance(files, dict):
            raise _tampered(f"{MANIFEST} lists no files")
        on_disk = {
            p.relative_to(root).as_posix()
            for p in root.rglob("*")
            if (p.is_file() or p.is_symlink()) and p != root / MANIFEST
        }
        for extra in sorted(on_disk - set(files)):
            raise _tampered(f"{extra} is not in the manifest")
        for relpath, expected in sorted(files.items()):
            _safe_relpath(relpath)
            path = root / relpath
            if relpath not in on_disk or path.is_symlink():
                raise _tampered(f"{relpath} is missing")
            digest, size = hashlib.sha256(), 0
            with path.open("rb") as fh:
                while chunk := fh.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
            if size != expected.get("size") or digest.hexdigest() != expected.get("sha256"):
                raise _tampered(f"{relpath} differs from its SHA-256 in the manifest")
        return cls(root, manifest)

    @property
    def revision(self) -> str:
        return str(self.manifest["database"]["revision"])

    def path(self, relpath: str) -> Path:
        """Where a file listed in the manifest is."""
        if relpath not in self.manifest["files"]:
            raise _tampered(f"{relpath} is not in the manifest")
        return self.root.joinpath(*_safe_relpath(relpath).parts)

    def files_under(self, prefix: str) -> list[str]:
        """The listed files under ``prefix/``, sorted."""
        return sorted(p for p in self.manifest["files"] if p.startswith(prefix + "/"))

    def extract_tree(self, prefix: str, target: Path) -> int:
        """Copy the files under ``prefix/`` into ``target`` (directories 0700, files 0600,
        never over an existing file). Returns how many."""
        count = 0
        for relpath in self.files_under(prefix):
            rel = PurePosixPath(relpath).relative_to(prefix)
            dest = target.joinpath(*rel.parts)
            BackupWriter._mkdir(dest.parent)
            fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out, self.path(relpath).open("rb") as fh:
                while chunk := fh.read(CHUNK):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            count += 1
        return count
