"""A fuzz run of ``/graphql`` (issue 8): no 5xx, and no error a partner should not read.

Schemathesis generates queries and mutations from the published SDL (``schema.graphql``),
valid and invalid ones, one parametrized test per root field, and sends each to the real
gateway process over a real socket with a partner key. Every answer must be JSON and
below 500; each entry of ``errors`` must carry a documented ``extensions.code`` and the
request's ``extensions.requestId``, with a message free of tracebacks, file paths, Python
exception names and backend internals. INTERNAL_SERVER_ERROR, though masked, fails too: it
is what the gateway answers instead of a 500. ``data`` never holds another organization's
credential. The answers also join the session's final leak scan.

Some arguments are drawn, half of the time, from Schemathesis dictionaries: badge and
credential IDs of every organization from the seeded sample data (so the resolvers and the
backend are reached, and foreign records tried), recipient emails, and page sizes.

The run is bounded and repeatable: a fixed number of examples per operation, derandomized,
no example database. It uses a company of its own on organization 3 (enterprise plan), so
the credentials it issues or revokes, its bucket and its ledger rows touch no company
another test reads, and organizations 1 and 2, which other tests check, are only read.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import graphql
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import Case
from schemathesis.config import SchemathesisConfig

import errors as gateway_errors
from sample_backend.data import build_seed, internal_values
from tests.fixtures.gateway import Gateway, camel, internal_field_names

SDL = Path(__file__).resolve().parents[2] / "schema.graphql"
EXAMPLES_PER_OPERATION = 20  # ten root fields: 200 requests in all
FUZZ_COMPANY = "Fuzz Co"
FUZZ_ORGANIZATION = 3
MISSING_UUID = "00000000-0000-4000-8000-000000000000"

_SEED = build_seed()
FOREIGN_CREDENTIALS = frozenset(
    c.uuid for c in _SEED.credentials if c.organization != FUZZ_ORGANIZATION
)


def _credentials_of(organization: int) -> list[str]:
    """A few credentials of ``organization`` in each status."""
    return [
        credential.uuid
        for status in ("active", "revoked", "expired")
        for credential in [
            c for c in _SEED.credentials if (c.organization, c.status) == (organization, status)
        ][:3]
    ]


# Positive cases take these values for the arguments below, half of the time: records of
# the fuzzer's organization reach the resolvers and the backend, other organizations'
# records must read as missing, and edge values test the checks in front of the backend.
DICTIONARIES = {
    "badge-ids": [str(badge.id) for badge in _SEED.badges] + ["0", "-1", "999999999"],
    "credential-ids": [
        *_credentials_of(FUZZ_ORGANIZATION),
        *_credentials_of(1),
        *_credentials_of(2),
        MISSING_UUID,
    ],
    "emails": [
        *sorted({c.recipient.email for c in _SEED.credentials[:40]}),
        "fuzz@example.com",
        "Fuzz.Learner+tag@example.co",
        "not-an-email",
    ],
    "page-sizes": [1, 7, 20, 100, 0, 101, -1],
}
ARGUMENTS = {
    "Query.badge.id": "badge-ids",
    "Query.credentials.badgeId": "badge-ids",
    "Mutation.issueCredential.input.badgeId": "badge-ids",
    "Query.credential.id": "credential-ids",
    "Query.verifyCredential.id": "credential-ids",
    "Mutation.revokeCredential.input.id": "credential-ids",
    "Query.credentials.recipientEmail": "emails",
    "Mutation.issueCredential.input.recipient.email": "emails",
    "Query.badges.first": "page-sizes",
    "Query.credentials.first": "page-sizes",
}
CONFIG = SchemathesisConfig.from_dict(
    {
        "dictionaries": {name: {"values": values} for name, values in DICTIONARIES.items()},
        "parameters": {
            argument: {"dictionary": name, "probability": 0.5}
            for argument, name in ARGUMENTS.items()
        },
    }
)
SCHEMA = schemathesis.graphql.from_path(SDL, config=CONFIG)


def _documented_codes() -> frozenset[str]:
    """Every ``code`` errors.py defines, and graphql-core's own phases."""
    codes = {gateway_errors.PARSE_FAILED, gateway_errors.VALIDATION_FAILED}
    pending: list[type[gateway_errors.GatewayError]] = [gateway_errors.GatewayError]
    while pending:
        cls = pending.pop()
        codes.add(cls.code)
        pending.extend(cls.__subclasses__())
    return frozenset(codes)


