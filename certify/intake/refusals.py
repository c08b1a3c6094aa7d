"""The refusals of intake: each an :class:`~certify.errors.InvalidScanError` with a stable
``code`` and a message in Vietnamese, then English."""

from __future__ import annotations

from typing import TypeVar

from certify.errors import CertifyError, InvalidScanError
from certify.intake.model import MiB, ScanLimits

_T = TypeVar("_T")


def refuse(code: str, vi: str, en: str) -> InvalidScanError:
    return InvalidScanError(f"{vi} / {en}", code=code)


def empty_file() -> InvalidScanError:
    return refuse("scan_empty", "Tệp bản quét rỗng.", "The scan file is empty.")


def no_pages() -> InvalidScanError:
    return refuse("scan_empty", "Bản quét không có trang nào.", "The scan has no pages.")


def too_large(limits: ScanLimits) -> InvalidScanError:
    return refuse(
        "scan_too_large",
        f"Tệp bản quét vượt quá {limits.max_bytes // MiB} MiB.",
        f"The scan is larger than {limits.max_bytes // MiB} MiB.",
    )


def corrupt(detail_en: str = "the file is damaged or truncated") -> InvalidScanError:
    return refuse(
        "scan_corrupt",
        "Tệp bản quét bị hỏng hoặc không đầy đủ.",
        f"The scan cannot be read: {detail_en}.",
    )


def too_many_pixels(width: int, height: int, limits: ScanLimits) -> InvalidScanError:
    return refuse(
        "scan_too_many_pixels",
        f"Trang quét quá lớn ({width}×{height} điểm ảnh, tối đa {limits.max_page_pixels}).",
        f"A page has too many pixels ({width}×{height}; at most {limits.max_page_pixels}).",
    )


def pixel_bomb() -> InvalidScanError:
    """An image file whose header claims more pixels than allowed (a decompression bomb)."""
    return refuse(
        "scan_too_many_pixels",
        "Trang quét có quá nhiều điểm ảnh.",
        "A page has too many pixels.",
    )


def unsupported(detail_en: str) -> InvalidScanError:
    return refuse(
        "scan_type_unsupported",
        "Định dạng bản quét không được hỗ trợ (chấp nhận JPEG, PNG, TIFF, PDF chỉ chứa ảnh).",
        f"Unsupported scan format ({detail_en}); JPEG, PNG, TIFF or image-only PDF expected.",
    )


def too_many_pages(count: int, limits: ScanLimits) -> InvalidScanError:
    return refuse(
        "scan_too_many_pages",
        f"Bản quét có {count} trang, vượt quá {limits.max_pages} trang.",
        f"The scan has {count} pages, more than {limits.max_pages}.",
    )


def encrypted() -> InvalidScanError:
    return refuse(
        "pdf_encrypted",
        "PDF được mã hoá; hãy nộp bản quét không mã hoá.",
        "The PDF is encrypted; upload an unencrypted scan.",
    )


def javascript() -> InvalidScanError:
    return refuse(
        "pdf_javascript",
        "PDF chứa mã lệnh hoặc hành động tự động (JavaScript, /OpenAction, /AA).",
        "The PDF carries scripts or automatic actions (JavaScript, /OpenAction, /AA).",
    )


def forms() -> InvalidScanError:
    return refuse(
        "pdf_forms",
        "PDF có biểu mẫu (form); chỉ nhận PDF gồm ảnh quét.",
        "The PDF has form fields; only image-only PDFs are accepted.",
    )


def embedded_files() -> InvalidScanError:
    return refuse(
        "pdf_embedded_files",
        "PDF có tệp đính kèm.",
        "The PDF carries embedded files.",
    )


def not_images(vi: str, en: str) -> InvalidScanError:
    return refuse(
        "pdf_not_images",
        f"PDF phải chỉ gồm ảnh quét, mỗi trang một ảnh: {vi}.",
        f"The PDF must hold scanned images only, one per page: {en}.",
    )


def jpeg_checker_missing() -> CertifyError:
    """The server, not the scan, is at fault: djpeg is not installed."""
    return CertifyError(
        "Máy chủ thiếu công cụ kiểm tra JPEG (djpeg). / The server lacks the JPEG "
        "checker (djpeg, Debian libjpeg-turbo-progs).",
        code="jpeg_checker_missing",
    )


def lenient_decoder() -> CertifyError:
    """The server, not the scan, is at fault: something in the process set Pillow's
    ``ImageFile.LOAD_TRUNCATED_IMAGES``, under which a truncated scan decodes as if whole."""
    return CertifyError(
        "Máy chủ cấu hình sai bộ giải mã ảnh (Pillow LOAD_TRUNCATED_IMAGES). / The server's "
        "image decoder is set to accept truncated images (Pillow LOAD_TRUNCATED_IMAGES).",
        code="image_decoder_lenient",
    )


def expect(obj: object, kind: type[_T]) -> _T:
    """Narrow a PDF object to the type the structure requires, else refuse the file."""
    if not isinstance(obj, kind):
        raise corrupt(f"a {kind.__name__} was expected")
    return obj
