"""The preservation run (``certify.preservation``) over a register of 10,000 stored copies.

    .venv/bin/python bench/bench_preservation.py [--copies 10000] [--renew 1000] ...

Everything is real and built in a temp dir for this run (``bench/_world.py``): a fresh
provincial PKI, a MinIO server with Object Lock, a migrated SQLite register (or, with
``--database-url``, a throw-away database on a loopback PostgreSQL server), and the
application's ``Services`` over them. One copy is issued through the real
``CertificationService`` (validated at issue, its validation kept with the entry), then
``--baseline`` more are issued and timed: the cost of one certification, the baseline of this
run. The register is then filled to ``--copies`` stored copies, untimed: the signed PDF's
bytes uploaded to that many copy keys (``copies/{authority}/{year}/{number}.pdf``, real
uploads, 8 at a time) and one register entry per object (its own number, token and version,
the real copy's validation), inserted in bulk.

Measured, each run of ``Preserver.run`` timed on its own (see bench/README.md):

e. growth: the register filled in steps (``--sizes``); at each size the new copies are
   inspected, then the run with nothing due (the steady state of a daily run) is timed
   ``--repeat`` times: its cost against the register's size.
a. the first run over all copies (their archive state removed first): every copy inspected
   from its kept validation, no object read.
b. the run again: nothing due, everything inspected.
c. every copy due (its time-stamps are SHA-256, which the policy marks weak; renewed with
   SHA-512), the run limited to ``--renew`` renewals: each copy fetched, renewed (DSS +
   document time-stamp), its appended part validated, stored as a new version under Object
   Lock, recorded with an audit event. The whole register's renewal is extrapolated.
d. the steady-state run after the renewals.

Exits non-zero when a run does not do what it should (a copy not inspected or not renewed, a
failure, an object read where none should be).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MiB = 1024 * 1024


# --- timing proxies ----------------------------------------------------------------------------


class Stages:
    """Seconds and calls per stage, and the moments copies were recorded (per-copy times)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.recorded: list[float] = []

    def add(self, stage: str, seconds: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds
        self.calls[stage] = self.calls.get(stage, 0) + 1

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()
        self.recorded.clear()


class _Timed:
    """Every method call of ``inner`` timed as the stage ``prefix.method``."""

    def __init__(self, inner: Any, stages: Stages, prefix: str) -> None:
        self._inner, self._stages, self._prefix = inner, stages, prefix

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr
        stages, stage = self._stages, f"{self._prefix}.{name}"

        def timed(*args: Any, **kw: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return attr(*args, **kw)
            finally:
                stages.add(stage, time.perf_counter() - t0)
                if stage == "register.add_copy_version":
                    stages.recorded.append(time.perf_counter())

        return timed


class _TimedStore(_Timed):
    """``open`` is a context manager: its stage is the whole read (open to close)."""

    def open(self, *args: Any, **kw: Any) -> Any:
        import contextlib

        @contextlib.contextmanager
        def opened() -> Any:
            t0 = time.perf_counter()
            try:
                with self._inner.open(*args, **kw) as fh:
                    yield fh
            finally:
                self._stages.add("store.open+read", time.perf_counter() - t0)

        return opened()


# --- one run -----------------------------------------------------------------------------------


class Measured:
    """One timed ``Preserver.run``: its report, wall and CPU time, SQL statements."""

    def __init__(self, label: str, size: int, report: Any, wall: float, cpu: float) -> None:
        self.label, self.size, self.report, self.wall, self.cpu = label, size, report, wall, cpu
        self.statements = 0
        self.stages: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.per_copy: list[float] = []
        self.bytes_added = 0
        self.disk_added = 0


class Bench:
    """The world, the services over it and a Preserver built as ``api.preservation_wiring``
    builds it, with its collaborators wrapped in timing proxies."""

    def __init__(self, world: Any, services: Any, args: argparse.Namespace) -> None:
        from sqlalchemy import event

        self.world, self.services, self.args = world, services, args
        self.stages = Stages()
        self.statements = 0

        def count(*_: Any) -> None:
            self.statements += 1

        event.listen(services.engine, "before_cursor_execute", count)

    def preserver(self, policy: Any) -> Any:
        """What ``api.preservation_wiring.preserver`` builds, with timed parts."""
        from api.preservation_wiring import certificate_expiry
        from api.services import TrustCache
        from certify.preservation import Preserver
        from certify.signing import CopySigner
        from certify.verification import LocalCheck

        services, stages = self.services, self.stages
        signers = services.signers()
        expiry = certificate_expiry(signers)

        def timed_expiry(sha256_hex: str) -> Any:
            t0 = time.perf_counter()
            try:
                return expiry(sha256_hex)
            finally:
                stages.add("expiry (PKI index version + lookup)", time.perf_counter() - t0)

        return Preserver(
            register=_Timed(services.register, stages, "register"),
            store=_TimedStore(services.store, stages, "store"),
            renewer=_Timed(CopySigner(signers, clock=services.clock), stages, "renewer"),
            check=_Timed(LocalCheck(TrustCache(signers), services.clock), stages, "check"),
            expiry=timed_expiry,
            clock=services.clock,
            policy=policy,
            workdir=self.world.workdir("preserve"),
        )

    def run(self, label: str, size: int, policy: Any, **kw: Any) -> Measured:
        preserver = self.preserver(policy)
        self.stages.reset()
        statements0 = self.statements
        t0, c0 = time.perf_counter(), time.process_time()
        report = preserver.run(**kw)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        m = Measured(label, size, report, wall, cpu)
        m.statements = self.statements - statements0
        m.stages = dict(self.stages.seconds)
        m.calls = dict(self.stages.calls)
        marks = [t0, *self.stages.recorded]
        m.per_copy = [b - a for a, b in itertools.pairwise(marks)]
        return m


class Growth:
    """The register at one size: the run inspecting the copies added, then the runs with
    nothing due (the default policy, and with a weak hash no copy uses)."""

    def __init__(
        self, size: int, inspect: Measured, steady: list[Measured], steady_sha1: list[Measured]
    ) -> None:
        self.size, self.inspect, self.steady, self.steady_sha1 = size, inspect, steady, steady_sha1


def disk_bytes(root: Path) -> int:
    """Bytes allocated under ``root`` (what ``du`` counts)."""
    import os

    total = 0
    for base, _, files in os.walk(root):
        for name in files:
            with contextlib.suppress(FileNotFoundError):
                total += os.lstat(os.path.join(base, name)).st_blocks * 512
    return total


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def median(values: list[float]) -> float:
    import statistics

    return statistics.median(values)


# --- the register ------------------------------------------------------------------------------


class Register:
    """Fills the register with stored copies: objects uploaded, entries inserted in bulk."""

    def __init__(self, bench: Bench, template: Any, pdf: bytes) -> None:
        from storage.database import Document

        self.bench, self.pdf = bench, pdf
        with bench.services.engine.connect() as conn:
            row = conn.execute(
                Document.__table__.select().where(Document.id == template.entry.id)
            ).one()
            self.template = dict(row._mapping)
            self.next_number = (
                conn.execute(
                    Document.__table__.select()
                    .with_only_columns(Document.number)
                    .order_by(Document.number.desc())
                    .limit(1)
                ).scalar_one()
                + 1
            )
        self.objects: list[tuple[int, str, Any]] = []  # (number, key, StoredObject)
        self.inserted = 0

    def count(self) -> int:
        from sqlalchemy import func, select

        from storage.database import Document

        with self.bench.services.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(Document)
                    .where(Document.copy_version_id.is_not(None))
                ).scalar_one()
            )

    def upload(self, n: int, threads: int) -> None:
        """``n`` objects: the same signed bytes under ``n`` new copy keys, ``threads`` at a
        time (``put_stream`` as the service stores a copy; the bucket keeps versions)."""
        import io
        from concurrent.futures import ThreadPoolExecutor

        from certify.issuance import copy_key

        store = self.bench.services.store
        authority, year = self.template["authority_code"], self.template["year"]
        numbers = range(self.next_number, self.next_number + n)
        self.next_number += n

        def put(number: int) -> tuple[int, str, Any]:
            key = copy_key(authority, year, number)
            stored = store.put_stream(
                store.copies_bucket, key, io.BytesIO(self.pdf), content_type="application/pdf"
            )
            return number, key, stored

        with ThreadPoolExecutor(max_workers=threads) as pool:
            self.objects.extend(pool.map(put, numbers))

    def insert(self, n: int, batch: int) -> None:
        """The next ``n`` uploaded objects as register entries, one bulk INSERT per batch."""
        import datetime as dt
        import secrets
        import uuid

        from sqlalchemy import insert

        from storage.database import Document

        engine = self.bench.services.engine
        todo = self.objects[self.inserted : self.inserted + n]
        now = dt.datetime.now(dt.UTC)
        for start in range(0, len(todo), batch):
            rows = []
            for number, key, stored in todo[start : start + batch]:
                row = dict(self.template)
                row.update(
                    id=str(uuid.uuid4()),
                    number=number,
                    copy_key=key,
                    copy_version_id=stored.version_id,
                    copy_sha256=stored.sha256,
                    copy_size=stored.size,
                    verification_token=secrets.token_urlsafe(24),
                    issued_at=now,
                )
                rows.append(row)
            with engine.begin() as conn:
                conn.execute(insert(Document), rows)
        self.inserted += len(todo)

    def forget_inspection(self) -> int:
        """Remove every archive state (no version was stored yet): all copies uninspected."""
        from sqlalchemy import delete

        from storage.preservation_tables import CopyArchiveState

        with self.bench.services.engine.begin() as conn:
            return int(conn.execute(delete(CopyArchiveState)).rowcount)


