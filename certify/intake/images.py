"""Step 3a of intake: JPEG, PNG and TIFF scans checked and decoded with Pillow.

Pillow's module-level settings (``Image.MAX_IMAGE_PIXELS``, ``ImageFile.LOAD_TRUNCATED_IMAGES``,
the warnings filters) are the process's, shared by every thread: intake reads them but never
changes them. Its own pixel limit is checked explicitly, from the image header, before any
pixel is decoded; a decompression-bomb error or warning Pillow raises under the process's limit
is a refusal too. So Pillow's limit (89.5 Mpx unless the process sets it; an error past twice
that) must not be below ``ScanLimits.max_page_pixels`` where larger pages are to pass.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final, NamedTuple

from PIL import Image, ImageFile

from certify import scan_images
from certify.errors import CertifyError
from certify.intake import refusals
from certify.intake.model import DEFAULT_DPI, Intake, ScanLimits, ScanPage
from certify.intake.scratch import scratch_writes
from certify.intake.spool import file_digest

# ISO 32000-1 Annex C: viewers need not support pages larger than 14 400 units.
_MAX_PAGE_PT: Final = 14_400.0

# Modes img2pdf embeds from the original file without decoding it.
_DIRECT_JPEG_MODES: Final = frozenset({"L", "RGB"})
_DIRECT_PNG_MODES: Final = frozenset({"1", "L", "P", "RGB", "RGBA", "LA", "PA", "I;16"})

_PILLOW_FORMAT: Final = {"jpeg": "JPEG", "png": "PNG", "tiff": "TIFF"}


@contextlib.contextmanager
def pillow_errors() -> Iterator[None]:
    """Turn any failure of a decoder fed hostile input into a refusal.

    :raises InvalidScanError: ``scan_too_many_pixels`` for Pillow's (or pikepdf's)
        decompression-bomb error or warning, else ``scan_corrupt``; a
        :class:`~certify.errors.CertifyError` raised inside passes unchanged.
    """
    try:
        yield
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise refusals.pixel_bomb() from exc
    except CertifyError:
        raise
    except Exception as exc:  # hostile input: any decoder failure (OSError, EOFError...) refuses
        raise refusals.corrupt() from exc


def open_image(path: Path, kind: str, limits: ScanLimits) -> ImageFile.ImageFile:
    """Open (not decode) the image file at ``path`` as ``kind``; refuse it if its header
    claims more pixels than ``limits`` allow. The caller closes it."""
    im = Image.open(path, formats=[_PILLOW_FORMAT[kind]])
    width, height = im.size
    if max(1, width) * max(1, height) > limits.max_page_pixels:
        im.close()
        raise refusals.pixel_bomb()
    return im


def check_pixels(width: int, height: int, limits: ScanLimits) -> None:
    if width <= 0 or height <= 0:
        raise refusals.corrupt("the image has no pixels")
    if width * height > limits.max_page_pixels:
        raise refusals.too_many_pixels(width, height, limits)


def load_strict(im: Image.Image) -> None:
    """Decode ``im`` in full; a truncated image is an error, never padded.

    Pillow pads a truncated image when ``ImageFile.LOAD_TRUNCATED_IMAGES`` is set. That
    setting is process-wide, so intake does not flip it (another thread may be decoding):
    it refuses to decode under it.
    """
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise refusals.lenient_decoder()
    im.load()


class PageSize(NamedTuple):
    """A page's resolution and size in points, and the warnings about how they were found."""

    dpi: float
    width_pt: float
    height_pt: float
    notes: list[str]


