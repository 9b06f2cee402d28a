"""What a check is, what it returns, and the attempt envelope around every run.

A check reads evidence and returns findings with a verdict. It knows nothing about schemes: the scheme
catalogs say which requirements a check verifies (``verified_by``). Every run of a check is wrapped in a
``CheckAttempt`` (completed / error / not_run with a classified reason), so an exception inside a check
becomes an ``error`` attempt and can never read as a pass (sslyze's ``ScanCommandAttempt``).
"""

from __future__ import annotations

import inspect
import re
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeAlias

from cybersafe.errors import CybersafeError
from cybersafe.evidence.interface import Evidence, EvidenceFailure
from cybersafe.verdict import AttemptStatus, ErrorReason, Severity, Verdict

ParamValue: TypeAlias = str | int | float | bool | tuple[str | int | float | bool, ...]
Params: TypeAlias = tuple[tuple[str, ParamValue], ...]  # sorted by name: hashable and canonical


def attempt_key(check_id: str, params: Params = ()) -> str:
    """The key of one check run: ``declaration.support-period[min_years=5]``, or the bare id without parameters."""
    if not params:
        return check_id
    return check_id + "[" + ",".join(f"{name}={_param_text(value)}" for name, value in params) + "]"


def _param_text(value: ParamValue) -> str:
    if isinstance(value, tuple):
        return "|".join(_param_text(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)


# ``squashfs_v4_le@0x40:/etc/shadow``, ``uimage@0x0 > squashfs_v4_le@0x40:/etc/shadow``: the container chain
# (handler@offset at each level) a firmware inventory puts before a path when the image has several roots.
_CHAINED_PATH = re.compile(r"(?P<chain>[\w.-]+@0x[0-9a-f]+(?: > [\w.-]+@0x[0-9a-f]+)*):(?P<path>/.*)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Location:
    """Where a finding was seen: inside a firmware image, a document, or on the device.

    A path that carries its container chain (``squashfs_v4_le@0x40:/etc/shadow``) is split: ``container``
    names the partition, ``path`` the file inside it, so a check passing an inventory path on keeps both.
    """

    path: str | None = None  # path inside the image, or a document path
    offset: int | None = None  # byte offset in the file
    line: int | None = None
    host: str | None = None
    port: int | None = None
    protocol: str | None = None  # tcp / udp / tls / ssh / http ...
    component: str | None = None  # purl of an SBOM component
    container: str | None = None  # chain of containers in a multi-root image: "uimage@0x0 > squashfs@0x40"

    def __post_init__(self) -> None:
        if self.container is None and self.path and (found := _CHAINED_PATH.fullmatch(self.path)):
            object.__setattr__(self, "container", found["chain"])
            object.__setattr__(self, "path", found["path"])

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) is not None}

    def __str__(self) -> str:
        if self.host is not None:
            text = self.host if self.port is None else f"{self.host}:{self.port}"
            return f"{self.protocol}://{text}" if self.protocol else text
        if self.component is not None:
            return self.component
        text = self.path or ""
        if self.container is not None:
            text = f"{self.container}:{text}"
        if self.line is not None:
            text += f":{self.line}"
        elif self.offset is not None:
            text += f"@0x{self.offset:x}"
        return text


# A finding's ``facts`` key for the condition facts (``uses_passwords``, ...) its evidence establishes, as
# ``{fact: value}``: a login service that asks for a password shows that the product uses passwords, whatever the
# dossier declares. The evaluator lets such an observation win over a declaration (dossier/facts.py, reconcile).
OBSERVES = "observes"


@dataclass(frozen=True, slots=True)
class Finding:
    check_id: str
    verdict: Verdict
    severity: Severity
    message: str
    locations: tuple[Location, ...] = ()
    facts: Mapping[str, Any] = field(default_factory=dict)
    remediation: str | None = None


@dataclass(frozen=True, slots=True)
class CheckAttempt:
    """One run of one check: what happened, and the findings if it completed."""

    check_id: str
    status: AttemptStatus
    findings: tuple[Finding, ...] = ()
    reason: ErrorReason | None = None
    detail: str | None = None
    duration_s: float = 0.0
    parameters: Params = ()  # set by the requirement that asked for this run (catalog ``with:``)
    verdict: Verdict = field(init=False, compare=False)

    @property
    def key(self) -> str:
        """``check id`` or ``check id[name=value,...]``: one run per distinct parameter set."""
        return attempt_key(self.check_id, self.parameters)

    def __post_init__(self) -> None:
        object.__setattr__(self, "verdict", self._verdict())

    def _verdict(self) -> Verdict:
        """The check's overall verdict, as a verified_by leaf sees it."""
        if self.status is AttemptStatus.NOT_RUN:
            return Verdict.INCONCLUSIVE
        if self.status is AttemptStatus.ERROR:
            # An unreachable device is insufficient evidence, not a broken check (issue: network probe).
            if self.reason in (ErrorReason.PROBE_UNREACHABLE, ErrorReason.MISSING_EVIDENCE):
                return Verdict.INCONCLUSIVE
            return Verdict.ERROR
        return combine_finding_verdicts(f.verdict for f in self.findings)


def observed_facts(attempts: Iterable[CheckAttempt]) -> dict[str, tuple[bool, Finding]]:
    """The condition facts the findings of completed attempts establish (``OBSERVES``), each with the first
    finding that showed it; attempts in key order, so the same attempts always name the same finding."""
    seen: dict[str, tuple[bool, Finding]] = {}
    for attempt in sorted(attempts, key=lambda a: a.key):
        if attempt.status is not AttemptStatus.COMPLETED:
            continue
        for finding in attempt.findings:
            observes = finding.facts.get(OBSERVES)
            if isinstance(observes, Mapping):
                for fact, value in observes.items():
                    if isinstance(value, bool):
                        seen.setdefault(str(fact), (value, finding))
    return seen


