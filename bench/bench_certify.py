"""End-to-end certification throughput, stage costs, memory, and a pyHanko CLI baseline.

    .venv/bin/python bench/bench_certify.py [--one-page 20] [--ten-page 5] [--baseline 5] ...

Everything is real and built in a temp dir for this run: a fresh provincial PKI (one
authority, one certifier; its /pki/* endpoints served on a loopback port for the CLI
baseline), a MinIO server (storage.minio_server.MinioServer, stopped at the end), a migrated
SQLite register, and the CertificationService assembled as the application does.

Measured (see bench/README.md for how to read it):

1. ``certify_scans`` end to end (intake → scan pages to MinIO → number → build → officer
   signature → seal + document timestamp (B-LTA) → staging → register commit → promote to
   the Object Lock bucket) for a 1-page and a 10-page scan (JPEG, A4 at 200 dpi):
   sequentially and with 2 and 4 worker threads on one authority; then, in a separate loop,
   the same calls with every collaborator wrapped in a timing proxy, for ms per stage.
2. The baseline: ``python -m pyhanko sign addsig ... pemder`` (pyhanko-cli) signing the same
   unsigned copy in a fresh process per signature: the officer's certification signature,
   then the seal with a document timestamp; both with an RFC 3161 timestamp and revocation
   info fetched over HTTP from the same PKI. Compared with our signer on the same PDF and
   with our whole certification.
3. A ~50 MB scan (random-noise JPEG pages, A4 at 300 dpi) certified in a subprocess that
   reports its own peak RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import importlib.util
import io
import json
import logging
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives import serialization

from api.services import issue_validator
from bench import _world
from certify.copy import CertificationText
from certify.intake import ScanLimits, read_scan
from certify.ports import VN_TZ, SystemClock
from certify.signing import CopySigner, SignatureText, stamp_style
from keys.signers import SignerSource

LIMITS = ScanLimits()
MiB = 1024 * 1024
CLI_PASSPHRASE = b"bench-only cli passphrase"
# Issue 13: a large scan raises a warm worker's peak RSS by at most this many times its size.
GROWTH_TARGET = 1.2


def max_rss_mib() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _status_mib(field_name: str) -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def current_rss_mib() -> float:
    return _status_mib("VmRSS") or float("nan")


def high_water_mib() -> float:
    """The peak RSS since the last :func:`reset_high_water` (VmHWM), else ru_maxrss."""
    return _status_mib("VmHWM") or max_rss_mib()


def reset_high_water() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0: "5" > /proc/self/clear_refs), so that
    a peak measured afterwards belongs to what runs afterwards, not to start-up (subsetting
    the fonts peaks well above the steady state). ru_maxrss cannot be reset."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


# --- end-to-end runs ----------------------------------------------------------------------------


@dataclass
class Run:
    name: str
    docs: int
    wall: float
    latencies: list[float]
    peak_rss: float

    @property
    def rate(self) -> float:
        return self.docs / self.wall

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies) * 1000


def certify_once(world: _world.World, pages: Sequence[bytes], tag: str) -> float:
    t0 = time.perf_counter()
    world.service.certify_scans(
        _world.order(f"Giấy tờ {tag}"),
        [io.BytesIO(p) for p in pages],
        limits=LIMITS,
        workdir=world.workdir(tag),
    )
    return time.perf_counter() - t0


def run_certify(
    world: _world.World, name: str, pages: Sequence[bytes], docs: int, threads: int
) -> Run:
    def one(i: int) -> float:
        return certify_once(world, pages, f"{name}-{i}")

    t0 = time.perf_counter()
    if threads == 1:
        latencies = [one(i) for i in range(docs)]
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            latencies = list(pool.map(one, range(docs)))
    wall = time.perf_counter() - t0
    return Run(name, docs, wall, latencies, max_rss_mib())


# --- stages, through timing proxies around the service's collaborators --------------------------

STAGES = (
    "intake (read_scan)",
    "store scan pages",
    "build copy",
    "sign: checks + revocation data",
    "sign: officer (+TS)",
    "sign: seal (+TS)",
    "sign: DSS + document TS",
    "validate at issue",
    "store signed copy",
    "register (lookups, tx, commit)",
    "other",
)


@dataclass
class Stopwatch:
    """Seconds per stage, and how much each stage raised the process's peak RSS."""

    totals: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    rss_rise: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    first_put: float | None = None
    first_put_max_rss: float = 0.0

    def reset(self) -> None:
        self.totals.clear()
        self.rss_rise.clear()
        self.first_put = None

    def add(self, stage: str, seconds: float, rss_rise: float = 0.0) -> None:
        self.totals[stage] += seconds
        self.rss_rise[stage] += rss_rise

    @contextmanager
    def time(self, stage: str) -> Iterator[None]:
        t0, r0 = time.perf_counter(), high_water_mib()
        try:
            yield
        finally:
            self.add(stage, time.perf_counter() - t0, high_water_mib() - r0)

    def close_run(self, t0: float, max_rss0: float) -> float:
        """Attribute what the proxies did not see: intake (from the call until the first
        upload) and the rest ("other"). Returns the run's total seconds."""
        total = time.perf_counter() - t0
        rss_total = high_water_mib() - max_rss0
        assert self.first_put is not None
        self.add("intake (read_scan)", self.first_put - t0, self.first_put_max_rss - max_rss0)
        self.add(
            "other",
            total - sum(self.totals.values()),
            rss_total - sum(self.rss_rise.values()),
        )
        return total