def page_size(width: int, height: int, dpi_info: object, limits: ScanLimits, n: int) -> PageSize:
    """The size of page ``n`` (counting from 1) from its pixels and declared resolution."""
    notes: list[str] = []
    xdpi = ydpi = 0.0
    if isinstance(dpi_info, tuple) and len(dpi_info) == 2:
        try:
            xdpi, ydpi = float(dpi_info[0]), float(dpi_info[1])
        except (TypeError, ValueError):
            xdpi = ydpi = 0.0
    if not (1.0 <= xdpi <= 10_000 and 1.0 <= ydpi <= 10_000):
        notes.append(
            f"Trang {n}: không có thông tin độ phân giải, coi là {DEFAULT_DPI:g} dpi. / "
            f"Page {n}: no resolution recorded, {DEFAULT_DPI:g} dpi assumed."
        )
        xdpi = ydpi = DEFAULT_DPI
    # PNG stores dots per metre: 150 dpi comes back as 150.012. Snap to the whole number.
    xdpi, ydpi = (float(round(v)) if abs(v - round(v)) < 0.05 else v for v in (xdpi, ydpi))
    dpi = min(xdpi, ydpi)
    if dpi < limits.min_dpi:
        notes.append(
            f"Trang {n}: độ phân giải {dpi:g} dpi thấp hơn {limits.min_dpi} dpi. / "
            f"Page {n}: resolution {dpi:g} dpi is below {limits.min_dpi} dpi."
        )
    width_pt, height_pt = width * 72.0 / xdpi, height * 72.0 / ydpi
    if max(width_pt, height_pt) > _MAX_PAGE_PT:
        notes.append(
            f"Trang {n}: khổ giấy theo {dpi:g} dpi quá lớn, coi là {DEFAULT_DPI:g} dpi. / "
            f"Page {n}: page size at {dpi:g} dpi too large, {DEFAULT_DPI:g} dpi assumed."
        )
        dpi = DEFAULT_DPI
        width_pt, height_pt = width * 72.0 / dpi, height * 72.0 / dpi
    return PageSize(dpi, round(width_pt, 3), round(height_pt, 3), notes)


@dataclass(frozen=True)
class CheckedImage:
    """A JPEG or PNG file that decodes cleanly: its pixel size, declared resolution, and
    whether img2pdf can embed it as it is (``direct``) or it must become an RGB PNG."""

    width: int
    height: int
    dpi_info: object
    direct: bool


