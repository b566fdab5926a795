"""The demo's parts: idempotent setup, the printed curl, and the backend child process."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from auth.authenticator import Authenticator
from cli.backend_process import BackendError, BackendProcess
from cli.demo import DEMO_COMPANY, curl_command, demo_pepper, prepare_demo
from storage.database import Database
from storage.repositories import ApiKeyRepository, CompanyRepository
from tests.fixtures.databases import TEST_PEPPER


async def test_prepare_demo_is_idempotent(database_url: str) -> None:
    first = await prepare_demo(database_url, TEST_PEPPER)
    second = await prepare_demo(database_url, TEST_PEPPER)
    assert first.created_company
    assert not second.created_company
    assert first.company == second.company
    assert (first.company.name, first.company.organization_id) == (DEMO_COMPANY, 1)
    assert first.key != second.key
    assert first.key not in repr(first)
    async with Database(database_url) as database:
        assert [c.name for c in await CompanyRepository(database).list()] == [DEMO_COMPANY]
        authenticator = Authenticator(ApiKeyRepository(database), TEST_PEPPER)
        for setup in (first, second):
            principal = await authenticator.authenticate(setup.key)
            assert principal.company_name == DEMO_COMPANY
            assert principal.scopes == {"read", "write"}


async def test_prepare_demo_migrates_a_new_database(tmp_path: Path) -> None:
    setup = await prepare_demo(f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}", TEST_PEPPER)
    assert setup.created_schema


def test_curl_command_is_the_documented_one() -> None:
    assert curl_command("http://127.0.0.1:8000", "KEY") == (
        "curl -s http://127.0.0.1:8000/graphql -H 'Authorization: Bearer KEY' "
        "-H 'Content-Type: application/json' -d "
        """'{"query":"{ viewer { company { name } organization { name } } """
        """badges(first: 3) { totalCount nodes { id name } } }"}'"""
    )


def test_demo_pepper_is_made_once(tmp_path: Path) -> None:
    pepper = demo_pepper(tmp_path)
    assert len(pepper) >= 32
    assert demo_pepper(tmp_path) == pepper
    assert (tmp_path / "pepper").stat().st_mode & 0o077 == 0


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_backend_process_waits_for_its_ready_line(tmp_path: Path) -> None:
    log = tmp_path / "backend.log"
    backend = BackendProcess.start(
        log_path=log,
        username="u",
        password="p",
        command=_python(
            "import time\n"
            "print('starting')\n"
            "print('sample backend listening on http://127.0.0.1:4321/')\n"
            "time.sleep(30)"
        ),
    )
    try:
        assert backend.url == "http://127.0.0.1:4321"
        assert backend.process.poll() is None
    finally:
        backend.stop()
    assert backend.process.poll() is not None
    assert "starting" in log.read_text()


def test_backend_process_that_exits_is_reported(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match=r"exited \(status 3\)[\s\S]*no such module here"):
        BackendProcess.start(
            log_path=tmp_path / "backend.log",
            username="u",
            password="p",
            command=_python("import sys; print('no such module here'); sys.exit(3)"),
        )


def test_backend_process_that_hangs_is_stopped(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="did not start within"):
        BackendProcess.start(
            log_path=tmp_path / "backend.log",
            username="u",
            password="p",
            command=_python("import time; time.sleep(30)"),
            timeout=0.3,
        )
