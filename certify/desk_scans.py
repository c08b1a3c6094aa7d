"""The scans uploaded at the desk, between upload and certification (issue 11.2).

Each upload goes through intake's checks and limits (``certify.intake.read_scan``) before
anything is kept; then the files as uploaded and a small PNG preview of every page are
stored in the ``scans`` bucket under ``desk/{authority}/{request}/{original}/{batch}/``.
The certifier reviews the previews; certifying reads the files back and takes them in again
(``CertificationService.certify_scans``), so what is signed passed the same checks. The batch
is removed once the original is certified or refused, or replaced by a new upload.
"""

from __future__ import annotations

import contextlib
import io
import secrets
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Final

from PIL import Image

from certify.errors import CertifyError, InvalidScanError, NotFoundError, ObjectNotFoundError
from certify.intake import INTAKE_PREFIX, IntakeResult, ScanLimits, read_scan
from certify.ports import ObjectStore

PREFIX: Final = "desk"
PREVIEW_WIDTH: Final = 640  # pixels: legible on a desk screen, light on a phone
_CHUNK: Final = 1024 * 1024


@dataclass(frozen=True)
class StoredScan:
    """An accepted upload: its file keys in page order, pages, hashes, intake's warnings."""

    keys: tuple[str, ...]
    pages: int
    sha256s: tuple[str, ...]
    warnings: list[str] = field(default_factory=list)


def batch_prefix(keys: Sequence[str]) -> str:
    """The folder of an upload's objects (its files and previews)."""
    return keys[0].rsplit("/", 1)[0] + "/"


class DeskScans:
    """Uploads of the desk in the ``scans`` bucket."""

    def __init__(self, store: ObjectStore, limits: ScanLimits) -> None:
        self._store = store
        self.limits = limits

    def take_in(
        self,
        authority_code: str,
        request_code: str,
        position: int,
        files: Sequence[BinaryIO],
        workdir: Path,
    ) -> StoredScan:
        """Check ``files`` (pages in order) with intake and store them with previews.

        Raises:
            InvalidScanError: a file was refused, or the pages exceed the limit; nothing kept.
            StorageUnavailableError: nothing kept (what was stored is removed again).
        """
        if not files:
            raise InvalidScanError("Chưa chọn tệp quét nào. / No scan file was chosen.")
        batch = f"{PREFIX}/{authority_code}/{request_code}/{position}/{secrets.token_hex(8)}"
        bucket = self._store.scans_bucket
        keys: list[str] = []
        hashes: list[str] = []
        warnings: list[str] = []
        pages = 0
        workdir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=INTAKE_PREFIX, dir=workdir) as tmp:
            try:
                for n, upload in enumerate(files, start=1):
                    spooled = Path(tmp) / f"file-{n}"
                    self._spool(upload, spooled)
                    with spooled.open("rb") as fh:
                        result = read_scan(fh, self.limits, Path(tmp))
                    try:
                        if pages + len(result.pages) > self.limits.max_pages:
                            raise InvalidScanError(
                                f"Quá {self.limits.max_pages} trang. / More than "
                                f"{self.limits.max_pages} pages.",
                                code="scan_too_many_pages",
                            )
                        self._store_previews(result, batch, first=pages + 1)
                        pages += len(result.pages)
                        hashes.append(result.sha256_of_file)
                        warnings.extend(result.warnings)
                    finally:
                        result.cleanup()
                    with spooled.open("rb") as fh:
                        stored = self._store.put_stream(bucket, f"{batch}/file-{n}", fh)
                    keys.append(stored.key)
            except BaseException:
                self._remove_prefix(batch + "/")
                raise
        return StoredScan(tuple(keys), pages, tuple(hashes), warnings)

    def preview(self, keys: Sequence[str], page: int) -> bytes:
        """The PNG preview of page ``page`` (from 1). Raises ``NotFoundError``."""
        if not keys or page < 1:
            raise NotFoundError("Không có trang này. / No such page.")
        key = f"{batch_prefix(keys)}preview-{page}.png"
        try:
            with self._store.open(self._store.scans_bucket, key) as fh:
                return fh.read()
        except ObjectNotFoundError:
            raise NotFoundError("Không có trang này. / No such page.") from None

    @contextlib.contextmanager
    def opened(self, keys: Sequence[str], workdir: Path) -> Iterator[list[BinaryIO]]:
        """The uploaded files, read back from the bucket into temporary files, open."""
        if not keys:
            raise InvalidScanError("Chưa có bản quét. / No scan was uploaded.")
        workdir.mkdir(parents=True, exist_ok=True)
        with (
            tempfile.TemporaryDirectory(prefix=INTAKE_PREFIX, dir=workdir) as tmp,
            contextlib.ExitStack() as stack,
        ):
            files: list[BinaryIO] = []
            for n, key in enumerate(keys, start=1):
                path = Path(tmp) / f"file-{n}"
                with path.open("wb") as out:
                    for chunk in self._store.iter_chunks(self._store.scans_bucket, key):
                        out.write(chunk)
                files.append(stack.enter_context(path.open("rb")))
            yield files

    def remove(self, keys: Sequence[str]) -> None:
        """Remove an upload's files and previews; a failure is left to ``certify reconcile``'s
        sweep of old objects, never raised (the action it follows has succeeded)."""
        if keys:
            with contextlib.suppress(CertifyError):
                self._remove_prefix(batch_prefix(keys))

    def _remove_prefix(self, prefix: str) -> None:
        bucket = self._store.scans_bucket
        for key, _modified in list(self._store.list_objects(bucket, prefix)):
            self._store.remove(bucket, key)

    def _spool(self, upload: BinaryIO, path: Path) -> None:
        """Copy at most ``max_bytes + 1`` bytes: intake then refuses what is too large."""
        left = self.limits.max_bytes + 1
        with path.open("wb") as out:
            while left > 0:
                chunk = upload.read(min(_CHUNK, left))
                if not chunk:
                    break
                out.write(chunk)
                left -= len(chunk)

    def _store_previews(self, result: IntakeResult, batch: str, *, first: int) -> None:
        for n, page in enumerate(result.pages, start=first):
            with Image.open(page.path) as im:
                im.draft("RGB", (PREVIEW_WIDTH, PREVIEW_WIDTH * 2))  # JPEG: decode smaller
                small = im.convert("L") if im.mode in ("1", "L", "P") else im.convert("RGB")
                small.thumbnail((PREVIEW_WIDTH, PREVIEW_WIDTH * 2))
                out = io.BytesIO()
                small.save(out, format="PNG", optimize=False)
            out.seek(0)
            self._store.put_stream(
                self._store.scans_bucket,
                f"{batch}/preview-{n}.png",
                out,
                content_type="image/png",
            )


__all__ = ["DeskScans", "StoredScan", "batch_prefix"]
