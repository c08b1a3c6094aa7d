"""The loopback cluster of deploy/cluster.py for tests: 4 MinIO nodes, PostgreSQL, 2 certify
replicas behind HAProxy, in a directory of its own and on ports no developer's cluster uses,
brought up once per test module and down at its end. With ``CERTIFY_TEST_CLUSTER_KEEP=1`` its
directory (the processes' logs under ``logs/``) is kept and named, to see what a failure did."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.cluster import Cluster, ClusterError, Layout, ports_free, running
from storage.minio_server import ensure_minio_binary
from tests.conftest import assert_loopback


def free_layout(env: tuple[tuple[str, str], ...] = ()) -> Layout:
    """A layout whose every address and port is free now: the default ports shifted by
    10 000 or more (outside the ephemeral range), one certify worker per replica and one
    verification worker, so that two replicas fit on two cores next to the test; ``env``:
    more settings of every replica."""
    for offset in range(10_000, 11_001, 100):
        layout = Layout(
            port_offset=offset,
            workers=1,
            replica_env=(("CERTIFY_VERIFY_WORKERS", "1"), *env),
        )
        if ports_free(layout):
            return layout
    raise RuntimeError("no free ports for a test cluster")


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def cluster_layout() -> Layout:
    """The layout of this module's cluster (:func:`free_layout`); a module may override it."""
    return free_layout()


@pytest.fixture(scope="module")
def cluster(cluster_layout: Layout) -> Iterator[Cluster]:
    """A running cluster for this module's tests."""
    if shutil.which("haproxy") is None and not Path("/usr/sbin/haproxy").exists():
        _missing("HAProxy is not installed (scripts/bootstrap --test installs it)")
    if not Path("/usr/lib/postgresql").is_dir():
        _missing("PostgreSQL is not installed (scripts/bootstrap --test installs it)")
    ensure_minio_binary()  # built on first use, as for the session's MinIO
    # Under /tmp, not pytest's private tmp_path: PostgreSQL runs as the user postgres when
    # the tests run as root, and must reach its data directory.
    directory = Path(tempfile.mkdtemp(prefix="certify-cluster-"))
    layout = cluster_layout
    try:
        cluster = Cluster.create(directory, layout)
        assert_loopback(cluster.s3_endpoint)
        assert_loopback(cluster.postgres_address)
        for n in layout.nodes:
            assert_loopback(cluster.minio_node_endpoint(n))
        with running(directory, layout, timeout=240) as up:
            yield up
    except ClusterError as exc:
        pytest.fail(f"the cluster did not come up: {exc}")
    finally:
        if os.environ.get("CERTIFY_TEST_CLUSTER_KEEP") == "1":
            print(f"\ncluster directory kept: {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)