class _Proxy:
    def __init__(self, inner: Any, sw: Stopwatch) -> None:
        self._inner = inner
        self._sw = sw

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class TimedStore(_Proxy):
    def put_stream(self, bucket: str, key: str, stream: Any, **kw: Any) -> Any:
        if self._sw.first_put is None:
            self._sw.first_put = time.perf_counter()
            self._sw.first_put_max_rss = high_water_mib()
        stage = "store signed copy" if key.startswith("staging/") else "store scan pages"
        with self._sw.time(stage):
            return self._inner.put_stream(bucket, key, stream, **kw)

    def copy(self, *args: Any) -> Any:
        with self._sw.time("store signed copy"):
            return self._inner.copy(*args)

    def remove(self, *args: Any, **kw: Any) -> Any:
        with self._sw.time("store signed copy"):
            return self._inner.remove(*args, **kw)


class TimedTransaction(_Proxy):
    def next_number(self, *args: Any) -> Any:
        with self._sw.time("register (lookups, tx, commit)"):
            return self._inner.next_number(*args)

    def add_document(self, *args: Any) -> Any:
        with self._sw.time("register (lookups, tx, commit)"):
            return self._inner.add_document(*args)

    def append_audit(self, *args: Any) -> Any:
        with self._sw.time("register (lookups, tx, commit)"):
            return self._inner.append_audit(*args)


class TimedRegister(_Proxy):
    def get_authority(self, code: str) -> Any:
        with self._sw.time("register (lookups, tx, commit)"):
            return self._inner.get_authority(code)

    def get_officer(self, username: str) -> Any:
        with self._sw.time("register (lookups, tx, commit)"):
            return self._inner.get_officer(username)

    def set_copy_version(self, *args: Any) -> Any:
        with self._sw.time("register (lookups, tx, commit)"):
            return self._inner.set_copy_version(*args)

    @contextmanager
    def transaction(self) -> Iterator[TimedTransaction]:
        stage = "register (lookups, tx, commit)"
        t0 = time.perf_counter()
        with self._inner.transaction() as tx:
            self._sw.add(stage, time.perf_counter() - t0)
            yield TimedTransaction(tx, self._sw)
            t0 = time.perf_counter()
        self._sw.add(stage, time.perf_counter() - t0)  # the COMMIT


class TimedBuilder(_Proxy):
    def build(self, *args: Any, **kw: Any) -> bytes:
        with self._sw.time("build copy"):
            result: bytes = self._inner.build(*args, **kw)
            return result


