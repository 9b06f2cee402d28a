"""Core commands: assess, schemes, scheme show, crosswalk, recognize."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from cybersafe import safeio
from cybersafe.cli._common import (
    CATALOG_OPTION,
    EXIT_NOT_MET,
    EXIT_OK,
    FORMAT_OPTION,
    FailOn,
    OutputFormat,
    RichProgress,
    catalog_for,
    check_out_dir,
    console,
    emit_json,
    gate,
    handle_errors,
    parse_now,
)

MAX_SBOM_COPY_BYTES = 256 * safeio.MiB
STATUS_STYLE = {
    "meets": "bold green",
    "fails": "bold red",
    "incomplete": "yellow",
    "not_modelled": "dim",
    "pending": "cyan",
    "prepare": "blue",
    "out_of_scope": "dim",
    "not_judged": "dim",
    "pass": "green",
    "justified": "cyan",
    "fail": "red",
    "inconclusive": "yellow",
    "not_applicable": "dim",
    "error": "bold magenta",
}


def styled(value: str) -> Text:
    return Text(value, style=STATUS_STYLE.get(value.split(" ", 1)[0], ""))


def register(app: typer.Typer) -> None:
    app.command("assess")(assess_command)
    app.command("schemes")(schemes_command)
    scheme_app = typer.Typer(name="scheme", help="Show one scheme's requirements.", no_args_is_help=True)
    scheme_app.command("show")(scheme_show_command)
    app.add_typer(scheme_app)
    app.command("crosswalk")(crosswalk_command)
    app.command("recognize")(recognize_command)
    app.command("demo")(demo_command)


_OUT_OPTION = typer.Option("--out", metavar="DIR", help="Write assessment.json (and a copy of the SBOM) here.")
_NOW_OPTION = typer.Option("--now", help="Assessment time (ISO 8601); default: now. For reproducible output.")
_FAIL_ON_OPTION = typer.Option(
    "--fail-on",
    help="Judge the exit code on findings instead of verdicts: exit 1 when a check that feeds a judged scheme "
    "has a failing finding at or above this severity.",
)
_BASELINE_OPTION = typer.Option(
    "--baseline",
    metavar="OLD.json",
    help="An earlier assessment of this product: run again only the checks whose inputs changed (firmware, "
    "SBOM, VEX, vulnerability database, dossier sections, device) and reuse the rest, saying what and why.",
)


@handle_errors
def assess_command(
    dossier: Annotated[Path, typer.Argument(help="The product dossier (YAML).")],
    scheme: Annotated[
        list[str] | None,
        typer.Option(
            "--scheme", "-s", help="Scheme to judge on, ID or ID@VERSION; repeatable. Default: the dossier's markets."
        ),
    ] = None,
    output_format: OutputFormat = FORMAT_OPTION,
    catalog_dirs: Annotated[list[Path] | None, CATALOG_OPTION] = None,
    out: Annotated[Path | None, _OUT_OPTION] = None,
    now: Annotated[str | None, _NOW_OPTION] = None,
    fail_on: Annotated[FailOn | None, _FAIL_ON_OPTION] = None,
    baseline: Annotated[Path | None, _BASELINE_OPTION] = None,
) -> None:
    """Assess a product against every scheme: verdicts, missing evidence, marginal test plans.

    Exit codes: 0 every judged market (or --scheme) is met, pending a scheme body's step, applies only later or
    does not cover the product; 1 one is not (with --fail-on: a failing finding at or above that severity);
    2 bad input or usage, one line naming the input; 3 a bug in cybersafe.

    A device named in the dossier (artefacts.device) is probed within a wall-clock budget of 5 minutes (300 s);
    a probe that was cut, or that saw none of the declared ports, passes no network check.
    """
    from cybersafe.assess import assess
    from cybersafe.results import load_assessment
    from cybersafe.to_wire import to_assessment

    moment = parse_now(now)
    check_out_dir(out)
    previous = load_assessment(baseline) if baseline is not None else None
    progress = RichProgress() if output_format is OutputFormat.TABLE else None
    try:
        run = assess(
            dossier,
            now=moment,
            scheme_refs=scheme,
            progress=progress,
            catalog=catalog_for(catalog_dirs),
            baseline=previous,
        )
    finally:
        if progress is not None:
            progress.close()
    assessment = to_assessment(run)
    if out is not None:
        from cybersafe.outputs import assessment_json

        text = assessment_json(assessment)  # checked against its schema before anything is written
        out.mkdir(parents=True, exist_ok=True)
        (out / "assessment.json").write_text(text, encoding="utf-8")
        if run.dossier.artefacts.sbom:
            sbom = dossier.parent / run.dossier.artefacts.sbom
            copy = safeio.read_bytes(sbom, MAX_SBOM_COPY_BYTES, what="an SBOM", field="artefacts.sbom")
            (out / f"sbom{sbom.suffix or '.json'}").write_bytes(copy)
    if output_format is OutputFormat.JSON:
        emit_json(assessment.model_dump(mode="json", by_alias=True, exclude_none=True))
    else:
        _print_assessment(assessment, run.requested, out)
    raise typer.Exit(_assess_exit(assessment, run, fail_on))


def _assess_exit(assessment: Any, run: Any, fail_on: FailOn | None) -> int:
    if fail_on is None:
        return EXIT_OK if run.meets_requested else EXIT_NOT_MET
    judged = set(run.requested)
    failing = [
        f
        for c in assessment.checks
        if any(key.split(":", 1)[0] in judged for key in c.feeds)
        for f in c.findings
        if f.verdict == "fail"
    ]
    return EXIT_NOT_MET if gate(failing, fail_on) else EXIT_OK


_SHOWN = 5  # missing items and plan steps shown per scheme in the table; the JSON has them all


def _print_next_steps(assessment: Any, requested: list[str]) -> None:
    """Per judged scheme not met: what evidence is missing, the marginal plan's first steps, the route."""
    plans = {p.want: p for p in assessment.plans if p.have is None}
    table = Table(title="What to do next (judged schemes; --format json lists everything)")
    for column in ("scheme", "missing evidence", "marginal plan"):
        table.add_column(column, overflow="fold")
    for result in assessment.schemes:
        key = f"{result.scheme}@{result.version}"
        if key not in requested or result.status in ("meets", "out_of_scope", "not_modelled"):
            continue
        plan = plans.get(key)
        steps = [f"{s.ref} ({'check' if s.automated else s.kind})" for s in plan.steps] if plan else []
        missing = [_gist(m) for m in result.missing_evidence]
        table.add_row(key, _first(missing), "\n".join([*(plan.route[:2] if plan else []), _first(steps)]))
    if table.row_count:
        console.print(table)
    if all(s.status != "meets" for s in assessment.schemes) and not _artefacts_named(assessment):
        console.print(
            "[yellow]Nothing was tested:[/] the dossier names no firmware image, SBOM or device "
            "(artefacts.firmware, artefacts.sbom, artefacts.device), so only its declarations were judged. "
            "Add them to the dossier to get verdicts (README: The dossier)."
        )


