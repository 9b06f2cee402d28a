"""The assessment as it goes on the wire: ``cybersafe/assessment/v1``.

Renderers, labels and the registry consume this model (or its JSON) only. It is deterministic apart from
``generated_at``, which is injected. A JSON Schema of it is published with the package
(``cybersafe/schemas/assessment-v1.schema.json``) and a test keeps it in step with this model.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic_core
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from cybersafe import jsonio, safeio
from cybersafe.checks.interface import attempt_key
from cybersafe.errors import InputError
from cybersafe.evidence.interface import ProblemSeverity
from cybersafe.schemes.interface import LabelStyle, LeafKind, Obligation
from cybersafe.schemes.status import SchemeStatus
from cybersafe.verdict import AttemptStatus, Severity, Verdict

ASSESSMENT_SCHEMA: Literal["cybersafe/assessment/v1"] = "cybersafe/assessment/v1"

MAX_ASSESSMENT_BYTES = 256 * safeio.MiB  # an assessment with 5,000 findings is ~10 MiB


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _as_json_data(value: dict[str, Any]) -> dict[str, Any]:
    """A free-form value as the JSON data it is written as (a model or dataclass in it becomes its fields, a
    tuple a list): its floats are then plain floats, which pydantic's JSON mode writes as null when not finite,
    so an assessment's JSON form holds no float JSON cannot write (``Assessment.written``)."""
    try:
        data: dict[str, Any] = pydantic_core.to_jsonable_python(value)
    except ValueError as exc:
        if "depth" in str(exc):  # pydantic writes about 250 levels: far past what an assessment may hold
            raise _TooDeep(f"nested deeper than {MAX_ASSESSMENT_DEPTH} levels") from None
        raise
    return data


class _TooDeep(ValueError):
    """A free-form value nested past what is written back (reported as ``_read``'s own depth check does)."""


# what checks put in an assessment (their parameters, their findings' facts), as JSON data; the dossier and the
# firmware memo are JSON data by construction (a model's JSON form, plain dicts), and as read from a file
FreeForm = Annotated[dict[str, Any], AfterValidator(_as_json_data)]


class ToolInfo(_Wire):
    name: str = "cybersafe"
    version: str


class ArtefactOut(_Wire):
    kind: str
    name: str
    sha256: str | None = None
    size: int | None = None


class CatalogOut(_Wire):
    scheme: str
    version: str
    sha256: str


class LocationOut(_Wire):
    path: str | None = None
    offset: int | None = None
    line: int | None = None
    host: str | None = None
    port: int | None = None
    protocol: str | None = None
    component: str | None = None
    container: str | None = None  # container chain in a multi-root image: "uimage@0x0 > squashfs_v4_le@0x40"


class FindingOut(_Wire):
    verdict: Verdict
    severity: Severity
    message: str
    locations: list[LocationOut] = Field(default_factory=list)
    facts: FreeForm = Field(default_factory=dict)
    remediation: str | None = None


class CheckAttemptOut(_Wire):
    check_id: str
    parameters: FreeForm | None = None  # set by the requirements that asked for this run, if any
    title: str
    severity: Severity
    status: AttemptStatus
    verdict: Verdict
    reason: str | None = None
    detail: str | None = None
    remediation: str | None = None
    findings: list[FindingOut] = Field(default_factory=list)
    feeds: list[str] = Field(default_factory=list)  # requirement keys, in every scheme, this check fed
    # Names of the inputs it read (digests: Assessment.inputs). None, not empty, when not recorded: an optional
    # field left out keeps the digest of assessments written before it existed.
    inputs: list[str] | None = None

    @property
    def key(self) -> str:
        """The check id, or ``id[name=value,...]`` for a run with parameters: what evidence refs name."""
        given = self.parameters or {}
        params = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in given.items()))
        return attempt_key(self.check_id, params)


class EvidenceOut(_Wire):
    """One leaf of a requirement's verified_by tree with the verdict it had."""

    ref: str
    kind: LeafKind
    verdict: Verdict
    detail: str | None = None
    # set when the leaf is read only as the answer to a decision-tree question (EN 18031): what it answered, e.g.
    # "DT.AUM-5-2.DN-1: no answer (answers 'no' when pass)"; its verdict is then the leaf's, not a verdict on
    # the requirement (a compliant "declared false" is no failure there)
    answers: str | None = None


