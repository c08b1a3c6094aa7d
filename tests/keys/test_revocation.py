"""CRL (RFC 5280 §5), OCSP responder (RFC 6960) and TSA (RFC 3161), checked with openssl."""

from __future__ import annotations

import base64
import urllib.parse
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509 import ocsp
from fastapi.testclient import TestClient

from keys.ca import ProvincialPKI
from keys.errors import MalformedOcspRequestError, MalformedTimestampRequestError
from keys.ocsp import build_request
from keys.tsa import parse_rejection
from tests.keys.conftest import issue_officer, openssl, write_pem


def _ocsp_request(pki: ProvincialPKI, cert: x509.Certificate, pem_dir: Path, tmp: Path) -> bytes:
    leaf = write_pem(tmp / "leaf.pem", cert)
    req = tmp / "req.der"
    res = openssl("ocsp", "-issuer", pem_dir / "issuing.pem", "-cert", leaf, "-reqout", req)
    assert res.returncode == 0, res.stderr
    return req.read_bytes()


def _check_response(resp: bytes, pem_dir: Path, tmp: Path) -> str:
    path = tmp / "resp.der"
    path.write_bytes(resp)
    chain = tmp / "chain.pem"
    chain.write_bytes((pem_dir / "root.pem").read_bytes() + (pem_dir / "issuing.pem").read_bytes())
    res = openssl("ocsp", "-respin", path, "-CAfile", chain, "-resp_text")
    assert res.returncode == 0, res.stderr
    assert b"Response verify OK" in res.stderr
    return res.stdout.decode()


@pytest.mark.integration
def test_ocsp_good_then_revoked(
    own_pki: ProvincialPKI, pem_dir: Path, tmp_path: Path, own_client: TestClient
) -> None:
    pki, client = own_pki, own_client
    cert = issue_officer(pki, "ocsp-user").certificate
    req = _ocsp_request(pki, cert, pem_dir, tmp_path)

    text = _check_response(pki.ocsp_respond(req), pem_dir, tmp_path)
    assert "Cert Status: good" in text
    assert "Signature Algorithm: rsassaPss" in text

    http = client.post(
        "/pki/ocsp", content=req, headers={"Content-Type": "application/ocsp-request"}
    )
    assert http.status_code == 200
    assert http.headers["content-type"] == "application/ocsp-response"
    assert "Cert Status: good" in _check_response(http.content, pem_dir, tmp_path)

    pki.revoke(cert.serial_number, "keyCompromise")
    b64 = urllib.parse.quote(base64.b64encode(req).decode(), safe="")
    http = client.get(f"/pki/ocsp/{b64}")
    assert http.status_code == 200
    text = _check_response(http.content, pem_dir, tmp_path)
    assert "Cert Status: revoked" in text
    assert "Revocation Reason: keyCompromise" in text
    assert "Revocation Time:" in text


def test_ocsp_nonce_and_unknown(pki: ProvincialPKI) -> None:
    cert = pki.find("officer", "nva").certificate
    issuing = pki.ca_certificate("issuing")
    resp = ocsp.load_der_ocsp_response(
        pki.ocsp_respond(build_request(cert, issuing, nonce=b"n" * 16))
    )
    assert resp.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert resp.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert resp.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == b"n" * 16
    # Responder certificate: EKU OCSPSigning and id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2).
    responder = resp.certificates[0]
    eku = responder.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.oid.ExtendedKeyUsageOID.OCSP_SIGNING in eku
    responder.extensions.get_extension_for_class(x509.OCSPNoCheck)

    unknown = (
        ocsp.OCSPRequestBuilder()
        .add_certificate_by_hash(
            resp.issuer_name_hash, resp.issuer_key_hash, 12345, resp.hash_algorithm
        )
        .build()
        .public_bytes(serialization.Encoding.DER)
    )
    answer = ocsp.load_der_ocsp_response(pki.ocsp_respond(unknown))
    assert answer.certificate_status == ocsp.OCSPCertStatus.UNKNOWN


def test_ocsp_malformed(pki: ProvincialPKI, client: TestClient) -> None:
    with pytest.raises(MalformedOcspRequestError):
        pki.ocsp_respond(b"\x30\x03garbage")
    for res in (
        client.post(
            "/pki/ocsp", content=b"not der", headers={"Content-Type": "application/ocsp-request"}
        ),
        client.post("/pki/ocsp", content=b"", headers={"Content-Type": "application/ocsp-request"}),
        client.get("/pki/ocsp/%%%not-base64"),
        client.get("/pki/ocsp/" + base64.b64encode(b"junk").decode()),
    ):
        assert res.status_code == 400, res.text
        assert res.json()["error"] == "malformed_ocsp_request"


