"""The public verification pages: upload a PDF, or type the code under a paper copy's QR code,
and read the verdict (DESIGN.md, "Verification verdicts"). No login: banks, schools,
employers and courts use them.

- ``GET /verify``: the two forms; with ``?code=`` it redirects to the code's page.
- ``POST /verify``: the verdict on an uploaded PDF.
- ``GET /v/{token}``: the verdict on the copy behind a code (what the QR code opens).

Vietnamese first, English beside it (TT 15/2025/TT-BKHCN: the verifier shows its result in
Vietnamese); ``?lang=en`` puts English first. Plain HTML: no JavaScript and nothing inline,
as the Content-Security-Policy allows neither. A verdict that is not genuine is an answer
(HTTP 200); a request that cannot be answered (no file, too large, rate limited, service
down) shows the form again with the error and the status of ``api/errors.py``.
"""

from __future__ import annotations

import base64
import logging
import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api import i18n
from api.errors import error_headers, status_for
from api.metrics import record_error
from api.routes import verify as verify_api
from certify.errors import CertifyError
from certify.etsi_report import render_report
from certify.verdicts import Verification
from certify.verifier import TOKEN_PATTERN

log = logging.getLogger(__name__)

router = APIRouter(tags=["pages"], include_in_schema=False)

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
REPORT_FILENAME = "bao-cao-kiem-tra.xml"
templates = Jinja2Templates(directory=TEMPLATES_DIR)  # autoescapes .html
templates.env.globals.update(
    T=i18n.UI,
    REPORT_FILENAME=REPORT_FILENAME,
    VERDICT_LABELS=i18n.VERDICT_LABELS,
    role_words=i18n.role,
    certificate_status_words=i18n.certificate_status,
)
templates.env.filters.update(vn_date=i18n.vn_date, vn_time=i18n.vn_time)

# A verdict changes when a copy is cancelled, and an upload's verdict is one person's.
NO_STORE = {"Cache-Control": "no-store"}
# What a mistyped or garbled code may be cut at: a pasted link's query or fragment, and the
# punctuation that ends a sentence it was copied from.
_URL_TAIL = re.compile(r"[?#].*\Z", re.DOTALL)

Lang = Annotated[str | None, Query(description="vi (default) or en")]


def token_from_code(code: str) -> str | None:
    """The verification token in what a person typed or pasted, or None if there is none.

    Tolerant of how people type: spaces anywhere are dropped, and from a pasted link
    (``https://…/v/TOKEN?lang=en``) the part after the last ``/v/`` is taken. The result
    must be a token (URL-safe base64, 16..128 characters), so nothing else is ever put in a
    redirect.
    """
    text = "".join(code.split())
    if "/v/" in text:
        text = text.rsplit("/v/", 1)[1]
    text = _URL_TAIL.sub("", text).rstrip("/.,;")
    return text if TOKEN_PATTERN.fullmatch(text) else None


@router.get("/verify", response_class=HTMLResponse)
def form_page(request: Request, lang: Lang = None, code: str | None = None) -> Response:
    """The verification form; with ``code``, a redirect (303) to that code's page."""
    lang = i18n.language(lang)
    if code is None:
        return _form(request, lang)
    token = token_from_code(code)
    if token is None:
        error = i18n.UI["code_invalid"] if code.strip() else i18n.UI["code_empty"]
        return _form(request, lang, error=error, status_code=400, code=code[:200])
    return RedirectResponse(_with_lang(f"/v/{token}", lang), status_code=303)


@router.post("/verify", response_class=HTMLResponse)
async def upload_page(request: Request, lang: Lang = None) -> Response:
    """The verdict on an uploaded PDF (multipart field ``file``)."""
    lang = i18n.language(lang)
    try:
        # The API's own steps: rate limit, bounded read, validation off the event loop.
        verification = await verify_api.verify_upload(request, request.app.state.services)
    except CertifyError as exc:
        return _error(request, lang, exc)
    return _result(request, lang, verification, report_href=_report_data_url(verification))


@router.get("/v/{token}", response_class=HTMLResponse)
def token_page(token: str, request: Request, lang: Lang = None) -> Response:
    """The verdict on the copy whose verification code is ``token`` (what the QR opens)."""
    lang = i18n.language(lang)
    if not TOKEN_PATTERN.fullmatch(token):
        # Not a code at all (a garbled link): say so on the form rather than echo it.
        return _form(request, lang, error=i18n.UI["code_invalid"], status_code=404)
    try:
        verification = verify_api.verify_token(request, request.app.state.services, token)
    except CertifyError as exc:
        return _error(request, lang, exc)
    return _result(request, lang, verification, report_href=f"/api/v1/verify/{token}/report.xml")


# --- rendering ------------------------------------------------------------------------------


def _with_lang(path: str, lang: str) -> str:
    return f"{path}?lang=en" if lang == "en" else path


def _page(
    request: Request,
    name: str,
    lang: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    other = "en" if lang == "vi" else "vi"
    return templates.TemplateResponse(
        request,
        name,
        {
            "lang": lang,
            "other": other,
            # The switch keeps the page (and its token); the upload's verdict cannot be
            # shown again without the file, so there it leads back to the form.
            "switch_href": _with_lang(request.url.path, other),
            "verify_href": _with_lang("/verify", lang),
            **context,
        },
        status_code=status_code,
        headers=headers,
    )


def _form(
    request: Request,
    lang: str,
    *,
    error: i18n.Pair | None = None,
    status_code: int = 200,
    code: str = "",
) -> Response:
    max_bytes: int = request.app.state.services.settings.verify_max_upload_bytes
    return _page(
        request,
        "verify.html",
        lang,
        {"error": error, "code": code, "max_mib": max(1, max_bytes // (1024 * 1024))},
        status_code=status_code,
        headers=NO_STORE if error else None,
    )


def _error(request: Request, lang: str, exc: CertifyError) -> Response:
    """The form again, with the error's message in both languages and its HTTP status."""
    status = status_for(exc)
    record_error(request, status, exc.code, exc)
    if status >= 500:
        log.warning("verification page not answered: %s", exc.code)
    response = _form(request, lang, error=i18n.split_message(exc.message), status_code=status)
    response.headers.update(error_headers(exc) or {})
    return response


def _result(
    request: Request, lang: str, verification: Verification, *, report_href: str | None
) -> Response:
    return _page(
        request,
        "result.html",
        lang,
        {"v": verification, "report_href": report_href},
        headers=NO_STORE,
    )


def _report_data_url(verification: Verification) -> str | None:
    """The ETSI TS 119 102-2 report of an upload's verification, as a ``data:`` URL to
    download: nothing of an upload is kept to serve it later."""
    try:
        xml = render_report(verification)
    except Exception:  # a report that cannot be written must not hide the verdict
        log.exception("the ETSI report of a verification could not be rendered")
        return None
    payload = base64.b64encode(xml.encode("utf-8")).decode("ascii")
    return f"data:application/xml;base64,{payload}"
