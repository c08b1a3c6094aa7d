"""Peak memory of a worker certifying a large scan (issue 13: growth <= 1.2x the scan).

    .venv/bin/python bench/bench_memory.py [--scan-mb 50] [--runs 1] [--before DIR]

A real world for this run (bench/_world.py: a fresh PKI, MinIO, a migrated SQLite register),
a scan of random-noise JPEG pages (A4 at 300 dpi; noise so that JPEG cannot shrink it) of
about ``--scan-mb`` MB, then, in a fresh process per run (``bench_certify.py --child-big``),
a worker: it assembles the service as the application does (``api.services``, with the
validation at issue), certifies a 1-page scan (warm, as a running worker is), resets its
RSS high-water mark (VmHWM, ``/proc/self/clear_refs``) and certifies the big scan, streamed
from its files. Reported: the idle RSS, the peak, and the growth (peak - idle) as a multiple
of the scan's size, with the stage that raised the peak most.

``--before DIR`` also runs the worker on the code in DIR (e.g. ``git worktree add
/tmp/wt-before HEAD`` before a change), on the same world and scan, so that a change is
measured against what it replaces in one session. Exits 1 if the growth misses the target.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _world
from bench.bench_certify import GROWTH_TARGET, STAGES, MiB, big_scan_files

ROOT = Path(__file__).resolve().parent.parent

WARM_PAGE = "big-warm.jpg"


def run_worker(world: _world.World, code: Path, files: list[Path], warm: Path) -> dict[str, Any]:
    """Certify the big scan in a fresh process running the code in ``code`` (its own
    ``bench/bench_certify.py --child-big``, which imports from ``code``)."""
    config = {
        "pki_dir": str(world.pki.directory),
        "base_url": world.base_url,
        "database_url": world.database_url,
        "store": world.store_fields(),
        "files": [str(f) for f in files],
        "warm_page": str(warm),
        "workdir": str(world.workdir(f"big-{code.name}")),
    }
    proc = subprocess.run(
        [sys.executable, str(code / "bench" / "bench_certify.py"), "--child-big"],
        input=json.dumps(config),
        capture_output=True,
        text=True,
        check=False,
        cwd=code,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"worker on {code} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def growth(run: dict[str, Any], scan_mib: float) -> float:
    return float(run["peak_rss_mib"] - run["rss_before_mib"]) / scan_mib


def report(label: str, code: Path, runs: list[dict[str, Any]], scan_mib: float) -> float:
    """Print one code tree's runs; return its median growth (x the scan)."""
    print(f"\n{label}: {code}")
    for i, run in enumerate(runs, start=1):
        how = "VmHWM reset" if run["high_water_reset"] else "ru_maxrss (no reset: overstated)"
        top = max(STAGES, key=lambda s: run["stage_rss_rise_mib"].get(s, 0.0))
        print(
            f"  run {i}: idle {run['rss_before_mib']:.0f} MiB, peak {run['peak_rss_mib']:.0f} "
            f"MiB ({how}), growth {run['peak_rss_mib'] - run['rss_before_mib']:.0f} MiB = "
            f"{growth(run, scan_mib):.2f}x the scan; {run['seconds']:.1f} s; signed copy "
            f"{run['pdf_mib']:.1f} MiB; peak raised most by '{top}' "
            f"(+{run['stage_rss_rise_mib'].get(top, 0.0):.0f} MiB)"
        )
    last = runs[-1]
    print(f"  {'stage':<34}{'s':>7}{'raised the peak by MiB':>24}   (last run)")
    for stage in STAGES:
        seconds = last["stage_seconds"].get(stage, 0.0)
        rise = max(0.0, last["stage_rss_rise_mib"].get(stage, 0.0))
        print(f"  {stage:<34}{seconds:>7.2f}{rise:>24.0f}")
    return statistics.median(growth(run, scan_mib) for run in runs)


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Peak RSS growth of a warm worker certifying a large scan, as a multiple "
        f"of the scan's size (target <= {GROWTH_TARGET}x).",
        epilog="Example: git worktree add /tmp/wt-before HEAD; "
        ".venv/bin/python bench/bench_memory.py --before /tmp/wt-before",
    )
    parser.add_argument("--scan-mb", type=float, default=50.0, help="scan size, MB (default 50)")
    parser.add_argument("--runs", type=int, default=1, help="fresh worker processes per tree")
    parser.add_argument(
        "--before", type=Path, help="also measure the code in this directory (a git worktree)"
    )
    args = parser.parse_args()
    _world.quiet_logs()
    started = time.perf_counter()
    trees = [("after (this tree)", ROOT)]
    if args.before is not None:
        trees.insert(0, ("before", args.before.resolve()))
    with (
        tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp,
        _world.build_world(Path(tmp)) as world,
    ):
        files = big_scan_files(world.root / "big", int(args.scan_mb * 1_000_000))
        scan_mib = sum(f.stat().st_size for f in files) / MiB
        warm = world.root / WARM_PAGE
        warm.write_bytes(_world.text_page_jpeg("1"))
        print(
            f"scan: {len(files)} noise JPEG pages (A4, 300 dpi), {scan_mib * MiB / 1e6:.1f} MB "
            f"= {scan_mib:.1f} MiB",
            flush=True,
        )
        results = {}
        for label, code in trees:
            runs = [run_worker(world, code, files, warm) for _ in range(args.runs)]
            results[label] = report(label, code, runs, scan_mib)
    print("\nRESULT:")
    for label, median in results.items():
        verdict = "meets" if median <= GROWTH_TARGET else "MISSES"
        print(
            f"  {label}: peak RSS growth over the idle worker {median:.2f}x the "
            f"{scan_mib * MiB / 1e6:.0f} MB scan ({verdict} the <= {GROWTH_TARGET}x target)"
        )
    print(f"total bench time {time.perf_counter() - started:.0f} s")
    return 0 if results["after (this tree)"] <= GROWTH_TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