class RequirementResultOut(_Wire):
    id: str
    title: str
    group: str | None = None
    obligation: Obligation
    required: bool  # counts towards the scheme status (mandatory, or conditional whose condition holds)
    levels: list[str] = Field(default_factory=list)
    verdict: Verdict
    reason: str
    condition: str | None = None
    confidence: str
    source: str
    evidence: list[EvidenceOut] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)  # what would close an inconclusive verdict
    applies_from: str | None = None  # the date it applies from, when it has one
    applies: bool = True  # False: it applies only after the assessment date (shown, not judged)
    justified_by: list[str] = Field(default_factory=list)  # risk decision ids, for a justified verdict


class LevelResultOut(_Wire):
    level: str
    title: str
    status: SchemeStatus
    counts: dict[str, int]


class LaterOut(_Wire):
    """The status once the requirements due by ``date`` apply too, on the same evidence."""

    date: str
    status: SchemeStatus
    highest_level: str | None = None
    counts: dict[str, int]


class SchemeLabelOut(_Wire):
    name: str
    style: LabelStyle


class SchemeDatesOut(_Wire):
    confidence: str
    published: str | None = None
    in_force: str | None = None
    reporting_from: str | None = None
    applies_from: str | None = None
    superseded_by: str | None = None
    note: str | None = None


class PresumptionOut(_Wire):
    """A restriction on the presumption of conformity a harmonised standard gives (Implementing Decision (EU)
    2025/138 for EN 18031) that applies, or may apply, to this product. Shown beside the status, never in it."""

    restriction: str
    state: Literal["lost", "undetermined"]  # lost: it applies; undetermined: a fact it depends on is not declared
    requirements: list[str] = Field(default_factory=list)
    clauses: str
    presumes: str  # the legal requirement the standard would presume conformity with, e.g. "RED Art. 3(3)(d)"
    act: str  # the act that sets the restriction
    text: str
    effect: str  # what the manufacturer must do instead
    detail: str
    confidence: str


class SchemeResultOut(_Wire):
    scheme: str
    version: str
    title: str
    short_title: str
    jurisdiction: str
    kind: str | None = None  # law / standard / label (absent in assessments written before it was recorded)
    markets: list[str] = Field(default_factory=list)  # the dossier markets whose verdict this scheme decides
    label: SchemeLabelOut | None = None  # the label artwork of this scheme, if it has one
    dates: SchemeDatesOut | None = None
    modelled: bool
    status: SchemeStatus
    highest_level: str | None = None
    levels: list[LevelResultOut] = Field(default_factory=list)
    counts: dict[str, int]  # verdict -> number of requirements
    requirements: list[RequirementResultOut] = Field(default_factory=list)
    missing_evidence: list[str] = Field(default_factory=list)
    as_of: dt.date | None = None  # the date the status holds for
    later: list[LaterOut] = Field(default_factory=list)  # what changes when later requirements apply
    in_scope: bool | None = None  # None: not evaluated, or the facts the scope needs are not declared
    scope: str | None = None  # the scheme's scope, in words
    classification: ClassificationOut | None = None  # for a law with product classes (the CRA)
    presumption: list[PresumptionOut] = Field(default_factory=list)  # restrictions on its presumption of conformity


class RouteOut(_Wire):
    id: str
    title: str
    notified_body: bool
    open: bool | None = None  # None (or absent): depends on something the catalog does not record
    why: str


class ClassificationOut(_Wire):
    """A law's product class for this product and the conformity-assessment routes open on the date."""

    product_class: str
    title: str
    annex: str
    matched: list[str] = Field(default_factory=list)  # "<category id> (<category title>) via <product type>"
    declared_class: str | None = None
    declared_category: str | None = None
    routes: list[RouteOut]
    notified_body_required: bool
    notes: list[str] = Field(default_factory=list)


class MarketSchemeOut(_Wire):
    scheme: str  # key "<id>@<version>"
    kind: str | None = None
    status: SchemeStatus
    applies_from: str | None = None
    later: list[LaterOut] = Field(default_factory=list)


class MarketResultOut(_Wire):
    """A market's verdict on the assessment date: its laws and labels, what applies today and what later."""

    market: str
    as_of: dt.date
    status: SchemeStatus
    schemes: list[MarketSchemeOut]


class PlanStepOut(_Wire):
    """One extra test of a marginal test plan."""

    ref: str
    kind: LeafKind
    closes: list[str]  # requirement keys this step helps close
    automated: bool