@pytest.mark.integration
def test_crl_verifies_and_lists_revoked(
    own_pki: ProvincialPKI, pem_dir: Path, tmp_path: Path, own_client: TestClient
) -> None:
    pki, client = own_pki, own_client
    serial = issue_officer(pki, "crl-user").serial
    pki.revoke(serial, "affiliationChanged")
    res = client.get("/pki/crl/issuing.crl")
    assert res.status_code == 200
    assert res.headers["content-type"] == "application/pkix-crl"
    crl_path = tmp_path / "issuing.crl"
    crl_path.write_bytes(res.content)
    chain = tmp_path / "chain.pem"
    chain.write_bytes((pem_dir / "root.pem").read_bytes() + (pem_dir / "issuing.pem").read_bytes())
    out = openssl(
        "crl", "-inform", "DER", "-in", crl_path, "-CAfile", chain, "-verify", "-noout", "-text"
    )
    assert out.returncode == 0, out.stderr
    assert b"verify OK" in out.stderr
    assert f"{serial:X}".encode() in out.stdout.upper().replace(b":", b"")
    assert b"Affiliation Changed" in out.stdout
    crl = x509.load_der_x509_crl(res.content)
    assert crl.next_update_utc is not None
    assert crl.next_update_utc > crl.last_update_utc
    # The root's CRL and the CA certificates are served too.
    assert client.get("/pki/crl/root.crl").status_code == 200
    der = client.get("/pki/ca/root.crt")
    assert der.headers["content-type"] == "application/pkix-cert"
    assert x509.load_der_x509_certificate(der.content) == pki.ca_certificate("root")
    assert client.get("/pki/ca/nope.crt").status_code == 404


def test_crl_cached_until_change(own_pki: ProvincialPKI) -> None:
    pki = own_pki
    first = pki.crl_der()
    assert pki.crl_der() == first
    pki.revoke(issue_officer(pki, "cache-user").serial, "superseded")
    assert pki.crl_der() != first


def test_revoke_rejects_unknown_reason(own_pki: ProvincialPKI) -> None:
    from keys.errors import InvalidRevocationReasonError

    with pytest.raises(InvalidRevocationReasonError):
        own_pki.revoke(own_pki.find("officer", "nva").serial, "because")
    assert own_pki.find("officer", "nva").certificate  # still valid


@pytest.mark.integration
def test_tsa_token_verifies_with_openssl(
    pki: ProvincialPKI, pem_dir: Path, tmp_path: Path, client: TestClient
) -> None:
    data = tmp_path / "data.bin"
    data.write_bytes(b"ban sao dien tu " * 100)
    query = tmp_path / "q.tsq"
    res = openssl("ts", "-query", "-data", data, "-sha256", "-cert", "-out", query)
    assert res.returncode == 0, res.stderr
    http = client.post(
        "/pki/tsa",
        content=query.read_bytes(),
        headers={"Content-Type": "application/timestamp-query"},
    )
    assert http.status_code == 200
    assert http.headers["content-type"] == "application/timestamp-reply"
    reply = tmp_path / "r.tsr"
    reply.write_bytes(http.content)
    res = openssl(
        "ts",
        "-verify",
        "-data",
        data,
        "-in",
        reply,
        "-CAfile",
        pem_dir / "root.pem",
        "-untrusted",
        pem_dir / "issuing.pem",
    )
    assert res.returncode == 0, res.stderr + res.stdout
    assert b"Verification: OK" in res.stdout
    # Direct call gives the same kind of answer.
    direct = reply.with_suffix(".direct")
    direct.write_bytes(pki.tsa_respond(query.read_bytes()))
    res = openssl("ts", "-reply", "-in", direct, "-text")
    assert b"Status: Granted" in res.stdout


def test_tsa_malformed_and_rejected(pki: ProvincialPKI, client: TestClient) -> None:
    with pytest.raises(MalformedTimestampRequestError):
        pki.tsa_respond(b"\x30\x00")
    res = client.post(
        "/pki/tsa", content=b"garbage", headers={"Content-Type": "application/timestamp-query"}
    )
    assert res.status_code == 400
    assert res.json()["error"] == "malformed_timestamp_request"
    # A SHA-1 imprint is refused inside the protocol (RFC 3161 §2.4.2 badAlg).
    from asn1crypto import tsp

    req = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha1"},
                "hashed_message": b"x" * 20,
            },
        }
    ).dump()
    status, failures = parse_rejection(pki.tsa_respond(req))
    assert status == "rejection"
    assert "bad_alg" in failures
