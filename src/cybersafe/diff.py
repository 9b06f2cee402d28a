"""What changed between two assessments of a product (``cybersafe diff OLD.json NEW.json``).

Reads two ``cybersafe/assessment/v1`` documents and states, as ``cybersafe/diff/v1``:

- per scheme, status and highest-level changes (and schemes only one side evaluated), and the changes of its
  status from a later date on and of each level's status, which can change while today's status does not;
  per market, its status;
- per requirement, verdict changes with what caused them: the checks, declarations, manual results or other
  requirements of its ``verified_by`` whose verdict changed, with the findings of those checks that came or
  went; a verdict that changed while no evidence did names what else did (its condition, its date, a risk
  decision);
- findings added and removed, matched by check (with its parameters), location and facts, never by their
  position in the file; a finding seen on both sides whose verdict, severity or message changed is listed
  as changed;
- check attempts whose status or verdict changed, and artefacts whose digest changed.

Usable without Dask or any collector: it reads the two files only. ``AssessmentDiff.digest()`` is what a
superseding label carries.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cybersafe import jsonio
from cybersafe.results import Assessment, CheckAttemptOut, FindingOut, RequirementResultOut, SchemeResultOut

DIFF_SCHEMA: Literal["cybersafe/diff/v1"] = "cybersafe/diff/v1"


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DiffSide(_Wire):
    digest: str  # the assessment's sha256 (Assessment.digest())
    generated_at: dt.datetime
    product: str
    firmware_version: str | None = None


class ArtefactChange(_Wire):
    kind: str
    name: str
    old_sha256: str | None = None  # None: the artefact is new
    new_sha256: str | None = None  # None: the artefact is gone


class StepChange(_Wire):
    """A status a scheme gives besides today's: from a later date on (``later``), or of one level (``level``)."""

    kind: str  # later / level
    at: str  # the date (later) or the level id (level)
    old_status: str | None = None  # None: that date or level appears on one side only
    new_status: str | None = None


class SchemeChange(_Wire):
    scheme: str  # id@version
    old_status: str | None = None  # None: evaluated on one side only
    new_status: str | None = None
    old_level: str | None = None
    new_level: str | None = None
    # the status from a later date on, or of a level, that changed while today's status may not have: a law met
    # today but failing from 2027-12-11 must not read as unchanged
    steps: list[StepChange] = Field(default_factory=list)
    # besides requirement verdicts: the assessment dates and the scheme dates between them, the counts
    why: list[str] = Field(default_factory=list)


class MarketChange(_Wire):
    market: str
    old_status: str | None = None
    new_status: str | None = None


class FindingRef(_Wire):
    check: str  # attempt key: check id with its parameters
    verdict: str
    severity: str
    message: str
    locations: list[dict[str, Any]] = Field(default_factory=list)
    facts: dict[str, Any] = Field(default_factory=dict)


class FindingChange(_Wire):
    check: str
    locations: list[dict[str, Any]] = Field(default_factory=list)
    facts: dict[str, Any] = Field(default_factory=dict)
    old: dict[str, str]  # verdict, severity, message as they were
    new: dict[str, str]
    # fact -> [old, new] for a finding whose verdict, severity, message and locations stayed (a date, a count)
    facts_changed: dict[str, list[Any]] = Field(default_factory=dict)


class CheckChange(_Wire):
    check: str
    old_status: str | None = None
    new_status: str | None = None
    old_verdict: str | None = None
    new_verdict: str | None = None


class Cause(_Wire):
    """One piece of a requirement's evidence whose verdict changed, with the findings behind it."""

    ref: str  # check key, declaration:..., manual:..., requirement, ...
    kind: str
    old_verdict: str | None = None
    new_verdict: str | None = None
    findings_added: list[FindingRef] = Field(default_factory=list)
    findings_removed: list[FindingRef] = Field(default_factory=list)
    findings_changed: list[FindingChange] = Field(default_factory=list)