def check_image(path: Path, kind: str, limits: ScanLimits) -> CheckedImage:
    """Fully check the JPEG or PNG at ``path``: header, pixel count, one frame, a clean
    decode (djpeg -strict for JPEG, see :mod:`certify.scan_images`)."""
    if kind == "jpeg":
        try:
            scan_images.check_jpeg_decodes(path)
        except scan_images.ImageStructureError as exc:
            raise refusals.corrupt(f"the JPEG does not decode cleanly: {exc}") from exc
        except RuntimeError as exc:
            raise refusals.jpeg_checker_missing() from exc
    with open_image(path, kind, limits) as im:
        width, height = im.size
        check_pixels(width, height, limits)
        if getattr(im, "n_frames", 1) != 1:
            raise refusals.unsupported("animated image")
        mode = im.mode
        dpi_info = im.info.get("dpi")
        im.verify()
    with open_image(path, kind, limits) as im:
        if kind == "jpeg":
            # Decode at 1/8 scale: the whole entropy-coded stream is still read, so
            # truncation is caught, with 1/64 of the memory.
            im.draft(im.mode, (max(1, width // 8), max(1, height // 8)))
        load_strict(im)
    direct = _DIRECT_JPEG_MODES if kind == "jpeg" else _DIRECT_PNG_MODES
    return CheckedImage(width, height, dpi_info, mode in direct)


def keep_only_picture(path: Path, kind: str, run: Intake) -> bool:
    """Rewrite the JPEG/PNG at ``path`` with only its picture (certify.scan_images): what
    is signed as a true copy carries no appended or hidden payload. Returns whether
    anything was removed (and says so in the run's warnings).

    :raises ScratchFullError: no space to rewrite it (raised before a caller's catch-all can
        take the disk's fault for the scan's).
    """
    try:
        with scratch_writes():
            changed = scan_images.sanitize(path, kind)
    except scan_images.ImageStructureError as exc:
        raise refusals.corrupt(f"the {kind.upper()} structure is broken: {exc}") from exc
    if changed:
        run.warnings.append(
            "Đã bỏ dữ liệu không thuộc hình ảnh (siêu dữ liệu hoặc phần thêm sau ảnh). / "
            "Data other than the picture (metadata, or bytes after the image) was removed."
        )
    return changed


def save_png(im: Image.Image, size: PageSize, index: int, run: Intake) -> ScanPage:
    """Write ``im`` as a PNG page file of ``run`` (lossless) and return its page."""
    if im.mode not in _DIRECT_PNG_MODES:
        # CMYK, YCbCr, I, F...: PDF/A-2b with an sRGB output intent wants RGB or grey.
        im = im.convert("RGB")
    buf = io.BytesIO()
    im.save(buf, format="PNG", compress_level=6)
    data = buf.getvalue()
    path = run.write_page_file(index, data)
    return ScanPage(
        index=index,
        kind="png",
        width_px=im.width,
        height_px=im.height,
        dpi=size.dpi,
        width_pt=size.width_pt,
        height_pt=size.height_pt,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        path=path,
    )


def convert_to_png(path: Path, kind: str, index: int, run: Intake) -> ScanPage:
    """The JPEG/PNG at ``path`` in a colour model img2pdf/PDF-A cannot take as it is (e.g.
    CMYK) as a lossless RGB PNG page, sized by its own declared resolution."""
    with open_image(path, kind, run.limits) as im:
        load_strict(im)
        size = page_size(im.width, im.height, im.info.get("dpi"), run.limits, index + 1)
        run.warnings.append(
            f"Trang {index + 1}: hệ màu {im.mode} được chuyển sang RGB. / "
            f"Page {index + 1}: colour model {im.mode} converted to RGB."
        )
        return save_png(im, size, index, run)


def read_image_file(spool: Path, kind: str, digest: str, size: int, run: Intake) -> list[ScanPage]:
    """The pages of a JPEG, PNG or TIFF scan. A JPEG or PNG stays the file it was (less
    anything that is not its picture); a TIFF's frames become PNG files.

    :raises InvalidScanError: ``scan_corrupt``, ``scan_too_many_pixels``,
        ``scan_too_many_pages``, ``scan_type_unsupported``.
    """
    with pillow_errors():
        if kind == "tiff":
            return _read_tiff(spool, run)
        if keep_only_picture(spool, kind, run):
            digest, size = file_digest(spool)
        image = check_image(spool, kind, run.limits)
        sized = page_size(image.width, image.height, image.dpi_info, run.limits, 1)
        run.warnings.extend(sized.notes)
        if not image.direct:
            return [convert_to_png(spool, kind, 0, run)]
        return [
            ScanPage(
                index=0,
                kind=kind,
                width_px=image.width,
                height_px=image.height,
                dpi=sized.dpi,
                width_pt=sized.width_pt,
                height_pt=sized.height_pt,
                sha256=digest,
                size=size,
                path=spool,
            )
        ]


def _read_tiff(path: Path, run: Intake) -> list[ScanPage]:
    pages: list[ScanPage] = []
    with open_image(path, "tiff", run.limits) as im:
        index = 0
        while True:
            if index >= run.limits.max_pages:
                raise refusals.too_many_pages(index + 1, run.limits)
            width, height = im.size
            check_pixels(width, height, run.limits)
            load_strict(im)
            size = page_size(width, height, im.info.get("dpi"), run.limits, index + 1)
            run.warnings.extend(size.notes)
            frame = im if im.mode in _DIRECT_PNG_MODES else im.convert("RGB")
            pages.append(save_png(frame, size, index, run))
            index += 1
            try:
                im.seek(index)
            except EOFError:
                break
    return pages
