# pyHanko's PDF object model (generic.*, writers) is not annotated; calls into it are Any.
# mypy: disable-error-code="no-untyped-call"
"""Attacks on a signed certified copy, for the verifier's hostile tests.

Each generator turns a genuine copy (bytes) into one attack of the PDF-insecurity research
(pdf-insecurity.org): incremental saving (ISA), universal signature forgery (USF) and
signature wrapping (SWA) from Mladenov et al., "1 Trillion Dollar Refund" (CCS 2019);
shadow attacks from Mainka et al. (NDSS 2021); certification attacks (EAA, SSA) from
Rohlmann et al., "Breaking the Specification" (IEEE S&P 2021); and re-signing under a
self-made CA that copies the real certificates. Attacks written byte by byte and malformed
files are in ``tests.attacks_malformed`` (``raw`` here).

Every generator is deterministic: fixed trailer IDs, no XMP "now", a fixed signing time,
keys derived from labels and deterministic signatures (RSA PKCS#1 v1.5, RFC 6979 ECDSA).
``GENERATORS`` maps a name to a function of the genuine copy and ``EXPECTED`` to the
verdicts a verifier may give, the preferred first (likewise ``MALFORMED`` and
``MALFORMED_EXPECTED`` in ``tests.attacks_malformed`` for files made from nothing). None
may be ``genuine``.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import math
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from certify.copy import CertificationText, CopyBuilder
from certify.intake import ScanLimits, read_scan
from certify.signing import CopySigner, SignatureText
from tests import attacks_malformed as raw
from tests.attacks_malformed import FORGED, forged_ops, page_font, seal_layout, text_ops
from tests.issuing import AUTHORITY, CERTIFIER, scan_jpeg

_DA = generic.TextStringObject("/F1 12 Tf 0.8 0 0 rg")  # text, though it starts with "/"
_EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def signed_copy(copy_builder: CopyBuilder, copy_signer: CopySigner, workdir: Path) -> bytes:
    """A genuine one-page copy, built and signed as the service does (B-LTA), no MinIO."""
    scan = read_scan(io.BytesIO(scan_jpeg()), ScanLimits(), workdir)
    text = CertificationText(
        number=7,
        book="01/2026",
        date=dt.date(2026, 1, 5),
        certifier_name=CERTIFIER.full_name,
        certifier_title=CERTIFIER.title,
        authority_name=AUTHORITY.name,
        document_name="Giấy khai sinh",
    )
    signature = SignatureText(CERTIFIER.full_name, CERTIFIER.title, AUTHORITY.name, "Tân Phú")
    buf = io.BytesIO()
    try:
        url = "http://127.0.0.1:8000/v/TOKEN"
        copy_builder.build(scan.pages, text, url, title="Giấy khai sinh", output=buf)
        copy_signer.sign_in_place(
            buf, officer_username=CERTIFIER.username, authority_code=AUTHORITY.code, text=signature
        )
    finally:
        scan.cleanup()
    return buf.getvalue()


# --- writing updates with pyHanko --------------------------------------------------------------


class _Writer(IncrementalPdfFileWriter):
    """An incremental writer whose output depends on its input only: the second trailer ID
    is derived from the input and ``label``, and the XMP metadata is left untouched."""

    def __init__(self, pdf: bytes, label: str) -> None:
        super().__init__(io.BytesIO(pdf))
        seed = hashlib.sha256(label.encode() + pdf).digest()[:16]
        first = self._document_id[0]
        self._document_id = generic.ArrayObject([first, generic.ByteStringObject(seed)])

    def _update_meta(self) -> None:
        pass

    def output(self) -> bytes:
        out = io.BytesIO()
        self.write(out)
        return out.getvalue()


def _pdf(value: Any) -> Any:
    """Python values to pyHanko objects: "/Name", text, numbers, lists, dicts (keys may
    omit the slash)."""
    if isinstance(value, generic.PdfObject):
        return value
    if isinstance(value, int):
        return generic.NumberObject(value)
    if isinstance(value, float):
        return generic.FloatObject(round(value, 3))
    if isinstance(value, str):
        return (
            generic.NameObject(value) if value.startswith("/") else generic.TextStringObject(value)
        )
    if isinstance(value, list | tuple):
        return generic.ArrayObject(_pdf(v) for v in value)
    return generic.DictionaryObject(
        {generic.NameObject(k if k[0] == "/" else f"/{k}"): _pdf(v) for k, v in value.items()}
    )


def _page_refs(w: _Writer) -> list[Any]:
    def walk(ref: Any) -> list[Any]:
        node = ref.get_object()
        return (
            [ref] if node.get("/Type") == "/Page" else [r for k in node["/Kids"] for r in walk(k)]
        )

    return walk(w.root.raw_get("/Pages"))


def _stream(w: _Writer, data: bytes, **entries: Any) -> Any:
    stream = generic.StreamObject(_pdf(entries), stream_data=data)
    stream.compress()
    return w.add_object(stream)


def _form(w: _Writer, page: Any, width: float, height: float, ops: bytes) -> Any:
    """A form XObject drawing ``ops`` with the page's font."""
    name, ref, _ = page_font(page)
    resources = {"Font": {name: ref}}
    bbox = [0, 0, width, height]
    return _stream(w, ops, Type="/XObject", Subtype="/Form", BBox=bbox, Resources=resources)