class TimedSigner(_Proxy):
    """Times CopySigner.sign; splits it into the officer's and the seal's signature by
    wrapping the instance's per-signature step (a private method: this is a bench, and the
    split is reported only when that step exists). Wraps ``inner`` for good: make one per
    CopySigner and ``reset()`` the stopwatch between runs."""

    OFFICER = "sign: officer (+TS)"
    SEAL = "sign: seal (+TS)"
    ARCHIVE = "sign: DSS + document TS"

    def __init__(self, inner: CopySigner, sw: Stopwatch) -> None:
        super().__init__(inner, sw)
        self.split = callable(getattr(inner, "_sign_once", None))
        if self.split:
            once = inner._sign_once
            calls = [0]

            def timed_once(*args: Any, **kw: Any) -> Any:
                stage = (self.OFFICER, self.SEAL)[calls[0] % 2]
                calls[0] += 1
                with self._sw.time(stage):
                    return once(*args, **kw)

            inner._sign_once = timed_once  # type: ignore[method-assign]
        archive = getattr(inner, "_archive", None)
        if callable(archive):

            def timed_archive(*args: Any, **kw: Any) -> Any:
                with self._sw.time(self.ARCHIVE):
                    return archive(*args, **kw)

            inner._archive = timed_archive  # type: ignore[method-assign]

    def sign(self, *args: Any, **kw: Any) -> bytes:
        return self._timed(self._inner.sign, *args, **kw)  # type: ignore[no-any-return]

    def sign_in_place(self, *args: Any, **kw: Any) -> None:
        self._timed(self._inner.sign_in_place, *args, **kw)

    def _timed(self, method: Any, *args: Any, **kw: Any) -> Any:
        sw = self._sw
        parts = (self.OFFICER, self.SEAL, self.ARCHIVE)
        before = sum(sw.totals[p] for p in parts), sum(sw.rss_rise[p] for p in parts)
        t0, r0 = time.perf_counter(), high_water_mib()
        result = method(*args, **kw)
        elapsed, rise = time.perf_counter() - t0, high_water_mib() - r0
        after = sum(sw.totals[p] for p in parts), sum(sw.rss_rise[p] for p in parts)
        if self.split:
            sw.add(
                "sign: checks + revocation data",
                elapsed - (after[0] - before[0]),
                rise - (after[1] - before[1]),
            )
        else:
            sw.add(self.OFFICER, elapsed, rise)  # both signatures, unsplit
        return result


def timed_service(
    world_parts: tuple[Any, Any, Any, CopySigner, str], signers: SignerSource, sw: Stopwatch
) -> Any:
    """The service with every collaborator wrapped in a timing proxy sharing ``sw``; each
    copy is validated at issue, as the application does."""
    store, register, builder, signer, base_url = world_parts
    validator = issue_validator(signers, register, store, SystemClock())

    def timed_validator(pdf: BinaryIO, **kw: Any) -> str:
        with sw.time("validate at issue"):
            return validator(pdf, **kw)

    return _world.make_service(
        TimedStore(store, sw),  # type: ignore[arg-type]
        TimedRegister(register, sw),  # type: ignore[arg-type]
        TimedBuilder(builder, sw),  # type: ignore[arg-type]
        TimedSigner(signer, sw),  # type: ignore[arg-type]
        base_url,
        timed_validator,
        signers=signers,
    )


def stage_breakdown(
    world: _world.World, pages: Sequence[bytes], runs: int, tag: str
) -> dict[str, Any]:
    """Mean seconds per stage over ``runs`` certifications through timing proxies."""
    signer = CopySigner(world.signers, stamp_style=stamp_style(world.builder.font))
    sw = Stopwatch()
    service = timed_service(
        (world.store, world.register, world.builder, signer, world.base_url), world.signers, sw
    )
    sums: dict[str, float] = defaultdict(float)
    totals = []
    for i in range(runs + 1):  # the first run warms this signer up and is not counted
        sw.reset()
        t0, r0 = time.perf_counter(), high_water_mib()
        service.certify_scans(
            _world.order(f"Giấy tờ {tag}-{i}"),
            [io.BytesIO(p) for p in pages],
            limits=LIMITS,
            workdir=world.workdir(f"stages-{tag}-{i}"),
        )
        total = sw.close_run(t0, r0)
        if i == 0:
            continue
        totals.append(total)
        for stage, seconds in sw.totals.items():
            sums[stage] += seconds
    return {
        "total": sum(totals) / runs,
        "stages": {s: sums.get(s, 0.0) / runs for s in STAGES},
    }