def combine_finding_verdicts(verdicts: Any) -> Verdict:
    """Findings of one check: any fail fails; errors and inconclusives block a pass."""
    seen = set(verdicts)
    if not seen:
        return Verdict.ERROR  # a completed check must say something; silence is never a pass
    for verdict in (Verdict.FAIL, Verdict.ERROR, Verdict.INCONCLUSIVE, Verdict.PASS):
        if verdict in seen:
            return verdict
    return Verdict.NOT_APPLICABLE


class Check(ABC):
    """A small class with declarative attributes and one method (unblob's ``Handler``).

    ``REQUIRES`` lists the evidence classes the check reads; when one is absent the engine records a
    ``not_run`` attempt (missing evidence), when its collector failed an ``error`` attempt with the
    collector's reason, and the check is never called.

    A check with parameters (a threshold that differs between schemes) takes them as keyword-only arguments
    of its own ``__init__``; a requirement sets them in the catalog (``{check: ID, with: {...}}``) and the
    catalog's integrity check validates every ``with:`` against that signature.
    """

    ID: ClassVar[str]
    TITLE: ClassVar[str]
    SEVERITY: ClassVar[Severity]
    REQUIRES: ClassVar[tuple[type, ...]]
    REMEDIATION: ClassVar[str]

    @classmethod
    def parameter_names(cls) -> tuple[str, ...]:
        signature = inspect.signature(cls.__init__)
        return tuple(p.name for p in signature.parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY)

    @classmethod
    def with_parameters(cls, parameters: Params) -> Check:
        """An instance for one run; a bad parameter raises ``TypeError``/``ValueError`` naming it."""
        return cls(**dict(parameters))

    @abstractmethod
    def run(self, evidence: Evidence) -> Sequence[Finding]:
        """Return at least one finding; a pass is stated with the evidence behind it."""

    # Finding constructors so checks read as sentences.
    def finding(
        self,
        verdict: Verdict,
        message: str,
        *,
        severity: Severity | None = None,
        locations: Sequence[Location] = (),
        facts: Mapping[str, Any] | None = None,
        remediation: str | None = None,
    ) -> Finding:
        failing = verdict in (Verdict.FAIL, Verdict.ERROR)
        return Finding(
            check_id=self.ID,
            verdict=verdict,
            severity=severity or (self.SEVERITY if failing else Severity.INFO),
            message=message,
            locations=tuple(locations),
            facts=dict(facts or {}),
            remediation=remediation if remediation is not None else (self.REMEDIATION if failing else None),
        )

    def passed(self, message: str, **kwargs: Any) -> Finding:
        return self.finding(Verdict.PASS, message, **kwargs)

    def failed(self, message: str, **kwargs: Any) -> Finding:
        return self.finding(Verdict.FAIL, message, **kwargs)

    def inconclusive(self, message: str, **kwargs: Any) -> Finding:
        return self.finding(Verdict.INCONCLUSIVE, message, **kwargs)

    def not_applicable(self, message: str, **kwargs: Any) -> Finding:
        return self.finding(Verdict.NOT_APPLICABLE, message, **kwargs)


_NOT_RUN: dict[tuple[str, Params, tuple[str, ...]], CheckAttempt] = {}


def run_check(check: Check, evidence: Evidence, parameters: Params = ()) -> CheckAttempt:
    """Run one check (built with ``parameters``) inside the attempt envelope. Nothing is dropped silently."""
    failure = _failed_requirement(check, evidence) if evidence.failures else None
    if failure is not None:
        return CheckAttempt(
            check.ID, AttemptStatus.ERROR, reason=failure.reason, detail=failure.detail, parameters=parameters
        )
    missing = tuple(kind.__name__ for kind in check.REQUIRES if kind not in evidence.items)
    if missing:
        # The same check without the same evidence always gives the same (immutable) attempt.
        attempt = _NOT_RUN.get((check.ID, parameters, missing))
        if attempt is None:
            attempt = _NOT_RUN[(check.ID, parameters, missing)] = CheckAttempt(
                check.ID,
                AttemptStatus.NOT_RUN,
                reason=ErrorReason.MISSING_EVIDENCE,
                detail=f"no {', '.join(missing)} evidence in this assessment",
                parameters=parameters,
            )
        return attempt
    started = time.perf_counter()
    try:
        findings = tuple(check.run(evidence))
    except CybersafeError as exc:
        return CheckAttempt(
            check.ID,
            AttemptStatus.ERROR,
            reason=ErrorReason.BAD_INPUT,
            detail=str(exc),
            duration_s=time.perf_counter() - started,
            parameters=parameters,
        )
    except Exception as exc:  # noqa: BLE001 - the envelope's whole point: a crash is an error attempt
        frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        where = f" at {frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}" if frame else ""
        return CheckAttempt(
            check.ID,
            AttemptStatus.ERROR,
            reason=ErrorReason.BUG,
            detail=f"{type(exc).__name__}: {exc}{where}",
            duration_s=time.perf_counter() - started,
            parameters=parameters,
        )
    duration = time.perf_counter() - started
    if not findings:
        return CheckAttempt(
            check.ID,
            AttemptStatus.ERROR,
            reason=ErrorReason.BUG,
            detail="the check returned no finding",
            duration_s=duration,
            parameters=parameters,
        )
    return CheckAttempt(
        check.ID, AttemptStatus.COMPLETED, findings=findings, duration_s=duration, parameters=parameters
    )


def _failed_requirement(check: Check, evidence: Evidence) -> EvidenceFailure | None:
    for kind in check.REQUIRES:
        failure = evidence.failure(kind)
        if failure is not None:
            return failure
    return None
