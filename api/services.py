"""The services one app (or one CLI command) works with, built from ``Settings``."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding
from PIL import Image
from sqlalchemy.engine import Engine

from api.officer_auth import totp_accepted
from api.settings import Settings
from api.validation_pool import ValidationPool
from certify import deadlines
from certify.copy import CopyBuilder
from certify.desk import Desk
from certify.desk_scans import DeskScans
from certify.errors import CertifyError, InvalidInputError
from certify.holidays import DEFAULT_CALENDAR, HolidayCalendar
from certify.intake import ScanLimits
from certify.issuance import CertificationService
from certify.ports import Clock, IssuedCopyValidator, ObjectStore, SystemClock
from certify.signing import CopySigner, stamp_style
from certify.verification import LocalCheck, TrustAnchors
from certify.verifier import Verifier
from keys.ca import ProvincialPKI
from keys.errors import PkiNotInitialisedError
from keys.signers import SignerSource
from keys.tokens import TokenConfig
from storage import database
from storage.minio_server import MinioServer
from storage.objects import MinioObjectStore, ObjectStoreConfig
from storage.pki_index import SqlIndexStore
from storage.sql_register import SqlRegister

log = logging.getLogger(__name__)


@dataclass
class Services:
    """What the routes use; one per app, on ``app.state.services``."""

    settings: Settings
    engine: Engine
    store: MinioObjectStore
    local_minio: MinioServer | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    _certification: CertificationService | None = None
    _pki: ProvincialPKI | None = None
    _signers: SignerSource | None = None
    _trust: TrustCache | None = None
    _verifier: Verifier | None = None
    _pool: ValidationPool | None = None
    _calendar: HolidayCalendar | None = None
    _desk: Desk | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    clock: Clock = field(default_factory=SystemClock)

    def pki(self) -> ProvincialPKI | None:
        """The provincial PKI, opened on first use (None until ``certify pki init`` ran)."""
        with self._lock:
            if self._pki is None:
                self._pki = open_pki(self.settings, self.engine)
            return self._pki

    def signers(self) -> SignerSource:
        """The signer source for the domain, built once (signers inside are cached).

        Raises:
            PkiNotInitialisedError: no PKI yet.
        """
        pki = self.pki()
        if pki is None:
            raise PkiNotInitialisedError()
        with self._lock:
            if self._signers is None:
                self._signers = signer_source(self.settings, pki)
            return self._signers

    @functools.cached_property
    def register(self) -> SqlRegister:
        """The register repository on this app's engine (one, built on first use)."""
        return SqlRegister(self.engine)

    def trust_anchors(self) -> TrustAnchors:
        """What verification trusts: the provincial (and imported, and extra) roots, with the
        CA, TSA and OCSP certificates that help build paths. Built once per PKI generation.

        Raises:
            PkiNotInitialisedError: no PKI yet.
        """
        signers = self.signers()
        with self._lock:
            if self._trust is None:
                self._trust = TrustCache(signers)
        return self._trust()

    def signer_roles(self, authority_code: str, certifier_username: str) -> dict[str, str]:
        """The certificates (SHA-256 of the DER) that sign copies of this register entry: the
        certifier's personal ones and the authority's seals, whatever their status today."""
        pki = self.pki()
        return {} if pki is None else signer_roles(pki, authority_code, certifier_username)

    def local_verifier(self) -> Verifier:
        """A verifier that validates in this process: for our own copies and the CLI."""
        return Verifier(
            register=self.register,
            store=self.store,
            check=LocalCheck(self.trust_anchors, self.clock),
            signer_roles=self.signer_roles,
            clock=self.clock,
        )

    def verifier(self) -> Verifier:
        """The public verifier: full validations of uploads run in worker processes under
        the configured time and memory limits. Built once.

        Raises:
            PkiNotInitialisedError: no PKI yet.
        """
        self.trust_anchors()
        with self._lock:
            if self._verifier is None:
                s = self.settings
                self._pool = ValidationPool(
                    self.trust_anchors,
                    self.clock,
                    workers=s.verify_workers or os.cpu_count() or 1,
                    timeout_seconds=s.verify_timeout_seconds,
                    memory_bytes=s.verify_worker_memory_mb * 1024 * 1024,
                )
                self._verifier = Verifier(
                    register=self.register,
                    store=self.store,
                    check=self._pool,
                    signer_roles=self.signer_roles,
                    clock=self.clock,
                )
            return self._verifier

    def close(self) -> None:
        """Stop the validation workers and release the database and a local MinIO."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None
            self._verifier = None
        self.engine.dispose()
        if self.local_minio is not None:
            self.local_minio.release()

    def certification(self) -> CertificationService:
        """The certification service, built once: the font is subset and the signers are
        loaded here, not per copy.

        Raises:
            InvalidInputError: the public URL cannot go into copies (public_url_not_allowed).
            PkiNotInitialisedError: no PKI yet.
            CopyBuildError: the font cannot be read.
        """
        self.settings.check_public_base_url()
        signers = self.signers()
        with self._lock:
            if self._certification is None:
                settings = self.settings
                self._certification = assemble_certification(
                    signers=signers,
                    store=self.store,
                    register=self.register,
                    builder=CopyBuilder(settings.font_path, bold_font_path=settings.bold_font_path),
                    clock=self.clock,
                    verify_base_url=settings.resolved_public_base_url,
                    register_type=settings.register_type,
                    book_number=settings.register_book,
                )
            return self._certification

    def desk(self) -> Desk:
        """The office desk (certify.desk), built once; certifying builds the certification
        service on first use."""
        with self._lock:
            if self._desk is None:
                self._desk = Desk(
                    register=self.register,
                    store=self.store,
                    scans=DeskScans(self.store, self.scan_limits()),
                    certification=self.certification,
                    second_factor=functools.partial(totp_matches, self.register, self.clock),
                    clock=self.clock,
                    calendar=self.calendar,
                    closes_at=self.settings.office_closes_at,
                    workdir=Path(tempfile.gettempdir()),
                )
            return self._desk

    def calendar(self) -> HolidayCalendar:
        """The holiday calendar: the shipped one with the settings' file merged in, read once.

        Raises:
            InvalidInputError: code ``holiday_calendar_invalid``, the file is not a calendar.
        """
        with self._lock:
            if self._calendar is None:
                path = self.settings.holiday_calendar_file
                calendar = DEFAULT_CALENDAR
                if path is not None:
                    try:
                        data = path.read_bytes()
                    except OSError as exc:
                        raise InvalidInputError(
                            f"Không đọc được tệp lịch nghỉ lễ {path}. / The holiday calendar "
                            f"file {path} cannot be read.",
                            code="holiday_calendar_invalid",
                        ) from exc
                    calendar = calendar.merged(HolidayCalendar.from_json(data))
                self._calendar = calendar
            return self._calendar

    def due_at(self, received_at: dt.datetime) -> dt.datetime | None:
        """When a request received at ``received_at`` is due, or None (with a warning for the
        operator) when the calendar does not cover its year: a certification under way is
        not stopped for a missing calendar, and nothing is counted overdue by a guess."""
        try:
            return deadlines.due_at(
                received_at, calendar=self.calendar(), closes_at=self.settings.office_closes_at
            )
        except InvalidInputError as exc:
            if exc.code != "holiday_calendar_missing":
                raise
            log.warning(
                "no holiday calendar for %s: add it (CERTIFY_HOLIDAY_CALENDAR_FILE); "
                "the request has no due time",
                received_at.year,
            )
            return None

    def scan_limits(self) -> ScanLimits:
        s = self.settings
        return ScanLimits(
            max_bytes=s.max_scan_bytes,
            max_pages=s.max_scan_pages,
            max_page_pixels=s.max_page_pixels,
            min_dpi=s.min_scan_dpi,
        )


def totp_matches(register: SqlRegister, clock: Clock, username: str, code: str) -> bool | None:
    """Whether ``code`` is the officer's current TOTP code, not used before (RFC 6238, one
    step of drift either way, at the service's clock); None when they enrolled none."""
    secret = register.get_officer_login(username).totp_secret
    if not secret:
        return None
    return totp_accepted(register, username, secret, code, clock.now())


