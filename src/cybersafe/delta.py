"""Delta re-assessment (``assess --baseline OLD.json``): run again only the checks whose inputs changed.

Every assessment records, per check attempt, the names of the inputs it read and, once, the digest of each
input (cybersafe/inputs.py). Against a baseline assessment, an attempt is reused when the baseline ran the
same check with the same parameters under the same cybersafe (and library) versions, it did not end in an
error, and every input it read has the same digest now; otherwise it runs again. A collector runs only when
a check that runs again needs its evidence: an unchanged firmware image is not unpacked again, an unchanged
SBOM is not matched again. Scheme verdicts are always evaluated afresh from the attempts, so a delta run
gives the verdicts a full run gives (tests/test_delta.py holds that as a property over generated changes).

The result says what was reused and why, what ran again and why, which collectors were skipped, and which
files of the firmware image changed.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cybersafe.checks.interface import Check, CheckAttempt, Finding, Location, Params
from cybersafe.evidence.interface import Artefact, Collector, Evidence, Problem
from cybersafe.inputs import SOURCES, InputDigester, reusable_name
from cybersafe.schemes.interface import Leaf
from cybersafe.verdict import AttemptStatus, ErrorReason

if TYPE_CHECKING:  # a delta reads the baseline's wire models; a run without one never loads them
    from cybersafe.results import Assessment, CheckAttemptOut


@dataclass(frozen=True)
class FileChanges:
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()


@dataclass
class DeltaRecord:
    """What a delta run took from its baseline, and why."""

    baseline: str  # the baseline assessment's digest
    baseline_generated_at: dt.datetime
    changed_inputs: tuple[str, ...]
    reused: dict[str, str]  # attempt key -> why it could be reused
    rerun: dict[str, str]  # attempt key -> why it ran again
    collectors_skipped: tuple[str, ...] = ()
    firmware_files: FileChanges | None = None
    firmware_facts_reused: int | None = None  # files of a new image whose facts the baseline's scan gave
    firmware_files_written: int | None = None  # files of it written out (fewer than all: read in place)


@dataclass
class DeltaPlan:
    record: DeltaRecord
    attempts: dict[str, CheckAttempt]  # the reused attempts
    reads: dict[str, tuple[str, ...]]  # their input names, carried over for the next delta
    run: list[Leaf] = field(default_factory=list)  # the leaves to run again


def attempt_from_wire(out: CheckAttemptOut) -> CheckAttempt:
    """A check attempt as an assessment recorded it, back as the domain value the evaluator reads."""
    given = out.parameters or {}
    params: Params = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in given.items()))
    findings = tuple(
        Finding(
            check_id=out.check_id,
            verdict=f.verdict,
            severity=f.severity,
            message=f.message,
            locations=tuple(Location(**loc.model_dump(exclude_none=True)) for loc in f.locations),
            facts=dict(f.facts),
            remediation=f.remediation,
        )
        for f in out.findings
    )
    return CheckAttempt(
        out.check_id,
        out.status,
        findings=findings,
        reason=ErrorReason(out.reason) if out.reason else None,
        detail=out.detail,
        parameters=params,
    )


def plan_delta(
    baseline: Assessment, wanted: Sequence[Leaf], digester: InputDigester, tool: str, baseline_digest: str
) -> DeltaPlan:
    """Which wanted attempts the baseline can stand for, and which must run again."""
    inputs = baseline.inputs
    previous = {out.key: out for out in baseline.checks}
    changed = sorted(
        name for name, digest in (inputs.digests.items() if inputs else ()) if digester.differs(name, digest)
    )
    record = DeltaRecord(
        baseline=baseline_digest,
        baseline_generated_at=baseline.generated_at,
        changed_inputs=tuple(changed),
        reused={},
        rerun={},
    )
    plan = DeltaPlan(record=record, attempts={}, reads={})
    for leaf in wanted:
        key = str(leaf)
        if key in record.reused or key in record.rerun:
            continue
        why_not = _why_not(previous.get(key), baseline, tool, set(changed))
        if why_not is not None:
            record.rerun[key] = why_not
            plan.run.append(leaf)
            continue
        out = previous[key]
        plan.attempts[key] = attempt_from_wire(out)
        names = out.inputs or []
        plan.reads[key] = tuple(names)
        shown = [n for n in names if n != "collectors"]
        record.reused[key] = "inputs unchanged: " + (", ".join(shown) or "none read")
    return plan


def _why_not(out: CheckAttemptOut | None, baseline: Assessment, tool: str, changed: set[str]) -> str | None:
    """Why the baseline's attempt cannot be reused, or None when it can."""
    if baseline.inputs is None:
        return "the baseline records no inputs (written before inputs were recorded)"
    if baseline.inputs.tool != tool:
        return f"cybersafe or a library it reads changed (baseline: {baseline.inputs.tool})"
    if out is None:
        return "not in the baseline"
    if out.status is AttemptStatus.ERROR:
        return f"ended in an error in the baseline ({out.reason}); tried again"
    if not out.inputs:
        return "the baseline records no inputs for it"
    unreusable = [n for n in out.inputs if not reusable_name(n)]
    if unreusable:
        return f"reads evidence no digest stands for ({', '.join(unreusable)})"
    missing = [n for n in out.inputs if n not in baseline.inputs.digests]
    if missing:
        return f"the baseline records no digest of {', '.join(missing)}"
    hit = [n for n in out.inputs if n in changed]
    if hit:
        return "changed: " + ", ".join(hit)
    if attempt_from_wire(out).verdict is not out.verdict:
        return "the baseline's findings do not give its recorded verdict"
    return None


