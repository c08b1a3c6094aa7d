"""A real MinIO server on this machine: find or build the binary, start it, stop it.

Used by ``certify serve`` when no S3 endpoint is configured, by ``scripts/minio`` and by the
pytest session fixture, so that development, tests and CI all talk to the same real server.

MinIO publishes no Debian package; we build the last community release from source with
``go install``. The release tag is tried first; the Go module proxy here serves only the
community repository's last commit as a pseudo-version, which is tried second.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MINIO_MODULE = "github.com/minio/minio"
MINIO_VERSIONS = (
    "RELEASE.2025-10-15T17-29-55Z",
    # The community repository's last commit (2026-02-12), served by the proxy when the
    # release tag above is not.
    "v0.0.0-20260212201848-7aac2a2c5b7c",
)


class MinioServerError(RuntimeError):
    """The local MinIO server could not be found, built or started."""


def _answers_200(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:  # noqa: S310 - loopback only
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def find_minio_binary() -> Path | None:
    """Return the ``minio`` server binary on PATH or in Go's bin directory, if any."""
    on_path = shutil.which("minio")
    if on_path:
        return Path(on_path)
    candidates = []
    if os.environ.get("GOBIN"):
        candidates.append(Path(os.environ["GOBIN"]) / "minio")
    gopath = os.environ.get("GOPATH") or str(Path.home() / "go")
    candidates.append(Path(gopath.split(os.pathsep)[0]) / "bin" / "minio")
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def build_minio_binary() -> Path:
    """Build MinIO with ``go install`` (slow the first time, then from Go's caches).

    Raises:
        MinioServerError: Go is missing or no version could be built; the message has Go's output.
    """
    go = shutil.which("go")
    if go is None:
        raise MinioServerError("`go` is not installed: cannot build MinIO (install Go >= 1.24)")
    errors = []
    for version in MINIO_VERSIONS:
        log.info("building MinIO %s with go install (first build takes minutes)", version)
        proc = subprocess.run(  # noqa: S603 - fixed arguments
            [go, "install", f"{MINIO_MODULE}@{version}"],
            env=child_environment(),
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode == 0:
            found = find_minio_binary()
            if found is not None:
                return found
        errors.append(f"{version}: {proc.stderr.strip()[-600:]}")
    raise MinioServerError("could not build MinIO:\n" + "\n".join(errors))


# Servers this process started and left running for other users (kept referenced: a
# dropped Popen of a running process warns).
_DETACHED: list[subprocess.Popen[bytes]] = []


def child_environment() -> dict[str, str]:
    """The environment a child process (MinIO, go install) gets: ours without the service's
    own settings, among them its secrets (CERTIFY_PKI_PASSPHRASE, CERTIFY_PKCS11_USER_PIN,
    CERTIFY_S3_SECRET_KEY)."""
    return {name: value for name, value in os.environ.items() if not name.startswith("CERTIFY_")}


def ensure_minio_binary() -> Path:
    """Find the MinIO binary or build it."""
    return find_minio_binary() or build_minio_binary()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class MinioServer:
    """A MinIO server process we started. Stop it with :meth:`stop`."""

    data_dir: Path
    host: str
    port: int
    access_key: str
    secret_key: str
    process: subprocess.Popen[bytes] | None = None
    binary: Path | None = None
    _users_fd: int | None = None

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"

    @classmethod
    def for_data_dir(cls, data_dir: Path, *, host: str = "127.0.0.1", port: int = 0) -> MinioServer:
        """Prepare a server for ``data_dir``; credentials are generated once and kept there.

        The credentials file is mode 0600 inside the data directory, so the local server keeps
        its objects across restarts.
        """
        data_dir.mkdir(parents=True, exist_ok=True)
        creds = data_dir / ".certify-credentials"
        if creds.exists():
            access_key, secret_key = creds.read_text().split("\n", 1)
            secret_key = secret_key.strip()
        else:
            access_key = "certify-" + secrets.token_hex(4)
            secret_key = secrets.token_urlsafe(24)
            fd = os.open(creds, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(f"{access_key}\n{secret_key}\n")
        return cls(
            data_dir=data_dir,
            host=host,
            port=port or free_port(host),
            access_key=access_key,
            secret_key=secret_key,
        )

    @property
    def _state_file(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}.server.json"

    def _lock_path(self, what: str) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}.{what}"

    @contextlib.contextmanager
    def _starting(self) -> Iterator[None]:
        """Held while a process looks for the server or starts it: two never start two
        servers on one data directory."""
        fd = os.open(self._lock_path("start.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def attach_or_start(self, *, timeout: float = 60.0) -> MinioServer:
        """Use the server another certify process runs on this data directory (two servers
        must never share one), else start one; either way this process is counted among its
        users (a shared ``flock`` held until :meth:`release`), and the server is stopped only
        when its last user releases it (issue 8.5).

        Raises:
            MinioServerError: it is not running and cannot be started.
        """
        with self._starting():
            try:
                state = json.loads(self._state_file.read_text())
                os.kill(int(state["pid"]), 0)
                self.host, self.port = str(state["host"]), int(state["port"])
                running = _answers_200(f"http://{self.endpoint}/minio/health/ready")
            except (OSError, ValueError, KeyError, TypeError):
                running = False
            if not running:
                self.start(timeout=timeout)
            self._users_fd = os.open(self._lock_path("users"), os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._users_fd, fcntl.LOCK_SH)
        return self

    def release(self, *, timeout: float = 10.0) -> None:
        """Stop using the shared server; the last user stops it, whoever started it."""
        if self._users_fd is None:
            self.stop(timeout=timeout)
            return
        with self._starting():
            fcntl.flock(self._users_fd, fcntl.LOCK_UN)
            os.close(self._users_fd)
            self._users_fd = None
            fd = os.open(self._lock_path("users"), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                # Others still use it: it stays up; it lives in its own session, so it
                # outlives this process and the last user stops it.
                if self.process is not None:
                    _DETACHED.append(self.process)
                    self.process = None
                return
            try:
                if self.process is not None:
                    self.stop(timeout=timeout)
                else:
                    self._stop_by_pid(timeout)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)

    def _stop_by_pid(self, timeout: float) -> None:
        """Stop the server another process started (it left, we are the last user)."""
        try:
            pid = int(json.loads(self._state_file.read_text())["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return
        with contextlib.suppress(OSError):
            self._state_file.unlink()
        for proc in list(_DETACHED):  # started by this very process: stop and reap it
            if proc.pid == pid:
                _DETACHED.remove(proc)
                self.process = proc
                self.stop(timeout=timeout)
                return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                os.kill(pid, 0)
                time.sleep(0.05)
            os.kill(pid, signal.SIGKILL)

    def start(self, *, timeout: float = 60.0) -> MinioServer:
        """Start the server and wait until it answers its liveness probe.

        Raises:
            MinioServerError: the binary is missing and cannot be built, or it did not come up.
        """
        if self.process is not None and self.process.poll() is None:
            return self
        self.binary = self.binary or ensure_minio_binary()
        env = {
            **child_environment(),
            "MINIO_ROOT_USER": self.access_key,
            "MINIO_ROOT_PASSWORD": self.secret_key,
            "MINIO_BROWSER": "off",
            "MINIO_UPDATE": "off",
            "MINIO_CI_CD": "1",
        }
        log_path = self.data_dir.parent / f"{self.data_dir.name}.log"
        with log_path.open("ab") as log_file:
            self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
                [
                    str(self.binary),
                    "server",
                    str(self.data_dir),
                    "--address",
                    self.endpoint,
                    "--console-address",
                    f"{self.host}:{free_port(self.host)}",
                    "--quiet",
                ],
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_ready(timeout, log_path)
        self._state_file.write_text(
            json.dumps({"pid": self.process.pid, "host": self.host, "port": self.port})
        )
        return self

    def _wait_ready(self, timeout: float, log_path: Path) -> None:
        # "ready" answers before the drive is formatted; "cluster" once writes can succeed.
        # Both must answer 200 a few times in a row before the first S3 call is safe.
        urls = [f"http://{self.endpoint}/minio/health/{probe}" for probe in ("ready", "cluster")]
        deadline = time.monotonic() + timeout
        healthy = 0
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise MinioServerError(f"MinIO exited with {self.process.returncode}:\n{tail}")
            healthy = healthy + 1 if all(_answers_200(url) for url in urls) else 0
            if healthy >= 3:
                return
            time.sleep(0.1)
        self.stop()
        raise MinioServerError(f"MinIO did not become ready on {self.endpoint} in {timeout:.0f} s")

    def stop(self, *, timeout: float = 10.0) -> None:
        """Stop the server by its PID (SIGTERM, then SIGKILL)."""
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(OSError):
            self._state_file.unlink()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)

    def __enter__(self) -> MinioServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m storage.minio_server")
    parser.add_argument("--ensure-binary", action="store_true", help="find or build MinIO")
    parser.add_argument("--run", metavar="DATA_DIR", help="run MinIO on DATA_DIR until Ctrl-C")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.ensure_binary:
        started = time.monotonic()
        print(f"minio: {ensure_minio_binary()} ({time.monotonic() - started:.1f} s)")
    if args.run:
        server = MinioServer.for_data_dir(Path(args.run)).start()
        print(f"minio: http://{server.endpoint}  access key {server.access_key}")
        print(f"minio: secret key in {server.data_dir / '.certify-credentials'}", flush=True)
        try:
            while server.process is not None and server.process.poll() is None:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
