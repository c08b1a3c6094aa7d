"""The ``certify`` command line: serve, database migrations, PKI administration, demos."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError

from api.settings import Settings
from certify.errors import CertifyError
from storage.minio_server import MinioServerError

Handler = Callable[[argparse.Namespace], int]

# Command modules that add their own sub-commands with ``register(subparsers)``.
_COMMAND_MODULES: tuple[str, ...] = (
    "api.commands.pki",
    "api.commands.copies",
    "api.commands.verify",
    "api.commands.check",
    "api.commands.officers",
    "api.commands.audit",
    "api.commands.backup",
    "api.commands.preserve",
)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api import access_log
    from api.app import create_app
    from api.log_format import configure_logging
    from storage import database

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings: Settings = args.settings.model_copy(update=overrides)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if not args.no_migrate:
        database.upgrade(settings.resolved_database_url)
    base = settings.resolved_public_base_url
    print(f"certify: serving on http://{settings.host}:{settings.port}")
    print(f"certify: copies will carry {base}/v/… in their QR codes")
    try:
        settings.check_public_base_url()
    except CertifyError as exc:
        print(f"certify: WARNING: {exc.message}", flush=True)
    print(f"certify: API docs at http://{settings.host}:{settings.port}/docs", flush=True)
    access_log.install()  # no verification code or download link in the access log
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": "info",
        # Text or one JSON object per line with the request id (CERTIFY_LOG_FORMAT); the
        # access log never holds a verification code, download secret or tracking code.
        "log_config": configure_logging(settings),
        "timeout_keep_alive": settings.http_keepalive_timeout_seconds,
        "limit_concurrency": settings.http_limit_concurrency,
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
    }
    workers = args.workers if args.workers is not None else settings.workers
    workers = workers or os.cpu_count() or 1
    if workers == 1:
        uvicorn.run(create_app(settings), **options)
        return 0
    # Each worker process builds its own app from the environment (api.asgi): what the
    # command line changed goes there first. Certification runs in the workers' thread
    # pools, never on an event loop; the register's locks in the database keep every
    # authority's numbers gapless across processes and replicas.
    os.environ["CERTIFY_HOST"] = settings.host
    os.environ["CERTIFY_PORT"] = str(settings.port)
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="certify-metrics-"))
    print(f"certify: {workers} worker processes", flush=True)
    uvicorn.run("api.asgi:create_from_environment", factory=True, workers=workers, **options)
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from storage import database

    settings: Settings = args.settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database.upgrade(settings.resolved_database_url)
    print("certify: register database is at the latest schema")
    return 0


def quiet_libraries() -> None:
    """Silence library chatter that says nothing to an operator: fontTools' subsetting notes,
    and pyHanko's notice that revocation data is embedded without fetching (by design: the
    SignerSource supplies fresh CRLs and OCSP responses)."""
    for name in ("fontTools", "alembic", "pikepdf"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("pyhanko.sign.signers.pdf_signer").setLevel(logging.ERROR)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="certify",
        description="Chứng thực bản sao điện tử — electronic certified copies. "
        "Settings come from CERTIFY_* environment variables (see README).",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="on an error, also print its traceback"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP service (starts a local MinIO if needed)")
    serve.add_argument("--host", default=None, help="listen address (default CERTIFY_HOST)")
    serve.add_argument("--port", type=int, default=None, help="listen port (default CERTIFY_PORT)")
    serve.add_argument("--no-migrate", action="store_true", help="do not upgrade the database")
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default CERTIFY_WORKERS; 0: one per core)",
    )
    serve.set_defaults(handler=_serve)

    db = sub.add_parser("db", help="register database")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="migrate to the latest schema").set_defaults(
        handler=_db_upgrade
    )

    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Everything certify creates (register database, MinIO's objects, keys, spooled scans)
    # is private to the service's user: other local users read none of it.
    os.umask(0o077)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    quiet_libraries()
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        # The one Settings of this process: every handler reads args.settings.
        args.settings = Settings()
        return handler(args)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        _explain(
            args,
            "invalid_settings",
            f"Cấu hình CERTIFY_* không hợp lệ. / Invalid CERTIFY_* settings: {problems}",
        )
        return 2
    except CertifyError as exc:
        _explain(args, exc.code, exc.message)
        return 2
    except MinioServerError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        _explain(
            args,
            "minio_unavailable",
            "Không chạy được MinIO cục bộ (cần Go để dựng, hoặc đặt CERTIFY_S3_ENDPOINT). / "
            f"The local MinIO could not run (Go builds it; or set CERTIFY_S3_ENDPOINT): {first}",
        )
        return 2
    except KeyboardInterrupt:
        return 130


def _explain(args: argparse.Namespace, code: str, message: str) -> None:
    """One readable line on a known error; the traceback only with --verbose."""
    print(f"certify: {code}: {message}", file=sys.stderr)
    if args.verbose:
        traceback.print_exc()
    else:
        print("certify: (--verbose shows the details)", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
