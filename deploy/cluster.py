"""A distributed certify deployment on the loopback addresses of one machine (issue 13.3).

``scripts/cluster up|down|status|env [--dir DIR]`` runs it; the tests drive it through
:class:`Cluster`. What runs, all on loopback (ports shifted by ``--port-offset``):

- **MinIO**, one distributed deployment of 4 nodes with erasure coding (EC 2+2: one node may
  be down for reads and writes): node *n* is one ``minio server`` process on
  ``127.0.0.1n:901n`` with its own data directory ``minio/node{n}``, every node listing all
  four endpoints. MinIO takes an endpoint for its own when its host resolves to an address
  of this machine (any loopback address counts as 127.0.0.1) *and* its port is the one the
  process listens on; so four nodes on one machine need four ports as well as four
  addresses (each node also listens on 127.0.0.1 and ::1 of its port). Inside a container
  MinIO distrusts loopback names altogether and waits for them to "resolve to a valid IP";
  ``_MINIO_SERVER_LOCAL`` names the node's own endpoint there.
- **PostgreSQL**, an instance of its own in ``postgres/`` on 127.0.0.1:54330 (database
  ``certify``), so that a fault test may restart it without touching the server the rest of
  the test suite uses (``scripts/start-postgres``).
- **certify** replicas (``certify serve``) on 127.0.0.1:8101 and :8102, sharing the database,
  the MinIO deployment, the PKI directory ``pki/`` and its passphrase.
- **HAProxy** (Debian's), a user process with ``haproxy.cfg`` written here: 127.0.0.1:8100 in
  front of the replicas (health-checked on ``/readyz``) and 127.0.0.1:9010 in front of the
  MinIO nodes (``/minio/health/live``); the replicas reach MinIO through it.

Everything lives in the cluster directory (default ``var/cluster``): ``cluster.json`` (the
layout), ``secrets.json`` (MinIO's root credentials and the PKI passphrase, 0600),
``demo.json`` (what ``certify demo`` made: the officers' passwords, and the certifier's TOTP
secret; 0600), ``run/*.json`` (each process's pid and start time), ``logs/``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import functools
import io
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DIR = REPO / "var" / "cluster"
TEMPLATE = Path(__file__).with_name("haproxy.cfg.template")
DEMO_CERTIFIER = "hong.nt"
DEMO_CLERK = "lan.tt"
DEMO_ADMIN = "an.pv"
DEMO_AUTHORITY = "dn-tanphu"
MINIO_USER = "certify-admin"
# HAProxy's unchecked entry of a replica, used only when no replica is ready (fail open).
FALLBACK_SUFFIX = "-fallback"
TOTP_STEP_SECONDS = 30

# Popen objects of the processes this Python process started, by pid: kept so that a process
# killed here is reaped (no zombie counted as alive) and no running child is garbage-collected.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}

# The balancer's own error answers, in the service's error shape (api/errors.py).
_LB_ERRORS = {
    502: (
        "Bad Gateway",
        "bad_gateway",
        "Máy chủ dịch vụ trả lời sai, xin thử lại. / The service answered badly; try again.",
    ),
    503: (
        "Service Unavailable",
        "service_unavailable",
        "Dịch vụ tạm thời không sẵn sàng, xin thử lại sau ít phút. / The service is "
        "temporarily unavailable; try again in a few minutes.",
    ),
    504: (
        "Gateway Timeout",
        "gateway_timeout",
        "Dịch vụ trả lời quá chậm, xin thử lại. / The service took too long; try again.",
    ),
}


class ClusterError(RuntimeError):
    """A piece of the cluster could not be started, stopped or reached; the message names it."""


# --- layout ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Where everything listens. Every port is shifted by ``port_offset``, so that a test's
    cluster never meets a developer's."""

    port_offset: int = 0
    minio_hosts: tuple[str, ...] = ("127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14")
    lb_host: str = "127.0.0.1"
    replicas: int = 2
    # ``certify serve --workers N`` (issue 13.1); None: the command's default.
    workers: int | None = None
    # Extra CERTIFY_* settings of every replica and command, e.g. a rate limit lifted.
    replica_env: tuple[tuple[str, str], ...] = ()

    @property
    def certify_port(self) -> int:
        return 8100 + self.port_offset

    def replica_port(self, n: int) -> int:
        return self.certify_port + n

    @property
    def minio_port(self) -> int:
        return 9010 + self.port_offset

    def minio_node_port(self, n: int) -> int:
        return self.minio_port + n

    def minio_console_port(self, n: int) -> int:
        return self.minio_port + 10 + n

    @property
    def postgres_port(self) -> int:
        return 54330 + self.port_offset

    @property
    def nodes(self) -> range:
        return range(1, len(self.minio_hosts) + 1)

    @property
    def replica_numbers(self) -> range:
        return range(1, self.replicas + 1)

    def ports(self) -> list[tuple[str, int]]:
        """Every (address, port) the cluster listens on."""
        taken = [(self.lb_host, self.certify_port), (self.lb_host, self.minio_port)]
        taken += [("127.0.0.1", self.replica_port(n)) for n in self.replica_numbers]
        for n, host in zip(self.nodes, self.minio_hosts, strict=True):
            # A MinIO node also listens on 127.0.0.1 of its port.
            taken += [(host, self.minio_node_port(n)), ("127.0.0.1", self.minio_node_port(n))]
            taken.append((host, self.minio_console_port(n)))
        taken.append(("127.0.0.1", self.postgres_port))
        return taken

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Layout:
        return cls(
            port_offset=int(data["port_offset"]),
            minio_hosts=tuple(data["minio_hosts"]),
            lb_host=str(data["lb_host"]),
            replicas=int(data["replicas"]),
            workers=None if data.get("workers") is None else int(data["workers"]),
            replica_env=tuple((str(k), str(v)) for k, v in data.get("replica_env", ())),
        )


def ports_free(layout: Layout) -> bool:
    """Whether every address and port of ``layout`` can be bound now."""
    for host, port in layout.ports():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                return False
    return True


