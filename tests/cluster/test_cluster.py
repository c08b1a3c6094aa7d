"""The distributed deployment on loopback (issue 13.3): it comes up whole, MinIO is one
erasure-coded deployment of four drives, a copy is certified through the balancer, and one
MinIO node may die: what was written is still read with its SHA-256, new writes and
certifications succeed, and the node rejoins."""

from __future__ import annotations

import hashlib
import io
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from deploy.cluster import Cluster, http_status
from tests.cluster.desk_client import Desk, add_certifier, http_client

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "cluster"
KILLED = 3  # the MinIO node that dies


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def script_status(cluster: Cluster) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), "status", "--dir", str(cluster.directory)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def http(cluster: Cluster) -> Iterator[httpx.Client]:
    with http_client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def desk(http: httpx.Client, cluster: Cluster) -> Desk:
    return Desk(http, cluster)


@pytest.fixture(scope="module")
def second_desk(http: httpx.Client, cluster: Cluster) -> Desk:
    """The clerk with a certifier of their own, added by the admin through the balancer (a
    certifier signs about twice a minute: a TOTP code is accepted once)."""
    return Desk(http, cluster, "mai.lt", add_certifier(http, cluster, "mai.lt"))


@pytest.fixture(scope="module")
def bucket(cluster: Cluster) -> str:
    """A bucket of the test's own objects, beside certify's."""
    name = f"probe-{secrets.token_hex(4)}"
    cluster.minio_client().make_bucket(name)
    return name


def put(cluster: Cluster, bucket: str, key: str, data: bytes) -> None:
    cluster.minio_client().put_object(bucket, key, io.BytesIO(data), len(data))


def get(cluster: Cluster, bucket: str, key: str) -> bytes:
    answer = cluster.minio_client().get_object(bucket, key)
    try:
        return bytes(answer.read())
    finally:
        answer.close()
        answer.release_conn()


def test_the_cluster_is_one_minio_deployment_of_four_drives_behind_the_balancer(
    cluster: Cluster,
) -> None:
    status = cluster.status()
    assert status.healthy, status.render()
    assert cluster.minio_drives() == (4, 0)
    assert cluster.minio_health() == 200
    assert status.backends == {
        "certify/replica1": "UP",
        "certify/replica2": "UP",
        **{f"minio/node{n}": "UP" for n in range(1, 5)},
    }
    for n in (1, 2):
        assert http_status(f"{cluster.replica_url(n)}/readyz") == 200
    assert http_status(f"{cluster.url}/readyz") == 200
    shown = script_status(cluster)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "4/4 drives online" in shown.stdout


def test_a_copy_is_certified_and_verified_through_the_balancer(
    cluster: Cluster, desk: Desk
) -> None:
    document = desk.certify(desk.scanned())
    pdf = desk.download(document)
    assert sha256(pdf) == document["copy_sha256"]
    assert document["verify_url"].startswith(f"{cluster.url}/v/")
    assert desk.verdict(pdf) == "genuine"


def test_one_minio_node_down_loses_nothing_and_stops_no_write(
    cluster: Cluster, second_desk: Desk, bucket: str
) -> None:
    desk = second_desk
    # Written while all four nodes are up: a plain object and a certified copy.
    before = secrets.token_bytes(3 * 1024 * 1024)
    put(cluster, bucket, "before", before)
    issued: dict[str, Any] = desk.certify(desk.scanned("Bằng tốt nghiệp", text="BANG"))

    cluster.kill_minio_node(KILLED)
    try:
        assert cluster.pid(f"minio{KILLED}") is None
        assert cluster.minio_drives() == (3, 1)
        # EC 2+2 keeps write quorum (3 drives) with one node down.
        assert cluster.minio_health() == 200
        shown = script_status(cluster)
        assert shown.returncode == 1, shown.stdout
        assert "3/4 drives online" in shown.stdout

        # What was written before is read whole.
        assert sha256(get(cluster, bucket, "before")) == sha256(before)
        pdf = desk.download(issued)
        assert sha256(pdf) == issued["copy_sha256"]
        assert desk.verdict(pdf) == "genuine"

        # New writes succeed: objects, scans, a certification.
        during = secrets.token_bytes(3 * 1024 * 1024)
        put(cluster, bucket, "during", during)
        document = desk.certify(desk.scanned("Chứng minh nhân dân", text="CMND"))
        assert document["number"] == issued["number"] + 1  # the register goes on, no gap
        made = desk.download(document)
        assert sha256(made) == document["copy_sha256"]
        assert desk.verdict(made) == "genuine"
    finally:
        cluster.start_minio_node(KILLED)

    status = cluster.wait_healthy(timeout=60)
    assert status.drives_online == 4, status.render()
    assert script_status(cluster).returncode == 0
    for key, data in (("before", before), ("during", during)):
        assert sha256(get(cluster, bucket, key)) == sha256(data)
    assert sha256(desk.download(document)) == document["copy_sha256"]