def _annotate(w: _Writer, text: str, rect: list[float], **entries: Any) -> Any:
    """Add an annotation on page 1 whose appearance is a yellow box showing ``text``."""
    page_ref = _page_refs(w)[0]
    page = page_ref.get_object()
    width, height = rect[2] - rect[0], rect[3] - rect[1]
    box = b"q 1 1 0.8 rg 0 0 %g %g re f Q " % (width, height)
    look = _form(w, page, width, height, box + text_ops(page, [(6, height / 2 - 5, 12, text)]))
    annot = _pdf({"Type": "/Annot", "Rect": rect, "F": 4, "P": page_ref, **entries})
    annot["/AP"] = _pdf({"N": look})
    ref = w.add_object(annot)
    if "/Annots" in page:
        page["/Annots"].append(ref)
        w.update_container(page["/Annots"])
    else:
        page["/Annots"] = generic.ArrayObject([ref])
        w.update_container(page)
    return ref


def _add_field(w: _Writer, ref: Any) -> None:
    form_fields = w.root["/AcroForm"]["/Fields"]
    form_fields.append(ref)
    w.update_container(form_fields)


# --- incremental saving attacks (ISA) -----------------------------------------------------------


def append_page_content(pdf: bytes) -> bytes:
    """ISA: an update replacing page 1's /Contents with the forger's text (ĐÃ SỬA).

    Expected verdict: modified."""
    w = _Writer(pdf, "append_page_content")
    page = _page_refs(w)[0].get_object()
    page["/Contents"] = _stream(w, forged_ops(page))
    w.update_container(page)
    return w.output()


def _free_text(pdf: bytes, label: str, text: str) -> bytes:
    w = _Writer(pdf, label)
    _annotate(w, text, [60, 600, 360, 640], Subtype="/FreeText", Contents=text, DA=_DA)
    return w.output()


def append_annotation(pdf: bytes) -> bytes:
    """ISA: an update adding a /FreeText annotation "ĐÃ SỬA" (with appearance) on page 1,
    after the certification (P=2) and the seal's lock (P=1) forbade it.

    Expected verdict: modified."""
    return _free_text(pdf, "append_annotation", FORGED)


def append_form_fill(pdf: bytes) -> bytes:
    """ISA: an update adding a text field ``ghi_chu`` filled with ĐÃ SỬA: form filling
    after the seal's lock.

    Expected verdict: modified."""
    w = _Writer(pdf, "append_form_fill")
    entries = {"Subtype": "/Widget", "FT": "/Tx", "T": "ghi_chu", "V": FORGED, "DA": _DA}
    _add_field(w, _annotate(w, FORGED, [60, 540, 360, 580], **entries))
    return w.output()


