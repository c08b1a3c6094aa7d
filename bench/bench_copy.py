"""Time building copies: font prepared once (CopyBuilder reused) vs. rebuilt per document.

    .venv/bin/python bench/bench_copy.py [--runs N]

Prints ms per document for 1-page and 10-page copies, both ways, and the ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from certify.copy import CertificationText, CopyBuilder
from certify.intake import ScanLimits, ScanPage, read_scan

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
URL = "https://chungthuc.example.gov.vn/v/7Qk2mZ9pXc4RtB1nLs8W"
TEXT = CertificationText(
    number=1234,
    book="01/2026",
    date=dt.date(2026, 3, 5),
    certifier_name="Nguyễn Thị Hồng Nhung",
    certifier_title="Phó Chủ tịch Ủy ban nhân dân phường",
    authority_name="Ủy ban nhân dân phường Tân Phú",
    document_name="Bằng tốt nghiệp đại học",
)


def _scan_pages(count: int, workdir: Path) -> list[ScanPage]:
    """A4 pages at 200 dpi, JPEG, as a scanner would send them."""
    pages = []
    for i in range(count):
        im = Image.new("RGB", (1654, 2339), "white")
        d = ImageDraw.Draw(im)
        for k in range(30):
            d.rectangle((150, 150 + k * 70, 1400 - (k * 53) % 400, 180 + k * 70), fill=(30, 30, 30))
        buf = io.BytesIO()
        im.save(buf, format="JPEG", quality=85, dpi=(200, 200))
        [page] = read_scan(io.BytesIO(buf.getvalue()), ScanLimits(), workdir / f"p{i}").pages
        pages.append(ScanPage(**{**page.__dict__, "index": i}))
    return pages


def _time(fn: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20, help="documents per measurement")
    parser.add_argument("--rebuild-runs", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        shared = CopyBuilder(FONT, bold_font_path=BOLD)
        startup = (time.perf_counter() - t0) * 1000
        print(f"CopyBuilder start-up (subset + rescale 2 fonts): {startup:.0f} ms")
        for count in (1, 10):
            pages = _scan_pages(count, work / str(count))
            shared.build(pages, TEXT, URL, title="warm-up")
            once = _time(lambda p=pages: shared.build(p, TEXT, URL, title="Bản sao"), args.runs)
            rebuilt = _time(
                lambda p=pages: CopyBuilder(FONT, bold_font_path=BOLD).build(
                    p, TEXT, URL, title="Bản sao"
                ),
                args.rebuild_runs,
            )
            print(
                f"{count:>2}-page copy: font prepared once {once:7.1f} ms/doc | "
                f"builder rebuilt per doc {rebuilt:7.1f} ms/doc | ratio {rebuilt / once:5.1f}x"
            )


if __name__ == "__main__":
    main()
