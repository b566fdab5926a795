"""The docs cannot drift from the code.

- Every GraphQL document in docs/partners.md (``graphql`` blocks, and the operations inside
  its curl, Python and JavaScript examples) validates against the published schema.
- Those examples run as printed against a real gateway (``gateway demo``: the sample
  backend, SQLite, a demo company) and answer without errors.
- Every ``Settings`` field appears in docs/operations.md as ``GATEWAY_<NAME>``, and every
  setting its table names exists.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from graphql import build_schema, parse, validate

from cli.backend_process import free_port
from settings import ENV_PREFIX, Settings
from tests.fixtures.demo import clean_env, launch_demo, read_until_ready

ROOT = Path(__file__).resolve().parents[1]
PARTNERS = ROOT / "docs" / "partners.md"
OPERATIONS = ROOT / "docs" / "operations.md"
GATEWAY_BIN = str(Path(sys.executable).with_name("gateway"))
MANAGE_SCOPES = ("--scope", "read", "--scope", "write", "--scope", "keys:manage")

_FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
_PY_STRING = re.compile(r'"""(.*?)"""', re.DOTALL)
_JS_TEMPLATE = re.compile(r"`([^`]*)`")
# "query": "..." in a JSON body (curl -d), or query: "..." in a jq program.
_JSON_QUERY = re.compile(r'(?:"query"|\bquery)\s*:\s*("(?:[^"\\]|\\.)*")')
_OPERATION_START = re.compile(r"\s*(?:query|mutation|subscription|fragment)\b|\s*\{")


@dataclass(frozen=True, slots=True)
class Block:
    language: str
    code: str
    line: int  # where the block starts in the file, for messages


def code_blocks(path: Path, *languages: str) -> list[Block]:
    text = path.read_text(encoding="utf-8")
    return [
        Block(match.group(1), match.group(2), text.count("\n", 0, match.start()) + 1)
        for match in _FENCE.finditer(text)
        if match.group(1) in languages
    ]


def graphql_documents(path: Path) -> list[tuple[int, str]]:
    """(line, document) for every GraphQL document in the file's code blocks."""
    found: list[tuple[int, str]] = []
    for block in code_blocks(path, "graphql", "python", "js", "sh"):
        if block.language == "graphql":
            found.append((block.line, block.code))
            continue
        if block.language == "python":
            candidates = _PY_STRING.findall(block.code)
        elif block.language == "js":
            candidates = _JS_TEMPLATE.findall(block.code)
        else:
            candidates = [json.loads(text) for text in _JSON_QUERY.findall(block.code)]
        found += [(block.line, text) for text in candidates if _OPERATION_START.match(text)]
    return found


# --- docs/partners.md: every document is valid ---------------------------------------------


def test_every_graphql_document_in_the_partner_guide_validates_against_the_schema() -> None:
    schema = build_schema((ROOT / "schema.graphql").read_text(encoding="utf-8"))
    documents = graphql_documents(PARTNERS)
    problems = []
    for line, text in documents:
        errors = validate(schema, parse(text))
        problems += [f"docs/partners.md block at line {line}: {error.message}" for error in errors]
    assert not problems, "\n".join(problems)
    # Each operation in the guide, in each of its forms, was found: an empty match proves nothing.
    assert len(documents) >= 30


def test_the_extractor_finds_documents_in_every_kind_of_block(tmp_path: Path) -> None:
    sample = tmp_path / "sample.md"
    sample.write_text(
        "```graphql\nquery A { viewer { company { name } } }\n```\n"
        '```python\nQ = """\nquery B { badges { totalCount } }\n"""\nx = """not graphql"""\n```\n'
        "```js\nconst Q = `\n  mutation C { x }\n`;\nconst url = `${base}/graphql`;\n```\n"
        """```sh\ncurl -d '{"query": "{ badge(id: \\"1\\") { name } }"}'\n"""
        """jq -n '{query: "query D { viewer { company { id } } }"}'\n```\n"""
    )
    assert [text.strip() for _, text in graphql_documents(sample)] == [
        "query A { viewer { company { name } } }",
        "query B { badges { totalCount } }",
        "mutation C { x }",
        '{ badge(id: "1") { name } }',
        "query D { viewer { company { id } } }",
    ]


# --- docs/partners.md: the examples run -----------------------------------------------------


@dataclass
class Demo:
    url: str
    state: Path
    log: list[str]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """``gateway demo`` on a free port, with its own state: fresh sample data."""
    directory = tmp_path_factory.mktemp("docs-demo")
    port = free_port()
    process, lines = launch_demo(port, state=directory / "state", cwd=directory)
    log: list[str] = []
    try:
        read_until_ready(lines, log)
        yield Demo(f"http://127.0.0.1:{port}", directory / "state", log)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def partner_env(demo: Demo) -> dict[str, str]:
    """What the guide's examples read: the URL and a key that may also rotate itself."""
    admin = {
        **clean_env(),
        "GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{demo.state / 'gateway.db'}",
        "GATEWAY_KEY_PEPPER": (demo.state / "pepper").read_text().strip(),
        "GATEWAY_BACKEND_USERNAME": "unused",
        "GATEWAY_BACKEND_PASSWORD": "unused",
    }
    issued = subprocess.run(
        [GATEWAY_BIN, "keys", "issue", "--company", "Acme Learning", "--json", *MANAGE_SCOPES],
        env=admin,
        capture_output=True,
        text=True,
        check=True,
    )
    key: str = json.loads(issued.stdout)["key"]
    return {**clean_env(), "PARTNER_API_URL": demo.url, "PARTNER_API_KEY": key}


