"""Issued copies as Europe's reference validator and veraPDF read them (issue 9).

Six copies, issued through the real service (MinIO, the register, validation at issue):
1, 3 and 10 pages of A4 scans, a multi-page TIFF, a certifier whose certificate another CA
issued (imported, its CRLs served over HTTP), a certifier whose key is on a PKCS#11 token
(SoftHSM2). Each is checked by EU DSS 6.4, offline, trusting only the provincial root (and
the imported CA's root): both signatures TOTAL_PASSED at PAdES-BASELINE-LTA with no warning,
every timestamp PASSED, the ETSI TS 119 102-2 report valid against its schema; by veraPDF:
PDF/A-2b compliant; by poppler: every page A4. The rendered block page of the one-page copy is
kept in ``test-artifacts/copies/``.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import xmlschema
from cryptography.hazmat.primitives import serialization
from fastapi import FastAPI, Response

from api.errors import install_error_handlers
from api.routes.pki import router as pki_router
from api.services import issue_validator
from certify.copy import CopyBuilder
from certify.intake import ScanLimits
from certify.issuance import CertificationService, IssueOrder
from certify.ports import OfficerRecord, SystemClock
from certify.signing import CopySigner, stamp_style
from keys.ca import ProvincialPKI
from keys.imports import import_pem
from keys.signers import SignerSource
from keys.tokens import TokenConfig, generate_key, key_uri
from storage.database import make_engine, upgrade
from storage.minio_server import MinioServer, free_port
from storage.objects import MinioObjectStore
from storage.sql_register import SqlRegister
from tests import validators
from tests.certify.conftest import tiff_bytes
from tests.conftest import store_config
from tests.foreign_ca import ForeignCA, key_pem, pem
from tests.issuing import (
    AUTHORITY,
    CERTIFIER,
    DEJAVU,
    DEJAVU_BOLD,
    TOKEN_LABEL,
    scan_jpeg,
    serve_in_thread,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not validators.available(), reason="java and mvn are needed"),
]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "copies"
ETSI_SCHEMA = REPO / "tests" / "data" / "etsi-ts-119102-2" / "1910202xmlSchema.xsd"
A4 = (595.276, 841.89)
NOW = dt.datetime.now(dt.UTC)

HSM_CERTIFIER = OfficerRecord(
    username="hsm.lvc",
    full_name="Lê Văn Cường",
    title="Chủ tịch UBND phường",
    role="certifier",
    authority_code=AUTHORITY.code,
)
IMPORTED_CERTIFIER = OfficerRecord(
    username="ext.ttb",
    full_name="Trần Thị Bích",
    title="Phó Chủ tịch UBND phường",
    role="certifier",
    authority_code=AUTHORITY.code,
)


@dataclass(frozen=True)
class Checked:
    name: str
    pdf: Path
    dss: validators.DssResult
    report: Path
    vera: validators.VeraResult


CASES = ("1-page", "3-pages", "10-pages", "tiff", "imported-certificate", "pkcs11")


@pytest.fixture(scope="module")
def checked(
    tmp_path_factory: pytest.TempPathFactory, minio_server: MinioServer, softhsm: TokenConfig
) -> dict[str, Checked]:
    validators.build()  # the first time on a machine: Maven downloads DSS and veraPDF
    work = tmp_path_factory.mktemp("independent")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    pki = ProvincialPKI.init(
        work / "pki", province="Đồng Nai", passphrase=b"test passphrase", base_url=base_url
    )
    pki.issue_authority(AUTHORITY.code, AUTHORITY.name)
    pki.issue_officer(CERTIFIER.username, CERTIFIER.full_name, CERTIFIER.title, AUTHORITY.code)
    public = generate_key(softhsm, "dss-certifier", algorithm="rsa-pss")
    pki.issue_officer(
        HSM_CERTIFIER.username,
        HSM_CERTIFIER.full_name,
        HSM_CERTIFIER.title,
        AUTHORITY.code,
        public_key=public,
        key_ref=key_uri(TOKEN_LABEL, "dss-certifier"),
    )
    foreign = ForeignCA(base_url)
    key, cert = foreign.leaf(IMPORTED_CERTIFIER.full_name)
    import_pem(
        pki,
        key_pem(key),
        None,
        pem(cert, foreign.sub, foreign.root),
        kind="officer",
        holder=IMPORTED_CERTIFIER.username,
        authority_code=AUTHORITY.code,
    )
    roots = work / "roots.pem"
    roots.write_bytes(pem(*pki.trust_roots()))
    assert len(pki.trust_roots()) == 2  # the provincial root and the imported one

    app = FastAPI()
    install_error_handlers(app)
    app.include_router(pki_router)
    app.state.services = type("S", (), {"pki": staticmethod(lambda: pki)})()

    @app.get("/foreign/{name}.crl")
    def foreign_crl(name: str) -> Response:
        return Response(foreign.crl(name), media_type="application/pkix-crl")

    @app.get("/foreign/{name}.crt")
    def foreign_certificate(name: str) -> Response:
        der = foreign.issuer(name)[0].public_bytes(serialization.Encoding.DER)
        return Response(der, media_type="application/pkix-cert")

    db_url = f"sqlite:///{work / 'register.db'}"
    upgrade(db_url)
    engine = make_engine(db_url)
    register = SqlRegister(engine)
    register.add_authority(AUTHORITY)
    for officer in (CERTIFIER, HSM_CERTIFIER, IMPORTED_CERTIFIER):
        register.add_officer(officer)
    store = MinioObjectStore(store_config(minio_server))
    store.ensure_buckets()
    signers = SignerSource(pki, tokens={TOKEN_LABEL: softhsm})
    builder = CopyBuilder(DEJAVU, bold_font_path=DEJAVU_BOLD)
    clock = SystemClock()
    service = CertificationService(
        store=store,
        register=register,
        builder=builder,
        signer=CopySigner(signers, stamp_style=stamp_style(builder.font)),
        clock=clock,
        verify_base_url=base_url,
        validator=issue_validator(signers, register, store, clock),
    )
    scans: dict[str, tuple[str, list[bytes]]] = {
        "1-page": (CERTIFIER.username, [scan_jpeg("GIẤY KHAI SINH")]),
        "3-pages": (CERTIFIER.username, [scan_jpeg(f"TRANG {i}") for i in range(1, 4)]),
        "10-pages": (CERTIFIER.username, [scan_jpeg(f"TRANG {i}") for i in range(1, 11)]),
        "tiff": (CERTIFIER.username, [tiff_bytes(3, dpi=300)]),
        "imported-certificate": (IMPORTED_CERTIFIER.username, [scan_jpeg("BẰNG TỐT NGHIỆP")]),
        "pkcs11": (HSM_CERTIFIER.username, [scan_jpeg("HỌC BẠ")]),
    }
    pdfs: dict[str, Path] = {}
    with serve_in_thread(app, port):
        for i, (name, (certifier, pages)) in enumerate(scans.items()):
            code = f"YC-DSS-{i}"
            register.add_request(
                code,
                authority_code=AUTHORITY.code,
                requester_name="Phạm Văn Dũng",
                requester_id_number="079200001234",
                received_at=NOW,
            )
            order = IssueOrder(
                authority_code=AUTHORITY.code,
                certifier_username=certifier,
                request_code=code,
                document_name="Giấy khai sinh",
            )
            issued, _ = service.certify_scans(
                order, [io.BytesIO(p) for p in pages], limits=ScanLimits(), workdir=work
            )
            pdfs[name] = work / f"{name}.pdf"
            pdfs[name].write_bytes(issued.pdf)

    def check(name: str) -> Checked:
        report = work / f"{name}-etsi-report.xml"
        dss = validators.dss(pdfs[name], roots, report)
        return Checked(name, pdfs[name], dss, report, validators.verapdf(pdfs[name]))

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = {c.name: c for c in pool.map(check, CASES)}
    engine.dispose()
    return results


@pytest.mark.parametrize("case", CASES)
def test_both_signatures_pass_at_pades_baseline_lta_with_no_warning(
    checked: dict[str, Checked], case: str
) -> None:
    dss = checked[case].dss
    assert sorted(s.field or "" for s in dss.signatures) == ["officer", "seal"]
    for sig in dss.signatures:
        assert (sig.indication, sig.sub_indication) == ("TOTAL_PASSED", None), sig
        assert sig.format == "PAdES-BASELINE-LTA"
        assert sig.errors == []
        assert sig.warnings == []  # no lock, no visual difference, nothing a bank would see
        types = sorted(t.type or "" for t in sig.timestamps)
        assert types == ["DOCUMENT_TIMESTAMP", "SIGNATURE_TIMESTAMP"]
        for ts in sig.timestamps:
            assert (ts.indication, ts.errors, ts.warnings) == ("PASSED", [], []), ts
    signed_by = {s.field: s.signed_by for s in dss.signatures}
    expected = {
        "imported-certificate": IMPORTED_CERTIFIER.full_name,
        "pkcs11": HSM_CERTIFIER.full_name,
    }.get(case, CERTIFIER.full_name)
    assert signed_by["officer"] == expected
    assert signed_by["seal"] == AUTHORITY.name


@pytest.mark.parametrize("case", CASES)
def test_the_etsi_validation_report_is_valid_against_its_schema(
    checked: dict[str, Checked], case: str
) -> None:
    report = checked[case].report
    xmlschema.XMLSchema(str(ETSI_SCHEMA)).validate(str(report))
    text = report.read_text(encoding="utf-8")
    assert text.count("urn:etsi:019102:mainindication:total-passed") >= 2


@pytest.mark.parametrize("case", CASES)
def test_the_copy_is_pdfa_2b_compliant(checked: dict[str, Checked], case: str) -> None:
    vera = checked[case].vera
    assert vera.failed_rules == []
    assert vera.compliant


@pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="poppler")
@pytest.mark.parametrize("case", CASES)
def test_every_page_of_a_copy_of_a4_scans_is_a4(checked: dict[str, Checked], case: str) -> None:
    out = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "100", str(checked[case].pdf)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    sizes = re.findall(r"Page +\d+ size: +([\d.]+) x ([\d.]+) pts", out)
    # a full A4 scan leaves no room: the lời chứng has a page of its own; the TIFF's pages
    # (A6 at 300 dpi) leave room for it under the last one
    pages = {"3-pages": 4, "10-pages": 11, "tiff": 3}.get(case, 2)
    assert len(sizes) == pages
    for w, h in sizes:
        assert (float(w), float(h)) == pytest.approx(A4, abs=0.01)


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler")
def test_the_rendered_last_page_is_kept(checked: dict[str, Checked]) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for case in ("1-page", "imported-certificate"):
        prefix = ARTIFACTS / f"{case}-last-page"
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "100",
                "-singlefile",
                "-f",
                "2",
                "-l",
                "2",
                "--",
                str(checked[case].pdf),
                str(prefix),
            ],
            check=True,
        )
        png = prefix.with_suffix(".png")
        assert png.stat().st_size > 10_000
        if shutil.which("zbarimg"):
            qr = subprocess.run(
                ["zbarimg", "-q", "--raw", str(png)], capture_output=True, text=True, check=True
            ).stdout.strip()
            assert "/v/" in qr
