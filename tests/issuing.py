"""Fixtures for issuing real certified copies: a provincial PKI served over HTTP (so that
independent validators can fetch OCSP and CRLs from the URLs in the certificates), a copy
builder, a signer, and a certification service on MinIO and the register database."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Literal

import pytest
import uvicorn
from fastapi import FastAPI
from PIL import Image, ImageDraw

from api.errors import install_error_handlers
from api.routes.pki import router as pki_router
from api.services import assemble_certification
from certify.copy import CopyBuilder
from certify.issuance import CertificationService
from certify.ports import AuthorityRecord, Clock, OfficerRecord, SystemClock
from certify.signing import CopySigner, stamp_style
from keys.ca import ProvincialPKI
from keys.signers import SignerSource
from keys.tokens import TokenConfig
from storage.minio_server import free_port
from storage.objects import MinioObjectStore
from storage.sql_register import SqlRegister

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
DEJAVU_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
AUTHORITY = AuthorityRecord(
    code="dn-tanphu",
    name="UBND phường Tân Phú",
    province_code="dn",
    province_name="Đồng Nai",
)
OTHER_AUTHORITY = AuthorityRecord(
    code="dn-binhda", name="UBND phường Bình Đa", province_code="dn", province_name="Đồng Nai"
)
CERTIFIER = OfficerRecord(
    username="hong.nt",
    full_name="Nguyễn Thị Hồng",
    title="Phó Chủ tịch UBND phường",
    role="certifier",
    authority_code=AUTHORITY.code,
)
CLERK = OfficerRecord(
    username="lan.tt",
    full_name="Trần Thị Lan",
    title="Công chức Tư pháp - Hộ tịch",
    role="clerk",
    authority_code=AUTHORITY.code,
)
OTHER_CERTIFIER = OfficerRecord(
    username="binh.lv",
    full_name="Lê Văn Bình",
    title="Chủ tịch UBND phường",
    role="certifier",
    authority_code=OTHER_AUTHORITY.code,
)


@dataclass
class ServedPki:
    pki: ProvincialPKI
    signers: SignerSource
    base_url: str
    root_pem: Path


def scan_jpeg(text: str = "GIẤY KHAI SINH", *, size: tuple[int, int] = (1654, 2339)) -> bytes:
    """A plausible A4 page at 200 dpi, as a scanner makes it."""
    im = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(im)
    draw.rectangle((80, 80, size[0] - 80, size[1] - 80), outline="black", width=6)
    draw.text((200, 200), text, fill="black")
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=85, dpi=(200, 200))
    return buf.getvalue()


@pytest.fixture(scope="session")
def served_pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedPki]:
    """The provincial PKI, with /pki/* served on a loopback port named in its certificates."""
    from cryptography.hazmat.primitives.serialization import Encoding

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    directory = tmp_path_factory.mktemp("pki")
    pki = ProvincialPKI.init(
        directory / "pki", province="Đồng Nai", passphrase=b"test passphrase", base_url=base_url
    )
    for authority in (AUTHORITY, OTHER_AUTHORITY):
        pki.issue_authority(authority.code, authority.name)
    for officer in (CERTIFIER, OTHER_CERTIFIER):
        pki.issue_officer(
            officer.username, officer.full_name, officer.title, officer.authority_code
        )
    root_pem = directory / "root.pem"
    root_pem.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in pki.trust_roots()))

    app = FastAPI()
    install_error_handlers(app)
    app.include_router(pki_router)
    app.state.services = SimpleNamespace(pki=lambda: pki)
    with serve_in_thread(app, port):
        yield ServedPki(pki=pki, signers=SignerSource(pki), base_url=base_url, root_pem=root_pem)


@contextmanager
def serve_in_thread(
    app: Any, port: int, *, lifespan: Literal["auto", "on", "off"] = "off"
) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1:``port`` in a thread; yields its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan=lifespan)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        raise RuntimeError("uvicorn did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def copy_builder() -> CopyBuilder:
    return CopyBuilder(DEJAVU, bold_font_path=DEJAVU_BOLD)


@pytest.fixture(scope="session")
def copy_signer(served_pki: ServedPki, copy_builder: CopyBuilder) -> CopySigner:
    return CopySigner(served_pki.signers, stamp_style=stamp_style(copy_builder.font))


def seed_register(register: SqlRegister, request_code: str = "YC-0001") -> str:
    for authority in (AUTHORITY, OTHER_AUTHORITY):
        register.add_authority(authority)
    for officer in (CERTIFIER, CLERK, OTHER_CERTIFIER):
        register.add_officer(officer)
    register.add_request(
        request_code,
        authority_code=AUTHORITY.code,
        requester_name="Phạm Văn Dũng",
        requester_id_number="079200001234",
        received_at=dt.datetime.now(dt.UTC),
    )
    return request_code


def make_service(
    *,
    store: MinioObjectStore,
    register: SqlRegister,
    builder: CopyBuilder,
    signer: CopySigner,
    signers: SignerSource,
    base_url: str,
    clock: Clock | None = None,
) -> CertificationService:
    """The service as the application wires it (``api.services.assemble_certification``),
    each copy validated at issue; ``signer`` may be a stand-in that fails on purpose.

    The clock is the system's by default: these tests sign with the province's real TSA and
    OCSP responder, whose times are the machine's."""
    return assemble_certification(
        signers=signers,
        store=store,
        register=register,
        builder=builder,
        clock=clock or SystemClock(),
        verify_base_url=base_url,
        copy_signer=signer,
    )


SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN_LABEL = "certify-test"


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> TokenConfig:
    if not (Path(SOFTHSM_MODULE).exists() and shutil.which("softhsm2-util")):
        pytest.skip("SoftHSM2 is not installed")
    d = tmp_path_factory.mktemp("softhsm")
    (d / "tokens").mkdir()
    conf = d / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {d / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            TOKEN_LABEL,
            "--pin",
            "1234",
            "--so-pin",
            "5678",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return TokenConfig(module=SOFTHSM_MODULE, token_label=TOKEN_LABEL, user_pin="1234")