class MarginalPlanOut(_Wire):
    have: str | None = None  # "scheme[:level]" held, or None for "from this assessment"
    want: str
    covered: list[str]
    residual: list[str]
    steps: list[PlanStepOut]
    route: list[str] = Field(default_factory=list)  # the conformity-assessment route, a notified body's step first


class ReuseOut(_Wire):
    checks_run: int
    requirement_verdicts: int
    schemes_served: int
    # the model's only typed float: finite, so the JSON form holds none that is not (``written``)
    requirements_fed_per_check: float = Field(allow_inf_nan=False)


class InputsOut(_Wire):
    """What the assessment was computed from, input by input: what ``assess --baseline`` compares.

    Names: ``as_of``; ``dossier:<section>`` (``dossier:declarations.update``), ``dossier:*`` for the whole
    dossier; ``firmware`` (image digest), ``firmware:budget``, ``firmware:date`` (the day certificate expiry was
    judged); ``sbom``; ``vex``; ``vulndb`` (database version); ``device`` (device artefact and declared
    interfaces), ``device:date``; ``<kind>:tools`` (library versions); ``collectors`` (which ran). Each check
    attempt lists the names it read (``CheckAttemptOut.inputs``).
    """

    tool: str  # the cybersafe version (library versions are inputs: firmware:tools, device:tools, vulndb:tools)
    digests: dict[str, str]  # input name -> sha256 (or a plain value: a date, a budget name, "absent")
    firmware_files: dict[str, str] = Field(default_factory=dict)  # path in the image -> sha256, from the inventory
    # per-file facts of the scan, for the next release's delta run (evidence/firmware/memo.py has the form)
    firmware_memo: dict[str, Any] | None = None  # JSON data by construction (``memo.FileMemo.to_wire``)


class DeltaCheckOut(_Wire):
    check: str  # attempt key
    why: str


class FileChangesOut(_Wire):
    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    changed: list[str] = Field(default_factory=list)


class DeltaOut(_Wire):
    """A delta re-assessment: what was taken from the baseline unchanged, what ran again, and why."""

    baseline: str  # sha256 of the baseline assessment (``Assessment.digest()``)
    baseline_generated_at: dt.datetime
    changed_inputs: list[str] = Field(default_factory=list)
    reused: list[DeltaCheckOut] = Field(default_factory=list)
    rerun: list[DeltaCheckOut] = Field(default_factory=list)
    collectors_skipped: list[str] = Field(default_factory=list)  # evidence not collected again (inputs unchanged)
    firmware_files: FileChangesOut | None = None  # files of the image that changed since the baseline
    # files of a rescanned image whose facts were taken from the baseline's scan (same path and bytes)
    firmware_facts_reused: int | None = None
    # files of the rescanned image written out to be read: all of them when it was unpacked; only new and changed
    # ones and those the text collectors read when it was read in place (one whole SquashFS, ``reuse.py``)
    firmware_files_written: int | None = None


class ProblemOut(_Wire):
    source: str
    severity: ProblemSeverity
    message: str
    path: str | None = None


class Assessment(_Wire):
    schema_: Literal["cybersafe/assessment/v1"] = Field(ASSESSMENT_SCHEMA, alias="schema")
    generated_at: dt.datetime
    tool: ToolInfo
    # the dossier as read, so outputs need nothing else: JSON data by construction (``Dossier.wire``)
    dossier: dict[str, Any]
    artefacts: list[ArtefactOut]
    catalogs: list[CatalogOut]
    checks: list[CheckAttemptOut]
    schemes: list[SchemeResultOut]
    plans: list[MarginalPlanOut] = Field(default_factory=list)
    markets: list[MarketResultOut] = Field(default_factory=list)
    reuse: ReuseOut
    problems: list[ProblemOut] = Field(default_factory=list)
    inputs: InputsOut | None = None  # absent in assessments written before inputs were recorded
    delta: DeltaOut | None = None  # present when made by ``assess --baseline``

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def scheme(self, scheme_id: str) -> SchemeResultOut | None:
        for result in self.schemes:
            if scheme_id in (result.scheme, f"{result.scheme}@{result.version}"):
                return result
        return None

    def wire(self) -> dict[str, Any]:
        """The JSON form (by alias, without the absent fields): what ``to_json`` writes and ``digest`` hashes."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def written(self) -> jsonio.Json:
        """``wire()`` ready to be written: pass it to ``to_json`` and ``digest`` to make it, and check it, once.
        It holds no NaN or infinity: the one typed float forbids them, and the free-form values are JSON data,
        whose non-finite floats pydantic's JSON mode writes as null (``tests/render/test_json.py`` holds it)."""
        return jsonio.Json(self.wire(), finite=True)

    def to_json(self, written: jsonio.Json | None = None) -> str:
        return (written or self.written()).pretty()

    def product_identity(self) -> dict[str, Any]:
        """What makes two assessments of one product (two releases, not two products): manufacturer, model and
        hardware version, from the dossier as read."""
        product = self.dossier.get("product", {})
        maker = product.get("manufacturer", {})
        return {
            "manufacturer": maker.get("name") if isinstance(maker, dict) else None,
            "model": product.get("model"),
            "hardware_version": product.get("hardware_version"),
        }

    def digest(self, written: jsonio.Json | None = None) -> str:
        """sha256 of the canonical JSON: what labels and attestations name."""
        return hashlib.sha256((written or self.written()).canonical()).hexdigest()


