"""The GraphiQL explorer over HTTP: its page, its policy, its assets, its examples.

The explorer is built by npm from ``explorer/`` into ``explorer/dist/`` (``make explorer``,
which ``make test`` runs first); the tests that need the build skip without it, or fail
under ``CI``. The browser itself is driven in ``test_explorer_browser.py``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import httpx
import pytest
from graphql import GraphQLSchema, OperationDefinitionNode, parse, validate
from graphql.execution.values import get_variable_values

from schema.partner_schema import build_schema
from server.graphiql import DEFAULT_DIST, content_security_policy
from tests.fixtures.gateway import (
    GATEWAY_BIN,
    Gateway,
    free_port,
    gateway_env,
    wait_until_listening,
)
from tests.fixtures.sample_backend import SampleBackend

EXAMPLES = Path(__file__).resolve().parents[2] / "explorer" / "src" / "examples"
HTML = {"Accept": "text/html"}
_NONCE = re.compile(r'<meta name="csp-nonce" content="([A-Za-z0-9_-]+)"')
_ASSET = re.compile(r'(?:src|href)="(/graphql/explorer/assets/[^"]+)"')


@pytest.fixture(scope="module")
def built() -> Path:
    if not (DEFAULT_DIST / "index.html").is_file():
        message = f"the explorer is not built in {DEFAULT_DIST}: run `make explorer`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return DEFAULT_DIST


def _page(gateway: Gateway) -> httpx.Response:
    response = gateway.request("GET", "/graphql", headers=HTML)
    assert response.status_code == 200, response.text
    return response


def test_the_page_has_a_strict_policy_with_a_fresh_nonce_and_no_inline_code(
    built: Path, gateway: Gateway
) -> None:
    first, second = _page(gateway), _page(gateway)
    nonces = []
    for response in (first, second):
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        match = _NONCE.search(response.text)
        assert match, "no nonce in the page"
        nonces.append(match[1])
        assert response.headers["content-security-policy"] == content_security_policy(match[1])
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["cache-control"] == "no-store"
        # Scripts and styles are files of the gateway's own: nothing inline, no other host.
        scripts = re.findall(r"<script\b[^>]*>", response.text)
        assert scripts and all('src="/graphql/explorer/assets/' in s for s in scripts)
        assert "<style" not in response.text and " style=" not in response.text
        assert not re.search(r'(?:src|href)="(?:https?:)?//', response.text)
    assert nonces[0] != nonces[1] and len(nonces[0]) >= 22
    policy = first.headers["content-security-policy"]
    for directive in (
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
        "worker-src 'self'",
        "frame-ancestors 'none'",
    ):
        assert directive in policy
    assert "unsafe-eval" not in policy and "script-src 'self';" in policy


def test_the_assets_are_served_by_the_gateway_and_cached_for_a_year(
    built: Path, gateway: Gateway
) -> None:
    assets = _ASSET.findall(_page(gateway).text)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    bundle = ""
    for path in assets:
        response = gateway.request("GET", path)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["x-content-type-options"] == "nosniff"
        expected = "text/css" if path.endswith(".css") else "javascript"
        assert expected in response.headers["content-type"], path
        bundle += response.text if path.endswith(".js") else ""
    # The entry script carries the header editor's default and the example operations.
    assert 'Bearer <your key>"' in bundle
    for operation in ("query Viewer", "query ListBadges", "mutation IssueCredential"):
        assert operation in bundle
    # What was not built is not there; the page itself is not an asset.
    assert gateway.request("GET", "/graphql/explorer/assets/nope.js").status_code == 404
    assert gateway.request("GET", "/graphql/explorer/assets/../index.html").status_code == 404


@pytest.fixture(scope="module")
def partner_schema() -> GraphQLSchema:
    return build_schema()._schema


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.graphql")), ids=lambda path: path.stem)
def test_every_example_operation_validates_with_its_variables(
    example: Path, partner_schema: GraphQLSchema
) -> None:
    document = parse(example.read_text())
    assert validate(partner_schema, document) == []
    [operation] = document.definitions
    assert isinstance(operation, OperationDefinitionNode)
    assert operation.name is not None  # it names the tab
    variables_file = example.with_suffix(".json")
    variables = json.loads(variables_file.read_text()) if variables_file.exists() else {}
    coerced = get_variable_values(partner_schema, operation.variable_definitions or (), variables)
    assert not isinstance(coerced, list), [error.message for error in coerced]


def test_the_examples_cover_the_main_tasks() -> None:
    text = "\n".join(p.read_text() for p in EXAMPLES.glob("*.graphql"))
    for field in (
        "viewer",
        "rateLimit",
        "usage(",
        "badges(",
        "badge(",
        "credentials(",
        "pageInfo { hasNextPage endCursor }",
        "issueCredential(",
        "revokeCredential(",
        "verifyCredential(",
    ):
        assert field in text, field
    issue = json.loads((EXAMPLES / "6-issue-credential.json").read_text())
    assert issue["input"]["idempotencyKey"]


def test_without_a_build_the_gateway_starts_and_the_page_says_how_to_build_it(
    gateway_backend: SampleBackend, sqlite_database_url: str, tmp_path: Path
) -> None:
    env = gateway_env(gateway_backend, sqlite_database_url)
    env["GATEWAY_EXPLORER_DIR"] = str(tmp_path / "not-built")
    port = free_port()
    with (tmp_path / "gateway.log").open("wb") as log:
        process = subprocess.Popen(
            [GATEWAY_BIN, "serve", "--port", str(port)], env=env, stdout=log, stderr=log
        )
        try:
            wait_until_listening(port, process)
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
                page = client.get("/graphql", headers=HTML)
                assert page.status_code == 503
                assert page.headers["content-type"] == "text/html; charset=utf-8"
                assert "The explorer is not built" in page.text
                assert "make explorer" in page.text and "npm ci" in page.text
                assert str(tmp_path) not in page.text  # no server path for the world
                assert page.headers["content-security-policy"].startswith("default-src 'none'")
                # The API and the probes work all the same.
                assert client.get("/healthz").status_code == 200
                refused = client.post("/graphql", json={"query": "{ viewer { company { name } } }"})
                assert refused.status_code == 401
                assert client.get("/graphql/explorer/assets/index.js").status_code == 404
        finally:
            process.terminate()
            process.wait(timeout=10)
    assert "the explorer is not built" in (tmp_path / "gateway.log").read_text()
