"""The register (sổ chứng thực) on SQLAlchemy: ``SqlRegister`` implements the domain's
``certify.ports.RegisterRepository`` on SQLite or PostgreSQL.

Numbering (NĐ 23/2015 art. 13, art. 20; TT 01/2020 art. 4): numbers run from 1 per
(authority, register type, year) with no gaps and no duplicates. The number is taken and the
entry written in one transaction, together with its audit event:

    with register.transaction() as tx:
        number = tx.next_number("79-tanphu", "SCT/BS", 2026)   # locks the counter
        tx.add_document(entry_with(number))                     # moves the counter
        tx.append_audit(AuditRecord(...))                        # chained audit event
    # committed here; any exception inside rolls everything back, the number included

Concurrency: on PostgreSQL the counter row is locked (``SELECT ... FOR UPDATE``) until the
transaction ends, and audit appends are serialised by a transaction-scoped advisory lock; on
SQLite every register transaction begins IMMEDIATE and so holds the database's write lock.
Take locks in that order (counter, then audit) so that transactions cannot deadlock.

Requests: a document's ``request_code`` must name an existing request (``add_request``) of
the same authority. The register is not auto-filled with an empty requester: the monthly
print needs the requester's name (TT 01/2020 art. 4), so a missing request is an error
(``NotFoundError``) rather than a silently created blank row.

Parts, by what they hold: ``storage.numbering`` (the transaction, numbers and entries),
``storage.requests``, ``storage.officers`` (provinces, authorities, officers),
``storage.audit_chain``, and ``storage.sql_base`` (sessions, error translation).

Every method translates SQLAlchemy errors: integrity violations and lock conflicts become
``RegisterConflictError``, an unreachable or busy database ``DatabaseUnavailableError``.
"""

from __future__ import annotations

from storage.api_tokens import ApiTokens
from storage.audit_chain import GENESIS_HASH, AuditChain, audit_hash
from storage.numbering import Documents, SqlRegisterTransaction
from storage.officers import OfficerLogin, Officers
from storage.requests import RequestRecord, Requests

__all__ = [
    "GENESIS_HASH",
    "OfficerLogin",
    "RequestRecord",
    "SqlRegister",
    "SqlRegisterTransaction",
    "audit_hash",
]


class SqlRegister(Documents, Requests, Officers, ApiTokens, AuditChain):
    """The register database (``certify.ports.RegisterRepository``) on SQLAlchemy: one
    engine, the parts above as one object."""