def load_assessment(path: Path) -> Assessment:
    """Read an assessment JSON; one line naming file and field on any problem."""
    return _read(path)[0]


def read_assessment(path: Path) -> tuple[Assessment, str]:
    """``load_assessment``, with the sha256 of the file's bytes as read (batch knows the digest of the assessment
    it wrote with those bytes, and need not compute it again)."""
    assessment, raw = _read(path)
    return assessment, hashlib.sha256(raw).hexdigest()


def _read(path: Path) -> tuple[Assessment, bytes]:
    raw = safeio.read_bytes(path, MAX_ASSESSMENT_BYTES, what="an assessment JSON")
    try:  # parsed and validated in one pass; what it refuses is read again as below, for the message
        assessment = Assessment.model_validate_json(raw)
    except ValidationError:
        assessment = _validated(raw, path)
    # the model bounds the nesting of everything but its free-form values, which validation passes through as read
    if any(_deeper_than(value, MAX_ASSESSMENT_DEPTH - depth) for value, depth in _free_form(assessment)):
        raise InputError(f"nested deeper than {MAX_ASSESSMENT_DEPTH} levels", file=path) from None
    return assessment, raw


def _validated(raw: bytes, path: Path) -> Assessment:
    """The json module's reading and the model's validation, each problem one line naming file and field."""
    try:
        data = json.loads(safeio.decoded(raw, path))
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON: {exc.msg}", file=path, line=exc.lineno) from None
    except RecursionError:
        raise InputError("malformed JSON: nested too deeply", file=path) from None
    except ValueError as exc:  # an integer of more digits than Python converts (4,300)
        raise InputError(f"malformed JSON: {exc}", file=path) from None
    try:
        return Assessment.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        if isinstance(first.get("ctx", {}).get("error"), _TooDeep):
            raise InputError(f"nested deeper than {MAX_ASSESSMENT_DEPTH} levels", file=path) from None
        field = ".".join(_one_line(str(p)) for p in first["loc"])
        message = "unknown field" if first["type"] == "extra_forbidden" else first["msg"]
        raise InputError(message, file=path, field=field or None) from None


def _free_form(assessment: Assessment) -> Iterator[tuple[Any, int]]:
    """The assessment's free-form (``Any``) values, each with the depth it sits at below the top object."""
    yield assessment.dossier, 1
    for check in assessment.checks:  # the list, then the attempt
        if check.parameters:
            yield check.parameters, 3
        for finding in check.findings:  # the list, then the finding
            yield finding.facts, 5
    if assessment.inputs is not None and assessment.inputs.firmware_memo:
        yield assessment.inputs.firmware_memo, 2


# far deeper than any assessment this code writes (about 10), and shallow enough that writing it back (pydantic
# stops at a few hundred levels) and every reader after it never meet a nesting it cannot handle
MAX_ASSESSMENT_DEPTH = 64


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether lists and objects nest more than ``limit`` deep (walked without recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _one_line(text: str) -> str:
    """A key of the file as part of a one-line field name: non-printable characters escaped as ``repr`` does."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def assessment_json_schema() -> dict[str, Any]:
    schema = Assessment.model_json_schema(by_alias=True)
    schema["$id"] = "https://cybersafe.dev/schemas/assessment/v1.json"
    schema["title"] = "cybersafe assessment v1"
    return schema
