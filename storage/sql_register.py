"""The register (sổ chứng thực) on SQLAlchemy: ``SqlRegister`` implements the domain's
``certify.ports.RegisterRepository`` on SQLite or PostgreSQL.

Numbering, its transaction and its locks are described in ``storage.numbering``.

Parts, by what they hold: ``storage.numbering`` (the transaction, numbers and entries),
``storage.requests``, ``storage.request_items`` (the originals of a request at the desk),
``storage.officers`` (provinces, authorities, officers), ``storage.officer_list``,
``storage.api_tokens``, ``storage.desk_sessions`` (page sessions, download links),
``storage.bookings`` (bookings, payments, delivery), ``storage.outbox`` (e-mail to send),
``storage.preservation_store`` (stored versions of copies, archive states, leases),
``storage.audit_chain``, and ``storage.sql_base`` (sessions, error translation).

Every method translates SQLAlchemy errors: integrity violations and lock conflicts become
``RegisterConflictError``, an unreachable or busy database ``DatabaseUnavailableError``.
"""

from __future__ import annotations

from certify.ports import RequestRecord
from storage.api_tokens import ApiTokens
from storage.audit_chain import GENESIS_HASH, AuditChain, audit_hash
from storage.bookings import Bookings
from storage.desk_sessions import DeskSessions
from storage.numbering import Documents, SqlRegisterTransaction
from storage.officer_list import OfficerList
from storage.officers import OfficerLogin, Officers
from storage.outbox import OutboxStore
from storage.preservation_store import PreservationStore
from storage.request_items import RequestItems
from storage.requests import Requests

__all__ = [
    "GENESIS_HASH",
    "OfficerLogin",
    "RequestRecord",
    "SqlRegister",
    "SqlRegisterTransaction",
    "audit_hash",
]


class SqlRegister(
    Documents,
    Requests,
    RequestItems,
    Bookings,
    OutboxStore,
    PreservationStore,
    Officers,
    OfficerList,
    ApiTokens,
    DeskSessions,
    AuditChain,
):
    """The register database (``certify.ports.RegisterRepository``) on SQLAlchemy: one
    engine, the parts above as one object."""
