"""Rollover: the TSA, the OCSP responder and the issuing CA are renewed over the years while
everything they signed stays verifiable (issue 14). Time comes from a clock the test moves;
the wall clock is never read."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import pytest
from asn1crypto import cms, tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from keys._crypto import to_asn1_cert
from keys.ca import IssuedCertificate, ProvincialPKI
from keys.errors import CertificateExpiredError, NoCertificateError, UnknownRenewalError
from keys.ocsp import build_request
from keys.profiles import BACKDATE
from keys.signers import SignerSource
from keys.tsa import build_query
from tests.keys.conftest import (
    BASE_URL,
    PASSPHRASE,
    minimal_pdf,
    openssl,
    pki_client,
    write_pem,
)

YEAR = dt.timedelta(days=365)
START = dt.datetime(2026, 1, 5, 2, 0, tzinfo=dt.UTC)


class MovingClock:
    """A fixed time that the test moves on."""

    def __init__(self, at: dt.datetime = START) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def move(self, by: dt.timedelta) -> None:
        self.at += by


def new_pki(directory: Path, clock: MovingClock, algorithm: str = "ecdsa-p256") -> ProvincialPKI:
    pki = ProvincialPKI.init(
        directory,
        province="Đồng Nai",
        passphrase=PASSPHRASE,
        base_url=BASE_URL,
        algorithm=algorithm,
        clock=clock,
    )
    pki.issue_authority("TP01", "UBND phường Tân Phú")
    return pki


def officer(pki: ProvincialPKI, username: str) -> IssuedCertificate:
    return pki.issue_officer(username, f"Cán bộ {username}", "Công chức Tư pháp", "TP01")


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def token_signer(resp_der: bytes) -> tuple[int, dt.datetime]:
    """(serial of the signing certificate, genTime) of a granted TimeStampResp."""
    resp = tsp.TimeStampResp.load(resp_der)
    assert resp["status"]["status"].native == "granted"
    signed = resp["time_stamp_token"]["content"]
    return sid_and_time(signed)


def sid_and_time(signed: cms.SignedData) -> tuple[int, dt.datetime]:
    sid = signed["signer_infos"][0]["sid"].chosen
    tst = signed["encap_content_info"]["content"].parsed
    return sid["serial_number"].native, tst["gen_time"].native


# --- the TSA ----------------------------------------------------------------------------------


def test_a_renewed_tsa_signs_the_next_token_and_the_old_one_stays_for_validation(
    tmp_path: Path,
) -> None:
    clock = MovingClock()
    pki = new_pki(tmp_path / "pki", clock)
    signers = SignerSource(pki)  # built before the rollover, never rebuilt
    stamper = signers.timestamper()
    other = ProvincialPKI.open(
        tmp_path / "pki", passphrase=PASSPHRASE, base_url=BASE_URL, clock=clock
    )  # a second process on the same index
    first = pki.tsa.cert
    assert other.tsa.cert == first
    assert token_signer(pki.tsa_respond(build_query(b"year 0")))[0] == first.serial_number

    clock.move(4 * YEAR)  # renewed a year before the first TSA certificate expires
    [renewed] = pki.renew("tsa")
    assert renewed.kind == "tsa"
    new = renewed.certificate
    assert new.serial_number != first.serial_number
    assert new.not_valid_before_utc == clock.at - BACKDATE
    # The root certifies the TSA (keys.profiles.tsa_certificate).
    assert new.issuer == pki.ca_certificate("root").subject
    assert renewed.chain == (pki.ca_certificate("root"),)

    serial, gen_time = token_signer(pki.tsa_respond(build_query(b"year 4")))
    assert (serial, gen_time) == (new.serial_number, clock.at)
    # The signer source built before picks the new TSA without being rebuilt.
    digest = hashlib.sha256(b"archive").digest()
    token = asyncio.run(stamper.async_timestamp(digest, "sha256"))
    assert sid_and_time(token["content"]) == (new.serial_number, clock.at)
    again = asyncio.run(signers.timestamper().async_timestamp(digest, "sha256"))
    assert sid_and_time(again["content"])[0] == new.serial_number

    # The other process sees the renewal once it re-reads the index.
    before = other.generation
    assert other.refresh() > before
    assert other.tsa.cert == new
    assert token_signer(other.tsa_respond(build_query(b"other")))[0] == new.serial_number

    tsa_serials = [r.serial for r in pki.list() if r.kind == "tsa"]
    assert tsa_serials == [first.serial_number, new.serial_number]
    certs, _, _ = signers.revocation_material()
    ders = {c.dump() for c in certs}
    assert {der(first), der(new)} <= ders

    # Past the first certificate's expiry: the new TSA signs, the old one is still on file
    # (an expired TSA certificate builds the path of the timestamps it made).
    clock.at = first.not_valid_after_utc + dt.timedelta(days=1)
    assert pki.tsa.cert == new
    assert token_signer(pki.tsa_respond(build_query(b"year 5")))[0] == new.serial_number
    assert pki.record(first.serial_number).status == "expired"
    certs, _, _ = signers.revocation_material()
    assert der(first) in {c.dump() for c in certs}
    context = signers.validation_context()
    assert der(first) in {c.dump() for c in context.certificate_registry}


def test_without_renewal_the_tsa_stops_when_its_certificate_expires(tmp_path: Path) -> None:
    clock = MovingClock()
    pki = new_pki(tmp_path / "pki", clock)
    first = pki.tsa.cert
    clock.at = first.not_valid_after_utc + dt.timedelta(seconds=1)
    with pytest.raises(NoCertificateError):
        pki.tsa_respond(build_query(b"too late"))
    [renewed] = pki.renew("tsa")
    assert token_signer(pki.tsa_respond(build_query(b"x")))[0] == renewed.serial


# --- the PKI's time -----------------------------------------------------------------------------


def test_everything_the_pki_dates_follows_the_injected_clock(tmp_path: Path) -> None:
    clock = MovingClock(dt.datetime(2031, 7, 1, 3, 4, 5, tzinfo=dt.UTC))
    pki = new_pki(tmp_path / "pki", clock)
    assert pki.clock is clock
    issued = officer(pki, "dated")
    assert issued.certificate.not_valid_before_utc == clock.at - BACKDATE
    assert pki.ca_certificate("root").not_valid_before_utc == clock.at - BACKDATE

    clock.move(dt.timedelta(days=3, seconds=7))
    crl = pki.crl("issuing")
    assert crl.last_update_utc == clock.at
    assert crl.next_update_utc is not None and crl.next_update_utc > clock.at
    response = ocsp.load_der_ocsp_response(pki.ocsp_response_for(issued.certificate))
    assert response.produced_at_utc == clock.at
    assert response.this_update_utc == clock.at
    assert token_signer(pki.tsa_respond(build_query(b"t")))[1] == clock.at
    record = pki.revoke(issued.serial, "superseded")
    assert record.revoked_at == clock.at
    assert pki.crl("issuing").last_update_utc == clock.at

    statuses = {r.serial: r.status for r in pki.list()}
    assert statuses[issued.serial] == "revoked"
    clock.move(3 * YEAR)  # the authority's seal (3 years) has expired by the PKI's clock
    seal = pki.list()[-2]
    assert (seal.kind, seal.status) == ("authority", "expired")
    with pytest.raises(NoCertificateError):
        pki.find("authority", "TP01")


def test_signer_source_takes_the_pki_clock_unless_given(tmp_path: Path) -> None:
    clock = MovingClock()
    pki = new_pki(tmp_path / "pki", clock)
    issued = officer(pki, "checked")
    SignerSource(pki).check_usable(issued.certificate)
    clock.move(3 * YEAR)
    with pytest.raises(CertificateExpiredError):
        SignerSource(pki).check_usable(issued.certificate)
    SignerSource(pki, clock=lambda: START).check_usable(issued.certificate)


def test_renewing_something_else_is_refused_in_both_languages(tmp_path: Path) -> None:
    pki = new_pki(tmp_path / "pki", MovingClock())
    with pytest.raises(UnknownRenewalError) as exc:
        pki.renew("root")  # type: ignore[arg-type]
    assert exc.value.code == "unknown_renewal"
    vietnamese, english = exc.value.message.split(" / ", 1)
    assert vietnamese and "renew" in english


# --- the issuing CA, renewed in year 8 ---------------------------------------------------------


@dataclass
class Renewed:
    """A PKI whose issuing CA was renewed in year 8."""

    pki: ProvincialPKI
    clock: MovingClock
    ca1: x509.Certificate
    ca2: x509.Certificate
    old_officer: IssuedCertificate  # issued by CA1 in year 7.5, revoked after the renewal
    kept_officer: IssuedCertificate  # issued by CA1 in year 7.5, still good
    new_officer: IssuedCertificate  # issued by CA2 in year 8
    pem: Path


@pytest.fixture(scope="module")
def renewed(tmp_path_factory: pytest.TempPathFactory) -> Renewed:
    clock = MovingClock()
    d = tmp_path_factory.mktemp("rollover")
    pki = new_pki(d / "pki", clock)
    ca1 = pki.ca_certificate("issuing")
    clock.move(4 * YEAR)
    pki.renew("tsa")
    clock.move(3 * YEAR + YEAR / 2)
    pki.issue_authority("TP01", "UBND phường Tân Phú")  # the first seal expired in year 3
    responders = pki.renew("ocsp")  # CA1's first responder lived one year
    assert [r.certificate.issuer for r in responders] == [ca1.subject]
    old_officer = officer(pki, "old.officer")
    kept_officer = officer(pki, "kept.officer")
    clock.move(YEAR / 2)
    made = pki.renew("issuing")
    assert [m.kind for m in made] == ["issuing", "ocsp"]
    ca2 = made[0].certificate
    pki.revoke(old_officer.serial, "keyCompromise")
    new_officer = officer(pki, "new.officer")
    pem = d / "pem"
    pem.mkdir()
    write_pem(pem / "root.pem", pki.ca_certificate("root"))
    write_pem(pem / "ca1.pem", ca1)
    write_pem(pem / "ca2.pem", ca2)
    write_pem(pem / "new.pem", new_officer.certificate)
    write_pem(pem / "old.pem", old_officer.certificate)
    return Renewed(pki, clock, ca1, ca2, old_officer, kept_officer, new_officer, pem)


def test_the_renewed_ca_is_a_new_generation_with_a_new_key_and_name(renewed: Renewed) -> None:
    pki, ca1, ca2 = renewed.pki, renewed.ca1, renewed.ca2
    assert pki.ca_certificates("issuing") == [ca1, ca2]
    assert pki.ca_names() == ["root", "issuing", "issuing-g2"]
    assert pki.current_issuing_name() == "issuing-g2"
    assert pki.ca_certificate("issuing") == ca1
    assert pki.ca_certificate("issuing-g2") == ca2
    assert ca2.subject != ca1.subject
    assert ca2.subject.rfc4514_string().endswith("Đồng Nai G2,O=UBND Đồng Nai,ST=Đồng Nai,C=VN")
    ski = x509.SubjectKeyIdentifier
    assert ca2.extensions.get_extension_for_class(ski) != ca1.extensions.get_extension_for_class(
        ski
    )
    assert ca2.issuer == pki.ca_certificate("root").subject
    assert ca2.not_valid_before_utc == renewed.clock.at - BACKDATE
    assert pki.intermediates() == [ca1, ca2]
    assert pki.record(ca2.serial_number).issuer == "root"


def test_a_new_officer_certificate_chains_to_the_root_through_the_new_ca(
    renewed: Renewed,
) -> None:
    pki, new = renewed.pki, renewed.new_officer
    assert new.certificate.issuer == renewed.ca2.subject
    assert new.chain == (renewed.ca2, pki.ca_certificate("root"))
    assert pki.chain_of(new.certificate) == new.chain
    assert pki.find("officer", "new.officer").chain == new.chain
    assert pki.find("officer", "kept.officer").chain == (renewed.ca1, pki.ca_certificate("root"))
    assert pki.record(new.serial).issuer == "issuing-g2"
    at = str(int(renewed.clock.at.timestamp()))
    pem = renewed.pem
    verified = openssl(
        "verify", "-attime", at, "-CAfile", pem / "root.pem", "-untrusted", pem / "ca2.pem",
        pem / "new.pem",
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr
    wrong = openssl(
        "verify", "-attime", at, "-CAfile", pem / "root.pem", "-untrusted", pem / "ca1.pem",
        pem / "new.pem",
    )  # fmt: skip
    assert wrong.returncode != 0
    # Every new end-entity certificate comes from the new CA, the services' too.
    # The root certifies the TSA (keys.profiles.tsa_certificate), renewed on its own schedule.
    assert pki.tsa.cert.issuer == pki.ca_certificate("root").subject
    assert pki.ocsp_responder.responder_cert.issuer == renewed.ca2.subject


def test_each_ca_publishes_its_own_crl_at_the_url_its_certificates_name(
    renewed: Renewed,
) -> None:
    pki, ca1, ca2 = renewed.pki, renewed.ca1, renewed.ca2
    dp = renewed.new_officer.certificate.extensions.get_extension_for_class(
        x509.CRLDistributionPoints
    )
    [url] = [n.value for p in dp.value for n in p.full_name or ()]
    assert url == f"{BASE_URL}/pki/crl/issuing-g2.crl"
    aia = renewed.new_officer.certificate.extensions.get_extension_for_class(
        x509.AuthorityInformationAccess
    )
    ca_url = next(
        a.access_location.value
        for a in aia.value
        if a.access_method == AuthorityInformationAccessOID.CA_ISSUERS
    )
    old_dp = renewed.old_officer.certificate.extensions.get_extension_for_class(
        x509.CRLDistributionPoints
    )
    [old_url] = [n.value for p in old_dp.value for n in p.full_name or ()]
    assert old_url == f"{BASE_URL}/pki/crl/issuing.crl"

    with pki_client(pki) as client:
        crl2_answer = client.get(url.removeprefix(BASE_URL))
        crl1_answer = client.get(old_url.removeprefix(BASE_URL))
        ca2_answer = client.get(ca_url.removeprefix(BASE_URL))
        ca1_answer = client.get("/pki/ca/issuing.crt")
        assert client.get("/pki/crl/issuing-g3.crl").status_code == 404
        assert client.get("/pki/ca/issuing-g3.crt").status_code == 404
    assert crl2_answer.status_code == crl1_answer.status_code == 200
    assert x509.load_der_x509_certificate(ca2_answer.content) == ca2
    assert x509.load_der_x509_certificate(ca1_answer.content) == ca1

    crl2 = x509.load_der_x509_crl(crl2_answer.content)
    assert crl2.issuer == ca2.subject
    assert crl2.is_signature_valid(ca2.public_key())  # type: ignore[arg-type]
    assert crl2.get_revoked_certificate_by_serial_number(renewed.old_officer.serial) is None
    crl1 = x509.load_der_x509_crl(crl1_answer.content)
    assert crl1.issuer == ca1.subject
    assert crl1.is_signature_valid(ca1.public_key())  # type: ignore[arg-type]
    assert not crl1.is_signature_valid(ca2.public_key())  # type: ignore[arg-type]
    revoked = crl1.get_revoked_certificate_by_serial_number(renewed.old_officer.serial)
    assert revoked is not None
    assert revoked.revocation_date_utc == renewed.clock.at
    assert crl1.last_update_utc <= renewed.clock.at

    # openssl agrees: the CA1 certificate is revoked by CA1's CRL.
    pem = renewed.pem
    crl_pem = pem / "crl1.pem"
    crl_pem.write_bytes(crl1.public_bytes(serialization.Encoding.PEM))
    at = str(int(renewed.clock.at.timestamp()))
    checked = openssl(
        "verify", "-attime", at, "-crl_check", "-CAfile", pem / "root.pem",
        "-untrusted", pem / "ca1.pem", "-CRLfile", crl_pem, pem / "old.pem",
    )  # fmt: skip
    assert checked.returncode != 0
    assert b"revoked" in checked.stdout + checked.stderr


def _ocsp_answer(
    pki: ProvincialPKI, cert: x509.Certificate, issuer: x509.Certificate
) -> tuple[ocsp.OCSPResponse, x509.Certificate]:
    with pki_client(pki) as client:
        answer = client.post(
            "/pki/ocsp",
            content=build_request(cert, issuer),
            headers={"Content-Type": "application/ocsp-request"},
        )
    assert answer.status_code == 200
    response = ocsp.load_der_ocsp_response(answer.content)
    assert response.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    [responder] = response.certificates
    # RFC 6960 §4.2.2.2: a delegated responder certified by the CA the request names.
    assert responder.issuer == issuer.subject
    responder.verify_directly_issued_by(issuer)
    key = responder.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(response.signature, response.tbs_response_bytes, ec.ECDSA(hashes.SHA256()))
    return response, responder


def test_ocsp_answers_for_certificates_of_each_generation(renewed: Renewed) -> None:
    pki = renewed.pki
    new, got2 = _ocsp_answer(pki, renewed.new_officer.certificate, renewed.ca2)
    assert new.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert new.serial_number == renewed.new_officer.serial
    assert new.produced_at_utc == renewed.clock.at
    old, got1 = _ocsp_answer(pki, renewed.old_officer.certificate, renewed.ca1)
    assert old.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert old.revocation_reason == x509.ReasonFlags.key_compromise
    kept, _ = _ocsp_answer(pki, renewed.kept_officer.certificate, renewed.ca1)
    assert kept.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert got1 != got2
    # A CertID whose key hash is CA2's but whose name hash is CA1's names no CA of ours.
    mixed = pki.ocsp_respond(build_request(renewed.old_officer.certificate, renewed.ca2))
    assert ocsp.load_der_ocsp_response(mixed).response_status == (
        ocsp.OCSPResponseStatus.UNAUTHORIZED
    )
    # An issuer that is not ours: unauthorized.
    stranger = ocsp.load_der_ocsp_response(
        pki.ocsp_respond(
            build_request(renewed.new_officer.certificate, renewed.new_officer.certificate)
        )
    )
    assert stranger.response_status == ocsp.OCSPResponseStatus.UNAUTHORIZED
    assert pki.status(renewed.old_officer.serial).status == "revoked"
    assert pki.status(renewed.new_officer.serial).status == "good"
    assert pki.status(renewed.new_officer.serial, issuer="issuing").status == "unknown"


def test_validation_material_covers_every_generation(renewed: Renewed) -> None:
    pki, clock = renewed.pki, renewed.clock
    signers = SignerSource(pki)
    targets = [renewed.new_officer.certificate, renewed.kept_officer.certificate]
    certs, ocsps, crls = signers.revocation_material(certs=targets)
    ders = {c.dump() for c in certs}
    every_service = [pki.certificate(r.serial) for r in pki.list() if r.kind in ("ocsp", "tsa")]
    assert len(every_service) == 5  # 2 TSA certificates, 2 responders of CA1, 1 of CA2
    assert {der(c) for c in [renewed.ca1, renewed.ca2, *every_service]} <= ders
    assert {c["tbs_cert_list"]["issuer"].native["common_name"] for c in crls} == {
        "Provincial Root CA - Đồng Nai",
        "Provincial Issuing CA - Đồng Nai",
        "Provincial Issuing CA - Đồng Nai G2",
    }
    statuses = sorted(
        r["tbs_response_data"]["responses"][0]["cert_status"].name for r in
        (o["response_bytes"]["response"].parsed for o in ocsps)
    )  # fmt: skip
    assert statuses == ["good", "good"]

    context = signers.validation_context(certs=targets)
    assert len(context.ocsps) == 2 and len(context.crls) == 3
    signers.check_usable(renewed.new_officer.certificate)
    signers.check_usable(renewed.kept_officer.certificate)

    # Past CA1's expiry its CRL is no longer part of the material; its certificate is.
    saved = clock.at
    try:
        clock.at = renewed.ca1.not_valid_after_utc + dt.timedelta(days=1)
        certs, _, crls = SignerSource(pki).revocation_material()
        assert der(renewed.ca1) in {c.dump() for c in certs}
        assert len(crls) == 2
        assert pki.current_issuing_name() == "issuing-g2"
    finally:
        clock.at = saved


def test_a_second_process_issues_from_the_new_ca_after_refresh(renewed: Renewed) -> None:
    other = ProvincialPKI.open(
        renewed.pki.directory, passphrase=PASSPHRASE, base_url=BASE_URL, clock=renewed.clock
    )
    issued = officer(other, "from.other")
    assert issued.certificate.issuer == renewed.ca2.subject
    assert renewed.pki.refresh() and renewed.pki.find("officer", "from.other").serial == (
        issued.serial
    )


def test_copies_signed_in_year_8_by_either_generation_validate_offline(renewed: Renewed) -> None:
    source = SignerSource(renewed.pki)  # signers' time: the PKI's clock
    for username, ca in (("new.officer", renewed.ca2), ("kept.officer", renewed.ca1)):
        signer = source.officer_signer(username)
        cert = renewed.pki.find("officer", username).certificate
        assert cert.issuer == ca.subject
        meta = signers.PdfSignatureMetadata(
            field_name="Sig1",
            subfilter=fields.SigSeedSubFilter.PADES,
            embed_validation_info=True,
            validation_context=source.validation_context(certs=[cert]),
        )
        writer = IncrementalPdfFileWriter(io.BytesIO(minimal_pdf()))
        pdf = signers.PdfSigner(meta, signer=signer, timestamper=source.timestamper()).sign_pdf(
            writer
        )
        # A verifier who knows only the root, at the PKI's time: B-LT data is embedded.
        context = ValidationContext(
            trust_roots=[to_asn1_cert(renewed.pki.ca_certificate("root"))],
            allow_fetching=False,
            moment=renewed.clock.at,
        )
        reader = PdfFileReader(io.BytesIO(pdf.getvalue()))
        status = validate_pdf_signature(reader.embedded_signatures[0], context)
        assert status.bottom_line, status.pretty_print_details()  # type: ignore[no-untyped-call]
        assert status.timestamp_validity is not None
        assert status.timestamp_validity.timestamp == renewed.clock.at
