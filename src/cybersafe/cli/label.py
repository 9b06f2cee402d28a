"""Label commands: ``label issue``, ``label render``, ``keys generate`` and ``verify``.

``verify`` is built as a list of check results so later steps (the registry, its transparency log) can
append theirs before the verdict is printed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from cybersafe.cli._common import (
    EXIT_NOT_MET,
    FORMAT_OPTION,
    OutputFormat,
    check_out_dir,
    check_output,
    console,
    emit_json,
    err_console,
    fail,
    handle_errors,
    parse_now,
    write_document,
)
from cybersafe.errors import VerificationFailed
from cybersafe.label.defaults import DEFAULT_REGISTRY_URL, DEFAULT_VALID_DAYS, LabelFormat

if TYPE_CHECKING:
    from cybersafe.label.model import LabelRecord
    from cybersafe.label.verify import VerificationReport

_CHECK_STYLE = {"pass": "green", "fail": "bold red", "skipped": "dim"}


def register(app: typer.Typer) -> None:
    label_app = typer.Typer(name="label", help="Issue signed labels and draw their artwork.", no_args_is_help=True)
    label_app.command("issue")(label_issue_command)
    label_app.command("render")(label_render_command)
    app.add_typer(label_app)
    keys_app = typer.Typer(name="keys", help="Manage Ed25519 issuer keys.", no_args_is_help=True)
    keys_app.command("generate")(keys_generate_command)
    app.add_typer(keys_app)
    app.command("verify")(verify_command)


NOW_OPTION = typer.Option("--now", help="Time to act at (ISO 8601); default: now. For reproducible runs.")


_SUPERSEDES_OPTION = typer.Option(
    "--supersedes",
    metavar="OLD.label.json",
    help="The label of the previous firmware release this one replaces (same issuer, scheme and product); "
    "needs --baseline. Refused when the scheme's verdicts changed.",
)
_BASELINE_OPTION = typer.Option(
    "--baseline", metavar="OLD.json", help="The assessment the label to supersede was issued on."
)


@handle_errors
def label_issue_command(
    assessment_file: Annotated[Path, typer.Argument(metavar="ASSESSMENT.json", help="Assessment JSON.")],
    *,
    scheme: Annotated[str, typer.Option("--scheme", "-s", help="Scheme ID or ID@VERSION the label is for.")],
    key: Annotated[Path, typer.Option("--key", "-k", help="Issuer's Ed25519 private key (PEM).")],
    issuer: Annotated[
        str, typer.Option("--issuer", help="Issuer name (lab, certification body or label administrator).")
    ] = "unnamed issuer",
    issuer_contact: Annotated[
        str | None, typer.Option("--issuer-contact", help="Issuer contact (e-mail or URL).")
    ] = None,
    administrator_of: Annotated[
        str | None,
        typer.Option(
            "--administrator-of",
            metavar="SCHEME",
            help="The issuer is this scheme's label administrator or licensee: draw the scheme's own label style "
            "(recorded in the signed label; the registry checks it). Without it: a conformity attestation card.",
        ),
    ] = None,
    registry: Annotated[
        str, typer.Option("--registry", envvar="CYBERSAFE_REGISTRY_URL", help="Registry base URL for the QR code.")
    ] = DEFAULT_REGISTRY_URL,
    valid_days: Annotated[
        int, typer.Option("--valid-days", help="Validity in days; always capped at the support-period end.")
    ] = DEFAULT_VALID_DAYS,
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for <label id>.label.json.")] = Path(),
    now: Annotated[str | None, NOW_OPTION] = None,
    supersedes: Annotated[Path | None, _SUPERSEDES_OPTION] = None,
    baseline: Annotated[Path | None, _BASELINE_OPTION] = None,
    output_format: OutputFormat = FORMAT_OPTION,
) -> None:
    """Issue a signed label for a scheme the assessment meets (refused otherwise, exit 1).

    The artwork is the scheme's own label style only with --administrator-of naming the scheme, and only for a
    scheme that has a consumer label; otherwise it is a conformity attestation card.

    With --supersedes and --baseline, the label replaces the previous release's label and carries the digest of
    `cybersafe diff OLD.json ASSESSMENT.json`. Exit codes: 0 issued; 1 refused (not met, or verdicts changed);
    2 bad input; 3 a bug in cybersafe.
    """
    from cybersafe.attest.keys import load_private_key
    from cybersafe.label.issue import LabelRefused, issue_label, read_envelope, write_envelope
    from cybersafe.label.supersede import supersession
    from cybersafe.results import load_assessment

    if (supersedes is None) != (baseline is None):
        fail("--supersedes and --baseline go together: the old label and the assessment it was issued on")
    check_out_dir(out)
    assessment = load_assessment(assessment_file)
    private_key = load_private_key(key)
    try:
        replaces = None
        if supersedes is not None and baseline is not None:
            replaces = supersession(
                read_envelope(supersedes), load_assessment(baseline), assessment, scheme, private_key, issuer
            )
        record, envelope = issue_label(
            assessment,
            scheme,
            private_key,
            issuer,
            registry,
            parse_now(now),
            valid_days=valid_days,
            issuer_contact=issuer_contact,
            administrator_of=administrator_of,
            supersedes=replaces,
        )
    except LabelRefused as exc:
        fail(f"{assessment_file}: {exc}", EXIT_NOT_MET)
    path = write_envelope(envelope, record, out)
    capped = record.valid_until == record.support_end
    if output_format is OutputFormat.JSON:
        emit_json({"label_id": record.label_id, "file": str(path), "capped_at_support_end": capped, **record.wire()})
        return
    _print_issued(record, envelope, path, capped)


def _print_issued(record: Any, envelope: dict[str, Any], path: Path, capped: bool) -> None:
    from cybersafe.label.qr import qr_url

    level = f" level {record.level}" if record.level else ""
    console.print(f"[bold green]issued[/] {record.label_id}  {record.scheme}@{record.scheme_version}{level}")
    note = " (capped at the support-period end)" if capped else ""
    console.print(f"  valid {record.issued} to {record.valid_until}{note}; security updates until {record.support_end}")
    console.print(f"  artwork: {_artwork_text(record)}")
    console.print(f"  QR / registry: {qr_url(record, envelope)}")
    if record.supersedes is not None:
        console.print(
            f"  supersedes {record.supersedes.label_id} (verdicts unchanged; diff {record.supersedes.diff_sha256[:12]})"
        )
    console.print(f"  wrote {path}")


def _artwork_text(record: LabelRecord) -> str:
    if record.scheme_mark:
        return f"{record.scheme_name or record.scheme} label style (the issuer is its label administrator)"
    return "conformity attestation card (not the scheme's label or mark)"


_ARTWORK_OPTION = typer.Option(
    "--artwork",
    "-a",
    help="Artwork format; default: the suffix of -o FILE, else png.",
)
_RENDER_FORMAT_OPTION = typer.Option(
    "--format",
    "-f",
    metavar="table|json",
    help="table for people, json for scripts (the svg, png and pdf of earlier versions still choose the artwork).",
)


@handle_errors
def label_render_command(
    label: Annotated[Path, typer.Argument(metavar="LABEL", help="Label file (<label id>.label.json).")],
    fmt: Annotated[str, _RENDER_FORMAT_OPTION] = "table",
    artwork: Annotated[LabelFormat | None, _ARTWORK_OPTION] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--output", "--out", "-o", metavar="FILE", help="Output file ('-': stdout); default: beside the label."
        ),
    ] = None,
    dpi: Annotated[int, typer.Option("--dpi", min=72, max=2400, help="PNG resolution (print: 600).")] = 600,
) -> None:
    """Draw the label artwork (as signed: scheme style or attestation card) with its QR code to the registry page."""
    from cybersafe.label.issue import label_from_envelope, read_envelope
    from cybersafe.label.qr import qr_url
    from cybersafe.label.render import render

    summary_format, label_format = _render_formats(fmt, artwork, out)
    check_output(out)
    if str(out) == "-" and label_format is not LabelFormat.SVG and sys.stdout.isatty():
        fail(f"a {label_format.upper()} is not written to a terminal: use -o FILE")
    envelope = read_envelope(label)
    record = label_from_envelope(envelope)
    target = out or label.parent / f"{record.label_id}.{label_format}"
    data = render(record, label_format, dpi=dpi, qr_url=qr_url(record, envelope))
    write_document(target, data, summary={"artwork": str(label_format), "bytes": len(data)}, fmt=summary_format)


def _render_formats(fmt: str, artwork: LabelFormat | None, out: Path | None) -> tuple[OutputFormat, LabelFormat]:
    """The summary format and the artwork format of ``label render``."""
    value = fmt.lower()
    if value in {f.value for f in LabelFormat}:
        return OutputFormat.TABLE, artwork or LabelFormat(value)
    if value not in {f.value for f in OutputFormat}:
        fail(f"--format: {fmt!r} is not one of table, json (or an artwork format: svg, png, pdf)")
    suffix = out.suffix.lower().lstrip(".") if out is not None and str(out) != "-" else ""
    by_suffix = LabelFormat(suffix) if suffix in {f.value for f in LabelFormat} else None
    return OutputFormat(value), artwork or by_suffix or LabelFormat.PNG


@handle_errors
def keys_generate_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for the key files.")] = Path(),
    name: Annotated[str, typer.Option("--name", help="File name stem: NAME.key and NAME.pub.")] = "issuer",
    output_format: OutputFormat = FORMAT_OPTION,
) -> None:
    """Generate an Ed25519 key pair: NAME.key (PKCS#8 PEM, mode 0600) and NAME.pub."""
    from cybersafe.attest.keys import generate_keypair, key_id, load_public_key

    check_out_dir(out)
    private_path, public_path = generate_keypair(out, name)
    kid = key_id(load_public_key(public_path))
    if output_format is OutputFormat.JSON:
        emit_json({"private_key": str(private_path), "public_key": str(public_path), "key_id": kid})
        return
    console.print(f"private key {private_path} (mode 0600: keep it secret)")
    console.print(f"public key  {public_path}")
    console.print(f"key id      {kid}")


@handle_errors
def verify_command(
    label: Annotated[Path, typer.Argument(metavar="LABEL_OR_ENVELOPE", help="Label file (a DSSE envelope).")],
    *,
    key: Annotated[Path | None, typer.Option("--key", "-k", help="Issuer's public key (PEM).")] = None,
    firmware: Annotated[
        Path | None, typer.Option("--firmware", help="Firmware image: its sha256 must match the label.")
    ] = None,
    sbom: Annotated[Path | None, typer.Option("--sbom", help="SBOM file: its sha256 must match the label.")] = None,
    now: Annotated[str | None, NOW_OPTION] = None,
    registry: Annotated[
        str | None,
        typer.Option("--registry", help="Registry base URL: recompute the status from its log, with proofs."),
    ] = None,
    registry_state: Annotated[
        Path | None,
        typer.Option(
            "--registry-state", help="File remembering the registry's last checkpoint (default: user state dir)."
        ),
    ] = None,
    log_key: Annotated[
        str | None,
        typer.Option("--log-key", help="The log's verifier key (origin+hexid+base64) or a file holding it: pin it."),
    ] = None,
    witness: Annotated[
        list[str] | None,
        typer.Option("--witness", help="A witness's verifier key (or file); repeat for each known witness."),
    ] = None,
    witness_quorum: Annotated[
        int | None,
        typer.Option("--witness-quorum", min=1, help="Cosignatures needed from known witnesses (default: all)."),
    ] = None,
    full_log: Annotated[
        bool,
        typer.Option(
            "--full-log",
            help="With --registry: read the whole log, so an entry the registry leaves out of the label's list fails.",
        ),
    ] = False,
    output_format: OutputFormat = FORMAT_OPTION,
) -> None:
    """Check a label's signature, subject digests and validity; exit 1 with one line per failed check."""
    from cybersafe.attest.keys import load_public_key
    from cybersafe.label.issue import read_envelope
    from cybersafe.label.verify import CheckResult, CheckStatus, VerificationReport, check_label

    public_key = load_public_key(key) if key is not None else None
    when = parse_now(now)
    try:
        envelope = read_envelope(label)
    except VerificationFailed as exc:
        report = VerificationReport(None, None, (CheckResult("envelope", CheckStatus.FAIL, str(exc)),))
    else:
        report = check_label(envelope, public_key, firmware=firmware, sbom=sbom, now=when)
        if registry:
            from cybersafe.registry.client import Trust, default_state_file, verify_with_registry

            witnesses = [_vkey(w) or "" for w in witness or []]
            trust = Trust.of(_vkey(log_key), witnesses, witness_quorum, when.date(), full_log=full_log)
            state = registry_state or default_state_file()
            report = report.with_checks(*verify_with_registry(envelope, registry, state, trust=trust))
    _print_report(report, label, output_format)


def _vkey(value: str | None) -> str | None:
    """A verifier key given inline, or the first line of the file that holds it."""
    if value is None:
        return None
    path = Path(value)
    if "+" not in value and path.exists():
        from cybersafe import safeio

        lines = safeio.read_text(path, 64 * 1024, what="a verifier key file").strip().splitlines()
        return lines[0] if lines else ""
    return value


def _print_report(report: VerificationReport, label: Path, output_format: OutputFormat) -> None:
    if output_format is OutputFormat.JSON:
        emit_json(report.as_dict())
    else:
        table = Table(title=f"label {report.label_id or label}", show_lines=False)
        table.add_column("check")
        table.add_column("result")
        table.add_column("detail", overflow="fold")
        for check in report.checks:
            table.add_row(check.name, Text(str(check.status), style=_CHECK_STYLE[check.status]), check.message)
        console.print(table)
        if report.ok:
            console.print("[bold green]verified[/]")
    if not report.ok:
        for check in report.failures:
            err_console.print(f"[bold red]FAILED[/] {check.line()}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_NOT_MET)


__all__ = ["register"]
