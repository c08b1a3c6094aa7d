# pyHanko and pikepdf are partly unannotated: calls into them are untyped.
# mypy: disable-error-code="no-untyped-call"
"""The certified copy: text, footer, QR code, page sizes, signature fields, PDF/A metadata."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pikepdf
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
from certify.copy_layout import FOOTER_BAND
from certify.errors import InvalidInputError
from certify.intake import IntakeResult, ScanLimits, ScanPage, read_scan
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
    page: generic.DictionaryObject = ref.get_object()
    return page


def _media_box(page: generic.DictionaryObject) -> tuple[float, ...]:
    return tuple(float(v) for v in page["/MediaBox"])


def _image_rects(pdf: Path) -> dict[int, list[tuple[float, float, float, float]]]:
    """Where each page draws its images: (x0, y0, x1, y1) per image, from the content's cm."""
    found: dict[int, list[tuple[float, float, float, float]]] = {}
    with pikepdf.open(pdf) as doc:
        for i, page in enumerate(doc.pages):
            ctm = pikepdf.Matrix()
            stack: list[pikepdf.Matrix] = []
            rects = found.setdefault(i, [])
            for instruction in pikepdf.parse_content_stream(page):
                operands, op = instruction.operands, instruction.operator
                if str(op) == "q":
                    stack.append(ctm)
                elif str(op) == "Q":
                    ctm = stack.pop()
                elif str(op) == "cm":
                    ctm = pikepdf.Matrix(*[float(v) for v in operands]) @ ctm
                elif str(op) == "Do":
                    rects.append((ctm.e, ctm.f, ctm.e + ctm.a, ctm.f + ctm.d))
    return found


def _font_sizes(pdf: Path) -> set[float]:
    """Every font size set (Tf) in the pages and in the widgets' appearance streams."""
    sizes: set[float] = set()
    with pikepdf.open(pdf) as doc:
        streams: list[Any] = list(doc.pages)
        for page in doc.pages:
            for annot in page.get("/Annots", []):
                if "/AP" in annot:
                    streams.append(annot.AP.N)
        for stream in streams:
            for instruction in pikepdf.parse_content_stream(stream):
                operands, op = instruction.operands, instruction.operator
                if str(op) == "Tf":
                    sizes.add(float(operands[1]))
    return sizes


def _words(pdf: Path, page: int) -> list[tuple[str, float, float, float, float]]:
    """pdftotext's word boxes on ``page`` (1-based) in PDF coordinates: (word, x0, y0, x1, y1)."""
    out = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True,
        check=True,
    ).stdout
    root = ElementTree.fromstring(out)  # noqa: S314 - poppler's output for our own file
    ns = {"x": "http://www.w3.org/1999/xhtml"}
    [pg] = root.iterfind(".//x:page", ns)
    height = float(pg.get("height", "0"))
    return [
        (
            w.text or "",
            float(w.get("xMin", "0")),
            height - float(w.get("yMax", "0")),
            float(w.get("xMax", "0")),
            height - float(w.get("yMin", "0")),
        )
        for w in pg.iterfind("x:word", ns)
    ]


