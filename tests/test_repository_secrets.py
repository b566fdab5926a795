"""No secret in the repository: every file git tracks is scanned for secret-shaped strings.

What counts as one: a private key block, an AWS access key ID or secret access key, the
gateway's own API key (the exact shape of ``auth.api_keys.API_KEY_PATTERN`` *and* a valid
checksum, i.e. a string ``parse_api_key`` accepts: a shape with a wrong checksum is refused
before any lookup, so it is no key), a JWT, and a Sentry DSN that carries a key.

A test fixture that has to look like a secret is allowed in ``ALLOWED`` by path, kind and
the fingerprint of the exact string, with the reason it is not one: the same string pasted
into another file, or another string in the same file, is still found. An entry that no
longer matches anything fails too, so the list cannot go stale. Findings are reported by
path, line, kind and fingerprint, never with the secret itself.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from auth.api_keys import API_KEY_PATTERN, format_api_key, parse_api_key
from errors import Unauthenticated

ROOT = Path(__file__).resolve().parents[1]


def _always(_: str) -> bool:
    return True


def _valid_api_key(candidate: str) -> bool:
    try:
        parse_api_key(candidate)
    except Unauthenticated:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    pattern: re.Pattern[str]
    confirm: Callable[[str], bool] = _always


KINDS = (
    Kind("private key", re.compile(r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")),
    Kind("aws access key id", re.compile(r"(?<![0-9A-Z])(?:AKIA|ASIA)[0-9A-Z]{16}(?![0-9A-Z])")),
    Kind(
        "aws secret access key",
        re.compile(
            r"(?i)aws_?secret_?(?:access_?)?key[\"']?\s*[:=]\s*[\"']?"
            r"(?-i:[0-9A-Za-z/+]{40})(?![0-9A-Za-z/+])"
        ),
    ),
    Kind("gateway api key", re.compile(API_KEY_PATTERN), _valid_api_key),
    Kind("jwt", re.compile(r"(?<![0-9A-Za-z_-])eyJ[0-9A-Za-z_-]*\.[0-9A-Za-z_-]+\.[0-9A-Za-z_-]*")),
    Kind(
        "sentry dsn",
        # scheme://public_key[:secret_key]@host[:port]/[path/]project_id
        re.compile(
            r"\bhttps?://[0-9A-Za-z]+(?::[0-9A-Za-z]+)?@[0-9A-Za-z.-]+(?::\d+)?"
            r"/(?:[\w.-]+/)*\d+(?![\w.-])"
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One secret-shaped string; it never holds the string itself, only its fingerprint."""

    path: str
    line: int
    kind: str
    fingerprint: str
    preview: str

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: {self.kind} {self.preview} (fingerprint {self.fingerprint})"
        )


@dataclass(frozen=True, slots=True)
class Allowed:
    path: str
    kind: str
    fingerprint: str
    reason: str


def fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


ALLOWED = (
    Allowed(
        "tests/observability/test_logging.py",
        "jwt",
        "fdd538833925f168",
        "the redactor's input: a JWT cut short, whose signature is the text 'signature'",
    ),
    Allowed(
        "tests/observability/test_logging.py",
        "jwt",
        "e66d95b518a97aaa",
        "the redactor's input: three made-up segments ('eyJabcdefgh' twice, then 'sig')",
    ),
    Allowed(
        "tests/observability/test_scrub.py",
        "jwt",
        "7cd63970bae68eb4",
        "the scrubber's input: a hand-made JWT whose signature is the text 'signature-here'",
    ),
    Allowed(
        "tests/observability/test_sentry.py",
        "jwt",
        "71cbf478e8d471ed",
        "Sentry scrubbing's input: a hand-made JWT signed 'signature-of-the-token'",
    ),
    Allowed(
        "tests/observability/test_sentry.py",
        "sentry dsn",
        "f9124cf0baa76b4b",
        "a DSN for a capturing transport: key 'public0123456789' at a .invalid host",
    ),
)


def scan_text(path: str, text: str) -> Iterator[Finding]:
    for kind in KINDS:
        for match in kind.pattern.finditer(text):
            secret = match.group()
            if kind.confirm(secret):
                yield Finding(
                    path=path,
                    line=text.count("\n", 0, match.start()) + 1,
                    kind=kind.name,
                    fingerprint=fingerprint(secret),
                    preview=secret[:6] + "…",
                )


def tracked_files(root: Path) -> list[str]:
    """Every path git tracks under ``root`` (staged included), relative to it."""
    listing = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z"], capture_output=True, check=True
    ).stdout
    return [name for name in listing.decode().split("\0") if name]


