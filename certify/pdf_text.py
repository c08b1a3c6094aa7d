"""Text and numbers in PDF content streams, for the copies and the register's prints.

Both PDFs draw their text with a :class:`~certify.fonts.PreparedFont` (Type0 / Identity-H):
a string is written as its 2-byte glyph ids in hex, and numbers as short decimals. These
are the helpers they share, so that the two stay alike: :func:`num`, :func:`nums`,
:func:`text_op`, :func:`centered`, :func:`wrap`, :func:`wrap_url`, :func:`fit`,
:func:`int_box`.
"""

from __future__ import annotations

import re
import unicodedata

from certify.fonts import PreparedFont

__all__ = [
    "centered",
    "fit",
    "int_box",
    "num",
    "nums",
    "text_op",
    "wrap",
    "wrap_url",
]


def num(v: float) -> bytes:
    """``v`` as a content-stream number: at most 3 decimals, no trailing zeros, no ``-0``."""
    s = f"{v:.3f}".rstrip("0").rstrip(".")
    return (s if s not in ("-0", "") else "0").encode("ascii")


def nums(*values: float) -> tuple[bytes, ...]:
    """:func:`num` of each value, for ``b"%s %s … re" % nums(…)``."""
    return tuple(num(v) for v in values)


def text_op(font: PreparedFont, res: bytes, size: float, x: float, y: float, s: str) -> bytes:
    """One line of text at ``(x, y)`` (its baseline's start) in the font resource ``res``."""
    glyphs, _ = font.encode(s)
    return b"BT %s %s Tf %s %s Td <%s> Tj ET" % (
        res,
        num(size),
        num(x),
        num(y),
        glyphs.hex().encode("ascii"),
    )


def centered(
    font: PreparedFont, res: bytes, size: float, x: float, width: float, y: float, s: str
) -> bytes:
    """:func:`text_op` of ``s`` centred in ``width`` points from ``x`` (left-aligned at ``x``
    when wider)."""
    w = font.width(s, size)
    return text_op(font, res, size, x + max(0.0, (width - w) / 2), y, s)


def wrap(font: PreparedFont, text: str, size: float, width: float) -> list[str]:
    """Word-wrap ``text`` to ``width`` points; newlines start a new line, and a word longer
    than a line is cut (text must stay inside its cell or column). Never empty: blank text
    is one empty line."""
    lines: list[str] = []
    for para in unicodedata.normalize("NFC", text).split("\n"):
        current = ""
        for word in para.split():
            for piece in _cut(font, word, size, width):
                candidate = f"{current} {piece}" if current else piece
                if current and font.width(candidate, size) > width:
                    lines.append(current)
                    current = piece
                else:
                    current = candidate
        lines.append(current)
    while len(lines) > 1 and not lines[-1]:
        lines.pop()
    return lines


def _cut(font: PreparedFont, word: str, size: float, width: float) -> list[str]:
    if font.width(word, size) <= width:
        return [word]
    pieces: list[str] = []
    current = ""
    for ch in word:
        if current and font.width(current + ch, size) > width:
            pieces.append(current)
            current = ch
        else:
            current += ch
    if current:
        pieces.append(current)
    return pieces


def wrap_url(font: PreparedFont, url: str, size: float, width: float) -> list[str]:
    """``url`` on lines of at most ``width`` points, broken only after a ``/`` (a piece
    between two slashes longer than a line stays whole), so that no line ends inside the
    verification code."""
    pieces = [p for p in re.split(r"(?<=/)", url) if p]
    lines: list[str] = []
    current = ""
    for piece in pieces:
        if current and font.width(current + piece, size) > width:
            lines.append(current)
            current = piece
        else:
            current += piece
    if current:
        lines.append(current)
    return lines


def fit(font: PreparedFont, text: str, size: float, width: float) -> str:
    """``text`` shortened with an ellipsis to fit on one line of ``width`` points."""
    if font.width(text, size) <= width:
        return text
    while text and font.width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def int_box(x: float, y: float, w: float, h: float) -> tuple[int, int, int, int]:
    """The box ``(x, y, w, h)`` as whole points ``(x0, y0, x1, y1)`` (a widget's /Rect)."""
    x0, y0 = round(x), round(y)
    return x0, y0, x0 + round(w), y0 + round(h)