def append_extra_signature(pdf: bytes, signer: signers.Signer | None = None) -> bytes:
    """ISA: a third, visible signature (field ``xac_nhan``) by ``signer`` (default
    ``outside_signer()``, self-signed), after the seal's lock forbade any change.

    Expected verdict: modified (the new signature is also untrusted)."""
    w = _Writer(pdf, "append_extra_signature")
    when = w.prev.embedded_regular_signatures[-1].self_reported_timestamp or _EPOCH
    meta = signers.PdfSignatureMetadata(
        field_name="xac_nhan",
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason="Xác nhận bản sao",
    )
    spec = fields.SigFieldSpec("xac_nhan", box=(60, 420, 220, 470), on_page=0)
    pdf_signer = _FixedTimePdfSigner(
        meta, signer or outside_signer(), new_field_spec=spec, when=when + dt.timedelta(hours=1)
    )
    return bytes(pdf_signer.sign_pdf(w).getbuffer())


def append_noop_update(pdf: bytes) -> bytes:
    """An update rewriting page 1's dictionary unchanged. pyHanko's difference analysis
    sees nothing, but the document timestamp no longer covers the entire file.

    Expected verdict: modified."""
    w = _Writer(pdf, "append_noop_update")
    w.mark_update(_page_refs(w)[0])
    return w.output()


# --- universal signature forgery (USF) on the seal --------------------------------------------


def _usf(
    pdf: bytes, in_place: bool, span: tuple[int, int], edit: bytes, key: str, value: Any
) -> bytes:
    """In place: bytes [span) of the seal's dictionary replaced by ``edit`` padded with
    spaces (offsets kept). Otherwise an update redefining the seal's signature dictionary
    with ``key`` set to ``value`` (removed if None)."""
    if in_place:
        start, end = span
        if len(edit) > end - start:
            raise ValueError("replacement longer than the original")
        return pdf[:start] + edit.ljust(end - start) + pdf[end:]
    w = _Writer(pdf, f"usf {key} {edit[:24]!r}")
    ref = w.prev.embedded_regular_signatures[-1].sig_object.container_ref
    w.mark_update(ref)
    sig = w.get_object(ref)
    if value is None:
        del sig[key]
    else:
        sig[key] = value
    return w.output()


def alter_byte_range(
    pdf: bytes, *, values: tuple[int, ...] = (0, 0, 0, 0), in_place: bool = False
) -> bytes:
    """USF: the seal's /ByteRange set to ``values`` (default [0 0 0 0]: nothing signed).

    Expected verdict: invalid."""
    _, span, _ = seal_layout(pdf)
    edit = b"/ByteRange [%s]" % b" ".join(b"%d" % v for v in values)
    return _usf(pdf, in_place, span, edit, "/ByteRange", _pdf(list(values)))


