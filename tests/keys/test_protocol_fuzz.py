"""OCSP (RFC 6960) and TSA (RFC 3161) requests mutated at random with Hypothesis, and the two
crafted requests that once gave HTTP 500: every answer is a response or a 400, never a
crash; an oversized body is refused while it streams."""

from __future__ import annotations

import resource
import socket
from types import SimpleNamespace

import httpx
import pytest
from asn1crypto import core, tsp
from asn1crypto import ocsp as asn1_ocsp
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.errors import install_error_handlers
from api.routes.pki import router as pki_router
from keys.errors import MalformedOcspRequestError, MalformedTimestampRequestError
from keys.ocsp import build_request
from keys.tsa import build_query, parse_rejection
from storage.minio_server import free_port
from tests.issuing import CERTIFIER, ServedPki, serve_in_thread

# Hypothesis runs with a fixed seed in CI (derandomize), so a failure reproduces.
FUZZ = settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def mutated(seed: bytes) -> st.SearchStrategy[bytes]:
    """``seed`` with bytes flipped, retagged, cut or inserted: DER that is nearly right."""
    positions = st.integers(min_value=0, max_value=len(seed) - 1)
    flip = st.tuples(positions, st.integers(1, 255)).map(
        lambda pv: seed[: pv[0]] + bytes([seed[pv[0]] ^ pv[1]]) + seed[pv[0] + 1 :]
    )
    # Universal tags a structure may be retagged to (INTEGER, REAL, NULL, OID, UTF8String...).
    retag = st.tuples(positions, st.sampled_from([0x01, 0x02, 0x05, 0x06, 0x09, 0x0C, 0x30])).map(
        lambda pt: seed[: pt[0]] + bytes([pt[1]]) + seed[pt[0] + 1 :]
    )
    cut = positions.map(lambda n: seed[:n])
    insert = st.tuples(positions, st.binary(min_size=1, max_size=8)).map(
        lambda pb: seed[: pb[0]] + pb[1] + seed[pb[0] :]
    )
    return st.one_of(flip, retag, cut, insert, st.binary(max_size=64))


@pytest.fixture(scope="module")
def requests(served_pki: ServedPki) -> tuple[bytes, bytes]:
    pki = served_pki.pki
    officer = pki.find("officer", CERTIFIER.username).certificate
    ocsp_der = build_request(officer, pki.ca_certificate("issuing"), nonce=b"0123456789abcdef")
    return ocsp_der, build_query(b"a document", nonce=12345)


def test_mutated_ocsp_requests_get_a_response_or_a_400(
    served_pki: ServedPki, requests: tuple[bytes, bytes]
) -> None:
    answered = refused = 0

    @FUZZ
    @given(data=mutated(requests[0]))
    def check(data: bytes) -> None:
        nonlocal answered, refused
        try:
            asn1_ocsp.OCSPResponse.load(served_pki.pki.ocsp_respond(data)).native  # noqa: B018
            answered += 1
        except MalformedOcspRequestError:
            refused += 1

    check()
    assert answered + refused >= 400
    assert answered and refused  # both kinds were really exercised


def test_mutated_timestamp_queries_get_a_response_or_a_400(
    served_pki: ServedPki, requests: tuple[bytes, bytes]
) -> None:
    answered = refused = 0

    @FUZZ
    @given(data=mutated(requests[1]))
    def check(data: bytes) -> None:
        nonlocal answered, refused
        try:
            answer = served_pki.pki.tsa_respond(data)
        except MalformedTimestampRequestError:
            refused += 1
            return
        try:
            granted = tsp.TimeStampResp.load(answer)
            assert granted["status"]["status"].native == "granted"
            assert granted["time_stamp_token"]["content_type"].native == "signed_data"
        except ValueError:  # no token: a rejection (RFC 3161 §2.4.2)
            assert parse_rejection(answer)[0] == "rejection"
        answered += 1

    check()
    assert answered + refused >= 400
    assert answered and refused


def test_a_negative_serial_is_a_malformed_request(
    served_pki: ServedPki, requests: tuple[bytes, bytes]
) -> None:
    request = asn1_ocsp.OCSPRequest.load(requests[0])
    request["tbs_request"]["request_list"][0]["req_cert"]["serial_number"] = core.Integer(-1)
    answer = asn1_ocsp.OCSPResponse.load(served_pki.pki.ocsp_respond(request.dump(force=True)))
    assert answer["response_status"].native == "malformed_request"


def test_a_nonce_retagged_as_real_is_a_400(
    served_pki: ServedPki, requests: tuple[bytes, bytes]
) -> None:
    der = bytearray(requests[1])
    nonce = core.Integer(12345).dump()
    at = der.rfind(nonce)
    der[at] = 0x09  # INTEGER -> REAL, same length
    with pytest.raises(MalformedTimestampRequestError):
        served_pki.pki.tsa_respond(bytes(der))


def test_an_oversized_body_is_refused_while_it_streams(served_pki: ServedPki) -> None:
    """300 MB sent in 1 MiB chunks without a Content-Length to a real server: 413 after the
    first 64 KiB, and the server process does not grow by the body's size."""
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(pki_router)
    app.state.services = SimpleNamespace(pki=lambda: served_pki.pki)
    chunk = b"\x30" * (1024 * 1024)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with serve_in_thread(app, free_port()) as url, httpx.Client(base_url=url) as client:
        for path in ("/pki/tsa", "/pki/ocsp"):
            try:
                answer = client.post(path, content=(chunk for _ in range(300)))
            except httpx.TransportError:
                continue  # the server answered and closed while we were still sending
            assert answer.status_code == 413
            assert answer.json()["error"] == "upload_too_large"
        # Only announced: refused on the Content-Length, before any of the body is read.
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(
                b"POST /pki/tsa HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                % (300 * 1024 * 1024)
            )
            assert sock.recv(4096).startswith(b"HTTP/1.1 413 ")
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 100
