"""The one Settings class: every knob of the service, read from ``CERTIFY_*`` variables.

Built in ``create_app()`` or by the CLI, never at import time. Secrets are ``SecretStr``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import urllib.parse
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from certify.errors import InvalidInputError

# Left in the data directory by `certify demo`: this deployment is a demo.
DEMO_MARKER = "DEMO"


class PaymentAccountSetting(BaseModel):
    """An authority's account for fees paid by transfer (VietQR) and the secret its bank's
    payment webhook signs with (issue 12.3)."""

    bank_bin: str = Field(pattern=r"^[0-9]{6}$", description="the bank's NAPAS BIN")
    account_number: str = Field(pattern=r"^[0-9A-Za-z]{1,19}$")
    account_name: str = Field(min_length=1, max_length=100)
    webhook_secret: SecretStr


class Settings(BaseSettings):
    """Settings of one certify process. Every field has a default that runs locally."""

    model_config = SettingsConfigDict(env_prefix="CERTIFY_", env_file=None, extra="ignore")

    # Where local state lives: the SQLite register, the local MinIO's data, the PKI files.
    data_dir: Path = Path("var")

    # Register database. Empty means SQLite at {data_dir}/certify.db.
    database_url: str = ""

    # Object store. An empty endpoint means: start a local MinIO under {data_dir}/minio.
    s3_endpoint: str = ""
    s3_access_key: str = "certify"
    s3_secret_key: SecretStr = SecretStr("")
    s3_secure: bool = False
    s3_region: str = "us-east-1"
    s3_timeout_seconds: float = 10.0
    scans_bucket: str = "scans"
    copies_bucket: str = "copies"
    copies_retention_mode: Literal["COMPLIANCE", "GOVERNANCE"] = "GOVERNANCE"
    copies_retention_days: int = Field(default=3650, ge=1)

    # HTTP
    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str = ""  # e.g. https://chungthuc.example.gov.vn; empty: http://host:port
    # "demo": a demo or test deployment, where copies may carry a loopback or http:// URL.
    deployment: Literal["production", "demo"] = "production"
    # An idle keep-alive connection is closed after this many seconds; at most this many
    # connections and requests at once (more get 503). Header and body read timeouts belong
    # to the reverse proxy in front (compose.yaml), which uvicorn does not have.
    http_keepalive_timeout_seconds: int = Field(default=5, ge=1)
    http_limit_concurrency: int = Field(default=1000, ge=1)
    # Proxies whose X-Forwarded-For is believed (the client address of rate limits and
    # logs): comma-separated addresses, or "*" where only the proxy can reach the service.
    forwarded_allow_ips: str = "127.0.0.1"
    # Worker processes of `certify serve` (each with its own thread pool); 0: one per core.
    workers: int = Field(default=0, ge=0, le=64)

    # Observability: GET /metrics (Prometheus); "json": one JSON object per log line with
    # the request id (api.log_format.configure_logging).
    metrics_enabled: bool = True
    log_format: Literal["text", "json"] = "text"

    # PKI (keys/)
    pki_dir: Path | None = None  # default {data_dir}/pki
    pki_passphrase: SecretStr = SecretStr("")  # encrypts every private key at rest
    signature_algorithm: Literal["rsa-pss", "ecdsa-p256"] = "rsa-pss"
    tsa_url: str = ""  # external RFC 3161 TSA; empty: the service's own TSA
    trust_roots: list[Path] = Field(default_factory=list)  # extra roots for verification
    pkcs11_module: str = ""  # e.g. /usr/lib/softhsm/libsofthsm2.so
    pkcs11_token_label: str = ""
    pkcs11_user_pin: SecretStr = SecretStr("")

    # Intake limits (certify/intake/)
    max_scan_bytes: int = Field(default=50 * 1024 * 1024, ge=1)
    max_scan_pages: int = Field(default=200, ge=1)
    max_page_pixels: int = Field(default=120_000_000, ge=1)
    min_scan_dpi: int = Field(default=200, ge=1)

    # Public verification (issue 7): uploads are hostile input, checked under limits.
    verify_max_upload_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    verify_workers: int = Field(default=0, ge=0)  # worker processes; 0: one per core
    verify_timeout_seconds: float = Field(default=10.0, gt=0)  # per file
    verify_worker_memory_mb: int = Field(default=1536, ge=0)  # address space; 0: no cap
    # Per client address (limits' notation, e.g. "30/minute;500/hour"); empty: no limit.
    verify_upload_rate_limit: str = "30/minute"
    verify_token_rate_limit: str = "120/minute"  # noqa: S105 - a rate, not a secret
    # Failed staff logins (limits' notation), per account and per client address.
    login_failure_limit_account: str = "5/15 minutes"
    login_failure_limit_address: str = "30/15 minutes"
    # The desk's page sessions end after this long without a request, or this long after
    # login; a download link of an issued copy works for this long.
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_max_hours: int = Field(default=10, ge=1, le=24 * 7)
    download_link_hours: int = Field(default=72, ge=1, le=24 * 90)

    # The citizens' side (issue 12). Bookings per client address; tracking-code lookups per
    # client address (a flood of guessed codes gets 429).
    booking_rate_limit: str = "10/hour"
    tracking_rate_limit: str = "30/minute"
    # Fees by bank transfer: per authority code, its account and webhook secret (JSON, e.g.
    # {"dn-tanphu": {"bank_bin": "970415", "account_number": "…", "account_name": "…",
    # "webhook_secret": "…"}}); a webhook call older or newer than this is refused.
    payment_accounts: dict[str, PaymentAccountSetting] = Field(default_factory=dict)
    payment_webhook_tolerance_seconds: int = Field(default=300, ge=10, le=3600)
    # E-mail to citizens: the outbox is sent over SMTP by the service every
    # mail_interval_seconds; an empty host keeps the mail in the outbox (none is lost).
    smtp_host: str = ""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_sender: str = "chungthuc@localhost"
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    mail_interval_seconds: float = Field(default=10.0, ge=0)  # 0: not in the service

    # The register against the copies bucket (certify check): at start-up, then every so often.
    check_interval_hours: float = Field(default=24.0, ge=0)  # 0: only at start-up

    # Preservation (certify preserve, certify.preservation): archive time-stamps renewed
    # before the last one's TSA certificate ends (within the margin) or when its hash is one
    # of the weak digests (comma-separated, e.g. "sha1,sha256"); the service runs it every
    # preserve_interval_hours (0: only by the command), one replica at a time (a lease).
    preserve_interval_hours: float = Field(default=24.0, ge=0)
    preserve_margin_days: int = Field(default=180, ge=1, le=3650)
    preserve_weak_digests: str = ""
    preserve_digest_algorithm: Literal["sha256", "sha384", "sha512"] = "sha256"
    preserve_batch: int = Field(default=200, ge=1, le=10_000)

    # Register
    register_type: str = "SCT/BS"
    register_book: str = "01"  # quyển số as on the register cover, printed as 01/{year}

    # Due times of requests (certify.deadlines): the office closes at this hour (Vietnam
    # time); the holiday calendar is the shipped one (2026-2027), with the years of this JSON
    # file added or replaced (certify.holidays.HolidayCalendar.from_json).
    office_closes_at: dt.time = dt.time(17, 0)
    holiday_calendar_file: Path | None = None

    # The copy's Unicode font (Vietnamese needs more than Latin-1): DejaVu Sans by default
    font_path: Path = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    bold_font_path: Path | None = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'certify.db').as_posix()}"

    @property
    def resolved_pki_dir(self) -> Path:
        return self.pki_dir if self.pki_dir is not None else self.data_dir / "pki"

    @property
    def is_demo(self) -> bool:
        """A demo or test deployment: ``deployment=demo``, or ``certify demo`` ran on this
        data directory (it leaves the marker file ``DEMO``)."""
        return self.deployment == "demo" or (self.data_dir / DEMO_MARKER).exists()

    def check_public_base_url(self) -> None:
        """Refuse to put a URL that cannot outlive this machine into signed copies and
        certificates: a copy's QR code and a certificate's OCSP/CRL URLs can never be corrected
        once signed. Loopback or plain HTTP is allowed only in a demo/test deployment.

        Raises:
            InvalidInputError: code ``public_url_not_allowed``.
        """
        url = urllib.parse.urlsplit(self.resolved_public_base_url)
        host = url.hostname or ""
        loopback = host in ("localhost", "") or host.endswith(".localhost")
        with contextlib.suppress(ValueError):
            loopback = loopback or ipaddress.ip_address(host).is_loopback
        if (loopback or url.scheme != "https") and not self.is_demo:
            raise InvalidInputError(
                f"Địa chỉ công khai {self.resolved_public_base_url} sẽ được in vĩnh viễn vào bản "
                "sao và chứng thư số nhưng không dùng được từ bên ngoài (cần https và tên miền "
                "thật): đặt CERTIFY_PUBLIC_BASE_URL, hoặc CERTIFY_DEPLOYMENT=demo để thử. / "
                f"The public URL {self.resolved_public_base_url} would be printed for ever in "
                "copies and certificates but cannot be reached from outside (https and a real "
                "host name needed): set CERTIFY_PUBLIC_BASE_URL, or CERTIFY_DEPLOYMENT=demo "
                "to try.",
                code="public_url_not_allowed",
            )

    @property
    def resolved_public_base_url(self) -> str:
        if self.public_base_url:
            return self.public_base_url.rstrip("/")
        return f"http://{self.host}:{self.port}"
