"""The faults a province will meet, each played on the loopback cluster (issue 13.4):

1. a MinIO node killed during a stream of certifications and verifications: no request
   fails past one retry, nothing is lost, and the node heals when it returns;
2. a certify replica killed mid-certification: the balancer moves on, the register has no
   gap and no half-issued copy (``certify check``, ``certify reconcile``);
3. PostgreSQL stopped and started: requests fail cleanly (503 ``database_unavailable``, in
   flight too), then work again without restarting certify;
4. the scratch disk of a replica full: a clean 507 ``scratch_full``, nothing half-written,
   and the same request works once there is room.

The client's rule throughout (:class:`~tests.cluster.desk_client.Retries`): an answer 502,
503 or 504 with an error code is retried once; the second answer is final.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import itertools
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from minio.error import S3Error

from deploy.cluster import DEMO_AUTHORITY, DEMO_CLERK, Cluster, ClusterError, Layout
from tests.cluster.conftest import free_layout
from tests.cluster.desk_client import Desk, Retries, add_certifier, error_code, http_client
from tests.issuing import scan_jpeg

pytestmark = [pytest.mark.integration, pytest.mark.slow]

KILLED_NODE = 3
PROBE_BUCKET = "faults-probe"
REGISTER_TYPE = "SCT/BS"
# A request that meets a fault answers within this (no hang): PostgreSQL down is refused
# at once, and pool pre-ping finds the connections it killed.
PROMPT_SECONDS = 5.0
# The certifications' register transaction holds its counter row lock (FOR UPDATE).
COUNTER_LOCKED = """
    SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
    WHERE c.relname = 'register_counters' AND l.granted AND l.pid <> pg_backend_pid()
"""


@pytest.fixture(scope="module")
def cluster_layout() -> Layout:
    # A stream of public verifications from one address (the test) must not be rate-limited.
    return free_layout(
        env=(
            ("CERTIFY_VERIFY_UPLOAD_RATE_LIMIT", "100000/minute"),
            ("CERTIFY_VERIFY_TOKEN_RATE_LIMIT", "100000/minute"),
        )
    )


@pytest.fixture(scope="module")
def http(cluster: Cluster) -> Iterator[httpx.Client]:
    with http_client(cluster) as client:
        yield client


class Certifiers:
    """The desks of several certifiers, taken in turn: the service accepts each 30-second
    TOTP step once per officer, so a stream of signatures needs several."""

    def __init__(self, desks: list[Desk]) -> None:
        self.desks = desks
        self._turn = itertools.cycle(desks)
        self._lock = threading.Lock()

    def next(self) -> Desk:
        with self._lock:
            return next(self._turn)


@pytest.fixture(scope="module")
def certifiers(http: httpx.Client, cluster: Cluster) -> Certifiers:
    desks = [Desk(http, cluster)]
    for n in range(1, 4):
        username = f"faults{n}.nv"
        desks.append(Desk(http, cluster, username, add_certifier(http, cluster, username)))
    return Certifiers(desks)


# --- what the register and the buckets hold -------------------------------------------------


def database(cluster: Cluster) -> psycopg.Connection[Any]:
    return psycopg.connect(
        f"host=127.0.0.1 port={cluster.layout.postgres_port} user=postgres dbname=certify",
        autocommit=True,
        connect_timeout=5,
    )


@dataclass(frozen=True)
class Register:
    """The demo authority's register for this year, read straight from PostgreSQL."""

    numbers: tuple[int, ...]
    last_number: int  # the counter
    awaiting: int  # entries whose copy is not yet in the copies bucket

    def assert_gapless(self) -> None:
        """Numbers 1..n, each once, and the counter at n (NĐ 23/2015 art. 20)."""
        assert self.numbers == tuple(range(1, len(self.numbers) + 1)), self.numbers
        assert self.last_number == len(self.numbers)


def register(cluster: Cluster, year: int) -> Register:
    with database(cluster) as conn:
        rows = conn.execute(
            "SELECT number, copy_version_id IS NULL FROM documents "
            "WHERE authority_code = %s AND register_type = %s AND year = %s ORDER BY number",
            (DEMO_AUTHORITY, REGISTER_TYPE, year),
        ).fetchall()
        counter = conn.execute(
            "SELECT last_number FROM register_counters "
            "WHERE authority_code = %s AND register_type = %s AND year = %s",
            (DEMO_AUTHORITY, REGISTER_TYPE, year),
        ).fetchone()
    return Register(
        numbers=tuple(int(number) for number, _ in rows),
        last_number=int(counter[0]) if counter else 0,
        awaiting=sum(1 for _, awaiting in rows if awaiting),
    )


