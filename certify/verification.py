# pyHanko's PDF object model and validation API are not fully annotated; calls into them are Any.
# mypy: disable-error-code="no-untyped-call"
"""The cryptographic check of a PDF: every signature and document time-stamp, with pyHanko.

:func:`validate_pdf` is a pure function of the bytes and the trust anchors: it reads no
register and no environment, so it can run in a worker process under time and memory
limits (hostile uploads are normal on the public endpoint). It never raises: whatever
pyHanko, asn1crypto or the PDF reader throws at a hostile file becomes an outcome.

Steps, each failing into a precise reason:

1. The file must start like a PDF and parse (strictly) with its cross-reference sections.
2. Each signature field is read on its own; one that cannot be read is a broken signature.
3. Each signature is validated at the time of its RFC 3161 signature time-stamp, trusting
   only our roots and using only the revocation data embedded in the file (PAdES B-LT, ETSI
   EN 319 142-1), so a copy verifies for as long as its time-stamps do.
4. Document time-stamps are validated the same way; the last one makes the copy B-LTA.
5. With ``base_length`` (the length of a copy we issued that the file begins with), the
   updates after it are checked to be only DSS data and document time-stamps (ISO 32000-2
   §12.8.4.3), strictly: anything else appended is a modification, whatever it changes.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, ModificationLevel
from pyhanko.sign.fields import MDPPerm, enumerate_sig_fields
from pyhanko.sign.general import find_unique_cms_attribute
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko_certvalidator import ValidationContext

from certify import pdf_speedups
from certify.ports import Clock
from certify.verdicts import Reason, SignatureCheck, Validation

# Signature /Contents are read at binascii speed (certify/pdf_speedups.py).
pdf_speedups.install()

log = logging.getLogger(__name__)

PADES_SUBFILTER = "/ETSI.CAdES.detached"
# The most a signature's later revisions may change (ISO 32000-2 §12.8.2.2 DocMDP): after
# the certifier's certification signature (P=2) the seal is form filling; after the seal's
# lock (P=1) nothing but DSS data and document time-stamps.
_ALLOWED_AFTER = {MDPPerm.FILL_FORMS: ModificationLevel.FORM_FILLING}
# Where a PDF header may start (ISO 32000-1 §7.5.2; readers accept some leading bytes).
HEADER_WINDOW = 1024
_CHUNK = 1024 * 1024  # reading a file to hash it


@dataclass(frozen=True)
class TrustAnchors:
    """What a check trusts: DER roots, and other certificates (CAs, TSA, OCSP responder)
    that may help build paths. Plain bytes so that it pickles into worker processes."""

    roots: tuple[bytes, ...]
    others: tuple[bytes, ...] = ()


def validate_pdf(
    data: bytes | BinaryIO,
    trust: TrustAnchors,
    *,
    now: dt.datetime,
    base_length: int | None = None,
    analyse_changes: bool = True,
) -> Validation:
    """Check every signature of ``data``: a file's bytes, or a seekable binary stream of it
    (read from its start, in chunks: a copy on disk is not read into memory). Never raises.

    ``analyse_changes`` runs pyHanko's difference analysis of what each signature's later
    revisions changed (needed to call a file ``valid``; a file that can only be ``modified``,
    ``untrusted`` or ``unknown`` does without). With ``base_length``, only the updates after
    the first ``base_length`` bytes are checked (the beginning is a copy whose signatures were
    validated when it was issued) and :attr:`Validation.own_updates_only` is set.
    """
    try:
        return _validate(data, trust, now, base_length, analyse_changes)
    except MemoryError:
        return unreadable(data, now=now)
    except Exception:  # hostile input: no exception of a library may escape as an error
        log.info("validation failed on hostile input", exc_info=True)
        return unreadable(data, now=now, reason="malformed_pdf")


def _validate(
    data: bytes | BinaryIO,
    trust: TrustAnchors,
    now: dt.datetime,
    base_length: int | None,
    analyse_changes: bool,
) -> Validation:
    digest, size = _measure(data)
    stream = io.BytesIO(data) if isinstance(data, bytes) else data

    def result(
        outcome: str, reasons: list[str], checks: list[SignatureCheck], **kw: Any
    ) -> Validation:
        return Validation(
            outcome=outcome,
            reasons=tuple(Reason.of(r) for r in dict.fromkeys(reasons)),
            signatures=tuple(checks),
            pades_level=kw.get("pades_level"),
            validated_at=now,
            size=size,
            sha256=digest,
            own_updates_only=kw.get("own_updates_only"),
        )

    stream.seek(0)
    if b"%PDF-" not in stream.read(HEADER_WINDOW):
        return result("unreadable", ["not_pdf"], [])
    try:
        reader = PdfFileReader(stream, strict=True)
        fields = list(enumerate_sig_fields(reader, filled_status=True))
        dss = DocumentSecurityStore.read_dss(reader) if "/DSS" in reader.root else None
    except MemoryError:
        return result("unreadable", ["too_complex"], [])
    except Exception:  # hostile input: any failure of the reader is an answer
        return result("unreadable", ["malformed_pdf"], [])
    if not fields:
        return result("unsigned", ["unsigned"], [])
    contexts = _Contexts(trust, dss)
    if base_length is not None:
        try:
            own, checks = _check_appended(reader, stream, base_length, contexts, now)
        except Exception:
            log.info("appended updates could not be analysed", exc_info=True)
            own, checks = False, []
        return result(
            "valid" if own else "modified",
            [] if own else ["appended_changes"],
            checks,
            own_updates_only=own,
        )

    checks = []
    embedded: list[EmbeddedPdfSignature] = []
    for name, _value, ref in fields:
        try:
            sig = EmbeddedPdfSignature(reader, ref.get_object(), name)
        except Exception:
            checks.append(_broken(name, "FORMAT_FAILURE"))
            continue
        embedded.append(sig)
        checks.append(_check(sig, contexts, now, analyse_changes))
    outcome, reasons = _outcome(checks)
    level = _pades_level(checks, embedded, dss) if outcome == "valid" else None
    return result(outcome, reasons, checks, pades_level=level)


def unreadable(
    data: bytes | BinaryIO, *, now: dt.datetime, reason: str = "too_complex"
) -> Validation:
    """The outcome for a file whose check could not finish (time or memory limit)."""
    digest, size = _measure(data)
    return Validation(
        outcome="unreadable",
        reasons=(Reason.of(reason),),
        signatures=(),
        pades_level=None,
        validated_at=now,
        size=size,
        sha256=digest,
    )


def _measure(data: bytes | BinaryIO) -> tuple[str, int]:
    """SHA-256 (hex) and size of a file's bytes, or of a seekable stream from its start."""
    if isinstance(data, bytes):
        return hashlib.sha256(data).hexdigest(), len(data)
    data.seek(0)
    digest, size = hashlib.sha256(), 0
    while chunk := data.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