def _gist(text: str, limit: int = 140) -> str:
    """A summary line of one missing item (the JSON keeps the whole text)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _first(items: list[str]) -> str:
    shown = "\n".join(items[:_SHOWN])
    return shown + (f"\n(+{len(items) - _SHOWN} more)" if len(items) > _SHOWN else "")


def _artefacts_named(assessment: Any) -> bool:
    artefacts = assessment.dossier.get("artefacts", {})
    return any(artefacts.get(name) for name in ("firmware", "sbom", "device"))


def _requirement_row(r: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": r.id,
        "title": r.title,
        "group": r.group,
        "text": r.text,
        "obligation": str(r.obligation),
        "condition": str(r.condition) if r.condition else None,
        "levels": list(r.levels),
        "verified_by": _node_text(r.verified_by),
        "confidence": str(r.confidence),
        "source": f"{r.source.document}" + (f", {r.source.clause}" if r.source.clause else ""),
    }
    tree = r.decision_tree
    if tree is not None:
        row["decision_tree"] = {
            "id": tree.id,
            "subject": tree.subject,
            "confidence": str(tree.confidence),
            "nodes": [
                {
                    "id": n.id,
                    "question": n.question,
                    "yes": n.yes,
                    "no": n.no,
                    "answered_by": [x.source() for x in n.rules],
                }
                for n in tree.nodes
            ],
            "functional": _node_text(tree.functional),
        }
    return row


def _print_presumption(assessment: Any) -> None:
    """Restrictions on a harmonised standard's presumption of conformity (shown beside the status, not in it)."""
    from cybersafe.render._view import presumption_text

    for result in assessment.schemes:
        for line in (presumption_text(p) for p in result.presumption):
            console.print(f"[yellow]{escape(result.short_title)}[/]: {escape(line)}")