# --- the pyHanko CLI baseline -------------------------------------------------------------------


def unsigned_copy(world: _world.World, page: bytes) -> bytes:
    """The unsigned copy our service would sign for this 1-page scan (number 9999)."""
    result = read_scan(io.BytesIO(page), LIMITS, world.workdir("baseline-intake"))
    now = dt.datetime.now(dt.UTC)
    text = CertificationText(
        number=9999,
        book=f"01/{now.year}",
        register_code="SCT/BS",
        date=now.astimezone(VN_TZ).date(),
        certifier_name=_world.CERTIFIER.full_name,
        certifier_title=_world.CERTIFIER.title,
        authority_name=_world.AUTHORITY.name,
        document_name="Giấy khai sinh",
        copy_count=1,
    )
    try:
        return world.builder.build(
            result.pages,
            text,
            f"{world.base_url}/v/baseline",
            title="Bản sao chứng thực: Giấy khai sinh",
            created_at=now,
        )
    finally:
        result.cleanup()


def write_cli_material(world: _world.World, directory: Path) -> dict[str, list[str]]:
    """Key (PEM PKCS#8, passphrase-encrypted), certificate and chain files for the CLI.

    Written to the bench's temp dir only, and removed with it."""
    directory.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    passfile = directory / "passphrase"
    passfile.write_bytes(CLI_PASSPHRASE)
    root = directory / "root.pem"
    root.write_bytes(b"".join(c.public_bytes(pem) for c in world.pki.trust_roots()))
    out: dict[str, list[str]] = {}
    holders = (("officer", _world.CERTIFIER.username), ("authority", _world.AUTHORITY.code))
    for kind, holder in holders:
        issued = world.pki.find(kind, holder)
        key = world.pki.private_key(issued.serial)
        key_file = directory / f"{kind}.key.pem"
        key_file.write_bytes(
            key.private_bytes(
                pem,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(CLI_PASSPHRASE),
            )
        )
        key_file.chmod(0o600)
        cert_file = directory / f"{kind}.crt.pem"
        cert_file.write_bytes(issued.certificate.public_bytes(pem))
        chain_file = directory / f"{kind}.chain.pem"
        chain_file.write_bytes(b"".join(c.public_bytes(pem) for c in issued.chain))
        out[kind] = [
            "pemder",
            "--key",
            str(key_file),
            "--cert",
            str(cert_file),
            "--chain",
            str(chain_file),
            "--passfile",
            str(passfile),
        ]
    common = [
        "--use-pades",
        "--prefer-pss",
        "--timestamp-url",
        f"{world.base_url}/pki/tsa",
        "--with-validation-info",
        "--trust",
        str(root),
        "--trust-replace",
    ]
    out["officer"] = ["--field", "officer", "--certify", *common, *out["officer"]]
    out["authority"] = ["--field", "seal", "--use-pades-lta", *common, *out["authority"]]
    return out


def cli_sign(args: list[str], infile: Path, outfile: Path) -> None:
    cmd = [sys.executable, "-m", "pyhanko", "sign", "addsig", *args, str(infile), str(outfile)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"pyhanko CLI failed ({proc.returncode}):\n{proc.stderr[-2000:]}")


def cli_startup_seconds(tries: int = 2) -> float:
    """How long one CLI process takes to start Python, import pyHanko and exit (--help):
    the part of each baseline signature that is pure process start-up."""
    best = float("inf")
    for _ in range(tries):
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pyhanko", "sign", "addsig", "pemder", "--help"],
            capture_output=True,
            check=True,
        )
        best = min(best, time.perf_counter() - t0)
    return best


def run_baseline(world: _world.World, pdf: bytes, docs: int) -> tuple[Run, str]:
    directory = world.root / "baseline"
    material = write_cli_material(world, directory)
    src = directory / "unsigned.pdf"
    src.write_bytes(pdf)
    latencies = []
    t0 = time.perf_counter()
    for i in range(docs + 1):  # the first document warms the OS caches and is not counted
        if i == 1:
            t0 = time.perf_counter()
        t = time.perf_counter()
        mid, out = directory / f"{i}-officer.pdf", directory / f"{i}-signed.pdf"
        cli_sign(material["officer"], src, mid)
        cli_sign(material["authority"], mid, out)
        if i:
            latencies.append(time.perf_counter() - t)
    wall = time.perf_counter() - t0
    return Run("baseline", docs, wall, latencies, max_rss_mib()), describe(out.read_bytes())


