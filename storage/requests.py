"""Requests (hồ sơ): who asked for a certified copy, their status and dates. Holds
personal data (requesters' names and ID numbers): never log it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from certify.errors import InvalidInputError, NotFoundError
from certify.ports import RequestRecord
from storage.database import REQUEST_STATUSES, Authority, Document, Request
from storage.sql_base import SqlBase, aware


def request_record(req: Request) -> RequestRecord:
    return RequestRecord(
        code=req.code,
        authority_code=req.authority_code,
        requester_name=req.requester_name,
        requester_id_number=req.requester_id_number,
        requester_contact=req.requester_contact,
        status=req.status,
        refusal_code=req.refusal_code,
        refusal_note=req.refusal_note,
        created_at=req.created_at,
        received_at=req.received_at,
        due_at=req.due_at,
        extended_to=req.extended_to,
        tracking_code=req.tracking_code,
        requester_email=req.requester_email,
        requester_phone=req.requester_phone,
        ready_at=req.ready_at,
        delivered_at=req.delivered_at,
    )


class Requests(SqlBase):
    """Creating, reading and updating requests."""

    def add_request(
        self,
        code: str,
        *,
        authority_code: str,
        requester_name: str,
        requester_id_number: str,
        requester_contact: str | None = None,
        status: str = "received",
        created_at: dt.datetime | None = None,
        received_at: dt.datetime | None = None,
        due_at: dt.datetime | None = None,
    ) -> RequestRecord:
        """Create a request with its tracking ``code``.

        Raises ``InvalidInputError`` (bad status, naive time), ``NotFoundError`` (unknown
        authority), ``RegisterConflictError`` (code taken).
        """
        if status not in REQUEST_STATUSES:
            raise InvalidInputError(f"Trạng thái không hợp lệ. / Unknown status {status!r}.")
        for name, value in (("received_at", received_at), ("due_at", due_at)):
            if value is not None:
                aware(value, name)
        created = aware(created_at, "created_at") if created_at else dt.datetime.now(dt.UTC)
        with self._session(write=True) as session:
            if session.get(Authority, authority_code) is None:
                raise NotFoundError("Không có cơ quan này. / No such authority.")
            request = Request(
                code=code,
                authority_code=authority_code,
                requester_name=requester_name,
                requester_id_number=requester_id_number,
                requester_contact=requester_contact,
                status=status,
                created_at=created,
                received_at=received_at,
                due_at=due_at,
            )
            session.add(request)
            session.flush()
            return request_record(request)

    def remove_request_without_documents(self, code: str) -> bool:
        """Delete request ``code`` if no register entry refers to it (a request made for a
        certification that was then refused). Returns whether it was deleted."""
        with self._session(write=True) as session:
            request = session.execute(
                select(Request).where(Request.code == code).with_for_update()
            ).scalar_one_or_none()
            if request is None:
                return False
            used = session.execute(
                select(Document.id).where(Document.request_id == request.id).limit(1)
            ).first()
            if used is not None:
                return False
            session.delete(request)
            return True

    def get_request(self, code: str) -> RequestRecord:
        """The request with tracking ``code``. Raises ``NotFoundError``."""
        with self._session(write=False) as session:
            request = session.execute(
                select(Request).where(Request.code == code)
            ).scalar_one_or_none()
            if request is None:
                raise NotFoundError("Không tìm thấy hồ sơ. / No such request.")
            return request_record(request)

    def update_request(self, code: str, **changes: Any) -> RequestRecord:
        """Change a request's status and dates: ``status``, ``refusal_code``,
        ``refusal_note``, ``requester_contact``, ``received_at``, ``due_at``,
        ``extended_to``. The domain decides which transitions are allowed.

        Raises ``InvalidInputError`` (unknown field or status, naive time), ``NotFoundError``,
        ``RegisterConflictError`` (a value the schema refuses, e.g. unknown refusal code).
        """
        allowed = {
            "status",
            "refusal_code",
            "refusal_note",
            "requester_contact",
            "received_at",
            "due_at",
            "extended_to",
        }
        unknown = set(changes) - allowed
        if unknown:
            raise InvalidInputError(f"Cannot change {sorted(unknown)}.")
        if "status" in changes and changes["status"] not in REQUEST_STATUSES:
            raise InvalidInputError(
                f"Trạng thái không hợp lệ. / Unknown status {changes['status']!r}."
            )
        for name in ("received_at", "due_at", "extended_to"):
            if changes.get(name) is not None:
                aware(changes[name], name)
        with self._session(write=True) as session:
            request = session.execute(
                select(Request).where(Request.code == code).with_for_update()
            ).scalar_one_or_none()
            if request is None:
                raise NotFoundError("Không tìm thấy hồ sơ. / No such request.")
            for name, value in changes.items():
                setattr(request, name, value)
            session.flush()
            return request_record(request)
