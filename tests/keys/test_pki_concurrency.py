"""Several processes change the PKI at once (``certify pki`` while the service runs): no
issued certificate and no revocation is lost, and no file is left without its index entry
(issue 8.1), with the index in ``index.json`` and in the register database."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from keys.ca import ProvincialPKI
from keys.index_store import FileIndexStore, IndexStore
from storage.database import make_engine, upgrade
from storage.pki_index import SqlIndexStore

pytestmark = [pytest.mark.slow]

PASSPHRASE = b"concurrency test"
BASE_URL = "http://127.0.0.1:9"


def _store(directory: str, database_url: str | None) -> IndexStore:
    if database_url is None:
        return FileIndexStore(Path(directory))
    return SqlIndexStore(make_engine(database_url))


def _open(directory: str, database_url: str | None) -> ProvincialPKI:
    return ProvincialPKI.open(
        Path(directory),
        passphrase=PASSPHRASE,
        base_url=BASE_URL,
        index_store=_store(directory, database_url),
    )


def _issue_officers(directory: str, database_url: str | None, worker: int, count: int) -> None:
    pki = _open(directory, database_url)
    for i in range(count):
        pki.issue_officer(f"officer-{worker}-{i}", f"Cán bộ {worker}-{i}", "Công chức", "dn-a")


def _revoke(directory: str, database_url: str | None, serial: int) -> None:
    _open(directory, database_url).revoke(serial, "keyCompromise")


@pytest.fixture(
    params=["file", "sqlite", pytest.param("postgresql", marks=pytest.mark.integration)]
)
def index_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """None: the index in index.json; else the URL of a migrated register database."""
    if request.param == "file":
        return None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'register.db'}"
    else:
        url = request.getfixturevalue("postgres_schema_url")
    upgrade(url)
    return url


@pytest.fixture
def engines() -> Iterator[list[Engine]]:
    """Engines this test process made, disposed at the end."""
    made: list[Engine] = []
    yield made
    for engine in made:
        engine.dispose()


def _here(directory: str, database_url: str | None, engines: list[Engine]) -> IndexStore:
    store = _store(directory, database_url)
    if isinstance(store, SqlIndexStore):
        engines.append(store.engine)
    return store


def test_parallel_issuing_and_revoking_lose_nothing(
    tmp_path: Path, index_url: str | None, engines: list[Engine]
) -> None:
    directory = tmp_path / "pki"
    pki = ProvincialPKI.init(
        directory,
        province="Đồng Nai",
        passphrase=PASSPHRASE,
        base_url=BASE_URL,
        algorithm="ecdsa-p256",
        index_store=_here(str(directory), index_url, engines),
    )
    assert (directory / "index.json").exists() == (index_url is None)
    pki.issue_authority("dn-a", "UBND phường A")
    victims = [
        pki.issue_officer(f"victim-{i}", f"Nạn nhân {i}", "Công chức", "dn-a").serial
        for i in range(3)
    ]
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_issue_officers, args=(str(directory), index_url, w, 4))
        for w in range(4)
    ] + [context.Process(target=_revoke, args=(str(directory), index_url, s)) for s in victims]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
        assert process.exitcode == 0

    pki = ProvincialPKI.open(
        directory,
        passphrase=PASSPHRASE,
        base_url=BASE_URL,
        index_store=_here(str(directory), index_url, engines),
    )
    officers = {r.holder for r in pki.list() if r.kind == "officer"}
    assert {f"officer-{w}-{i}" for w in range(4) for i in range(4)} <= officers
    assert pki.orphans() == []
    crl = pki.crl("issuing")
    for serial in victims:
        assert pki.status(serial).status == "revoked"
        assert crl.get_revoked_certificate_by_serial_number(serial) is not None


def test_an_index_file_moves_into_the_database_once(
    tmp_path: Path, migrated_url: str, engines: list[Engine]
) -> None:
    directory = tmp_path / "pki"
    made = ProvincialPKI.init(
        directory,
        province="Đồng Nai",
        passphrase=PASSPHRASE,
        base_url=BASE_URL,
        algorithm="ecdsa-p256",
    )
    serials = {r.serial for r in made.list()}
    store = _here(str(directory), migrated_url, engines)
    moved = ProvincialPKI.open(
        directory, passphrase=PASSPHRASE, base_url=BASE_URL, index_store=store
    )
    assert {r.serial for r in moved.list()} == serials
    assert not (directory / "index.json").exists()
    assert (directory / "index.json.moved").exists()
    # Every certificate is in the database itself, not only in certs/.
    for path in (directory / "certs").iterdir():
        path.unlink()
    again = ProvincialPKI.open(
        directory, passphrase=PASSPHRASE, base_url=BASE_URL, index_store=store
    )
    assert {again.certificate(s).serial_number for s in serials} == serials