class LocalCheck:
    """:class:`certify.verifier.Check` in this process, without limits: for our own copies
    (at issue) and the command line. Uploads from the public go through worker processes.
    It also reads a file (:class:`certify.ports.FileCheck`): a copy just signed on disk is
    validated without being read into memory."""

    def __init__(self, trust: Callable[[], TrustAnchors], clock: Clock) -> None:
        self._trust = trust
        self._clock = clock

    def __call__(
        self, data: bytes, *, base_length: int | None = None, analyse_changes: bool = True
    ) -> Validation:
        return validate_pdf(
            data,
            self._trust(),
            now=self._clock.now(),
            base_length=base_length,
            analyse_changes=analyse_changes,
        )

    def check_file(
        self, stream: BinaryIO, *, analyse_changes: bool = True, base_length: int | None = None
    ) -> Validation:
        """:meth:`__call__` on a seekable binary stream, read from its start in chunks."""
        return validate_pdf(
            stream,
            self._trust(),
            now=self._clock.now(),
            base_length=base_length,
            analyse_changes=analyse_changes,
        )


class _Contexts:
    """Validation contexts trusting only the anchors, with only the file's own revocation
    data (no fetching: the public endpoint must not be made to call out)."""

    def __init__(self, trust: TrustAnchors, dss: DocumentSecurityStore | None) -> None:
        self._roots = [asn1_x509.Certificate.load(c) for c in trust.roots]
        self._others = [asn1_x509.Certificate.load(c) for c in trust.others]
        self._dss = dss

    def at(self, moment: dt.datetime) -> ValidationContext:
        kwargs: dict[str, Any] = {
            "trust_roots": self._roots,
            "other_certs": self._others,
            "allow_fetching": False,
            "revocation_mode": "hard-fail",
            "moment": moment,
        }
        if self._dss is not None:
            return self._dss.as_validation_context(kwargs)
        # No embedded revocation data: nothing can prove a certificate unrevoked.
        return ValidationContext(crls=[], ocsps=[], **kwargs)


