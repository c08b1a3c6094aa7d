# pyHanko and pikepdf are partly unannotated: calls into them are untyped.
# mypy: disable-error-code="no-untyped-call"
"""Issuing certified copies end to end, checked with tools nobody here wrote.

Real MinIO, real SQLite and PostgreSQL, the provincial PKI served over HTTP, pdfsig (poppler
with NSS), pdftotext, zbarimg, and pyHanko's validator trusting only the provincial root.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import pytest
from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import copy_into_new_writer
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator import ValidationContext

from certify.copy import CopyBuilder
from certify.errors import (
    DatabaseUnavailableError,
    InvalidInputError,
    InvalidScanError,
    PermissionDeniedError,
    StorageUnavailableError,
)
from certify.intake import INTAKE_PREFIX, ScanLimits, remove_stale_workdirs
from certify.issuance import CertificationService, IssuedCopy, IssueOrder
from certify.signing import CopySigner, stamp_style
from keys.ca import ProvincialPKI
from keys.errors import CertificateRevokedError
from keys.signers import SignerSource
from storage.minio_server import MinioServer
from storage.objects import MinioObjectStore
from storage.sql_register import SqlRegister
from tests.certify.conftest import image_pdf_bytes, png_bomb_bytes
from tests.conftest import store_config
from tests.issuing import (
    AUTHORITY,
    CERTIFIER,
    CLERK,
    OTHER_CERTIFIER,
    ServedPki,
    make_service,
    scan_jpeg,
    seed_register,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("served_pki")]

LIMITS = ScanLimits()


@pytest.fixture
def service(
    object_store: MinioObjectStore,
    register: SqlRegister,
    copy_builder: CopyBuilder,
    copy_signer: CopySigner,
    served_pki: ServedPki,
) -> CertificationService:
    seed_register(register)
    return make_service(
        store=object_store,
        register=register,
        builder=copy_builder,
        signer=copy_signer,
        signers=served_pki.signers,
        base_url=served_pki.base_url,
    )


class ServiceFactory(Protocol):
    def __call__(
        self, *, store: MinioObjectStore, register: object = None, signer: object = None
    ) -> CertificationService: ...


@pytest.fixture
def build_service(
    register: SqlRegister,
    copy_builder: CopyBuilder,
    copy_signer: CopySigner,
    served_pki: ServedPki,
) -> ServiceFactory:
    """A certification service on the given store, with a stand-in register or signer."""
    seed_register(register)

    def build(
        *, store: MinioObjectStore, register: object = None, signer: object = None
    ) -> CertificationService:
        return make_service(
            store=store,
            register=register or default_register,  # type: ignore[arg-type]
            builder=copy_builder,
            signer=signer or copy_signer,  # type: ignore[arg-type]
            signers=served_pki.signers,
            base_url=served_pki.base_url,
        )

    default_register = register
    return build


def order(**overrides: object) -> IssueOrder:
    values: dict[str, object] = {
        "authority_code": AUTHORITY.code,
        "certifier_username": CERTIFIER.username,
        "request_code": "YC-0001",
        "document_name": "Giấy khai sinh",
        "copies": 2,
    }
    values.update(overrides)
    return IssueOrder(**values)  # type: ignore[arg-type]


def certify(
    service: CertificationService, tmp_path: Path, *pages: bytes, **kw: object
) -> IssuedCopy:
    scans = [io.BytesIO(p) for p in (pages or (scan_jpeg(),))]
    issued, _ = service.certify_scans(order(**kw), scans, limits=LIMITS, workdir=tmp_path)
    return issued


def root_certificate(served_pki: ServedPki) -> asn1_x509.Certificate:
    _, _, der = asn1_pem.unarmor(served_pki.root_pem.read_bytes())
    return asn1_x509.Certificate.load(der)


# --- what is issued ------------------------------------------------------------------------------


def test_issued_copy_is_b_lta_with_officer_certification_then_seal(
    service: CertificationService, served_pki: ServedPki, tmp_path: Path
) -> None:
    issued = certify(service, tmp_path, scan_jpeg("TRANG 1"), scan_jpeg("TRANG 2"))
    root = root_certificate(served_pki)
    reader = PdfFileReader(io.BytesIO(issued.pdf))

    sigs = reader.embedded_regular_signatures
    assert [s.field_name for s in sigs] == ["officer", "seal"]
    officer, seal = sigs
    assert officer.docmdp_level == MDPPerm.FILL_FORMS  # certification signature, P=2
    timestamps = reader.embedded_timestamp_signatures
    assert len(timestamps) == 1

    # B-LT: the revocation data embedded in the DSS alone must prove every certificate
    # unrevoked, with only the provincial root trusted and no fetching at all.
    dss = DocumentSecurityStore.read_dss(reader)
    assert dss.ocsps or dss.crls

    def context() -> ValidationContext:
        return dss.as_validation_context(
            {"trust_roots": [root], "allow_fetching": False, "revocation_mode": "hard-fail"}
        )

    statuses = {}
    for sig in sigs:
        status = validate_pdf_signature(sig, context(), context())
        assert status.intact and status.valid and status.trusted, status.pretty_print_details()
        assert status.bottom_line
        # B-T: a trusted RFC 3161 signature timestamp.
        assert status.timestamp_validity is not None
        assert status.timestamp_validity.intact and status.timestamp_validity.trusted
        assert status.docmdp_ok
        statuses[sig.field_name] = status
    # After the officer: only the seal's signature (form filling) and LTV data.
    assert statuses["officer"].modification_level == ModificationLevel.FORM_FILLING
    # After the seal: nothing but LTV data and the document timestamp.
    assert statuses["seal"].modification_level == ModificationLevel.LTA_UPDATES

    # B-LTA: a document timestamp over everything, the DSS included.
    ts_status = validate_pdf_timestamp(timestamps[0], validation_context=context())
    assert ts_status.intact and ts_status.valid and ts_status.trusted
    assert timestamps[0].signed_revision > seal.signed_revision
    # Anything after it is LTV data only (checked through the seal's modification level).
    assert ts_status.coverage is not None
    assert ts_status.coverage.name in {"ENTIRE_FILE", "ENTIRE_REVISION"}

    # The seal's field lock moved the document to "no changes" (ISO 32000-2 12.7.5.5).
    seal_field = reader.root["/AcroForm"]["/Fields"][1].get_object()
    assert seal_field["/T"] == "seal"
    assert seal_field["/Lock"]["/P"] == 1


def test_pdfsig_finds_both_signatures_valid_and_trusted(
    service: CertificationService, served_pki: ServedPki, tmp_path: Path
) -> None:
    issued = certify(service, tmp_path)
    pdf = tmp_path / "copy.pdf"
    pdf.write_bytes(issued.pdf)
    nss = tmp_path / "nss"
    nss.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True)
    subprocess.run(
        [
            "certutil",
            "-A",
            "-d",
            f"sql:{nss}",
            "-n",
            "root",
            "-t",
            "CT,C,C",
            "-i",
            str(served_pki.root_pem),
        ],
        check=True,
    )
    out = subprocess.run(
        ["pdfsig", "-nssdir", f"sql:{nss}", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    blocks = re.split(r"Signature #\d+:", out)[1:]
    by_field = {re.search(r"Field Name: (\S+)", b).group(1): b for b in blocks}  # type: ignore[union-attr]
    for field in ("officer", "seal"):
        assert "Signature Validation: Signature is Valid." in by_field[field], out
        assert "Certificate Validation: Certificate is Trusted." in by_field[field], out
    assert "Nguyễn Thị Hồng" in by_field["officer"]
    assert "UBND phường Tân Phú" in by_field["seal"]


def test_last_page_has_the_certification_text_and_a_qr_code_to_verify(
    service: CertificationService, tmp_path: Path
) -> None:
    issued = certify(service, tmp_path, scan_jpeg("1"), scan_jpeg("2"))
    pdf = tmp_path / "copy.pdf"
    pdf.write_bytes(issued.pdf)
    # two full-page scans leave no room under the second: the block has a page of its own
    last = "3"
    text = subprocess.run(
        ["pdftotext", "-f", last, "-l", last, str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    entry = issued.entry
    assert "Chứng thực bản sao đúng với bản chính." in text
    assert f"Số chứng thực {entry.number} quyển số {entry.book}-SCT/BS" in text
    assert "Nguyễn Thị Hồng" in text
    assert "UBND PHƯỜNG TÂN PHÚ" in text  # the authority's name heads the seal's box
    # The signature boxes name the signers in Vietnamese (the stamp font is the embedded one).
    assert "Ký số bởi" in text

    subprocess.run(
        ["pdftoppm", "-f", last, "-l", last, "-r", "150", "-png", str(pdf), str(tmp_path / "p")],
        check=True,
    )
    png = next(tmp_path.glob("p*.png"))
    qr = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(png)], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert qr == issued.verify_url
    token = qr.rsplit("/", 1)[1]
    assert len(token) >= 32  # 192 random bits, URL-safe base64


def test_issue_stores_the_copy_under_object_lock_and_registers_it(
    service: CertificationService,
    object_store: MinioObjectStore,
    register: SqlRegister,
    tmp_path: Path,
) -> None:
    issued = certify(service, tmp_path, scan_jpeg("a"), scan_jpeg("b"), scan_jpeg("c"), copies=3)
    entry = issued.entry
    assert entry.number == 1
    assert entry.book == f"01/{dt.datetime.now(dt.UTC).year}"
    assert entry.fee == 3 * 5_000  # TT 226/2016: 2,000 + 2,000 + 1,000 per copy
    assert len(entry.page_hashes) == 3
    stored = object_store.stat(object_store.copies_bucket, entry.copy_key)
    assert stored.sha256 == entry.copy_sha256
    saved = register.find_document_by_token(entry.verification_token)
    assert saved is not None
    assert saved.copy_version_id == stored.version_id
    assert (
        b"".join(object_store.iter_chunks(object_store.copies_bucket, entry.copy_key)) == issued.pdf
    )
    for n in (1, 2, 3):
        page = object_store.stat(
            object_store.scans_bucket, f"{AUTHORITY.code}/YC-0001/{entry.id}/page-{n}"
        )
        assert page.sha256 == entry.page_hashes[n - 1]
    assert register.verify_audit_chain()
    # Only the copy and the scan pages remain: the staging object is gone.
    staged = list(object_store.list_objects(object_store.scans_bucket, prefix="staging/"))
    assert staged == []
    second = certify(service, tmp_path, document_name="Bằng tốt nghiệp THPT", copies=1)
    assert second.entry.number == 2


class RecordsWhereItSigns(CopySigner):
    """Signs, noting what it was given to sign in: the file's path and its size then."""

    def __init__(self, inner: CopySigner) -> None:
        self._inner = inner
        self.seen: list[tuple[str, int]] = []

    def sign_in_place(self, document: BinaryIO, **kw: Any) -> None:
        self.seen.append(
            (os.readlink(f"/proc/self/fd/{document.fileno()}"), os.fstat(document.fileno()).st_size)
        )
        self._inner.sign_in_place(document, **kw)


