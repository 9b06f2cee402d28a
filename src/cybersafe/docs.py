"""Generated parts of the README (pip-audit's check-readme): commands, coverage matrix, paperwork kinds.

``python -m cybersafe.docs README.md`` rewrites the blocks between ``<!-- generated:NAME -->`` and
``<!-- /generated:NAME -->``; a test fails when the README differs from what the code generates.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import typer

from cybersafe.schemes.catalog import Catalog, default_catalog, iter_leaves
from cybersafe.schemes.interface import LeafKind, Node, Obligation


def command_table() -> str:
    """Every CLI command with its usage line and first help sentence."""
    from cybersafe.cli import app

    root = typer.main.get_command(app)
    rows: list[tuple[str, str]] = []

    def walk(command: Any, path: list[str]) -> None:
        # Typer vendors its own click, so groups are recognised by shape, not by class.
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name in sorted(subcommands):
                walk(subcommands[name], [*path, name])
            return
        ctx = type(root.make_context("cybersafe", [], resilient_parsing=True))(command, info_name=" ".join(path))
        usage = re.sub(r"\{([^}]+)\}", lambda m: m.group(1).upper(), " ".join(command.collect_usage_pieces(ctx)))
        summary = (command.help or "").strip().split("\n", 1)[0].strip()
        rows.append((f"`cybersafe {' '.join(path)} {usage}`", summary))

    walk(root, [])
    lines = ["| command | what it does |", "| --- | --- |"]
    lines.extend(f"| {usage} | {summary.replace('|', '/')} |" for usage, summary in rows)
    return "\n".join(lines)


def coverage_matrix(catalog: Catalog | None = None) -> str:
    """Per scheme: requirements, and how each is verified (automated check, declaration, manual, none)."""
    catalog = catalog or default_catalog()
    lines = [
        "| scheme | version | requirements | required | tested (firmware, SBOM, device) | declarations only | manual only | nothing automated |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for scheme in sorted(catalog.schemes.values(), key=lambda s: (catalog.scheme_ids().index(s.id), s.version)):
        if not scheme.modelled:
            lines.append(f"| {scheme.id} | {scheme.version} | not modelled | | | | | |")
            continue
        kinds: Counter[str] = Counter()
        for req in scheme.requirements:
            leaves = _reachable_kinds(catalog, req.verified_by)
            if "tested" in leaves:
                kinds["check"] += 1
            elif "declaration" in leaves:
                kinds["declaration"] += 1
            elif "manual" in leaves:
                kinds["manual"] += 1
            else:
                kinds["none"] += 1
        mandatory = sum(1 for r in scheme.requirements if r.obligation is not Obligation.RECOMMENDED)
        lines.append(
            f"| {scheme.id} | {scheme.version} | {len(scheme.requirements)} | {mandatory} | {kinds['check']} | "
            f"{kinds['declaration']} | {kinds['manual']} | {kinds['none']} |"
        )
    return "\n".join(lines)


def _reachable_kinds(catalog: Catalog, node: Node | None, seen: frozenset[str] = frozenset()) -> set[str]:
    """tested (a firmware, SBOM or device check), declaration (a declaration check or key), manual."""
    kinds: set[str] = set()
    for leaf in iter_leaves(node):
        if leaf.kind is LeafKind.REQUIREMENT:
            target = catalog.requirement(leaf.ref)
            if target.key not in seen:
                kinds |= _reachable_kinds(catalog, target.verified_by, seen | {target.key})
        elif leaf.kind is LeafKind.CHECK:
            kinds.add("declaration" if leaf.ref.startswith("declaration.") else "tested")
        else:
            kinds.add(str(leaf.kind))
    return kinds


def paperwork_table() -> str:
    """Every bundled paperwork document kind, from its data file."""
    from cybersafe.render.paperwork_kinds import bundled_kinds

    lines = [
        "| kind | scheme (issued when) | document | legal basis | files | for whom |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for kind in bundled_kinds().values():
        files = ", ".join(f"`{name}`" for name in kind.files)
        gate = " or ".join(kind.issue_when) or "never blocked"
        cells = (f"`{kind.kind}`", f"`{kind.scheme}` ({gate})", kind.title, kind.basis, files, kind.audience)
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


GENERATORS = {"commands": command_table, "coverage": coverage_matrix, "paperwork": paperwork_table}


def render(text: str) -> str:
    """``text`` with every generated block replaced by what the code generates now."""
    for name, generate in GENERATORS.items():
        pattern = re.compile(rf"(<!-- generated:{name} -->\n).*?(<!-- /generated:{name} -->)", re.DOTALL)
        text = pattern.sub(lambda m, g=generate: m.group(1) + g() + "\n" + m.group(2), text)  # type: ignore[misc]
    return text


def main(argv: list[str]) -> int:
    path = Path(argv[0] if argv else "README.md")
    path.write_text(render(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