def _timestamp_time(sig: EmbeddedPdfSignature) -> dt.datetime | None:
    """The genTime of the signature's RFC 3161 time-stamp token (unsigned attribute)."""
    try:
        token = find_unique_cms_attribute(
            sig.signer_info["unsigned_attrs"], "signature_time_stamp_token"
        )
        gen_time: dt.datetime = (
            token["content"]["encap_content_info"]["content"].parsed["gen_time"].native
        )
    except Exception:
        return None
    return gen_time


def _check(
    sig: EmbeddedPdfSignature, contexts: _Contexts, now: dt.datetime, analyse_changes: bool
) -> SignatureCheck:
    is_timestamp = sig.sig_object_type == "/DocTimeStamp"
    try:
        if is_timestamp:
            token_time = sig.signed_data["encap_content_info"]["content"].parsed["gen_time"].native
            moment = token_time or now
            status: Any = validate_pdf_timestamp(sig, validation_context=contexts.at(moment))
            signing_time = status.timestamp
            tsa: str | None = _name(status.signing_cert)
        else:
            moment = _timestamp_time(sig) or now
            # One context for the signature and its time-stamp: paths and revocation data
            # checked for one are reused for the other.
            context = contexts.at(moment)
            status = validate_pdf_signature(sig, context, context, skip_diff=not analyse_changes)
            ts = status.timestamp_validity
            signing_time = ts.timestamp if ts is not None and ts.intact and ts.valid else None
            tsa = _name(ts.signing_cert) if ts is not None else None
    except Exception:
        return _broken(sig.field_name, "SIG_CRYPTO_FAILURE", sig)
    cert = status.signing_cert
    intact, valid, trusted = bool(status.intact), bool(status.valid), bool(status.trusted)
    revoked = bool(getattr(status, "revoked", False))
    in_validity = cert.not_valid_before <= moment <= cert.not_valid_after
    if revoked:
        cert_status = "revoked"
    elif not in_validity:
        cert_status = "expired"
    elif trusted:
        cert_status = "good"
    else:
        cert_status = "unknown"
    if not intact:
        indication, sub = "TOTAL_FAILED", "HASH_FAILURE"
    elif not valid:
        indication, sub = "TOTAL_FAILED", "SIG_CRYPTO_FAILURE"
    elif revoked:
        indication, sub = "TOTAL_FAILED", "REVOKED"
    elif not trusted:
        indication, sub = "INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND"
    elif not is_timestamp and signing_time is None:
        indication, sub = "INDETERMINATE", "NO_POE"
    else:
        indication, sub = "TOTAL_PASSED", None
    level = getattr(status, "modification_level", None)
    changes_allowed = None
    if analyse_changes and not is_timestamp:
        docmdp = sig.docmdp_level
        allowed = (
            _ALLOWED_AFTER.get(docmdp, ModificationLevel.LTA_UPDATES)
            if docmdp
            else (ModificationLevel.LTA_UPDATES)
        )
        changes_allowed = (
            level is not None and level.value <= allowed.value and bool(status.docmdp_ok)
        )
    return SignatureCheck(
        # A plain str: pyHanko's string keeps a reference into the reader (and its file),
        # which Validation.to_json's deep copy would then copy whole.
        field_name=str(sig.field_name),
        kind="timestamp" if is_timestamp else "signature",
        role="timestamp" if is_timestamp else "other",
        signer=_name(cert),
        organisation=cert.subject.native.get("organization_name"),
        certificate_serial=format(cert.serial_number, "x"),
        certificate_sha256=hashlib.sha256(cert.dump()).hexdigest(),
        issuer=_name_of(cert.issuer),
        intact=intact,
        valid=valid,
        trusted=trusted,
        certificate_status=cert_status,
        indication=indication,
        sub_indication=sub,
        signing_time=signing_time,
        claimed_time=None if is_timestamp else sig.self_reported_timestamp,
        tsa=tsa,
        coverage=status.coverage.name if status.coverage is not None else "UNCLEAR",
        modification_level=level.name if level is not None else None,
        digest_algorithm=sig.md_algorithm,
        signature_algorithm=sig.signer_info["signature_algorithm"].signature_algo,
        **_identifiers(sig),
        subfilter=str(sig.sig_object.get("/SubFilter", "")),
        changes_allowed=changes_allowed,
    )