def open_pki(
    settings: Settings, engine: Engine, *, clock: Clock | None = None
) -> ProvincialPKI | None:
    """Open the PKI under ``settings.resolved_pki_dir`` with its index in the register
    database (an ``index.json`` found there moves in once); None if it was never initialised.

    With ``clock``, the PKI keeps its time from it (certificates, CRLs, OCSP, TSA; whole
    seconds, as X.509 and RFC 3161 times are); without, from the machine's clock.
    """
    from api.secrets import local_pki_passphrase

    extra: dict[str, Any] = {}
    if clock is not None:
        source = clock
        extra["clock"] = lambda: source.now().astimezone(dt.UTC).replace(microsecond=0)
    try:
        return ProvincialPKI.open(
            settings.resolved_pki_dir,
            passphrase=local_pki_passphrase(settings),
            base_url=settings.resolved_public_base_url,
            index_store=SqlIndexStore(engine),
            **extra,
        )
    except PkiNotInitialisedError:
        return None


def signer_roles(
    pki: ProvincialPKI, authority_code: str, certifier_username: str
) -> dict[str, str]:
    """{SHA-256 of the DER: "certifier" | "seal"} for every certificate, of any status, that
    the PKI issued or imported for this certifier and this authority's seal."""
    roles = {}
    for rec in pki.list():
        if rec.kind == "officer" and rec.holder == certifier_username:
            role = "certifier"
        elif rec.kind == "authority" and rec.holder == authority_code:
            role = "seal"
        else:
            continue
        der = pki.certificate(rec.serial).public_bytes(Encoding.DER)
        roles[hashlib.sha256(der).hexdigest()] = role
    return roles


