"""HTTP faces of the provincial PKI: CA certificates, CRLs, OCSP (RFC 6960), TSA (RFC 3161).

``request.app.state.pki`` must provide the methods of :class:`keys.ca.PkiEndpoints`
(``ca_certificate_der``, ``crl_der``, ``ocsp_respond``, ``tsa_respond``); a
:class:`keys.ca.ProvincialPKI` does. Malformed requests raise the ``keys.errors``
InvalidInputError subclasses, which ``api/errors.py`` answers with HTTP 400.
"""

from __future__ import annotations

import base64
import binascii
import urllib.parse
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from api.uploads import read_body
from certify.errors import UnavailableError
from keys.ca import PkiEndpoints
from keys.errors import MalformedOcspRequestError, MalformedTimestampRequestError

router = APIRouter(prefix="/pki", tags=["pki"])

# RFC 6960 §A.1 / RFC 3161 §3.4: bound request bodies; real requests are a few hundred bytes.
MAX_REQUEST_BYTES = 64 * 1024


def _pki(request: Request) -> PkiEndpoints:
    pki: PkiEndpoints | None = request.app.state.services.pki()
    if pki is None:
        raise UnavailableError(
            "Hạ tầng khoá công khai chưa được khởi tạo (certify pki init). / "
            "The PKI is not initialised yet (certify pki init).",
            code="pki_not_initialised",
        )
    return pki


@router.get("/ca/{name}.crt", response_class=Response)
def ca_certificate(name: str, request: Request) -> Response:
    """The CA certificate ``name``, DER (RFC 5280 §4.2.2.1 caIssuers): "root", "issuing" (the
    first issuing CA), then each renewed issuing CA by the name its certificates give
    ("issuing-g2", ...)."""
    return Response(_pki(request).ca_certificate_der(name), media_type="application/pkix-cert")


@router.get("/crl/{name}.crl", response_class=Response)
def crl(name: str, request: Request) -> Response:
    """The current CRL of CA ``name``, DER (RFC 5280 §5), signed by that CA: every issuing CA
    generation keeps publishing its own at the URL its certificates name."""
    return Response(_pki(request).crl_der(name), media_type="application/pkix-crl")


def _ocsp_answer(request: Request, der: bytes) -> Response:
    return Response(
        _pki(request).ocsp_respond(der),
        media_type="application/ocsp-response",
        headers={"Cache-Control": "no-cache"},
    )


@router.get("/ocsp/{b64req:path}", response_class=Response)
def ocsp_get(b64req: str, request: Request) -> Response:
    """OCSP over GET: the path is the URL-encoded base64 of the DER request (RFC 6960 §A.1)."""
    try:
        der = base64.b64decode(urllib.parse.unquote(b64req), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedOcspRequestError() from exc
    return _ocsp_answer(request, der)


_OCSP_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/ocsp-request": {"schema": {"type": "string", "format": "binary"}}},
    }
}
_TSA_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/timestamp-query": {"schema": {"type": "string", "format": "binary"}}
        },
    }
}


@router.post("/ocsp", response_class=Response, openapi_extra=_OCSP_BODY)
async def ocsp_post(request: Request) -> Response:
    """OCSP over POST: body ``application/ocsp-request`` (RFC 6960 §A.1); a body over 64 KiB
    is refused with 413 while it streams."""
    body = await read_body(request, max_bytes=MAX_REQUEST_BYTES)
    if not body:
        raise MalformedOcspRequestError()
    return await run_in_threadpool(_ocsp_answer, request, body)


@router.post("/tsa", response_class=Response, openapi_extra=_TSA_BODY)
async def tsa(request: Request) -> Response:
    """RFC 3161 §3.4: body ``application/timestamp-query``, answer
    ``application/timestamp-reply``; a body over 64 KiB is refused with 413 while it
    streams."""
    body = await read_body(request, max_bytes=MAX_REQUEST_BYTES)
    if not body:
        raise MalformedTimestampRequestError()
    answer = await run_in_threadpool(_pki(request).tsa_respond, body)
    return Response(answer, media_type="application/timestamp-reply")
