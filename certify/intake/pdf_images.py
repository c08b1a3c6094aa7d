# pyHanko's PDF object model (generic.*) is not annotated; calls into it are Any.
# mypy: disable-error-code="no-untyped-call"
"""The image a PDF page draws, as a page file.

A ``/DCTDecode`` image is kept as the very JPEG bytes the PDF holds. Any other image must be
uncompressed or ``/FlateDecode`` (with or without PNG predictors), in DeviceGray (1 or 8
bits), DeviceRGB or DeviceCMYK (8 bits), or Indexed over RGB (1, 2, 4 or 8 bits); an ICC
profile is read as the device space of its number of components. Such an image goes to
:class:`pikepdf.PdfImage`, which turns its samples and palette into a Pillow image, written as
a lossless PNG: uncompressed or plain Flate data as pyHanko decoded it under the reader's
decode limits, Flate data with PNG predictors as it is, once checked here piece by piece
(qpdf, which undoes the predictors, decodes without a limit).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Final

import pikepdf
from pikepdf import Array, Dictionary, Matrix, Name, PdfImage
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.decode_limits import StreamDecodeLimits

from certify.intake import refusals
from certify.intake.images import (
    check_image,
    check_pixels,
    convert_to_png,
    keep_only_picture,
    page_size,
    pillow_errors,
    save_png,
)
from certify.intake.model import Intake, ScanPage
from certify.intake.spool import file_digest

_INFLATE_PIECE: Final = 1024 * 1024  # decoded bytes looked at, at most, at a time
_FEED: Final = 64 * 1024  # compressed bytes given to zlib at a time


@dataclass(frozen=True)
class _Samples:
    """How an image's samples are laid out: bits per component, components per pixel, the
    colour space to give pikepdf, and whether it is CMYK (converted to RGB, with a warning)."""

    bpc: int
    components: int
    colour_space: pikepdf.Object
    cmyk: bool = False

    def row_bytes(self, width: int) -> int:
        return (width * self.components * self.bpc + 7) // 8


def take_image(
    xobj: object, ctm: Matrix, index: int, per_stream: StreamDecodeLimits, run: Intake
) -> ScanPage:
    """Page ``index`` of a PDF from the image XObject ``xobj`` placed by ``ctm``.

    :raises InvalidScanError: ``scan_too_many_pixels`` (checked from the image dictionary,
        before decoding), ``pdf_not_images`` (a masked image), ``scan_type_unsupported``
        (filter, predictor, colour space or bit depth not listed above), ``scan_corrupt``.
    """
    xobj = refusals.expect(xobj, generic.StreamObject)
    n = index + 1
    width, height = int(xobj["/Width"]), int(xobj["/Height"])
    # Pixel count from the dictionary, before a single byte is decoded.
    check_pixels(width, height, run.limits)
    if xobj.get("/ImageMask") or "/Mask" in xobj or "/SMask" in xobj:
        raise refusals.not_images(f"trang {n} có ảnh có mặt nạ", f"page {n} has a masked image")
    # The placed size on the page gives the resolution.
    placed_w = (ctm.a**2 + ctm.b**2) ** 0.5
    placed_h = (ctm.c**2 + ctm.d**2) ** 0.5
    dpi_info: object = None
    if placed_w > 0 and placed_h > 0:
        dpi_info = (width * 72.0 / placed_w, height * 72.0 / placed_h)
    filters = xobj.get("/Filter")
    params = xobj.get("/DecodeParms")
    if isinstance(filters, generic.ArrayObject):
        if len(filters) != 1:
            raise refusals.unsupported("PDF image with a chain of filters")
        filters = filters[0]
        if isinstance(params, generic.ArrayObject):
            params = params[0] if params else None
    if not isinstance(params, generic.DictionaryObject):
        params = generic.DictionaryObject()
    with pillow_errors():
        if filters == "/DCTDecode":
            return _take_jpeg(xobj.encoded_data, dpi_info, index, run)
        if filters not in (None, "/FlateDecode"):
            raise refusals.unsupported(f"PDF image filter {filters}")
        if "/Decode" in xobj:
            raise refusals.unsupported("PDF image with a /Decode array")
        samples = _samples(xobj)
        predictor = int(params.get("/Predictor", 1))
        image: dict[str, object] = {
            "Type": Name.XObject,
            "Subtype": Name.Image,
            "Width": width,
            "Height": height,
            "BitsPerComponent": samples.bpc,
            "ColorSpace": samples.colour_space,
        }
        with pikepdf.Pdf.new() as scratch:
            if filters == "/FlateDecode" and predictor >= 10:
                encoded = xobj.encoded_data
                _check_predicted(encoded, samples, width, height, params, per_stream)
                # Checked: qpdf may now undo the predictors (as PdfImage decodes the stream).
                parms = Dictionary(
                    Predictor=15,
                    Colors=samples.components,
                    BitsPerComponent=samples.bpc,
                    Columns=width,
                )
                stream = scratch.make_stream(
                    encoded, Filter=Name.FlateDecode, DecodeParms=parms, **image
                )
            elif predictor != 1:
                raise refusals.unsupported("PDF image with a TIFF predictor")
            else:
                data = xobj.data  # pyHanko applies Flate under its decode limits
                needed = samples.row_bytes(width) * height
                if len(data) < needed:
                    raise refusals.corrupt("a PDF image has too little data")
                stream = scratch.make_stream(data[:needed] if len(data) > needed else data, **image)
            im = PdfImage(stream).as_pil_image(apply_decode_array=False, apply_mask=False)
            size = page_size(width, height, dpi_info, run.limits, n)
            run.warnings.extend(size.notes)
            if samples.cmyk:
                run.warnings.append(
                    f"Trang {n}: hệ màu CMYK được chuyển sang RGB. / "
                    f"Page {n}: CMYK converted to RGB."
                )
            return save_png(im, size, index, run)


def _take_jpeg(data: bytes, dpi_info: object, index: int, run: Intake) -> ScanPage:
    """The JPEG of a ``/DCTDecode`` image, byte-exact (less anything that is not its
    picture), or as an RGB PNG when its colour model needs converting."""
    if not data.startswith(b"\xff\xd8\xff"):
        raise refusals.corrupt("a /DCTDecode image is not a JPEG")
    path = run.write_page_file(index, data)
    keep_only_picture(path, "jpeg", run)
    image = check_image(path, "jpeg", run.limits)
    if not image.direct:
        return convert_to_png(path, "jpeg", index, run)
    size = page_size(image.width, image.height, dpi_info, run.limits, index + 1)
    run.warnings.extend(size.notes)
    digest, length = file_digest(path)
    return ScanPage(
        index=index,
        kind="jpeg",
        width_px=image.width,
        height_px=image.height,
        dpi=size.dpi,
        width_pt=size.width_pt,
        height_pt=size.height_pt,
        sha256=digest,
        size=length,
        path=path,
    )


_DEVICE_BY_COMPONENTS: Final = {1: "/DeviceGray", 3: "/DeviceRGB", 4: "/DeviceCMYK"}


def _samples(xobj: generic.StreamObject) -> _Samples:
    """The sample layout of an image, if it is one intake takes (see the module text)."""
    bpc = int(xobj.get("/BitsPerComponent", 8))
    cs = xobj.get("/ColorSpace")
    if isinstance(cs, generic.ArrayObject) and cs and cs[0] == "/ICCBased":
        cs = _DEVICE_BY_COMPONENTS.get(int(cs[1].get_object()["/N"]))
    if isinstance(cs, generic.ArrayObject) and cs and cs[0] == "/Indexed":
        base = cs[1]
        if isinstance(base, generic.ArrayObject) and base and base[0] == "/ICCBased":
            base = {3: "/DeviceRGB"}.get(int(base[1].get_object()["/N"]))
        if base != "/DeviceRGB" or bpc not in (1, 2, 4, 8):
            raise refusals.unsupported("indexed PDF image over a non-RGB colour space")
        lookup = cs[3].get_object()
        if isinstance(lookup, generic.StreamObject):
            palette = lookup.data  # under the reader's decode limits
        else:
            palette = bytes(lookup.original_bytes)
        palette = palette[: 3 * (int(cs[2]) + 1)]
        hival = max(0, len(palette) // 3 - 1)
        indexed = Array([Name.Indexed, Name.DeviceRGB, hival, pikepdf.String(palette)])
        return _Samples(bpc, 1, indexed)
    if cs == "/DeviceGray" and bpc in (1, 8):
        return _Samples(bpc, 1, Name.DeviceGray)
    if cs == "/DeviceRGB" and bpc == 8:
        return _Samples(bpc, 3, Name.DeviceRGB)
    if cs == "/DeviceCMYK" and bpc == 8:
        return _Samples(bpc, 4, Name.DeviceCMYK, cmyk=True)
    raise refusals.unsupported(f"PDF image colour space {cs} at {bpc} bits")


def _check_predicted(
    encoded: bytes,
    samples: _Samples,
    width: int,
    height: int,
    params: generic.DictionaryObject,
    per_stream: StreamDecodeLimits,
) -> None:
    """Check a Flate image with PNG predictors before qpdf decodes it.

    qpdf decodes without a size limit, pads a short last row and reads an unknown row
    filter as none, so the stream is first inflated here piece by piece, keeping nothing:
    it must be a whole zlib stream that decodes to no more than the reader's per-stream
    limit and holds ``height`` full rows, each opening with a PNG filter type (0–4).
    """
    if samples.cmyk or (
        int(params.get("/Colors", 1)) != samples.components
        or int(params.get("/BitsPerComponent", 8)) != samples.bpc
        or int(params.get("/Columns", 1)) != width
    ):
        raise refusals.corrupt("PDF image predictor parameters do not match the image")
    stride = 1 + samples.row_bytes(width)
    cap = per_stream.output_cap(len(encoded))
    inflater = zlib.decompressobj()
    data = memoryview(encoded)
    fed = total = 0
    pending: bytes | memoryview = b""
    try:
        while not inflater.eof:
            if not pending and fed < len(data):
                pending, fed = data[fed : fed + _FEED], fed + _FEED
            piece = inflater.decompress(pending, _INFLATE_PIECE)
            pending = inflater.unconsumed_tail
            if not piece and not pending and fed >= len(data):
                break  # the input ended before the zlib stream did
            # The bytes of this piece that open one of the first ``height`` rows.
            first = -total % stride
            end = min(len(piece), height * stride - total)
            if first < end and max(piece[first:end:stride]) > 4:
                raise refusals.corrupt("a PDF image row has an unknown PNG filter type")
            total += len(piece)
            if cap is not None and total > cap:
                raise refusals.corrupt("a PDF image decodes to too much data")
    except zlib.error as exc:
        raise refusals.corrupt("a PDF image's compressed data is damaged") from exc
    if not inflater.eof:
        raise refusals.corrupt("a PDF image's compressed data is truncated")
    if total < height * stride:
        raise refusals.corrupt("a PDF image has too little data")
