"""The desk's admin page (issue 11.1): the authority's officers with their roles and
certificates, and a form for each of the admin's actions (:class:`OfficerAdmin`).

- ``GET /desk/admin``: admins only (anyone else gets the 403 error page, ``role_required``).
  ``?done=<action>`` shows what the last form did: each form POSTs (with the session's CSRF
  token, ``CsrfChecked``) and is answered 303 back here (Post/Redirect/Get).
- ``POST /desk/admin/officers``: add an officer. The answer is the page itself, not a
  redirect, because it carries the initial password: shown this once, never put in a URL
  (which browsers keep in history) nor stored.
- ``POST /desk/admin/officers/{username}/roles`` (form ``role``),
  ``POST /desk/admin/officers/{username}/roles/{role}/withdraw`` (HTML forms cannot DELETE),
  ``POST /desk/admin/officers/{username}/deactivate``,
  ``POST /desk/admin/officers/{username}/certificates``,
  ``POST /desk/admin/certificates/{serial}/revoke`` (form ``reason``).

A refused form (invalid input, a taken username, not a certifier) is answered with the page
and the reason, at the error's status; another authority's officer is the 404 error page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from api.admin_actions import (
    REVOCATION_REASONS,
    ROLE_ORDER,
    USERNAME_PATTERN,
    NewOfficer,
    OfficerAdmin,
    parse_serial,
)
from api.admin_i18n import ADMIN_WORDS
from api.desk_i18n import WORDS
from api.errors import status_for
from api.sessions import NO_STORE, CsrfChecked, DeskUser, SignedIn, render_desk, services_of
from certify.errors import ConflictError, InvalidInputError

router = APIRouter(tags=["desk"], include_in_schema=False)

ADMIN_PATH: Final = "/desk/admin"
# The page's words: the layout's and its own.
ADMIN_T: Final = {**WORDS, **ADMIN_WORDS}
# What ``?done=`` may name: the actions answered with a redirect.
DONE: Final = frozenset(
    {
        "role_granted",
        "role_withdrawn",
        "officer_deactivated",
        "certificate_issued",
        "certificate_revoked",
    }
)

Username = Annotated[str, Path(min_length=2, max_length=64, pattern=USERNAME_PATTERN)]
Serial = Annotated[str, Path(min_length=1, max_length=42, pattern=r"^(0x)?[0-9A-Fa-f]+$")]
Text = Annotated[str, Form(max_length=200)]
Choice = Annotated[str, Form(max_length=40)]


def _admin(request: Request) -> OfficerAdmin:
    return OfficerAdmin(services_of(request))


def _page(
    request: Request,
    user: DeskUser,
    *,
    done: str | None = None,
    error: str | None = None,
    new_officer: NewOfficer | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    """The admin page. Raises PermissionDeniedError (``role_required``) for a non-admin."""
    officers = _admin(request).officers(user.principal)
    return render_desk(
        request,
        "desk/admin.html",
        {
            "T": ADMIN_T,
            "officers": officers,
            "roles": ROLE_ORDER,
            "reasons": REVOCATION_REASONS,
            "me": user.principal.username,
            "done": done,
            "error": error,
            "new_officer": new_officer,
            "form": form or {"roles": ()},
        },
        status_code=status_code,
    )


def _act(
    request: Request, user: DeskUser, action: Callable[[OfficerAdmin], str], done: str
) -> Response:
    """Do ``action`` (which answers the username of the officer acted on); 303 to the page
    saying ``done``, at that officer's card, or the page with the reason it was refused."""
    try:
        username = action(_admin(request))
    except (InvalidInputError, ConflictError) as exc:
        return _page(request, user, error=exc.message, status_code=status_for(exc))
    return RedirectResponse(
        f"{ADMIN_PATH}?done={done}#o-{username}", status_code=303, headers=NO_STORE
    )


@router.get(ADMIN_PATH)
def admin_page(
    request: Request, user: SignedIn, done: Annotated[str | None, Query(max_length=40)] = None
) -> Response:
    """The authority's officers, their roles and certificates, and the admin's forms."""
    return _page(request, user, done=done if done in DONE else None)


@router.post(f"{ADMIN_PATH}/officers")
def add_officer(
    request: Request,
    user: CsrfChecked,
    username: Annotated[str, Form(max_length=64)],
    full_name: Text,
    title: Text,
    roles: Annotated[list[str], Form(max_length=4)] = [],  # noqa: B006 - FastAPI copies it
) -> Response:
    """Add an officer; the answer shows their initial password, once."""
    try:
        new = _admin(request).add_officer(
            user.principal, username=username, full_name=full_name, title=title, roles=roles
        )
    except (InvalidInputError, ConflictError) as exc:
        form = {"username": username, "full_name": full_name, "title": title, "roles": roles}
        return _page(request, user, error=exc.message, form=form, status_code=status_for(exc))
    return _page(request, user, new_officer=new)


@router.post(f"{ADMIN_PATH}/officers/{{username}}/roles")
def grant_role(request: Request, user: CsrfChecked, username: Username, role: Choice) -> Response:
    """Give the officer a role."""
    return _act(
        request,
        user,
        lambda admin: admin.grant_role(user.principal, username, role).username,
        "role_granted",
    )


@router.post(f"{ADMIN_PATH}/officers/{{username}}/roles/{{role}}/withdraw")
def withdraw_role(
    request: Request,
    user: CsrfChecked,
    username: Username,
    role: Annotated[str, Path(max_length=40)],
) -> Response:
    """Take a role from the officer (never an admin's own admin role)."""
    return _act(
        request,
        user,
        lambda admin: admin.withdraw_role(user.principal, username, role).username,
        "role_withdrawn",
    )


@router.post(f"{ADMIN_PATH}/officers/{{username}}/deactivate")
def deactivate(request: Request, user: CsrfChecked, username: Username) -> Response:
    """The officer can no longer log in."""
    return _act(
        request,
        user,
        lambda admin: admin.deactivate(user.principal, username).username,
        "officer_deactivated",
    )


@router.post(f"{ADMIN_PATH}/officers/{{username}}/certificates")
def issue_certificate(request: Request, user: CsrfChecked, username: Username) -> Response:
    """Issue a personal certificate to a certifier."""
    return _act(
        request,
        user,
        lambda admin: admin.issue_certificate(user.principal, username).record.holder,
        "certificate_issued",
    )


@router.post(f"{ADMIN_PATH}/certificates/{{serial}}/revoke")
def revoke_certificate(
    request: Request, user: CsrfChecked, serial: Serial, reason: Choice
) -> Response:
    """Revoke an officer's certificate for an RFC 5280 reason."""

    def revoke(admin: OfficerAdmin) -> str:
        return admin.revoke_certificate(user.principal, parse_serial(serial), reason).record.holder

    return _act(request, user, revoke, "certificate_revoked")
