"""Several processes change the PKI at once (``certify pki`` while the service runs): no
issued certificate and no revocation is lost, and no file is left without its index entry
(issue 8.1)."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from keys.ca import ProvincialPKI

pytestmark = [pytest.mark.slow]

PASSPHRASE = b"concurrency test"
BASE_URL = "http://127.0.0.1:9"


def _issue_officers(directory: str, worker: int, count: int) -> None:
    pki = ProvincialPKI.open(Path(directory), passphrase=PASSPHRASE, base_url=BASE_URL)
    for i in range(count):
        pki.issue_officer(f"officer-{worker}-{i}", f"Cán bộ {worker}-{i}", "Công chức", "dn-a")


def _revoke(directory: str, serial: int) -> None:
    pki = ProvincialPKI.open(Path(directory), passphrase=PASSPHRASE, base_url=BASE_URL)
    pki.revoke(serial, "keyCompromise")


def test_parallel_issuing_and_revoking_lose_nothing(tmp_path: Path) -> None:
    directory = tmp_path / "pki"
    pki = ProvincialPKI.init(
        directory,
        province="Đồng Nai",
        passphrase=PASSPHRASE,
        base_url=BASE_URL,
        algorithm="ecdsa-p256",
    )
    pki.issue_authority("dn-a", "UBND phường A")
    victims = [
        pki.issue_officer(f"victim-{i}", f"Nạn nhân {i}", "Công chức", "dn-a").serial
        for i in range(3)
    ]
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_issue_officers, args=(str(directory), w, 4)) for w in range(4)
    ] + [context.Process(target=_revoke, args=(str(directory), s)) for s in victims]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
        assert process.exitcode == 0

    pki = ProvincialPKI.open(directory, passphrase=PASSPHRASE, base_url=BASE_URL)
    officers = {r.holder for r in pki.list() if r.kind == "officer"}
    assert {f"officer-{w}-{i}" for w in range(4) for i in range(4)} <= officers
    assert pki.orphans() == []
    crl = pki.crl("issuing")
    for serial in victims:
        assert pki.status(serial).status == "revoked"
        assert crl.get_revoked_certificate_by_serial_number(serial) is not None
