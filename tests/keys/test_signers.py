"""Signers for the domain: cached file keys, PKCS#11 (SoftHSM2), timestamps, revocation."""

from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from keys._crypto import to_asn1_cert
from keys.ca import ProvincialPKI
from keys.errors import CertificateRevokedError, NoCertificateError
from keys.signers import CachedKeySigner, SignerSource
from keys.tokens import TokenConfig, generate_key, key_uri
from tests.issuing import TOKEN_LABEL
from tests.keys.conftest import issue_officer, minimal_pdf


def _sign(src: SignerSource, signer: signers.Signer, cert_for_ocsp: object = None) -> bytes:
    certs = [cert_for_ocsp] if cert_for_ocsp is not None else []
    meta = signers.PdfSignatureMetadata(
        field_name="Sig1",
        subfilter=fields.SigSeedSubFilter.PADES,
        embed_validation_info=True,
        validation_context=src.validation_context(certs=certs),  # type: ignore[arg-type]
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(minimal_pdf()))
    out = signers.PdfSigner(meta, signer=signer, timestamper=src.timestamper()).sign_pdf(writer)
    pdf: bytes = out.getvalue()
    return pdf


def _validate(pki: ProvincialPKI, pdf: bytes) -> object:
    reader = PdfFileReader(io.BytesIO(pdf))
    # A verifier who knows only the root (no CRLs handed over): B-LT data must be embedded.
    vc = ValidationContext(
        trust_roots=[to_asn1_cert(pki.ca_certificate("root"))], allow_fetching=False
    )
    return validate_pdf_signature(reader.embedded_signatures[0], vc)


def test_cached_signer_signs_and_validates(pki: ProvincialPKI) -> None:
    src = SignerSource(pki)
    signer = src.officer_signer("nva")
    assert isinstance(signer, CachedKeySigner)
    assert src.officer_signer("nva") is signer  # built once
    status = _validate(pki, _sign(src, signer, pki.find("officer", "nva").certificate))
    assert status.bottom_line, status.pretty_print_details()  # type: ignore[attr-defined]
    assert status.md_algorithm  # type: ignore[attr-defined]
    seal = src.seal_signer("TP01")
    assert _validate(pki, _sign(src, seal)).bottom_line  # type: ignore[attr-defined]


def test_cache_invalidated_on_revocation(own_pki: ProvincialPKI) -> None:
    src = SignerSource(own_pki)
    issued = issue_officer(own_pki, "to-revoke")
    assert src.officer_signer("to-revoke") is not None
    own_pki.revoke(issued.serial, "cessationOfOperation")
    with pytest.raises(CertificateRevokedError):
        src.check_usable(issued.certificate)
    # The officer's only certificate is revoked: said so, not "no certificate".
    with pytest.raises(CertificateRevokedError, match="cessationOfOperation"):
        src.officer_signer("to-revoke")
    with pytest.raises(NoCertificateError):
        src.officer_signer("never-issued")


@pytest.mark.integration
def test_pkcs11_key_signs_pdf_that_validates(pki: ProvincialPKI, softhsm: TokenConfig) -> None:
    public = generate_key(softhsm, "officer-hsm", algorithm="rsa-pss")
    issued = pki.issue_officer(
        "hsm-user",
        "Lê Văn C",
        "Chủ tịch",
        "TP01",
        public_key=public,
        key_ref=key_uri(TOKEN_LABEL, "officer-hsm"),
    )
    assert not pki.key_path(issued.serial).exists()  # the key never left the token
    src = SignerSource(pki, tokens={TOKEN_LABEL: softhsm})
    signer = src.officer_signer("hsm-user")
    assert src.officer_signer("hsm-user") is signer
    status = _validate(pki, _sign(src, signer, issued.certificate))
    assert status.bottom_line, status.pretty_print_details()  # type: ignore[attr-defined]
    assert status.trusted  # type: ignore[attr-defined]
    # The signer keeps its session (logged in) on the token; the same process can still make
    # another key there, and the signer still signs afterwards (PKCS#11 logins are per
    # application: a second C_Login fails with CKR_USER_ALREADY_LOGGED_IN).
    generate_key(softhsm, "officer-hsm-2", algorithm="rsa-pss")
    assert _validate(pki, _sign(src, signer, issued.certificate)).bottom_line  # type: ignore[attr-defined]
