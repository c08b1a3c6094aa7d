"""The fast hex-string reader gives what pyHanko's own reader gives, errors included."""

from __future__ import annotations

import io
import random

import pytest
from pyhanko.pdf_utils.misc import PdfStreamError

from certify import pdf_speedups

CASES = [
    b"<>",
    b"<00>",
    b"<48656C6C6F>rest",
    b"<48 65\n6c\r\n6C\t6f\f\x00>",
    b"<4>",
    b"<abc>",
    b"<C3A0 20 e1BB87>",  # "à ệ" in UTF-8
    b"<FEFF0054>",  # a UTF-16 text string
    b"<48 % a comment\n 65>",
    b"<48 65 zz>",
    b"<4865",
    b"<48 >> trailing",
]


def _read(reader: object, data: bytes) -> tuple[object, int] | str:
    stream = io.BytesIO(data)
    try:
        value = reader(stream)  # type: ignore[operator]
    except PdfStreamError as exc:
        return f"error: {type(exc).__name__}"
    return value, stream.tell()


@pytest.mark.parametrize("data", CASES)
def test_same_value_position_and_errors_as_pyhanko(data: bytes) -> None:
    assert _read(pdf_speedups.read_hex_string, data) == _read(pdf_speedups.original(), data)


def test_random_signature_sized_strings() -> None:
    rng = random.Random(7)  # noqa: S311 - reproducible test data, not secrets
    for size in (1, 2, 31, 4_096, 70_001, 200_000):
        raw = rng.randbytes(size)
        hexed = raw.hex().encode()
        spaced = b"\n".join(hexed[i : i + 64] for i in range(0, len(hexed), 64))
        for body in (hexed, hexed.upper(), spaced):
            data = b"<" + body + b"> /Next"
            fast = _read(pdf_speedups.read_hex_string, data)
            assert fast == _read(pdf_speedups.original(), data)
            assert isinstance(fast, tuple)
            assert fast[1] == len(data) - len(b" /Next")


def test_install_is_what_the_reader_uses() -> None:
    from pyhanko.pdf_utils import generic

    pdf_speedups.install()
    assert generic.read_hex_string_from_stream is pdf_speedups.read_hex_string
    obj = generic.read_object(io.BytesIO(b"<48 69>"), None)  # type: ignore[arg-type]
    assert isinstance(obj, generic.TextStringObject | generic.ByteStringObject)
    assert bytes(obj.original_bytes) == b"Hi"
