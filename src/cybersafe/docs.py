"""Generated parts of the README (pip-audit's check-readme): the command list, the coverage matrix, the
paperwork kinds, the check table and every count of checks, so that none of them is a second list to keep in step
by hand.

``python -m cybersafe.docs README.md`` rewrites the blocks between ``<!-- generated:NAME -->`` and
``<!-- /generated:NAME -->``; a test fails when the README differs from what the code generates.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import typer

from cybersafe.checks import BUILTIN_CHECKS
from cybersafe.checks.interface import Check
from cybersafe.schemes.catalog import Catalog, default_catalog, iter_leaves
from cybersafe.schemes.interface import LeafKind, Node, Obligation, Scheme


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


def _families(checks: Sequence[type[Check]]) -> dict[str, list[type[Check]]]:
    """Checks by family (the id's prefix), in the order ``checks`` lists them."""
    families: dict[str, list[type[Check]]] = {}
    for check in checks:
        families.setdefault(check.ID.split(".", 1)[0], []).append(check)
    return families


def check_counts(checks: Sequence[type[Check]] = BUILTIN_CHECKS) -> str:
    """How many built-in checks there are, by family."""
    parts = [f"{len(members)} `{family}.*`" for family, members in _families(checks).items()]
    return f"{len(checks)} built-in checks: {', '.join(parts)}."


def _uses(catalog: Catalog) -> dict[str, dict[str, list[str]]]:
    """Check id -> scheme id -> the requirements of the scheme's current version that name the check (with the
    parameters they set, as the run's key shows them)."""
    uses: dict[str, dict[str, list[str]]] = {}
    for scheme in catalog.current_schemes():
        for req in scheme.requirements:
            for leaf in iter_leaves(req.verified_by):
                if leaf.kind is LeafKind.CHECK:
                    suffix = str(leaf)[len(leaf.ref) :]
                    named = f"{req.id} `{suffix}`" if suffix else req.id
                    uses.setdefault(leaf.ref, {}).setdefault(scheme.id, []).append(named)
    return uses


def check_table(checks: Sequence[type[Check]] = BUILTIN_CHECKS, catalog: Catalog | None = None) -> str:
    """Every check: id, title, severity, the evidence it reads, its parameters and the requirements that name it."""
    catalog = catalog or default_catalog()
    uses = _uses(catalog)
    lines = [
        "| check | title | severity | reads | parameters | requirements that name it (current scheme versions) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for check in checks:
        reads = ", ".join(f"`{kind.__name__}`" for kind in check.REQUIRES)
        params = ", ".join(f"`{name}`" for name in check.parameter_names()) or "—"
        used = "; ".join(f"{sid}: {', '.join(reqs)}" for sid, reqs in uses.get(check.ID, {}).items()) or "—"
        title = check.TITLE.replace("|", "/")
        lines.append(f"| `{check.ID}` | {title} | {check.SEVERITY} | {reads} | {params} | {used.replace('|', '/')} |")
    return "\n".join(lines)


def reuse_summary(checks: Sequence[type[Check]] = BUILTIN_CHECKS, catalog: Catalog | None = None) -> str:
    """What one assessment runs for every current modelled scheme, from the catalog: runs, requirements, reuse."""
    catalog = catalog or default_catalog()
    schemes = [s for s in catalog.current_schemes() if s.modelled]
    runs = _reachable_runs(catalog, schemes)
    requirements = sum(len(s.requirements) for s in schemes)
    fed = sum(len(reached) for reached in runs.values())
    return (
        f"The {len(checks)} built-in checks make {len(runs)} runs (one per check and distinct parameter set a "
        f"requirement asks for) that feed {requirements} requirement verdicts in {len(schemes)} modelled schemes; "
        f"each run can feed {fed / len(runs):.2f} requirements on average."
    )


def _reachable_runs(catalog: Catalog, schemes: Sequence[Scheme]) -> dict[str, set[str]]:
    """Run key -> the requirements of ``schemes`` that reach it, through requirement references too."""
    runs: dict[str, set[str]] = {}

    def walk(node: Node | None, owner: str, seen: frozenset[str]) -> None:
        for leaf in iter_leaves(node):
            if leaf.kind is LeafKind.CHECK:
                runs.setdefault(str(leaf), set()).add(owner)
            elif leaf.kind is LeafKind.REQUIREMENT:
                target = catalog.requirement(leaf.ref)
                if target.key not in seen:
                    walk(target.verified_by, owner, seen | {target.key})

    for scheme in schemes:
        for req in scheme.requirements:
            walk(req.verified_by, req.key, frozenset({req.key}))
    return runs


GENERATORS: dict[str, Callable[[], str]] = {
    "commands": command_table,
    "coverage": coverage_matrix,
    "paperwork": paperwork_table,
    "checks": check_table,
    "check-counts": check_counts,
    "reuse": reuse_summary,
}


def render(text: str, generators: dict[str, Callable[[], str]] | None = None) -> str:
    """``text`` with every generated block replaced by what the code generates now."""
    for name, generate in (generators or GENERATORS).items():
        pattern = re.compile(rf"(<!-- generated:{name} -->\n).*?(<!-- /generated:{name} -->)", re.DOTALL)
        text = pattern.sub(lambda m, g=generate: m.group(1) + g() + "\n" + m.group(2), text)  # type: ignore[misc]
    return text


def main(argv: list[str]) -> int:
    path = Path(argv[0] if argv else "README.md")
    path.write_text(render(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