class RequirementChange(_Wire):
    scheme: str
    requirement: str
    title: str
    old_verdict: str | None = None
    new_verdict: str | None = None
    causes: list[Cause] = Field(default_factory=list)
    other: list[str] = Field(default_factory=list)  # what changed besides evidence (condition, date, justification)


class AssessmentDiff(_Wire):
    schema_: Literal["cybersafe/diff/v1"] = Field(DIFF_SCHEMA, alias="schema")
    old: DiffSide
    new: DiffSide
    artefacts: list[ArtefactChange] = Field(default_factory=list)
    schemes: list[SchemeChange] = Field(default_factory=list)
    markets: list[MarketChange] = Field(default_factory=list)
    requirements: list[RequirementChange] = Field(default_factory=list)
    checks: list[CheckChange] = Field(default_factory=list)
    findings_added: list[FindingRef] = Field(default_factory=list)
    findings_removed: list[FindingRef] = Field(default_factory=list)
    findings_changed: list[FindingChange] = Field(default_factory=list)
    # manufacturer, model or hardware version differ: two products, not two releases of one (a diff is still made;
    # a label never supersedes across products, see label/supersede)
    other_product: list[str] = Field(default_factory=list)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @property
    def changed(self) -> bool:
        return any(
            (
                self.artefacts,
                self.schemes,
                self.markets,
                self.requirements,
                self.checks,
                self.findings_added,
                self.findings_removed,
                self.findings_changed,
            )
        )

    def verdicts_unchanged(self, scheme: str) -> bool:
        """No status, level or requirement verdict of ``scheme`` (id or id@version) changed."""

        def same(key: str) -> bool:
            return scheme not in (key, key.split("@", 1)[0])

        return all(same(c.scheme) for c in self.schemes) and all(same(r.scheme) for r in self.requirements)

    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def digest(self) -> str:
        """sha256 of the canonical JSON (sorted keys, no spaces): what a superseding label names."""
        return hashlib.sha256(jsonio.canonical(self.wire())).hexdigest()


def diff_assessments(old: Assessment, new: Assessment) -> AssessmentDiff:
    findings = _FindingDiff(old, new)
    return AssessmentDiff(
        schema=DIFF_SCHEMA,
        old=_side(old),
        new=_side(new),
        artefacts=_artefacts(old, new),
        schemes=_schemes(old, new),
        markets=_markets(old, new),
        requirements=_requirements(old, new, findings),
        checks=_checks(old, new),
        findings_added=findings.all_added(),
        findings_removed=findings.all_removed(),
        findings_changed=findings.all_changed(),
        other_product=_identity_changes(old, new),
    )


def _identity_changes(old: Assessment, new: Assessment) -> list[str]:
    """The product-identity fields that differ, as ``field: old -> new``."""
    a, b = old.product_identity(), new.product_identity()
    return [f"{k}: {a[k]} -> {b[k]}" for k in a if a[k] != b[k]]


def _side(assessment: Assessment) -> DiffSide:
    product = assessment.dossier.get("product", {})
    name = " ".join(str(p) for p in (product.get("manufacturer", {}).get("name"), product.get("name")) if p)
    return DiffSide(
        digest=assessment.digest(),
        generated_at=assessment.generated_at,
        product=f"{name} ({product.get('model', '?')})",
        firmware_version=product.get("firmware_version"),
    )


def _artefacts(old: Assessment, new: Assessment) -> list[ArtefactChange]:
    out = []
    for kind in sorted({a.kind for a in old.artefacts} | {a.kind for a in new.artefacts}):
        before = {a.name: a.sha256 for a in old.artefacts if a.kind == kind}
        after = {a.name: a.sha256 for a in new.artefacts if a.kind == kind}
        if len(before) == 1 and len(after) == 1:  # one of each: the same artefact, perhaps renamed (fw-2.4.2.img)
            (_, a), (name, b) = next(iter(before.items())), next(iter(after.items()))
            if a != b:
                out.append(ArtefactChange(kind=kind, name=name, old_sha256=a, new_sha256=b))
            continue
        for name in sorted(before.keys() | after.keys()):
            if before.get(name) != after.get(name):
                out.append(
                    ArtefactChange(kind=kind, name=name, old_sha256=before.get(name), new_sha256=after.get(name))
                )
    return out