def describe(pdf: bytes) -> str:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    reader = PdfFileReader(io.BytesIO(pdf))
    sigs = [s.field_name for s in reader.embedded_regular_signatures]
    stamps = len(reader.embedded_timestamp_signatures)
    dss = DocumentSecurityStore.read_dss(reader)
    return (
        f"signatures {sigs}, {stamps} document timestamp(s), "
        f"DSS: {len(dss.ocsps)} OCSP, {len(dss.crls)} CRL, {len(pdf) / 1024:.0f} KiB"
    )


def run_our_signer(world: _world.World, pdf: bytes, docs: int) -> tuple[Run, str]:
    text = SignatureText(
        certifier_name=_world.CERTIFIER.full_name,
        certifier_title=_world.CERTIFIER.title,
        authority_name=_world.AUTHORITY.name,
        location=f"{_world.AUTHORITY.name}, {_world.AUTHORITY.province_name}",
    )

    def sign() -> bytes:
        return world.copy_signer.sign(
            pdf,
            officer_username=_world.CERTIFIER.username,
            authority_code=_world.AUTHORITY.code,
            text=text,
        )

    signed = sign()  # warm-up
    latencies = []
    t0 = time.perf_counter()
    for _ in range(docs):
        t = time.perf_counter()
        signed = sign()
        latencies.append(time.perf_counter() - t)
    wall = time.perf_counter() - t0
    return Run("our signer", docs, wall, latencies, max_rss_mib()), describe(signed)


# --- the 50 MB scan, in a subprocess ------------------------------------------------------------


def big_scan_files(directory: Path, target_bytes: int) -> list[Path]:
    """Random-noise JPEG pages (A4 at 300 dpi, ~7.8 MB each) adding up to ~target_bytes."""
    directory.mkdir(parents=True, exist_ok=True)
    full = (2480, 3508)
    files: list[Path] = []
    total = 0
    per_page = None
    while total < target_bytes:
        size = full
        if per_page is not None and target_bytes - total < per_page:
            # The last page: only as tall as needed to reach the target.
            height = max(400, int(full[1] * (target_bytes - total) / per_page))
            size = (full[0], height)
        data = _world.noise_page_jpeg(size)
        if per_page is None:
            per_page = len(data)
        path = directory / f"page-{len(files) + 1}.jpg"
        path.write_bytes(data)
        files.append(path)
        total += len(data)
    return files