def _json_values(output: str) -> list[Any]:
    values = []
    for line in output.splitlines():
        if line.startswith("{"):
            values.append(json.loads(line))
    return values


def _fail(what: str, done: subprocess.CompletedProcess[str]) -> str:
    return f"{what} exited {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"


@pytest.mark.skipif(
    not (shutil.which("curl") and shutil.which("jq")) and not os.environ.get("CI"),
    reason="the curl examples need curl and jq (under CI a missing one fails the test)",
)
def test_the_guides_curl_examples_run_without_errors(
    partner_env: dict[str, str], tmp_path: Path
) -> None:
    blocks = [b for b in code_blocks(PARTNERS, "sh") if "export PARTNER_API_" not in b.code]
    assert len(blocks) >= 8
    for block in blocks:
        done = subprocess.run(
            ["sh", "-eu", "-c", block.code],
            cwd=tmp_path,
            env=partner_env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        what = f"the sh block at docs/partners.md:{block.line}"
        assert done.returncode == 0, _fail(what, done)
        answers = _json_values(done.stdout)
        assert answers or "schema.graphql" in block.code or "-D -" in block.code, what
        for answer in answers:
            assert "errors" not in answer, f"{what} answered {answer}"
            assert answer.get("data", answer) is not None, f"{what} answered {answer}"
    assert (tmp_path / "schema.graphql").read_text().startswith('"""')


@pytest.mark.skipif(
    not (shutil.which("curl") and shutil.which("jq")) and not os.environ.get("CI"),
    reason="the curl examples need curl and jq (under CI a missing one fails the test)",
)
def test_the_guides_curl_pagination_loop_follows_the_cursors(
    partner_env: dict[str, str], tmp_path: Path
) -> None:
    [loop] = [b for b in code_blocks(PARTNERS, "sh") if "while :" in b.code]
    counts = []
    for page_size in (100, 3):  # one page, then several
        code = loop.code.replace("first: 100", f"first: {page_size}")
        done = subprocess.run(
            ["sh", "-eu", "-c", code],
            cwd=tmp_path,
            env=partner_env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, _fail("the pagination loop", done)
        ids = [answer["id"] for answer in _json_values(done.stdout)]
        assert len(ids) == len(set(ids))
        counts.append(len(ids))
    assert counts[0] == counts[1] > 3


def test_the_guides_python_examples_run_as_one_script(
    partner_env: dict[str, str], tmp_path: Path
) -> None:
    script = tmp_path / "examples.py"
    script.write_text("\n\n".join(block.code for block in code_blocks(PARTNERS, "python")))
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=partner_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, _fail("the Python examples", done)
    assert "issued " in done.stdout
    assert "revoked " in done.stdout
    assert "not valid (REVOKED)" in done.stdout


@pytest.mark.skipif(
    shutil.which("node") is None and not os.environ.get("CI"),
    reason="the JavaScript examples need Node.js (under CI a missing one fails the test)",
)
def test_the_guides_javascript_examples_run_as_one_module(
    partner_env: dict[str, str], tmp_path: Path
) -> None:
    module = tmp_path / "examples.mjs"
    module.write_text("\n\n".join(block.code for block in code_blocks(PARTNERS, "js")))
    done = subprocess.run(
        ["node", str(module)],
        cwd=tmp_path,
        env=partner_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, _fail("the JavaScript examples", done)
    assert "issued " in done.stdout
    assert "revoked " in done.stdout
    assert "not valid (REVOKED)" in done.stdout


# --- docs/operations.md: every setting ---------------------------------------------------------

_TABLE_SETTING = re.compile(r"^\| `(GATEWAY_[A-Z0-9_]+)`", re.MULTILINE)


def test_every_setting_is_in_the_operators_guide() -> None:
    text = OPERATIONS.read_text(encoding="utf-8")
    missing = [
        ENV_PREFIX + name.upper()
        for name in Settings.model_fields
        if f"`{ENV_PREFIX}{name.upper()}`" not in text
    ]
    assert not missing, f"docs/operations.md does not document {missing}"


def test_the_operators_settings_table_names_only_real_settings() -> None:
    named = _TABLE_SETTING.findall(OPERATIONS.read_text(encoding="utf-8"))
    real = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    assert set(named) <= real, f"not settings: {sorted(set(named) - real)}"
    assert len(named) == len(set(named)), "a setting has two rows"
    assert set(named) == real  # one row per setting


@pytest.mark.parametrize("path", [PARTNERS, OPERATIONS], ids=["partners", "operations"])
def test_every_json_block_parses(path: Path) -> None:
    blocks = code_blocks(path, "json")
    assert blocks
    for block in blocks:
        try:
            json.loads(block.code)
        except json.JSONDecodeError as error:
            pytest.fail(f"{path.name}:{block.line + error.lineno}: {error.msg}")


def test_the_task_definition_has_what_the_guide_says() -> None:
    [task] = [
        json.loads(block.code)
        for block in code_blocks(OPERATIONS, "json")
        if '"containerDefinitions"' in block.code
    ]
    gateway = next(c for c in task["containerDefinitions"] if c["name"] == "gateway")
    secrets = {entry["name"] for entry in gateway["secrets"]}
    environment = {entry["name"] for entry in gateway["environment"]}
    settings = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    assert {"GATEWAY_BACKEND_PASSWORD", "GATEWAY_KEY_PEPPERS", "GATEWAY_SENTRY_DSN"} <= secrets
    assert (secrets | environment) <= settings  # no invented variable
    assert not secrets & environment
    assert "/healthz" in " ".join(gateway["healthCheck"]["command"])
    assert gateway["stopTimeout"] > Settings.model_fields["request_deadline"].default
    assert gateway["logConfiguration"]["logDriver"] == "awslogs"
