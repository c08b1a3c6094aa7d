"""What every part of the register database shares: SQLAlchemy errors translated into the
service's, timezone checks, and the session handling of :class:`SqlBase`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from certify.errors import (
    CertifyError,
    DatabaseUnavailableError,
    InvalidInputError,
    RegisterConflictError,
)
from storage.database import for_writing, is_unavailable

# SQLSTATE class 40: the transaction was rolled back (serialization failure, deadlock).
_RETRYABLE_SQLSTATE_PREFIX = "40"


@contextmanager
def translated() -> Iterator[None]:
    """Translate SQLAlchemy errors into the service's errors (STYLE: at the edge)."""
    try:
        yield
    except CertifyError:
        raise
    except IntegrityError as exc:
        raise RegisterConflictError() from exc
    except DataError as exc:
        raise InvalidInputError() from exc
    except SQLAlchemyError as exc:
        sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_RETRYABLE_SQLSTATE_PREFIX):
            raise RegisterConflictError() from exc
        if is_unavailable(exc):
            raise DatabaseUnavailableError() from exc
        raise CertifyError(code="database_error") from exc


def aware(value: dt.datetime, name: str) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInputError(f"{name} must be timezone-aware")
    return value


class SqlBase:
    """The engine and session handling the register's parts share.

    The engine comes from ``storage.database.make_engine`` (the SQLite BEGIN handling
    depends on it) and is not disposed of here: its owner does that.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._write_engine = for_writing(engine)

    @property
    def engine(self) -> Engine:
        return self._engine

    @contextmanager
    def _session(self, *, write: bool) -> Iterator[Session]:
        engine = self._write_engine if write else self._engine
        with (
            translated(),
            Session(engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session
