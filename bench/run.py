"""Run every benchmark in bench/, one after the other, and print what each prints.

    .venv/bin/python bench/run.py [--only NAME ...]

Order: bench_signers.py, bench_copy.py, bench_certify.py, then any other bench/bench_*.py
by name. Each runs in its own process with its default arguments (run a bench directly to
pass it arguments). Exits non-zero if any bench failed; the others still run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
FIRST = ("bench_signers.py", "bench_copy.py", "bench_certify.py")


def benches() -> list[Path]:
    found = {p.name: p for p in BENCH_DIR.glob("bench_*.py")}
    ordered = [found.pop(name) for name in FIRST if name in found]
    return ordered + [found[name] for name in sorted(found)]


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the benchmarks in bench/.")
    parser.add_argument(
        "--only", action="append", default=[], help="run only this bench (e.g. bench_certify)"
    )
    args = parser.parse_args()
    wanted = {name.removesuffix(".py") for name in args.only}
    selected = [p for p in benches() if not wanted or p.stem in wanted]
    if not selected:
        print(f"no bench matches {sorted(wanted)}", file=sys.stderr)
        return 2

    failed = []
    started = time.perf_counter()
    for path in selected:
        print(f"=== {path.name} " + "=" * max(0, 70 - len(path.name)), flush=True)
        t0 = time.perf_counter()
        # The bench's output goes straight to ours, as it comes.
        proc = subprocess.run([sys.executable, str(path)], cwd=BENCH_DIR.parent, check=False)
        status = "ok" if proc.returncode == 0 else f"FAILED (exit {proc.returncode})"
        print(f"--- {path.name}: {status} in {time.perf_counter() - t0:.0f} s\n", flush=True)
        if proc.returncode != 0:
            failed.append(path.name)
    print(f"{len(selected)} benches in {time.perf_counter() - started:.0f} s", end="")
    print(f"; failed: {', '.join(failed)}" if failed else "; all ok")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
