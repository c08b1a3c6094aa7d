"""The scratch directory's one fault of its own: no space left.

Intake writes the spooled upload and the page files into a work directory under the
system's temporary directory (``TMPDIR``, an ``emptyDir`` in Kubernetes). When that disk is
full the scan is not at fault: the answer must not be a refusal of the scan (``scan_corrupt``
from a decoder's catch-all) nor a 500, but :class:`ScratchFullError`, and nothing is kept.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from certify.errors import UnavailableError

# No space left on the device, or the user's quota on it exceeded.
DISK_FULL_ERRNOS: Final = frozenset({errno.ENOSPC, errno.EDQUOT})


class ScratchFullError(UnavailableError):
    """The server's scratch directory has no space left for a scan or a copy on its way.
    Nothing was kept (no number taken, no object stored); retrying later may work."""

    code = "scratch_full"
    default_message = (
        "Bộ nhớ tạm của máy chủ đã đầy: chưa có gì được lưu, vui lòng thử lại sau. / "
        "The server's scratch disk is full: nothing was kept; please try again later."
    )


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` is an ``OSError`` saying the disk (or the quota) is full."""
    return isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS


@contextmanager
def scratch_writes() -> Iterator[None]:
    """Translate a full scratch disk into :class:`ScratchFullError` (raised from it);
    every other error passes unchanged.

    :raises ScratchFullError: ``ENOSPC`` or ``EDQUOT`` inside.
    """
    try:
        yield
    except OSError as exc:
        if is_disk_full(exc):
            raise ScratchFullError() from exc
        raise
