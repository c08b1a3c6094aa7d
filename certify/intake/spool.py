"""Steps 1 and 2 of intake: spool the upload to a file while hashing and counting it, and
sniff its type from magic bytes (never from a file name). Also the sweep of work folders
that interrupted runs left behind."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path
from typing import BinaryIO, Final

from certify.intake import refusals
from certify.intake.model import Intake, MiB
from certify.intake.scratch import scratch_writes

CHUNK: Final = 1 * MiB

# Prefix of the temporary folders scans are spooled into: a run killed mid-intake leaves one
# behind (with scans: personal data), which remove_stale_workdirs clears.
INTAKE_PREFIX: Final = "certify-intake-"


def remove_stale_workdirs(
    parent: Path, prefix: str = INTAKE_PREFIX, *, older_than_seconds: float = 3600
) -> int:
    """Remove the ``prefix*`` folders under ``parent`` not touched for ``older_than_seconds``
    (interrupted runs' spooled scans). Returns how many were removed."""
    cutoff = time.time() - older_than_seconds
    removed = 0
    for path in parent.glob(f"{prefix}*"):
        try:
            if path.is_dir() and not path.is_symlink() and path.stat().st_mtime < cutoff:
                shutil.rmtree(path)
                removed += 1
        except OSError:
            continue  # another process's, or already gone
    return removed


def spool_upload(stream: BinaryIO, run: Intake) -> tuple[Path, str, int]:
    """Copy ``stream`` to a file of ``run`` in chunks; return its path, SHA-256 and size.

    :raises InvalidScanError: ``scan_corrupt`` (the stream cannot be read),
        ``scan_too_large`` (past ``max_bytes``: reading stops there), ``scan_empty``.
    :raises ScratchFullError: the work directory's disk is full (the scan is not at fault).
    """
    fd, path = run.create_file("upload-")
    hasher = hashlib.sha256()
    size = 0
    with scratch_writes(), os.fdopen(fd, "wb") as out:
        while True:
            try:
                chunk = stream.read(CHUNK)
            except (OSError, ValueError) as exc:
                raise refusals.corrupt("the upload could not be read") from exc
            if not chunk:
                break
            size += len(chunk)
            if size > run.limits.max_bytes:
                raise refusals.too_large(run.limits)
            hasher.update(chunk)
            out.write(chunk)
    if size == 0:
        raise refusals.empty_file()
    return path, hasher.hexdigest(), size


def sniff(head: bytes) -> str:
    """The scan's type from its first bytes: ``jpeg``, ``png``, ``tiff`` or ``pdf``.

    :raises InvalidScanError: ``scan_type_unsupported``.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    # The header must open the file: a PDF behind other bytes is a polyglot, not a scan.
    if head.startswith(b"%PDF-"):
        return "pdf"
    raise refusals.unsupported("unknown magic bytes")


def file_digest(path: Path) -> tuple[str, int]:
    """SHA-256 and size of the file at ``path``, read in chunks."""
    hasher = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            hasher.update(chunk)
            size += len(chunk)
    return hasher.hexdigest(), size