def zero_contents(pdf: bytes, *, in_place: bool = False) -> bytes:
    """USF: the seal's /Contents replaced by as many zero bytes.

    Expected verdict: invalid."""
    (_, b, c, _), _, _ = seal_layout(pdf)
    zeros = generic.ByteStringObject(bytes((c - b - 2) // 2))
    return _usf(pdf, in_place, (b, c), b"<%s>" % (b"0" * (c - b - 2)), "/Contents", zeros)


def empty_contents(pdf: bytes, *, in_place: bool = False) -> bytes:
    """USF: the seal's /Contents set to ``<>`` (in place: ``<>`` then spaces).

    Expected verdict: invalid."""
    (_, b, c, _), _, _ = seal_layout(pdf)
    return _usf(pdf, in_place, (b, c), b"<>", "/Contents", generic.ByteStringObject(b""))


def remove_contents(pdf: bytes, *, in_place: bool = False) -> bytes:
    """USF: the seal's dictionary without /Contents (in place: key and value blanked).

    Expected verdict: invalid."""
    (_, _, c, _), _, key_at = seal_layout(pdf)
    return _usf(pdf, in_place, (key_at, c), b"", "/Contents", None)


def remove_byte_range(pdf: bytes, *, in_place: bool = False) -> bytes:
    """USF: the seal's dictionary without /ByteRange (in place: blanked).

    Expected verdict: invalid."""
    _, span, _ = seal_layout(pdf)
    return _usf(pdf, in_place, span, b"", "/ByteRange", None)


# --- shadow and certification attacks -----------------------------------------------------------


def shadow_hide(pdf: bytes) -> bytes:
    """Shadow attack, hide-and-replace (NDSS 2021): an update adds a form XObject drawn
    over all of page 1 (white, then ĐÃ SỬA); the original content stays underneath.

    Expected verdict: modified."""
    w = _Writer(pdf, "shadow_hide")
    page = _page_refs(w)[0].get_object()
    _, _, width, height = (float(v) for v in page["/MediaBox"])
    resources = page["/Resources"]
    resources.setdefault(generic.NameObject("/XObject"), generic.DictionaryObject())
    resources["/XObject"][generic.NameObject("/Shadow0")] = _form(
        w, page, width, height, forged_ops(page)
    )
    contents = page.raw_get("/Contents")
    old = list(contents.get_object()) if isinstance(contents.get_object(), list) else [contents]
    page["/Contents"] = generic.ArrayObject([*old, _stream(w, b"q /Shadow0 Do Q")])
    w.update_container(resources)
    w.update_container(page)
    return w.output()


def shadow_replace_field(pdf: bytes) -> bytes:
    """Shadow attack, replace: the seal widget's appearance (/AP /N) replaced by one naming
    another authority; the signature itself is untouched.

    Expected verdict: modified."""
    w = _Writer(pdf, "shadow_replace_field")
    widget = w.prev.embedded_regular_signatures[-1].sig_field
    x0, y0, x1, y1 = (float(v) for v in widget["/Rect"])
    page = widget["/P"] if "/P" in widget else _page_refs(w)[-1].get_object()
    ops = text_ops(page, [(6, (y1 - y0) / 2 - 5, 12, "UBND phường Giả")])
    widget["/AP"] = _pdf({"N": _form(w, page, x1 - x0, y1 - y0, ops)})
    w.update_container(widget)
    return w.output()


def certification_annotation(pdf: bytes) -> bytes:
    """Certification attack, EAA (S&P 2021): a /FreeText annotation "Bản chính đã sửa"
    over the document after the certification signature; the seal stays in place.

    Expected verdict: modified."""
    return _free_text(pdf, "certification_annotation", "Bản chính đã sửa")


def certification_signature_field(pdf: bytes) -> bytes:
    """Certification attack, SSA (S&P 2021): an unsigned signature field ``phu_luc`` whose
    widget appearance draws ĐÃ SỬA over the page (new signature fields being what P=2
    lets follow a certification).

    Expected verdict: modified."""
    w = _Writer(pdf, "certification_signature_field")
    entries = {"Subtype": "/Widget", "FT": "/Sig", "T": "phu_luc"}
    _add_field(w, _annotate(w, FORGED, [60, 480, 360, 520], **entries))
    return w.output()


# --- signatures by others -----------------------------------------------------------------------


class _DeterministicSigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner, with RFC 6979 nonces for ECDSA (RSA PKCS#1 v1.5 already is
    deterministic): the same document gives the same signature."""

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        key = serialization.load_der_private_key(self.signing_key.dump(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            return super().sign_raw(data, digest_algorithm)
        return key.sign(data, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))


class _FixedTimePdfSigner(signers.PdfSigner):
    """A PdfSigner whose signing time (/M and the appearance) is ``when``, not now."""

    def __init__(self, *args: Any, when: dt.datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._when = when

    def init_signing_session(self, pdf_out: Any, existing_fields_only: bool = False) -> Any:
        session = super().init_signing_session(pdf_out, existing_fields_only)
        session.system_time = self._when
        return session


@functools.cache
def _small_primes(limit: int = 1 << 16) -> list[int]:
    sieve = bytearray([1]) * limit
    for i in range(2, math.isqrt(limit) + 1):
        if sieve[i]:
            sieve[i * i :: i] = bytes(len(range(i * i, limit, i)))
    return [p for p in range(3, limit) if sieve[p]]


def _prime(rng: random.Random, width: int = 4096) -> int:
    """A 1024-bit probable prime: odd numbers from a random start, sieved by the primes
    below 2^16, then Fermat tests (enough for an attacker's throwaway key)."""
    while True:
        start = rng.getrandbits(1024) | (3 << 1022) | 1
        alive = bytearray([1]) * width  # alive[i]: start + 2i has no small factor
        for p in _small_primes():
            first = (-(start % p) * ((p + 1) // 2)) % p
            alive[first::p] = bytes(len(range(first, width, p)))
        i = alive.find(1)
        while i != -1:
            n = start + 2 * i
            if all(pow(a, n - 1, n) == 1 for a in (2, 3, 5, 7, 11, 13)):
                return n
            i = alive.find(1, i + 1)


@functools.cache
def _key(label: bytes, algorithm: str) -> Any:
    """An attacker's key derived from ``label`` (RSA-2048 or ECDSA P-256): worthless, as
    anyone can derive it, and the same every run."""
    seed = hashlib.sha256(b"certify-attack/" + label).digest()
    if algorithm == "ecdsa":
        scalar = int.from_bytes(seed, "big") % (_P256_ORDER - 1) + 1
        return ec.derive_private_key(scalar, ec.SECP256R1())
    rng = random.Random(seed)  # noqa: S311 - reproducible on purpose, not secret
    e = 65537
    while True:
        p, q = _prime(rng), _prime(rng)
        phi = (p - 1) * (q - 1)
        if p != q and math.gcd(e, phi) == 1:
            break
    d = pow(e, -1, phi)
    crt = (d % (p - 1), d % (q - 1), pow(q, -1, p))
    return rsa.RSAPrivateNumbers(p, q, d, *crt, rsa.RSAPublicNumbers(e, p * q)).private_key()


def _x509_sign(builder: x509.CertificateBuilder, key: Any) -> x509.Certificate:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return builder.sign(key, hashes.SHA256(), ecdsa_deterministic=True)
    return builder.sign(key, hashes.SHA256())  # RSA PKCS#1 v1.5: deterministic


def _simple_signer(cert: x509.Certificate, key: Any, chain: list[x509.Certificate]) -> Any:
    def load(c: x509.Certificate) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))

    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return _DeterministicSigner(
        signing_cert=load(cert),
        signing_key=asn1_keys.PrivateKeyInfo.load(der),
        cert_registry=SimpleCertificateStore.from_certs([load(c) for c in chain]),
    )


def outside_signer() -> signers.Signer:
    """A signer with a self-signed ECDSA certificate nobody here trusts (Nguyễn Văn Giả)."""
    key = _key(b"outside", "ecdsa")
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Công ty Giả mạo"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Nguyễn Văn Giả"),
        ]
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(0x5A17)
        .not_valid_before(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2050, 1, 1, tzinfo=dt.UTC))
    )
    signer: signers.Signer = _simple_signer(_x509_sign(builder, key), key, [])
    return signer