def collectors_for(
    collectors: Iterable[Collector],
    checks: Iterable[type[Check]],
    run: Iterable[Leaf],
    changed: Collection[str] = (),
) -> tuple[list[Collector], list[Collector]]:
    """(collectors to run, collectors skipped): a collector runs when a check that runs again reads its evidence,
    or when an input of its own changed (``changed``: input names), as a full run runs it: what it records beside
    its evidence, the artefact's digest and its problems, would be the baseline's otherwise (a new image that no
    selected scheme checks is still the image the assessment names)."""
    by_id = {c.ID: c for c in checks}
    needed: set[type] = set()
    for leaf in run:
        check = by_id.get(leaf.ref)
        if check is not None:
            needed.update(check.REQUIRES)
    to_run: list[Collector] = []
    skipped: list[Collector] = []
    for collector in collectors:
        source = SOURCES.get(collector.NAME)
        unchanged = source is not None and not set(source.inputs).intersection(changed)
        (skipped if unchanged and not needed.intersection(collector.PRODUCES) else to_run).append(collector)
    return to_run, skipped


def carry_over(evidence: Evidence, baseline: Assessment, skipped: Iterable[Collector]) -> None:
    """The artefacts and problems the skipped collectors recorded in the baseline, unchanged with their inputs."""
    dossier = evidence.dossier
    for collector in skipped:
        if not collector.applies(dossier):
            continue
        source = SOURCES[collector.NAME]
        for artefact in baseline.artefacts:
            if artefact.kind in source.artefacts:
                evidence.artefacts.append(Artefact(artefact.kind, artefact.name, artefact.sha256, artefact.size))
        for problem in baseline.problems:
            if problem.source.split(".", 1)[0] in source.problems:
                evidence.problems.append(Problem(problem.source, problem.severity, problem.message, problem.path))


def with_baseline(
    collectors: Iterable[Collector],
    baseline: Assessment,
    hashed: Mapping[Path, concurrent.futures.Future[tuple[str, int]]] | None = None,
) -> tuple[Collector, ...]:
    """The collectors, each that can use what the baseline recorded of its evidence given it (a copy: the
    caller's collectors may serve other runs): the firmware collector re-analyses only files that changed.
    ``hashed``: digests of input files already computed (the plan needed them), by path."""
    out = []
    for collector in collectors:
        prime = getattr(collector, "with_baseline", None)
        out.append(prime(baseline, hashed or {}) if callable(prime) else collector)
    return tuple(out)


def file_changes(before: Mapping[str, str], after: Mapping[str, str]) -> FileChanges:
    return FileChanges(
        added=tuple(sorted(set(after) - set(before))),
        removed=tuple(sorted(set(before) - set(after))),
        changed=tuple(sorted(p for p in set(before) & set(after) if before[p] != after[p])),
    )