def _print_assessment(assessment: Any, requested: list[str], out: Path | None) -> None:
    from cybersafe.render._summary import later_text, status_text

    product = assessment.dossier["product"]
    console.print(
        f"[bold]{product['manufacturer']['name']} {product['name']}[/] (model {product['model']}, "
        f"firmware {product.get('firmware_version', '?')})"
    )
    as_of = assessment.schemes[0].as_of if assessment.schemes else None
    table = Table(title=f"Scheme verdicts as of {as_of}" if as_of else "Scheme verdicts", show_lines=False)
    columns = ("scheme", "version", "status", "level", "pass", "fail", "inconcl.", "n/a", "error", "later", "judged")
    numeric = ("pass", "fail", "inconcl.", "n/a", "error")
    for column in columns:
        table.add_column(column, justify="right" if column in numeric else "left")
    for result in assessment.schemes:
        counts = result.counts
        key = f"{result.scheme}@{result.version}"
        table.add_row(
            result.scheme,
            result.version,
            styled(status_text(result)),
            result.highest_level or "",
            str(counts.get("pass", 0)),
            str(counts.get("fail", 0)),
            str(counts.get("inconclusive", 0)),
            str(counts.get("not_applicable", 0)),
            str(counts.get("error", 0)),
            later_text(result.later),
            "yes" if key in requested else "",
        )
    console.print(table)
    if assessment.markets:
        markets = Table(title="Markets: what applies today, and what later")
        for column in ("market", "status", "laws and labels"):
            markets.add_column(column, overflow="fold")
        for market in assessment.markets:
            parts = []
            for entry in market.schemes:
                later = later_text(entry.later)
                parts.append(f"{entry.scheme}: {entry.status}" + (f"; {later}" if later else ""))
            markets.add_row(market.market, styled(str(market.status)), "\n".join(parts))
        console.print(markets)
    _print_presumption(assessment)
    failing = [
        (result.scheme, req)
        for result in assessment.schemes
        if f"{result.scheme}@{result.version}" in requested
        for req in result.requirements
        if req.required and str(req.verdict) in ("fail", "error")
    ]
    if failing:
        fail_table = Table(title="Failed requirements (judged schemes)")
        for column in ("scheme", "requirement", "verdict", "why"):
            fail_table.add_column(column, overflow="fold")
        for scheme_id, req in failing:
            fail_table.add_row(scheme_id, f"{req.id} {req.title}", styled(str(req.verdict)), req.reason)
        console.print(fail_table)
    if assessment.delta is not None:
        _print_delta(assessment.delta)
    _print_next_steps(assessment, requested)
    reuse = assessment.reuse
    console.print(
        f"{reuse.checks_run} checks ran once and produced {reuse.requirement_verdicts} requirement verdicts "
        f"for {reuse.schemes_served} schemes ({reuse.requirements_fed_per_check} requirements fed per check)."
    )
    for problem in assessment.problems:
        console.print(f"[yellow]problem[/] {problem.source}: {problem.message}")
    if out is not None:
        console.print(f"written: {out / 'assessment.json'}")


def _print_delta(delta: Any) -> None:
    """What a delta run took from its baseline: counts, what changed, and what ran again with why."""
    skipped = f"; not collected again: {', '.join(delta.collectors_skipped)}" if delta.collectors_skipped else ""
    console.print(
        f"delta against {delta.baseline[:12]} ({delta.baseline_generated_at:%Y-%m-%d}): {len(delta.reused)} checks "
        f"reused, {len(delta.rerun)} run again{skipped}",
        highlight=False,
    )
    if delta.changed_inputs:
        console.print("  changed inputs: " + ", ".join(delta.changed_inputs), highlight=False)
    files = delta.firmware_files
    if files is not None:
        reused = delta.firmware_facts_reused
        facts = (
            f"; {reused} files' facts taken from the baseline, the rest analysed again" if reused is not None else ""
        )
        written = delta.firmware_files_written
        if written is not None and reused is not None and written < reused + len(files.changed) + len(files.added):
            facts += f"; the image was read in place, {written} files written out"
        console.print(
            f"  firmware files: {len(files.changed)} changed, {len(files.added)} added, {len(files.removed)} removed"
            + facts,
            highlight=False,
        )
    for entry in delta.rerun:
        console.print(f"  ran again: {entry.check}: {entry.why}", highlight=False)


