"""Logging in to the desk, logging out, and enrolling one's authenticator app (issue 11.1).

- ``GET /desk/login``, ``POST /desk/login``: username and password (no TOTP: the second
  factor is asked when a certifier signs). Before there is a session, the form is protected
  by a double-submit token: the cookie ``certify_login_csrf`` and the hidden field
  ``csrf_token`` must match. Failures are throttled per account and per address as the API's
  login is, and recorded (``login_failed``); a login is recorded (``login``, ``via=page``).
  A new session is made at every login (no session fixation) and the old one, if any, ended.
- ``POST /desk/logout``: ends the session (``logout``) and clears the cookie.
- ``GET /desk/totp``, ``POST /desk/totp``: the officer's own TOTP (RFC 6238) enrolment. The
  page shows a new secret and its ``otpauth://`` QR code; the officer confirms with their
  password (and the current app's code when replacing one) and a code of the new app before
  it is stored (``totp_enrolled``). The pending secret is never sent back by the browser nor
  stored: it is derived from the session (HMAC keyed by the session's id) and a nonce in
  the form, so only this session can confirm it, within ``ENROLMENT_MINUTES``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from typing import Annotated

import pyotp
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from api import sessions
from api.desk_i18n import WORDS
from api.officer_auth import verify_credentials
from api.qr_svg import qr_svg_data_uri
from api.sessions import CsrfChecked, DeskUser, SignedIn, audit, render_desk
from certify.errors import PermissionDeniedError, RateLimitedError

router = APIRouter(tags=["desk"], include_in_schema=False)

LOGIN_CSRF_COOKIE = "certify_login_csrf"
# How long the login form and a pending TOTP enrolment stay good.
LOGIN_FORM_SECONDS = 3600
ENROLMENT_MINUTES = 10
TOTP_ISSUER = "certify"

_LOGIN_REFUSED = "Sai tên đăng nhập hoặc mật khẩu. / Wrong username or password."

Username = Annotated[str, Form(max_length=100)]
Password = Annotated[str, Form(max_length=1024)]
Token = Annotated[str, Form(max_length=200)]
Code = Annotated[str, Form(max_length=10)]


def _message(key: str) -> str:
    vi, en = WORDS[key]
    return f"{vi} / {en}"


# --- login ----------------------------------------------------------------------------------


def _login_page(
    request: Request,
    *,
    next_path: str | None,
    error: str | None = None,
    notice: str | None = None,
    username: str = "",
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """The login form, with a (new or kept) double-submit token in cookie and field."""
    token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not (20 <= len(token) <= 100 and token.isascii()):
        token = secrets.token_urlsafe(32)
    response = render_desk(
        request,
        "desk/login.html",
        {
            "login_token": token,
            "next": sessions.local_path(next_path, default=""),
            "error": error,
            "notice": notice,
            "username": username,
        },
        status_code=status_code,
        headers=headers,
    )
    sessions.set_cookie(
        response,
        sessions.services_of(request).settings,
        LOGIN_CSRF_COOKIE,
        token,
        path=sessions.LOGIN_PATH,
        max_age=LOGIN_FORM_SECONDS,
    )
    return response


@router.get("/desk/login")
def login_form(
    request: Request,
    next_path: Annotated[str | None, Query(alias="next", max_length=2000)] = None,
    expired: bool = False,
    logged_out: bool = False,
) -> Response:
    """The login form; ``expired`` and ``logged_out`` say why the officer is here."""
    notice = "session_expired" if expired else "logged_out" if logged_out else None
    return _login_page(request, next_path=next_path, notice=notice)


@router.post("/desk/login")
def login(
    request: Request,
    username: Username,
    password: Password,
    csrf_token: Token = "",
    next_path: Annotated[str, Form(alias="next", max_length=2000)] = "",
) -> Response:
    """Check the password, start a session, and go on to ``next`` (a desk page) or /desk."""
    services = sessions.services_of(request)
    throttle = request.app.state.login_throttle
    address = sessions.client_address(request)
    username = username.strip()
    try:
        throttle.check(username, address)
    except RateLimitedError as exc:
        return _login_page(
            request,
            next_path=next_path,
            error=exc.message,
            username=username,
            status_code=429,
            headers={"Retry-After": str(exc.retry_after)},
        )
    cookie_token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not (csrf_token and cookie_token and sessions.tokens_match(cookie_token, csrf_token)):
        # Counted like a failed login: an address cannot fill the audit chain with these.
        throttle.failed(username, address)
        audit(
            services,
            username,
            "csrf_refused",
            request.url.path,
            reason="forged" if csrf_token else "missing",
        )
        return _login_page(
            request,
            next_path=next_path,
            error=_message("form_expired"),
            username=username,
            status_code=403,
        )
    now = services.clock.now()
    try:
        officer = verify_credentials(
            services.register,
            username,
            password,
            None,
            refused=PermissionDeniedError(_LOGIN_REFUSED, code="login_failed"),
            now=now,
            second_factor=False,
        ).officer
    except PermissionDeniedError as exc:
        throttle.failed(username, address)
        audit(services, username, "login_failed", f"officer:{username}", via="page")
        return _login_page(
            request, next_path=next_path, error=exc.message, username=username, status_code=403
        )
    old = request.cookies.get(sessions.SESSION_COOKIE)
    if old:
        services.register.end_desk_session(old, now=now)
    idle, absolute = sessions.session_limits(services.settings)
    record, secret = services.register.create_desk_session(
        officer.username, now=now, idle=idle, absolute=absolute
    )
    audit(services, officer.username, "login", sessions.session_subject(record.id), via="page")
    response = RedirectResponse(sessions.local_path(next_path), status_code=303)
    sessions.set_session_cookie(response, services.settings, secret)
    sessions.clear_cookie(response, services.settings, LOGIN_CSRF_COOKIE, path=sessions.LOGIN_PATH)
    return response


@router.post("/desk/logout")
def logout(request: Request, user: CsrfChecked) -> Response:
    """End the session and clear its cookie."""
    services = sessions.services_of(request)
    services.register.end_desk_session(user.session_id, now=services.clock.now())
    audit(services, user.principal.username, "logout", sessions.session_subject(user.session_id))
    response = RedirectResponse(
        sessions.login_url(logged_out="1"), status_code=303, headers=sessions.NO_STORE
    )
    sessions.clear_cookie(response, services.settings, sessions.SESSION_COOKIE)
    return response


# --- TOTP enrolment -------------------------------------------------------------------------


def pending_secret(user: DeskUser, nonce: str) -> str:
    """The TOTP secret offered with ``nonce`` in ``user``'s session: 160 bits (RFC 4226
    §4 R6), base32, derived so that neither the page nor the register has to keep it."""
    mac = hmac.new(
        user.session_id.encode("ascii"),
        b"certify totp enrolment\x00" + nonce.encode("utf-8"),
        hashlib.sha256,
    )
    return base64.b32encode(mac.digest()[:20]).decode("ascii")


def _new_nonce(now: dt.datetime) -> str:
    return f"{int(now.timestamp())}.{secrets.token_urlsafe(16)}"


def _nonce_fresh(nonce: str, now: dt.datetime) -> bool:
    issued, _, rest = nonce.partition(".")
    if not (issued.isdigit() and rest and len(nonce) <= 100):
        return False
    age = now.timestamp() - int(issued)
    return 0 <= age <= ENROLMENT_MINUTES * 60


def _totp_page(
    request: Request,
    user: DeskUser,
    *,
    nonce: str,
    error: str | None = None,
    done: bool = False,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    services = sessions.services_of(request)
    login = services.register.get_officer_login(user.principal.username)
    secret = pending_secret(user, nonce)
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.principal.username, issuer_name=TOTP_ISSUER)
    return render_desk(
        request,
        "desk/totp.html",
        {
            "enrolled": login.totp_secret is not None,
            "done": done,
            "nonce": nonce,
            "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
            "qr": qr_svg_data_uri(uri),
            "error": error,
        },
        status_code=status_code,
        headers=headers,
    )


@router.get("/desk/totp")
def totp_form(request: Request, user: SignedIn, enrolled: bool = False) -> Response:
    """A new secret to enrol, as a QR code; ``enrolled`` after one was saved."""
    now = sessions.services_of(request).clock.now()
    return _totp_page(request, user, nonce=_new_nonce(now), done=enrolled)


@router.post("/desk/totp")
def enrol_totp(
    request: Request,
    user: CsrfChecked,
    enrolment: Token,
    password: Password,
    code: Code,
    current_code: Code = "",
) -> Response:
    """Store the secret offered with ``enrolment`` once ``password`` (and ``current_code``
    when an app is enrolled) and ``code`` (from the new app) are right."""
    services = sessions.services_of(request)
    now = services.clock.now()
    username = user.principal.username
    subject = f"officer:{username}"
    if not _nonce_fresh(enrolment, now):
        return _totp_page(
            request, user, nonce=_new_nonce(now), error=_message("form_expired"), status_code=400
        )
    throttle = request.app.state.login_throttle
    address = sessions.client_address(request)
    try:
        throttle.check(username, address)
    except RateLimitedError as exc:
        return _totp_page(
            request,
            user,
            nonce=enrolment,
            error=exc.message,
            status_code=429,
            headers={"Retry-After": str(exc.retry_after)},
        )
    # Re-authentication: a session cookie alone must not replace the second factor.
    try:
        verify_credentials(
            services.register,
            username,
            password,
            current_code,
            refused=PermissionDeniedError(code="totp_refused"),
            now=now,
        )
    except PermissionDeniedError:
        throttle.failed(username, address)
        audit(services, username, "totp_enrolment_refused", subject, reason="credentials")
        return _totp_page(
            request, user, nonce=enrolment, error=_message("totp_refused"), status_code=403
        )
    secret = pending_secret(user, enrolment)
    digits = code.strip()
    # RFC 6238 §5.2: one step of clock drift either way, as at login.
    if not (digits.isdigit() and pyotp.TOTP(secret).verify(digits, for_time=now, valid_window=1)):
        audit(services, username, "totp_enrolment_refused", subject, reason="code")
        return _totp_page(
            request, user, nonce=enrolment, error=_message("totp_wrong_code"), status_code=400
        )
    services.register.set_officer_totp(username, secret)
    audit(services, username, "totp_enrolled", subject)
    return RedirectResponse("/desk/totp?enrolled=1", status_code=303, headers=sessions.NO_STORE)
