"""Scheme identity lives in the catalog alone: no scheme id is spelled in Python under src/.

A scheme id in code is a second list of what the catalog already lists (STYLE.md): adding a scheme would
need a Python edit, and a rule of one scheme would sit in code. Docstrings may name schemes as examples;
every other string literal is checked.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from cybersafe.schemes.catalog import default_catalog

SRC = Path(__file__).resolve().parents[1] / "src" / "cybersafe"


def _docstrings(tree: ast.AST) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def test_no_scheme_id_is_spelled_in_python_under_src() -> None:
    scheme_ids = {s.id for s in default_catalog().schemes.values()}
    pattern = re.compile(r"(?<![a-z0-9-])(" + "|".join(map(re.escape, sorted(scheme_ids))) + r")(?![a-z0-9-])")
    found = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                match = pattern.search(node.value)
                if match:
                    found.append(f"{path.relative_to(SRC)}:{node.lineno}: {match.group(0)}")
    assert not found, "scheme ids belong in the catalog, not in code:\n" + "\n".join(found)


def test_no_check_reads_the_dossier_markets() -> None:
    checks = SRC / "checks"
    offenders = [
        f"{path.relative_to(SRC)}:{n}"
        for path in sorted(checks.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\.markets\b|\bMarket\b", line)
    ]
    assert not offenders, f"a check picks a rule by market: {offenders}"
