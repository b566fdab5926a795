"""SECURITY.md names, for each threat, the tests that prove its control: they must exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# `tests/a/test_b.py::test_c`, `::test_d` (same file as the last one named), `tests/a/test_b.py`
_REFERENCE = re.compile(r"`(tests/[\w/]+\.py)?(?:::(\w+))?`")


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def test_every_test_security_md_names_exists() -> None:
    text = (ROOT / "SECURITY.md").read_text()
    current: Path | None = None
    checked = 0
    for file, name in _REFERENCE.findall(text):
        if file:
            current = ROOT / file
            assert current.is_file(), file
        if name:
            assert current is not None, f"::{name} before any file"
            assert name in _test_names(current), f"{current.relative_to(ROOT)}::{name}"
        checked += 1
    assert checked > 30  # the policy names its tests; an empty match would prove nothing