# --- the world -------------------------------------------------------------------------------


def loopback_database(admin_url: str) -> tuple[str, Any]:
    """A fresh database on a loopback PostgreSQL server: (its URL, a function dropping it).

    Raises RuntimeError for a server that is not on loopback."""
    import ipaddress
    import secrets

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(admin_url)
    host = url.host or "localhost"
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise RuntimeError(f"refusing a non-loopback database host: {host}")
    admin = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    name = f"certify_bench_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def settings_for(world: Any, database_url: str) -> Any:
    return world.settings(database_url=database_url, preserve_interval_hours=0)


def certify(services: Any, page: bytes, tag: str, workdir: Path) -> Any:
    import io

    from bench import _world

    issued, _ = services.certification().certify_scans(
        _world.order(f"Giấy khai sinh {tag}"),
        [io.BytesIO(page)],
        limits=services.scan_limits(),
        workdir=workdir,
    )
    return issued


# --- report ------------------------------------------------------------------------------------


def stage_lines(m: Measured, per: int) -> list[str]:
    names = {
        "store.open+read": "fetch the stored version (MinIO GET, SHA-256)",
        "renewer.renew_archive": "renew: DSS + document time-stamp (TSA)",
        "check.check_file": "validate the appended update",
        "store.put_stream": "store the new version (MinIO PUT)",
        "register.add_copy_version": "record version + state + audit event",
        "register.get_document": "register: the entry",
        "register.latest_copy_version": "register: its latest version",
        "register.due_archive_states": "register: due copies (per batch)",
        "register.uninspected": "register: uninspected copies (per batch)",
        "register.set_archive_states": "register: write the archive states (per batch)",
        "expiry (PKI index version + lookup)": "TSA certificate end (PKI index read)",
        "register.acquire_lease": "register: take/extend the lease",
        "register.release_lease": "register: release the lease",
    }
    lines = []
    accounted = 0.0
    for stage, seconds in sorted(m.stages.items(), key=lambda kv: -kv[1]):
        accounted += seconds
        lines.append(
            f"    {names.get(stage, stage):<46}{seconds / per * 1000:>9.2f} ms"
            f"{m.calls[stage]:>8} calls"
        )
    lines.append(
        f"    {'other (the Preserver: PDF parses, JSON, ...)':<46}"
        f"{(m.wall - accounted) / per * 1000:>9.2f} ms"
    )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=10_000, help="stored copies in the register")
    parser.add_argument(
        "--renew",
        type=int,
        default=1000,
        help="renewals in run c (every copy is due; the run stops after this many; the "
        "renewal of all --copies is extrapolated from them)",
    )
    parser.add_argument(
        "--sizes",
        default="1000,5000,10000",
        help="register sizes for the growth runs (capped at --copies, which is always last)",
    )
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per steady state")
    parser.add_argument("--baseline", type=int, default=10, help="certifications timed")
    parser.add_argument("--batch", type=int, default=1000, help="register rows per bulk INSERT")
    parser.add_argument("--upload-threads", type=int, default=8, help="uploads in flight")
    parser.add_argument(
        "--policy-batch", type=int, default=None, help="the run's batch (default: settings, 200)"
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="a loopback PostgreSQL server (admin URL): the register goes in a throw-away "
        "database there, dropped at the end (default: SQLite in the temp dir)",
    )
    parser.add_argument("--skip-renewal", action="store_true", help="no run c (and no d)")
    args = parser.parse_args()
    return measure(args)