DOCUMENTED_CODES = _documented_codes()
INTERNAL = gateway_errors.GatewayError.code
VALIDATION = gateway_errors.VALIDATION_FAILED

# What a masked message never holds: a traceback, a source location, a Python exception's
# class name, or where the backend lives and how the gateway talks to it.
_TRACEBACK = re.compile(
    r"Traceback|File \"|line \d+, in |\.py\b|site-packages|/(?:usr|home|work|tmp)/"
)
_EXCEPTION_NAME = re.compile(r"\b[A-Z]\w*(?:Error|Exception|Exit|Interrupt|Warning)\b")
_BACKEND = re.compile(
    r"/api/(?:v1|token)/|backend answered|httpx|aiohttp|asyncpg|aiosqlite|sqlalchemy|sqlite"
    r"|redis|orjson|strawberry|starlette|uvicorn|\bSELECT\b|\bINSERT\b",
    re.IGNORECASE,
)
_SCHEMA_TYPE_NAMES = frozenset(graphql.build_schema(SDL.read_text()).type_map)


@cache
def _internal() -> tuple[frozenset[str], tuple[str, ...]]:
    """What ``find_leaks`` looks for (quoted field names, seeded values), computed once."""
    names = internal_field_names()
    quoted = frozenset(f'"{n}"' for n in names | {camel(n) for n in names})
    return quoted, tuple(v for v in internal_values() if len(v) >= 6)


def leaks(text: str) -> list[str]:
    """``tests.fixtures.gateway.find_leaks``, without re-reading the contract per response."""
    quoted, values = _internal()
    return [n for n in quoted if n in text] + [v for v in values if v in text]


def unmasked(message: str, backend_url: str) -> list[str]:
    """Why ``message`` may not reach a partner; empty when it may."""
    found = [m.group() for m in _TRACEBACK.finditer(message)]
    found += [
        name
        for name in _EXCEPTION_NAME.findall(message)
        if name not in _SCHEMA_TYPE_NAMES  # e.g. "UserError" is the partner's own type
    ]
    found += [m.group() for m in _BACKEND.finditer(message)]
    if backend_url in message:
        found.append(backend_url)
    return found


def foreign_credentials(value: Any) -> list[str]:
    """IDs of other organizations' credentials anywhere in ``value`` (a response's data)."""
    if isinstance(value, dict):
        return [found for item in value.values() for found in foreign_credentials(item)]
    if isinstance(value, list):
        return [found for item in value for found in foreign_credentials(item)]
    return [value] if value in FOREIGN_CREDENTIALS else []


def check_answer(
    status: int, headers: Mapping[str, list[str]], content: bytes, backend_url: str
) -> list[str]:
    """Every way an answer breaks the endpoint's contract; empty when it keeps it."""
    problems: list[str] = []
    text = content.decode("utf-8", errors="replace")
    if status >= 500:
        problems.append(f"HTTP {status}")
    if "Traceback" in text:
        problems.append("a traceback in the body")
    if found := leaks(text):
        problems.append(f"internal data in the body: {found[:3]}")
    if backend_url in text:
        problems.append("the backend's URL in the body")
    content_type = (headers.get("content-type") or [""])[0]
    if not content_type.startswith("application/json"):
        problems.append(f"content type {content_type!r}")
    try:
        body: Any = json.loads(content)
    except ValueError:
        return [*problems, "the body is not JSON"]
    if not isinstance(body, dict):
        return [*problems, "the body is not a JSON object"]
    if found := foreign_credentials(body.get("data")):
        problems.append(f"another organization's credential in data: {found[:3]}")
    errors = body.get("errors") or []
    if not isinstance(errors, list):
        return [*problems, f"errors is not a list: {errors!r}"]
    request_id = next(iter(headers.get("x-request-id") or []), None)
    for error in errors:
        problems += _error_problems(error, request_id, backend_url)
    return problems


def _error_problems(error: Any, request_id: str | None, backend_url: str) -> list[str]:
    if not isinstance(error, dict):
        return [f"an error that is not an object: {error!r}"]
    problems: list[str] = []
    extensions = error.get("extensions") or {}
    code = extensions.get("code")
    if code not in DOCUMENTED_CODES:
        problems.append(f"undocumented code {code!r}: {error}")
    elif code == INTERNAL:
        # Masked, but a partner's input reached a failure the gateway did not expect:
        # the 500 of a GraphQL answer.
        problems.append(f"an internal error: {error}")
    if not request_id or extensions.get("requestId") != request_id:
        problems.append(f"requestId {extensions.get('requestId')!r}, header {request_id!r}")
    message = error.get("message")
    if not isinstance(message, str):
        problems.append(f"a message that is not a string: {error}")
    elif reasons := unmasked(message, backend_url):
        problems.append(f"unmasked message ({reasons}): {message!r}")
    return problems


