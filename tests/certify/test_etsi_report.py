"""The ETSI TS 119 102-2 validation report: schema-valid, and saying what the check found."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from xml.etree.ElementTree import Element

import pytest
import xmlschema

from certify.etsi_report import VALIDATOR_NAME, VR_NAMESPACE, render_report
from certify.verdicts import HEADLINES, Reason, SignatureCheck, Validation, Verification
from tests.samples import signature_check

# A copy of shared/schemas/etsi-ts-119102-2: every import of the V1.4.1 schema (XAdES,
# xmldsig-core, TS 119 612, xml.xsd) sits beside it with a local schemaLocation (see the
# folder's README.md), so it loads with no network and on a machine without shared/.
SCHEMA = Path(__file__).resolve().parents[1] / "data/etsi-ts-119102-2/1910202xmlSchema.xsd"

NS = {
    "vr": VR_NAMESPACE,
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "tsl": "http://uri.etsi.org/02231/v2#",
}
CHECKED_AT = dt.datetime(2026, 3, 2, 8, 15, tzinfo=dt.UTC)
SIGNED_AT = dt.datetime(2026, 3, 1, 2, 30, tzinfo=dt.UTC)
MAIN = "urn:etsi:019102:mainindication:"
SUB = "urn:etsi:019102:subindication:"
CERTIFICATE = "urn:etsi:019102:validationObject:certificate"
SIGNED_DATA = "urn:etsi:019102:validationObject:signedData"


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    # allow="local": a schemaLocation on the network would fail the test, not be fetched.
    return xmlschema.XMLSchema(str(SCHEMA), allow="local")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _sha(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


def _check(field_name: str, **changes: object) -> SignatureCheck:
    base = signature_check(
        field_name=field_name,
        signer="Nguyễn Thị Lan",
        organisation="UBND xã Tân Phú",
        certificate_serial="1a2b",
        certificate_sha256=_sha(f"cert {field_name}"),
        issuer="CA tỉnh Đồng Nai",
        signing_time=SIGNED_AT,
        claimed_time=SIGNED_AT - dt.timedelta(seconds=3),
        signature_value_b64=_b64(f"signature of {field_name}".encode()),
        signed_attrs_sha256_b64=_b64(hashlib.sha256(field_name.encode()).digest()),
        document_digest_b64=_b64(hashlib.sha256(b"revision " + field_name.encode()).digest()),
        byte_range=(0, 1000, 9192, 500),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _verification(
    verdict: str, reasons: tuple[str, ...], validation: Validation | None, sha256: str | None
) -> Verification:
    return Verification(
        verdict=verdict,
        reasons=tuple(Reason.of(code) for code in reasons),
        checked_at=CHECKED_AT,
        method="upload",
        sha256=sha256,
        validation=validation,
    )


def _validation(outcome: str, signatures: tuple[SignatureCheck, ...], level: str) -> Validation:
    return Validation(
        outcome=outcome,
        reasons=(),
        signatures=signatures,
        pades_level=level,
        validated_at=CHECKED_AT,
        size=12_345,
        sha256=_sha("file"),
    )


def genuine() -> Verification:
    tsa_cert = _sha("cert TSA")
    signatures = (
        _check("officer"),
        _check("seal", role="seal", signer="UBND xã Tân Phú", claimed_time=None),
        _check(
            "DocTs1",
            kind="timestamp",
            role="timestamp",
            signer="TSA tỉnh Đồng Nai",
            certificate_sha256=tsa_cert,
            claimed_time=None,
            subfilter="/ETSI.RFC3161",
        ),
    )
    return _verification(
        "genuine",
        ("matches_register", "signatures_valid", "in_force"),
        _validation("valid", signatures, "PAdES-BASELINE-LTA"),
        _sha("file"),
    )


def modified() -> Verification:
    broken = _check("officer", intact=False, valid=False)
    broken = replace(broken, indication="TOTAL_FAILED", sub_indication="HASH_FAILURE")
    return _verification(
        "modified",
        ("content_changed",),
        _validation("modified", (broken,), "PAdES-BASELINE-T"),
        _sha("tampered"),
    )


def unreadable() -> Verification:
    return _verification("unreadable", ("malformed_pdf",), None, _sha("junk"))


def unknown_code() -> Verification:
    return _verification("unknown", ("no_such_code",), None, None)


def _render(schema: xmlschema.XMLSchema, verification: Verification) -> Element:
    xml = render_report(verification)
    schema.validate(xml)  # raises XMLSchemaValidationError on a report that does not conform
    # XMLResource parses with a safe parser (no external entities, no resources at all).
    root = xmlschema.XMLResource(xml, allow="none").root
    assert root.tag == f"{{{VR_NAMESPACE}}}ValidationReport"
    return root


def _texts(root: Element, path: str) -> list[str]:
    return [e.text or "" for e in root.iterfind(path, NS)]


def _report_data(report: Element) -> dict[str, str]:
    path = (
        "vr:SignatureValidationStatus/vr:AssociatedValidationReportData/"
        "vr:AdditionalValidationReportData/vr:ReportData"
    )
    return {
        d.findtext("vr:Type", namespaces=NS) or "": d.findtext("vr:Value", namespaces=NS) or ""
        for d in report.iterfind(path, NS)
    }


@pytest.mark.parametrize("make", [genuine, modified, unreadable, unknown_code])
def test_every_report_is_valid_against_the_schema(
    schema: xmlschema.XMLSchema, make: Callable[[], Verification]
) -> None:
    _render(schema, make())


def test_genuine_copy_reports_each_signature_and_the_time_stamp(
    schema: xmlschema.XMLSchema,
) -> None:
    verification = genuine()
    root = _render(schema, verification)
    reports = root.findall("vr:SignatureValidationReport", NS)
    assert len(reports) == 3
    assert (
        _texts(root, "vr:SignatureValidationReport/vr:SignatureValidationStatus/vr:MainIndication")
        == [MAIN + "total-passed"] * 3
    )
    assert not root.findall(".//vr:SubIndication", NS)
    assert (
        _texts(root, ".//vr:SignatureValidationProcessID")
        == ["urn:etsi:019102:validationprocess:LTA"] * 3
    )

    officer, seal, stamp = reports
    assert officer.findtext("vr:SignerInformation/vr:Signer", namespaces=NS) == "Nguyễn Thị Lan"
    value = officer.findtext("vr:SignatureIdentifier/ds:SignatureValue", namespaces=NS)
    assert base64.b64decode(value or "") == b"signature of officer"
    assert officer.findtext("vr:SignatureIdentifier/vr:HashOnly", namespaces=NS) == "false"
    best = officer.findtext("vr:ValidationTimeInfo/vr:BestSignatureTime/vr:POETime", namespaces=NS)
    assert dt.datetime.fromisoformat(best or "") == SIGNED_AT
    attrs = officer.find("vr:SignatureAttributes", NS)
    assert attrs is not None
    assert attrs.findtext("vr:ByteRange", namespaces=NS) == "0 1000 9192 500"
    assert attrs.findtext("vr:SubFilter/vr:SubFilterElement", namespaces=NS) == (
        "ETSI.CAdES.detached"
    )
    assert attrs.findtext("vr:Filter/vr:Filter", namespaces=NS) == "Adobe.PPKLite"
    assert attrs.find("vr:SigningTime", NS) is not None
    assert attrs.find("vr:SignatureTimeStamp", NS) is not None
    # The seal made no /M claim; the document time-stamp has no signature time-stamp.
    assert seal.find("vr:SignatureAttributes/vr:SigningTime", NS) is None
    assert stamp.find("vr:SignatureAttributes/vr:SignatureTimeStamp", NS) is None
    assert _report_data(stamp)["urn:certify:role"] == "timestamp"

    data = _report_data(officer)
    assert data["urn:certify:verdict"] == "genuine"
    assert data["urn:certify:headline:vi"] == HEADLINES["genuine"][0]
    assert data["urn:certify:headline:en"] == HEADLINES["genuine"][1]
    assert data["urn:certify:reason:in_force:vi"] == "Chứng thực đang có hiệu lực."
    assert data["urn:certify:field"] == "officer"

    # One validation object per distinct certificate, plus the document; every reference
    # points at one of them.
    objects = root.findall("vr:SignatureValidationObjects/vr:ValidationObject", NS)
    kinds = [o.findtext("vr:ObjectType", namespaces=NS) for o in objects]
    assert kinds.count(CERTIFICATE) == 3
    assert kinds.count(SIGNED_DATA) == 1
    ids = {o.get("id") for o in objects}
    refs = {e.get("VOReference") for e in root.iterfind(".//vr:SignerCertificate", NS)}
    assert refs <= ids
    assert f"vo-cert-{_sha('cert officer')}" in refs
    other = root.find("vr:SignatureValidator/vr:DigitalId/tsl:Other", NS)
    assert other is not None and other.text == VALIDATOR_NAME


def test_modified_copy_reports_the_hash_failure(schema: xmlschema.XMLSchema) -> None:
    root = _render(schema, modified())
    (report,) = root.findall("vr:SignatureValidationReport", NS)
    status = "vr:SignatureValidationStatus/"
    assert report.findtext(status + "vr:MainIndication", namespaces=NS) == MAIN + "total-failed"
    assert _texts(report, status + "vr:SubIndication") == [SUB + "HASH_FAILURE"]
    assert report.findtext(".//vr:SignatureValidationProcessID", namespaces=NS) == (
        "urn:etsi:019102:validationprocess:Basic"
    )
    data = _report_data(report)
    assert data["urn:certify:verdict"] == "modified"
    assert data["urn:certify:reason:content_changed:en"] == (
        "The signed content was changed: its hash does not match the signature."
    )


def test_unreadable_file_gets_one_format_failure_report(schema: xmlschema.XMLSchema) -> None:
    root = _render(schema, unreadable())
    # TS 119 102-2 ValidationReportType: SignatureValidationReport has minOccurs 1.
    (report,) = root.findall("vr:SignatureValidationReport", NS)
    status = "vr:SignatureValidationStatus/"
    assert report.findtext(status + "vr:MainIndication", namespaces=NS) == MAIN + "total-failed"
    assert _texts(report, status + "vr:SubIndication") == [SUB + "FORMAT_FAILURE"]
    assert report.find("vr:SignatureIdentifier", NS) is None
    assert _report_data(report)["urn:certify:verdict"] == "unreadable"
    assert "Tệp PDF bị hỏng" in _report_data(report)["urn:certify:reason:malformed_pdf:vi"]
    # The file is still identified, by its digest and the name given.
    (document,) = root.findall("vr:SignatureValidationObjects/vr:ValidationObject", NS)
    assert document.findtext("vr:ObjectType", namespaces=NS) == SIGNED_DATA
    representation = "vr:ValidationObjectRepresentation/"
    path = representation + "vr:DigestAlgAndValue/ds:DigestValue"
    assert base64.b64decode(document.findtext(path, namespaces=NS) or "").hex() == _sha("junk")
    assert document.findtext(representation + "vr:URI", namespaces=NS) == "copy.pdf"


def test_the_document_name_becomes_a_uri(schema: xmlschema.XMLSchema) -> None:
    xml = render_report(unreadable(), document_name="bản sao 1.pdf")
    schema.validate(xml)
    uri = xmlschema.XMLResource(xml, allow="none").root.find(".//vr:URI", NS)
    assert uri is not None and uri.text == "b%E1%BA%A3n%20sao%201.pdf"


def test_unknown_code_is_indeterminate_with_no_signed_data(schema: xmlschema.XMLSchema) -> None:
    root = _render(schema, unknown_code())
    (report,) = root.findall("vr:SignatureValidationReport", NS)
    status = "vr:SignatureValidationStatus/"
    assert report.findtext(status + "vr:MainIndication", namespaces=NS) == MAIN + "indeterminate"
    assert _texts(report, status + "vr:SubIndication") == [SUB + "SIGNED_DATA_NOT_FOUND"]
    assert report.find("vr:SignersDocument", NS) is None
    assert root.find("vr:SignatureValidationObjects", NS) is None
    assert _report_data(report)["urn:certify:verdict"] == "unknown"


def test_a_signature_without_a_certificate_has_no_signer_information(
    schema: xmlschema.XMLSchema,
) -> None:
    nocert = _check("officer", certificate_sha256="", indication="INDETERMINATE")
    nocert = replace(nocert, sub_indication="NO_SIGNING_CERTIFICATE_FOUND")
    verification = _verification(
        "invalid", ("broken_signature",), _validation("invalid", (nocert,), "B"), _sha("x")
    )
    root = _render(schema, verification)
    assert root.find(".//vr:SignerInformation", NS) is None
    assert _texts(root, ".//vr:SubIndication") == [SUB + "NO_SIGNING_CERTIFICATE_FOUND"]


def test_an_unreadable_signature_leaves_out_what_it_lacks(schema: xmlschema.XMLSchema) -> None:
    # What certify.verification reports for a signature it could not read at all.
    broken = _check(
        "officer",
        indication="TOTAL_FAILED",
        sub_indication="FORMAT_FAILURE",
        signature_value_b64="",
        signed_attrs_sha256_b64="",
        document_digest_b64="",
        digest_algorithm="",
        subfilter="",
        byte_range=(),
        signing_time=None,
        claimed_time=None,
    )
    verification = _verification(
        "invalid", ("broken_signature",), _validation("invalid", (broken,), "B"), _sha("x")
    )
    root = _render(schema, verification)
    (report,) = root.findall("vr:SignatureValidationReport", NS)
    assert report.find("vr:SignatureIdentifier/ds:SignatureValue", NS) is None
    assert report.find("vr:SignatureIdentifier/vr:DigestAlgAndValue", NS) is None
    assert report.find("vr:SignersDocument", NS) is None
    assert report.find("vr:SignatureAttributes/vr:SubFilter", NS) is None
    assert _texts(report, ".//vr:SubIndication") == [SUB + "FORMAT_FAILURE"]
    best = report.findtext(".//vr:BestSignatureTime/vr:POETime", namespaces=NS)
    assert dt.datetime.fromisoformat(best or "") == CHECKED_AT


def test_an_unknown_indication_is_refused() -> None:
    odd = _check("officer", indication="PASSED")
    with pytest.raises(ValueError, match="main indication"):
        render_report(_verification("genuine", (), _validation("valid", (odd,), "B"), None))
