"""Shared fixtures; each area's live in ``tests/fixtures/<area>.py``."""

pytest_plugins = [
    "tests.fixtures.sample_backend",
    "tests.fixtures.databases",
    "tests.fixtures.gateway",
    "tests.fixtures.redis",
]
