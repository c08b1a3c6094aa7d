"""The admin's officers and certificates through the API (issue 11.1, ``/api/v1``): list the
authority's officers, add one (its initial password is answered once), grant and withdraw
roles, deactivate, issue and revoke personal certificates. The rules are
:class:`api.admin_actions.OfficerAdmin`'s, the same the desk's admin page follows.

Errors are the one JSON shape (``api/errors.py``): a missing role 403 ``role_required``,
another authority's officer or certificate 404 ``not_found``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from api.admin_actions import (
    USERNAME_PATTERN,
    CertificateView,
    OfficerAdmin,
    OfficerView,
    parse_serial,
)
from api.routes.auth import Officer
from api.services import Services

router = APIRouter(prefix="/api/v1", tags=["admin"])

Role = Literal["clerk", "certifier", "admin", "auditor"]
Reason = Literal[
    "keyCompromise",
    "affiliationChanged",
    "superseded",
    "cessationOfOperation",
    "privilegeWithdrawn",
    "unspecified",
]
Username = Annotated[str, Path(min_length=2, max_length=64, pattern=USERNAME_PATTERN)]
Serial = Annotated[str, Path(min_length=1, max_length=42, pattern=r"^(0x)?[0-9A-Fa-f]+$")]


class ErrorOut(BaseModel):
    error: str = Field(examples=["role_required"])
    message: str = Field(
        examples=["Cần vai trò “admin” để làm việc này. / This needs the “admin” role."]
    )


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "no usable bearer token"},
    403: {"model": ErrorOut, "description": "role_required (admin), own_admin_role, own_account"},
    404: {"model": ErrorOut, "description": "no such officer or certificate at this authority"},
}


class CertificateOut(BaseModel):
    serial: str = Field(
        description="hexadecimal, as `certify pki list` shows it", examples=["1f3a"]
    )
    status: str = Field(description="valid, revoked, expired or not_yet_valid", examples=["valid"])
    not_before: dt.datetime
    not_after: dt.datetime
    revoked_at: dt.datetime | None = None
    revocation_reason: str | None = Field(default=None, examples=["affiliationChanged"])
    issuer: str = Field(description="issuing (ours) or external (imported)", examples=["issuing"])

    @classmethod
    def of(cls, view: CertificateView) -> CertificateOut:
        r = view.record
        return cls(
            serial=view.serial_hex,
            status=r.status,
            not_before=r.not_before,
            not_after=r.not_after,
            revoked_at=r.revoked_at,
            revocation_reason=r.revocation_reason,
            issuer=r.issuer,
        )


class OfficerOut(BaseModel):
    username: str = Field(examples=["mai.lt"])
    full_name: str = Field(examples=["Lê Thị Mai"])
    title: str = Field(examples=["Công chức Tư pháp - Hộ tịch"])
    active: bool
    has_password: bool
    totp_enrolled: bool = Field(description="whether a TOTP second factor is enrolled")
    roles: list[str] = Field(
        description="clerk, certifier, admin, auditor", examples=[["clerk", "certifier"]]
    )
    certificates: list[CertificateOut]

    @classmethod
    def of(cls, view: OfficerView) -> OfficerOut:
        return cls(
            username=view.username,
            full_name=view.full_name,
            title=view.title,
            active=view.active,
            has_password=view.has_password,
            totp_enrolled=view.totp_enrolled,
            roles=list(view.roles),
            certificates=[CertificateOut.of(c) for c in view.certificates],
        )


class NewOfficerOut(OfficerOut):
    initial_password: str = Field(
        description="the officer's first password: shown this once, only its hash is kept",
        examples=["k7mqz-pa3rt-wx9hn-c4vbe"],
    )


class OfficerIn(BaseModel):
    username: str = Field(
        min_length=2, max_length=64, pattern=USERNAME_PATTERN, examples=["mai.lt"]
    )
    full_name: str = Field(min_length=1, max_length=200, examples=["Lê Thị Mai"])
    title: str = Field(min_length=1, max_length=200, examples=["Công chức Tư pháp - Hộ tịch"])
    roles: list[Role] = Field(min_length=1, max_length=4, examples=[["clerk"]])


class RoleIn(BaseModel):
    role: Role = Field(examples=["certifier"])


class RevokeIn(BaseModel):
    reason: Reason = Field(
        description="RFC 5280 §5.3.1 CRLReason of the revocation", examples=["affiliationChanged"]
    )


def _admin(request: Request) -> OfficerAdmin:
    services: Services = request.app.state.services
    return OfficerAdmin(services)


@router.get("/officers", response_model=list[OfficerOut], responses=_ERRORS)
def list_officers(officer: Officer, request: Request) -> list[OfficerOut]:
    """The officers of the admin's authority, with roles, active flag and certificates."""
    return [OfficerOut.of(v) for v in _admin(request).officers(officer)]


@router.post(
    "/officers",
    status_code=201,
    response_model=NewOfficerOut,
    responses={**_ERRORS, 409: {"model": ErrorOut, "description": "username_taken"}},
)
def add_officer(body: OfficerIn, officer: Officer, request: Request) -> NewOfficerOut:
    """Add an officer to the admin's authority. The answer carries the officer's initial
    password, once: hand it over in person."""
    new = _admin(request).add_officer(
        officer,
        username=body.username,
        full_name=body.full_name,
        title=body.title,
        roles=body.roles,
    )
    return NewOfficerOut(
        **OfficerOut.of(new.officer).model_dump(), initial_password=new.initial_password
    )


@router.post("/officers/{username}/roles", response_model=OfficerOut, responses=_ERRORS)
def grant_role(username: Username, body: RoleIn, officer: Officer, request: Request) -> OfficerOut:
    """Give the officer a role (no change if held)."""
    return OfficerOut.of(_admin(request).grant_role(officer, username, body.role))


@router.delete("/officers/{username}/roles/{role}", response_model=OfficerOut, responses=_ERRORS)
def withdraw_role(username: Username, role: Role, officer: Officer, request: Request) -> OfficerOut:
    """Take a role from the officer (no change if not held). An admin cannot withdraw their
    own admin role (403 ``own_admin_role``)."""
    return OfficerOut.of(_admin(request).withdraw_role(officer, username, role))


@router.post("/officers/{username}/deactivate", response_model=OfficerOut, responses=_ERRORS)
def deactivate(username: Username, officer: Officer, request: Request) -> OfficerOut:
    """The officer can no longer log in; their sessions and tokens stop working. An admin
    cannot deactivate themselves (403 ``own_account``)."""
    return OfficerOut.of(_admin(request).deactivate(officer, username))


@router.post(
    "/officers/{username}/certificates",
    status_code=201,
    response_model=CertificateOut,
    responses={**_ERRORS, 409: {"model": ErrorOut, "description": "not_a_certifier"}},
)
def issue_certificate(username: Username, officer: Officer, request: Request) -> CertificateOut:
    """Issue a personal certificate to an active certifier of the authority (its key is
    kept encrypted by the provincial PKI), as ``certify pki issue-officer`` does."""
    return CertificateOut.of(_admin(request).issue_certificate(officer, username))


@router.post("/certificates/{serial}/revoke", response_model=CertificateOut, responses=_ERRORS)
def revoke_certificate(
    serial: Serial, body: RevokeIn, officer: Officer, request: Request
) -> CertificateOut:
    """Revoke a certificate of an officer of the authority; the CRL and OCSP say so at once.
    ``serial`` is hexadecimal."""
    view = _admin(request).revoke_certificate(officer, parse_serial(serial), body.reason)
    return CertificateOut.of(view)
