"""The entry point of intake: :func:`read_scan` takes an upload in."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from certify.intake import refusals
from certify.intake.images import read_image_file
from certify.intake.model import Intake, IntakeResult, ScanLimits
from certify.intake.pdf import read_pdf
from certify.intake.scratch import scratch_writes
from certify.intake.spool import sniff, spool_upload


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
    :raises ScratchFullError: ``workdir``'s disk is full (code ``scratch_full``): not the
        scan's fault, never reported as a refusal; the run's files are removed.
    :raises CertifyError: ``jpeg_checker_missing`` (djpeg is not installed) or
        ``image_decoder_lenient`` (the process set Pillow's ``LOAD_TRUNCATED_IMAGES``): the
        server's fault, not the scan's.
    """
    with scratch_writes():
        workdir.mkdir(parents=True, exist_ok=True)
    run = Intake(limits, workdir)
    try:
        spool, digest, size = spool_upload(stream, run)
        with spool.open("rb") as fh:
            head = fh.read(16)
        kind = sniff(head)
        if kind in ("jpeg", "png", "tiff"):
            pages = read_image_file(spool, kind, digest, size, run)
        else:
            pages = read_pdf(spool, run)
        if not pages:
            raise refusals.no_pages()
        return IntakeResult(
            pages=pages,
            sha256_of_file=digest,
            size=size,
            kind=kind,
            warnings=run.warnings,
            _files=run.files,
        )
    except BaseException:
        run.remove_files()
        raise