# --- status ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """One process of the cluster as ``status`` sees it."""

    name: str
    pid: int | None
    address: str
    up: bool
    detail: str = ""


@dataclass(frozen=True)
class ClusterStatus:
    pieces: tuple[Piece, ...]
    minio_health: int | None  # /minio/health/cluster through the balancer: 200 = write quorum
    drives_online: int | None
    drives_total: int
    backends: dict[str, str] = field(default_factory=dict)  # "certify/replica1" -> "UP"

    @property
    def healthy(self) -> bool:
        return (
            all(p.up for p in self.pieces)
            and self.minio_health == 200
            and self.drives_online == self.drives_total
            and bool(self.backends)
            and all(state == "UP" for state in self.backends.values())
        )

    def problems(self) -> list[str]:
        """What is not right, one item each."""
        down = [p.name for p in self.pieces if not p.up]
        if len(down) == len(self.pieces):
            return ["nothing runs (scripts/cluster up)"]
        found = [f"down: {', '.join(down)}"] if down else []
        if self.minio_health != 200:
            found.append(f"MinIO cluster health {self.minio_health or 'unanswered'}")
        if self.drives_online != self.drives_total:
            online = "?" if self.drives_online is None else self.drives_online
            found.append(f"MinIO drives online {online}/{self.drives_total}")
        found += [f"HAProxy backend {k} is {v}" for k, v in self.backends.items() if v != "UP"]
        if not self.backends:
            found.append("HAProxy's backends cannot be read")
        return found

    def render(self) -> str:
        lines = []
        for p in self.pieces:
            pid = str(p.pid) if p.pid else "-"
            state = "up" if p.up else "DOWN"
            lines.append(f"{p.name:10} pid {pid:>7}  {p.address:28} {state:5} {p.detail}".rstrip())
        drives = "?" if self.drives_online is None else str(self.drives_online)
        lines.append(
            f"minio      cluster health {self.minio_health or '-'} (200: write quorum), "
            f"{drives}/{self.drives_total} drives online"
        )
        for name, state in self.backends.items():
            lines.append(f"haproxy    backend {name:18} {state}")
        lines.append("healthy" if self.healthy else "NOT HEALTHY: " + "; ".join(self.problems()))
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "healthy": self.healthy}


# --- small helpers -----------------------------------------------------------------------

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_status(url: str, *, timeout: float = 2.0) -> int | None:
    """The HTTP status of a GET of ``url`` (loopback only), or None when nothing answers."""
    try:
        with _NO_PROXY.open(url, timeout=timeout) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError):
        return None


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)


def _tail(path: Path, chars: int = 1500) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return "(no log)"