def assemble_certification(
    *,
    signers: SignerSource,
    store: ObjectStore,
    register: SqlRegister,
    builder: CopyBuilder,
    clock: Clock,
    verify_base_url: str,
    register_type: str = "SCT/BS",
    book_number: str = "01",
    copy_signer: CopySigner | None = None,
    validator: IssuedCopyValidator | None = None,
) -> CertificationService:
    """The one place a :class:`CertificationService` is wired: the copy signer (stamps drawn
    with the builder's font, the clock's time), validation of each copy at issue, the
    register and the store. The API and CLI (``Services.certification``), ``bench/`` and the
    tests all build it here; ``copy_signer`` and ``validator`` replace the parts a test or a
    bench wraps (failures, timing)."""
    if copy_signer is None:
        copy_signer = CopySigner(signers, stamp_style=stamp_style(builder.font), clock=clock)
    if validator is None:
        validator = issue_validator(signers, register, store, clock)
    return CertificationService(
        store=store,
        register=register,
        builder=builder,
        signer=copy_signer,
        clock=clock,
        verify_base_url=verify_base_url,
        register_type=register_type,
        book_number=book_number,
        validator=validator,
    )


def issue_validator(
    signers: SignerSource, register: SqlRegister, store: ObjectStore, clock: Clock
) -> IssuedCopyValidator:
    """What validates each copy at issue (``Verifier.validate_issued``), in this process."""
    return Verifier(
        register=register,
        store=store,
        check=LocalCheck(TrustCache(signers), clock),
        signer_roles=lambda authority, username: signer_roles(signers.pki, authority, username),
        clock=clock,
    ).validate_issued


