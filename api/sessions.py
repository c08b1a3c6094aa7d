"""Page sessions of the desk (issue 11.1): the session cookie, CSRF, and the desk's pages.

The cookie ``certify_session`` holds a random secret; the register keeps only its SHA-256
(:mod:`storage.desk_sessions`) with the session's CSRF token and limits: it ends after
``CERTIFY_SESSION_IDLE_MINUTES`` without a request, ``CERTIFY_SESSION_MAX_HOURS`` after
login, at logout, or when the officer is deactivated. The cookie is HttpOnly, SameSite=Strict,
Path=/, and Secure when the service's public URL is https.

How a desk route uses this module:

- ``user: SignedIn`` (the :func:`desk_user` dependency) for every desk page: without a usable
  session the browser is sent (303) to ``/desk/login?next=<this page>``; an expired session
  is recorded in the audit chain (``session_expired``) and the login page says so.
- ``user: CsrfChecked`` (the :func:`csrf_checked` dependency) instead, for every POST: the
  same, and the form field ``csrf_token`` must be the session's token, or the request is
  refused with 403 ``csrf_failed`` and recorded (``csrf_refused``). Every desk form carries
  ``<input type="hidden" name="csrf_token" value="{{ csrf_token }}">``. A route that streams
  its body (a scan upload) cannot read the form first: it takes ``SignedIn`` and calls
  :func:`check_csrf` itself with the token it was sent (a query parameter or header).
- :func:`render_desk` to answer with a page extending ``desk/base.html``, in the officer's
  language (``?lang=en``, remembered in the ``certify_lang`` cookie), never cached.

:func:`install_session_handlers` (called by ``create_app`` after
``api.errors.install_error_handlers``) turns ``LoginRequired`` into the redirect and answers
errors under ``/desk`` with the HTML page ``desk/error.html`` (same status as the JSON answer
everywhere else).
"""

from __future__ import annotations

import datetime as dt
import hmac
import inspect
import logging
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import i18n
from api.desk_i18n import WORDS
from api.errors import INTERNAL, disk_full_as_such, error_headers, error_response, status_for
from api.services import Services
from api.settings import Settings
from certify.access import Principal
from certify.errors import CertifyError, PermissionDeniedError
from certify.ports import AuditRecord

log = logging.getLogger(__name__)

SESSION_COOKIE = "certify_session"
LANG_COOKIE = "certify_lang"
CSRF_FIELD = "csrf_token"
LOGIN_PATH = "/desk/login"
DESK_HOME = "/desk"
# Nothing of a desk page may be kept by the browser or a proxy (personal data, CSRF tokens).
NO_STORE = {"Cache-Control": "no-store"}
# A language choice is remembered for a year.
_LANG_MAX_AGE = 365 * 24 * 3600
_CSRF_REFUSED = (
    "Biểu mẫu không hợp lệ hoặc đã cũ (thiếu mã chống giả mạo); hãy tải lại trang và thử lại. "
    "/ The form is invalid or out of date (no valid anti-forgery token); reload the page and "
    "try again."
)

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
templates = Jinja2Templates(directory=TEMPLATES_DIR)  # autoescapes .html
templates.env.globals.update(
    T=WORDS,
    # The desk's sections, in the layout's navigation (later issues fill them).
    NAV=(
        ("/desk", "nav_queue"),
        ("/desk/requests/new", "nav_receive"),
        ("/desk/register", "nav_register"),
        ("/desk/admin", "nav_admin"),
    ),
)
templates.env.filters.update(
    vn_date=i18n.vn_date, vn_time=i18n.vn_time, split_message=i18n.split_message
)


class LoginRequired(Exception):  # noqa: N818 - a signal for a redirect, not an error
    """No usable page session: the browser is sent to the login page, which comes back to
    ``next_path`` (a local ``/desk`` path) afterwards. ``expired``: the session existed but
    has ended, and the login page says so."""

    def __init__(self, next_path: str | None = None, *, expired: bool = False) -> None:
        super().__init__("login required")
        self.next_path = next_path
        self.expired = expired


