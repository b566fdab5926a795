import os

import pytest

from settings import SettingsError, load_settings

REQUIRED = {
    "GATEWAY_BACKEND_USERNAME": "svc",
    "GATEWAY_BACKEND_PASSWORD": "secret-password",
    "GATEWAY_KEY_PEPPER": "p" * 32,
}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith("GATEWAY_"):
            monkeypatch.delenv(name)
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_defaults_run_embedded_on_one_machine(env: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///gateway.db"
    assert settings.backend_url == "http://127.0.0.1:8001"
    assert settings.max_page_size == 100


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_a_missing_setting_is_named(env: pytest.MonkeyPatch, missing: str) -> None:
    env.delenv(missing)
    with pytest.raises(SettingsError, match=f"{missing} is required"):
        load_settings()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GATEWAY_BACKEND_URL", "ftp://backend"),
        ("GATEWAY_DATABASE_URL", "mysql://db"),
        ("GATEWAY_KEY_PEPPER", "short"),
        ("GATEWAY_MAX_PAGE_SIZE", "1000"),
        ("GATEWAY_LOG_FORMAT", "xml"),
        ("GATEWAY_ROUTER_SECRET", "too-short-a-router-secret"),
    ],
)
def test_an_invalid_setting_is_named_without_echoing_it(
    env: pytest.MonkeyPatch, name: str, value: str
) -> None:
    env.setenv(name, value)
    with pytest.raises(SettingsError, match=name) as raised:
        load_settings()
    assert value not in str(raised.value)


def test_secrets_do_not_show_in_the_settings_repr(env: pytest.MonkeyPatch) -> None:
    env.setenv("GATEWAY_ROUTER_SECRET", "r" * 40)
    settings = load_settings()
    text = repr(settings)
    assert "secret-password" not in text
    assert "p" * 32 not in text
    assert "r" * 40 not in text
    assert settings.router_secret is not None