def run_big_child(world: _world.World, files: list[Path], warm_page: Path) -> dict[str, Any]:
    config = {
        "pki_dir": str(world.pki.directory),
        "base_url": world.base_url,
        "database_url": world.database_url,
        "store": world.store_fields(),
        "files": [str(f) for f in files],
        "warm_page": str(warm_page),
        "workdir": str(world.workdir("big")),
    }
    proc = subprocess.run(
        [sys.executable, __file__, "--child-big"],
        input=json.dumps(config),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"50 MB child failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def child_big() -> None:
    """In a fresh process: assemble the service on the parent's PKI, MinIO and database,
    certify one 1-page scan (warm-up, like a running server), then the big scan, streamed
    from its files. Prints one JSON line with this process's memory figures."""
    from certify.copy import CopyBuilder
    from keys.ca import ProvincialPKI
    from storage.database import make_engine
    from storage.objects import MinioObjectStore, ObjectStoreConfig
    from storage.sql_register import SqlRegister

    _world.quiet_logs()
    config = json.loads(sys.stdin.read())
    pki = ProvincialPKI.open(
        Path(config["pki_dir"]), passphrase=_world.PASSPHRASE, base_url=config["base_url"]
    )
    builder = CopyBuilder(_world.DEJAVU, bold_font_path=_world.DEJAVU_BOLD)
    signers = SignerSource(pki)
    signer = CopySigner(signers, stamp_style=stamp_style(builder.font))
    store = MinioObjectStore(ObjectStoreConfig(**config["store"]))
    engine = make_engine(config["database_url"])
    sw = Stopwatch()
    parts = (store, SqlRegister(engine), builder, signer, config["base_url"])
    service = timed_service(parts, signers, sw)
    workdir = Path(config["workdir"])

    with open(config["warm_page"], "rb") as fh:
        service.certify_scans(_world.order("warm-up"), [fh], limits=LIMITS, workdir=workdir)
    sw.reset()
    startup_max = max_rss_mib()
    reset = reset_high_water()
    rss_before = current_rss_mib()
    hwm_before = high_water_mib()
    handles = [open(f, "rb") for f in config["files"]]  # noqa: SIM115 - closed below
    try:
        t0 = time.perf_counter()
        issued, _ = service.certify_scans(
            _world.order("Hồ sơ 50 MB"), handles, limits=LIMITS, workdir=workdir
        )
        seconds = sw.close_run(t0, hwm_before)
    finally:
        for fh in handles:
            fh.close()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rss_before_mib": rss_before,
                "startup_max_rss_mib": startup_max,
                "high_water_reset": reset,
                "peak_rss_mib": high_water_mib(),
                "process_max_rss_mib": max_rss_mib(),
                "pdf_mib": issued.entry.copy_size / MiB,
                "pages": issued.entry.pages,
                "stage_seconds": dict(sw.totals),
                "stage_rss_rise_mib": dict(sw.rss_rise),
            }
        )
    )
    engine.dispose()


# --- main ---------------------------------------------------------------------------------------


def cli_available() -> bool:
    return importlib.util.find_spec("pyhanko.__main__") is not None


@contextmanager
def phase(label: str) -> Iterator[None]:
    """Print how long a phase of the bench took (progress while it runs)."""
    t0 = time.perf_counter()
    yield
    print(f"  [{time.perf_counter() - t0:6.1f} s] {label}", flush=True)


@dataclass
class Results:
    runs: list[Run] = field(default_factory=list)
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)
    ours_sign: Run | None = None
    ours_desc: str = ""
    baseline: Run | None = None
    base_desc: str = ""
    cli_startup: float = 0.0
    big: dict[str, Any] | None = None