def _scheme_key(result: SchemeResultOut) -> str:
    return f"{result.scheme}@{result.version}"


def _schemes(old: Assessment, new: Assessment) -> list[SchemeChange]:
    before = {_scheme_key(s): s for s in old.schemes}
    after = {_scheme_key(s): s for s in new.schemes}
    out = []
    for key in sorted(before.keys() | after.keys()):
        a, b = before.get(key), after.get(key)
        steps = _steps(a, b) if a is not None and b is not None else []
        if (
            a is not None
            and b is not None
            and a.status == b.status
            and a.highest_level == b.highest_level
            and not steps
        ):
            continue
        out.append(
            SchemeChange(
                scheme=key,
                old_status=str(a.status) if a else None,
                new_status=str(b.status) if b else None,
                old_level=a.highest_level if a else None,
                new_level=b.highest_level if b else None,
                steps=steps,
                why=_scheme_why(a, b) if a is not None and b is not None else [],
            )
        )
    return out


def _steps(old: SchemeResultOut, new: SchemeResultOut) -> list[StepChange]:
    """The later-date and per-level statuses that differ between the two results of one scheme."""
    out: list[StepChange] = []
    for kind, before, after in (
        ("later", {s.date: _later_status(s) for s in old.later}, {s.date: _later_status(s) for s in new.later}),
        ("level", {v.level: str(v.status) for v in old.levels}, {v.level: str(v.status) for v in new.levels}),
    ):
        order = [*after, *(k for k in before if k not in after)]
        out.extend(
            StepChange(kind=kind, at=k, old_status=before.get(k), new_status=after.get(k))
            for k in order
            if before.get(k) != after.get(k) and not (kind == "later" and _reached(k, new, after))
        )
    return out


def _reached(date: str, new: SchemeResultOut, after: dict[str, str]) -> bool:
    """A later date the new assessment is judged on or after: what it brings is today's status there."""
    when = _date(date)
    return date not in after and when is not None and new.as_of is not None and when <= new.as_of


def _later_status(step: Any) -> str:
    return f"{step.status} {step.highest_level}" if step.highest_level else str(step.status)


_SCHEME_DATES = ("in_force", "reporting_from", "applies_from", "superseded_by")


def _scheme_why(old: SchemeResultOut, new: SchemeResultOut) -> list[str]:
    """What moved a scheme's status besides its requirement verdicts: the date it is judged on (a scheme date
    lying between the two), and which requirements are counted (those that apply on the date)."""
    out: list[str] = []
    if old.as_of is not None and new.as_of is not None and old.as_of != new.as_of:
        out.append(f"judged as of {new.as_of} (was {old.as_of})")
        low, high = sorted((old.as_of, new.as_of))
        dates = new.dates.model_dump(exclude_none=True) if new.dates else {}
        for name in _SCHEME_DATES:
            when = _date(dates.get(name))
            if when is not None and low < when <= high:
                out.append(f"{name.replace('_', ' ')} {when} lies between the two dates")
    if old.counts != new.counts:
        shown = ", ".join(f"{k} {v}" for k, v in sorted(new.counts.items()))
        was = ", ".join(f"{k} {v}" for k, v in sorted(old.counts.items()))
        out.append(f"requirements counted: {shown} (was {was})")
    return out