def _clone(template: asn1_x509.Certificate, key: Any, issuer_key: Any) -> x509.Certificate:
    """``template`` made again with another key: same names, serial, validity and
    extensions (key identifiers, AIA and CRL URLs included), signed by ``issuer_key``."""
    real = x509.load_der_x509_certificate(template.dump())
    builder = (
        x509.CertificateBuilder()
        .subject_name(real.subject)
        .issuer_name(real.issuer)
        .public_key(key.public_key())
        .serial_number(real.serial_number)
        .not_valid_before(real.not_valid_before_utc)
        .not_valid_after(real.not_valid_after_utc)
    )
    for ext in real.extensions:
        builder = builder.add_extension(ext.value, critical=ext.critical)
    return _x509_sign(builder, issuer_key)


def _fake_signer(sig: Any, algorithm: str) -> Any:
    """A signer whose certificate, issuing CA and root copy those embedded in ``sig``."""
    by_subject = {c.subject.dump(): c for c in sig.other_embedded_certs}
    issuing = by_subject[sig.signer_cert.issuer.dump()]
    root = by_subject[issuing.issuer.dump()]
    root_key, ca_key, ee_key = (_key(c.dump(), algorithm) for c in (root, issuing, sig.signer_cert))
    chain = [_clone(issuing, ca_key, root_key), _clone(root, root_key, root_key)]
    return _simple_signer(_clone(sig.signer_cert, ee_key, ca_key), ee_key, chain)