def test_the_checks_catch_what_they_are_for() -> None:
    """The fuzz run's checks are not vacuous: each bad answer below is caught."""
    backend = "http://127.0.0.1:5999"
    json_headers = {"content-type": ["application/json"], "x-request-id": ["req-1"]}

    def answer(message: str, code: str = "NOT_FOUND", request_id: str = "req-1") -> bytes:
        error = {"message": message, "extensions": {"code": code, "requestId": request_id}}
        return json.dumps({"data": None, "errors": [error]}).encode()

    assert check_answer(200, json_headers, answer("Badge not found."), backend) == []
    assert (
        check_answer(400, json_headers, answer("Expected type 'UserError'.", VALIDATION), backend)
        == []
    )
    foreign = next(iter(sorted(FOREIGN_CREDENTIALS)))
    bad = {
        "5xx": (502, json_headers, answer("Bad gateway.")),
        "html": (200, {"content-type": ["text/html"]}, b"<html>oops</html>"),
        "undocumented": (200, json_headers, answer("No.", "KABOOM")),
        "internal": (200, json_headers, answer("Internal server error.", INTERNAL)),
        "request ID": (200, json_headers, answer("Badge not found.", request_id="other")),
        "traceback": (200, json_headers, answer('Traceback: File "/work/x.py", line 3')),
        "exception": (200, json_headers, answer("KeyError: 'badge'")),
        "backend": (200, json_headers, answer(f"GET {backend}/api/v1/badges/ failed")),
        "internal field": (200, json_headers, b'{"data": {"badge": {"internal_meta": 1}}}'),
        "foreign": (200, json_headers, json.dumps({"data": {"c": {"id": foreign}}}).encode()),
    }
    for name, (status, headers, content) in bad.items():
        assert check_answer(status, headers, content, backend), name


@pytest.fixture(scope="module")
def fuzz_key(gateway: Gateway) -> str:
    """A key of a company of the fuzzer's own, with every scope, on the biggest plan."""
    gateway.cli(
        "companies",
        "create",
        "--name",
        FUZZ_COMPANY,
        "--organization-id",
        str(FUZZ_ORGANIZATION),
        "--plan",
        "enterprise",
        "--json",
    )
    issued = gateway.cli(
        "keys",
        "issue",
        "--company",
        FUZZ_COMPANY,
        "--scope",
        "read",
        "--scope",
        "write",
        "--scope",
        "keys:manage",
        "--json",
    )
    return str(json.loads(issued.stdout)["key"])


@dataclass
class FuzzRun:
    """What the run saw: HTTP statuses per operation, and every body."""

    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    bodies: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def fuzz_run(gateway: Gateway) -> Iterator[FuzzRun]:
    """The run's record; at the end, every operation must have been executed at least once.

    A run refused throughout (401, 429, 400s) would check nothing but the refusals.
    """
    run = FuzzRun()
    yield run
    # The session's final leak scan covers these too; one text, so it reads the contract once.
    gateway.responses.append("\n".join(run.bodies))
    never_executed = {
        label: dict(counts) for label, counts in run.statuses.items() if counts[200] == 0
    }
    assert not never_executed, f"operations never executed (HTTP statuses): {never_executed}"


@SCHEMA.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow],
)
def test_fuzzed_operations_get_coded_masked_answers(
    case: Case[Any], gateway: Gateway, fuzz_key: str, fuzz_run: FuzzRun
) -> None:
    response = case.call(
        base_url=gateway.url + "/graphql",
        headers={"Authorization": f"Bearer {fuzz_key}"},
        timeout=10,
    )
    fuzz_run.statuses.setdefault(case.operation.label, Counter())[response.status_code] += 1
    fuzz_run.bodies.append(response.text)
    problems = check_answer(
        response.status_code,
        response.headers,
        response.content,
        gateway.env["GATEWAY_BACKEND_URL"],
    )
    query = case.body if isinstance(case.body, str) else repr(case.body)
    assert not problems, (
        f"{case.operation.label}: query {query}\n"
        f"answered {response.status_code} {response.text[:2000]}\nproblems: {problems}"
    )
