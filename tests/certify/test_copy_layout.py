"""Page sizes for scans, and the verification link's line breaks."""

from __future__ import annotations

import pytest

from certify.copy import CopyBuilder
from certify.copy_layout import FOOTER_BAND, PAPERS, place_scan
from certify.pdf_text import wrap_url

A4_W, A4_H = PAPERS["A4"]
MM = 72 / 25.4


@pytest.mark.parametrize(
    ("scan", "sheet"),
    [
        ((A4_W, A4_H), (A4_W, A4_H)),  # a full A4 bed
        ((210.5 * MM, 298 * MM), (A4_W, A4_H)),  # a scanner's A4, a little off
        ((A4_H, A4_W), (A4_H, A4_W)),  # landscape A4
        ((612.0, 792.0), (612.0, 792.0)),  # US Letter stays Letter
        ((612.0, 1008.0), (612.0, 1008.0)),  # US Legal
        (PAPERS["A3"], PAPERS["A3"]),
        ((148 * MM, 210 * MM), (A4_W, A4_H)),  # A5 goes on A4 at true size
        ((A4_W, A4_H / 2), (A4_W, A4_H)),  # half a sheet, landscape-shaped: A4 portrait
        ((85.6 * MM, 54 * MM), (A4_W, A4_H)),  # an ID card
        ((250 * MM, 380 * MM), PAPERS["A3"]),  # between A4 and A3
    ],
)
def test_scans_go_on_the_sheet_of_the_original(
    scan: tuple[float, float], sheet: tuple[float, float]
) -> None:
    place = place_scan(*scan)
    assert (place.page_w, place.page_h) == pytest.approx(sheet)
    w, h = scan[0] * place.scale, scan[1] * place.scale
    assert 0.94 <= place.scale <= 1.0
    assert place.x == pytest.approx((place.page_w - w) / 2)  # centred
    assert place.y + h == pytest.approx(place.page_h)  # at the top
    assert place.y >= FOOTER_BAND - 1e-9  # the footer band is free
    assert place.free_below == pytest.approx(place.y - FOOTER_BAND)


def test_a_scan_smaller_than_its_sheet_keeps_its_true_size() -> None:
    assert place_scan(148 * MM, 210 * MM).scale == 1.0
    assert place_scan(A4_W, A4_H).scale == pytest.approx((A4_H - FOOTER_BAND) / A4_H)


def test_a_scan_larger_than_a3_keeps_its_size_and_gains_the_band() -> None:
    place = place_scan(2000.0, 1500.0)
    assert (place.page_w, place.page_h, place.scale) == (2000.0, 1500.0 + FOOTER_BAND, 1.0)
    assert (place.x, place.y) == (0.0, FOOTER_BAND)


URL = "https://chungthuc.dongnai.gov.vn/v/JXsto4OIh2H3zfdLwXo_5SUUrcGSYx40"


@pytest.mark.parametrize("width", [60.0, 120.0, 200.0, 400.0])
def test_the_link_breaks_only_after_a_slash(builder: CopyBuilder, width: float) -> None:
    font = builder.font
    lines = wrap_url(font, URL, 9.0, width)
    assert "".join(lines) == URL
    for line in lines[:-1]:
        assert line.endswith("/")
    assert lines[-1].endswith("/JXsto4OIh2H3zfdLwXo_5SUUrcGSYx40") or (
        lines[-1] == "JXsto4OIh2H3zfdLwXo_5SUUrcGSYx40"
    )
    for line in lines:  # a line is wider than asked only when it is one piece of the link
        assert font.width(line, 9.0) <= width or "/" not in line.rstrip("/")
    assert len(wrap_url(font, URL, 9.0, 1000.0)) == 1
