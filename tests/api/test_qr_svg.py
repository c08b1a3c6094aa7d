"""QR codes as SVG: the markup, and a real decode (Chromium draws the page, zbar reads it)."""

from __future__ import annotations

import base64
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from markupsafe import Markup

from api.qr_svg import qr_svg, qr_svg_data_uri
from certify.errors import InvalidInputError

CHROMIUM = "/usr/bin/chromium"
SVG = "{http://www.w3.org/2000/svg}"
# The VietQR payload of tests/certify/test_vietqr.py, and a TOTP enrolment URI.
VIETQR = (
    "00020101021238560010A0000007270126000697041501121133666688880208QRIBFTTA"
    "5303704540460005802VN62160812HS4F2A9C01B76304C290"
)
OTPAUTH = "otpauth://totp/certify:hong.nt?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=certify"

needs_renderer = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and shutil.which("zbarimg")), reason="chromium, zbar-tools"
)


def _parse(markup: str) -> ET.Element:
    return ET.fromstring(markup)  # noqa: S314 (our own output)


def test_markup_is_an_inline_labelled_svg() -> None:
    markup = qr_svg(VIETQR, title="Mã QR thanh toán", css_class="qr")
    assert isinstance(markup, Markup)
    assert markup.startswith("<svg ")  # no XML declaration
    svg = _parse(markup)
    assert svg.tag == f"{SVG}svg"
    assert svg.get("role") == "img"
    assert svg.get("aria-label") == "Mã QR thanh toán"
    assert svg.get("class") == "qr"
    assert (svg.get("width"), svg.get("height")) == ("100%", "100%")
    title, rect, path = list(svg)
    assert title.tag == f"{SVG}title"
    assert title.text == "Mã QR thanh toán"
    assert rect.tag == f"{SVG}rect"
    assert rect.get("fill") == "white"
    assert (rect.get("width"), rect.get("height")) == ("100%", "100%")
    assert path.tag == f"{SVG}path"
    assert path.get("fill") == "#000000"
    assert path.get("id") is None  # no id to repeat when a page shows two codes


def test_view_box_is_the_modules_and_the_quiet_zone() -> None:
    # 120 characters at level M need version 5 (37 modules); with 4 modules of quiet zone
    # either side, 45.
    assert _parse(qr_svg(VIETQR)).get("viewBox") == "0 0 45 45"
    assert _parse(qr_svg(VIETQR, border=2)).get("viewBox") == "0 0 41 41"


def test_without_title_there_is_no_label() -> None:
    svg = _parse(qr_svg("x"))
    assert svg.get("aria-label") is None
    assert svg.get("class") is None
    assert [child.tag for child in svg] == [f"{SVG}rect", f"{SVG}path"]


def test_title_is_escaped() -> None:
    markup = qr_svg("x", title='"><script>alert(1)</script>')
    assert "<script>" not in markup
    svg = _parse(markup)
    assert svg.get("aria-label") == '"><script>alert(1)</script>'
    assert svg[0].tag == f"{SVG}title"
    assert svg[0].text == '"><script>alert(1)</script>'


def test_data_uri_holds_the_same_drawing() -> None:
    uri = qr_svg_data_uri(OTPAUTH)
    prefix = "data:image/svg+xml;base64,"
    assert uri.startswith(prefix)
    svg = _parse(base64.b64decode(uri.removeprefix(prefix)).decode("utf-8"))
    inline = _parse(qr_svg(OTPAUTH))
    assert svg.get("role") is None  # the <img> has the role and the alt text
    assert svg.get("viewBox") == inline.get("viewBox")
    assert [c.get("d") for c in svg] == [c.get("d") for c in inline]


def test_too_long_a_payload_is_refused() -> None:
    # Version 40 at level M holds 2,331 bytes (ISO/IEC 18004 table 7).
    assert _parse(qr_svg("x" * 2331)).get("viewBox") == "0 0 185 185"
    with pytest.raises(InvalidInputError) as info:
        qr_svg("x" * 2332)
    assert info.value.code == "qr_too_long"


@needs_renderer
def test_chromium_draws_codes_that_zbar_decodes(tmp_path: Path) -> None:
    # On a near-black page: the code's own white background keeps it readable. One code
    # inline (sized by its box), one as an <img> from the data: URI.
    page = tmp_path / "qr.html"
    page.write_text(
        '<!doctype html><html><head><meta charset="utf-8"></head>'
        '<body style="margin:0;background:#111">'
        '<div style="position:absolute;left:40px;top:40px;width:360px">'
        f"{qr_svg(VIETQR, title='Mã QR thanh toán')}</div>"
        f'<img style="position:absolute;left:480px;top:40px" src="{qr_svg_data_uri(OTPAUTH)}" '
        'width="360" height="360" alt="">'
        "</body></html>",
        encoding="utf-8",
    )
    png = tmp_path / "qr.png"
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--screenshot={png}",
            "--window-size=880,440",
            page.as_uri(),
        ],
        capture_output=True,
        check=True,
        timeout=60,
    )
    out = subprocess.run(
        ["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True, check=True
    )
    assert sorted(out.stdout.splitlines()) == sorted([VIETQR, OTPAUTH])