def measure(args: argparse.Namespace) -> int:
    import dataclasses
    import importlib.metadata
    import logging
    import os
    import platform
    import tempfile

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from api.preservation_wiring import policy_of
    from api.services import Services
    from bench import _world
    from storage.database import make_engine, upgrade
    from storage.sql_register import SqlRegister

    _world.quiet_logs()
    started = time.perf_counter()
    sizes = sorted({min(int(s), args.copies) for s in args.sizes.split(",") if s.strip()})
    if not sizes or sizes[-1] != args.copies:
        sizes.append(args.copies)
    renew = 0 if args.skip_renewal else min(args.renew, args.copies)
    print(
        f"bench_preservation: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"pyHanko {importlib.metadata.version('pyhanko')}, "
        f"{'PostgreSQL' if args.database_url else 'SQLite'} register, local MinIO; "
        f"{args.copies} copies, {renew} renewed",
        flush=True,
    )
    failures: list[str] = []
    drop = None
    with tempfile.TemporaryDirectory(prefix="bench-preservation-") as tmp:
        t0 = time.perf_counter()
        with _world.build_world(Path(tmp)) as world:
            database_url = world.database_url
            if args.database_url:
                database_url, drop = loopback_database(args.database_url)
                upgrade(database_url)
                seed_engine = make_engine(database_url)
                _world.seed(SqlRegister(seed_engine))
                seed_engine.dispose()
            print(
                f"  [{time.perf_counter() - t0:6.1f} s] world: PKI + MinIO + register", flush=True
            )
            settings = settings_for(world, database_url)
            services = Services(
                settings=settings,
                engine=make_engine(settings.resolved_database_url),
                store=world.store,
            )
            try:
                bench = Bench(world, services, args)
                policy = policy_of(services)
                if args.policy_batch:
                    policy = dataclasses.replace(policy, batch=args.policy_batch)
                # Every copy is due: its time-stamps are SHA-256 (as the tests make them due).
                weak = dataclasses.replace(
                    policy, weak_digests=frozenset({"sha256"}), digest_algorithm="sha512"
                )
                # Nothing due, but a weak hash set (one no copy uses): the other due query.
                sha1 = dataclasses.replace(policy, weak_digests=frozenset({"sha1"}))
                page = _world.text_page_jpeg("1")

                # --- the baseline: real certifications of a 1-page scan ----------------------
                t0 = time.perf_counter()
                first = certify(services, page, "0", world.workdir("issue"))
                warm = time.perf_counter() - t0
                with first.open() as fh:
                    pdf = fh.read()
                cert_times = []
                for i in range(args.baseline):
                    t1 = time.perf_counter()
                    certify(services, page, str(i + 1), world.workdir("issue"))
                    cert_times.append(time.perf_counter() - t1)
                cert_mean = sum(cert_times) / len(cert_times)
                print(
                    f"  [{time.perf_counter() - t0:6.1f} s] baseline: 1 + {args.baseline} "
                    f"certifications of a 1-page scan (first {warm:.2f} s, then mean "
                    f"{cert_mean * 1000:.0f} ms); copy {len(pdf) / 1024:.0f} KiB",
                    flush=True,
                )

                # --- the stored copies -------------------------------------------------------
                reg = Register(bench, first, pdf)
                real = reg.count()
                synthetic = max(0, args.copies - real)
                disk0 = disk_bytes(world.root / "minio")
                t0 = time.perf_counter()
                reg.upload(synthetic, args.upload_threads)
                upload_s = time.perf_counter() - t0
                disk1 = disk_bytes(world.root / "minio")
                print(
                    f"  [{upload_s:6.1f} s] setup (untimed): {synthetic} objects uploaded "
                    f"({synthetic / upload_s:.0f}/s, {args.upload_threads} in flight, "
                    f"{(disk1 - disk0) / MiB:.0f} MiB on disk) + {real} issued",
                    flush=True,
                )

                # --- e. growth: steady state at each register size ---------------------------
                growth: list[Growth] = []
                insert_s = 0.0
                for size in sizes:
                    t0 = time.perf_counter()
                    reg.insert(size - real - reg.inserted, args.batch)
                    insert_s += time.perf_counter() - t0
                    inspect = bench.run("inspect the new copies", size, policy)
                    steady = [bench.run("nothing due", size, policy) for _ in range(args.repeat)]
                    with_sha1 = [
                        bench.run("nothing due, sha1 weak", size, sha1) for _ in range(args.repeat)
                    ]
                    growth.append(Growth(size, inspect, steady, with_sha1))
                    print(
                        f"  [{inspect.wall:6.1f} s] growth: register at {size}, "
                        f"{inspect.report.inspected} new copies inspected; steady state "
                        f"x{args.repeat}: median "
                        f"{median([s.wall for s in steady]) * 1000:.1f} ms",
                        flush=True,
                    )
                    if reg.count() != size:
                        failures.append(f"register holds {reg.count()} copies, not {size}")
                print(
                    f"  [{insert_s:6.1f} s] setup (untimed): {reg.inserted} register entries "
                    f"inserted in bulk ({args.batch} per INSERT)",
                    flush=True,
                )

                # --- a, b. the first run and the steady state over all copies -----------------
                reg.forget_inspection()
                first_run = bench.run("a first run: inspect all", args.copies, policy)
                print(f"  [{first_run.wall:6.1f} s] a. first run over {args.copies}", flush=True)
                steady_b = [
                    bench.run("b nothing due", args.copies, policy) for _ in range(args.repeat)
                ]
                steady_sha1 = [
                    bench.run("b nothing due, sha1 weak", args.copies, sha1)
                    for _ in range(args.repeat)
                ]

                # --- c, d. renewals ----------------------------------------------------------
                renewal = None
                steady_d: list[Measured] = []
                if renew:
                    versions0 = disk_bytes(world.root / "minio")
                    renewal = bench.run(f"c renew {renew}", args.copies, weak, limit=renew)
                    renewal.disk_added = disk_bytes(world.root / "minio") - versions0
                    renewal.bytes_added = new_version_bytes(services)
                    print(f"  [{renewal.wall:6.1f} s] c. {renew} copies renewed", flush=True)
                    steady_d = [
                        bench.run("d nothing due", args.copies, policy) for _ in range(args.repeat)
                    ]
            finally:
                services.close()
                if drop is not None:
                    drop()
    failures += check(growth, first_run, steady_b, steady_sha1, renewal, steady_d, args, renew)
    print_report(
        args, cert_mean, growth, first_run, steady_b, steady_sha1, renewal, steady_d, renew, pdf
    )
    if failures:
        print("\nERRORS:")
        for line in failures:
            print(f"  {line}")
    print(f"total bench time {time.perf_counter() - started:.0f} s")
    return 1 if failures else 0


