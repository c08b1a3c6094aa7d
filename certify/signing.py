"""Signing a certified copy: the certifier's certification signature, then the authority's seal.

NĐ 45/2020 art. 10 cl. 3 requires two signatures: the certifying person's and the authority's.
Both fields exist in the copy before the first signature (``certify.copy``).

1. The officer signs first, as the certification signature (ISO 32000-1 §12.8.2.2: DocMDP
   only on the first signature) with DocMDP P=2, so that only filling the seal's signature
   field and LTV data may follow.
2. The authority's seal signs second; its field's lock dictionary (``/Lock``, ``/P 1``, set
   when the field was made) moves the document to "no changes", so nothing may follow but
   LTV data and document timestamps (ISO 32000-2 §12.7.5.5).
3. Each signature is PAdES (ETSI EN 319 142-1) with an RFC 3161 signature timestamp and the
   revocation data embedded (B-LT); a document timestamp then makes the copy B-LTA.

Certificates are checked valid and unrevoked before signing (TT 15/2025/TT-BKHCN).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator import ValidationContext

from certify.errors import CertifyError, SigningError

OFFICER_FIELD = "officer"
SEAL_FIELD = "seal"


class SignerSource(Protocol):
    """What signing needs from ``keys``: ready signers, a timestamper, revocation data."""

    def officer_signer(self, username: str) -> Signer: ...

    def seal_signer(self, authority_code: str) -> Signer: ...

    def timestamper(self) -> TimeStamper: ...

    def validation_context(
        self, *, certs: Iterable[x509.Certificate] = ()
    ) -> ValidationContext: ...

    def check_usable(self, cert: x509.Certificate) -> None: ...


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


@dataclass(frozen=True)
class _InMemoryFont(GlyphAccumulatorFactory):
    """pyHanko's font factory, reading the font from memory: the stock one opens the file on
    every signature and never closes it."""

    program: bytes = b""

    def create_font_engine(
        self, writer: BasePdfFileWriter, obj_stream: Any = None
    ) -> GlyphAccumulator:
        if obj_stream is None and writer.stream_xrefs and self.create_objstream_if_needed:
            obj_stream = writer.prepare_object_stream()  # type: ignore[no-untyped-call]
        return GlyphAccumulator(
            writer=writer,
            font_handle=io.BytesIO(self.program),
            font_size=self.font_size,
            obj_stream=obj_stream,
        )


def stamp_style(font_program: bytes) -> TextStampStyle:
    """The visible appearance of both signatures: who signed and when, in Vietnamese.

    ``font_program`` must be a small prepared Unicode TrueType font
    (``PreparedFont.program``): pyHanko embeds and subsets the stamp font on every
    signature, and a full font costs 150-200 ms there; a font not at 1000 units/em is drawn
    about twice too wide by pyHanko 0.38.
    """
    font = _InMemoryFont(font_file="", font_size=6, program=font_program)
    return TextStampStyle(
        stamp_text="Ký số bởi / Signed by:\n%(signer)s\nThời gian / Time: %(ts)s",
        text_box_style=TextBoxStyle(font=font, font_size=6, leading=9),
        timestamp_format="%d/%m/%Y %H:%M:%S %Z",
        background=None,
        border_width=1,
    )


def _crypto_cert(cert: asn1_x509.Certificate) -> x509.Certificate:
    return x509.load_der_x509_certificate(cert.dump())


class CopySigner:
    """Signs copies with the two signatures and a document timestamp.

    Build once per process: it holds the stamp style (with a prepared font) and asks the
    signer source for cached signers.
    """

    def __init__(self, source: SignerSource, *, stamp_style: TextStampStyle | None = None) -> None:
        self._source = source
        self._stamp_style = stamp_style

    def sign(
        self, pdf: bytes, *, officer_username: str, authority_code: str, text: SignatureText
    ) -> bytes:
        """Return ``pdf`` signed by the officer (certification, P=2), then the seal (B-LTA).

        Raises:
            KeyMaterialError: a certificate is expired, not yet valid or revoked.
            SigningError: pyHanko could not sign (the message names the step).
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
        context = self._source.validation_context(certs=certs)

        officer_meta = signers.PdfSignatureMetadata(
            field_name=OFFICER_FIELD,
            certify=True,
            docmdp_permissions=fields.MDPPerm.FILL_FORMS,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
            reason=text.officer_reason,
            location=text.location,
            name=text.certifier_name,
            embed_validation_info=True,
            validation_context=context,
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
            embed_validation_info=True,
            validation_context=context,
            use_pades_lta=True,
        )
        try:
            first = self._sign_once(pdf, officer_meta, officer, timestamper)
            return self._sign_once(first, seal_meta, seal, timestamper)
        except CertifyError:
            raise
        except Exception as exc:  # pyHanko raises many types; none may cross the boundary
            raise SigningError("Không ký được bản sao. / The copy could not be signed.") from exc

    def _sign_once(
        self,
        pdf: bytes,
        meta: signers.PdfSignatureMetadata,
        signer: Signer,
        timestamper: TimeStamper,
    ) -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        pdf_signer = signers.PdfSigner(
            meta, signer=signer, timestamper=timestamper, stamp_style=self._stamp_style
        )
        out = io.BytesIO()
        pdf_signer.sign_pdf(writer, output=out)
        return out.getvalue()