def test_the_copy_is_built_and_signed_in_a_temporary_file_of_the_workdir(
    object_store: MinioObjectStore,
    build_service: ServiceFactory,
    copy_signer: CopySigner,
    tmp_path: Path,
) -> None:
    # A copy lives on disk from build to storage (issue 13): the signer appends to the file
    # the builder wrote, in the certification's workdir, and nothing is left there after.
    spy = RecordsWhereItSigns(copy_signer)
    work = tmp_path / "work"
    work.mkdir()
    issued = certify(build_service(store=object_store, signer=spy), work)
    [(path, unsigned_size)] = spy.seen
    assert path.startswith(f"{work}/") and path.endswith("(deleted)")  # unnamed: O_TMPFILE
    assert 0 < unsigned_size < issued.entry.copy_size
    assert list(work.iterdir()) == []
    pdf = issued.pdf
    assert hashlib.sha256(pdf).hexdigest() == issued.entry.copy_sha256
    assert len(PdfFileReader(io.BytesIO(pdf)).embedded_signatures) == 3
    assert issued.entry.validation_json is not None


# --- who may certify ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "username", [CLERK.username, OTHER_CERTIFIER.username], ids=["clerk", "other-authority"]
)
def test_only_a_certifier_of_the_authority_may_certify(
    service: CertificationService, register: SqlRegister, tmp_path: Path, username: str
) -> None:
    with pytest.raises(PermissionDeniedError):
        certify(service, tmp_path, certifier_username=username)
    assert register.list_documents(AUTHORITY.code, year=dt.datetime.now(dt.UTC).year) == []