def _date(value: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _markets(old: Assessment, new: Assessment) -> list[MarketChange]:
    before = {m.market: str(m.status) for m in old.markets}
    after = {m.market: str(m.status) for m in new.markets}
    return [
        MarketChange(market=m, old_status=before.get(m), new_status=after.get(m))
        for m in sorted(before.keys() | after.keys())
        if before.get(m) != after.get(m)
    ]


def _checks(old: Assessment, new: Assessment) -> list[CheckChange]:
    before = {c.key: c for c in old.checks}
    after = {c.key: c for c in new.checks}
    out = []
    for key in sorted(before.keys() | after.keys()):
        a, b = before.get(key), after.get(key)
        if a is not None and b is not None and a.status == b.status and a.verdict == b.verdict:
            continue
        out.append(
            CheckChange(
                check=key,
                old_status=str(a.status) if a else None,
                new_status=str(b.status) if b else None,
                old_verdict=str(a.verdict) if a else None,
                new_verdict=str(b.verdict) if b else None,
            )
        )
    return out


def _identity(check: str, finding: FindingOut) -> str:
    """Check, locations and facts: what makes a finding the same finding in two assessments."""
    locations = [loc.model_dump(mode="json", exclude_none=True) for loc in finding.locations]
    return json.dumps([check, locations, finding.facts], sort_keys=True, separators=(",", ":"), default=str)


def _observation(check: str, finding: FindingOut) -> str:
    """Check, locations, verdict, severity and message: a finding's identity but for its facts."""
    locations = [loc.model_dump(mode="json", exclude_none=True) for loc in finding.locations]
    parts = [check, locations, str(finding.verdict), str(finding.severity), finding.message]
    return json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)


def _ref(check: str, finding: FindingOut) -> FindingRef:
    return FindingRef(
        check=check,
        verdict=str(finding.verdict),
        severity=str(finding.severity),
        message=finding.message,
        locations=[loc.model_dump(mode="json", exclude_none=True) for loc in finding.locations],
        facts=dict(finding.facts),
    )


class _FindingDiff:
    """Findings of every check on both sides, matched by identity (a multiset: duplicates count)."""

    def __init__(self, old: Assessment, new: Assessment) -> None:
        self.keys = sorted({c.key for c in old.checks} | {c.key for c in new.checks})
        before = {c.key: c for c in old.checks}
        after = {c.key: c for c in new.checks}
        self.added: dict[str, list[FindingRef]] = {}
        self.removed: dict[str, list[FindingRef]] = {}
        self.changed: dict[str, list[FindingChange]] = {}
        for key in self.keys:
            self._compare(key, before.get(key), after.get(key))

    def _compare(self, key: str, old: CheckAttemptOut | None, new: CheckAttemptOut | None) -> None:
        old_by_id = _grouped(key, old.findings if old else [])
        new_by_id = _grouped(key, new.findings if new else [])
        left_old: list[FindingOut] = []
        left_new: list[FindingOut] = []
        for identity in sorted(old_by_id.keys() | new_by_id.keys()):
            a, b = old_by_id.get(identity, []), new_by_id.get(identity, [])
            pairs = min(len(a), len(b))
            for before, after in zip(a[:pairs], b[:pairs], strict=True):
                if (before.verdict, before.severity, before.message) != (after.verdict, after.severity, after.message):
                    self.changed.setdefault(key, []).append(_change(key, before, after))
            left_old.extend(a[pairs:])
            left_new.extend(b[pairs:])
        self._pair_facts(key, left_old, left_new)

    def _pair_facts(self, key: str, left_old: list[FindingOut], left_new: list[FindingOut]) -> None:
        """Findings left over that agree in everything but their facts (a date, a count) are one finding that
        changed; the rest came or went."""
        waiting: dict[str, list[FindingOut]] = {}
        for finding in left_old:
            waiting.setdefault(_observation(key, finding), []).append(finding)
        for after in left_new:
            match = waiting.get(_observation(key, after))
            if match:
                before = match.pop(0)
                change = _change(key, before, after)
                facts = {
                    k: [before.facts.get(k), after.facts.get(k)]
                    for k in sorted(before.facts.keys() | after.facts.keys())
                    if before.facts.get(k) != after.facts.get(k)
                }
                self.changed.setdefault(key, []).append(change.model_copy(update={"facts_changed": facts}))
            else:
                self.added.setdefault(key, []).append(_ref(key, after))
        for rest in waiting.values():
            self.removed.setdefault(key, []).extend(_ref(key, f) for f in rest)

    def all_added(self) -> list[FindingRef]:
        return [f for key in self.keys for f in self.added.get(key, [])]

    def all_removed(self) -> list[FindingRef]:
        return [f for key in self.keys for f in self.removed.get(key, [])]

    def all_changed(self) -> list[FindingChange]:
        return [f for key in self.keys for f in self.changed.get(key, [])]