@dataclass(frozen=True)
class DeskUser:
    """The officer signed in to the desk, and their session's CSRF token and id (the SHA-256
    of the cookie's secret; its first 12 hex digits name it in the audit chain)."""

    principal: Principal
    csrf_token: str
    full_name: str
    session_id: str
    authority_name: str = ""


# --- settings -------------------------------------------------------------------------------


def session_limits(settings: Settings) -> tuple[dt.timedelta, dt.timedelta]:
    """(idle, absolute) limits of a page session."""
    idle = int(getattr(settings, "session_idle_minutes", 30))
    absolute = int(getattr(settings, "session_max_hours", 10))
    return dt.timedelta(minutes=idle), dt.timedelta(hours=absolute)


def download_link_lifetime(settings: Settings) -> dt.timedelta:
    """How long a download link of an issued copy lasts (issue 11.3)."""
    return dt.timedelta(hours=int(getattr(settings, "download_link_hours", 72)))


def secure_cookies(settings: Settings) -> bool:
    """Cookies are Secure when the service is reached over https."""
    return settings.resolved_public_base_url.lower().startswith("https")


def set_cookie(
    response: Response,
    settings: Settings,
    name: str,
    value: str,
    *,
    path: str = "/",
    max_age: int | None = None,
) -> None:
    """A cookie of the desk: HttpOnly, SameSite=Strict, Secure behind https."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        secure=secure_cookies(settings),
        httponly=True,
        samesite="strict",
    )


def clear_cookie(response: Response, settings: Settings, name: str, *, path: str = "/") -> None:
    response.delete_cookie(
        name, path=path, secure=secure_cookies(settings), httponly=True, samesite="strict"
    )


def set_session_cookie(response: Response, settings: Settings, secret: str) -> None:
    """The session cookie; no Max-Age, so a shared desk computer forgets it when the browser
    closes (the register's idle and absolute limits apply in any case)."""
    set_cookie(response, settings, SESSION_COOKIE, secret)


# --- audit ----------------------------------------------------------------------------------


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def audit(services: Services, actor: str, action: str, subject: str, **details: str) -> None:
    """Append one event to the register's audit chain, at the service's time."""
    with services.register.transaction() as tx:
        tx.append_audit(
            AuditRecord(
                at=services.clock.now(),
                actor=actor,
                action=action,
                subject=subject,
                details=details,
            )
        )


def session_subject(session_id: str) -> str:
    """How a session is named in the audit chain: never the whole hash of its secret."""
    return f"session:{session_id[:12]}"


# --- the signed-in officer ------------------------------------------------------------------


def local_path(value: str | None, default: str = DESK_HOME) -> str:
    """``value`` if it is a path of the desk on this site (``/desk`` or under it), else
    ``default``: a ``next`` parameter must never send the browser elsewhere (an open
    redirect), nor back to the login or logout."""
    if not value or len(value) > 2000:
        return default
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in value) or "\\" in value:
        return default
    parts = urllib.parse.urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//"):
        return default
    if not (parts.path == DESK_HOME or parts.path.startswith(DESK_HOME + "/")):
        return default
    if parts.path in (LOGIN_PATH, "/desk/logout"):
        return default
    return value


def login_url(next_path: str | None = None, **flags: str) -> str:
    """The login page's URL, coming back to ``next_path`` (when it is local) afterwards."""
    params: dict[str, str] = {}
    target = local_path(next_path, default="")
    if target and target != DESK_HOME:
        params["next"] = target
    params.update(flags)
    return LOGIN_PATH + ("?" + urllib.parse.urlencode(params) if params else "")


def _return_path(request: Request) -> str | None:
    """Where the login should lead back to: this page, if it can be asked for again (a GET)."""
    if request.method not in ("GET", "HEAD"):
        return None
    path = request.url.path
    return f"{path}?{request.url.query}" if request.url.query else path


