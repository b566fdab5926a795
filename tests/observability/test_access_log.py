import asyncio
import io
import json
from typing import Any

import pytest

from observability.access_log import AccessLog
from observability.logging import REDACTED, configure_logging, get_logger
from settings import Settings

KEY = "cgw_abcdefghijkl_0123456789abcdefghijklmnopqrstuvwxyz12"


class CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def _fields(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "request_id": "01KB6B8Z1Q8Y7DJ8W4XW5Y3A2C",
        "method": "POST",
        "status": 200,
        "duration_ms": 3.25,
        "company": "Acme",
        "operation": "Badge",
        "outcome": "ok",
        "cost": 1,
        "error_codes": None,
    }
    fields.update(changes)
    return fields


@pytest.mark.usefixtures("restore_logging")
def test_a_line_has_the_shape_structlog_gives_every_other_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(Settings(backend_username="u", backend_password="p", key_pepper="x" * 32))
    get_logger("gateway.access").info("request", **_fields())
    AccessLog(json_lines=True, enabled=True).request(**_fields())
    structlog_line, direct_line = (json.loads(x) for x in capsys.readouterr().out.splitlines())
    assert set(direct_line) == set(structlog_line)
    timestamps = structlog_line.pop("timestamp"), direct_line.pop("timestamp")
    assert direct_line == structlog_line
    assert all(t.endswith("Z") and t[:10] == timestamps[0][:10] for t in timestamps)


def test_client_controlled_values_are_redacted() -> None:
    stream = io.StringIO()
    AccessLog(json_lines=True, enabled=True, stream=stream).request(
        **_fields(request_id=KEY, operation=f"op {KEY}")
    )
    line = json.loads(stream.getvalue())
    assert line["request_id"] == REDACTED
    assert line["operation"] == f"op {REDACTED}"
    assert "cgw_" not in stream.getvalue()


async def test_lines_of_one_event_loop_tick_are_written_together_and_none_is_lost() -> None:
    stream = CountingStream()
    access = AccessLog(json_lines=True, enabled=True, stream=stream)
    for status in range(200, 230):
        access.request(**_fields(status=status))
    assert stream.writes == 0  # still this tick
    await asyncio.sleep(0)
    assert stream.writes == 1
    lines = [json.loads(x) for x in stream.getvalue().splitlines()]
    assert [line["status"] for line in lines] == list(range(200, 230))


def test_without_a_running_loop_a_line_is_written_at_once() -> None:
    stream = CountingStream()
    AccessLog(json_lines=True, enabled=True, stream=stream).request(**_fields())
    assert stream.writes == 1


def test_nothing_is_written_when_the_level_hides_info() -> None:
    settings = Settings(
        backend_username="u", backend_password="p", key_pepper="x" * 32, log_level="WARNING"
    )
    stream = io.StringIO()
    access = AccessLog.from_settings(settings)
    access._stream = stream
    access.request(**_fields())
    access.flush()
    assert stream.getvalue() == ""