def _grouped(key: str, findings: Iterable[FindingOut]) -> dict[str, list[FindingOut]]:
    out: dict[str, list[FindingOut]] = {}
    for finding in findings:
        out.setdefault(_identity(key, finding), []).append(finding)
    # Same identity, several findings: pair them in a stable order so only real differences show.
    return {k: sorted(v, key=lambda f: (str(f.verdict), str(f.severity), f.message)) for k, v in out.items()}


def _change(key: str, before: FindingOut, after: FindingOut) -> FindingChange:
    return FindingChange(
        check=key,
        locations=[loc.model_dump(mode="json", exclude_none=True) for loc in after.locations],
        facts=dict(after.facts),
        old={"verdict": str(before.verdict), "severity": str(before.severity), "message": before.message},
        new={"verdict": str(after.verdict), "severity": str(after.severity), "message": after.message},
    )


def _requirements(old: Assessment, new: Assessment, findings: _FindingDiff) -> list[RequirementChange]:
    out: list[RequirementChange] = []
    for scheme in sorted({_scheme_key(s) for s in old.schemes} & {_scheme_key(s) for s in new.schemes}):
        before = {r.id: r for r in _scheme(old, scheme).requirements}
        after = {r.id: r for r in _scheme(new, scheme).requirements}
        for rid in [*after, *(r for r in before if r not in after)]:
            a, b = before.get(rid), after.get(rid)
            if a is not None and b is not None and a.verdict == b.verdict:
                continue
            out.append(_requirement_change(scheme, a, b, findings))
    return out


def _scheme(assessment: Assessment, key: str) -> SchemeResultOut:
    return next(s for s in assessment.schemes if _scheme_key(s) == key)


def _requirement_change(
    scheme: str, old: RequirementResultOut | None, new: RequirementResultOut | None, findings: _FindingDiff
) -> RequirementChange:
    some = new or old
    assert some is not None
    before = {e.ref: e for e in old.evidence} if old else {}
    after = {e.ref: e for e in new.evidence} if new else {}
    causes = []
    for ref in [*after, *(r for r in before if r not in after)]:
        a, b = before.get(ref), after.get(ref)
        if a is not None and b is not None and a.verdict == b.verdict:
            continue
        causes.append(
            Cause(
                ref=ref,
                kind=str((b or a).kind),  # type: ignore[union-attr]
                old_verdict=str(a.verdict) if a else None,
                new_verdict=str(b.verdict) if b else None,
                findings_added=findings.added.get(ref, []),
                findings_removed=findings.removed.get(ref, []),
                findings_changed=findings.changed.get(ref, []),
            )
        )
    return RequirementChange(
        scheme=scheme,
        requirement=some.id,
        title=some.title,
        old_verdict=str(old.verdict) if old else None,
        new_verdict=str(new.verdict) if new else None,
        causes=causes,
        other=_other_causes(old, new) if not causes else [],
    )


def _other_causes(old: RequirementResultOut | None, new: RequirementResultOut | None) -> list[str]:
    """Why a verdict changed when none of its evidence did: the requirement's own state."""
    if old is None or new is None:
        return ["evaluated on one side only"]
    out = []
    for name in ("condition", "applies", "applies_from", "required", "justified_by", "reason"):
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            out.append(f"{name}: {a!r} -> {b!r}")
    return out
