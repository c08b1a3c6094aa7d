"""The originals of a request at the desk (``request_items``, issue 11.2): received with
the request, checked or refused, scanned, certified. Each change is one transaction with its
audit event, and the request's own status follows its originals (every original refused:
refused; every original finished and one certified: certified).

Holds personal data through the requests it joins: never log it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from certify.errors import InvalidInputError, NotFoundError, RegisterConflictError
from certify.ports import AuditRecord, ItemRecord, RequestRecord
from storage.audit_chain import append_event
from storage.database import ITEM_STATUSES, Authority, Document, Request, RequestItem
from storage.requests import request_record
from storage.sql_base import SqlBase, aware

# What a desk change may set on an original.
_CHANGEABLE = frozenset(
    {
        "status",
        "checked_by",
        "checked_at",
        "refusal_code",
        "refusal_note",
        "scan_keys",
        "scan_pages",
    }
)
_FINISHED = ("refused", "certified")


def item_record(item: RequestItem, request_code: str, issued_at: dt.datetime | None) -> ItemRecord:
    closed_at = issued_at if item.status == "certified" else None
    if item.status == "refused":
        closed_at = item.checked_at
    return ItemRecord(
        request_code=request_code,
        position=item.position,
        document_name=item.document_name,
        pages=item.pages,
        copies=item.copies,
        status=item.status,
        checked_by=item.checked_by,
        checked_at=item.checked_at,
        refusal_code=item.refusal_code,
        refusal_note=item.refusal_note,
        scan_keys=tuple(json.loads(item.scan_keys)) if item.scan_keys else (),
        scan_pages=item.scan_pages,
        document_id=item.document_id,
        closed_at=closed_at,
    )


def items_select() -> Any:
    return (
        select(RequestItem, Request.code, Document.issued_at)
        .join(Request, RequestItem.request_id == Request.id)
        .outerjoin(Document, RequestItem.document_id == Document.id)
    )


def add_with_items(
    session: Session, request: Request, items: Sequence[tuple[str, int, int]], *, status: str
) -> list[RequestItem]:
    """Add ``request`` and its originals ``(document name, pages, copies)``, numbered from 1,
    all in ``status``, to ``session``."""
    session.add(request)
    session.flush()
    rows = [
        RequestItem(
            request_id=request.id,
            position=n,
            document_name=name,
            pages=pages,
            copies=copies,
            status=status,
        )
        for n, (name, pages, copies) in enumerate(items, start=1)
    ]
    session.add_all(rows)
    return rows


def settle_request_status(session: Session, request: Request) -> None:
    """Give ``request`` the status its originals make: refused when all were refused,
    certified when all are finished and one was certified; else it stays as it is."""
    statuses = list(
        session.execute(
            select(RequestItem.status).where(RequestItem.request_id == request.id)
        ).scalars()
    )
    if statuses and all(s in _FINISHED for s in statuses):
        request.status = "certified" if "certified" in statuses else "refused"


class RequestItems(SqlBase):
    """Requests received at the desk with their originals, and the changes to them."""

    def add_request_with_items(
        self,
        code: str,
        *,
        authority_code: str,
        requester_name: str,
        requester_id_number: str,
        requester_contact: str | None,
        received_at: dt.datetime,
        due_at: dt.datetime | None,
        items: Sequence[tuple[str, int, int]],
        audit: AuditRecord | None = None,
        tracking_code: str | None = None,
        requester_email: str | None = None,
    ) -> tuple[RequestRecord, list[ItemRecord]]:
        """Create a received request with its originals ``(document name, pages, copies)``,
        its citizen's tracking code and e-mail, and its audit event, in one transaction.

        Raises ``InvalidInputError`` (no originals, naive time), ``NotFoundError`` (unknown
        authority), ``RegisterConflictError`` (code taken).
        """
        if not items:
            raise InvalidInputError("Hồ sơ chưa có bản chính nào. / The request lists no original.")
        aware(received_at, "received_at")
        with self._session(write=True) as session:
            if session.get(Authority, authority_code) is None:
                raise NotFoundError("Không có cơ quan này. / No such authority.")
            request = Request(
                code=code,
                authority_code=authority_code,
                requester_name=requester_name,
                requester_id_number=requester_id_number,
                requester_contact=requester_contact,
                tracking_code=tracking_code,
                requester_email=requester_email,
                status="received",
                created_at=received_at,
                received_at=received_at,
                due_at=due_at,
            )
            rows = add_with_items(session, request, items, status="received")
            if audit is not None:
                append_event(session, audit)
            session.flush()
            return request_record(request), [item_record(r, code, None) for r in rows]

    def request_items(self, code: str) -> list[ItemRecord]:
        """The originals of request ``code`` in order (none for a request made without the
        desk)."""
        with self._session(write=False) as session:
            rows = session.execute(
                items_select().where(Request.code == code).order_by(RequestItem.position)
            )
            return [item_record(item, rc, issued) for item, rc, issued in rows]

    def items_of_requests(self, codes: Sequence[str]) -> dict[str, list[ItemRecord]]:
        """The originals of several requests, a few queries for all (the queue), by request code."""
        found: dict[str, list[ItemRecord]] = {code: [] for code in codes}
        if not codes:
            return found
        wanted = list(found)
        with self._session(write=False) as session:
            for start in range(0, len(wanted), 500):  # within every backend's bound parameters
                rows = session.execute(
                    items_select()
                    .where(Request.code.in_(wanted[start : start + 500]))
                    .order_by(RequestItem.request_id, RequestItem.position)
                )
                for item, rc, issued in rows:
                    found[rc].append(item_record(item, rc, issued))
        return found

    def update_item(
        self,
        code: str,
        position: int,
        *,
        expect: Collection[str],
        audit: AuditRecord | None = None,
        **changes: Any,
    ) -> ItemRecord:
        """Change original ``position`` of request ``code`` if its status is one of
        ``expect`` (checked under a row lock: two officers cannot both move it), with its
        audit event, in one transaction; the request's status follows.

        Raises ``NotFoundError``, ``InvalidInputError`` (unknown field or status),
        ``RegisterConflictError`` (code ``item_state``: the original is no longer in an
        expected status).
        """
        unknown = set(changes) - _CHANGEABLE
        if unknown:
            raise InvalidInputError(f"Cannot change {sorted(unknown)}.")
        if "status" in changes and changes["status"] not in ITEM_STATUSES:
            raise InvalidInputError(f"Unknown status {changes['status']!r}.")
        if changes.get("checked_at") is not None:
            aware(changes["checked_at"], "checked_at")
        if "scan_keys" in changes:
            keys = changes["scan_keys"]
            changes["scan_keys"] = json.dumps(list(keys)) if keys else None
        with self._session(write=True) as session:
            request = session.execute(
                select(Request).where(Request.code == code).with_for_update()
            ).scalar_one_or_none()
            if request is None:
                raise NotFoundError("Không tìm thấy hồ sơ. / No such request.")
            item = session.execute(
                select(RequestItem)
                .where(RequestItem.request_id == request.id, RequestItem.position == position)
                .with_for_update()
            ).scalar_one_or_none()
            if item is None:
                raise NotFoundError("Không tìm thấy bản chính này. / No such original.")
            if item.status not in expect:
                raise RegisterConflictError(
                    f"Bản chính đang ở trạng thái “{item.status}”, không làm được việc này. / "
                    f"The original is “{item.status}”; this cannot be done now.",
                    code="item_state",
                )
            for name, value in changes.items():
                setattr(item, name, value)
            session.flush()
            settle_request_status(session, request)
            if audit is not None:
                append_event(session, audit)
            session.flush()
            return item_record(item, code, None)

    def open_requests(self, authority_code: str) -> list[RequestRecord]:
        """The authority's requests still being worked on, soonest deadline first (those
        without a due time last)."""
        deadline = func.coalesce(Request.extended_to, Request.due_at)
        stmt = (
            select(Request)
            .where(Request.authority_code == authority_code, Request.status == "received")
            .order_by(deadline.is_(None), deadline, Request.id)
        )
        with self._session(write=False) as session:
            return [request_record(r) for r in session.execute(stmt).scalars()]

    def open_request_counts(self) -> dict[str, int]:
        """{authority code: its requests still being worked on} for every authority (0 for
        one with none): the desks' queue depth (``/metrics``)."""
        stmt = (
            select(Authority.code, func.count(Request.id))
            .outerjoin(
                Request,
                (Request.authority_code == Authority.code) & (Request.status == "received"),
            )
            .group_by(Authority.code)
        )
        with self._session(write=False) as session:
            return dict(session.execute(stmt).all())

    def requests_received(
        self, authority_code: str, *, since: dt.datetime, until: dt.datetime
    ) -> list[tuple[RequestRecord, list[ItemRecord]]]:
        """The authority's requests received in [since, until), each with its originals
        (the office's counts)."""
        aware(since, "since")
        aware(until, "until")
        with self._session(write=False) as session:
            requests = list(
                session.execute(
                    select(Request)
                    .where(
                        Request.authority_code == authority_code,
                        Request.received_at >= since,
                        Request.received_at < until,
                    )
                    .order_by(Request.received_at)
                ).scalars()
            )
            ids = [r.id for r in requests]
            by_request: dict[str, list[ItemRecord]] = {r.code: [] for r in requests}
            if ids:
                rows = session.execute(
                    items_select()
                    .where(RequestItem.request_id.in_(ids))
                    .order_by(RequestItem.request_id, RequestItem.position)
                )
                for item, rc, issued in rows:
                    by_request[rc].append(item_record(item, rc, issued))
            return [(request_record(r), by_request[r.code]) for r in requests]

    def request_of_document(self, document_id: str) -> RequestRecord:
        """The request an entry belongs to. Raises ``NotFoundError``."""
        with self._session(write=False) as session:
            request = session.execute(
                select(Request)
                .join(Document, Document.request_id == Request.id)
                .where(Document.id == document_id)
            ).scalar_one_or_none()
            if request is None:
                raise NotFoundError("Không tìm thấy bản sao. / No such certified copy.")
            return request_record(request)


def link_item_to_document(session: Session, request: Request, position: int, doc_id: str) -> None:
    """Mark original ``position`` of ``request`` certified as entry ``doc_id`` (in the
    transaction that adds the entry).

    Raises ``NotFoundError`` (no such original), ``RegisterConflictError`` (code
    ``item_state``: not scanned, e.g. certified already by someone else).
    """
    item = session.execute(
        select(RequestItem)
        .where(RequestItem.request_id == request.id, RequestItem.position == position)
        .with_for_update()
    ).scalar_one_or_none()
    if item is None:
        raise NotFoundError("Không tìm thấy bản chính này. / No such original.")
    if item.status != "scanned":
        raise RegisterConflictError(
            f"Bản chính đang ở trạng thái “{item.status}”, không chứng thực được. / "
            f"The original is “{item.status}” and cannot be certified.",
            code="item_state",
        )
    item.status = "certified"
    item.document_id = doc_id
    session.flush()
    settle_request_status(session, request)