@handle_errors
def schemes_command(
    output_format: OutputFormat = FORMAT_OPTION,
    catalog_dirs: Annotated[list[Path] | None, CATALOG_OPTION] = None,
) -> None:
    """List every scheme and version in the catalog."""
    catalog = catalog_for(catalog_dirs)
    rows: list[dict[str, Any]] = [
        {
            "id": s.id,
            "version": s.version,
            "current": s.current,
            "title": s.title,
            "short_title": s.short_title,
            "kind": s.kind,
            "jurisdiction": s.jurisdiction,
            "markets": list(s.markets),
            "label": {"name": s.label.name, "style": s.label.style} if s.label else None,
            "dates": {k: v for k, v in dataclasses.asdict(s.dates).items() if v is not None},
            "modelled": s.modelled,
            "levels": [lv.id for lv in s.levels],
            "requirements": len(s.requirements),
            "source": s.source.url or s.source.document,
        }
        for s in sorted(catalog.schemes.values(), key=lambda s: (catalog.scheme_ids().index(s.id), not s.current))
    ]
    if output_format is OutputFormat.JSON:
        emit_json(rows)
        return
    table = Table(title="Schemes")
    table.add_column("id", no_wrap=True)
    for column in ("version", "name", "kind", "markets", "levels", "requirements", "modelled"):
        table.add_column(column, overflow="fold")
    for row in rows:
        version = f"{row['version']}" + (" (current)" if row["current"] else "")
        table.add_row(
            row["id"],
            version,
            row["short_title"],
            row["kind"],
            ", ".join(row["markets"]) or "-",
            ", ".join(row["levels"]) or "-",
            str(row["requirements"]),
            "yes" if row["modelled"] else "[dim]no[/]",
        )
    console.print(table)


@handle_errors
def scheme_show_command(
    scheme_id: Annotated[
        str,
        typer.Argument(
            metavar="ID[@VERSION]", help="Scheme id, or ID@VERSION for another version (see cybersafe schemes)"
        ),
    ],
    level: Annotated[
        str | None, typer.Option("--level", "-l", help="Only the requirements that count at this level.")
    ] = None,
    output_format: OutputFormat = FORMAT_OPTION,
    catalog_dirs: Annotated[list[Path] | None, CATALOG_OPTION] = None,
) -> None:
    """Show a scheme's requirements: obligation, levels, what verifies each, confidence."""
    from cybersafe.schemes.recognition import validate_level

    catalog = catalog_for(catalog_dirs)
    scheme = catalog.scheme(scheme_id)
    validate_level(scheme, level)
    rows = [_requirement_row(r) for r in scheme.required_at(level)]
    if output_format is OutputFormat.JSON:
        emit_json(
            {
                "scheme": scheme.id,
                "version": scheme.version,
                "title": scheme.title,
                "modelled": scheme.modelled,
                "levels": [{"id": lv.id, "title": lv.title, "description": lv.description} for lv in scheme.levels],
                "requirements": rows,
            }
        )
        return
    title = f"{scheme.title} ({scheme.key})" + (f", level {level}" if level else "")
    if not scheme.modelled:
        console.print(f"[dim]{scheme.key}: requirements not modelled; this scheme never reads as met.[/]")
    table = Table(title=title, show_lines=False)
    for column in ("id", "title", "obligation", "levels", "verified by", "confidence"):
        table.add_column(column, overflow="fold")
    for row in rows:
        obligation = row["obligation"] + (f" ({row['condition']})" if row["condition"] else "")
        tree = row.get("decision_tree")
        tree_text = (
            f"decision tree {tree['id']} ({len(tree['nodes'])} nodes, {tree['confidence']}) reading: " if tree else ""
        )
        table.add_row(
            row["id"],
            row["title"],
            obligation,
            ", ".join(row["levels"]),
            tree_text + (row["verified_by"] or "[yellow]manual / not automatable[/]"),
            row["confidence"],
        )
    console.print(table)