def new_version_bytes(services: Any) -> int:
    """The bytes of every version stored after issue (the register's record of them)."""
    from sqlalchemy import func, select

    from storage.preservation_tables import CopyVersionRow

    with services.engine.connect() as conn:
        return int(
            conn.execute(select(func.coalesce(func.sum(CopyVersionRow.size), 0))).scalar_one()
        )


def check(
    growth: list[Growth],
    first_run: Measured,
    steady_b: list[Measured],
    steady_sha1: list[Measured],
    renewal: Measured | None,
    steady_d: list[Measured],
    args: argparse.Namespace,
    renew: int,
) -> list[str]:
    out = []
    every = [first_run, *steady_b, *steady_sha1, *steady_d]
    for g in growth:
        every += [g.inspect, *g.steady, *g.steady_sha1]
    for m in every:
        r = m.report
        if r.failed or r.stopped or r.lease_held_elsewhere or r.objects_read or r.renewed:
            out.append(
                f"{m.label} at {m.size}: failed {r.failed[:3]}, stopped {r.stopped}, "
                f"read {r.objects_read}, renewed {r.renewed}"
            )
    if first_run.report.inspected != args.copies:
        out.append(f"first run inspected {first_run.report.inspected}, not {args.copies}")
    if renewal is not None:
        r = renewal.report
        if (r.renewed, r.objects_read, r.objects_written, r.failed) != (renew, renew, renew, []):
            out.append(
                f"renewal: renewed {r.renewed}, read {r.objects_read}, written "
                f"{r.objects_written}, failed {r.failed[:3]}, stopped {r.stopped}"
            )
    return out


