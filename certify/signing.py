"""Signing a certified copy: the certifier's certification signature, then the authority's seal.

NĐ 45/2020 art. 10 cl. 3 requires two signatures: the certifying person's and the authority's.
Both fields exist in the copy before the first signature (``certify.copy``).

1. The officer signs first, as the certification signature (ISO 32000-1 §12.8.2.2: DocMDP
   only on the first signature) with DocMDP P=2, so that only filling the seal's signature
   field and LTV data may follow.
2. The authority's seal signs second; its field's lock dictionary (``/Lock``, ``/P 1``, set
   when the field was made) moves the document to "no changes", so nothing may follow but
   LTV data and document timestamps (ISO 32000-2 §12.7.5.5). The seal's box was drawn into
   the page when the copy was built and its widget keeps its empty appearance: a widget
   whose appearance changes after the certifier signed is a "visual difference" on the
   certifier's signature for EU DSS (``docs/validators.md``).
3. Each signature is PAdES (ETSI EN 319 142-1) with an RFC 3161 signature timestamp (B-T);
   then one DSS with the revocation data of both (B-LT) and a document timestamp over it
   (B-LTA), in one incremental update.

Certificates are checked valid and unrevoked before signing (TT 15/2025/TT-BKHCN).
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from typing import Any, BinaryIO

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from pyhanko.pdf_utils import content, generic, layout
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.stamp.base import BaseStamp, BaseStampStyle

from certify import copy_layout, pdf_speedups
from certify.copy import OFFICER_FIELD, SEAL_FIELD
from certify.errors import CertifyError, SigningError
from certify.fonts import PreparedFont
from certify.ports import VN_TZ, Clock, SignerSource, SystemClock

# Signature /Contents are read at binascii speed (certify/pdf_speedups.py).
pdf_speedups.install()

# Room for a signature timestamp token (~7 KB here, with the TSA's certificates) and for
# signed attributes, the signature value and DER overhead, on top of the signer's chain.
TIMESTAMP_TOKEN_ALLOWANCE = 8 * 1024
CMS_OVERHEAD_ALLOWANCE = 2 * 1024
TIMESTAMP_BYTES_RESERVED = 2 * (TIMESTAMP_TOKEN_ALLOWANCE + CMS_OVERHEAD_ALLOWANCE)


@dataclass(frozen=True)
class SignatureText:
    """What the signatures say of themselves (reason, location, names); all also shown in
    the lời chứng block."""

    certifier_name: str
    certifier_title: str
    authority_name: str
    location: str  # e.g. "UBND phường Tân Phú, Đồng Nai"

    @property
    def officer_reason(self) -> str:
        return f"Chứng thực bản sao đúng với bản chính — {self.certifier_title}"

    @property
    def seal_reason(self) -> str:
        return f"Chứng thực bản sao từ bản chính — {self.authority_name}"


_STAMP_FONT = "/F1"  # the copy's regular font on the last page (certify.copy)


@dataclass(frozen=True)
class PreparedFontStampStyle(BaseStampStyle):
    """The certifier's signature appearance: who signed and when, in Vietnamese.

    It draws with the Unicode font the copy already embeds (``/F1`` of the last page), so a
    signature adds no font: pyHanko's own text stamps embed and subset a font on every
    signature (150-200 ms for a full font, tens of ms for a subset), and pyHanko 0.38 draws
    fonts whose units per em are not 1000 about twice too wide.
    """

    font: PreparedFont | None = None
    border_width: int = 1

    def create_stamp(
        self, writer: BasePdfFileWriter, box: layout.BoxConstraints, text_params: dict[str, Any]
    ) -> BaseStamp:
        return _PreparedFontStamp(writer, self, box, text_params)


class _PreparedFontStamp(BaseStamp):
    def __init__(
        self,
        writer: BasePdfFileWriter,
        style: PreparedFontStampStyle,
        box: layout.BoxConstraints,
        text_params: dict[str, Any],
    ) -> None:
        super().__init__(writer, style, box)
        self._params = text_params

    def _render_inner_content(self) -> list[bytes]:
        style: PreparedFontStampStyle = self.style
        if style.font is None or self.writer is None:
            return []
        font_ref = _last_page_font(self.writer)
        self.set_resource(
            category=content.ResourceType.FONT, name=generic.NameObject(_STAMP_FONT), value=font_ref
        )
        lines = copy_layout.officer_stamp_lines(
            str(self._params.get("signer", "")), str(self._params.get("ts", ""))
        )
        return [
            copy_layout.stamp_text_ops(
                style.font, _STAMP_FONT.encode(), lines, float(self.box.height)
            )
        ]


class _NoAppearance(BaseStampStyle):
    """For a widget whose look is in the page already: pyHanko leaves its appearance as is."""

    def create_stamp(
        self, writer: BasePdfFileWriter, box: layout.BoxConstraints, text_params: dict[str, Any]
    ) -> BaseStamp:
        return None  # type: ignore[return-value]  # pyHanko: no stamp, appearance unchanged


def _last_page_font(writer: BasePdfFileWriter) -> generic.PdfObject:
    """The reference of the copy's regular font, as certify.copy put it on the last page."""
    pages = writer.root["/Pages"]
    last = pages["/Kids"][-1].get_object()
    while "/Kids" in last:
        last = last["/Kids"][-1].get_object()
    fonts = last["/Resources"]["/Font"]
    ref: generic.PdfObject = fonts.raw_get(_STAMP_FONT)
    return ref