def desk_user(request: Request) -> DeskUser:
    """The officer whose page session the request's cookie holds; the session's last use
    becomes now.

    Raises:
        LoginRequired: no cookie, an unknown one, or a session that has ended (idle, absolute
            limit, logout, officer deactivated; recorded in the audit chain as
            ``session_expired`` with the reason).
    """
    services = services_of(request)
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        raise LoginRequired(_return_path(request))
    idle, _ = session_limits(services.settings)
    record = services.register.find_desk_session(secret, now=services.clock.now(), idle=idle)
    if record is None:
        raise LoginRequired(_return_path(request))
    if record.expired_because is not None:
        audit(
            services,
            record.username,
            "session_expired",
            session_subject(record.id),
            reason=record.expired_because,
        )
        raise LoginRequired(_return_path(request), expired=True)
    user = DeskUser(
        principal=Principal(
            username=record.username, authority_code=record.authority_code, roles=record.roles
        ),
        csrf_token=record.csrf_token,
        full_name=record.full_name,
        session_id=record.id,
        authority_name=record.authority_name,
    )
    request.state.desk_user = user  # the layout and the error page show who is signed in
    return user


SignedIn = Annotated[DeskUser, Depends(desk_user)]


def tokens_match(expected: str, submitted: str) -> bool:
    """Constant-time comparison of two tokens (any text: compared as UTF-8 bytes)."""
    return hmac.compare_digest(expected.encode("utf-8"), submitted.encode("utf-8"))


def check_csrf(request: Request, user: DeskUser, submitted: str | None) -> None:
    """Refuse a state-changing request whose CSRF token is not the session's.

    Raises:
        PermissionDeniedError: code ``csrf_failed``; the attempt is recorded in the audit chain
            (``csrf_refused``, subject the request's path, reason ``missing`` or ``forged``).
    """
    if submitted and tokens_match(user.csrf_token, submitted):
        return
    audit(
        services_of(request),
        user.principal.username,
        "csrf_refused",
        request.url.path,
        reason="forged" if submitted else "missing",
    )
    raise PermissionDeniedError(_CSRF_REFUSED, code="csrf_failed")


async def csrf_checked(request: Request, user: SignedIn) -> DeskUser:
    """The signed-in officer of a desk POST whose form field ``csrf_token`` is the session's.
    The form is parsed here (and kept: the route's ``Form`` parameters read the same one).

    Raises:
        LoginRequired: as :func:`desk_user`.
        PermissionDeniedError: code ``csrf_failed``, as :func:`check_csrf`.
    """
    submitted: str | None = None
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    await run_in_threadpool(check_csrf, request, user, submitted)
    return user


CsrfChecked = Annotated[DeskUser, Depends(csrf_checked)]


# --- rendering ------------------------------------------------------------------------------


def page_language(request: Request) -> str:
    """``?lang=`` when given, else the remembered choice (cookie), else Vietnamese."""
    asked = request.query_params.get("lang")
    if asked and asked.strip().lower() in i18n.LANGUAGES:
        return i18n.language(asked)
    return i18n.language(request.cookies.get(LANG_COOKIE))


