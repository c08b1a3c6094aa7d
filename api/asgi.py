"""The application for a server that imports it: ``certify serve --workers N`` runs N worker
processes, each building its app here from the environment (``CERTIFY_*``), as uvicorn
requires an import string for more than one worker."""

from __future__ import annotations

from fastapi import FastAPI

from api import access_log
from api.app import create_app
from api.settings import Settings


def create_from_environment() -> FastAPI:
    """One worker's app: settings from ``CERTIFY_*``, the access log without secrets."""
    access_log.install()
    return create_app(Settings())