class TrustCache:
    """The trust anchors of ``signers``' PKI, rebuilt when the PKI changes (an imported
    root, a renewed CA): the PKI's generation is checked on every call (a stat of its
    index)."""

    def __init__(self, signers: SignerSource) -> None:
        self._signers = signers
        self._generation = -1
        self._trust: TrustAnchors | None = None
        self._lock = threading.Lock()

    def __call__(self) -> TrustAnchors:
        generation = self._signers.pki.refresh()
        with self._lock:
            if self._trust is None or generation != self._generation:
                self._trust = trust_anchors(self._signers)
                self._generation = generation
            return self._trust


def trust_anchors(signers: SignerSource) -> TrustAnchors:
    """The trust anchors of verification, as DER (they cross into worker processes)."""
    pki = signers.pki
    others = [*pki.intermediates()]
    for rec in pki.list():
        if rec.kind in ("ocsp", "tsa"):
            others.append(pki.certificate(rec.serial))
    return TrustAnchors(
        roots=tuple(c.public_bytes(Encoding.DER) for c in signers.trusted_roots()),
        others=tuple(c.public_bytes(Encoding.DER) for c in others),
    )


def signer_source(settings: Settings, pki: ProvincialPKI) -> SignerSource:
    """The SignerSource for ``pki`` with the configured PKCS#11 token, TSA and extra roots."""
    from keys.ca import load_certificate_file

    tokens = {}
    if settings.pkcs11_module and settings.pkcs11_token_label:
        tokens[settings.pkcs11_token_label] = TokenConfig(
            module=settings.pkcs11_module,
            token_label=settings.pkcs11_token_label,
            user_pin=settings.pkcs11_user_pin.get_secret_value(),
        )
    return SignerSource(
        pki,
        tokens=tokens,
        tsa_url=settings.tsa_url or None,
        extra_roots=[c for p in settings.trust_roots for c in load_certificate_file(p)],
    )


def object_store_config(
    settings: Settings, *, endpoint: str, access_key: str, secret_key: str
) -> ObjectStoreConfig:
    return ObjectStoreConfig(
        endpoint=endpoint,
        access_key=access_key,
        secret_key=secret_key,
        secure=settings.s3_secure,
        region=settings.s3_region,
        timeout_seconds=settings.s3_timeout_seconds,
        scans_bucket=settings.scans_bucket,
        copies_bucket=settings.copies_bucket,
        retention_mode=settings.copies_retention_mode,
        retention_days=settings.copies_retention_days,
    )


def start_local_minio(settings: Settings) -> MinioServer:
    """Start the local MinIO under ``{data_dir}/minio`` (used when no endpoint is set)."""
    server = MinioServer.for_data_dir(settings.data_dir / "minio")
    return server.attach_or_start()


def object_store_of(settings: Settings) -> tuple[MinioServer | None, MinioObjectStore]:
    """The settings' object store, and the local MinIO started for it when the settings name
    no endpoint (the caller releases it). No bucket is created here."""
    local: MinioServer | None = None
    if settings.s3_endpoint:
        endpoint = settings.s3_endpoint
        access_key = settings.s3_access_key
        secret_key = settings.s3_secret_key.get_secret_value()
    else:
        local = start_local_minio(settings)
        endpoint, access_key, secret_key = local.endpoint, local.access_key, local.secret_key
    config = object_store_config(
        settings, endpoint=endpoint, access_key=access_key, secret_key=secret_key
    )
    return local, MinioObjectStore(config)


def build_services(settings: Settings) -> Services:
    """Connect to the register database and the object store (starting a local MinIO if the
    settings name no endpoint). A store that is down does not stop start-up: ``/readyz``
    reports it."""
    # Once per process, never per scan (intake runs in several threads): Pillow's own
    # decompression-bomb limit follows the configured page limit, which intake checks from
    # each image's header before decoding.
    Image.MAX_IMAGE_PIXELS = settings.max_page_pixels
    local, store = object_store_of(settings)
    try:
        store.ensure_buckets()
    except CertifyError as exc:
        log.warning("object store not ready at start-up: %s", exc.code)
    engine = database.make_engine(settings.resolved_database_url)
    return Services(settings=settings, engine=engine, store=store, local_minio=local)
