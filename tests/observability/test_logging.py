import json
import logging

import pytest

from observability.logging import REDACTED, configure_logging, redact
from observability.request_id import bind_request_id
from settings import Settings


def test_api_keys_bearer_tokens_and_jwts_are_redacted_inside_text() -> None:
    text = (
        "key cgw_abcdefghijkl_0123456789abcdefghijklmnopqrstuvwxyz12 "
        "header Bearer abc.def.ghi jwt eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl"
    )
    assert redact(text) == f"key {REDACTED} header {REDACTED} jwt {REDACTED}"


def test_secret_named_entries_are_redacted_in_nested_mappings() -> None:
    event = {"headers": {"Authorization": "x", "accept": "json"}, "items": [{"password": "p"}]}
    assert redact(event) == {
        "headers": {"Authorization": REDACTED, "accept": "json"},
        "items": [{"password": REDACTED}],
    }


@pytest.mark.usefixtures("restore_logging")
def test_standard_library_lines_are_json_with_the_request_id_and_redacted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = Settings(backend_username="u", backend_password="p", key_pepper="x" * 32)
    configure_logging(settings)
    token = bind_request_id("req-123")
    try:
        logging.getLogger("aiohttp.client").warning(
            "retrying with Bearer eyJabcdefgh.eyJabcdefgh.sig for cgw_abcdefghijkl_secret12"
        )
    finally:
        token.var.reset(token)
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["request_id"] == "req-123"
    assert line["logger"] == "aiohttp.client"
    assert line["level"] == "warning"
    assert "eyJ" not in line["event"] and "cgw_" not in line["event"]
