"""Structured logs: one JSON object per line with the request's id, and the id itself.

Every HTTP answer carries ``X-Request-ID``: the client's (or the proxy's) when it is a sane
token, else a new one. It is kept in a context variable for the request, so every line
logged while answering (the routes, the error handlers, uvicorn's access line) names it.

Nothing personal goes into a line: the message as the code wrote it (which logs codes, never
names, addresses or scan bytes), and the access line after ``api.access_log`` has cut the
secrets out of its path. No header, body or query string is added here.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import re
import uuid
from contextvars import ContextVar
from typing import Any, Final

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import access_log
from api.settings import Settings

REQUEST_ID_HEADER: Final = "X-Request-ID"
# What a request id taken from outside may be: short, and nothing a log reader could trip on.
_SANE_ID: Final = re.compile(r"[A-Za-z0-9._-]{1,64}")
_request_id: ContextVar[str | None] = ContextVar("certify_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being answered in this context, or None outside a request."""
    return _request_id.get()


def request_id_from(value: str | None) -> str:
    """``value`` when it is a sane request id (≤ 64 of ``[A-Za-z0-9._-]``), else a new one."""
    if value is not None and _SANE_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestId:
    """Gives each HTTP request its id (``X-Request-ID`` in, or a new one) and sends it back.

    The context variable is not reset after the answer: each request runs in its own task
    (its own context), and Starlette's outermost error middleware, which logs an unhandled
    error after this one returned, should still name the request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(Headers(scope=scope).get(REQUEST_ID_HEADER))
        _request_id.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``time`` (UTC, ISO 8601), ``level``, ``logger``,
    ``message``, ``request_id`` (null outside a request), ``exc_info`` (the traceback as a
    string) when there is one; uvicorn's access lines also get ``http`` (method, redacted
    path, status)."""

    def format(self, record: logging.LogRecord) -> str:
        if record.name == "uvicorn.access":
            # Already done by the logger's filter; again here so that no configuration can
            # let a verification code or a download secret through (it is idempotent).
            access_log.RedactSecrets().filter(record)
        created = dt.datetime.fromtimestamp(record.created, dt.UTC)
        entry: dict[str, Any] = {
            "time": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id(),
        }
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            args = record.args
            if len(args) == 5:
                entry["http"] = {"method": args[1], "path": args[2], "status": args[4]}
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(settings: Settings) -> dict[str, Any]:
    """uvicorn's ``log_config`` for ``settings.log_format``.

    ``text``: uvicorn's own format. ``json``: every handler (uvicorn's, and the root logger's
    for the service's own loggers) writes :class:`JsonFormatter` lines. Either way the access
    logger has ``api.access_log.RedactSecrets``, so the access line is formatted from the
    redacted path. uvicorn applies the dict with ``logging.config.dictConfig`` in each worker
    process; existing loggers are kept.
    """
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact_secrets": {"()": "api.access_log.RedactSecrets"}}
    config["loggers"]["uvicorn.access"]["filters"] = ["redact_secrets"]
    if settings.log_format == "json":
        config["formatters"] = {"json": {"()": "api.log_format.JsonFormatter"}}
        for handler in config["handlers"].values():
            handler["formatter"] = "json"
        config["root"] = {"handlers": ["default"], "level": "INFO"}
    return config
