"""What intake takes and gives: its limits, the page images it made, and one run's context."""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Final

from certify.intake.scratch import scratch_writes

MiB: Final = 1024 * 1024
DEFAULT_DPI: Final = 300.0

_CONTENT_TYPES: Final = {"jpeg": "image/jpeg", "png": "image/png"}


@dataclass(frozen=True)
class ScanLimits:
    """What intake accepts. The defaults suit A4/A3 originals scanned at 200–600 dpi."""

    max_bytes: int = 50 * MiB
    max_pages: int = 200
    max_page_pixels: int = 120_000_000
    min_dpi: int = 200


@dataclass(frozen=True)
class ScanPage:
    """One page image, ready to be embedded by img2pdf.

    ``kind`` is the format of the file at ``path``: ``"jpeg"`` (byte-exact as scanned) or
    ``"png"`` (the original PNG, or a lossless PNG made from a TIFF frame or a PDF image).
    ``sha256`` is the hash of the bytes at ``path``; ``dpi`` is the lower of the horizontal
    and vertical resolution that sized the page (``DEFAULT_DPI`` when the scan had none).
    """

    index: int
    kind: str
    width_px: int
    height_px: int
    dpi: float
    width_pt: float
    height_pt: float
    sha256: str
    size: int
    path: Path

    @property
    def content_type(self) -> str:
        return _CONTENT_TYPES.get(self.kind, "application/octet-stream")

    def open(self) -> BinaryIO:
        """Open the page image for reading (binary). The caller closes it."""
        return self.path.open("rb")

    def read_bytes(self) -> bytes:
        return self.path.read_bytes()


@dataclass
class IntakeResult:
    """The accepted scan. Its page files live in the work directory until :meth:`cleanup`."""

    pages: list[ScanPage]
    sha256_of_file: str
    size: int
    kind: str
    warnings: list[str] = field(default_factory=list)
    _files: list[Path] = field(default_factory=list, repr=False)

    def cleanup(self) -> None:
        """Delete the spooled upload and the page files made from it."""
        for path in self._files:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        self._files.clear()


@dataclass
class Intake:
    """One run of :func:`~certify.intake.read_scan`, handed down to every step.

    It holds the run's limits and work directory, every file the run made (the spooled upload
    and the page files: deleted if the run fails, else by :meth:`IntakeResult.cleanup`) and
    the warnings for the officer, in the order they arose.
    """

    limits: ScanLimits
    workdir: Path
    files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def create_file(self, prefix: str) -> tuple[int, Path]:
        """Create an empty file of this run (``prefix`` then random) and return its open
        descriptor and path. The caller writes (under :func:`scratch_writes`) and closes it.

        :raises ScratchFullError: the work directory's disk is full.
        """
        with scratch_writes():
            fd, name = tempfile.mkstemp(prefix=prefix, dir=self.workdir)
        path = Path(name)
        self.files.append(path)
        return fd, path

    def write_page_file(self, index: int, data: bytes) -> Path:
        """Write ``data`` as a page file of this run (``page-{index + 1}-…``).

        :raises ScratchFullError: the work directory's disk is full.
        """
        fd, path = self.create_file(f"page-{index + 1}-")
        with scratch_writes(), os.fdopen(fd, "wb") as out:
            out.write(data)
        return path

    def remove_files(self) -> None:
        """Delete every file this run made (what a failed run leaves behind)."""
        for path in self.files:
            with contextlib.suppress(OSError):
                path.unlink()
        self.files.clear()