def _switch_href(request: Request, other: str) -> str:
    """This page in the other language (a GET of the same path and query)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    params.append(("lang", other))
    return f"{request.url.path}?{urllib.parse.urlencode(params)}"


def render_desk(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """A desk page (a template extending ``desk/base.html``), never cached.

    The template gets ``lang``/``other``, ``switch_href``, ``user`` (the signed-in
    :class:`DeskUser`, or None) and ``csrf_token`` (the session's, or "") besides ``context``.
    """
    lang = page_language(request)
    other = "en" if lang == "vi" else "vi"
    user: DeskUser | None = getattr(request.state, "desk_user", None)
    response = templates.TemplateResponse(
        request,
        name,
        {
            "lang": lang,
            "other": other,
            "switch_href": _switch_href(request, other),
            "user": user,
            "csrf_token": user.csrf_token if user else "",
            "current_path": request.url.path,
            **(context or {}),
        },
        status_code=status_code,
        headers={**NO_STORE, **(headers or {})},
    )
    if request.query_params.get("lang") == lang and request.cookies.get(LANG_COOKIE) != lang:
        settings = services_of(request).settings
        set_cookie(response, settings, LANG_COOKIE, lang, max_age=_LANG_MAX_AGE)
    return response


# --- handlers -------------------------------------------------------------------------------


def _on_desk(request: Request) -> bool:
    path = request.url.path
    return path == DESK_HOME or path.startswith(DESK_HOME + "/")


def _error_page(request: Request, status: int, code: str, message: str) -> Response:
    return render_desk(
        request,
        "desk/error.html",
        {"status": status, "code": code, "message": i18n.split_message(message)},
        status_code=status,
    )


Handler = Callable[[Request, Any], Any]


async def _delegate(handler: Handler | None, request: Request, exc: Exception) -> Response:
    """Answer as the API does (api.errors), for paths outside the desk."""
    if handler is None:
        return error_response(500, *INTERNAL)
    answer = handler(request, exc)
    if inspect.isawaitable(answer):
        answer = await answer
    if not isinstance(answer, Response):
        raise TypeError(f"an exception handler answered {type(answer)!r}")
    return answer


def install_session_handlers(app: FastAPI) -> None:
    """Register the desk's exception handlers. Call after
    ``api.errors.install_error_handlers(app)``: outside ``/desk`` its JSON handlers answer.

    - ``LoginRequired``: 303 to the login page (``next`` = the page asked for, when local),
      and the session cookie cleared.
    - Under ``/desk``: a ``CertifyError`` (status from ``api.errors.status_for``, headers
      from ``error_headers``), an HTTP error (404, 405) or invalid form fields answer with the
      page ``desk/error.html`` instead of JSON.
    """
    json_certify = app.exception_handlers.get(CertifyError)
    json_http = app.exception_handlers.get(StarletteHTTPException)
    json_validation = app.exception_handlers.get(RequestValidationError)

    @app.exception_handler(LoginRequired)
    def _login_required(request: Request, exc: LoginRequired) -> Response:
        flags = {"expired": "1"} if exc.expired else {}
        response = RedirectResponse(login_url(exc.next_path, **flags), status_code=303)
        response.headers.update(NO_STORE)
        if SESSION_COOKIE in request.cookies:
            clear_cookie(response, services_of(request).settings, SESSION_COOKIE)
        return response

    @app.exception_handler(CertifyError)
    async def _certify_error(request: Request, exc: CertifyError) -> Response:
        if not _on_desk(request):
            return await _delegate(json_certify, request, exc)
        exc = disk_full_as_such(exc)  # a copy that could not be built on a full disk: 507
        status = status_for(exc)
        if status >= 500:
            log.error("%s: %s", exc.code, exc.message, exc_info=exc)
        response = _error_page(request, status, exc.code, exc.message)
        response.headers.update(error_headers(exc) or {})
        return response

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if not _on_desk(request):
            return await _delegate(json_http, request, exc)
        code, message = _HTTP_PAGES.get(exc.status_code, ("http_error", _HTTP_PAGES[400][1]))
        return _error_page(request, exc.status_code, code, message)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        if not _on_desk(request):
            return await _delegate(json_validation, request, exc)
        # Name the fields, never echo the values (as api.errors does).
        fields = sorted({str(err.get("loc", ("",))[-1]) for err in exc.errors()})
        message = (
            "Biểu mẫu thiếu hoặc sai: " + ", ".join(fields) + ". / Missing or invalid fields: "
        ) + ", ".join(fields)
        return _error_page(request, 400, "invalid_request", message)


_HTTP_PAGES = {
    400: ("bad_request", "Yêu cầu không hợp lệ. / Bad request."),
    404: ("not_found", "Không tìm thấy trang này. / There is no such page."),
    405: ("method_not_allowed", "Phương thức không được phép. / Method not allowed."),
    413: ("too_large", "Dữ liệu quá lớn. / Payload too large."),
}