@pytest.mark.parametrize("name", ["Giấy\x1bkhai sinh", "Bằng\x07 tốt nghiệp", "A\u200e B"])
def test_a_document_name_with_control_characters_is_refused_before_a_number(
    service: CertificationService, register: SqlRegister, tmp_path: Path, name: str
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        certify(service, tmp_path, document_name=name)
    assert refused.value.code == "document_name_invalid"
    assert register.list_documents(AUTHORITY.code, year=dt.datetime.now(dt.UTC).year) == []


# --- nothing half-issued ------------------------------------------------------------------------


def assert_nothing_issued(
    store: MinioObjectStore, register: SqlRegister, service: CertificationService, tmp_path: Path
) -> None:
    year = dt.datetime.now(dt.UTC).year
    assert register.list_documents(AUTHORITY.code, year=year) == []
    client = store._client
    assert list(client.list_objects(store.copies_bucket, recursive=True)) == []
    assert list(client.list_objects(store.scans_bucket, recursive=True)) == []
    # The number was not consumed: the next certification gets number 1.
    assert certify(service, tmp_path).entry.number == 1


def _encrypted_pdf() -> bytes:
    reader = PdfFileReader(io.BytesIO(image_pdf_bytes(scan_jpeg())))
    writer = copy_into_new_writer(reader)
    writer.encrypt("owner-secret", "user-secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


BAD_SCANS = {
    "empty": lambda: b"",
    "truncated-jpeg": lambda: scan_jpeg()[:5000],
    "png-bomb": png_bomb_bytes,
    "encrypted-pdf": _encrypted_pdf,
    "pdf-javascript": lambda: (
        b"%PDF-1.7\n1 0 obj<</Type/Catalog/OpenAction<</S/JavaScript/JS(app.alert(1))>>>>endobj"
    ),
    "corrupt-png": lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * 100,
    "60-mb": lambda: scan_jpeg() + bytes(60 * 1024 * 1024),
}


@pytest.mark.parametrize("scan", list(BAD_SCANS))
def test_bad_scans_are_refused_and_leave_no_trace(
    service: CertificationService,
    object_store: MinioObjectStore,
    register: SqlRegister,
    tmp_path: Path,
    scan: str,
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(InvalidScanError):
        service.certify_scans(order(), [io.BytesIO(BAD_SCANS[scan]())], limits=LIMITS, workdir=work)
    assert list(work.iterdir()) == []
    assert_nothing_issued(object_store, register, service, tmp_path)


def test_a_good_page_then_a_bad_one_stores_nothing(
    service: CertificationService,
    object_store: MinioObjectStore,
    register: SqlRegister,
    tmp_path: Path,
) -> None:
    scans = [io.BytesIO(scan_jpeg()), io.BytesIO(b"GIF89a not accepted")]
    with pytest.raises(InvalidScanError):
        service.certify_scans(order(), scans, limits=LIMITS, workdir=tmp_path)
    assert_nothing_issued(object_store, register, service, tmp_path)


class FailingCommit:
    """The register, except that the commit of a certification fails."""

    def __init__(self, register: SqlRegister) -> None:
        self._register = register

    def __getattr__(self, name: str) -> object:
        return getattr(self._register, name)

    @contextmanager
    def transaction(self) -> Iterator[object]:
        with self._register.transaction() as tx:
            yield tx
            raise DatabaseUnavailableError()  # rolls the transaction back, as a failed COMMIT


def test_database_failing_at_commit_leaves_nothing(
    object_store: MinioObjectStore,
    register: SqlRegister,
    build_service: ServiceFactory,
    tmp_path: Path,
) -> None:
    failing = build_service(store=object_store, register=FailingCommit(register))
    with pytest.raises(DatabaseUnavailableError):
        certify(failing, tmp_path)
    working = build_service(store=object_store)
    assert_nothing_issued(object_store, register, working, tmp_path)


class StopsStorageAfterSigning(CopySigner):
    """Signs, then stops MinIO: the certification is cut in the middle."""

    def __init__(self, inner: CopySigner, server: MinioServer) -> None:
        self._inner = inner
        self._server = server

    def sign_in_place(self, document: BinaryIO, **kw: Any) -> None:
        self._inner.sign_in_place(document, **kw)
        self._server.stop()


@pytest.mark.slow
def test_storage_stopping_mid_certification_leaves_nothing(
    register: SqlRegister,
    copy_signer: CopySigner,
    build_service: ServiceFactory,
    tmp_path: Path,
) -> None:
    server = MinioServer.for_data_dir(tmp_path / "minio").start()
    try:
        store = MinioObjectStore(store_config(server, timeout_seconds=3.0))
        store.ensure_buckets()
        cut = build_service(store=store, signer=StopsStorageAfterSigning(copy_signer, server))
        work = tmp_path / "work"
        work.mkdir()
        with pytest.raises(StorageUnavailableError):
            certify(cut, work)
        assert register.list_documents(AUTHORITY.code, year=dt.datetime.now(dt.UTC).year) == []

        server.start()
        # The scan pages stored before the cut could not be removed while MinIO was down;
        # they carry no number and are not copies, and the sweep removes them.
        working = build_service(store=store)
        left = [key for key, _ in store.list_objects(store.scans_bucket)]
        assert left
        assert all(key.startswith(f"{AUTHORITY.code}/YC-0001/") for key in left)
        assert working.sweep(older_than=dt.timedelta(hours=1)) == 0  # too recent to touch
        assert working.sweep(older_than=dt.timedelta(0)) == len(left)
        assert_nothing_issued(store, register, working, work)
    finally:
        server.stop()


class CopyFailsOnce(MinioObjectStore):
    failed = False

    def copy(self, *args: str) -> object:  # type: ignore[override]
        if not self.failed:
            self.failed = True
            raise StorageUnavailableError()
        return super().copy(*args)


class CopyFailsTwice(MinioObjectStore):
    failures = 0

    def copy(self, *args: str) -> object:  # type: ignore[override]
        if self.failures < 2:
            self.failures += 1
            raise StorageUnavailableError()
        return super().copy(*args)


def test_reconcile_goes_on_past_a_copy_it_cannot_finish(
    minio_server: MinioServer,
    register: SqlRegister,
    build_service: ServiceFactory,
    tmp_path: Path,
) -> None:
    store = CopyFailsTwice(store_config(minio_server))
    store.ensure_buckets()
    svc = build_service(store=store)
    lost, kept = certify(svc, tmp_path), certify(svc, tmp_path)
    assert lost.stored is None and kept.stored is None
    # The first entry's staged copy is gone (deleted by hand, a disk lost...).
    for key, _ in store.list_objects(store.scans_bucket, prefix="staging/"):
        if key.startswith(f"staging/{AUTHORITY.code}/{lost.entry.year}/{lost.entry.number}-"):
            store.remove(store.scans_bucket, key)

    report = svc.reconcile()
    assert report.finished == 1
    assert report.failed == ((lost.entry.copy_key, "copy_lost"),)
    assert [e.id for e in register.documents_awaiting_copy()] == [lost.entry.id]


def test_stale_intake_folders_are_removed_fresh_ones_kept(tmp_path: Path) -> None:
    stale, fresh = tmp_path / f"{INTAKE_PREFIX}old", tmp_path / f"{INTAKE_PREFIX}new"
    for folder in (stale, fresh):
        folder.mkdir()
        (folder / "upload-1").write_bytes(b"scan")
    os.utime(stale, (1_000_000, 1_000_000))
    (tmp_path / "other").mkdir()
    assert remove_stale_workdirs(tmp_path) == 1
    assert not stale.exists() and fresh.exists() and (tmp_path / "other").exists()


def test_copy_registered_but_not_moved_is_finished_by_reconcile(
    minio_server: MinioServer,
    register: SqlRegister,
    build_service: ServiceFactory,
    tmp_path: Path,
) -> None:
    store = CopyFailsOnce(store_config(minio_server))
    store.ensure_buckets()
    svc = build_service(store=store)
    issued = certify(svc, tmp_path)
    assert issued.stored is None
    assert [e.id for e in register.documents_awaiting_copy()] == [issued.entry.id]

    assert svc.reconcile().finished == 1
    assert register.documents_awaiting_copy() == []
    # The issued document's scan pages are in the register: the sweep keeps them.
    assert svc.sweep(older_than=dt.timedelta(0)) == 0
    assert [k for k, _ in store.list_objects(store.scans_bucket)] == [
        f"{AUTHORITY.code}/YC-0001/{issued.entry.id}/page-1"
    ]
    stored = store.stat(store.copies_bucket, issued.entry.copy_key)
    assert stored.sha256 == issued.entry.copy_sha256
    staging = list(
        store._client.list_objects(store.scans_bucket, prefix="staging/", recursive=True)
    )
    assert staging == []


def test_revoked_certifier_cannot_sign(
    object_store: MinioObjectStore,
    register: SqlRegister,
    copy_builder: CopyBuilder,
    served_pki: ServedPki,
    tmp_path: Path,
) -> None:
    # A PKI of this test's own (a copy of the session's): what it revokes stays here.
    own = ProvincialPKI.open(
        shutil.copytree(served_pki.pki.directory, tmp_path / "own-pki"),
        passphrase=b"test passphrase",
        base_url=served_pki.base_url,
    )
    officer = own.issue_officer("revoked.one", "Võ Văn Tâm", "Phó Chủ tịch", AUTHORITY.code)
    seed_register(register)
    register.add_officer(
        CERTIFIER.__class__(
            username="revoked.one",
            full_name="Võ Văn Tâm",
            title="Phó Chủ tịch",
            role="certifier",
            authority_code=AUTHORITY.code,
        )
    )
    own.revoke(officer.certificate.serial_number, "keyCompromise")
    signers = SignerSource(own)
    service = make_service(
        store=object_store,
        register=register,
        builder=copy_builder,
        signer=CopySigner(signers, stamp_style=stamp_style(copy_builder.font)),
        signers=signers,
        base_url=served_pki.base_url,
    )
    # Refused before signing (TT 15/2025): the only certificate is revoked, and it says so.
    with pytest.raises(CertificateRevokedError) as exc:
        certify(service, tmp_path, certifier_username="revoked.one")
    assert exc.value.code == "certificate_revoked"
    assert register.list_documents(AUTHORITY.code, year=dt.datetime.now(dt.UTC).year) == []


# --- numbering under load -----------------------------------------------------------------------


class FixedClock:
    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def now(self) -> dt.datetime:
        return self.at


def test_numbering_restarts_at_midnight_of_new_year_in_vietnam_not_utc(
    object_store: MinioObjectStore,
    register: SqlRegister,
    copy_builder: CopyBuilder,
    served_pki: ServedPki,
    tmp_path: Path,
) -> None:
    """31 December 23:59 in Vietnam is still that year (16:59 UTC); one minute later,
    00:00 on 1 January in Vietnam (still 31 December in UTC), the count starts at 1 again."""
    seed_register(register)
    register.add_request(
        "YC-0002",
        authority_code=AUTHORITY.code,
        requester_name="Phạm Văn Dũng",
        requester_id_number="079200001234",
        received_at=dt.datetime(2026, 12, 30, tzinfo=dt.UTC),
    )
    issued = []
    for code, at in (
        ("YC-0001", dt.datetime(2026, 12, 31, 16, 59, tzinfo=dt.UTC)),
        ("YC-0002", dt.datetime(2026, 12, 31, 17, 0, tzinfo=dt.UTC)),
    ):
        clock = FixedClock(at)
        service = make_service(
            store=object_store,
            register=register,
            builder=copy_builder,
            signer=CopySigner(
                served_pki.signers, stamp_style=stamp_style(copy_builder.font), clock=clock
            ),
            signers=served_pki.signers,
            base_url=served_pki.base_url,
            clock=clock,
        )
        issued.append(certify(service, tmp_path / code, request_code=code, copies=1))
    last_of_2026, first_of_2027 = (i.entry for i in issued)
    assert (last_of_2026.year, last_of_2026.number, last_of_2026.book) == (2026, 1, "01/2026")
    assert (first_of_2027.year, first_of_2027.number, first_of_2027.book) == (2027, 1, "01/2027")
    assert first_of_2027.issued_at == dt.datetime(2026, 12, 31, 17, 0, tzinfo=dt.UTC)
    texts = []
    for i in issued:
        pdf = tmp_path / f"{i.entry.number}-{i.entry.year}.pdf"
        pdf.write_bytes(i.pdf)
        out = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True)
        texts.append(out.stdout)
    assert "Ngày 31 tháng 12 năm 2026" in texts[0]
    assert "31/12/2026 23:59 (GMT+7)" in texts[0]  # the certifier's stamp, same clock
    assert "Ngày 01 tháng 01 năm 2027" in texts[1]
    assert "01/01/2027 00:00 (GMT+7)" in texts[1]


@pytest.mark.slow
def test_50_concurrent_certifications_get_50_consecutive_numbers(
    service: CertificationService, register: SqlRegister, tmp_path: Path
) -> None:
    page = scan_jpeg()
    barrier = threading.Barrier(10)

    def one(i: int) -> int:
        work = tmp_path / f"w{i}"
        work.mkdir()
        if i < 10:
            barrier.wait()
        issued, _ = service.certify_scans(
            order(document_name=f"Giấy tờ số {i}", copies=1),
            [io.BytesIO(page)],
            limits=LIMITS,
            workdir=work,
        )
        return issued.entry.number

    with ThreadPoolExecutor(max_workers=10) as pool:
        numbers = list(pool.map(one, range(50)))
    assert sorted(numbers) == list(range(1, 51))
    entries = register.list_documents(AUTHORITY.code, year=dt.datetime.now(dt.UTC).year)
    assert [e.number for e in entries] == list(range(1, 51))
    assert len({e.verification_token for e in entries}) == 50
    assert register.verify_audit_chain()
