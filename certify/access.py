"""Who may do what: an officer acts only for their own authority, and only in a role they hold
(issue 11.1; DOMAIN.md: clerk receives and checks, certifier certifies, admin administers,
auditor reads).

Anything of another authority is "not found" (404), never "forbidden": an officer of
authority A learns nothing about what exists at authority B.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from certify.errors import NotFoundError, PermissionDeniedError

ROLES: Final = frozenset({"clerk", "certifier", "admin", "auditor"})


@dataclass(frozen=True)
class Principal:
    """An authenticated officer: who, for which authority, in which roles."""

    username: str
    authority_code: str
    roles: frozenset[str]


def require(
    principal: Principal, *, authority_code: str | None = None, role: str | None = None
) -> None:
    """Refuse unless ``principal`` acts for ``authority_code`` and holds ``role``.

    Raises:
        NotFoundError: the thing belongs to another authority (``not_found``, as if absent).
        PermissionDeniedError: code ``role_required``, the role is not held.
    """
    if authority_code is not None and authority_code != principal.authority_code:
        raise NotFoundError()
    if role is not None and role not in principal.roles:
        raise PermissionDeniedError(
            f"Cần vai trò “{role}” để làm việc này. / This needs the “{role}” role.",
            code="role_required",
        )