def _overlaps(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


A4 = pytest.approx((0, 0, 595.276, 841.89), abs=0.01)


# --- text ---------------------------------------------------------------------------------------


@needs_poppler
def test_the_block_page_carries_the_certification_text(
    copy_pdf: Path, cert_text: CertificationText
) -> None:
    text = _pdftotext(copy_pdf, 4)
    for line in certification_lines(cert_text):
        assert line in text
    assert "Chứng thực bản sao đúng với bản chính." in text
    assert "Số chứng thực 1234 quyển số 01/2026-SCT/BS" in text
    assert "Ngày 05 tháng 03 năm 2026" in text
    assert "Nguyễn Thị Hồng Nhung" in text
    assert "Phó Chủ tịch Ủy ban nhân dân phường" in text
    assert "ỦY BAN NHÂN DÂN PHƯỜNG TÂN PHÚ" in " ".join(text.split())
    # the added page says whose it is
    assert "Trang lời chứng của bản sao số chứng thực 1234 quyển số 01/2026-SCT/BS" in text
    assert "gồm 4 trang" in text
    # the seal's box is in the page: it does not change when the seal signs
    assert "Con dấu điện tử / Electronic seal:" in text
    # the URL is whole on one line, under the bilingual caption
    assert VERIFY_URL in text
    assert "Scan the QR code or open the link to verify this copy:" in text


@needs_poppler
def test_every_page_has_the_footer(copy_pdf: Path) -> None:
    for i in (1, 2, 3, 4):
        text = _pdftotext(copy_pdf, i)
        assert f"Số chứng thực 1234 quyển số 01/2026-SCT/BS — trang {i}/4" in text
    for i in (1, 2, 3):
        assert "Chứng thực bản sao" not in _pdftotext(copy_pdf, i)


@needs_poppler
@needs_zbar
def test_qr_code_decodes_to_the_verify_url(copy_pdf: Path, tmp_path: Path) -> None:
    prefix = tmp_path / "render"
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-f", "4", "-l", "4", str(copy_pdf), str(prefix)],
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


def test_no_text_is_smaller_than_8_points(copy_pdf: Path) -> None:
    sizes = _font_sizes(copy_pdf)
    assert sizes  # footer, block, seal box
    assert min(sizes) >= 8.0


# --- images and geometry ----------------------------------------------------------------------


def test_jpeg_scans_are_embedded_byte_exact(copy_pdf: Path, three_pages: list[ScanPage]) -> None:
    data = copy_pdf.read_bytes()
    for page in three_pages:
        if page.kind == "jpeg":
            assert page.read_bytes() in data


def test_a4_scans_make_a4_pages_at_true_size_above_the_footer_band(
    copy_pdf: Path, three_pages: list[ScanPage]
) -> None:
    reader = _reader(copy_pdf)
    assert int(reader.root["/Pages"]["/Count"]) == 4
    rects = _image_rects(copy_pdf)
    for i, scan in enumerate(three_pages):
        assert _media_box(_page(reader, i)) == A4
        [(x0, y0, x1, y1)] = rects[i]
        assert y0 >= FOOTER_BAND - 0.01 and y1 <= 841.9  # above the band, on the page
        assert x0 >= -0.01 and x1 <= 595.3
        assert (x1 - x0) / (y1 - y0) == pytest.approx(scan.width_pt / scan.height_pt, rel=1e-3)
        scale = (x1 - x0) / scan.width_pt
        if i < 2:  # smaller than the sheet: true size, at the top
            assert scale == pytest.approx(1.0)
            assert y1 == pytest.approx(841.89, abs=0.01)
        else:  # a full A4 scan gives up at most 6 % to the footer band
            assert 0.94 <= scale < 1.0
    assert rects[3] == []  # the block's own page has no image
    assert _media_box(_page(reader, 3)) == A4


@needs_poppler
def test_nothing_of_ours_is_drawn_over_a_scan(copy_pdf: Path) -> None:
    rects = _image_rects(copy_pdf)
    for i in range(3):
        words = _words(copy_pdf, i + 1)
        assert words  # the footer
        for word in words:
            for rect in rects[i]:
                assert not _overlaps(word[1:], rect), (i, word)


@needs_poppler
def test_the_block_goes_below_a_scan_that_leaves_room(
    builder: CopyBuilder, cert_text: CertificationText, workdir: Path, tmp_path: Path
) -> None:
    # half an A4 sheet (a receipt): one A4 page, the block under the scan
    receipt = _scan(jpeg_bytes(make_page_image(1240, 876), dpi=150), workdir).pages
    path = tmp_path / "receipt.pdf"
    path.write_bytes(builder.build(receipt, cert_text, VERIFY_URL, title="Biên lai"))
    reader = _reader(path)
    assert int(reader.root["/Pages"]["/Count"]) == 1
    assert _media_box(_page(reader, 0)) == A4
    [scan_rect] = _image_rects(path)[0]
    assert scan_rect[2] - scan_rect[0] == pytest.approx(receipt[0].width_pt, abs=0.01)
    for word in _words(path, 1):
        assert not _overlaps(word[1:], scan_rect), word
        assert word[2] >= 0
    text = _pdftotext(path, 1)
    assert "Chứng thực bản sao đúng với bản chính." in text
    assert "trang 1/1" in text
    for _, _, ref in enumerate_sig_fields(reader):
        box = tuple(float(v) for v in ref.get_object()["/Rect"])
        assert not _overlaps(box, scan_rect)
        assert box[1] >= FOOTER_BAND


def test_a_landscape_scan_gets_a_landscape_sheet(
    builder: CopyBuilder, cert_text: CertificationText, workdir: Path
) -> None:
    wide = _scan(jpeg_bytes(make_page_image(1754, 1240), dpi=150), workdir).pages
    reader = PdfFileReader(io.BytesIO(builder.build(wide, cert_text, VERIFY_URL, title="t")))
    assert _media_box(_page(reader, 0)) == pytest.approx((0, 0, 841.89, 595.276), abs=0.01)


def test_an_oversized_scan_keeps_its_size_and_the_block_gets_a_page_like_it(
    builder: CopyBuilder, cert_text: CertificationText, workdir: Path, tmp_path: Path
) -> None:
    # a map, 1.5 x 1 m at 20 dpi: bigger than A3, nothing shrinks it
    plan = _scan(jpeg_bytes(make_page_image(1181, 787), dpi=20), workdir).pages
    path = tmp_path / "plan.pdf"
    path.write_bytes(builder.build(plan, cert_text, VERIFY_URL, title="t"))
    reader = _reader(path)
    w, h = plan[0].width_pt, plan[0].height_pt
    assert _media_box(_page(reader, 0)) == pytest.approx((0, 0, w, h + FOOTER_BAND), abs=0.01)
    assert _media_box(_page(reader, 1)) == pytest.approx((0, 0, w, h + FOOTER_BAND), abs=0.01)
    [rect] = _image_rects(path)[0]
    assert rect == pytest.approx((0, FOOTER_BAND, w, h + FOOTER_BAND), abs=0.01)


# --- signature fields --------------------------------------------------------------------------


def test_two_empty_signature_fields_exist_with_the_seal_locked(copy_pdf: Path) -> None:
    reader = _reader(copy_pdf)
    fields = {name: (value, ref.get_object()) for name, value, ref in enumerate_sig_fields(reader)}
    assert set(fields) == {OFFICER_FIELD, SEAL_FIELD}
    last_ref, _ = reader.find_page_for_modification(3)
    for value, field in fields.values():
        assert value is None  # empty
        assert field["/FT"] == "/Sig"
        assert field["/P"].get_object() is last_ref.get_object()
        assert int(field["/F"]) & 4  # printable (PDF/A)
        assert "/N" in field["/AP"]
    assert "/Lock" not in fields[OFFICER_FIELD][1]
    lock = fields[SEAL_FIELD][1]["/Lock"]
    # Include both signatures, not All: EU DSS reports any field added after an All lock
    # (a document timestamp always adds one) as a restricted change; P=1 still forbids all
    # but DSS and timestamp updates.
    assert lock["/Action"] == "/Include"
    assert [str(f) for f in lock["/Fields"]] == [OFFICER_FIELD, SEAL_FIELD]
    assert int(lock["/P"]) == 1
    # empty appearances: the seal's box is in the page, so signing it changes no pixel
    for _, field in fields.values():
        assert field["/AP"]["/N"].data.strip() == b""
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
    from pyhanko_certvalidator.registry import SimpleCertificateStore

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
        cert_registry=SimpleCertificateStore(),
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
