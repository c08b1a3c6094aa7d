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

Public API: :class:`ScanLimits`, :class:`ScanPage`, :class:`IntakeResult`, :func:`read_scan`, and
for the clean-up of interrupted runs :data:`INTAKE_PREFIX` and
:func:`remove_stale_workdirs`; for a full work directory :class:`ScratchFullError` (code
``scratch_full``), :func:`is_disk_full` and :func:`scratch_writes`. Import them from here;
the modules below are internal.

What lives where:

- ``scan``: :func:`read_scan` (the steps in order); storing the pages is the certification's
  (``certify.issuance``), in its transaction.
- ``model``: the value objects (:class:`ScanLimits`, :class:`ScanPage`,
  :class:`IntakeResult`, :data:`DEFAULT_DPI`) and ``Intake``, the context of one run (its
  limits, work directory, the files it made and the warnings it gave) handed to every step.
- ``refusals``: every refusal, with its stable ``code`` and its Vietnamese and English text.
- ``spool``: step 1, the upload spooled, hashed and counted; step 2, sniffing the type;
  :func:`remove_stale_workdirs`.
- ``scratch``: a full work directory (``ENOSPC``) as :class:`ScratchFullError`, not as a
  refusal of the scan: every file intake writes is written under :func:`scratch_writes`.
- ``images``: step 3a, JPEG, PNG and TIFF checked and decoded with Pillow (pixel limits
  checked explicitly; Pillow's process-wide settings are never changed), the page size from
  the resolution, lossless PNG page files.
- ``pdf``: step 3b, a PDF read once by pyHanko under decode limits, page by page.
- ``pdf_policy``: what a PDF may not carry (encryption, scripts, forms, attached files).
- ``pdf_content``: what a page draws (qpdf's lexer through pikepdf, ``pikepdf.Matrix``):
  one image and nothing else.
- ``pdf_images``: that image as a page file: a JPEG byte-exact, anything else through
  ``pikepdf.PdfImage`` to a PNG.
"""

from __future__ import annotations

from certify.intake.model import DEFAULT_DPI, IntakeResult, ScanLimits, ScanPage
from certify.intake.scan import read_scan
from certify.intake.scratch import ScratchFullError, is_disk_full, scratch_writes
from certify.intake.spool import INTAKE_PREFIX, remove_stale_workdirs

__all__ = [
    "DEFAULT_DPI",
    "INTAKE_PREFIX",
    "IntakeResult",
    "ScanLimits",
    "ScanPage",
    "ScratchFullError",
    "is_disk_full",
    "read_scan",
    "remove_stale_workdirs",
    "scratch_writes",
]