def _identifiers(sig: EmbeddedPdfSignature) -> dict[str, Any]:
    """What identifies a signature in an ETSI TS 119 102-2 report."""
    try:
        document_digest = sig.compute_digest()
    except Exception:
        document_digest = b""
    try:
        byte_range = tuple(int(x) for x in sig.byte_range)
    except Exception:
        byte_range = ()
    return {
        "signature_value_b64": base64.b64encode(sig.signer_info["signature"].native).decode(),
        "signed_attrs_sha256_b64": base64.b64encode(
            hashlib.sha256(sig.signer_info["signed_attrs"].dump()).digest()
        ).decode(),
        "document_digest_b64": base64.b64encode(document_digest).decode(),
        "byte_range": byte_range,
    }


def _broken(field_name: str, sub: str, sig: EmbeddedPdfSignature | None = None) -> SignatureCheck:
    """A signature that could not be read or validated at all."""
    signer, organisation, serial, fingerprint, issuer = "?", None, "", "", "?"
    ids: dict[str, Any] = {
        "signature_value_b64": "",
        "signed_attrs_sha256_b64": "",
        "document_digest_b64": "",
        "byte_range": (),
    }
    if sig is not None:
        try:
            cert = sig.signer_cert
            signer, issuer = _name(cert), _name_of(cert.issuer)
            organisation = cert.subject.native.get("organization_name")
            serial = format(cert.serial_number, "x")
            fingerprint = hashlib.sha256(cert.dump()).hexdigest()
            ids = _identifiers(sig)
        except Exception:
            log.debug("broken signature without a readable certificate", exc_info=True)
    return SignatureCheck(
        field_name=str(field_name),
        kind="signature",
        role="other",
        signer=signer,
        organisation=organisation,
        certificate_serial=serial,
        certificate_sha256=fingerprint,
        issuer=issuer,
        intact=False,
        valid=False,
        trusted=False,
        certificate_status="unknown",
        indication="TOTAL_FAILED",
        sub_indication=sub,
        signing_time=None,
        claimed_time=None,
        tsa=None,
        coverage="UNCLEAR",
        modification_level=None,
        digest_algorithm="",
        signature_algorithm="",
        subfilter="",
        **ids,
    )


def _outcome(checks: list[SignatureCheck]) -> tuple[str, list[str]]:
    """The file's outcome from its signatures, worst first: a broken signature, then a
    changed one, then one we do not trust."""
    reasons: list[str] = []
    if any(c.sub_indication in ("FORMAT_FAILURE", "SIG_CRYPTO_FAILURE") for c in checks):
        return "invalid", ["broken_signature"]
    if any(c.coverage == "UNCLEAR" and not c.intact for c in checks):
        # A /ByteRange that neither covers a revision nor hashes right (USF: altered, empty).
        return "invalid", ["broken_signature", "not_whole_file"]
    if any(not c.intact for c in checks):
        return "modified", ["content_changed"]
    if any(c.coverage == "UNCLEAR" for c in checks):
        # The signed bytes are intact but do not form a revision: signature wrapping.
        return "modified", ["not_whole_file"]
    if max(checks, key=lambda c: c.covered_end).coverage != "ENTIRE_FILE":
        reasons.append("appended_changes")
    if any(c.changes_allowed is False for c in checks):
        reasons.append("appended_changes")
    if reasons:
        return "modified", reasons
    if any(c.sub_indication == "REVOKED" for c in checks):
        return "untrusted", ["revoked"]
    if any(not c.trusted for c in checks):
        return "untrusted", ["untrusted_chain"]
    if any(c.sub_indication == "NO_POE" for c in checks):
        return "untrusted", ["no_timestamp"]
    return "valid", []


