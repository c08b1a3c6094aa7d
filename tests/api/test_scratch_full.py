"""A full scratch disk met anywhere behind a route (issue 13.4) answers 507 ``scratch_full``
in the service's error shape; any other ``OSError`` stays an unknown failure (500)."""

from __future__ import annotations

import errno
import os

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.errors import install_error_handlers, status_for
from api.sessions import install_session_handlers
from certify.errors import CertifyError
from certify.intake import ScratchFullError


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/full")
    def full() -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/tmp/copy-x")

    @app.post("/quota")
    async def quota() -> None:
        raise OSError(errno.EDQUOT, os.strerror(errno.EDQUOT))

    @app.post("/build")
    def build() -> None:
        # As certify.copy answers any failure of its libraries (copy_build_failed).
        try:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        except OSError as exc:
            raise CertifyError("The copy could not be built.", code="copy_build_failed") from exc

    @app.post("/desk/build")
    def desk_build() -> None:
        build()  # the same, behind a desk page (certify from /desk/requests/...)

    @app.post("/io")
    def io_error() -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO), "/tmp/secret-name")

    return app


def test_a_full_disk_is_507_scratch_full() -> None:
    with TestClient(_app(), raise_server_exceptions=False) as client:
        for path in ("/full", "/quota", "/build"):
            answer = client.post(path)
            assert answer.status_code == 507
            body = answer.json()
            assert body["error"] == "scratch_full"
            assert set(body) == {"error", "message"}
            assert "/tmp" not in body["message"]
    assert status_for(ScratchFullError()) == 507


def test_another_os_error_is_the_generic_500() -> None:
    with TestClient(_app(), raise_server_exceptions=False) as client:
        answer = client.post("/io")
    assert answer.status_code == 500
    assert answer.json()["error"] == "internal_error"
    assert "secret-name" not in answer.text


def test_a_full_disk_behind_a_desk_page_is_the_507_page() -> None:
    app = _app()
    install_session_handlers(app)
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.post("/desk/build")
    assert answer.status_code == 507
    assert answer.headers["content-type"].startswith("text/html")
    assert "scratch_full" in answer.text and "copy_build_failed" not in answer.text
