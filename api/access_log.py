"""The access log without secrets: a verification code (``/v/…``), a download link's secret
(``/d/…``) or a code typed into ``/verify?code=…`` is a bearer secret, and anyone who reads
the log could use it. :class:`RedactSecrets` cuts them out of uvicorn's access log records
(installed by ``certify serve``)."""

from __future__ import annotations

import logging
import re
from typing import Final

# A path segment after /v/ or /d/ (and /t/, the citizens' tracking codes), and any query.
_SECRET_PATH: Final = re.compile(r"^(/[vdt]/)[^/?#]+")
_QUERY: Final = re.compile(r"\?.*\Z", re.DOTALL)


def redact(path: str) -> str:
    """``path`` with its secret segment and its query replaced by ``…``."""
    path = _SECRET_PATH.sub(r"\1…", path)
    return _QUERY.sub("?…", path)


class RedactSecrets(logging.Filter):
    """Redacts the path of uvicorn's access records: ``(client, method, path, http, status)``."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], redact(args[2]), args[3], args[4])
        return True


def install() -> None:
    """Add the filter to uvicorn's access logger (once)."""
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactSecrets) for f in logger.filters):
        logger.addFilter(RedactSecrets())