def _sign(pdf: bytes, sig: Any, signer: Any, when: dt.datetime, **meta: Any) -> bytes:
    """Sign ``sig``'s field again, with the reason, location and name it had."""
    real = sig.sig_object
    meta.update(
        {k.lower(): str(real[f"/{k}"]) for k in ("Reason", "Location", "Name") if f"/{k}" in real}
    )
    pdf_signer = _FixedTimePdfSigner(
        signers.PdfSignatureMetadata(
            field_name=sig.field_name,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
            **meta,
        ),
        signer,
        when=when,
    )
    return bytes(pdf_signer.sign_pdf(_Writer(pdf, sig.field_name)).getbuffer())


def resign_with_fake_ca(pdf: bytes, *, algorithm: str = "rsa") -> bytes:
    """The unsigned copy (first revision) signed again, officer (certification, P=2) then
    seal, under a self-made CA whose root, issuing CA and end-entity certificates copy the
    real ones (names, serials, validity, extensions) but not their keys: RSA-2048 PKCS#1
    v1.5, or ECDSA P-256 with ``algorithm="ecdsa"``. No timestamp, no DSS.

    Expected verdict: untrusted (or unknown)."""
    reader = PdfFileReader(io.BytesIO(pdf))
    officer, seal = reader.embedded_regular_signatures[:2]
    when = seal.self_reported_timestamp or _EPOCH
    doc = _sign(
        raw.strip_signatures(pdf),
        officer,
        _fake_signer(officer, algorithm),
        when,
        certify=True,
        docmdp_permissions=fields.MDPPerm.FILL_FORMS,
    )
    seal_signer = _fake_signer(seal, algorithm)
    return _sign(doc, seal, seal_signer, when, docmdp_permissions=fields.MDPPerm.NO_CHANGES)


# --- registry ----------------------------------------------------------------------------------

_USF = (alter_byte_range, zero_contents, empty_contents, remove_contents, remove_byte_range)
GENERATORS: dict[str, Callable[[bytes], bytes]] = {
    f.__name__: f
    for f in (
        append_page_content,
        append_annotation,
        append_form_fill,
        append_extra_signature,
        raw.append_empty_xref_update,
        raw.append_broken_xref_update,
        append_noop_update,
        raw.append_garbage,
        raw.wrap_signature,
        *_USF,
        shadow_hide,
        shadow_replace_field,
        certification_annotation,
        certification_signature_field,
        resign_with_fake_ca,
        raw.flip_byte,
        raw.truncate,
        raw.strip_signatures,
        raw.malformed_broken_xref,
    )
}
GENERATORS.update({f"{f.__name__}_in_place": functools.partial(f, in_place=True) for f in _USF})
GENERATORS["resign_with_fake_ca_ecdsa"] = functools.partial(resign_with_fake_ca, algorithm="ecdsa")

_MODIFIED = """append_page_content append_annotation append_form_fill append_extra_signature
    append_noop_update append_garbage shadow_hide shadow_replace_field certification_annotation
    certification_signature_field"""
EXPECTED: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(_MODIFIED.split(), ("modified",)),
    "append_empty_xref_update": ("modified", "unreadable"),
    "append_broken_xref_update": ("modified", "unreadable"),
    "wrap_signature": ("modified", "invalid"),
    **{
        name: ("invalid",)
        for name in GENERATORS
        if name.split("_")[0] in {"alter", "zero", "empty", "remove"}
    },
    "resign_with_fake_ca": ("untrusted", "unknown"),
    "resign_with_fake_ca_ecdsa": ("untrusted", "unknown"),
    "flip_byte": ("invalid", "modified"),
    "truncate": ("unreadable",),
    "strip_signatures": ("unknown",),
    "malformed_broken_xref": ("unreadable", "invalid", "modified"),
}
assert set(EXPECTED) == set(GENERATORS), set(EXPECTED) ^ set(GENERATORS)