def print_report(
    args: argparse.Namespace,
    cert_mean: float,
    growth: list[Growth],
    first_run: Measured,
    steady_b: list[Measured],
    steady_sha1: list[Measured],
    renewal: Measured | None,
    steady_d: list[Measured],
    renew: int,
    pdf: bytes,
) -> None:
    n = args.copies
    print()
    print(
        f"Preservation over {n} stored copies ({len(pdf) / 1024:.0f} KiB each, 1-page copies "
        f"issued B-LTA); baseline: one certification = {cert_mean * 1000:.0f} ms "
        f"(mean of {args.baseline})"
    )
    head = (
        f"{'run':<44}{'copies':>7}{'seconds':>9}{'per s':>9}{'ms/copy':>9}"
        f"{'read':>7}{'written':>8}{'SQL':>7}{'CPU s':>7}"
    )
    print(head)

    def line(label: str, m: Measured, done: int, seconds: float | None = None) -> None:
        s = m.wall if seconds is None else seconds
        rate = f"{done / s:9.0f}" if done else f"{'-':>9}"
        per = f"{s / done * 1000:9.2f}" if done else f"{'-':>9}"
        r = m.report
        print(
            f"{label:<44}{done:>7}{s:>9.3f}{rate}{per}{r.objects_read:>7}"
            f"{r.objects_written:>8}{m.statements:>7}{m.cpu:>7.2f}"
        )

    line("a. first run, nothing due (inspect all)", first_run, first_run.report.inspected)
    b = median([m.wall for m in steady_b])
    line(f"b. again, nothing due (median of {len(steady_b)})", steady_b[0], 0, b)
    b1 = median([m.wall for m in steady_sha1])
    line("b'. the same with weak_digests={'sha1'}", steady_sha1[0], 0, b1)
    if renewal is not None:
        line(f"c. {renew} due: renew (SHA-512 time-stamp)", renewal, renewal.report.renewed)
        d = median([m.wall for m in steady_d])
        line(f"d. nothing due after renewals (median of {len(steady_d)})", steady_d[0], 0, d)
    print(
        "  read/written = objects read from / stored in MinIO (report.objects_read/_written);\n"
        "  SQL = statements sent to the register; CPU s = this process (MinIO is another)."
    )

    print()
    print(f"a. inspection per copy ({first_run.report.inspected} copies):")
    for text in stage_lines(first_run, max(1, first_run.report.inspected)):
        print(text)

    if renewal is not None:
        done = max(1, renewal.report.renewed)
        print()
        print(
            f"c. renewal per copy ({renewal.report.renewed} copies): p50 "
            f"{percentile(renewal.per_copy, 0.5) * 1000:.0f} ms, p95 "
            f"{percentile(renewal.per_copy, 0.95) * 1000:.0f} ms, max "
            f"{max(renewal.per_copy, default=0) * 1000:.0f} ms, mean "
            f"{renewal.wall / done * 1000:.0f} ms"
        )
        for text in stage_lines(renewal, done):
            print(text)
        print(
            f"  MinIO: {renewal.bytes_added / MiB:.1f} MiB of new versions "
            f"({renewal.bytes_added / done / 1024:.0f} KiB each, the whole copy again: "
            f"{renewal.bytes_added / done / len(pdf):.2f}x the issued copy), "
            f"{renewal.disk_added / MiB:.1f} MiB more on disk"
        )
        if renew < n:
            total = renewal.wall / done * n
            print(
                f"  EXTRAPOLATED (linear, from {renewal.report.renewed} renewals): all {n} "
                f"copies due would take {total:.0f} s = {total / 60:.1f} min, and add "
                f"{renewal.bytes_added / done * n / MiB:.0f} MiB"
            )

    print()
    print("e. growth: the run with nothing due against the register's size")
    print(
        f"{'copies':>8}{'x size':>8}{'median ms':>11}{'x time':>8}{'SQL':>5}"
        f"{'sha1 weak ms':>14}{'x time':>8}{'   new copies inspected':>24}{'ms/copy':>9}"
    )
    base = median([m.wall for m in growth[0].steady])
    base1 = median([m.wall for m in growth[0].steady_sha1])
    for g in growth:
        med = median([m.wall for m in g.steady])
        med1 = median([m.wall for m in g.steady_sha1])
        ins = g.inspect.report.inspected
        print(
            f"{g.size:>8}{g.size / growth[0].size:>8.2f}{med * 1000:>11.1f}{med / base:>8.2f}"
            f"{g.steady[0].statements:>5}{med1 * 1000:>14.1f}{med1 / base1:>8.2f}"
            f"{ins:>24}{g.inspect.wall / max(1, ins) * 1000:>9.2f}"
        )
    print(
        f"  median of {len(growth[0].steady)} runs each; x size / x time = against the smallest\n"
        "  register, same run. A run with nothing due reads no object: it takes and releases\n"
        "  the lease, asks for uninspected copies (an anti-join over every copy) and for due\n"
        "  ones (the index on tsa_not_after; with a weak hash set, also the index on\n"
        "  digest_algorithm, joined by UNION). 'new copies inspected' = the first run after the\n"
        "  register grew to that size (ms per copy inspected)."
    )

    print()
    print("Ratios (same run):")
    ins_per = first_run.wall / max(1, first_run.report.inspected)
    print(
        f"  inspection per copy / one certification:   {ins_per / cert_mean:8.4f}"
        f"  ({ins_per * 1000:.2f} ms / {cert_mean * 1000:.0f} ms)"
    )
    if renewal is not None:
        ren_per = renewal.wall / max(1, renewal.report.renewed)
        print(
            f"  renewal per copy / one certification:      {ren_per / cert_mean:8.3f}"
            f"  ({ren_per * 1000:.0f} ms / {cert_mean * 1000:.0f} ms)"
        )
    print(
        f"  daily run, nothing due, {n} copies / one certification: "
        f"{b / cert_mean:6.3f}  ({b * 1000:.1f} ms)"
    )
    last = median([m.wall for m in growth[-1].steady])
    print(
        f"  nothing due at {growth[-1].size} / at {growth[0].size} copies: {last / base:.2f}x "
        f"for {growth[-1].size / growth[0].size:.0f}x the copies"
    )


if __name__ == "__main__":
    raise SystemExit(main())
