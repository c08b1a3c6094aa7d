"""A citizen's tracking code (issue 12.1): 80 random bits, unguessable, typed or scanned at
the desk; and the e-mail address a request's mails go to."""

from __future__ import annotations

import base64
import re
import secrets
from typing import Final

# 80 random bits in RFC 4648 base32 (no 0, 1, 8 or 9 to misread), shown in groups of four.
TRACKING_BYTES: Final = 10
_TRACKING_RE: Final = re.compile(r"[A-Z2-7]{16}")
# What a citizen types or scans may carry these; they are not part of the code.
_TYPO: Final = str.maketrans({"0": "O", "1": "I", "8": "B"})
_EMAIL_RE: Final = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def new_tracking_code() -> str:
    """A fresh tracking code: 16 base32 characters (80 bits)."""
    return base64.b32encode(secrets.token_bytes(TRACKING_BYTES)).decode("ascii")


def normalise_tracking_code(text: str) -> str | None:
    """The tracking code in ``text`` as stored (upper case, no spaces or dashes, common
    misreadings fixed), or None when it cannot be one."""
    if len(text) > 64:
        return None
    code = re.sub(r"[\s-]", "", text).upper().translate(_TYPO)
    return code if _TRACKING_RE.fullmatch(code) else None


def format_tracking_code(code: str) -> str:
    """``ABCDEFGHJKLMNPQR`` as ``ABCD-EFGH-JKLM-NPQR`` (as printed and e-mailed)."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def email_address(text: str | None) -> str | None:
    """``text`` if it is one e-mail address (the desk's contact field may hold one)."""
    value = (text or "").strip()
    return value if len(value) <= 254 and _EMAIL_RE.fullmatch(value) else None
