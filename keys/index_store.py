"""Where the PKI's certificate index lives: one JSON document, read and replaced whole, under
an exclusive lock across processes while it changes.

:class:`FileIndexStore` keeps it in ``index.json`` beside the keys (``index.lock`` for the
lock); ``storage.pki_index.SqlIndexStore`` keeps it in the register database, where every
replica of the service shares it and a change is one transaction (issue 8.1).
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from keys._crypto import write_file


class IndexStore(Protocol):
    """The PKI index's home. ``version`` changes on every write (None: no index yet)."""

    def version(self) -> object | None: ...

    def read(self) -> tuple[dict[str, Any], object]: ...

    def write(self, index: dict[str, Any]) -> object: ...

    def locked(self) -> Any:
        """A context manager holding the index exclusively (all processes) until it exits;
        ``read`` and ``write`` inside it see and make the change."""
        ...


class FileIndexStore:
    """``index.json`` in the PKI directory, replaced atomically; ``index.lock`` is locked
    with ``flock`` while it changes."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / "index.json"
        self._lock_path = Path(directory) / "index.lock"

    def version(self) -> object | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        # Replaced atomically (a new inode) on every write, whatever the clock's resolution.
        return (st.st_ino, st.st_mtime_ns)

    def read(self) -> tuple[dict[str, Any], object]:
        """Raises OSError or ValueError for a missing or unreadable index."""
        version = self.version()
        index = json.loads(self.path.read_text(encoding="utf-8"))
        if not isinstance(index, dict):
            raise ValueError("the PKI index is not a JSON object")  # noqa: TRY004 - bad data
        return index, version

    def write(self, index: dict[str, Any]) -> object:
        data = json.dumps(index, ensure_ascii=False, indent=2).encode("utf-8")
        write_file(self.path, data)
        version = self.version()
        assert version is not None  # noqa: S101 - just written
        return version

    @contextmanager
    def locked(self) -> Iterator[None]:
        self._lock_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
