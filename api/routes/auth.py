"""Officers and the API (issue 11.1): a bearer token made with the officer's password (and
TOTP code, once enrolled), who the token belongs to, and revoking it.

Every login, failed login, token made, token revoked and refused token is an event of the
register's audit chain. Failed logins are throttled per account and per client address.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, Field

from api.officer_auth import verify_credentials
from api.sessions import audit, client_address, services_of
from certify.access import Principal, require
from certify.errors import NotFoundError, PermissionDeniedError, UnauthenticatedError
from storage.api_tokens import ApiTokenRecord

router = APIRouter(prefix="/api/v1", tags=["officers"])

_REFUSED = (
    "Sai tên đăng nhập, mật khẩu hoặc mã xác thực. / Wrong username, password or "
    "authentication code."
)


class TokenRequest(BaseModel):
    username: str = Field(min_length=1, max_length=100, examples=["hong.nt"])
    password: str = Field(min_length=1, max_length=1024)
    totp: str | None = Field(default=None, max_length=10, examples=["123456"])
    name: str = Field(min_length=1, max_length=100, examples=["máy quét tầng 1"])
    days: int = Field(default=30, ge=1, le=90, description="lifetime of the token in days")


class TokenOut(BaseModel):
    id: str
    name: str
    username: str
    authority_code: str
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None = None


class NewTokenOut(TokenOut):
    token: str = Field(description="the bearer token; shown this once, never stored")


class MeOut(BaseModel):
    username: str
    full_name: str
    title: str
    authority_code: str
    roles: list[str]


def _out(record: ApiTokenRecord) -> TokenOut:
    return TokenOut(
        id=record.id,
        name=record.name,
        username=record.username,
        authority_code=record.authority_code,
        created_at=record.created_at,
        expires_at=record.expires_at,
        revoked_at=record.revoked_at,
    )


def current_officer(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> Principal:
    """The officer whose bearer token the request carries.

    Raises:
        UnauthenticatedError: no token, or one that is unknown, expired, revoked or whose officer
            is inactive (a known token refused is recorded in the audit chain).
    """
    services = services_of(request)
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthenticatedError()
    record = services.register.find_api_token(token.strip())
    if record is None:
        raise UnauthenticatedError()
    if not record.usable(services.clock.now()):
        why = "revoked" if record.revoked_at else "expired" if record.officer_active else "inactive"
        audit(services, record.username, "token_refused", f"token:{record.id}", reason=why)
        raise UnauthenticatedError()
    return Principal(
        username=record.username,
        authority_code=record.authority_code,
        roles=services.register.roles_of(record.username),
    )


Officer = Annotated[Principal, Depends(current_officer)]


@router.post("/auth/tokens", status_code=201, response_model=NewTokenOut)
def create_token(body: TokenRequest, request: Request) -> NewTokenOut:
    """Make a bearer token with the officer's password (and TOTP code once enrolled)."""
    services = services_of(request)
    throttle = request.app.state.login_throttle
    address = client_address(request)
    throttle.check(body.username, address)
    refused = PermissionDeniedError(_REFUSED, code="login_failed")
    try:
        login = verify_credentials(
            services.register,
            body.username,
            body.password,
            body.totp,
            refused=refused,
            now=services.clock.now(),
        )
    except PermissionDeniedError:
        throttle.failed(body.username, address)
        audit(services, body.username, "login_failed", f"officer:{body.username}")
        raise
    now = services.clock.now()
    record, token = services.register.create_api_token(
        login.officer.username, name=body.name, now=now, lifetime=dt.timedelta(days=body.days)
    )
    audit(services, record.username, "token_created", f"token:{record.id}", name=record.name)
    return NewTokenOut(**_out(record).model_dump(), token=token)


@router.get("/me", response_model=MeOut)
def me(officer: Officer, request: Request) -> MeOut:
    """Who the bearer token belongs to: the officer, their authority and roles."""
    record = services_of(request).register.get_officer(officer.username)
    return MeOut(
        username=record.username,
        full_name=record.full_name,
        title=record.title,
        authority_code=record.authority_code,
        roles=sorted(officer.roles),
    )


@router.delete("/auth/tokens/{token_id}", status_code=204)
def revoke_token(token_id: str, officer: Officer, request: Request) -> Response:
    """Revoke a token: one's own, or, for an admin, one of their authority's officers."""
    services = services_of(request)
    try:
        record = services.register.get_api_token(token_id)
    except NotFoundError:
        raise NotFoundError("Không tìm thấy mã truy cập. / No such token.") from None
    if record.username != officer.username:
        require(officer, authority_code=record.authority_code, role="admin")
    services.register.revoke_api_token(token_id, now=services.clock.now())
    audit(services, officer.username, "token_revoked", f"token:{token_id}")
    return Response(status_code=204)
