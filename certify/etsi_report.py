"""The ETSI TS 119 102-2 signature validation report (XML) of one verification.

One ``SignatureValidationReport`` per signature and document time-stamp, with the ETSI
EN 319 102-1 indications our verifier reached; the signer certificates (by SHA-256: we do not
keep their DER) and the file checked as validation objects; and, in each report's status, the
service's verdict and reasons in Vietnamese and English (TT 15/2025/TT-BKHCN: the result is
shown in Vietnamese) as ``AdditionalValidationReportData``.

The tree is built with pyHanko's generated bindings, which target TS 119 102-2 V1.2.1; the
schema we conform to is V1.4.1 (``shared/schemas/etsi-ts-119102-2``), where every element used
here has the same name and type (V1.4.1 only relaxes some, e.g. a validation object may have
several representations), so only the namespace differs. It is rewritten in the serialiser's
event stream: the XML itself is never assembled by hand.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any, Final
from urllib.parse import quote

from pyhanko.generated.etsi import ts_119612 as tsl
from pyhanko.generated.etsi import ts_11910202 as vr
from pyhanko.generated.etsi import xades
from pyhanko.generated.w3c import xmldsig_core as ds
from xsdata.formats.dataclass.serializers import XmlSerializer
from xsdata.formats.dataclass.serializers.config import SerializerConfig
from xsdata.formats.dataclass.serializers.mixins import XmlWriterEvent
from xsdata.models.datatype import XmlDateTime

from certify.verdicts import SignatureCheck, Verification

__all__ = ["VALIDATOR_NAME", "VR_NAMESPACE", "render_report"]

_BINDINGS_NAMESPACE: Final = "http://uri.etsi.org/19102/v1.2.1#"
VR_NAMESPACE: Final = "http://uri.etsi.org/19102/v1.4.1#"
_NAMESPACES: Final = {
    "vr": VR_NAMESPACE,
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "tsl": "http://uri.etsi.org/02231/v2#",
}
_SHA256: Final = "http://www.w3.org/2001/04/xmlenc#sha256"
_DIGEST_URIS: Final = {
    "sha256": _SHA256,
    "sha384": "http://www.w3.org/2001/04/xmldsig-more#sha384",
    "sha512": "http://www.w3.org/2001/04/xmlenc#sha512",
}
# EN 319 102-1 5.1.3 main indications, as TS 119 102-2 spells them as URIs.
_MAIN: Final = {
    "TOTAL_PASSED": "urn:etsi:019102:mainindication:total-passed",
    "TOTAL_FAILED": "urn:etsi:019102:mainindication:total-failed",
    "INDETERMINATE": "urn:etsi:019102:mainindication:indeterminate",
}
_SUB: Final = "urn:etsi:019102:subindication:"
_CERTIFICATE: Final = "urn:etsi:019102:validationObject:certificate"
_SIGNED_DATA: Final = "urn:etsi:019102:validationObject:signedData"
_POE: Final = "urn:etsi:019102:poetype:validation"
VALIDATOR_NAME: Final = "certify — Chứng thực bản sao điện tử"


def render_report(verification: Verification, *, document_name: str = "copy.pdf") -> str:
    """The ETSI TS 119 102-2 validation report of ``verification``, as an XML string.

    ``document_name`` names the file checked (a validation object of type signedData); it
    must not carry personal data. The report holds no requester data: ``Verification`` has
    none.

    When there is no signature to report on (``verification.validation`` is None: an
    unreadable file or a code no copy carries; or a file with no signature) the report still
    holds one ``SignatureValidationReport``, as the schema requires at least one:
    TOTAL_FAILED/FORMAT_FAILURE when there was a file, INDETERMINATE/SIGNED_DATA_NOT_FOUND
    when there was none to check.

    Raises:
        ValueError: a signature carries an indication that is not an EN 319 102-1 main
            indication, or a digest or signature value that is not valid base64.
    """
    validation = verification.validation
    signatures = validation.signatures if validation else ()
    lta = validation is not None and (validation.pades_level or "").endswith("-LTA")
    document = _object(_SIGNED_DATA, "vo-file-", verification.sha256, quote(document_name))
    reports = tuple(
        _signature_report(verification, s, lta=lta, document=document) for s in signatures
    ) or (_no_signature_report(verification, document),)
    # One validation object per certificate, however many signatures it made (xs:ID is unique).
    certificates = {
        vo.id: vo
        for s in signatures
        if (vo := _object(_CERTIFICATE, "vo-cert-", s.certificate_sha256)) is not None
    }
    objects = ((document,) if document else ()) + tuple(certificates.values())
    report = vr.ValidationReport(
        signature_validation_report=reports,
        signature_validation_objects=vr.ValidationObjectListType(objects) if objects else None,
        signature_validator=vr.SignatureValidatorType(
            digital_id=(tsl.DigitalIdentityType(other=tsl.AnyType(content=(VALIDATOR_NAME,))),)
        ),
    )
    return _serialise(report)


def _signature_report(
    verification: Verification,
    s: SignatureCheck,
    *,
    lta: bool,
    document: vr.ValidationObjectType | None,
) -> vr.SignatureValidationReportType:
    if s.indication not in _MAIN:
        raise ValueError(f"not an EN 319 102-1 main indication: {s.indication!r}")
    cert = _object(_CERTIFICATE, "vo-cert-", s.certificate_sha256)
    attributes = vr.SignatureAttributesType(
        signing_time=(
            (vr.SASigningTimeType(signed=True, time=_time(s.claimed_time)),)
            if s.claimed_time
            else ()
        ),
        # A document time-stamp has no signature time-stamp of its own: its time is its POE.
        signature_time_stamp=(
            (vr.SATimestampType(signed=False, time_stamp_value=_time(s.signing_time)),)
            if s.signing_time and s.kind == "signature"
            else ()
        ),
        sub_filter=(
            (vr.SASubFilterType(signed=True, sub_filter_element=s.subfilter.lstrip("/")),)
            if s.subfilter
            else ()
        ),
        byte_range=(tuple(s.byte_range),) if s.byte_range else (),
        # SignatureCheck does not carry /Filter: this is the handler pyHanko's signer names
        # (ISO 32000-1 12.8.1, Table 252), so exact for our signatures, assumed for others.
        filter=(vr.SAFilterType(filter="Adobe.PPKLite"),),
    )
    # The verifier leaves these empty for a signature it could not read at all (it uses the
    # signature's own digest algorithm for the document digest, as pyHanko's reports do).
    dtbsr, value = _b64(s.signed_attrs_sha256_b64), _b64(s.signature_value_b64)
    document_digest = _b64(s.document_digest_b64)
    algorithm = _DIGEST_URIS.get(s.digest_algorithm.lower().replace("-", ""))
    return vr.SignatureValidationReportType(
        signature_identifier=vr.SignatureIdentifierType(
            digest_alg_and_value=_digest(_SHA256, dtbsr) if dtbsr else None,
            signature_value=ds.SignatureValue(value=value) if value else None,
            hash_only=False,
            doc_hash_only=False,
        ),
        validation_time_info=_time_info(verification.checked_at, s.signing_time),
        signers_document=(
            vr.SignersDocumentType(
                digest_alg_and_value=_digest(algorithm, document_digest),
                signers_document_representation=_refs(document),
            )
            if algorithm and document_digest
            else None
        ),
        signature_attributes=attributes,
        signer_information=(
            vr.SignerInformationType(signer_certificate=_refs(cert)[0], signer=s.signer)
            if cert
            else None
        ),
        signature_validation_process=vr.SignatureValidationProcessType(
            signature_validation_process_id="urn:etsi:019102:validationprocess:"
            + ("LTA" if lta else "Basic")
        ),
        signature_validation_status=_status(
            verification,
            s.indication,
            s.sub_indication,
            {"urn:certify:field": s.field_name, "urn:certify:role": s.role},
        ),
    )


def _no_signature_report(
    verification: Verification, document: vr.ValidationObjectType | None
) -> vr.SignatureValidationReportType:
    # EN 319 102-1 5.1.3: FORMAT_FAILURE, the file cannot be processed as a signature;
    # SIGNED_DATA_NOT_FOUND, the signed data cannot be obtained (no file: an unknown code).
    if document is not None or verification.verdict == "unreadable":
        indication, sub = "TOTAL_FAILED", "FORMAT_FAILURE"
    else:
        indication, sub = "INDETERMINATE", "SIGNED_DATA_NOT_FOUND"
    return vr.SignatureValidationReportType(
        validation_time_info=_time_info(verification.checked_at, None),
        signature_validation_status=_status(verification, indication, sub, {}),
    )


def _status(
    verification: Verification, indication: str, sub: str | None, extra: dict[str, str]
) -> vr.ValidationStatusType:
    vi, en = verification.headline
    data = {"urn:certify:verdict": verification.verdict, **extra}
    data |= {"urn:certify:headline:vi": vi, "urn:certify:headline:en": en}
    for r in verification.reasons:
        data |= {f"urn:certify:reason:{r.code}:vi": r.vi, f"urn:certify:reason:{r.code}:en": r.en}
    report_data = tuple(vr.TypedDataType(type_value=k, value=v) for k, v in data.items())
    return vr.ValidationStatusType(
        main_indication=_MAIN[indication],
        sub_indication=(_SUB + sub,) if sub else (),
        associated_validation_report_data=(
            vr.ValidationReportDataType(
                additional_validation_report_data=vr.AdditionalValidationReportDataType(
                    report_data=report_data
                )
            ),
        ),
    )


def _time_info(checked: dt.datetime, signed: dt.datetime | None) -> vr.ValidationTimeInfoType:
    # BestSignatureTime is mandatory; without a time-stamp it is the validation time
    # (EN 319 102-1, validation of Signatures with Time: best-signature-time starts as the
    # current time and only a proof of existence moves it earlier).
    return vr.ValidationTimeInfoType(
        validation_time=_time(checked),
        best_signature_time=vr.POEType(poetime=_time(signed or checked), type_of_proof=_POE),
    )


def _object(
    object_type: str, prefix: str, sha256_hex: str | None, uri: str | None = None
) -> vr.ValidationObjectType | None:
    # No digest, no object: a code no copy carries, or a signature whose certificate is missing.
    if (sha256 := _hex(sha256_hex)) is None:
        return None
    return vr.ValidationObjectType(
        id=prefix + sha256.hex(),
        object_type=object_type,
        validation_object_representation=vr.ValidationObjectRepresentationType(
            digest_alg_and_value=_digest(_SHA256, sha256), uri=uri
        ),
    )


def _refs(vo: vr.ValidationObjectType | None) -> tuple[vr.VOReferenceType, ...]:
    return (vr.VOReferenceType(voreference=(vo.id,)),) if vo and vo.id else ()


def _digest(algorithm: str | None, value: bytes) -> xades.DigestAlgAndValueType:
    return xades.DigestAlgAndValueType(
        digest_method=ds.DigestMethod(algorithm=algorithm), digest_value=ds.DigestValue(value)
    )


def _hex(value: str | None) -> bytes | None:
    try:
        digest = bytes.fromhex(value or "")
    except ValueError:
        return None
    return digest if len(digest) == 32 else None


def _b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)  # binascii.Error is a ValueError


def _time(value: dt.datetime) -> XmlDateTime:
    return XmlDateTime.from_datetime(value.astimezone(dt.UTC))


def _serialise(report: vr.ValidationReport) -> str:
    serializer = XmlSerializer(config=SerializerConfig(indent="  "))
    out = io.StringIO()
    writer = serializer.writer(config=serializer.config, output=out, ns_map=dict(_NAMESPACES))
    writer.write(_to_v141(serializer.generate(report)))
    return out.getvalue()


def _to_v141(events: Iterator[Any]) -> Iterator[Any]:
    old, new = "{" + _BINDINGS_NAMESPACE + "}", "{" + VR_NAMESPACE + "}"
    for name, *args in events:
        if name in (XmlWriterEvent.START, XmlWriterEvent.END) and args[0].startswith(old):
            args[0] = new + args[0][len(old) :]
        yield (name, *args)