def stamp_style(font: PreparedFont) -> PreparedFontStampStyle:
    """The signatures' stamp style, drawing with ``font`` (the copy's prepared font)."""
    return PreparedFontStampStyle(font=font, background=None)


def _reservation(signer: Signer) -> int:
    """Room (hex digits) to reserve for ``signer``'s CMS: chain, timestamp token, overhead.

    Reserving spares pyHanko a dry-run signature (with its own timestamp request) to estimate
    the size; reserving tightly matters too, because every later revision parses the earlier
    signatures' hex /Contents in pure Python (about half of the seal's signing time).
    """
    certs = [signer.signing_cert, *(signer.cert_registry or ())]
    chain = sum(len(c.dump()) for c in certs if c is not None)
    # pyHanko counts the reservation in hex digits: two a byte.
    return 2 * (chain + TIMESTAMP_TOKEN_ALLOWANCE + CMS_OVERHEAD_ALLOWANCE)


def document_timestamp_field(writer: BasePdfFileWriter) -> str:
    """Add an invisible signature field for a document timestamp on the last page, where the
    two signatures' widgets are; return its name.

    pyHanko would put it on the first page and give that page a new ``/Annots`` array: EU DSS
    counts a new array on a page as a form change, which the seal's lock (P=1) forbids, where
    a widget added to the signatures' page is part of the timestamp (``docs/validators.md``).
    """
    name = f"Timestamp-{uuid.uuid4()}"
    last = int(writer.root["/Pages"]["/Count"]) - 1
    fields.append_signature_field(writer, fields.SigFieldSpec(sig_field_name=name, on_page=last))
    return name


def _last_timestamp_certificate(document: BinaryIO) -> x509.Certificate | None:
    """The TSA certificate of the document's last document time-stamp, if it has one."""
    document.seek(0)
    stamps = PdfFileReader(document, strict=False).embedded_timestamp_signatures
    document.seek(0, io.SEEK_END)
    return _crypto_cert(stamps[-1].signer_cert) if stamps else None


def to_asn1_name(name: x509.Name) -> bytes:
    """DER of a certificate name, as asn1crypto encodes it in CRLs."""
    return bytes(asn1_x509.Name.load(name.public_bytes()).dump())


def _crypto_cert(cert: asn1_x509.Certificate) -> x509.Certificate:
    return x509.load_der_x509_certificate(cert.dump())


