"""A request's due time as the service computes it: the shipped calendar, an operator's file
for another year, and a year nobody gave (issue 11.2)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pytest

from api.services import Services
from certify.errors import InvalidInputError
from certify.ports import VN_TZ
from storage.minio_server import MinioServer
from tests.api.conftest import seeded_services
from tests.issuing import ServedPki

pytestmark = pytest.mark.integration


def make(minio: MinioServer, pki: ServedPki, data_dir: Path, **settings: object) -> Services:
    return seeded_services(minio, pki, data_dir, **settings)


def test_a_request_received_in_the_morning_is_due_at_closing_time_that_day(
    minio_server: MinioServer, served_pki: ServedPki, data_dir: Path
) -> None:
    services = make(minio_server, served_pki, data_dir)
    try:
        received = services.clock.now()  # Tuesday 1 December 2026, 09:00 in Vietnam
        due = services.due_at(received)
        assert due == dt.datetime(2026, 12, 1, 17, 0, tzinfo=VN_TZ)
    finally:
        services.close()


def test_a_year_without_a_calendar_gives_no_due_time_and_tells_the_operator(
    minio_server: MinioServer,
    served_pki: ServedPki,
    data_dir: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    received = dt.datetime(2028, 3, 1, 9, 0, tzinfo=VN_TZ)  # a Wednesday
    services = make(minio_server, served_pki, data_dir)
    try:
        with caplog.at_level(logging.WARNING, logger="api.services"):
            assert services.due_at(received) is None
        assert "CERTIFY_HOLIDAY_CALENDAR_FILE" in caplog.text
    finally:
        services.close()
    calendar = tmp_path / "2028.json"
    calendar.write_text(
        json.dumps({"years": [2028], "non_working": ["2028-01-01"], "working": []}),
        encoding="utf-8",
    )
    services = make(minio_server, served_pki, tmp_path / "var2", holiday_calendar_file=calendar)
    try:
        assert services.due_at(received) == dt.datetime(2028, 3, 1, 17, 0, tzinfo=VN_TZ)
        # the shipped years are still there
        assert services.due_at(dt.datetime(2026, 12, 1, 15, 1, tzinfo=VN_TZ)) == (
            dt.datetime(2026, 12, 2, 17, 0, tzinfo=VN_TZ)
        )
    finally:
        services.close()


@pytest.mark.parametrize("content", [None, "not json", '{"years": [2028], "typo": []}'])
def test_an_unreadable_calendar_file_is_a_clear_error(
    minio_server: MinioServer, served_pki: ServedPki, tmp_path: Path, content: str | None
) -> None:
    path = tmp_path / "calendar.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    services = make(minio_server, served_pki, tmp_path / "var", holiday_calendar_file=path)
    try:
        with pytest.raises(InvalidInputError) as exc:
            services.due_at(dt.datetime(2026, 12, 1, 9, 0, tzinfo=VN_TZ))
        assert exc.value.code == "holiday_calendar_invalid"
        assert " / " in exc.value.message
    finally:
        services.close()
