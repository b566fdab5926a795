from observability.logging import REDACTED, redact


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
