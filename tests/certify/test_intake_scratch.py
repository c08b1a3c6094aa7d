"""Intake on a full scratch disk (issue 13.4): the disk's fault is ``scratch_full``, never a
refusal of the scan (``scan_corrupt`` from a decoder's catch-all), and nothing is left."""

from __future__ import annotations

import errno
import io
import os
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from certify import scan_images
from certify.errors import UnavailableError
from certify.intake import ScanLimits, ScratchFullError, read_scan, scratch_writes
from certify.intake import model as intake_model
from certify.intake import spool as intake_spool
from tests.certify.conftest import image_pdf_bytes, jpeg_bytes, png_bytes, tiff_bytes

LIMITS = ScanLimits()


class _FullFile(io.RawIOBase):
    """A file opened on a full disk: every write fails with ENOSPC."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def writable(self) -> bool:
        return True

    def write(self, _data: Any) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


def _full_os() -> types.SimpleNamespace:
    """``os`` as a module that writes through ``os.fdopen`` sees it on a full disk."""
    return types.SimpleNamespace(fdopen=lambda fd, *_a, **_k: _FullFile(fd))


def _spool_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intake_spool, "os", _full_os())


def _pages_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intake_model, "os", _full_os())


def _sanitize_full(monkeypatch: pytest.MonkeyPatch) -> None:
    def full(_path: Path, _kind: str) -> bool:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(scan_images, "sanitize", full)


@pytest.mark.parametrize(
    ("scan", "disk_full"),
    [
        pytest.param(lambda: jpeg_bytes(dpi=300), _spool_full, id="spooling-the-upload"),
        pytest.param(lambda: tiff_bytes(2), _pages_full, id="tiff-page-files"),
        # Inside the PDF reader's and Pillow's catch-alls, which refuse hostile input.
        pytest.param(
            lambda: image_pdf_bytes(jpeg_bytes(dpi=300)), _pages_full, id="pdf-page-files"
        ),
        pytest.param(lambda: jpeg_bytes(dpi=300), _sanitize_full, id="jpeg-rewrite"),
        pytest.param(lambda: png_bytes(dpi=300), _sanitize_full, id="png-rewrite"),
    ],
)
def test_a_full_scratch_disk_is_scratch_full_not_a_refusal_and_leaves_nothing(
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    scan: Callable[[], bytes],
    disk_full: Callable[[pytest.MonkeyPatch], None],
) -> None:
    data = scan()
    disk_full(monkeypatch)

    with pytest.raises(ScratchFullError) as raised:
        read_scan(io.BytesIO(data), LIMITS, workdir)

    assert raised.value.code == "scratch_full"
    assert isinstance(raised.value, UnavailableError)  # the server's state: retry later
    assert isinstance(raised.value.__cause__, OSError)
    assert list(workdir.iterdir()) == []


def test_scratch_writes_passes_other_errors_unchanged() -> None:
    with pytest.raises(PermissionError), scratch_writes():
        raise PermissionError(errno.EACCES, "denied")
    with pytest.raises(ScratchFullError), scratch_writes():
        raise OSError(errno.EDQUOT, "quota")
