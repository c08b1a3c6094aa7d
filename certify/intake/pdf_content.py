"""What a PDF page draws: its content stream, lexed by qpdf (pikepdf), must draw exactly one
image XObject, with nothing but graphics state, clipping and marked content around it.

The lexer is qpdf's, through a :class:`pikepdf.TokenFilter`, which sees every token as it
comes: malformed bytes (a stray ``)``, a bad hex string) arrive as ``bad`` tokens and are
refused, where :func:`pikepdf.parse_content_stream` would silently read them as nulls, and
the check stops at the first thing not allowed. The placement of the image is the current
transformation matrix, tracked with :class:`pikepdf.Matrix` through ``q``/``Q``/``cm``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import pikepdf
from pikepdf import Matrix, TokenType

from certify.intake import refusals

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
# Tokens with no bearing on the check: arrays, dictionaries and braces are looked through,
# their items read as operands of the next operator.
_SKIPPED: Final = frozenset(
    {
        TokenType.space,
        TokenType.comment,
        TokenType.eof,
        TokenType.array_open,
        TokenType.array_close,
        TokenType.dict_open,
        TokenType.dict_close,
        TokenType.brace_open,
        TokenType.brace_close,
    }
)
_NUMBER_CHARS_BYTES: Final = b"+-.0123456789"

Operand = float | str | None


def placed_image(content: bytes, xobjects: Mapping[str, object], n: int) -> tuple[object, Matrix]:
    """The one image page ``n`` draws, and the matrix that places it on the page.

    ``content`` is the page's content (its streams decoded and joined); ``xobjects`` its
    ``/XObject`` resources.

    :raises InvalidScanError: ``pdf_not_images`` (text, vector drawing, an inline image, a
        form XObject, or not exactly one image), ``scan_corrupt`` (malformed content).
    :raises KeyError: ``Do`` names no XObject of the page (the caller refuses the file).
    """
    check = _ContentCheck(xobjects, n)
    with pikepdf.Pdf.new() as scratch:
        page = scratch.add_blank_page()
        page.obj.Contents = scratch.make_stream(content)
        page.get_filtered_contents(check)
    if len(check.images) != 1:
        count = len(check.images)
        raise refusals.not_images(f"trang {n} có {count} ảnh", f"page {n} has {count} images")
    return check.images[0]


class _ContentCheck(pikepdf.TokenFilter):
    """Reads the content token by token and refuses at the first thing not allowed."""

    def __init__(self, xobjects: Mapping[str, object], n: int) -> None:
        super().__init__()
        self.xobjects = xobjects
        self.n = n
        self.operands: list[Operand] = []
        self.ctm = Matrix()
        self.saved: list[Matrix] = []
        self.images: list[tuple[object, Matrix]] = []

    def handle_token(self, token: pikepdf.Token) -> None:
        kind = token.type_
        if kind in _SKIPPED:
            return None
        raw = bytes(token.raw_value)
        if kind is TokenType.bad:
            # Malformed: refused, but for a string left open at the end of the content, which
            # intake has always read as one more operand.
            if not raw.startswith(b"("):
                raise refusals.corrupt("malformed content stream")
            self.operands.append(None)
        elif kind in (TokenType.integer, TokenType.real):
            self.operands.append(_number(raw))
        elif kind is TokenType.name_:
            self.operands.append(raw.decode("latin-1"))
        elif kind in (TokenType.string, TokenType.bool, TokenType.null):
            self.operands.append(None)
        elif kind is TokenType.word:
            # A word that opens with number characters (``0q``, ``1.5cm``) is a number, then
            # an operator: how intake has always read it, so it keeps its refusal codes.
            name = raw.lstrip(_NUMBER_CHARS_BYTES)
            if len(name) < len(raw):
                self.operands.append(_number(raw[: len(raw) - len(name)]))
            if name in (b"true", b"false", b"null"):
                self.operands.append(None)
            elif name:
                self._operator(name.decode("latin-1"))
                self.operands = []
        else:  # inline image data: only after BI, which is refused
            raise refusals.not_images("trang có ảnh nội tuyến (inline image)", "inline image")
        return None

    def _operator(self, name: str) -> None:
        n = self.n
        if name in _TEXT_OPS:
            raise refusals.not_images(f"trang {n} có chữ (text)", f"page {n} has text")
        if name == "BI":
            raise refusals.not_images("trang có ảnh nội tuyến (inline image)", "inline image")
        if name == "q":
            self.saved.append(self.ctm)
        elif name == "Q":
            self.ctm = self.saved.pop() if self.saved else self.ctm
        elif name == "cm":
            m = [a for a in self.operands if isinstance(a, float)]
            if len(m) != 6:
                raise refusals.corrupt("malformed cm operator")
            self.ctm = Matrix(*m) @ self.ctm
        elif name == "Do":
            first = self.operands[0] if self.operands else None
            if not isinstance(first, str):
                raise refusals.corrupt("malformed Do operator")
            xobj = self.xobjects[first]
            if not isinstance(xobj, Mapping):
                raise refusals.corrupt("an XObject is not a dictionary")
            if xobj.get("/Subtype") != "/Image":
                raise refusals.not_images(
                    f"trang {n} có đối tượng không phải ảnh", f"page {n} draws a non-image"
                )
            self.images.append((xobj, self.ctm))
        elif name not in _STATE_OPS and name not in _CLIP_OPS:
            raise refusals.not_images(
                f"trang {n} có hình vẽ hoặc lệnh {name}", f"page {n} draws with {name}"
            )


def _number(raw: bytes) -> float:
    try:
        return float(raw)
    except ValueError as exc:
        raise refusals.corrupt("malformed number in a content stream") from exc
