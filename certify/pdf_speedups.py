"""A faster reader of PDF hex strings for pyHanko, installed once (``install()``).

pyHanko 0.38 reads a hex string (``<...>``) one byte at a time through its tokenizer. A
signature's ``/Contents`` is such a string of 30-60 KB, so every revision after the first
signature, and every validation, spends most of its parsing there (``bench_verify``: 79,000
tokenizer calls, about half of a validation without difference analysis).

The fast path reads ahead to the closing ``>`` and decodes the digits at once with
``binascii``; it is taken only when the string holds nothing but hex digits and whitespace.
Anything else (a comment, a stray byte, a string running to the end of the file) goes to
pyHanko's own reader from the same position, so results and errors are unchanged
(``tests/certify/test_pdf_speedups.py`` compares the two).
"""

from __future__ import annotations

import binascii
from typing import Any, BinaryIO, Final

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PDF_WHITESPACE

_ORIGINAL: Final = generic.read_hex_string_from_stream
_HEX_AND_WHITESPACE: Final = b"0123456789abcdefABCDEF" + PDF_WHITESPACE
_CHUNK: Final = 64 * 1024


def read_hex_string(stream: BinaryIO) -> Any:
    """Read the hex string starting at ``stream``'s position (at its ``<``), as pyHanko's
    ``generic.read_hex_string_from_stream`` does."""
    start = stream.tell()
    parts = []
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            break  # no closing '>': let pyHanko raise its own error
        end = chunk.find(b">")
        parts.append(chunk if end < 0 else chunk[:end])
        if end >= 0:
            body = b"".join(parts)[1:]  # without the opening '<'
            if body.translate(None, _HEX_AND_WHITESPACE):
                break  # a comment or a stray byte: pyHanko decides
            digits = body.translate(None, PDF_WHITESPACE)
            stream.seek(start + len(body) + 2)
            if len(digits) % 2:
                digits += b"0"  # ISO 32000-1 §7.3.4.3: a missing last digit is 0
            return generic.pdf_string(binascii.unhexlify(digits))
    stream.seek(start)
    return _ORIGINAL(stream)


def install() -> None:
    """Make pyHanko's object reader use :func:`read_hex_string` (idempotent)."""
    generic.read_hex_string_from_stream = read_hex_string


def original() -> Any:
    """pyHanko's own reader (for tests)."""
    return _ORIGINAL