def _pades_level(
    checks: list[SignatureCheck],
    embedded: list[EmbeddedPdfSignature],
    dss: DocumentSecurityStore | None,
) -> str | None:
    """The ETSI EN 319 142-1 baseline level all regular signatures reach."""
    regular = [c for c in checks if c.kind == "signature"]
    if not regular or any(c.subfilter != PADES_SUBFILTER for c in regular):
        return None
    level = "B"
    if all(c.signing_time is not None for c in regular):
        level = "T"
        # Trusted under hard-fail with only the file's revocation data: the DSS holds it.
        if dss is not None and (dss.ocsps or dss.crls):
            level = "LT"
            last_regular = max(
                s.signed_revision for s in embedded if s.sig_object_type != "/DocTimeStamp"
            )
            if any(
                s.sig_object_type == "/DocTimeStamp" and s.signed_revision > last_regular
                for s in embedded
            ):
                level = "LTA"
    return f"PAdES-BASELINE-{level}"


def _check_appended(
    reader: PdfFileReader,
    stream: BinaryIO,
    base_length: int,
    contexts: _Contexts,
    now: dt.datetime,
) -> tuple[bool, list[SignatureCheck]]:
    """Whether everything after the first ``base_length`` bytes is this service's own kind
    of update: DSS data and document time-stamps under our roots, nothing else.

    Stricter than a difference analysis on purpose (PDF-insecurity's incremental saving
    attacks): every appended byte must belong to a revision the reader parsed, the file
    must end with a document time-stamp over all of it, no signature may be added, and
    pyHanko's policy must find nothing beyond LTA updates.
    """
    stream.seek(base_length)
    suffix = stream.read()
    revisions = reader.xrefs.total_revisions
    base_revisions = sum(
        1 for r in range(revisions) if reader.xrefs.get_startxref_for_revision(r) < base_length
    )
    appended = suffix.count(b"%%EOF")
    if appended == 0 or not suffix.rstrip().endswith(b"%%EOF"):
        return False, []  # bytes after the last %%EOF, or nothing that forms a revision
    if revisions != base_revisions + appended:
        return False, []  # a section the reader skipped or merged: an empty or broken xref
    checks: list[SignatureCheck] = []
    last_revision = revisions - 1
    ends_with_timestamp = False
    for name, _value, ref in enumerate_sig_fields(reader, filled_status=True):
        field = ref.get_object()
        # The revision that last touched the field or its signature, from the xref table:
        # the copy's own signatures are skipped without parsing their /Contents again.
        changed = max(
            reader.xrefs.get_last_change(ref.reference),
            reader.xrefs.get_last_change(field.raw_get("/V").reference),
        )
        if changed < base_revisions:
            continue
        sig = EmbeddedPdfSignature(reader, field, name)
        if sig.sig_object_type != "/DocTimeStamp":
            return False, []  # a new signature after the seal
        check = _check(sig, contexts, now, analyse_changes=False)
        if check.indication != "TOTAL_PASSED":
            return False, [check]
        checks.append(check)
        if sig.signed_revision == last_revision and check.coverage == "ENTIRE_FILE":
            ends_with_timestamp = True
    if not ends_with_timestamp:
        return False, checks
    diff = DEFAULT_DIFF_POLICY.review_file(reader, base_revisions - 1, doc_mdp=MDPPerm.NO_CHANGES)
    level = getattr(diff, "modification_level", None)
    if level is None or level.value > ModificationLevel.LTA_UPDATES.value:
        return False, checks
    return True, checks


def _name(cert: asn1_x509.Certificate) -> str:
    return _name_of(cert.subject)


def _name_of(name: asn1_x509.Name) -> str:
    native = name.native
    return str(native.get("common_name") or name.human_friendly)