def scan_repository(root: Path) -> list[Finding]:
    findings: list[Finding] = []
    for name in tracked_files(root):
        path = root / name
        if path.is_file():  # a tracked file deleted in the work tree has nothing to leak
            findings.extend(scan_text(name, path.read_bytes().decode("utf-8", "replace")))
    return findings


def _is_allowed(finding: Finding, allowed: Iterable[Allowed]) -> bool:
    return any(
        (entry.path, entry.kind, entry.fingerprint)
        == (finding.path, finding.kind, finding.fingerprint)
        for entry in allowed
    )


@pytest.fixture(scope="module")
def repository_findings() -> list[Finding]:
    return scan_repository(ROOT)


def test_no_tracked_file_holds_a_secret(repository_findings: list[Finding]) -> None:
    assert len(tracked_files(ROOT)) > 100  # the scan saw the repository, not an empty listing
    leaks = [str(f) for f in repository_findings if not _is_allowed(f, ALLOWED)]
    assert not leaks, "secret-shaped strings in tracked files (allow a fixture in ALLOWED):\n" + (
        "\n".join(leaks)
    )


def test_every_allowed_fixture_is_still_there(repository_findings: list[Finding]) -> None:
    stale = [
        f"{entry.path} {entry.kind} {entry.fingerprint}"
        for entry in ALLOWED
        if not any(_is_allowed(f, [entry]) for f in repository_findings)
    ]
    assert not stale, "ALLOWED entries that match nothing any more:\n" + "\n".join(stale)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _jwt() -> str:
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64url(json.dumps({"sub": "42", "exp": 1_900_000_000}).encode())
    return f"{header}.{payload}.{_b64url(hashlib.sha256(b'planted').digest())}"


# Built at run time, so this file holds none of them.
PLANTED = {
    "private key": "-----BEGIN "
    + "RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
    "aws access key id": 'aws_access_key_id = "' + "AKIA" + "Q7ZD5JX2TMBK4WHN" + '"',
    "aws secret access key": "AWS_SECRET_ACCESS_KEY="
    + "wJalrXUtnFEMI/K7MDENG"
    + "/bPxRfiCYEXAMPLEKEY",
    "gateway api key": "Authorization: Bearer "
    + format_api_key("4fTq9XbZ2LkA", "Vd3k9PqR7sTuVwXyZ0123456789abcdE"),
    "jwt": "token=" + _jwt(),
    "sentry dsn": "SENTRY_DSN=https://"
    + "9f8e7d6c5b4a" * 2
    + "01234567"
    + "@o4501.ingest.sentry.io/4504",
}


@pytest.mark.parametrize("kind", sorted(PLANTED))
def test_a_planted_secret_is_found(kind: str, tmp_path: Path) -> None:
    planted = tmp_path / "settings.env"
    planted.write_text(f"# harmless\n{PLANTED[kind]}\n")
    found = list(scan_text("settings.env", planted.read_text()))
    assert [(f.kind, f.line) for f in found] == [(kind, 2)]
    assert PLANTED[kind] not in str(found[0])  # reported by fingerprint, never in full


def test_a_planted_secret_in_a_git_repository_fails_the_scan(tmp_path: Path) -> None:
    """The whole path the repository test takes: git's listing, reading, matching."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "clean.py").write_text("VALUE = 1\n")
    (tmp_path / "config.py").write_text(f"KEY = {PLANTED['gateway api key'].split()[-1]!r}\n")
    (tmp_path / "untracked.py").write_text(f"DSN = {PLANTED['sentry dsn']!r}\n")
    subprocess.run(["git", "-C", str(tmp_path), "add", "clean.py", "config.py"], check=True)
    findings = scan_repository(tmp_path)
    assert [(f.path, f.kind) for f in findings] == [("config.py", "gateway api key")]
    assert not _is_allowed(findings[0], ALLOWED)


def test_a_key_shape_with_a_wrong_checksum_is_no_key() -> None:
    key = PLANTED["gateway api key"].split()[-1]
    wrong = key[:-1] + ("0" if key[-1] != "0" else "1")
    assert [f.kind for f in scan_text("a", key)] == ["gateway api key"]
    assert list(scan_text("a", wrong)) == []


@pytest.mark.parametrize(
    "text",
    [
        "GATEWAY_SENTRY_DSN=https://sentry.example.com/42",  # no key
        "postgresql+asyncpg://user:hunter2@127.0.0.1:5432/test",  # not a DSN
        "AKIA_NOT_A_KEY and AKIAQ7ZD5JX2TMBK4WH",  # wrong lengths
        "-----BEGIN PUBLIC KEY-----",
        "aws_secret_access_key = testing",
        "eyJ alone, or x.eyJ",
    ],
)
def test_near_misses_are_not_secrets(text: str) -> None:
    assert list(scan_text("a", text)) == []