class CopySigner:
    """Signs copies with the two signatures and a document timestamp.

    Build once per process: it holds the stamp style (with a prepared font) and asks the
    signer source for cached signers.
    """

    def __init__(
        self,
        source: SignerSource,
        *,
        stamp_style: BaseStampStyle | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._source = source
        self._stamp_style = stamp_style
        self._clock: Clock = clock or SystemClock()

    def sign(
        self, pdf: bytes, *, officer_username: str, authority_code: str, text: SignatureText
    ) -> bytes:
        """Return ``pdf`` signed by the officer (certification, P=2), then the seal (B-LTA).

        Raises:
            KeyMaterialError: a certificate is expired, not yet valid or revoked.
            SigningError: pyHanko could not sign (the message names the step).
        """
        document = io.BytesIO(pdf)
        self.sign_in_place(
            document, officer_username=officer_username, authority_code=authority_code, text=text
        )
        return document.getvalue()

    def sign_in_place(
        self,
        document: BinaryIO,
        *,
        officer_username: str,
        authority_code: str,
        text: SignatureText,
    ) -> None:
        """Sign the copy in ``document``, appending every incremental update to it.

        ``document`` is readable, writable and seekable: a file opened ``w+b``/``r+b`` (or a
        ``BytesIO``). pyHanko's ``in_place`` mode appends each revision to it and reads it
        back in chunks for the digests, so a copy on disk is never held in memory whole.
        Raises as :meth:`sign`.
        """
        officer = self._source.officer_signer(officer_username)
        seal = self._source.seal_signer(authority_code)
        certs = []
        for signer in (officer, seal):
            if signer.signing_cert is None:
                raise SigningError("Thiếu chứng thư số để ký. / No signing certificate.")
            cert = _crypto_cert(signer.signing_cert)
            self._source.check_usable(cert)
            certs.append(cert)
        timestamper = self._source.timestamper()
        chain, ocsps, crls = self._source.revocation_material(certs=certs)

        officer_meta = signers.PdfSignatureMetadata(
            field_name=OFFICER_FIELD,
            certify=True,
            docmdp_permissions=fields.MDPPerm.FILL_FORMS,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
            reason=text.officer_reason,
            location=text.location,
            name=text.certifier_name,
        )
        seal_meta = signers.PdfSignatureMetadata(
            field_name=SEAL_FIELD,
            # The seal field's /Lock (P=1) decides; asking for the same avoids a warning.
            docmdp_permissions=fields.MDPPerm.NO_CHANGES,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
            reason=text.seal_reason,
            location=text.location,
            name=text.authority_name,
        )
        try:
            self._sign_once(document, officer_meta, officer, timestamper, self._stamp_style)
            self._sign_once(document, seal_meta, seal, timestamper, _NoAppearance())
            self._archive(document, timestamper, chain, ocsps, crls)
        except CertifyError:
            raise
        except Exception as exc:  # pyHanko raises many types; none may cross the boundary
            raise SigningError("Không ký được bản sao. / The copy could not be signed.") from exc

    def renew_archive(self, document: BinaryIO, *, md_algorithm: str = "sha256") -> None:
        """Renew a stored copy's archive time-stamp (PAdES B-LTA renewal, ETSI EN 319 142-1
        §5.5): one incremental update with the current validation data (the certificates of
        every CA generation and service on file, fresh CRLs of the CAs, which cover the last
        time-stamp's TSA) and a new document time-stamp over all of it, appended to
        ``document`` (readable, writable, seekable, as for :meth:`sign_in_place`).

        Raises:
            SigningError: pyHanko could not time-stamp (the message names the step).
            KeyMaterialError, KeyUnavailableError: the TSA cannot sign.
        """
        try:
            last_tsa = _last_timestamp_certificate(document)
        except Exception as exc:  # our own stored copy, but the reader may still fail
            raise SigningError(
                "Không đọc được dấu thời gian cuối của bản sao. / The copy's last time-stamp "
                "cannot be read.",
                code="archive_timestamp_failed",
            ) from exc
        timestamper = self._source.timestamper()
        next_tsa = self._source.tsa_certificate()
        targets = [c for c in (last_tsa, next_tsa) if c is not None]
        chain, ocsps, crls = self._source.revocation_material(certs=targets)
        # Only the validation data of the time-stamps' chains: the CRLs of the CAs that
        # issued the two TSA certificates and of the roots (about the CAs). A CA's CRL made
        # now that is not needed would also speak of the signers' long-expired certificates,
        # and an ETSI EN 319 102-1 validator (pyHanko's) then places their check in the
        # present instead of sliding back to the time of signing.
        wanted = {c.subject.dump() for c in chain if c.subject == c.issuer}
        wanted |= {to_asn1_name(c.issuer) for c in targets}
        crls = [c for c in crls if c["tbs_cert_list"]["issuer"].dump() in wanted]
        try:
            self._archive(document, timestamper, chain, ocsps, crls, md_algorithm=md_algorithm)
        except CertifyError:
            raise
        except Exception as exc:  # pyHanko raises many types; none may cross the boundary
            raise SigningError(
                "Không đóng được dấu thời gian lưu trữ. / The archive time-stamp could not be "
                "added.",
                code="archive_timestamp_failed",
            ) from exc

    def _archive(
        self,
        document: BinaryIO,
        timestamper: TimeStamper,
        chain: list[asn1_x509.Certificate],
        ocsps: list[asn1_ocsp.OCSPResponse],
        crls: list[asn1_crl.CertificateList],
        *,
        md_algorithm: str = "sha256",
    ) -> None:
        """B-LT then B-LTA in one incremental update: the DSS with the revocation data of
        both signatures (and of the TSA, through the CRLs), then a document timestamp over it.

        One DSS for both signatures instead of one per signature spares pyHanko a path
        validation per signature; the revocation data are the same.
        """
        writer = IncrementalPdfFileWriter(document)
        DocumentSecurityStore.supply_dss_in_writer(
            writer, None, certs=chain, ocsps=ocsps, crls=crls
        )
        field = document_timestamp_field(writer)
        signers.PdfTimeStamper(timestamper, field_name=field).timestamp_pdf(
            writer, md_algorithm, bytes_reserved=TIMESTAMP_BYTES_RESERVED, in_place=True
        )

    def _sign_once(
        self,
        document: BinaryIO,
        meta: signers.PdfSignatureMetadata,
        signer: Signer,
        timestamper: TimeStamper,
        stamp_style: BaseStampStyle | None,
    ) -> None:
        writer = IncrementalPdfFileWriter(document)
        pdf_signer = signers.PdfSigner(
            meta, signer=signer, timestamper=timestamper, stamp_style=stamp_style
        )
        shown_time = self._clock.now().astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M (GMT+7)")
        pdf_signer.sign_pdf(
            writer,
            in_place=True,
            bytes_reserved=_reservation(signer),
            appearance_text_params={"ts": shown_time},
        )