def register_year(document: dict[str, Any]) -> int:
    return int(str(document["book"]).rsplit("/", 1)[-1])


def objects(cluster: Cluster, bucket: str) -> set[str]:
    return {
        obj.object_name
        for obj in cluster.minio_client(retries=False).list_objects(bucket, recursive=True)
    }


def stored_sha256(cluster: Cluster, bucket: str, key: str) -> str:
    """The SHA-256 of an object as MinIO serves it. While a returned node heals, MinIO may
    answer 503 SlowDownRead for a moment: asked again for up to 30 s (the service's own
    client retries a 503 the same way)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            answer = cluster.minio_client(retries=False).get_object(bucket, key)
        except S3Error as exc:
            if not (exc.code or "").startswith("SlowDown") or time.monotonic() > deadline:
                raise
            time.sleep(0.5)
            continue
        try:
            return hashlib.sha256(answer.read()).hexdigest()
        finally:
            answer.close()
            answer.release_conn()


def copy_key(document: dict[str, Any]) -> str:
    """Where the copy lives in the copies bucket (certify.issuance.copy_key)."""
    return f"{DEMO_AUTHORITY}/{register_year(document)}/{document['number']}.pdf"


def check(cluster: Cluster) -> dict[str, Any]:
    """``certify check --json`` as an operator runs it against the cluster (exit 1 when it
    finds something: the report says what)."""
    try:
        out = cluster.certify("check", "--json")
    except Exception as exc:  # ClusterError with the output: exit 1 is a report too
        text = str(exc)
        out = text[text.index("{") : text.rindex("}") + 1]
    report: dict[str, Any] = json.loads(out)
    return report


def wait_until(what: str, holds: Callable[[], bool], timeout: float, step: float = 0.2) -> float:
    """Seconds until ``holds()``; fails the test naming ``what`` after ``timeout``."""
    started = time.monotonic()
    while not holds():
        if time.monotonic() - started > timeout:
            pytest.fail(f"{what}: not within {timeout:.0f} s")
        time.sleep(step)
    return time.monotonic() - started


def counter_locked(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute(COUNTER_LOCKED).fetchone()
    return bool(row and row[0])


class InFlight:
    """One request sent in a thread of its own, its answer (or exception) kept."""

    def __init__(self, send: Callable[[], httpx.Response]) -> None:
        self.answer: httpx.Response | None = None
        self.error: BaseException | None = None
        self.seconds = 0.0
        self._thread = threading.Thread(target=self._run, args=(send,), daemon=True)
        self._thread.start()

    def _run(self, send: Callable[[], httpx.Response]) -> None:
        started = time.monotonic()
        try:
            self.answer = send()
        except BaseException as exc:  # kept for the test to see
            self.error = exc
        self.seconds = time.monotonic() - started

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def outcome(self, timeout: float = 120) -> httpx.Response | BaseException:
        """The answer, or what the client raised."""
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the request did not end"
        if self.error is not None:
            return self.error
        assert self.answer is not None
        return self.answer

    def result(self, timeout: float = 120) -> httpx.Response:
        outcome = self.outcome(timeout)
        assert isinstance(outcome, httpx.Response), repr(outcome)
        return outcome


def in_register_transaction(
    conn: psycopg.Connection[Any], request: InFlight, *, until_commit: bool = False
) -> None:
    """Wait until ``request``'s certification holds the register's counter lock (it took
    its number and is building, signing and staging the copy), or with ``until_commit``
    until it let it go again (committed: the copy is being moved into the copies bucket)."""
    wait_until(
        "the certification's register transaction",
        lambda: counter_locked(conn) or not request.running,
        timeout=60,
        step=0.01,
    )
    assert request.running, "the certification ended before its register transaction was seen"
    if until_commit:
        wait_until("the commit", lambda: not counter_locked(conn), timeout=60, step=0.002)


# --- 1. a MinIO node killed during a stream ------------------------------------------------


@dataclass
class Stream:
    """Certifications (several certifiers in turn) and public verifications (by code and by
    upload, with downloads), through the balancer in two threads, each request retried once
    at most as :class:`Retries` says."""

    cluster: Cluster
    certifiers: Certifiers
    retries: Retries = field(default_factory=Retries)
    issued: list[tuple[dict[str, Any], str]] = field(default_factory=list)  # (doc, phase)
    verified: dict[str, int] = field(default_factory=dict)  # phase -> verifications
    failures: list[str] = field(default_factory=list)
    phase: str = "before"
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _certifying(self) -> None:
        with http_client(self.cluster, timeout=60) as http:
            while not self._stop.is_set():
                desk = self.certifiers.next().using(http, self.retries)
                phase = self.phase
                try:
                    document = desk.certify(desk.scanned(f"Giấy tờ {len(self.issued) + 1}"))
                except (AssertionError, httpx.HTTPError) as exc:
                    self.failures.append(f"certification ({phase}): {exc}")
                    continue
                with self._lock:
                    self.issued.append((document, phase))

    def _verifying(self) -> None:
        with http_client(self.cluster, timeout=60) as http:
            for n in itertools.count():
                if self._stop.is_set():
                    return
                with self._lock:
                    issued = list(self.issued)
                if not issued:
                    time.sleep(0.2)
                    continue
                document, _ = issued[n % len(issued)]
                desk = self.certifiers.desks[0].using(http, self.retries)
                phase = self.phase
                try:
                    assert desk.verdict_by_token(document) == "genuine"
                    pdf = desk.download(document)
                    assert hashlib.sha256(pdf).hexdigest() == document["copy_sha256"]
                    assert desk.verdict(pdf) == "genuine"
                except (AssertionError, httpx.HTTPError) as exc:
                    self.failures.append(f"verification ({phase}): {exc}")
                else:
                    self.verified[phase] = self.verified.get(phase, 0) + 1
                time.sleep(0.3)  # two cores: leave room for the certifications

    @contextlib.contextmanager
    def running(self) -> Iterator[Stream]:
        threads = [
            threading.Thread(target=self._certifying, daemon=True),
            threading.Thread(target=self._verifying, daemon=True),
        ]
        for thread in threads:
            thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            for thread in threads:
                thread.join(timeout=120)

    def certified(self, phase: str) -> int:
        return sum(1 for _, p in self.issued if p == phase)

    def wait_for(self, phase: str, certifications: int, *, timeout: float = 90) -> None:
        wait_until(
            f"{certifications} certifications {phase}",
            lambda: self.certified(phase) >= certifications or bool(self.failures),
            timeout,
        )


def test_one_minio_node_killed_during_a_stream_loses_nothing_and_heals(
    cluster: Cluster, certifiers: Certifiers, http: httpx.Client
) -> None:
    stream = Stream(cluster, certifiers)
    with stream.running():
        stream.wait_for("before", 1)
        stream.phase = "node down"
        cluster.kill_minio_node(KILLED_NODE)
        assert cluster.minio_drives() == (3, 1)
        stream.wait_for("node down", 2)
        stream.phase = "node back"
        cluster.start_minio_node(KILLED_NODE)
        stream.wait_for("node back", 1)

    # No request failed past one retry; what was retried is allowed once.
    assert stream.failures == [], (stream.failures, stream.retries.seen)
    assert all(stream.verified.get(p, 0) > 0 for p in ("node down", "node back")), stream.verified
    print(f"\nstream: {len(stream.issued)} certified, verified {stream.verified}, ", end="")
    print(f"retried once {stream.retries.seen}")

    # Nothing lost: every copy issued has its register entry, and its object in the copies
    # bucket with the SHA-256 the register holds.
    desk = certifiers.desks[0]
    for document, _ in stream.issued:
        entry = desk.document(document["id"])
        assert (entry["number"], entry["copy_sha256"]) == (
            document["number"],
            document["copy_sha256"],
        )
        assert stored_sha256(cluster, "copies", copy_key(document)) == document["copy_sha256"]
    year = register_year(stream.issued[0][0])
    book = register(cluster, year)
    book.assert_gapless()
    assert book.awaiting == 0

    # The node heals: what was written while it was away is read (which queues its heal),
    # then every object of the copies bucket has its files on all four drives.
    status = cluster.wait_healthy(timeout=60)
    assert status.drives_online == 4, status.render()
    keys = objects(cluster, "copies")
    assert {copy_key(d) for d, _ in stream.issued} <= keys

    def healed() -> bool:
        for key in keys:
            files = cluster.object_files("copies", key)
            if not files[1] or any(files[n] != files[1] for n in cluster.layout.nodes):
                stored_sha256(cluster, "copies", key)  # read again: heal-on-read
                return False
        return True

    seconds = wait_until("MinIO healing the returned node", healed, timeout=90, step=1.0)
    print(f"healed in {seconds:.1f} s; drives {cluster.minio_drive_states()}")
    assert set(cluster.minio_drive_states().values()) == {"ok"}

    # The proof that the returned node holds its shards: with two other nodes down, reads
    # need it (EC 2+2 reads any two shards), and every copy still reads with its SHA-256.
    expected = {copy_key(d): d["copy_sha256"] for d, _ in stream.issued}
    others = [n for n in cluster.layout.nodes if n != KILLED_NODE][:2]
    for n in others:
        cluster.kill_minio_node(n)
    try:
        wait_until(
            "the balancer taking the two nodes out",
            lambda: all(cluster.backends().get(f"minio/node{n}") == "DOWN" for n in others),
            timeout=15,
        )
        for key, digest in expected.items():
            assert stored_sha256(cluster, "copies", key) == digest, key
    finally:
        for n in others:
            cluster.start_minio_node(n, wait=False)
    cluster.wait_healthy(timeout=90)
    # Nodes that return refuse some writes (503 SlowDownWrite) a few seconds more than
    # their health says: the next test starts once writes go through everywhere.
    wait_until("MinIO taking writes again", lambda: writes_go_through(cluster), timeout=60)


def writes_go_through(cluster: Cluster, *, times: int = 12) -> bool:
    """Whether ``times`` small writes in a row through the balancer succeed at once (no
    retry): on every node, as the balancer spreads them."""
    client = cluster.minio_client(retries=False)
    try:
        if not client.bucket_exists(PROBE_BUCKET):
            client.make_bucket(PROBE_BUCKET)
        for n in range(times):
            client.put_object(PROBE_BUCKET, f"probe-{n}", io.BytesIO(b"x"), 1)
    except Exception:  # S3Error SlowDownWrite, or no answer: not yet
        return False
    return True


# --- 2. a certify replica killed mid-certification -----------------------------------------


@pytest.mark.parametrize("moment", ["in the register transaction", "after the commit"])
def test_a_replica_killed_mid_certification_leaves_no_gap_and_no_half_issued_copy(
    cluster: Cluster, certifiers: Certifiers, http: httpx.Client, moment: str
) -> None:
    desk = certifiers.next()
    code = desk.scanned(f"Bản chính ({moment})")
    pids = {n: cluster.pid(f"replica{n}") for n in cluster.layout.replica_numbers}
    with database(cluster) as conn:
        signing = InFlight(lambda: desk.certify_answer(code))
        in_register_transaction(conn, signing)
        [victim] = cluster.replicas_serving()
        # After the commit: between it and the answer, the copy's move into copies.
        in_register_transaction(conn, signing, until_commit=moment == "after the commit")
        cluster.kill_replica(victim)
    answer = signing.outcome()
    [survivor] = [n for n in cluster.layout.replica_numbers if n != victim]

    try:
        # The balancer moves on: the next requests are answered, by the other replica.
        original = desk.original(code)
        shown = http.get(f"/api/v1/requests/{code}", headers=desk.clerk)
        assert shown.headers["X-Certify-Replica"] == f"replica{survivor}"
        if isinstance(answer, httpx.Response) and answer.status_code == 201:
            assert original["status"] == "certified"
        elif isinstance(answer, httpx.Response):
            # The balancer's own answer for a replica that died under the request.
            assert (answer.status_code, error_code(answer)) == (502, "bad_gateway"), answer.text
        else:
            # Or, on a kept-alive connection, HAProxy closes it without an answer (as a
            # server's idle close looks): the client does not know either way, and asks.
            assert isinstance(answer, httpx.RemoteProtocolError | httpx.ReadError), repr(answer)
        if original["status"] == "scanned":
            # Rolled back with the replica's connection: retried, it takes the same number.
            document = certifiers.next().certify(code)
        else:
            assert original["status"] == "certified"
            document = desk.document(original["document_id"])
        year = register_year(document)

        # No gap, and no half-issued copy: `certify check` finds nothing, or only a copy on
        # its way (the replica died between the commit and the move), which `certify
        # reconcile` finishes.
        book = register(cluster, year)
        book.assert_gapless()
        assert document["number"] == book.numbers[-1]
        report = check(cluster)
        kinds = {f["kind"] for f in report["findings"]}
        assert kinds <= {"awaiting_copy"}, report
        if kinds:
            print(f"\n{moment}: check found {report['findings']}; reconcile", end="")
            out = cluster.certify("reconcile")
            assert "1 copies moved into the copies bucket" in out, out
            report = check(cluster)
        assert report["ok"] and report["findings"] == [], report
        assert register(cluster, year).awaiting == 0
        assert stored_sha256(cluster, "copies", copy_key(document)) == document["copy_sha256"]
        assert cluster.pid(f"replica{survivor}") == pids[survivor]  # nothing else restarted
    finally:
        cluster.start_replica(victim)
    cluster.wait_healthy(timeout=60)


# --- 3. PostgreSQL stopped and started ------------------------------------------------------


def test_postgres_restarted_fails_cleanly_then_works_without_restarting_certify(
    cluster: Cluster, certifiers: Certifiers, http: httpx.Client
) -> None:
    desk = certifiers.next()
    code = desk.scanned("Sổ hộ khẩu")
    issued = desk.certify(desk.scanned("Học bạ"))
    document_id, token = issued["id"], issued["verify_url"].rsplit("/", 1)[-1]
    next_code = desk.scanned("Giấy đăng ký kết hôn")
    year = register_year(issued)
    before = register(cluster, year)
    pids = {n: cluster.pid(f"replica{n}") for n in cluster.layout.replica_numbers}
    signer = certifiers.next()  # each certifier signs about twice a minute (TOTP)

    requests: dict[str, Callable[[], httpx.Response]] = {
        "queue": lambda: http.get("/api/v1/requests", headers=desk.clerk),
        "document": lambda: http.get(f"/api/v1/documents/{document_id}", headers=desk.clerk),
        "receive": lambda: http.post(
            "/api/v1/requests",
            json={
                "requester_name": "Trần Văn Bình",
                "requester_id_number": "079300001234",
                "originals": [{"document_name": "Giấy khai sinh", "pages": 1, "copies": 1}],
            },
            headers=desk.clerk,
        ),
        "login": lambda: http.post(
            "/api/v1/auth/tokens",
            json={
                "username": DEMO_CLERK,
                "password": cluster.password(DEMO_CLERK),
                "name": "faults",
            },
        ),
        "verify by code": lambda: http.get(f"/api/v1/verify/{token}"),
        "certify": lambda: signer.certify_answer(next_code),
    }

    # A certification in flight when PostgreSQL stops: a clean 503 when it next needs the
    # database (having built and signed the copy), no number taken.
    with database(cluster) as conn:
        signing = InFlight(lambda: certifiers.next().certify_answer(code))
        in_register_transaction(conn, signing)
    cluster.stop_postgres()
    answer = signing.result(timeout=60)
    assert (answer.status_code, error_code(answer)) == (503, "database_unavailable"), answer.text
    try:
        # While it is down: every request that needs it answers 503 with the code, promptly,
        # through the balancer (which fails open to the replicas' own answers).
        for what, send in requests.items():
            started = time.monotonic()
            got = send()
            seconds = time.monotonic() - started
            assert (got.status_code, error_code(got)) == (503, "database_unavailable"), (
                what,
                got.status_code,
                got.text,
            )
            assert seconds < PROMPT_SECONDS, (what, seconds)
        for url in (cluster.url, *map(cluster.replica_url, cluster.layout.replica_numbers)):
            ready = httpx.get(f"{url}/readyz", timeout=PROMPT_SECONDS, trust_env=False)
            assert ready.status_code == 503, (url, ready.text)
            assert ready.json()["error"] == "not_ready"
            assert ready.json()["checks"]["database"] == "database_unavailable"
            assert ready.json()["checks"]["storage"] == "ok"
        assert http.get("/healthz").status_code == 200  # what needs no database is served
    finally:
        cluster.start_postgres()

    # Back: the same requests work, by the same processes (pool pre-ping reconnects).
    wait_until(
        "/readyz 200 through the balancer",
        lambda: http.get("/readyz").status_code == 200,
        timeout=PROMPT_SECONDS,
    )
    assert {n: cluster.pid(f"replica{n}") for n in cluster.layout.replica_numbers} == pids
    for what, send in requests.items():
        got = send()
        assert got.status_code in (200, 201), (what, got.status_code, got.text)
    assert desk.original(code)["status"] == "scanned"  # the one in flight was rolled back
    document = certifiers.next().certify(code)
    after = register(cluster, year)
    after.assert_gapless()
    assert document["number"] == after.numbers[-1] == before.numbers[-1] + 2


# --- 4. the scratch disk full ---------------------------------------------------------------

SCRATCH_BYTES = 8 * 1024 * 1024
FULL_REPLICA = 1


def fill(directory: Path) -> Path:
    """Fill the filesystem of ``directory``, appending to one file; that file."""
    filler = directory / "filler"
    with filler.open("ab", buffering=0) as out:
        chunk = b"\0" * 65536
        try:
            while True:
                out.write(chunk)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
    return filler


def leave_free(filler: Path, free_bytes: int) -> None:
    """Shrink ``filler`` so that about ``free_bytes`` are free on its filesystem."""
    stat = os.statvfs(filler.parent)
    free = stat.f_bavail * stat.f_frsize
    os.truncate(filler, max(0, filler.stat().st_size - (free_bytes - free)))


def test_a_full_scratch_disk_is_a_clean_error_and_leaves_nothing_half_written(
    cluster: Cluster, certifiers: Certifiers
) -> None:
    desk = certifiers.next()
    code = desk.scanned("Giấy chứng nhận quyền sử dụng đất")  # before the disk is full
    scan_size = len(scan_jpeg())
    year = register_year(desk.certify(desk.scanned("Giấy phép lái xe")))
    with contextlib.ExitStack() as stack:
        try:
            scratch = stack.enter_context(cluster.small_scratch(FULL_REPLICA, SCRATCH_BYTES))
        except ClusterError as exc:  # no mount here (not root, no CAP_SYS_ADMIN)
            pytest.skip(f"cannot give the replica a small scratch disk: {exc}")
        # Straight to the replica whose disk is full (the balancer would pick either), each
        # attempt by another certifier (a TOTP code is accepted once).
        direct = stack.enter_context(
            httpx.Client(base_url=cluster.replica_url(FULL_REPLICA), timeout=60, trust_env=False)
        )
        replica = desk.using(direct)

        def attempt() -> httpx.Response:
            return certifiers.next().using(direct).certify_answer(code)

        before = (register(cluster, year), objects(cluster, "copies"), objects(cluster, "scans"))
        # Full, then room for the scans taken in again but not for the copy: the failure
        # is met inside the register transaction, after the number was taken.
        for free in (0, 2 * scan_size + 64 * 1024):
            filler = fill(scratch)
            leave_free(filler, free)
            answer = attempt()
            assert answer.status_code == 507, (free, answer.status_code, answer.text)
            assert error_code(answer) == "scratch_full"
            assert replica.original(code)["status"] == "scanned"
            assert (
                register(cluster, year),
                objects(cluster, "copies"),
                objects(cluster, "scans"),
            ) == before, f"something half-written with {free} bytes free"
            assert sorted(p.name for p in scratch.iterdir()) == ["filler"]
        # An upload on the full disk: the same clean error; the scan uploaded before stays.
        fill(scratch)
        upload = direct.put(
            f"/api/v1/requests/{code}/originals/1/scan",
            files=[("files", ("trang-1.jpg", scan_jpeg("LẦN HAI"), "image/jpeg"))],
            headers=replica.clerk,
        )
        assert (upload.status_code, error_code(upload)) == (507, "scratch_full"), upload.text
        assert objects(cluster, "scans") == before[2]

        # Room again: the same request works, with the next number.
        filler.unlink()
        answer = attempt()
        assert answer.status_code == 201, answer.text
        document = answer.json()["document"]
        after = register(cluster, year)
        after.assert_gapless()
        assert document["number"] == before[0].numbers[-1] + 1 == after.numbers[-1]
        assert sorted(p.name for p in scratch.iterdir()) == []
