"""The PKI's certificate index in the register database (keys.index_store.IndexStore).

One row (``pki_index``, id 1) holds the index as JSON with a version that every write bumps.
:meth:`SqlIndexStore.locked` is one write transaction for the whole change: the row is
locked (PostgreSQL: ``SELECT ... FOR UPDATE``, and an advisory lock while the row does not
exist yet; SQLite: ``BEGIN IMMEDIATE``), read and written on that transaction's connection,
and committed when the change is complete, so no two processes or replicas interleave.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from certify.errors import DatabaseUnavailableError
from storage.database import PkiIndex, for_writing

_ROW = 1
# PostgreSQL advisory lock key ("certpkix"): serialises the first write, before the row exists.
_ADVISORY_KEY = 0x6365727470_6B6978


class SqlIndexStore:
    """The PKI index in the register database. Thread-safe; one engine per process."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._local = threading.local()

    @property
    def engine(self) -> Engine:
        """The engine it uses (its owner disposes of it)."""
        return self._engine

    def _conn(self) -> Connection | None:
        conn: Connection | None = getattr(self._local, "conn", None)
        return conn

    def version(self) -> object | None:
        with self._reading() as conn:
            return conn.execute(
                select(PkiIndex.version).where(PkiIndex.id == _ROW)
            ).scalar_one_or_none()

    def read(self) -> tuple[dict[str, Any], object]:
        """Raises ValueError when there is no index or it is not a JSON object."""
        with self._reading() as conn:
            row = conn.execute(
                select(PkiIndex.document, PkiIndex.version).where(PkiIndex.id == _ROW)
            ).one_or_none()
        if row is None:
            raise ValueError("no PKI index in the database")
        index = json.loads(row.document)
        if not isinstance(index, dict):
            raise ValueError("the PKI index is not a JSON object")  # noqa: TRY004 - bad data
        return index, row.version

    def write(self, index: dict[str, Any]) -> object:
        document = json.dumps(index, ensure_ascii=False)
        conn = self._conn()
        if conn is None:
            with self.locked():
                return self.write(index)
        try:
            current = conn.execute(
                select(PkiIndex.version).where(PkiIndex.id == _ROW)
            ).scalar_one_or_none()
            version = (current or 0) + 1
            if current is None:
                conn.execute(insert(PkiIndex).values(id=_ROW, document=document, version=version))
            else:
                conn.execute(
                    update(PkiIndex)
                    .where(PkiIndex.id == _ROW)
                    .values(document=document, version=version)
                )
        except SQLAlchemyError as exc:
            raise DatabaseUnavailableError() from exc
        return version

    @contextmanager
    def locked(self) -> Iterator[None]:
        if self._conn() is not None:  # already inside this thread's change
            yield
            return
        try:
            with for_writing(self._engine).begin() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_KEY})
                    conn.execute(select(PkiIndex.id).where(PkiIndex.id == _ROW).with_for_update())
                self._local.conn = conn
                try:
                    yield
                finally:
                    self._local.conn = None
        except SQLAlchemyError as exc:
            raise DatabaseUnavailableError() from exc

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        conn = self._conn()
        if conn is not None:
            yield conn
            return
        try:
            with self._engine.connect() as fresh:
                yield fresh
        except SQLAlchemyError as exc:
            raise DatabaseUnavailableError() from exc
