"""The composition root: ``create_app(settings)`` wires storage, keys and the domain.

Nothing here runs at import time; the app is built from a ``Settings`` the caller made.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.errors import install_error_handlers
from api.services import Services, build_services
from api.settings import Settings


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> FastAPI:
    """Build the FastAPI application.

    Args:
        settings: the process's settings (``Settings()`` reads ``CERTIFY_*``).
        services: already-built services (tests); else built at start-up and closed at shutdown.
    """
    settings = settings or (services.settings if services else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = services is None
        app.state.services = services or build_services(settings)
        try:
            yield
        finally:
            if owned:
                app.state.services.engine.dispose()
                if app.state.services.local_minio is not None:
                    app.state.services.local_minio.stop()

    app = FastAPI(
        title="certify — Chứng thực bản sao điện tử",
        summary="Electronic certified copies from paper originals (NĐ 45/2020 art. 10 cl. 3)",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs",
    )
    app.state.settings = settings
    if services is not None:
        app.state.services = services
    install_error_handlers(app)

    from api.routes import health, pki

    app.include_router(health.router)
    app.include_router(pki.router)
    return app