def _node_text(node: Any) -> str:
    from cybersafe.schemes.interface import AllOf, Leaf

    if node is None:
        return ""
    if isinstance(node, Leaf):
        return str(node)
    joiner = " and " if isinstance(node, AllOf) else " or "
    inner = joiner.join(_node_text(child) for child in node.children)
    return inner if len(node.children) == 1 else f"({inner})"


@handle_errors
def crosswalk_command(
    source: Annotated[str, typer.Argument(metavar="FROM", help="Scheme id[@version]")],
    target: Annotated[str, typer.Argument(metavar="TO", help="Scheme id[@version]")],
    output_format: OutputFormat = FORMAT_OPTION,
    catalog_dirs: Annotated[list[Path] | None, CATALOG_OPTION] = None,
) -> None:
    """Show how two schemes' requirements relate (equal, subset-of, superset-of, intersects-with)."""
    catalog = catalog_for(catalog_dirs)
    edges = catalog.crosswalk_between(source, target)
    rows = [
        {
            "from": e.source,
            "relationship": str(e.relationship),
            "to": e.target,
            "confidence": str(e.confidence),
            "crosswalk": e.crosswalk,
            "rationale": e.rationale,
            "document": e.document,
        }
        for e in edges
    ]
    if output_format is OutputFormat.JSON:
        emit_json(rows)
        return
    if not rows:
        console.print(f"no crosswalk edges between {source} and {target}")
        return
    table = Table(title=f"Crosswalk {catalog.scheme(source).key} -> {catalog.scheme(target).key}")
    for column in ("from", "relationship", "to", "confidence", "rationale"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            row["from"].split(":", 1)[1],
            row["relationship"],
            row["to"].split(":", 1)[1],
            row["confidence"],
            row["rationale"],
        )
    console.print(table)


@handle_errors
def recognize_command(
    have: Annotated[
        str,
        typer.Option(
            "--have", help="Label held: SCHEME[:LEVEL], a scheme id from cybersafe schemes and a level it defines"
        ),
    ],
    want: Annotated[str, typer.Option("--want", help="Target scheme: SCHEME[:LEVEL]")],
    product_type: Annotated[
        list[str] | None,
        typer.Option(
            "--type",
            metavar="TYPE",
            help="The product's type (catalog words, e.g. security-camera); repeatable. Checked against the "
            "arrangements' exclusions.",
        ),
    ] = None,
    dossier: Annotated[
        Path | None, typer.Option("--dossier", "-d", help="Read the product's types from this dossier instead.")
    ] = None,
    now: Annotated[
        str | None, typer.Option("--now", help="The date recognition is asked for (ISO 8601); default: today.")
    ] = None,
    output_format: OutputFormat = FORMAT_OPTION,
    catalog_dirs: Annotated[list[Path] | None, CATALOG_OPTION] = None,
) -> None:
    """What a held label already covers in another scheme, and the marginal test plan for the rest.

    Exit code 0 when the held label covers the target fully, 1 when something remains.
    """
    from cybersafe.schemes.interface import Confidence
    from cybersafe.schemes.recognition import recognize

    catalog = catalog_for(catalog_dirs)
    types: list[str] | None = list(product_type) if product_type else None
    if dossier is not None:
        from cybersafe.dossier.loader import load_dossier

        types = [*(types or []), *load_dossier(dossier).product.types]
    result = recognize(catalog, have, want, product_types=types, as_of=parse_now(now).date())
    data = {
        "have": {"scheme": result.have.key, "level": result.have_level},
        "want": {"scheme": result.want.key, "level": result.want_level},
        "arrangements": [
            {
                "id": m.arrangement.id,
                "title": m.arrangement.title,
                "status": str(m.arrangement.status),
                "scope": m.recognition.scope,
                "holder_level": m.recognition.holder_level,
                "target_level": m.recognition.target_level,
                "in_force": m.in_force,
                "takes_effect": m.takes_effect,
                "effective_source": m.recognition.effective_source,
                "source": m.arrangement.source.document,
            }
            for m in result.arrangements
        ],
        "covered": [
            {"requirement": k, "basis": v, "confidence": str(result.confidence[k])}
            for k, v in sorted(result.covered.items())
        ],
        "residual": list(result.residual),
        "plan": [
            {"step": str(s.leaf), "kind": str(s.leaf.kind), "automated": s.automated, "closes": list(s.closes)}
            for s in result.steps
        ],
        "notes": list(result.notes),
        "open": list(result.open_conditions),
        "fully_covered": result.fully_covered,
    }
    if output_format is OutputFormat.JSON:
        emit_json(data)
    else:
        level = f" level {result.want_level}" if result.want_level else ""
        console.print(f"[bold]{have}[/] -> [bold]{result.want.key}{level}[/]")
        for match in result.arrangements:
            state = "[green]in force[/]" if match.in_force else f"[yellow]{match.arrangement.status}[/]"
            console.print(
                f"  arrangement {match.arrangement.id}: {match.arrangement.title} ({state}, {match.recognition.scope})"
            )
        for note in result.notes:
            console.print(f"  note: {note}")
        for condition in result.open_conditions:
            console.print(f"  [yellow]open:[/] {condition}")
        for key, basis in sorted(result.covered.items()):
            if result.confidence[key] is not Confidence.CONFIRMED:  # a claim not resting on primary sources only
                console.print(f"  covered ({result.confidence[key]}): {key} - {basis}")
        console.print(f"  covered: {len(result.covered)}   residual: {len(result.residual)}")
        if result.residual:
            table = Table(title="Marginal test plan")
            for column in ("step", "kind", "closes"):
                table.add_column(column, overflow="fold")
            for step in result.steps:
                closes = ", ".join(k.split(":", 1)[1] for k in step.closes)
                table.add_row(str(step.leaf), str(step.leaf.kind), closes)
            console.print(table)
    raise typer.Exit(EXIT_OK if result.fully_covered else EXIT_NOT_MET)


