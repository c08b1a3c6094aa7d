"""A real certification world for benchmarks, built in a temp dir and torn down at the end.

A fresh provincial PKI (one authority, one certifier) whose /pki/* endpoints are served on a
loopback port (so that out-of-process signers such as the pyHanko CLI can reach the TSA and
OCSP/CRLs named in the certificates), a MinIO server started with
:class:`storage.minio_server.MinioServer`, a migrated SQLite register, and a
:class:`certify.issuance.CertificationService` assembled as the application does.

Benchmarks do not import ``tests/``: this mirrors ``tests/issuing.py`` on purpose.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from PIL import Image, ImageDraw
from pydantic import SecretStr

from api.services import assemble_certification, issue_validator
from api.settings import Settings
from certify.copy import CopyBuilder
from certify.issuance import CertificationService, IssueOrder
from certify.ports import AuthorityRecord, IssuedCopyValidator, OfficerRecord, SystemClock
from certify.signing import CopySigner, stamp_style
from keys.ca import ProvincialPKI
from keys.signers import SignerSource
from storage.database import make_engine, upgrade
from storage.minio_server import MinioServer, free_port
from storage.objects import MinioObjectStore, ObjectStoreConfig
from storage.sql_register import SqlRegister

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
DEJAVU_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
PASSPHRASE = b"bench passphrase"
REQUEST_CODE = "YC-BENCH"
AUTHORITY = AuthorityRecord(
    code="dn-tanphu", name="UBND phường Tân Phú", province_code="dn", province_name="Đồng Nai"
)
CERTIFIER = OfficerRecord(
    username="hong.nt",
    full_name="Nguyễn Thị Hồng",
    title="Phó Chủ tịch UBND phường",
    role="certifier",
    authority_code=AUTHORITY.code,
)
A4_200DPI = (1654, 2339)


def quiet_logs() -> None:
    """pyHanko warns on every signature that fetching is off (by design: revocation data is
    supplied in-process); the MinIO SDK and uvicorn chatter is not wanted in a bench either."""
    logging.getLogger("pyhanko.sign.signers.pdf_signer").setLevel(logging.ERROR)
    logging.getLogger("uvicorn").setLevel(logging.WARNING)


def order(document_name: str = "Giấy khai sinh") -> IssueOrder:
    return IssueOrder(
        authority_code=AUTHORITY.code,
        certifier_username=CERTIFIER.username,
        request_code=REQUEST_CODE,
        document_name=document_name,
        copies=1,
    )


# --- scans -----------------------------------------------------------------------------------


def text_page_jpeg(label: str = "1", *, size: tuple[int, int] = A4_200DPI) -> bytes:
    """A plausible A4 page at 200 dpi, as a scanner makes it (frame and 'text' lines)."""
    im = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(im)
    draw.rectangle((80, 80, size[0] - 80, size[1] - 80), outline="black", width=6)
    for k in range(30):
        y = 200 + k * 70
        draw.rectangle((150, y, 1400 - (k * 53) % 400, y + 30), fill=(30, 30, 30))
    draw.text((200, 150), f"GIẤY KHAI SINH - trang {label}", fill="black")
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=85, dpi=(200, 200))
    return buf.getvalue()


def noise_page_jpeg(size: tuple[int, int], *, dpi: int = 300) -> bytes:
    """A page of random noise: high entropy, so JPEG cannot shrink it (a worst-case scan)."""
    im = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90, dpi=(dpi, dpi))
    return buf.getvalue()


# --- the world -------------------------------------------------------------------------------


@dataclass
class World:
    root: Path
    pki: ProvincialPKI
    signers: SignerSource
    builder: CopyBuilder
    copy_signer: CopySigner
    minio: MinioServer
    store_config: ObjectStoreConfig
    store: MinioObjectStore
    database_url: str
    register: SqlRegister
    service: CertificationService
    base_url: str

    def workdir(self, name: str) -> Path:
        path = self.root / "work" / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def settings(self, **overrides: Any) -> Settings:
        """Settings of a certify process on this world's PKI, MinIO and database, on a free
        loopback port (a demo deployment: copies carry this machine's loopback URL)."""
        cfg = self.store_config
        values: dict[str, Any] = {
            "data_dir": self.root / "var",
            "deployment": "demo",
            "database_url": self.database_url,
            "s3_endpoint": cfg.endpoint,
            "s3_access_key": cfg.access_key,
            "s3_secret_key": SecretStr(cfg.secret_key),
            "s3_timeout_seconds": cfg.timeout_seconds,
            "scans_bucket": cfg.scans_bucket,
            "copies_bucket": cfg.copies_bucket,
            "copies_retention_mode": cfg.retention_mode,
            "copies_retention_days": cfg.retention_days,
            "host": "127.0.0.1",
            "port": free_port(),
            "pki_dir": self.pki.directory,
            "pki_passphrase": SecretStr(PASSPHRASE.decode()),
        }
        return Settings(**{**values, **overrides})

    def store_fields(self) -> dict[str, Any]:
        """The object store's configuration as plain values (for a child process)."""
        cfg = self.store_config
        return {
            k: getattr(cfg, k)
            for k in (
                "endpoint",
                "access_key",
                "secret_key",
                "timeout_seconds",
                "scans_bucket",
                "copies_bucket",
                "retention_mode",
                "retention_days",
            )
        }


def make_service(
    store: MinioObjectStore,
    register: SqlRegister,
    builder: CopyBuilder,
    signer: CopySigner,
    base_url: str,
    validator: IssuedCopyValidator,
    *,
    signers: SignerSource,
) -> CertificationService:
    """The service as the application wires it (``api.services.assemble_certification``),
    with the given (possibly timed) parts; each copy is validated at issue."""
    return assemble_certification(
        signers=signers,
        store=store,
        register=register,
        builder=builder,
        clock=SystemClock(),
        verify_base_url=base_url,
        copy_signer=signer,
        validator=validator,
    )


def store_config(server: MinioServer) -> ObjectStoreConfig:
    suffix = secrets.token_hex(4)
    return ObjectStoreConfig(
        endpoint=server.endpoint,
        access_key=server.access_key,
        secret_key=server.secret_key,
        timeout_seconds=30.0,
        scans_bucket=f"scans-{suffix}",
        copies_bucket=f"copies-{suffix}",
        retention_mode="GOVERNANCE",
        retention_days=1,
    )


@contextmanager
def serve_pki(pki: ProvincialPKI, port: int) -> Iterator[None]:
    """Serve /pki/* (CA certificates, CRLs, OCSP, TSA) on 127.0.0.1:port in a thread."""
    import uvicorn
    from fastapi import FastAPI

    from api.errors import install_error_handlers
    from api.routes.pki import router as pki_router

    app = FastAPI()
    install_error_handlers(app)
    app.include_router(pki_router)
    app.state.services = SimpleNamespace(pki=lambda: pki)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def seed(register: SqlRegister) -> None:
    register.add_authority(AUTHORITY)
    register.add_officer(CERTIFIER)
    register.add_request(
        REQUEST_CODE,
        authority_code=AUTHORITY.code,
        requester_name="Phạm Văn Dũng",
        requester_id_number="079200001234",
        received_at=dt.datetime.now(dt.UTC),
    )


@contextmanager
def build_world(root: Path) -> Iterator[World]:
    """Everything real: PKI (served over HTTP), MinIO, SQLite, the service. Stops MinIO and
    the HTTP server on exit; ``root`` (a temp dir) is the caller's to remove."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    pki = ProvincialPKI.init(
        root / "pki", province="Đồng Nai", passphrase=PASSPHRASE, base_url=base_url
    )
    pki.issue_authority(AUTHORITY.code, AUTHORITY.name)
    pki.issue_officer(
        CERTIFIER.username, CERTIFIER.full_name, CERTIFIER.title, CERTIFIER.authority_code
    )
    signers = SignerSource(pki)
    builder = CopyBuilder(DEJAVU, bold_font_path=DEJAVU_BOLD)
    copy_signer = CopySigner(signers, stamp_style=stamp_style(builder.font))

    database_url = f"sqlite:///{root / 'db' / 'register.db'}"
    upgrade(database_url)
    engine = make_engine(database_url)
    register = SqlRegister(engine)
    seed(register)

    minio = MinioServer.for_data_dir(root / "minio" / "data")
    with serve_pki(pki, port):
        minio.start()
        try:
            config = store_config(minio)
            store = MinioObjectStore(config)
            store.ensure_buckets()
            yield World(
                root=root,
                pki=pki,
                signers=signers,
                builder=builder,
                copy_signer=copy_signer,
                minio=minio,
                store_config=config,
                store=store,
                database_url=database_url,
                register=register,
                service=make_service(
                    store,
                    register,
                    builder,
                    copy_signer,
                    base_url,
                    issue_validator(signers, register, store, SystemClock()),
                    signers=signers,
                ),
                base_url=base_url,
            )
        finally:
            minio.stop()
            engine.dispose()