def measure(world: _world.World, args: argparse.Namespace) -> Results:
    res = Results()
    thread_counts = [int(n) for n in args.threads.split(",") if n.strip()]
    one_page = [_world.text_page_jpeg("1")]
    ten_pages = [_world.text_page_jpeg(str(i + 1)) for i in range(10)]
    print(
        f"scans: 1 page {len(one_page[0]) / 1024:.0f} KiB; 10 pages "
        f"{sum(map(len, ten_pages)) / 1024:.0f} KiB (JPEG, A4 at 200 dpi)",
        flush=True,
    )
    with phase("warm-up (one 1-page and one 10-page copy)"):
        certify_once(world, one_page, "warm-1")
        certify_once(world, ten_pages, "warm-10")
    sizes = (
        ("1-page", one_page, args.one_page, args.threaded_one_page),
        ("10-page", ten_pages, args.ten_page, args.threaded_ten_page),
    )
    for label, pages, seq_docs, thr_docs in sizes:
        with phase(f"{label} sequential"):
            res.runs.append(run_certify(world, f"{label} sequential", pages, seq_docs, 1))
        for n in thread_counts:
            with phase(f"{label} {n} threads"):
                res.runs.append(run_certify(world, f"{label} {n} threads", pages, thr_docs, n))
    for label, pages, _, _ in sizes:
        with phase(f"stages, {label}"):
            res.stages[label] = stage_breakdown(world, pages, args.stage_runs, label)

    pdf = unsigned_copy(world, one_page[0])
    with phase("our signer on the baseline's PDF"):
        res.ours_sign, res.ours_desc = run_our_signer(world, pdf, args.sign_only)
    if cli_available():
        with phase("baseline: pyHanko CLI"):
            res.baseline, res.base_desc = run_baseline(world, pdf, args.baseline)
            res.cli_startup = cli_startup_seconds()

    if not args.no_big:
        with phase("big scan: generate noise JPEGs"):
            files = big_scan_files(world.root / "big", int(args.big_mb * 1_000_000))
        warm = world.root / "big-warm.jpg"
        warm.write_bytes(one_page[0])
        with phase("big scan: certify in a subprocess"):
            res.big = run_big_child(world, files, warm)
        res.big["scan_mib"] = sum(f.stat().st_size for f in files) / MiB
        res.big["files"] = len(files)
    return res


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--one-page", type=int, default=20, help="1-page copies, sequential")
    parser.add_argument("--ten-page", type=int, default=5, help="10-page copies, sequential")
    parser.add_argument("--threads", default="2,4", help="worker thread counts to measure")
    parser.add_argument("--threaded-one-page", type=int, default=16, help="1-page, per N")
    parser.add_argument("--threaded-ten-page", type=int, default=8, help="10-page, per N")
    parser.add_argument("--stage-runs", type=int, default=5, help="timed-proxy runs per size")
    parser.add_argument("--baseline", type=int, default=5, help="documents via the pyHanko CLI")
    parser.add_argument("--sign-only", type=int, default=10, help="the same PDF, our signer")
    parser.add_argument("--big-mb", type=float, default=50.0, help="size of the big scan, MB")
    parser.add_argument("--no-big", action="store_true", help="skip the big-scan subprocess")
    parser.add_argument("--child-big", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_big:
        child_big()
        return

    _world.quiet_logs()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    started = time.perf_counter()
    print(
        f"bench_certify: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"pyHanko {importlib.metadata.version('pyhanko')}, RSA-3072 PSS keys, "
        "SQLite register, local MinIO",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="bench-certify-") as tmp:
        t0 = time.perf_counter()
        with _world.build_world(Path(tmp)) as world:
            print(f"  [{time.perf_counter() - t0:6.1f} s] world: PKI + MinIO + SQLite + service")
            res = measure(world, args)
    report(res)
    print(f"total bench time {time.perf_counter() - started:.0f} s")


def report(res: Results) -> None:
    runs, stages, baseline, big = res.runs, res.stages, res.baseline, res.big
    ours_sign = res.ours_sign
    assert ours_sign is not None
    print()
    print("End to end: CertificationService.certify_scans, one authority")
    print(
        f"{'case':<24}{'docs':>5}{'wall s':>8}{'copies/s':>10}{'median ms':>11}{'RSS peak MiB':>14}"
    )
    for r in runs:
        print(
            f"{r.name:<24}{r.docs:>5}{r.wall:>8.2f}{r.rate:>10.2f}{r.median_ms:>11.0f}"
            f"{r.peak_rss:>14.0f}"
        )
    print("  median ms = per-copy latency (threads: includes waiting for the register lock)")
    print("  RSS peak = ru_maxrss of the bench process so far (MinIO is a separate process)")

    print()
    print("Stages: mean ms per copy (timing proxies around the service's collaborators)")
    print(f"{'stage':<34}{'1-page ms':>10}{'%':>5}{'10-page ms':>12}{'%':>5}")
    one, ten = stages["1-page"], stages["10-page"]
    for stage in STAGES:
        a, b = one["stages"][stage], ten["stages"][stage]
        print(
            f"{stage:<34}{a * 1000:>10.1f}{a / one['total'] * 100:>5.0f}"
            f"{b * 1000:>12.1f}{b / ten['total'] * 100:>5.0f}"
        )
    print(f"{'total':<34}{one['total'] * 1000:>10.1f}{100:>5}{ten['total'] * 1000:>12.1f}{100:>5}")

    print()
    print("Signing only, the same unsigned 1-page copy")
    print(f"{'signer':<44}{'docs':>5}{'copies/s':>10}{'median ms':>11}")
    print(
        f"{'ours: CopySigner.sign, in process':<44}{ours_sign.docs:>5}"
        f"{ours_sign.rate:>10.2f}{ours_sign.median_ms:>11.0f}"
    )
    print(f"  output: {res.ours_desc}")
    if baseline is not None:
        print(
            f"{'baseline: pyhanko CLI, 2 processes per copy':<44}{baseline.docs:>5}"
            f"{baseline.rate:>10.2f}{baseline.median_ms:>11.0f}"
        )
        print(f"  output: {res.base_desc}")
        print(
            f"  of which process start-up + imports (--help, best of 2): "
            f"{res.cli_startup * 1000:.0f} ms x 2 processes per copy"
        )
    else:
        print("baseline: pyhanko CLI not installed (pip install pyhanko-cli): skipped")

    if big is not None:
        print()
        print(
            f"Big scan: {big['files']} random-noise JPEG pages (A4, 300 dpi), "
            f"{big['scan_mib'] * MiB / 1e6:.1f} MB = {big['scan_mib']:.1f} MiB, "
            "certified in its own process"
        )
        print(f"  time {big['seconds']:.1f} s, signed copy {big['pdf_mib']:.1f} MiB")
        peak, before, scan = big["peak_rss_mib"], big["rss_before_mib"], big["scan_mib"]
        how = "VmHWM, reset just before" if big["high_water_reset"] else "ru_maxrss"
        print(
            f"  child ru_maxrss over its whole life {big['process_max_rss_mib']:.0f} MiB "
            f"(start-up and warm-up alone: {big['startup_max_rss_mib']:.0f} MiB)"
        )
        print(f"  RSS before the big scan {before:.0f} MiB; peak during it ({how}) {peak:.0f} MiB")
        print(
            f"  peak / scan = {peak / scan:.2f}x; growth over the idle process "
            f"{peak - before:.0f} MiB = {(peak - before) / scan:.2f}x the scan"
        )
        print(f"  {'stage':<34}{'s':>7}{'raised the peak by MiB':>24}")
        for stage in STAGES:
            seconds = big["stage_seconds"].get(stage, 0.0)
            rise = max(0.0, big["stage_rss_rise_mib"].get(stage, 0.0))  # no "-0"
            print(f"  {stage:<34}{seconds:>7.2f}{rise:>24.0f}")

    by_name = {r.name: r for r in runs}
    seq1 = by_name["1-page sequential"]
    threaded1 = [r for r in runs if r.name.startswith("1-page ") and "threads" in r.name]
    best1 = max(threaded1, key=lambda r: r.rate) if threaded1 else seq1
    seq10 = by_name["10-page sequential"]
    threaded10 = [r for r in runs if r.name.startswith("10-page ") and "threads" in r.name]
    best10 = max(threaded10, key=lambda r: r.rate) if threaded10 else seq10
    top = sorted(one["stages"].items(), key=lambda kv: kv[1], reverse=True)[:3]
    print()
    print("RESULT:")
    print(
        f"  1-page copies/s: sequential {seq1.rate:.2f}, best threaded {best1.rate:.2f} "
        f"({best1.name.split(' ', 1)[1]})"
    )
    print(
        f"  10-page copies/s: sequential {seq10.rate:.2f}, best threaded {best10.rate:.2f} "
        f"({best10.name.split(' ', 1)[1]})"
    )
    if baseline is not None:
        print(
            f"  baseline (pyhanko CLI, officer + seal, fresh process each) copies/s: "
            f"{baseline.rate:.2f}"
        )
        print(
            f"  ratio ours/baseline: end-to-end 1-page sequential "
            f"{seq1.rate / baseline.rate:.1f}x; signing only {ours_sign.rate / baseline.rate:.1f}x"
        )
    else:
        print("  baseline: not run (pyhanko-cli missing)")
    if big is not None:
        peak, before, scan = big["peak_rss_mib"], big["rss_before_mib"], big["scan_mib"]
        growth = (peak - before) / scan
        verdict = "meets" if growth <= GROWTH_TARGET else "MISSES"
        print(
            f"  {scan * MiB / 1e6:.0f} MB scan ({scan:.1f} MiB): peak RSS {peak:.0f} MiB "
            f"= {peak / scan:.2f}x the scan; growth over the idle process {growth:.2f}x "
            f"({verdict} the <= {GROWTH_TARGET}x target)"
        )
    print(
        "  top 3 stages (1-page): "
        + "; ".join(
            f"{name} {sec * 1000:.0f} ms ({sec / one['total'] * 100:.0f}%)" for name, sec in top
        )
    )


if __name__ == "__main__":
    main()
