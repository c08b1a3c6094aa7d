# pyHanko's PDF object model (generic.*, writers) is not annotated; calls into it are Any.
# mypy: disable-error-code="no-untyped-call"
"""Intake of scanned pages: validate an upload and turn it into page images.

The upload is hostile input. It is spooled to a file in a work directory while it is hashed
and counted (never read whole into memory), its type is sniffed from magic bytes (never from a
file name), and it is refused with an :class:`~certify.errors.InvalidScanError` carrying a
precise ``code`` when it is empty, too large, of an unknown type, corrupt, a decompression
bomb, or a PDF carrying anything other than page images (NĐ 45/2020 art. 10 cl. 3: the copy
is made from the scan of the paper original; a user's PDF is never signed as it is).

Accepted: JPEG, PNG, TIFF (multi-page) and image-only PDF. Each page becomes one image file
that img2pdf can embed without loss: JPEG data is kept byte-exact (also when it comes out of
a PDF ``/DCTDecode`` stream), everything else is stored as PNG (lossless).

Public API: :class:`ScanLimits`, :class:`ScanPage`, :class:`IntakeResult`, :func:`read_scan`,
:func:`store_scan_pages`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import os
import shutil
import struct
import time
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Final, TypeVar

from PIL import Image, ImageFile, UnidentifiedImageError

from certify import scan_images
from certify.errors import CertifyError, InvalidScanError
from certify.ports import ObjectStore, StoredObject

__all__ = [
    "IntakeResult",
    "ScanLimits",
    "ScanPage",
    "read_scan",
    "store_scan_pages",
]

_T = TypeVar("_T")

MiB: Final = 1024 * 1024
_CHUNK: Final = 1 * MiB
DEFAULT_DPI: Final = 300.0
# ISO 32000-1 Annex C: viewers need not support pages larger than 14 400 units.
_MAX_PAGE_PT: Final = 14_400.0
_MAX_CONTENT_STREAM: Final = 1 * MiB
_MAX_PDF_OBJECTS_WALKED: Final = 200_000

_CONTENT_TYPES: Final = {"jpeg": "image/jpeg", "png": "image/png"}


@dataclass(frozen=True)
class ScanLimits:
    """What intake accepts. The defaults suit A4/A3 originals scanned at 200–600 dpi."""

    max_bytes: int = 50 * MiB
    max_pages: int = 200
    max_page_pixels: int = 120_000_000
    min_dpi: int = 200


@dataclass(frozen=True)
class ScanPage:
    """One page image, ready to be embedded by img2pdf.

    ``kind`` is the format of the file at ``path``: ``"jpeg"`` (byte-exact as scanned) or
    ``"png"`` (the original PNG, or a lossless PNG made from a TIFF frame or a PDF image).
    ``sha256`` is the hash of the bytes at ``path``; ``dpi`` is the lower of the horizontal
    and vertical resolution that sized the page (``DEFAULT_DPI`` when the scan had none).
    """

    index: int
    kind: str
    width_px: int
    height_px: int
    dpi: float
    width_pt: float
    height_pt: float
    sha256: str
    size: int
    path: Path

    @property
    def content_type(self) -> str:
        return _CONTENT_TYPES.get(self.kind, "application/octet-stream")

    def open(self) -> BinaryIO:
        """Open the page image for reading (binary). The caller closes it."""
        return self.path.open("rb")

    def read_bytes(self) -> bytes:
        return self.path.read_bytes()


@dataclass
class IntakeResult:
    """The accepted scan. Its page files live in the work directory until :meth:`cleanup`."""

    pages: list[ScanPage]
    sha256_of_file: str
    size: int
    kind: str
    warnings: list[str] = field(default_factory=list)
    _files: list[Path] = field(default_factory=list, repr=False)

    def cleanup(self) -> None:
        """Delete the spooled upload and the page files made from it."""
        for path in self._files:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        self._files.clear()


# --- errors ------------------------------------------------------------------------------------


def _refuse(code: str, vi: str, en: str) -> InvalidScanError:
    return InvalidScanError(f"{vi} / {en}", code=code)


def _corrupt(detail_en: str = "the file is damaged or truncated") -> InvalidScanError:
    return _refuse(
        "scan_corrupt",
        "Tệp bản quét bị hỏng hoặc không đầy đủ.",
        f"The scan cannot be read: {detail_en}.",
    )


def _too_many_pixels(width: int, height: int, limits: ScanLimits) -> InvalidScanError:
    return _refuse(
        "scan_too_many_pixels",
        f"Trang quét quá lớn ({width}×{height} điểm ảnh, tối đa {limits.max_page_pixels}).",
        f"A page has too many pixels ({width}×{height}; at most {limits.max_page_pixels}).",
    )


def _unsupported(detail_en: str) -> InvalidScanError:
    return _refuse(
        "scan_type_unsupported",
        "Định dạng bản quét không được hỗ trợ (chấp nhận JPEG, PNG, TIFF, PDF chỉ chứa ảnh).",
        f"Unsupported scan format ({detail_en}); JPEG, PNG, TIFF or image-only PDF expected.",
    )


def _too_many_pages(count: int, limits: ScanLimits) -> InvalidScanError:
    return _refuse(
        "scan_too_many_pages",
        f"Bản quét có {count} trang, vượt quá {limits.max_pages} trang.",
        f"The scan has {count} pages, more than {limits.max_pages}.",
    )


# --- public functions --------------------------------------------------------------------------


# Prefix of the temporary folders scans are spooled into: a run killed mid-intake leaves one
# behind (with scans: personal data), which remove_stale_workdirs clears.
INTAKE_PREFIX: Final = "certify-intake-"


def remove_stale_workdirs(
    parent: Path, prefix: str = INTAKE_PREFIX, *, older_than_seconds: float = 3600
) -> int:
    """Remove the ``prefix*`` folders under ``parent`` not touched for ``older_than_seconds``
    (interrupted runs' spooled scans). Returns how many were removed."""
    cutoff = time.time() - older_than_seconds
    removed = 0
    for path in parent.glob(f"{prefix}*"):
        try:
            if path.is_dir() and not path.is_symlink() and path.stat().st_mtime < cutoff:
                shutil.rmtree(path)
                removed += 1
        except OSError:
            continue  # another process's, or already gone
    return removed


def read_scan(stream: BinaryIO, limits: ScanLimits, workdir: Path) -> IntakeResult:
    """Validate an uploaded scan and split it into page images stored under ``workdir``.

    Steps: (1) spool to a file while hashing and counting, refusing past ``max_bytes``;
    (2) sniff the type from magic bytes; (3) check every page (pixel count from the header
    before decoding, then a full decode), or for a PDF check it carries nothing but one image
    per page and take those images out.

    :raises InvalidScanError: with ``code`` one of ``scan_empty``, ``scan_too_large``,
        ``scan_type_unsupported``, ``scan_corrupt``, ``scan_too_many_pages``,
        ``scan_too_many_pixels``, ``pdf_encrypted``, ``pdf_javascript``, ``pdf_forms``,
        ``pdf_embedded_files``, ``pdf_not_images``. No other exception escapes for any
        content of ``stream`` (I/O errors of ``workdir`` itself aside).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    try:
        spool, digest, size = _spool(stream, limits, workdir)
        files.append(spool)
        with spool.open("rb") as fh:
            head = fh.read(16)
        kind = _sniff(head)
        warn: list[str] = []
        if kind in ("jpeg", "png", "tiff"):
            pages = _read_image_file(spool, kind, digest, size, limits, workdir, files, warn)
        else:
            pages = _read_pdf(spool, size, limits, workdir, files, warn)
        if not pages:
            raise _refuse("scan_empty", "Bản quét không có trang nào.", "The scan has no pages.")
        return IntakeResult(
            pages=pages,
            sha256_of_file=digest,
            size=size,
            kind=kind,
            warnings=warn,
            _files=files,
        )
    except BaseException:
        for path in files:
            with contextlib.suppress(OSError):
                path.unlink()
        raise


def store_scan_pages(
    store: ObjectStore, result: IntakeResult, *, key_prefix: str
) -> list[StoredObject]:
    """Stream every page image to ``store.scans_bucket`` as ``{key_prefix}/page-{n}``.

    ``n`` counts from 1. Each object carries its SHA-256 in metadata (``sha256``) with the
    page's pixel size and dpi, so the register can show the hashes of what was certified.

    :raises StorageUnavailableError: from the store.
    """
    stored: list[StoredObject] = []
    prefix = key_prefix.rstrip("/")
    for page in result.pages:
        with page.open() as fh:
            stored.append(
                store.put_stream(
                    store.scans_bucket,
                    f"{prefix}/page-{page.index + 1}",
                    fh,
                    content_type=page.content_type,
                    metadata={
                        "sha256": page.sha256,
                        "width-px": str(page.width_px),
                        "height-px": str(page.height_px),
                        "dpi": f"{page.dpi:g}",
                    },
                )
            )
    return stored


# --- step 1: spool -----------------------------------------------------------------------------


def _spool(stream: BinaryIO, limits: ScanLimits, workdir: Path) -> tuple[Path, str, int]:
    fd, name = _mkstemp(workdir, "upload-")
    path = Path(name)
    hasher = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while True:
                try:
                    chunk = stream.read(_CHUNK)
                except (OSError, ValueError) as exc:
                    raise _corrupt("the upload could not be read") from exc
                if not chunk:
                    break
                size += len(chunk)
                if size > limits.max_bytes:
                    raise _refuse(
                        "scan_too_large",
                        f"Tệp bản quét vượt quá {limits.max_bytes // MiB} MiB.",
                        f"The scan is larger than {limits.max_bytes // MiB} MiB.",
                    )
                hasher.update(chunk)
                out.write(chunk)
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink()
        raise
    if size == 0:
        path.unlink()
        raise _refuse("scan_empty", "Tệp bản quét rỗng.", "The scan file is empty.")
    return path, hasher.hexdigest(), size


def _mkstemp(workdir: Path, prefix: str) -> tuple[int, str]:
    import tempfile

    return tempfile.mkstemp(prefix=prefix, dir=workdir)


# --- step 2: sniff -----------------------------------------------------------------------------


def _sniff(head: bytes) -> str:
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    # The header must open the file: a PDF behind other bytes is a polyglot, not a scan.
    if head.startswith(b"%PDF-"):
        return "pdf"
    raise _unsupported("unknown magic bytes")


# --- step 3a: image files ----------------------------------------------------------------------


@contextlib.contextmanager
def _pillow_guard(limits: ScanLimits) -> Iterator[None]:
    """Decode with Pillow's bomb check at our limit, its warnings as refusals."""
    Image.MAX_IMAGE_PIXELS = limits.max_page_pixels
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            yield
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _refuse(
                "scan_too_many_pixels",
                "Trang quét có quá nhiều điểm ảnh.",
                "A page has too many pixels.",
            ) from exc
        except CertifyError:
            raise
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
            raise _corrupt() from exc
        except Exception as exc:  # hostile input: any decoder failure is a refusal
            raise _corrupt() from exc


def _page_size(
    width: int, height: int, dpi_info: object, limits: ScanLimits, n: int, warn: list[str]
) -> tuple[float, float, float]:
    """Return (dpi, width_pt, height_pt) from the image's declared resolution."""
    xdpi = ydpi = 0.0
    if isinstance(dpi_info, tuple) and len(dpi_info) == 2:
        try:
            xdpi, ydpi = float(dpi_info[0]), float(dpi_info[1])
        except (TypeError, ValueError):
            xdpi = ydpi = 0.0
    if not (1.0 <= xdpi <= 10_000 and 1.0 <= ydpi <= 10_000):
        warn.append(
            f"Trang {n}: không có thông tin độ phân giải, coi là {DEFAULT_DPI:g} dpi. / "
            f"Page {n}: no resolution recorded, {DEFAULT_DPI:g} dpi assumed."
        )
        xdpi = ydpi = DEFAULT_DPI
    # PNG stores dots per metre: 150 dpi comes back as 150.012. Snap to the whole number.
    xdpi, ydpi = (float(round(v)) if abs(v - round(v)) < 0.05 else v for v in (xdpi, ydpi))
    dpi = min(xdpi, ydpi)
    if dpi < limits.min_dpi:
        warn.append(
            f"Trang {n}: độ phân giải {dpi:g} dpi thấp hơn {limits.min_dpi} dpi. / "
            f"Page {n}: resolution {dpi:g} dpi is below {limits.min_dpi} dpi."
        )
    width_pt, height_pt = width * 72.0 / xdpi, height * 72.0 / ydpi
    if max(width_pt, height_pt) > _MAX_PAGE_PT:
        warn.append(
            f"Trang {n}: khổ giấy theo {dpi:g} dpi quá lớn, coi là {DEFAULT_DPI:g} dpi. / "
            f"Page {n}: page size at {dpi:g} dpi too large, {DEFAULT_DPI:g} dpi assumed."
        )
        dpi = DEFAULT_DPI
        width_pt, height_pt = width * 72.0 / dpi, height * 72.0 / dpi
    return dpi, round(width_pt, 3), round(height_pt, 3)


def _check_pixels(width: int, height: int, limits: ScanLimits) -> None:
    if width <= 0 or height <= 0:
        raise _corrupt("the image has no pixels")
    if width * height > limits.max_page_pixels:
        raise _too_many_pixels(width, height, limits)


# Modes img2pdf embeds from the original file without decoding it.
_DIRECT_JPEG_MODES: Final = frozenset({"L", "RGB"})
_DIRECT_PNG_MODES: Final = frozenset({"1", "L", "P", "RGB", "RGBA", "LA", "PA", "I;16"})


def _read_image_file(
    spool: Path,
    kind: str,
    digest: str,
    size: int,
    limits: ScanLimits,
    workdir: Path,
    files: list[Path],
    warn: list[str],
) -> list[ScanPage]:
    with _pillow_guard(limits):
        if kind == "tiff":
            return _read_tiff(spool, limits, workdir, files, warn)
        if _keep_only_picture(spool, kind, warn):
            digest, size = _file_digest(spool)
        page = _check_single_image(spool, kind, limits, warn, index=0)
        if page is not None:
            return [_with_file(page, spool, digest, size)]
        # Colour model img2pdf/PDF-A cannot take as is (e.g. CMYK JPEG): lossless PNG of it.
        return [_convert_to_png(spool, kind, limits, workdir, files, warn, index=0)]


def _check_single_image(
    path: Path, kind: str, limits: ScanLimits, warn: list[str], *, index: int
) -> ScanPage | None:
    """Fully check a JPEG/PNG; return its page, or None if it must be converted to PNG."""
    expected = "JPEG" if kind == "jpeg" else "PNG"
    if kind == "jpeg":
        try:
            scan_images.check_jpeg_decodes(path)
        except scan_images.ImageStructureError as exc:
            raise _corrupt(f"the JPEG does not decode cleanly: {exc}") from exc
        except RuntimeError as exc:
            raise CertifyError(
                "Máy chủ thiếu công cụ kiểm tra JPEG (djpeg). / The server lacks the JPEG "
                "checker (djpeg, Debian libjpeg-turbo-progs).",
                code="jpeg_checker_missing",
            ) from exc
    with Image.open(path, formats=[expected]) as im:
        width, height = im.size
        _check_pixels(width, height, limits)
        if getattr(im, "n_frames", 1) != 1:
            raise _unsupported("animated image")
        mode = im.mode
        dpi_info = im.info.get("dpi")
        im.verify()
    with Image.open(path, formats=[expected]) as im:
        if kind == "jpeg":
            # Decode at 1/8 scale: the whole entropy-coded stream is still read, so
            # truncation is caught, with 1/64 of the memory.
            im.draft(im.mode, (max(1, width // 8), max(1, height // 8)))
        _load_strict(im)
    dpi, width_pt, height_pt = _page_size(width, height, dpi_info, limits, index + 1, warn)
    direct = _DIRECT_JPEG_MODES if kind == "jpeg" else _DIRECT_PNG_MODES
    if mode not in direct:
        return None
    return ScanPage(
        index=index,
        kind=kind,
        width_px=width,
        height_px=height,
        dpi=dpi,
        width_pt=width_pt,
        height_pt=height_pt,
        sha256="",
        size=0,
        path=path,
    )


def _keep_only_picture(path: Path, kind: str, warn: list[str]) -> bool:
    """Rewrite the JPEG/PNG at ``path`` with only its picture (certify.scan_images): what
    is signed as a true copy carries no appended or hidden payload. Returns whether
    anything was removed (and says so in ``warn``)."""
    try:
        changed = scan_images.sanitize(path, kind)
    except scan_images.ImageStructureError as exc:
        raise _corrupt(f"the {kind.upper()} structure is broken: {exc}") from exc
    if changed:
        warn.append(
            "Đã bỏ dữ liệu không thuộc hình ảnh (siêu dữ liệu hoặc phần thêm sau ảnh). / "
            "Data other than the picture (metadata, or bytes after the image) was removed."
        )
    return changed


def _file_digest(path: Path) -> tuple[str, int]:
    hasher = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            hasher.update(chunk)
            size += len(chunk)
    return hasher.hexdigest(), size


def _load_strict(im: Image.Image) -> None:
    saved = ImageFile.LOAD_TRUNCATED_IMAGES
    if saved:  # a global set elsewhere must not let truncated scans through
        ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        im.load()
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = saved


def _with_file(page: ScanPage, path: Path, digest: str, size: int) -> ScanPage:
    return ScanPage(
        index=page.index,
        kind=page.kind,
        width_px=page.width_px,
        height_px=page.height_px,
        dpi=page.dpi,
        width_pt=page.width_pt,
        height_pt=page.height_pt,
        sha256=digest,
        size=size,
        path=path,
    )


def _save_png(
    im: Image.Image,
    *,
    index: int,
    dpi: float,
    width_pt: float,
    height_pt: float,
    workdir: Path,
    files: list[Path],
) -> ScanPage:
    """Write ``im`` as a PNG page file (lossless) and return its page."""
    if im.mode not in _DIRECT_PNG_MODES:
        # CMYK, YCbCr, I, F...: PDF/A-2b with an sRGB output intent wants RGB or grey.
        im = im.convert("RGB")
    buf = io.BytesIO()
    im.save(buf, format="PNG", compress_level=6)
    data = buf.getvalue()
    fd, name = _mkstemp(workdir, f"page-{index + 1}-")
    path = Path(name)
    files.append(path)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return ScanPage(
        index=index,
        kind="png",
        width_px=im.width,
        height_px=im.height,
        dpi=dpi,
        width_pt=width_pt,
        height_pt=height_pt,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        path=path,
    )


def _convert_to_png(
    path: Path,
    kind: str,
    limits: ScanLimits,
    workdir: Path,
    files: list[Path],
    warn: list[str],
    *,
    index: int,
) -> ScanPage:
    with Image.open(path, formats=["JPEG" if kind == "jpeg" else "PNG"]) as im:
        _load_strict(im)
        dpi, width_pt, height_pt = _page_size(
            im.width, im.height, im.info.get("dpi"), limits, index + 1, []
        )
        warn.append(
            f"Trang {index + 1}: hệ màu {im.mode} được chuyển sang RGB. / "
            f"Page {index + 1}: colour model {im.mode} converted to RGB."
        )
        return _save_png(
            im,
            index=index,
            dpi=dpi,
            width_pt=width_pt,
            height_pt=height_pt,
            workdir=workdir,
            files=files,
        )


def _read_tiff(
    path: Path, limits: ScanLimits, workdir: Path, files: list[Path], warn: list[str]
) -> list[ScanPage]:
    pages: list[ScanPage] = []
    with Image.open(path, formats=["TIFF"]) as im:
        index = 0
        while True:
            if index >= limits.max_pages:
                raise _too_many_pages(index + 1, limits)
            width, height = im.size
            _check_pixels(width, height, limits)
            _load_strict(im)
            dpi, width_pt, height_pt = _page_size(
                width, height, im.info.get("dpi"), limits, index + 1, warn
            )
            frame = im if im.mode in _DIRECT_PNG_MODES else im.convert("RGB")
            pages.append(
                _save_png(
                    frame,
                    index=index,
                    dpi=dpi,
                    width_pt=width_pt,
                    height_pt=height_pt,
                    workdir=workdir,
                    files=files,
                )
            )
            index += 1
            try:
                im.seek(index)
            except EOFError:
                break
    return pages


# --- step 3b: PDF ------------------------------------------------------------------------------

# Actions that run code, open files or talk to the network.
_ACTIVE_ACTIONS: Final = frozenset(
    {
        "/JavaScript",
        "/Launch",
        "/SubmitForm",
        "/ImportData",
        "/ResetForm",
        "/RichMediaExecute",
        "/Rendition",
        "/Sound",
        "/Movie",
        "/GoToE",
        "/GoToR",
        "/URI",
    }
)
# Operators that only set graphics state or mark content: harmless around an image.
_STATE_OPS: Final = frozenset(
    {"q", "Q", "cm", "w", "J", "j", "M", "d", "ri", "i", "gs"}
    | {"BMC", "BDC", "EMC", "MP", "DP", "BX", "EX"}
)
# A clipping path (``x y w h re W n``) is common around a scanned image; painting is not.
_CLIP_OPS: Final = frozenset({"m", "l", "c", "v", "y", "h", "re", "W", "W*", "n"})
_TEXT_OPS: Final = frozenset(
    {"BT", "ET", "Tj", "TJ", "'", '"', "Tf", "Td", "TD", "Tm", "T*", "Tc", "Tw", "Tz"}
    | {"TL", "Tr", "Ts", "d0", "d1"}
)


def _not_images(vi: str, en: str) -> InvalidScanError:
    return _refuse(
        "pdf_not_images",
        f"PDF phải chỉ gồm ảnh quét, mỗi trang một ảnh: {vi}.",
        f"The PDF must hold scanned images only, one per page: {en}.",
    )


def _read_pdf(
    spool: Path,
    size: int,
    limits: ScanLimits,
    workdir: Path,
    files: list[Path],
    warn: list[str],
) -> list[ScanPage]:
    from pyhanko.pdf_utils.decode_limits import DecodeLimits, StreamDecodeLimits
    from pyhanko.pdf_utils.reader import PdfFileReader

    # Decoded data is bounded by the page pixel limit (plus PNG row filter bytes).
    per_stream = StreamDecodeLimits(max_output_size=limits.max_page_pixels * 4 + 65_536)
    with spool.open("rb") as fh:
        try:
            reader = PdfFileReader(
                fh, strict=False, decode_limits=DecodeLimits(per_stream=per_stream)
            )
            if reader.encrypt_dict is not None:
                raise _refuse(
                    "pdf_encrypted",
                    "PDF được mã hoá; hãy nộp bản quét không mã hoá.",
                    "The PDF is encrypted; upload an unencrypted scan.",
                )
            _check_active_content(reader)
            return _extract_pdf_pages(reader, limits, workdir, files, warn)
        except CertifyError:
            raise
        except Exception as exc:  # hostile input: every parser failure is a refusal
            raise _corrupt("the PDF cannot be parsed") from exc


def _check_active_content(reader: object) -> None:
    """Walk every object reachable from the trailer, refusing scripts, forms and files."""
    from pyhanko.pdf_utils import generic

    root = reader.root  # type: ignore[attr-defined]
    if "/AcroForm" in root:
        raise _refuse(
            "pdf_forms",
            "PDF có biểu mẫu (form); chỉ nhận PDF gồm ảnh quét.",
            "The PDF has form fields; only image-only PDFs are accepted.",
        )
    open_action = root.get("/OpenAction")
    if isinstance(open_action, generic.DictionaryObject) and open_action.get("/S") != "/GoTo":
        raise _javascript()

    seen: set[tuple[int, int]] = set()
    todo: list[object] = [reader.trailer_view]  # type: ignore[attr-defined]
    walked = 0
    while todo:
        obj = todo.pop()
        if isinstance(obj, generic.IndirectObject):
            key = (obj.idnum, obj.generation)
            if key in seen:
                continue
            seen.add(key)
            obj = obj.get_object()
        walked += 1
        if walked > _MAX_PDF_OBJECTS_WALKED:
            raise _corrupt("the PDF has too many objects")
        if isinstance(obj, generic.DictionaryObject):
            _check_dict(obj)
            todo.extend(v for k, v in obj.items() if k not in ("/Parent", "/P"))
        elif isinstance(obj, generic.ArrayObject):
            todo.extend(obj)


def _javascript() -> InvalidScanError:
    return _refuse(
        "pdf_javascript",
        "PDF chứa mã lệnh hoặc hành động tự động (JavaScript, /OpenAction, /AA).",
        "The PDF carries scripts or automatic actions (JavaScript, /OpenAction, /AA).",
    )


def _check_dict(d: object) -> None:
    from pyhanko.pdf_utils import generic

    d = _expect(d, generic.DictionaryObject)
    if "/JS" in d or "/JavaScript" in d or "/AA" in d:
        raise _javascript()
    if d.get("/S") in _ACTIVE_ACTIONS:
        raise _javascript()
    if "/EmbeddedFiles" in d or "/EmbeddedFile" in d or d.get("/Type") == "/EmbeddedFile":
        raise _refuse(
            "pdf_embedded_files",
            "PDF có tệp đính kèm.",
            "The PDF carries embedded files.",
        )
    subtype = d.get("/Subtype")
    if subtype == "/FileAttachment" or "/EF" in d:
        raise _refuse(
            "pdf_embedded_files",
            "PDF có tệp đính kèm.",
            "The PDF carries embedded files.",
        )
    if subtype == "/Widget" or "/XFA" in d or d.get("/FT") is not None:
        raise _refuse(
            "pdf_forms",
            "PDF có biểu mẫu (form); chỉ nhận PDF gồm ảnh quét.",
            "The PDF has form fields; only image-only PDFs are accepted.",
        )


def _extract_pdf_pages(
    reader: object,
    limits: ScanLimits,
    workdir: Path,
    files: list[Path],
    warn: list[str],
) -> list[ScanPage]:
    root = reader.root  # type: ignore[attr-defined]
    count = int(root["/Pages"]["/Count"])
    if count > limits.max_pages:
        raise _too_many_pages(count, limits)
    pages: list[ScanPage] = []
    for index in range(count):
        page_ref, resources = reader.find_page_for_modification(index)  # type: ignore[attr-defined]
        page, resources = page_ref.get_object(), resources.get_object()
        pages.append(_extract_page(page, resources, index, limits, workdir, files, warn))
    return pages


def _extract_page(
    page: object,
    resources: object,
    index: int,
    limits: ScanLimits,
    workdir: Path,
    files: list[Path],
    warn: list[str],
) -> ScanPage:
    from pyhanko.pdf_utils import generic

    page = _expect(page, generic.DictionaryObject)
    n = index + 1
    if page.get("/Annots"):
        raise _not_images(f"trang {n} có chú thích (annotation)", f"page {n} has annotations")
    if int(page.get("/Rotate", 0)) % 360 != 0:
        warn.append(
            f"Trang {n}: bỏ qua chiều xoay /Rotate của PDF. / "
            f"Page {n}: the PDF's /Rotate was ignored."
        )
    contents = page.get("/Contents")
    parts = contents if isinstance(contents, generic.ArrayObject) else [contents]
    streams = []
    for part in parts:
        stream = part.get_object() if isinstance(part, generic.IndirectObject) else part
        if not isinstance(stream, generic.StreamObject):
            raise _corrupt("a page has no content stream")
        if len(stream.encoded_data) > _MAX_CONTENT_STREAM:
            raise _not_images(f"trang {n} có nội dung quá lớn", f"page {n} has large content")
        streams.append(stream)
    if not isinstance(resources, generic.DictionaryObject):
        raise _corrupt("a page has no resources")
    xobjects = resources.get("/XObject", generic.DictionaryObject())

    images: list[tuple[object, tuple[float, ...]]] = []
    ctm_stack: list[tuple[float, ...]] = []
    ctm: tuple[float, ...] = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    data = b"\n".join(_bounded_stream_data(stream) for stream in streams)
    for name, args in _content_ops(data):
        if name in _TEXT_OPS:
            raise _not_images(f"trang {n} có chữ (text)", f"page {n} has text")
        if name == "q":
            ctm_stack.append(ctm)
        elif name == "Q":
            ctm = ctm_stack.pop() if ctm_stack else ctm
        elif name == "cm":
            m = tuple(float(a) for a in args if isinstance(a, float))
            if len(m) != 6:
                raise _corrupt("malformed cm operator")
            ctm = _mul(m, ctm)
        elif name == "Do":
            if not args or not isinstance(args[0], str):
                raise _corrupt("malformed Do operator")
            xobj = xobjects[args[0]]
            if xobj.get("/Subtype") != "/Image":
                raise _not_images(
                    f"trang {n} có đối tượng không phải ảnh", f"page {n} draws a non-image"
                )
            images.append((xobj, ctm))
        elif name in _STATE_OPS or name in _CLIP_OPS:
            continue
        else:
            raise _not_images(
                f"trang {n} có hình vẽ hoặc lệnh {name}", f"page {n} draws with {name}"
            )
    if len(images) != 1:
        raise _not_images(f"trang {n} có {len(images)} ảnh", f"page {n} has {len(images)} images")
    xobj, ctm = images[0]
    return _take_image(xobj, ctm, index, limits, workdir, files, warn)


def _bounded_stream_data(stream: object) -> bytes:
    from pyhanko.pdf_utils import generic

    stream = _expect(stream, generic.StreamObject)
    data = stream.data  # under the reader's decode limits
    if len(data) > _MAX_CONTENT_STREAM:
        raise _not_images("nội dung trang quá lớn", "the page content is too large")
    return bytes(data)


_WS: Final = b" \t\r\n\f\x00"
_DELIMS: Final = b"()<>[]{}/%"


def _content_ops(data: bytes) -> Iterator[tuple[str, list[float | str | None]]]:
    """Tokenise a content stream into (operator, operands).

    Numbers become floats, names ``"/Name"`` strings; strings, arrays and dictionaries
    become ``None`` (no operator we allow needs them). Inline images (``BI``) are refused.
    """
    args: list[float | str | None] = []
    i, n = 0, len(data)
    while i < n:
        c = data[i]
        if c in _WS:
            i += 1
        elif c == 0x25:  # % comment
            while i < n and data[i] not in b"\r\n":
                i += 1
        elif c == 0x2F:  # /Name
            j = i + 1
            while j < n and data[j] not in _WS and data[j] not in _DELIMS:
                j += 1
            args.append(data[i:j].decode("latin-1"))
            i = j
        elif c == 0x28:  # (string) with nesting and escapes
            depth, i = 1, i + 1
            while i < n and depth:
                if data[i] == 0x5C:
                    i += 1
                elif data[i] == 0x28:
                    depth += 1
                elif data[i] == 0x29:
                    depth -= 1
                i += 1
            args.append(None)
        elif data.startswith(b"<<", i) or data.startswith(b">>", i):
            i += 2
        elif c == 0x3C:  # <hex string>
            j = data.find(b">", i)
            i = n if j < 0 else j + 1
            args.append(None)
        elif c in b"[]{}":
            i += 1
        elif c in b"+-.0123456789":
            j = i + 1
            while j < n and data[j] in b"+-.0123456789":
                j += 1
            try:
                args.append(float(data[i:j]))
            except ValueError as exc:
                raise _corrupt("malformed number in a content stream") from exc
            i = j
        else:
            j = i
            while j < n and data[j] not in _WS and data[j] not in _DELIMS:
                j += 1
            if j == i:  # a stray delimiter such as ')' or '>'
                raise _corrupt("malformed content stream")
            word = data[i:j].decode("latin-1")
            i = j
            if word in ("true", "false", "null"):
                args.append(None)
                continue
            if word == "BI":
                raise _not_images("trang có ảnh nội tuyến (inline image)", "inline image")
            yield word, args
            args = []


def _expect(obj: object, kind: type[_T]) -> _T:
    """Narrow a PDF object to the type the structure requires, else refuse the file."""
    if not isinstance(obj, kind):
        raise _corrupt(f"a {kind.__name__} was expected")
    return obj


def _mul(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, ...]:
    """Matrix product a × b of PDF matrices [a b c d e f]."""
    return (
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    )


def _take_image(
    xobj: object,
    ctm: tuple[float, ...],
    index: int,
    limits: ScanLimits,
    workdir: Path,
    files: list[Path],
    warn: list[str],
) -> ScanPage:
    from pyhanko.pdf_utils import generic

    xobj = _expect(xobj, generic.StreamObject)
    n = index + 1
    width, height = int(xobj["/Width"]), int(xobj["/Height"])
    # Pixel count from the dictionary, before a single byte is decoded.
    _check_pixels(width, height, limits)
    if xobj.get("/ImageMask") or "/Mask" in xobj or "/SMask" in xobj:
        raise _not_images(f"trang {n} có ảnh có mặt nạ", f"page {n} has a masked image")
    # The placed size on the page gives the resolution.
    placed_w = (ctm[0] ** 2 + ctm[1] ** 2) ** 0.5
    placed_h = (ctm[2] ** 2 + ctm[3] ** 2) ** 0.5
    dpi_info: object = None
    if placed_w > 0 and placed_h > 0:
        dpi_info = (width * 72.0 / placed_w, height * 72.0 / placed_h)
    filters = xobj.get("/Filter")
    params = xobj.get("/DecodeParms")
    if isinstance(filters, generic.ArrayObject):
        if len(filters) != 1:
            raise _unsupported("PDF image with a chain of filters")
        filters = filters[0]
        if isinstance(params, generic.ArrayObject):
            params = params[0] if params else None
    if not isinstance(params, generic.DictionaryObject):
        params = generic.DictionaryObject()
    with _pillow_guard(limits):
        if filters == "/DCTDecode":
            data = xobj.encoded_data
            return _take_jpeg(data, dpi_info, index, limits, workdir, files, warn)
        if filters not in (None, "/FlateDecode"):
            raise _unsupported(f"PDF image filter {filters}")
        if "/Decode" in xobj:
            raise _unsupported("PDF image with a /Decode array")
        bpc, color_type, mode, palette = _image_model(xobj)
        predictor = int(params.get("/Predictor", 1))
        if filters == "/FlateDecode" and predictor >= 10:
            # Flate data with PNG predictors is what a PNG's IDAT holds: wrap it in a PNG
            # without decoding it (lossless, and Pillow then checks it like any PNG).
            if (
                int(params.get("/Colors", 1)) != {0: 1, 2: 3, 3: 1}[color_type]
                or int(params.get("/BitsPerComponent", 8)) != bpc
                or int(params.get("/Columns", 1)) != width
            ):
                raise _corrupt("PDF image predictor parameters do not match the image")
            png = _png_container(width, height, bpc, color_type, palette, xobj.encoded_data)
            path = _write_page_file(png, workdir, files, index)
            page = _check_single_image(path, "png", limits, [], index=index)
            if page is None:  # modes 1/L/P/RGB are always direct; this is a safeguard
                raise _corrupt("unexpected PNG mode")
            dpi, width_pt, height_pt = _page_size(width, height, dpi_info, limits, n, warn)
            return dataclasses.replace(
                page,
                dpi=dpi,
                width_pt=width_pt,
                height_pt=height_pt,
                sha256=hashlib.sha256(png).hexdigest(),
                size=len(png),
            )
        if predictor != 1:
            raise _unsupported("PDF image with a TIFF predictor")
        data = xobj.data  # pyHanko applies Flate under its decode limits
        ncomp = 4 if mode == "CMYK" else {0: 1, 2: 3, 3: 1}[color_type]
        row = (width * ncomp * bpc + 7) // 8
        if len(data) < row * height:
            raise _corrupt("a PDF image has too little data")
        rawmode = {("P", 1): "P;1", ("P", 2): "P;2", ("P", 4): "P;4"}.get((mode, bpc), mode)
        im = Image.frombytes(mode, (width, height), data[: row * height], "raw", rawmode, row)
        if palette is not None:
            im.putpalette(palette, "RGB")
        dpi, width_pt, height_pt = _page_size(width, height, dpi_info, limits, n, warn)
        if mode == "CMYK":
            warn.append(
                f"Trang {n}: hệ màu CMYK được chuyển sang RGB. / Page {n}: CMYK converted to RGB."
            )
        return _save_png(
            im,
            index=index,
            dpi=dpi,
            width_pt=width_pt,
            height_pt=height_pt,
            workdir=workdir,
            files=files,
        )


def _write_page_file(data: bytes, workdir: Path, files: list[Path], index: int) -> Path:
    fd, name = _mkstemp(workdir, f"page-{index + 1}-")
    path = Path(name)
    files.append(path)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return path


def _take_jpeg(
    data: bytes,
    dpi_info: object,
    index: int,
    limits: ScanLimits,
    workdir: Path,
    files: list[Path],
    warn: list[str],
) -> ScanPage:
    if not data.startswith(b"\xff\xd8\xff"):
        raise _corrupt("a /DCTDecode image is not a JPEG")
    path = _write_page_file(data, workdir, files, index)
    _keep_only_picture(path, "jpeg", warn)
    page = _check_single_image(path, "jpeg", limits, [], index=index)
    if page is None:
        return _convert_to_png(path, "jpeg", limits, workdir, files, warn, index=index)
    dpi, width_pt, height_pt = _page_size(
        page.width_px, page.height_px, dpi_info, limits, index + 1, warn
    )
    digest, size = _file_digest(path)
    return dataclasses.replace(
        page, dpi=dpi, width_pt=width_pt, height_pt=height_pt, sha256=digest, size=size
    )


def _image_model(xobj: object) -> tuple[int, int, str, bytes | None]:
    """Return (bits per component, PNG colour type, Pillow mode, RGB palette) of an image."""
    from pyhanko.pdf_utils import generic

    xobj = _expect(xobj, generic.StreamObject)
    bpc = int(xobj.get("/BitsPerComponent", 8))
    cs = xobj.get("/ColorSpace")
    if isinstance(cs, generic.ArrayObject) and cs and cs[0] == "/ICCBased":
        cs = {1: "/DeviceGray", 3: "/DeviceRGB", 4: "/DeviceCMYK"}.get(
            int(cs[1].get_object()["/N"])
        )
    if isinstance(cs, generic.ArrayObject) and cs and cs[0] == "/Indexed":
        base = cs[1]
        if isinstance(base, generic.ArrayObject) and base and base[0] == "/ICCBased":
            base = {3: "/DeviceRGB"}.get(int(base[1].get_object()["/N"]))
        if base != "/DeviceRGB" or bpc not in (1, 2, 4, 8):
            raise _unsupported("indexed PDF image over a non-RGB colour space")
        lookup = cs[3].get_object()
        if isinstance(lookup, generic.StreamObject):
            palette = lookup.data
        else:
            palette = bytes(lookup.original_bytes)
        palette = palette[: 3 * (int(cs[2]) + 1)]
        return bpc, 3, "P", palette
    if cs == "/DeviceGray" and bpc in (1, 8):
        return bpc, 0, ("1" if bpc == 1 else "L"), None
    if cs == "/DeviceRGB" and bpc == 8:
        return bpc, 2, "RGB", None
    if cs == "/DeviceCMYK" and bpc == 8:
        return bpc, -1, "CMYK", None
    raise _unsupported(f"PDF image colour space {cs} at {bpc} bits")


def _png_container(
    width: int, height: int, bpc: int, color_type: int, palette: bytes | None, idat: bytes
) -> bytes:
    if color_type < 0:
        raise _unsupported("CMYK image with PNG predictors")

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, bpc, color_type, 0, 0, 0)
    parts = [b"\x89PNG\r\n\x1a\n", chunk(b"IHDR", ihdr)]
    if palette is not None:
        parts.append(chunk(b"PLTE", palette))
    parts += [chunk(b"IDAT", idat), chunk(b"IEND", b"")]
    return b"".join(parts)
