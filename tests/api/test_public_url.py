"""A URL printed for ever in copies and certificates must outlive this machine (issue 9.3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.settings import DEMO_MARKER, Settings
from certify.errors import InvalidInputError


@pytest.mark.parametrize(
    "url",
    [
        "",  # empty: http://127.0.0.1:8000
        "http://chungthuc.dongnai.gov.vn",
        "https://127.0.0.1",
        "https://localhost:8443",
        "https://[::1]",
        "https://app.localhost",
    ],
)
def test_loopback_or_plain_http_is_refused_outside_a_demo(url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, public_base_url=url)
    with pytest.raises(InvalidInputError) as refused:
        settings.check_public_base_url()
    assert refused.value.code == "public_url_not_allowed"
    assert "CERTIFY_PUBLIC_BASE_URL" in refused.value.message
    Settings(data_dir=tmp_path, public_base_url=url, deployment="demo").check_public_base_url()


def test_a_real_https_host_is_accepted(tmp_path: Path) -> None:
    Settings(
        data_dir=tmp_path, public_base_url="https://chungthuc.dongnai.gov.vn/"
    ).check_public_base_url()


def test_certify_demo_marks_its_data_directory_as_a_demo(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert not settings.is_demo
    (tmp_path / DEMO_MARKER).touch()
    assert settings.is_demo
    settings.check_public_base_url()
