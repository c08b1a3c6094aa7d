"""What of a scanned image may go into a certified copy: the picture, and nothing else.

A JPEG or PNG is embedded in the copy byte for byte (img2pdf), so whatever it carries is
signed as part of a true copy. A file can carry more than its picture: bytes after its end
marker (a ZIP or a PDF appended: a polyglot), payloads in metadata segments (APPn, COM, text
chunks), or a header that claims more pixels than its data holds (the decoder then pads the
page with grey). So, before a page is accepted:

1. :func:`sanitize` rewrites the file with only the segments that make the picture (JPEG:
   ITU-T T.81 markers SOFn, DHT, DQT, DRI, SOS and its entropy-coded data, with JFIF (APP0),
   ICC profile (APP2) and Adobe (APP14) for colour; PNG: the critical chunks and those about
   colour and resolution, ISO/IEC 15948 §11) and nothing after the end marker;
2. :func:`check_jpeg_decodes` decodes the JPEG in full with libjpeg's ``djpeg -strict``,
   which treats every warning (premature end of data, corrupt data) as an error: Pillow
   pads a short or lying JPEG silently.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path
from typing import Final

# JPEG markers kept (ITU-T T.81 Table B.1): SOF0-15 except DHT (C4), JPG (C8), DAC (CC);
# DHT, DQT (DB), DRI (DD), DNL (DC); APP0 (JFIF), APP2 (ICC profile), APP14 (Adobe).
_SOF: Final = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_KEEP: Final = _SOF | {0xC4, 0xDB, 0xDD, 0xDC, 0xCC}
_KEEP_APP: Final = {0xE0: b"JFIF\x00", 0xE2: b"ICC_PROFILE\x00", 0xEE: b"Adobe"}
_SOS: Final = 0xDA
_EOI: Final = 0xD9
# PNG chunks kept: critical, and those that say how the pixels look or how large they are.
_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
_PNG_KEEP: Final = frozenset(
    {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT"}
    | {b"pHYs", b"bKGD"}
)
DJPEG_TIMEOUT_SECONDS: Final = 60


class ImageStructureError(ValueError):
    """The image's structure is broken (no end marker, a segment past the end, ...)."""


def sanitize(path: Path, kind: str) -> bool:
    """Rewrite the JPEG or PNG at ``path`` with only what makes its picture. Returns whether
    anything was removed.

    Raises:
        ImageStructureError: the file's segments or chunks do not form an image.
    """
    data = path.read_bytes()
    kept = jpeg_essentials(data) if kind == "jpeg" else png_essentials(data)
    if kept == data:
        return False
    path.write_bytes(kept)
    return True


def jpeg_essentials(data: bytes) -> bytes:
    """The JPEG's picture: SOI, the kept segments, each scan with its entropy-coded data,
    EOI; nothing after EOI. Raises ImageStructureError."""
    if not data.startswith(b"\xff\xd8"):
        raise ImageStructureError("no SOI marker")
    out = bytearray(b"\xff\xd8")
    pos = 2
    while True:
        # Fill bytes (0xFF) may precede a marker (T.81 §B.1.1.2).
        while pos < len(data) and data[pos] == 0xFF and pos + 1 < len(data):
            if data[pos + 1] != 0xFF:
                break
            pos += 1
        if pos + 2 > len(data) or data[pos] != 0xFF:
            raise ImageStructureError("a segment does not start with a marker")
        marker = data[pos + 1]
        if marker == _EOI:
            out += b"\xff\xd9"
            return bytes(out)
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            raise ImageStructureError("a stand-alone marker outside a scan")
        if pos + 4 > len(data):
            raise ImageStructureError("a segment runs past the end")
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        end = pos + 2 + length
        if length < 2 or end > len(data):
            raise ImageStructureError("a segment runs past the end")
        segment = data[pos:end]
        app = _KEEP_APP.get(marker)
        if marker in _KEEP or marker == _SOS or (app is not None and segment[4:].startswith(app)):
            out += segment
        pos = end
        if marker == _SOS:
            scan_end = _entropy_end(data, pos)
            out += data[pos:scan_end]
            pos = scan_end


def _entropy_end(data: bytes, pos: int) -> int:
    """Where a scan's entropy-coded data ends: at the first marker that is neither a
    stuffed 0xFF00 nor a restart marker RSTn (T.81 §B.1.1.5, §F.1.2.3)."""
    while True:
        at = data.find(b"\xff", pos)
        if at < 0 or at + 1 >= len(data):
            raise ImageStructureError("the scan data has no end marker")
        following = data[at + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            pos = at + 1
            continue
        return at


def png_essentials(data: bytes) -> bytes:
    """The PNG's picture: the signature, the kept chunks, IEND; nothing after IEND.
    Raises ImageStructureError."""
    if not data.startswith(_PNG_SIGNATURE):
        raise ImageStructureError("no PNG signature")
    out = bytearray(_PNG_SIGNATURE)
    pos = len(_PNG_SIGNATURE)
    while True:
        if pos + 12 > len(data):
            raise ImageStructureError("a chunk runs past the end")
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise ImageStructureError("a chunk runs past the end")
        if kind in _PNG_KEEP:
            out += data[pos:end]
        pos = end
        if kind == b"IEND":
            return bytes(out)


def check_jpeg_decodes(path: Path) -> None:
    """Decode the whole JPEG with ``djpeg -strict`` (libjpeg-turbo): any warning, such as a
    premature end of the data a header promised, fails.

    Raises:
        ImageStructureError: the JPEG does not decode cleanly (the message says why).
        RuntimeError: djpeg is not installed (Debian ``libjpeg-turbo-progs``).
    """
    djpeg = shutil.which("djpeg")
    if djpeg is None:
        raise RuntimeError("djpeg (libjpeg-turbo-progs) is needed to check JPEG scans")
    # 1/8 scale: every entropy-coded byte is still decoded, with 1/64 of the output.
    done = subprocess.run(  # noqa: S603 - a fixed program on our own temporary file
        [djpeg, "-strict", "-scale", "1/8", "-outfile", "/dev/null", str(path)],
        capture_output=True,
        timeout=DJPEG_TIMEOUT_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ImageStructureError(reason[-1] if reason else "djpeg failed")