def _start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks (field 22 of /proc/PID/stat), or None if it
    is gone or a zombie: with the pid it names one process, never a later one given that pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _find_haproxy() -> Path:
    found = shutil.which("haproxy") or next(
        (p for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy") if os.access(p, os.X_OK)),
        None,
    )
    if found is None:
        raise ClusterError(
            "HAProxy is not installed: apt-get install -y haproxy (scripts/bootstrap --test "
            "installs it; scripts/cluster up does when run as root)"
        )
    return Path(found)


def _postgres_bindir() -> Path:
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    for candidate in candidates:
        if (candidate / "postgres").is_file():
            return candidate
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        bindir = Path(
            subprocess.run(
                ["pg_config", "--bindir"],  # noqa: S607 - the installed PostgreSQL
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        )
        if (bindir / "postgres").is_file():
            return bindir
    raise ClusterError(
        "PostgreSQL is not installed: apt-get install -y postgresql (scripts/bootstrap --test)"
    )


def _wait_for(
    what: str, check: Callable[[], bool], deadline: float, *, log: Path | None = None
) -> None:
    """Wait until ``check()`` holds three times in a row, or raise naming ``what``."""
    good = 0
    while time.monotonic() < deadline:
        good = good + 1 if check() else 0
        if good >= 3:
            return
        time.sleep(0.2)
    tail = f"\n--- {log}:\n{_tail(log)}" if log is not None else ""
    raise ClusterError(f"{what} did not come up in time{tail}")


# --- the cluster -------------------------------------------------------------------------


@dataclass
class Cluster:
    """The cluster in ``directory``: its layout, addresses, credentials and processes.

    Make one with :meth:`create` (before the first ``up``) or :meth:`open` (once it exists).
    """

    directory: Path
    layout: Layout
    minio_root_user: str
    minio_root_password: str
    pki_passphrase: str
    _totp_steps: dict[str, int] = field(default_factory=dict, repr=False)
    _totp_secrets: dict[str, str] = field(default_factory=dict, repr=False)

    # -- making and opening --

    @classmethod
    def create(cls, directory: Path, layout: Layout | None = None) -> Cluster:
        """The cluster of ``directory``, made (layout and secrets written) if it is new.

        Raises:
            ClusterError: the directory holds a cluster of another layout.
        """
        directory = directory.resolve()
        config = directory / "cluster.json"
        if config.exists():
            cluster = cls.open(directory)
            if layout is not None and layout != cluster.layout:
                raise ClusterError(
                    f"{directory} holds a cluster of another layout ({cluster.layout}); "
                    "use it as it is, or run `down` and remove the directory"
                )
            return cluster
        layout = layout or Layout()
        for sub in ("run", "logs", "pki", "haproxy"):
            (directory / sub).mkdir(parents=True, exist_ok=True)
        if _running_as_root():
            # PostgreSQL runs as the user postgres, which must reach postgres/ inside.
            directory.chmod(0o711)
        secrets_file = directory / "secrets.json"
        if not secrets_file.exists():
            _write_private(
                secrets_file,
                json.dumps(
                    {
                        "minio_root_user": MINIO_USER,
                        "minio_root_password": secrets.token_urlsafe(24),
                        "pki_passphrase": secrets.token_urlsafe(32),
                    },
                    indent=2,
                ),
            )
        config.write_text(json.dumps({"layout": layout.to_json()}, indent=2))
        return cls.open(directory)

    @classmethod
    def open(cls, directory: Path) -> Cluster:
        """The cluster made earlier in ``directory``.

        Raises:
            ClusterError: there is none.
        """
        directory = directory.resolve()
        try:
            layout = Layout.from_json(
                json.loads((directory / "cluster.json").read_text())["layout"]
            )
            kept = json.loads((directory / "secrets.json").read_text())
        except (OSError, ValueError, KeyError) as exc:
            raise ClusterError(f"no cluster in {directory} (run `scripts/cluster up`)") from exc
        return cls(
            directory=directory,
            layout=layout,
            minio_root_user=str(kept["minio_root_user"]),
            minio_root_password=str(kept["minio_root_password"]),
            pki_passphrase=str(kept["pki_passphrase"]),
        )

    # -- addresses --

    @property
    def url(self) -> str:
        """The balancer in front of the replicas: the service's one public address."""
        return f"http://{self.layout.lb_host}:{self.layout.certify_port}"

    @property
    def s3_endpoint(self) -> str:
        """The balancer in front of the MinIO nodes (``host:port``)."""
        return f"{self.layout.lb_host}:{self.layout.minio_port}"

    def minio_node_endpoint(self, n: int) -> str:
        return f"{self.layout.minio_hosts[n - 1]}:{self.layout.minio_node_port(n)}"

    def replica_url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.layout.replica_port(n)}"

    @property
    def postgres_address(self) -> str:
        return f"127.0.0.1:{self.layout.postgres_port}"

    @property
    def database_url(self) -> str:
        return f"postgresql+psycopg://postgres@{self.postgres_address}/certify"

    # -- what `certify demo` made --

    def demo(self) -> dict[str, Any]:
        """``certify demo --json``'s output (officers and their passwords), and the
        certifier's TOTP secret under ``totp_secret``.

        Raises:
            ClusterError: the cluster was never seeded (``up`` does it).
        """
        try:
            data: dict[str, Any] = json.loads((self.directory / "demo.json").read_text())
        except (OSError, ValueError) as exc:
            raise ClusterError(f"{self.directory} is not seeded yet (run `up`)") from exc
        return data

    def password(self, username: str) -> str:
        for officer in self.demo()["officers"]:
            if officer["username"] == username:
                return str(officer["password"])
        raise ClusterError(f"no demo officer {username}")

    def remember_totp(self, username: str, secret: str) -> None:
        """Keep the TOTP secret of an officer enrolled after the demo (see :meth:`totp_code`)."""
        self._totp_secrets[username] = secret

    def totp_code(self, username: str = DEMO_CERTIFIER) -> str:
        """A TOTP code for ``username`` (the demo's certifier, or one given to
        :meth:`remember_totp`) that was not used before by this object (RFC 6238).

        The service accepts a code of the current 30-second step or one step either side, and
        each step once (§5.2): three codes at once, then one per step; this waits when none
        is left. A stream of signatures needs a certifier per signature every 30 s or so. The
        previous step's code is used only early in the current step, so that it is still
        current enough when it arrives.
        """
        import pyotp

        if username == DEMO_CERTIFIER and username not in self._totp_secrets:
            self._totp_secrets[username] = str(self.demo()["totp_secret"])
        totp = pyotp.TOTP(self._totp_secrets[username])
        while True:
            now = time.time()
            step = int(now // TOTP_STEP_SECONDS)
            into = now - step * TOTP_STEP_SECONDS
            earliest = step - 1 if into < TOTP_STEP_SECONDS - 8 else step
            wanted = max(earliest, self._totp_steps.get(username, -1) + 1)
            if wanted <= step + 1:
                self._totp_steps[username] = wanted
                return str(totp.generate_otp(wanted))
            time.sleep((step + 1) * TOTP_STEP_SECONDS - now + 0.5)

    # -- environment of certify processes --

    def certify_env(self, replica: int | None = None) -> dict[str, str]:
        """The environment of a certify process of this cluster: replica ``n``'s, or that of a
        command run by an operator (``certify issue``, ``reconcile``, ``check``)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("CERTIFY_")}
        data_dir = self.directory / (f"replica{replica}" if replica else "admin")
        env.update(
            {
                "CERTIFY_DATA_DIR": str(data_dir),
                "CERTIFY_DATABASE_URL": self.database_url,
                "CERTIFY_S3_ENDPOINT": self.s3_endpoint,
                "CERTIFY_S3_ACCESS_KEY": self.minio_root_user,
                "CERTIFY_S3_SECRET_KEY": self.minio_root_password,
                "CERTIFY_PKI_DIR": str(self.directory / "pki"),
                "CERTIFY_PKI_PASSPHRASE": self.pki_passphrase,
                "CERTIFY_DEPLOYMENT": "demo",
                "CERTIFY_PUBLIC_BASE_URL": self.url,
            }
        )
        if replica:
            env["CERTIFY_HOST"] = "127.0.0.1"
            env["CERTIFY_PORT"] = str(self.layout.replica_port(replica))
            # Each replica's scratch files (intake spools, signed copies on their way to
            # MinIO) in a directory of its own, which a test may fill.
            env["TMPDIR"] = str(data_dir / "tmp")
        env.update(dict(self.layout.replica_env))
        return env

    def certify(self, *args: str, stdin: str | None = None, timeout: float = 300) -> str:
        """Run ``certify ARGS`` as an operator of this cluster; its standard output.

        Raises:
            ClusterError: it failed (its output in the message).
        """
        done = subprocess.run(  # noqa: S603 - our own command
            [sys.executable, "-m", "api.cli", *args],
            env=self.certify_env(),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=REPO,
        )
        if done.returncode != 0:
            raise ClusterError(
                f"certify {' '.join(args)} failed ({done.returncode}):\n"
                f"{done.stdout[-1000:]}{done.stderr[-2000:]}"
            )
        return done.stdout

    def enroll_totp(self, username: str, password: str) -> str:
        """Enrol ``username``'s TOTP second factor (``certify officer totp-enroll``) and
        remember it; the secret."""
        out = self.certify(
            "officer",
            "totp-enroll",
            "--username",
            username,
            "--password-fd",
            "0",
            stdin=password + "\n",
        )
        secret = next(
            line.split()[-1] for line in out.splitlines() if line.strip().startswith("secret ")
        )
        self.remember_totp(username, secret)
        return secret

    # -- processes --

    def _record(self, name: str) -> Path:
        return self.directory / "run" / f"{name}.json"

    def _log(self, name: str) -> Path:
        return self.directory / "logs" / f"{name}.log"

    def pid(self, name: str) -> int | None:
        """The pid of process ``name`` if it runs (the one we started, not a reused pid)."""
        try:
            kept = json.loads(self._record(name).read_text())
            pid, ticks = int(kept["pid"]), int(kept["start_ticks"])
        except (OSError, ValueError, KeyError):
            return None
        child = _CHILDREN.get(pid)
        if child is not None and child.poll() is not None:
            del _CHILDREN[pid]  # reaped
            return None
        return pid if _start_ticks(pid) == ticks else None

    def _spawn(self, name: str, argv: Sequence[str], env: dict[str, str]) -> int:
        log = self._log(name)
        with log.open("ab") as out:
            out.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} start {name}\n".encode())
            out.flush()
            proc = subprocess.Popen(  # noqa: S603 - fixed arguments
                list(argv),
                env=env,
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, which we stop whole
            )
        _CHILDREN[proc.pid] = proc
        ticks = _start_ticks(proc.pid)
        self._record(name).write_text(
            json.dumps({"pid": proc.pid, "start_ticks": ticks, "argv": list(argv)})
        )
        return proc.pid

    def _stop(self, name: str, *, sig: int = signal.SIGTERM, timeout: float = 15.0) -> bool:
        """Stop process ``name`` and its process group: ``sig``, then SIGKILL after
        ``timeout``. False if it was not running."""
        pid = self.pid(name)
        if pid is None:
            self._record(name).unlink(missing_ok=True)
            return False
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, sig)  # the group the process leads (start_new_session)
        deadline = time.monotonic() + timeout
        while self.pid(name) is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.pid(name) is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            while self.pid(name) is not None:
                time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)  # what of its group outlived it
        child = _CHILDREN.pop(pid, None)
        if child is not None:
            child.wait(timeout=5)
        self._record(name).unlink(missing_ok=True)
        return True

    # -- MinIO --

    def _minio_node_argv(self, n: int, binary: Path) -> list[str]:
        endpoints = [
            f"http://{self.minio_node_endpoint(k)}{self.directory / 'minio' / f'node{k}'}"
            for k in self.layout.nodes
        ]
        host = self.layout.minio_hosts[n - 1]
        return [
            str(binary),
            "server",
            "--address",
            self.minio_node_endpoint(n),
            "--console-address",
            f"{host}:{self.layout.minio_console_port(n)}",
            "--quiet",
            *endpoints,
        ]

    def start_minio_node(self, n: int, *, wait: bool = True, timeout: float = 60.0) -> None:
        """Start MinIO node ``n`` (1-4) if it is not running; with ``wait``, until it answers
        its readiness probe.

        Raises:
            ClusterError: it did not come up.
        """
        from storage.minio_server import ensure_minio_binary

        if self.pid(f"minio{n}") is not None:
            return
        data = self.directory / "minio" / f"node{n}"
        data.mkdir(parents=True, exist_ok=True)
        if any(c in str(data) for c in " ,{}"):
            raise ClusterError(f"MinIO cannot use a data directory named {data}")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("CERTIFY_", "MINIO_"))},
            "MINIO_ROOT_USER": self.minio_root_user,
            "MINIO_ROOT_PASSWORD": self.minio_root_password,
            "MINIO_BROWSER": "off",
            "MINIO_UPDATE": "off",
            # Drives on the root disk are refused otherwise in a distributed setup.
            "MINIO_CI_CD": "1",
            # In a container (/.dockerenv) MinIO waits for loopback names to resolve to
            # another address; this tells it which endpoint is this node's.
            "_MINIO_SERVER_LOCAL": self.minio_node_endpoint(n),
        }
        self._spawn(f"minio{n}", self._minio_node_argv(n, ensure_minio_binary()), env)
        if wait:
            _wait_for(
                f"MinIO node {n} ({self.minio_node_endpoint(n)})",
                functools.partial(self._minio_node_healthy, n, "ready"),
                time.monotonic() + timeout,
                log=self._log(f"minio{n}"),
            )

    def _minio_node_healthy(self, n: int, probe: str) -> bool:
        url = f"http://{self.minio_node_endpoint(n)}/minio/health/{probe}"
        return self.pid(f"minio{n}") is not None and http_status(url) == 200

    def kill_minio_node(self, n: int, *, sig: int = signal.SIGKILL) -> None:
        """Stop MinIO node ``n`` at once (SIGKILL: as if its machine died)."""
        self._stop(f"minio{n}", sig=sig)

    def minio_info(self) -> dict[str, Any] | None:
        """MinIO's admin ``info`` (``mc admin info``), asked through the balancer; None when
        it does not answer."""
        import urllib3
        from minio import MinioAdmin
        from minio.credentials.providers import StaticProvider

        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=2, read=5), retries=urllib3.Retry(total=1)
        )
        try:
            admin = MinioAdmin(
                endpoint=self.s3_endpoint,
                credentials=StaticProvider(self.minio_root_user, self.minio_root_password),
                secure=False,
                http_client=http,
            )
            info: dict[str, Any] = json.loads(admin.info())
        except Exception:  # whatever went wrong, MinIO did not answer
            return None
        finally:
            http.clear()
        return info

    def minio_drives(self) -> tuple[int, int] | None:
        """(online, offline) drives as MinIO's admin API counts them (``mc admin info``),
        asked through the balancer; None when it does not answer."""
        info = self.minio_info()
        if info is None or "backend" not in info:
            return None
        backend = info["backend"]
        return int(backend.get("onlineDisks", 0)), int(backend.get("offlineDisks", 0))

    def minio_drive_states(self) -> dict[str, str]:
        """Each drive's state as MinIO reports it ("ok", "offline", "unformatted"...; a
        drive being healed also says so), by ``endpoint``; empty when MinIO does not answer."""
        info = self.minio_info() or {}
        states = {}
        for server in info.get("servers", []):
            for drive in server.get("drives", []):
                state = str(drive.get("state", "?"))
                if drive.get("healing"):
                    state += " (healing)"
                states[str(drive.get("endpoint", server.get("endpoint")))] = state
        return states

    def object_files(self, bucket: str, key: str) -> dict[int, frozenset[str]]:
        """The files of object ``key`` on each MinIO node's drive (its ``xl.meta`` and, for
        objects not inlined there, each version's shard files), by node number. An object
        written while a node was down lacks them on that node until MinIO heals it, when it
        is read or by its scanner; healed, every node holds the same files."""
        found = {}
        for n in self.layout.nodes:
            root = self.directory / "minio" / f"node{n}" / bucket / key
            found[n] = frozenset(
                str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()
            )
        return found

    def minio_health(self) -> int | None:
        """``/minio/health/cluster`` through the balancer: 200 when writes have quorum."""
        return http_status(f"http://{self.s3_endpoint}/minio/health/cluster")

    def minio_client(self, *, retries: bool = True) -> Any:
        """A ``minio.Minio`` client of the deployment, through the balancer; without
        ``retries``, one that answers at once what MinIO answered (its default retries a 503
        after the answer's ``Retry-After``, which MinIO sets to minutes).
        """
        import urllib3
        from minio import Minio

        http = None
        if not retries:
            http = urllib3.PoolManager(
                timeout=urllib3.Timeout(connect=2, read=10), retries=urllib3.Retry(total=0)
            )
        return Minio(
            self.s3_endpoint,
            access_key=self.minio_root_user,
            secret_key=self.minio_root_password,
            secure=False,
            http_client=http,
        )

    # -- PostgreSQL --

    @property
    def _pg_dir(self) -> Path:
        return self.directory / "postgres"

    def _as_postgres(self, argv: Sequence[str]) -> list[str]:
        # PostgreSQL refuses to run as root.
        return ["runuser", "-u", "postgres", "--", *argv] if _running_as_root() else list(argv)

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        bindir = _postgres_bindir()
        return subprocess.run(  # noqa: S603 - fixed arguments
            self._as_postgres([str(bindir / "pg_ctl"), "-D", str(self._pg_dir / "data"), *args]),
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )

    def postgres_pid(self) -> int | None:
        try:
            pid = int((self._pg_dir / "data" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        return pid if _start_ticks(pid) is not None else None

    def postgres_ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.layout.postgres_port), timeout=1):
                pass
        except OSError:
            return False
        bindir = _postgres_bindir()
        return (
            subprocess.run(  # noqa: S603 - fixed arguments
                [
                    str(bindir / "pg_isready"),
                    "-q",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.layout.postgres_port),
                    "-U",
                    "postgres",
                    "-t",
                    "2",
                ],
                check=False,
            ).returncode
            == 0
        )

    def _init_postgres(self) -> None:
        bindir = _postgres_bindir()
        data = self._pg_dir / "data"
        if (data / "PG_VERSION").exists():
            return
        self._pg_dir.mkdir(exist_ok=True)
        self._pg_dir.chmod(0o700)
        if _running_as_root():
            try:
                pg_user = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise ClusterError("no user postgres (apt-get install -y postgresql)") from exc
            os.chown(self._pg_dir, pg_user.pw_uid, pg_user.pw_gid)
            probe = subprocess.run(  # noqa: S603 - fixed arguments
                ["runuser", "-u", "postgres", "--", "test", "-w", str(self._pg_dir)],  # noqa: S607
                check=False,
            )
            if probe.returncode != 0:
                raise ClusterError(
                    f"the user postgres cannot reach {self._pg_dir}: put the cluster directory "
                    "where every user may pass (e.g. under /tmp or the repository)"
                )
        for locale in (["--locale=C.UTF-8"], ["--no-locale"]):
            done = subprocess.run(  # noqa: S603 - fixed arguments
                self._as_postgres(
                    [
                        str(bindir / "initdb"),
                        "-D",
                        str(data),
                        "-U",
                        "postgres",
                        "--auth=trust",
                        "--encoding=UTF8",
                        *locale,
                    ]
                ),
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode == 0:
                break
        else:
            raise ClusterError(f"PostgreSQL initdb failed:\n{done.stdout}{done.stderr}"[-2000:])
        # Trust loopback connections only: a local cluster for tests and demonstrations.
        hba = data / "pg_hba.conf"
        hba.write_text(
            "# certify's loopback cluster: local and loopback connections only\n"
            "local all all trust\n"
            "host  all all 127.0.0.1/32 trust\n"
        )

    def start_postgres(self, *, timeout: float = 60.0) -> None:
        """Start the cluster's PostgreSQL (initialised on first use) and make the database
        ``certify``.

        Raises:
            ClusterError: it did not start.
        """
        self._init_postgres()
        if self.postgres_pid() is None:
            # fsync and full-page writes off: only a crash of the whole machine could lose
            # data, never one of PostgreSQL's processes (synchronous_commit stays on: a fault
            # test that kills PostgreSQL loses no committed row).
            options = (
                f"-h 127.0.0.1 -p {self.layout.postgres_port} -c unix_socket_directories='' "
                "-c max_connections=300 -c fsync=off -c full_page_writes=off"
            )
            done = self._pg_ctl(
                "-l",
                str(self._pg_dir / "postgres.log"),
                "-w",
                "-t",
                str(int(timeout)),
                "start",
                "-o",
                options,
                check=False,
            )
            if done.returncode != 0:
                raise ClusterError(
                    f"PostgreSQL did not start on {self.postgres_address}:\n{done.stderr}\n"
                    + _tail(self._pg_dir / "postgres.log")
                )
        _wait_for(
            f"PostgreSQL ({self.postgres_address})",
            self.postgres_ready,
            time.monotonic() + timeout,
            log=self._pg_dir / "postgres.log",
        )
        self._create_database()

    def _create_database(self) -> None:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.layout.postgres_port} user=postgres dbname=postgres",
            autocommit=True,
            connect_timeout=5,
        ) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = 'certify'").fetchone()
            if exists is None:
                conn.execute("CREATE DATABASE certify")

    def stop_postgres(self, *, mode: str = "fast") -> None:
        """Stop the cluster's PostgreSQL (``fast``: roll back open transactions and close
        connections; ``immediate``: as if it crashed)."""
        if self.postgres_pid() is not None:
            self._pg_ctl("-m", mode, "-w", "stop", check=False)

    def restart_postgres(self, *, down_seconds: float = 0.0, mode: str = "fast") -> None:
        """Stop PostgreSQL, leave it down for ``down_seconds``, start it again."""
        self.stop_postgres(mode=mode)
        time.sleep(down_seconds)
        self.start_postgres()

    # -- certify replicas --

    def start_replica(self, n: int, *, wait: bool = True, timeout: float = 90.0) -> None:
        """Start certify replica ``n`` if it is not running; with ``wait``, until its
        ``/readyz`` answers 200.

        Raises:
            ClusterError: it did not become ready.
        """
        if self.pid(f"replica{n}") is not None:
            return
        env = self.certify_env(n)
        Path(env["TMPDIR"]).mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "api.cli", "serve", "--no-migrate"]
        if self.layout.workers is not None:
            argv += ["--workers", str(self.layout.workers)]
        self._spawn(f"replica{n}", argv, env)
        if wait:
            _wait_for(
                f"certify replica {n} ({self.replica_url(n)}/readyz)",
                functools.partial(self._replica_ready, n),
                time.monotonic() + timeout,
                log=self._log(f"replica{n}"),
            )

    def _replica_ready(self, n: int) -> bool:
        url = f"{self.replica_url(n)}/readyz"
        return self.pid(f"replica{n}") is not None and http_status(url, timeout=5) == 200

    def kill_replica(self, n: int, *, sig: int = signal.SIGKILL) -> None:
        """Stop replica ``n`` and its worker processes at once (SIGKILL: a crash)."""
        self._stop(f"replica{n}", sig=sig)

    def scratch_dir(self, n: int) -> Path:
        """Replica ``n``'s scratch directory (its ``TMPDIR``)."""
        return Path(self.certify_env(n)["TMPDIR"])

    @contextlib.contextmanager
    def small_scratch(self, n: int, size_bytes: int) -> Iterator[Path]:
        """Replica ``n``'s scratch directory on a filesystem of its own of ``size_bytes``
        (a tmpfs mounted over it while the replica runs), for a test to fill; unmounted at
        the end. What the directory held stays hidden meanwhile: with one worker a replica
        keeps nothing there between requests (with several, ``certify serve`` keeps its
        Prometheus files there, so this refuses).

        Raises:
            ClusterError: the replica runs several workers, or the tmpfs cannot be mounted
                (not root, no CAP_SYS_ADMIN).
        """
        if self.layout.workers != 1:
            raise ClusterError("small_scratch needs a layout of one worker per replica")
        scratch = self.scratch_dir(n)
        scratch.mkdir(parents=True, exist_ok=True)
        mounted = subprocess.run(  # noqa: S603 - fixed arguments
            ["mount", "-t", "tmpfs", "-o", f"size={size_bytes},mode=1777", "tmpfs", str(scratch)],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        )
        if mounted.returncode != 0:
            raise ClusterError(f"cannot mount a tmpfs on {scratch}: {mounted.stderr.strip()}")
        try:
            yield scratch
        finally:
            # Lazily: a file the replica still holds open must not keep the mount.
            subprocess.run(  # noqa: S603 - fixed arguments
                ["umount", "-l", str(scratch)],  # noqa: S607
                capture_output=True,
                check=False,
            )

    def _seed(self) -> None:
        """``certify db upgrade`` and ``certify demo`` once (the province, its PKI, the
        authority dn-tanphu and its officers, with the certifier's TOTP enrolled), keeping
        what they print in demo.json."""
        self.certify("db", "upgrade")
        demo_file = self.directory / "demo.json"
        if demo_file.exists():
            return
        made = json.loads(self.certify("demo", "--json"))
        passwords = {o["username"]: o["password"] for o in made["officers"]}
        if "(unchanged)" in passwords.values():
            raise ClusterError(
                "the database was seeded by another run whose passwords are lost: run `down` "
                f"and remove {self.directory}"
            )
        made["totp_secret"] = self.enroll_totp(DEMO_CERTIFIER, passwords[DEMO_CERTIFIER])
        _write_private(demo_file, json.dumps(made, ensure_ascii=False, indent=2))

    # -- HAProxy --

    def _write_haproxy_config(self) -> Path:
        errors = self.directory / "haproxy"
        errors.mkdir(exist_ok=True)
        for status, (reason, code, message) in _LB_ERRORS.items():
            body = json.dumps({"error": code, "message": message}, ensure_ascii=False).encode()
            head = (
                f"HTTP/1.1 {status} {reason}\r\n"
                "Content-Type: application/json; charset=utf-8\r\n"
                "Cache-Control: no-store\r\n"
                "Connection: close\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            )
            (errors / f"{status}.http").write_bytes(head.encode() + body)
        socket_path = self.directory / "run" / "haproxy.sock"
        if len(str(socket_path)) > 100:
            raise ClusterError(
                f"the cluster directory's path is too long for a socket: {socket_path}"
            )
        lay = self.layout
        text = string.Template(TEMPLATE.read_text()).substitute(
            certify_bind=f"{lay.lb_host}:{lay.certify_port}",
            minio_bind=f"{lay.lb_host}:{lay.minio_port}",
            stats_socket=str(socket_path),
            errors_dir=str(errors),
            certify_servers="\n".join(
                f"    server replica{n} 127.0.0.1:{lay.replica_port(n)} check"
                for n in lay.replica_numbers
            ),
            certify_fallback_servers="\n".join(
                f"    server replica{n}{FALLBACK_SUFFIX} 127.0.0.1:{lay.replica_port(n)} backup"
                for n in lay.replica_numbers
            ),
            minio_servers="\n".join(
                f"    server node{n} {self.minio_node_endpoint(n)} check" for n in lay.nodes
            ),
        )
        config = self.directory / "haproxy.cfg"
        config.write_text(text)
        return config

    def start_haproxy(self, *, timeout: float = 30.0) -> None:
        """Start HAProxy if it is not running.

        Raises:
            ClusterError: HAProxy is missing, its configuration is wrong, or it did not listen.
        """
        if self.pid("haproxy") is not None:
            return
        binary = _find_haproxy()
        config = self._write_haproxy_config()
        check = subprocess.run(  # noqa: S603 - fixed arguments
            [str(binary), "-c", "-q", "-f", str(config)],
            capture_output=True,
            text=True,
            check=False,
        )
        if check.returncode != 0:
            raise ClusterError(f"HAProxy refuses {config}:\n{check.stdout}{check.stderr}")
        env = {k: v for k, v in os.environ.items() if not k.startswith("CERTIFY_")}
        self._spawn("haproxy", [str(binary), "-db", "-f", str(config)], env)
        _wait_for(
            f"HAProxy ({self.url})",
            # Its stats socket answers once it listens (the certify frontend may still be
            # waiting for replicas that are not started yet: it fails open to them).
            lambda: self.pid("haproxy") is not None and bool(self.backends()),
            time.monotonic() + timeout,
            log=self._log("haproxy"),
        )

    def _server_stats(self) -> list[dict[str, str]]:
        """HAProxy's ``show stat`` rows of its servers (not frontends nor backends); empty
        when HAProxy does not answer."""
        path = self.directory / "run" / "haproxy.sock"
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(2)
                sock.connect(str(path))
                sock.sendall(b"show stat\n")
                chunks = []
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
        except OSError:
            return []
        text = b"".join(chunks).decode(errors="replace").lstrip("# ")
        return [
            row
            for row in csv.DictReader(io.StringIO(text))
            if row.get("svname") not in ("FRONTEND", "BACKEND", None)
        ]

    def backends(self) -> dict[str, str]:
        """HAProxy's view of each checked server (``show stat`` on its socket):
        "certify/replica1" -> "UP", "DOWN", "MAINT"...; empty when HAProxy does not answer.
        The unchecked fail-open entries of the replicas (``backup``) are left out."""
        return {
            f"{row['pxname']}/{row['svname']}": (row.get("status") or "?").split()[0]
            for row in self._server_stats()
            if row.get("bck") != "1"
        }

    def replicas_serving(self) -> set[int]:
        """The replicas HAProxy has a request in progress with now (its current sessions,
        fail-open entries included): which one to kill mid-request."""
        serving = set()
        for row in self._server_stats():
            name = row["svname"].removesuffix(FALLBACK_SUFFIX)
            busy = int(row.get("scur") or 0) > 0
            if row["pxname"] == "certify" and name.startswith("replica") and busy:
                serving.add(int(name.removeprefix("replica")))
        return serving

    # -- the whole --

    def up(self, *, timeout: float = 180.0, echo: Callable[[str], None] | None = None) -> None:
        """Start whatever is not running, seed the database once, and wait until the balancer
        answers ``/readyz`` 200, MinIO's cluster health is 200 with every drive online and
        every balancer backend is UP.

        Raises:
            ClusterError: naming what did not come up (and the end of its log).
        """
        say = echo or (lambda _line: None)
        deadline = time.monotonic() + timeout

        def left() -> float:
            return max(deadline - time.monotonic(), 1.0)

        say(f"postgres   {self.postgres_address}")
        self.start_postgres(timeout=left())
        for n in self.layout.nodes:
            say(f"minio{n}     {self.minio_node_endpoint(n)}")
            self.start_minio_node(n, wait=False)
        for n in self.layout.nodes:
            _wait_for(
                f"MinIO node {n} ({self.minio_node_endpoint(n)}, cluster health)",
                functools.partial(self._minio_node_healthy, n, "cluster"),
                time.monotonic() + left(),
                log=self._log(f"minio{n}"),
            )
        say(f"haproxy    {self.url} (certify), {self.s3_endpoint} (minio)")
        self.start_haproxy(timeout=left())
        _wait_for(
            f"MinIO through the balancer ({self.s3_endpoint}/minio/health/cluster)",
            lambda: self.minio_health() == 200,
            time.monotonic() + left(),
            log=self._log("haproxy"),
        )
        say("seeding   certify db upgrade, certify demo (once)")
        self._seed()
        for n in self.layout.replica_numbers:
            say(f"replica{n}   {self.replica_url(n)}")
            self.start_replica(n, wait=False)
        for n in self.layout.replica_numbers:
            _wait_for(
                f"certify replica {n} ({self.replica_url(n)}/readyz)",
                functools.partial(self._replica_ready, n),
                time.monotonic() + left(),
                log=self._log(f"replica{n}"),
            )
        self.wait_healthy(timeout=left())

    def minio_nodes_writable(self) -> bool:
        """Whether every MinIO node, asked itself, has write quorum (its own
        ``/minio/health/cluster``). A node that returned is UP at the balancer (``live``) a
        few seconds before it and its peers take writes again: meanwhile writes meet 503
        SlowDownWrite."""
        return all(
            http_status(f"http://{self.minio_node_endpoint(n)}/minio/health/cluster") == 200
            for n in self.layout.nodes
        )

    def wait_healthy(self, *, timeout: float = 60.0) -> ClusterStatus:
        """Wait until :meth:`status` is healthy and every MinIO node has write quorum in
        its own view, twice in a row (a second apart).

        Raises:
            ClusterError: it is not within ``timeout``, with what is wrong.
        """
        deadline = time.monotonic() + timeout
        good = 0
        while True:
            status = self.status()
            writable = self.minio_nodes_writable()
            if status.healthy and writable and http_status(f"{self.url}/readyz") == 200:
                good += 1
                if good >= 2:
                    return status
            else:
                good = 0
            if time.monotonic() > deadline:
                problems = status.problems() + (
                    [] if writable else ["a MinIO node without write quorum"]
                )
                raise ClusterError("the cluster is not healthy: " + "; ".join(problems))
            time.sleep(0.5)

    def down(self) -> list[str]:
        """Stop everything ``up`` started (idempotent); the names of what was running."""
        stopped = []
        for n in self.layout.replica_numbers:
            if self._stop(f"replica{n}"):
                stopped.append(f"replica{n}")
        if self._stop("haproxy"):
            stopped.append("haproxy")
        for n in self.layout.nodes:
            if self._stop(f"minio{n}"):
                stopped.append(f"minio{n}")
        if self.postgres_pid() is not None:
            self.stop_postgres()
            stopped.append("postgres")
        return stopped

    def status(self) -> ClusterStatus:
        """Each process, MinIO's health and drives, and HAProxy's backends."""
        pieces = []
        for n in self.layout.nodes:
            pid = self.pid(f"minio{n}")
            code = http_status(f"http://{self.minio_node_endpoint(n)}/minio/health/live")
            pieces.append(
                Piece(
                    f"minio{n}",
                    pid,
                    f"http://{self.minio_node_endpoint(n)}",
                    pid is not None and code == 200,
                    f"live {code or '-'}",
                )
            )
        pg = self.postgres_pid()
        pieces.append(
            Piece("postgres", pg, self.postgres_address, pg is not None and self.postgres_ready())
        )
        for n in self.layout.replica_numbers:
            pid = self.pid(f"replica{n}")
            code = http_status(f"{self.replica_url(n)}/readyz", timeout=5)
            pieces.append(
                Piece(
                    f"replica{n}",
                    pid,
                    self.replica_url(n),
                    pid is not None and code == 200,
                    f"/readyz {code or '-'}",
                )
            )
        pid = self.pid("haproxy")
        code = http_status(f"{self.url}/readyz", timeout=5)
        pieces.append(
            Piece(
                "haproxy",
                pid,
                f"{self.url} + {self.s3_endpoint}",
                pid is not None,
                f"/readyz {code or '-'}",
            )
        )
        drives = self.minio_drives()
        return ClusterStatus(
            pieces=tuple(pieces),
            minio_health=self.minio_health(),
            drives_online=None if drives is None else drives[0],
            drives_total=len(self.layout.minio_hosts),
            backends=self.backends(),
        )


@contextlib.contextmanager
def running(
    directory: Path, layout: Layout | None = None, *, timeout: float = 180.0
) -> Iterator[Cluster]:
    """A cluster brought up in ``directory`` and down at the end, whatever happens."""
    cluster = Cluster.create(directory, layout)
    try:
        cluster.up(timeout=timeout)
        yield cluster
    finally:
        cluster.down()


# --- command line ------------------------------------------------------------------------


def _parse_env(pairs: Sequence[str]) -> tuple[tuple[str, str], ...]:
    out = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.startswith("CERTIFY_"):
            raise ClusterError(f"--env wants CERTIFY_NAME=VALUE, not {pair!r}")
        out.append((key, value))
    return tuple(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/cluster",
        description="A distributed certify deployment on loopback: 4 MinIO nodes, PostgreSQL, "
        "certify replicas behind HAProxy (docs/deployment.md).",
    )
    parser.add_argument("command", choices=("up", "down", "status", "env"))
    parser.add_argument(
        "--dir", type=Path, default=DEFAULT_DIR, help="cluster directory (var/cluster)"
    )
    parser.add_argument("--port-offset", type=int, default=None, help="added to every port (up)")
    parser.add_argument("--replicas", type=int, default=None, help="certify replicas (up; 2)")
    parser.add_argument("--workers", type=int, default=None, help="certify serve --workers (up)")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="CERTIFY_X=V",
        help="a setting of every certify process (up; repeatable)",
    )
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds for up (180)")
    parser.add_argument("--json", action="store_true", help="status as JSON")
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            layout = None
            if (
                any(v is not None for v in (args.port_offset, args.replicas, args.workers))
                or args.env
            ):
                layout = Layout(
                    port_offset=args.port_offset or 0,
                    replicas=args.replicas or 2,
                    workers=args.workers,
                    replica_env=_parse_env(args.env),
                )
            cluster = Cluster.create(args.dir, layout)
            started = time.monotonic()
            cluster.up(
                timeout=args.timeout, echo=lambda line: print(f"cluster: {line}", flush=True)
            )
            print(cluster.status().render())
            print(
                f"cluster: up in {time.monotonic() - started:.0f} s: {cluster.url} "
                f"(officers and passwords: {cluster.directory / 'demo.json'})"
            )
            return 0
        cluster = Cluster.open(args.dir)
        if args.command == "down":
            stopped = cluster.down()
            print(f"cluster: stopped {', '.join(stopped) if stopped else 'nothing (not running)'}")
            return 0
        if args.command == "env":
            for key, value in cluster.certify_env().items():
                if key.startswith("CERTIFY_"):
                    print(f"export {key}={_shell_quote(value)}")
            return 0
        status = cluster.status()
    except ClusterError as exc:
        print(f"cluster: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    print(json.dumps(status.to_json(), indent=2) if args.json else status.render())
    return 0 if status.healthy else 1


def _shell_quote(value: str) -> str:
    import shlex

    return shlex.quote(value)


if __name__ == "__main__":
    raise SystemExit(main())