@handle_errors
def demo_command(
    out: Annotated[Path, typer.Option("--out", metavar="DIR", help="Where everything is written.")] = Path("out/demo"),
    device: Annotated[
        bool, typer.Option("--device/--no-device", help="Probe a simulated camera on loopback (127.77.0.1).")
    ] = True,
    now: Annotated[str | None, typer.Option("--now", help="Assessment time (ISO 8601); default: now.")] = None,
    output_format: OutputFormat = FORMAT_OPTION,
) -> None:
    """Run the whole job on the bundled example product (examples/smart-camera).

    Builds its firmware, imports its vulnerability data, probes a simulated device, assesses it against every
    scheme, writes the reports and paperwork, issues a signed label for every scheme met, publishes the labels
    to an embedded SQLite registry and verifies them against its transparency log.
    """
    from cybersafe.demo import run_demo

    moment = parse_now(now)
    check_out_dir(out)
    progress = RichProgress()
    try:
        result = run_demo(
            out,
            now=moment,
            progress=progress,
            step=progress.note,
            with_device=device,
        )
    finally:
        progress.close()
    if output_format is OutputFormat.JSON:
        emit_json(
            {
                "as_of": result.as_of,
                "statuses": dict(result.statuses),
                "assessment": str(result.assessment),
                "reports": [str(p) for p in result.reports],
                "paperwork": [str(p) for p in result.paperwork],
                "labels": [str(p) for p in result.labels],
                "verified": list(result.verified),
                "registry": str(result.registry) if result.registry is not None else None,
                "notes": list(result.notes),
            }
        )
        return
    table = Table(
        title=f"Example product: Nordlicht SecureCam 2 (NL-CAM2), one assessment, every scheme, as of {result.as_of}"
    )
    table.add_column("scheme", no_wrap=True)
    table.add_column("status")
    for key, status in result.statuses.items():
        table.add_row(key, styled(status.split(" ", 1)[0]).append(status[len(status.split(" ", 1)[0]) :]))
    console.print(table)
    console.print(f"assessment: {result.assessment}")
    console.print("reports:    " + ", ".join(p.name for p in result.reports))
    console.print(f"paperwork:  {len(result.paperwork)} files in {out / 'paperwork'}")
    envelopes = [p for p in result.labels if p.name.endswith(".label.json")]
    console.print(f"labels:     {len(envelopes)} signed labels (PNG + SVG + envelope) in {out / 'labels'}")
    for line in result.verified:
        console.print(f"  verified: {line}")
    if result.registry is not None:
        console.print(
            f"registry:   {result.registry}  (browse: cybersafe registry serve --db sqlite:///{result.registry})"
        )
    for note in result.notes:
        console.print(f"[yellow]note:[/] {note}")
