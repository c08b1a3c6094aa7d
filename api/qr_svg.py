"""QR codes as SVG for the pages: the VietQR payment code on the citizen's page, the TOTP
enrolment code on the desk.

A QR code (ISO/IEC 18004) at error correction level M (about 15 % of the symbol can be
restored), with its quiet zone of ``border`` modules (§6.3.8: at least 4), drawn by the
``qrcode`` library's single-path SVG image (``SvgPathFillImage``, the ``SvgPathImage`` with
a background): black modules on a white ``<rect>``, so it reads on a dark theme and in a
screenshot. One module is one user unit of the ``viewBox``; the ``<svg>`` is 100 % wide and
high, so the page's CSS gives its size.

Nothing here is stored or logged: a payload may be a TOTP secret (``otpauth://``).

- :func:`qr_svg` — inline ``<svg>`` markup, with ``role="img"`` and an accessible name;
- :func:`qr_svg_data_uri` — the same SVG as a ``data:`` URI for an ``<img>`` (the CSP allows
  ``img-src data:``), as ``api/routes/desk_login.py`` shows the TOTP code.
"""

from __future__ import annotations

import base64
from typing import Any

import qrcode
import qrcode.constants
from markupsafe import Markup
from qrcode.exceptions import DataOverflowError
from qrcode.image.svg import SvgPathFillImage

from certify.errors import InvalidInputError

__all__ = ["qr_svg", "qr_svg_data_uri"]


def _svg(payload: str, *, border: int, title: str, css_class: str) -> tuple[Any, Any]:
    """The ``qrcode`` image and its ``<svg>`` element (ElementTree or lxml, whichever
    ``qrcode`` uses), labelled and sized."""
    qr = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=border,
        box_size=10,  # the library's unit: 10 pixels = one viewBox unit per module
        # SvgPathImage with a white background <rect>: one <path> of black modules.
        image_factory=SvgPathFillImage,
    )
    qr.add_data(payload)
    try:
        qr.make(fit=True)
    # qrcode 8.2 raises DataOverflowError, or ValueError ("Invalid version (was 41 ...)")
    # when the fitting runs past version 40.
    except (DataOverflowError, ValueError) as exc:
        raise InvalidInputError(
            "Nội dung quá dài để tạo mã QR. / The text is too long for a QR code.",
            code="qr_too_long",
        ) from exc
    image = qr.make_image()
    svg = image.get_image()
    # Sized by the page's CSS; the viewBox (0 0 n n) keeps the modules square.
    svg.set("width", "100%")
    svg.set("height", "100%")
    svg.set("shape-rendering", "crispEdges")  # no anti-aliased seams between modules
    svg.set("role", "img")
    if css_class:
        svg.set("class", css_class)
    for child in svg:
        child.attrib.pop("id", None)  # "qr-path": two codes on one page would repeat it
    if title:
        svg.set("aria-label", title)
        element = svg.makeelement("title", {})
        element.text = title
        svg.insert(0, element)
    return image, svg


def qr_svg(payload: str, *, border: int = 4, title: str = "", css_class: str = "") -> Markup:
    """``payload`` as an inline SVG QR code (level M, ``border`` modules of quiet zone),
    without an XML declaration: markup to put in a page as is. ``title`` is its accessible
    name (``aria-label`` and ``<title>``); ``css_class`` its ``class``.

    Raises:
        InvalidInputError: code ``qr_too_long`` when the payload does not fit in a QR code
            (more than 2,331 bytes at level M).
    """
    image, _ = _svg(payload, border=border, title=title, css_class=css_class)
    # The serialiser escapes text and attributes (&, <, >, "): the title cannot break out.
    return Markup(image.to_string(encoding="unicode"))  # noqa: S704


def qr_svg_data_uri(payload: str, *, border: int = 4) -> str:
    """``payload`` as the same SVG QR code in a ``data:image/svg+xml`` URI, for an
    ``<img>`` whose ``alt`` names it and whose size the page sets.

    Raises:
        InvalidInputError: code ``qr_too_long`` when the payload does not fit in a QR code.
    """
    image, svg = _svg(payload, border=border, title="", css_class="")
    svg.attrib.pop("role", None)  # the <img> carries the role and the alt text
    text: str = image.to_string(encoding="unicode")
    return "data:image/svg+xml;base64," + base64.b64encode(text.encode("utf-8")).decode("ascii")
