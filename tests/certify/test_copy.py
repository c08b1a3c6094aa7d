"""The certified copy: text, footer, QR code, page sizes, signature fields, PDF/A metadata."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields

from certify.copy import (
    OFFICER_FIELD,
    SEAL_FIELD,
    CertificationText,
    CopyBuilder,
    certification_lines,
)
from certify.errors import InvalidInputError
from certify.intake import IntakeResult, ScanLimits, ScanPage, _content_ops, _mul, read_scan
from tests.certify.conftest import jpeg_bytes, make_page_image, png_bytes

VERIFY_URL = "https://chungthuc.example.gov.vn/v/7Qk2mZ9pXc4RtB1nLs8W"

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler")
needs_zbar = pytest.mark.skipif(shutil.which("zbarimg") is None, reason="zbar-tools")


def _scan(data: bytes, workdir: Path) -> IntakeResult:
    return read_scan(io.BytesIO(data), ScanLimits(), workdir)


@pytest.fixture
def three_pages(workdir: Path) -> list[ScanPage]:
    pages: list[ScanPage] = []
    for i, data in enumerate(
        [
            jpeg_bytes(make_page_image(label="1"), dpi=300),
            png_bytes(make_page_image(label="2"), dpi=200),
            jpeg_bytes(make_page_image(1654, 2339, label="3"), dpi=200),
        ]
    ):
        [page] = _scan(data, workdir / str(i)).pages
        pages.append(ScanPage(**{**page.__dict__, "index": i}))
    return pages


@pytest.fixture
def copy_pdf(
    builder: CopyBuilder, three_pages: list[ScanPage], cert_text: CertificationText, tmp_path: Path
) -> Path:
    data = builder.build(three_pages, cert_text, VERIFY_URL, title="Bản sao chứng thực")
    path = tmp_path / "copy.pdf"
    path.write_bytes(data)
    return path


def _pdftotext(path: Path, page: int) -> str:
    out = subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(path), "-"],
        check=True,
        capture_output=True,
    )
    return out.stdout.decode("utf-8")


def _reader(path: Path) -> PdfFileReader:
    return PdfFileReader(io.BytesIO(path.read_bytes()))


def _page(reader: PdfFileReader, i: int) -> generic.DictionaryObject:
    ref, _ = reader.find_page_for_modification(i)
    return ref.get_object()


def _media_box(page: generic.DictionaryObject) -> tuple[float, ...]:
    return tuple(float(v) for v in page["/MediaBox"])


def _image_rect(page: generic.DictionaryObject) -> tuple[float, float, float, float]:
    """Where the page's one image is drawn: (x0, y0, x1, y1), from the content stream's cm."""
    contents = page["/Contents"]
    parts = list(contents) if isinstance(contents, generic.ArrayObject) else [contents]
    data = b"\n".join(p.get_object().data for p in parts)
    ctm = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    stack = []
    found = []
    for op, args in _content_ops(data):
        if op == "q":
            stack.append(ctm)
        elif op == "Q":
            ctm = stack.pop()
        elif op == "cm":
            ctm = _mul(tuple(float(x) for x in args if isinstance(x, float)), ctm)
        elif op == "Do":
            found.append((ctm[4], ctm[5], ctm[4] + ctm[0], ctm[5] + ctm[3]))
    assert len(found) == 1
    return found[0]


# --- text ---------------------------------------------------------------------------------------


@needs_poppler
def test_last_page_carries_the_certification_text(
    copy_pdf: Path, cert_text: CertificationText
) -> None:
    text = _pdftotext(copy_pdf, 3)
    for line in certification_lines(cert_text):
        assert line in text
    assert "Chứng thực bản sao đúng với bản chính." in text
    assert "Số chứng thực 1234 quyển số 01/2026-SCT/BS" in text
    assert "Ngày 05 tháng 03 năm 2026" in text
    assert "Nguyễn Thị Hồng Nhung" in text
    assert "Phó Chủ tịch Ủy ban nhân dân phường" in text
    assert "ỦY BAN NHÂN DÂN PHƯỜNG TÂN PHÚ" in " ".join(text.split())


@needs_poppler
def test_every_page_has_the_footer(copy_pdf: Path) -> None:
    for i in (1, 2, 3):
        text = _pdftotext(copy_pdf, i)
        assert f"Số chứng thực 1234 quyển số 01/2026-SCT/BS — trang {i}/3" in text
    assert "Chứng thực bản sao" not in _pdftotext(copy_pdf, 1)


@needs_poppler
@needs_zbar
def test_qr_code_decodes_to_the_verify_url(copy_pdf: Path, tmp_path: Path) -> None:
    prefix = tmp_path / "render"
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-f", "3", "-l", "3", str(copy_pdf), str(prefix)],
        check=True,
    )
    [png] = tmp_path.glob("render*.png")
    out = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True, check=True)
    assert out.stdout.decode().strip() == VERIFY_URL


@needs_poppler
def test_font_is_embedded(copy_pdf: Path) -> None:
    out = subprocess.run(["pdffonts", str(copy_pdf)], capture_output=True, check=True)
    rows = out.stdout.decode().splitlines()[2:]
    assert rows
    for row in rows:
        assert "CID TrueType" in row
        assert row.split()[-5:-3] == ["yes", "yes"]  # emb, sub


# --- images and geometry ----------------------------------------------------------------------


def test_jpeg_scans_are_embedded_byte_exact(copy_pdf: Path, three_pages: list[ScanPage]) -> None:
    data = copy_pdf.read_bytes()
    for page in three_pages:
        if page.kind == "jpeg":
            assert page.read_bytes() in data


def test_pages_have_the_scans_true_size_and_the_strip_is_below_the_scan(
    copy_pdf: Path, three_pages: list[ScanPage]
) -> None:
    reader = _reader(copy_pdf)
    assert int(reader.root["/Pages"]["/Count"]) == 3
    for i, scan in enumerate(three_pages[:-1]):
        page = _page(reader, i)
        assert _media_box(page) == pytest.approx((0, 0, scan.width_pt, scan.height_pt), abs=0.01)
        assert _image_rect(page) == pytest.approx((0, 0, scan.width_pt, scan.height_pt), abs=0.01)
    last_scan = three_pages[-1]
    last = _page(reader, 2)
    x0, y0, x1, y1 = _media_box(last)
    assert (x0, y0) == (0, 0)
    assert x1 == pytest.approx(last_scan.width_pt, abs=0.01)
    strip = y1 - last_scan.height_pt
    assert strip > 100
    # the scan keeps its size and sits above the strip
    assert _image_rect(last) == pytest.approx((0, strip, last_scan.width_pt, y1), abs=0.01)
    # every signature widget is inside the strip
    for _, _, ref in enumerate_sig_fields(reader):
        llx, lly, urx, ury = (float(v) for v in ref.get_object()["/Rect"])
        assert 0 <= lly < ury <= strip
        assert 0 <= llx < urx <= x1


def test_narrow_scan_gets_a_wider_last_page_without_covering_it(
    builder: CopyBuilder, cert_text: CertificationText, workdir: Path, tmp_path: Path
) -> None:
    receipt = _scan(jpeg_bytes(make_page_image(600, 1800), dpi=300), workdir).pages
    data = builder.build(receipt, cert_text, VERIFY_URL, title="Biên lai")
    path = tmp_path / "narrow.pdf"
    path.write_bytes(data)
    last = _page(_reader(path), 0)
    _, _, x1, y1 = _media_box(last)
    assert x1 >= 460
    ix0, _, ix1, iy1 = _image_rect(last)
    assert ix1 - ix0 == pytest.approx(receipt[0].width_pt, abs=0.01)
    assert iy1 == pytest.approx(y1, abs=0.01)
    assert ix0 >= 0
    assert ix1 <= x1


# --- signature fields --------------------------------------------------------------------------


def test_two_empty_signature_fields_exist_with_the_seal_locked(copy_pdf: Path) -> None:
    reader = _reader(copy_pdf)
    fields = {name: (value, ref.get_object()) for name, value, ref in enumerate_sig_fields(reader)}
    assert set(fields) == {OFFICER_FIELD, SEAL_FIELD}
    last_ref, _ = reader.find_page_for_modification(2)
    for value, field in fields.values():
        assert value is None  # empty
        assert field["/FT"] == "/Sig"
        assert field["/P"].get_object() is last_ref.get_object()
        assert int(field["/F"]) & 4  # printable (PDF/A)
        assert "/N" in field["/AP"]
    assert "/Lock" not in fields[OFFICER_FIELD][1]
    lock = fields[SEAL_FIELD][1]["/Lock"]
    assert lock["/Action"] == "/All"
    assert int(lock["/P"]) == 1
    annots = [a.get_object() for a in last_ref.get_object()["/Annots"]]
    assert len(annots) == 2
    # boxes do not overlap
    (a, b) = (tuple(float(v) for v in f["/Rect"]) for _, f in fields.values())
    assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


def test_seal_lock_can_be_dropped(
    builder: CopyBuilder, three_pages: list[ScanPage], cert_text: CertificationText
) -> None:
    data = builder.build(
        three_pages[:1],
        cert_text,
        VERIFY_URL,
        title="t",
        seal_spec_options={"field_mdp_spec": None, "doc_mdp_update_value": None},
    )
    reader = PdfFileReader(io.BytesIO(data))
    for _, _, ref in enumerate_sig_fields(reader):
        assert "/Lock" not in ref.get_object()


# --- PDF/A-2b ----------------------------------------------------------------------------------


def test_pdfa_metadata_output_intent_and_id(copy_pdf: Path, cert_text: CertificationText) -> None:
    reader = _reader(copy_pdf)
    assert copy_pdf.read_bytes().startswith(b"%PDF-1.7")
    assert copy_pdf.read_bytes().count(b"%%EOF") == 1  # written in one piece
    meta_stream = reader.root["/Metadata"]
    assert "/Filter" not in meta_stream
    xmp = meta_stream.data.decode("utf-8")
    assert 'pdfaid:part="2"' in xmp
    assert 'pdfaid:conformance="B"' in xmp
    assert "Bản sao chứng thực" in xmp  # dc:title
    assert cert_text.authority_name in xmp  # dc:creator
    assert "1234/01/2026-SCT/BS" in xmp  # dc:identifier
    [intent] = reader.root["/OutputIntents"]
    intent = intent.get_object()
    assert intent["/S"] == "/GTS_PDFA1"
    assert int(intent["/DestOutputProfile"]["/N"]) == 3
    assert len(reader.trailer_view["/ID"]) == 2
    assert "/Info" not in reader.trailer_view


def test_build_refuses_no_pages(builder: CopyBuilder, cert_text: CertificationText) -> None:
    with pytest.raises(InvalidInputError) as exc:
        builder.build([], cert_text, VERIFY_URL, title="t")
    assert exc.value.code == "copy_no_pages"


def test_build_writes_to_an_output_stream(
    builder: CopyBuilder, three_pages: list[ScanPage], cert_text: CertificationText
) -> None:
    # With an output stream the copy is written there only (held once, for large scans).
    out = io.BytesIO()
    data = builder.build(three_pages[:1], cert_text, VERIFY_URL, title="t", output=out)
    assert data == b""
    reader = PdfFileReader(io.BytesIO(out.getvalue()))
    names = [f.get_object()["/T"] for f in reader.root["/AcroForm"]["/Fields"]]
    assert names == ["officer", "seal"]
    assert len(out.getvalue()) == len(
        builder.build(three_pages[:1], cert_text, VERIFY_URL, title="t")
    )


# --- the fields take the two signatures the way the signing step will make them -----------------


def _self_signed_signer(name: str) -> Any:
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    from pyhanko.sign import signers

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    der_key = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
        cert_registry=None,
    )


def test_officer_then_seal_sign_the_prepared_fields(
    builder: CopyBuilder, three_pages: list[ScanPage], cert_text: CertificationText
) -> None:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import MDPPerm
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    data = builder.build(three_pages[:1], cert_text, VERIFY_URL, title="t")
    officer_signer = _self_signed_signer("Nguyễn Thị Hồng Nhung")
    seal_signer = _self_signed_signer("UBND phường Tân Phú")
    vc = ValidationContext(trust_roots=[officer_signer.signing_cert, seal_signer.signing_cert])
    officer = signers.PdfSignatureMetadata(
        field_name=OFFICER_FIELD, certify=True, docmdp_permissions=MDPPerm.FILL_FORMS
    )
    out = signers.sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(data)),
        officer,
        signer=officer_signer,
        existing_fields_only=True,
    )
    seal = signers.PdfSignatureMetadata(field_name=SEAL_FIELD)
    out = signers.sign_pdf(
        IncrementalPdfFileWriter(out),
        seal,
        signer=seal_signer,
        existing_fields_only=True,
    )
    reader = PdfFileReader(out)
    sigs = {s.field_name: s for s in reader.embedded_signatures}
    assert set(sigs) == {OFFICER_FIELD, SEAL_FIELD}
    for sig in sigs.values():
        status = validate_pdf_signature(sig, signer_validation_context=vc)
        assert status.intact
        assert status.valid
    assert sigs[OFFICER_FIELD].docmdp_level == MDPPerm.FILL_FORMS
    assert sigs[SEAL_FIELD].fieldmdp is not None
    assert sigs[SEAL_FIELD].sig_object["/Reference"][0]["/TransformParams"]["/P"] == 1
