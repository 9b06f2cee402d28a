"""Integration cases: one format and one runner for every check family (unblob's tests/integration).

A case is a directory ``tests/integration/<family>/<check-id>/<case-name>/`` with

- ``__input__/``: what the check is run on, by file name (nothing else is allowed there, so a typo fails):

  ============================  ================================================================================
  ``dossier.yaml``              a whole dossier (``artefacts`` are set by the runner from the other inputs)
  ``dossier.patch.yaml``        a patch deep-merged into examples/smart-camera/dossier.yaml (``null`` removes)
  (neither)                     the minimal dossier of ``tests.support``
  ``firmware/``                 a recipe for a small image (firmware_recipe.py), built and run through the real
                                ``FirmwareCollector``
  ``inventory.json``            a recorded ``FirmwareInventory`` (JSON of the dataclass)
  ``sbom.<ext>``                an SBOM, read by the real ``SbomCollector``
  ``osv/``, ``kev.json``        OSV records and a CISA KEV catalog, imported into a fresh vulnerability database
                                that the real ``VulnerabilityCollector`` matches the SBOM against
  ``vex.<ext>``                 VEX documents (OpenVEX, CycloneDX, CSAF) the collector applies to the matches
  ``network.json``              ``{"observations": {...}}`` (``NetworkObservations``), ``{"failure": {"reason":
                                ..., "detail": ...}}`` (the probe failed), or ``{"recording": NAME}``: the same,
                                recorded from a simulated device in ``network/__recordings__/NAME.json``
  ``parameters.json``           the check's parameters, as a requirement sets them in a catalog (``with:``)
  ``as_of.txt``                 the assessment date (ISO 8601; default: the date of ``tests.support.NOW``)
  ============================  ================================================================================

- ``__output__/expected.json``: ``{"verdict": ..., "findings": [...]}`` and optionally ``"status"`` (default
  ``completed``) and ``"reason"`` (the attempt's error reason). Every finding of the attempt must match exactly one
  expected finding and every expected finding one finding: same ``verdict`` and ``severity``, ``location`` a glob
  over one of the finding's locations (``str(Location)``), ``message`` a fragment of the finding's message.

Every completed attempt also keeps the promises every check makes: each finding names where it looked, and
each failing finding says how to fix it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter

from cybersafe.assess import collect
from cybersafe.checks.interface import Check, CheckAttempt, Finding, Params, ParamValue, run_check
from cybersafe.dossier.model import Dossier
from cybersafe.evidence.firmware.collector import FirmwareCollector
from cybersafe.evidence.firmware.model import FirmwareInventory
from cybersafe.evidence.interface import Collector, Evidence, NullProgressReporter
from cybersafe.evidence.network.model import NetworkObservations
from cybersafe.evidence.sbom import SbomCollector
from cybersafe.evidence.vulndb import VulnDb, VulnerabilityCollector
from cybersafe.verdict import ErrorReason, Verdict
from tests.integration.firmware_recipe import build_image
from tests.support import NOW, dossier_data

INTEGRATION = Path(__file__).resolve().parent
INPUT, OUTPUT, EXPECTED = "__input__", "__output__", "expected.json"
RECORDINGS = INTEGRATION / "network" / "__recordings__"
FINDING_KEYS = frozenset({"verdict", "severity", "location", "message"})


@dataclass(frozen=True)
class Case:
    check_id: str
    name: str
    directory: Path

    @property
    def id(self) -> str:
        return f"{self.check_id}/{self.name}"

    @property
    def inputs(self) -> Path:
        return self.directory / INPUT

    @property
    def expected_file(self) -> Path:
        return self.directory / OUTPUT / EXPECTED

    def expected(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.expected_file.read_text(encoding="utf-8"))
        return data

    def parameters(self) -> Params:
        path = self.inputs / "parameters.json"
        raw = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        return canonical_parameters(raw)

    def has_input(self, name: str) -> bool:
        return (self.inputs / name).exists()


def canonical_parameters(raw: Mapping[str, Any]) -> Params:
    """As the catalog passes them: sorted by name, lists as tuples."""
    out: list[tuple[str, ParamValue]] = []
    for name, value in sorted(raw.items()):
        out.append((str(name), tuple(value) if isinstance(value, list) else value))
    return tuple(out)


def family_of(check_id: str) -> str:
    return check_id.split(".", 1)[0]


def _subdirs(path: Path) -> Iterator[Path]:
    """Directories in ``path``, without ``__recordings__`` and other ``__...__`` helpers."""
    if path.is_dir():
        yield from sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith(("__", ".")))


def discover(root: Path = INTEGRATION) -> list[Case]:
    """Every case directory under ``root``: ``<family>/<check-id>/<case-name>/``."""
    return [
        Case(check_dir.name, case_dir.name, case_dir)
        for family_dir in _subdirs(root)
        for check_dir in _subdirs(family_dir)
        for case_dir in _subdirs(check_dir)
    ]


def problems_with_layout(root: Path = INTEGRATION) -> list[str]:
    """What is wrong with the tree itself: a check directory in the wrong family, a case without its expected
    output, an input nobody reads, a check directory with no case."""
    problems = []
    for family_dir in _subdirs(root):
        for check_dir in _subdirs(family_dir):
            if family_of(check_dir.name) != family_dir.name:
                problems.append(f"{check_dir.relative_to(root)}: check of family {family_of(check_dir.name)!r}")
            if not any(_subdirs(check_dir)):
                problems.append(f"{check_dir.relative_to(root)}: no case directory")
    for case in discover(root):
        where = case.directory.relative_to(root)
        if not case.expected_file.is_file():
            problems.append(f"{where}: no {OUTPUT}/{EXPECTED}")
        unknown = sorted(p.name for p in case.inputs.iterdir()) if case.inputs.is_dir() else [f"(no {INPUT}/)"]
        unknown = [name for name in unknown if not _known_input(name)]
        if unknown:
            problems.append(f"{where}: unknown inputs {unknown}")
    return problems


def missing_cases(checks: Sequence[type[Check]], root: Path = INTEGRATION) -> list[str]:
    """Check ids without a case directory: the meta-test (unblob's test_missing_handlers_integrations_tests)."""
    covered = {case.check_id for case in discover(root)}
    return sorted(check.ID for check in checks if check.ID not in covered)


# -- inputs -> evidence -------------------------------------------------------------------------------------------

_KNOWN_INPUTS = ("dossier.yaml", "dossier.patch.yaml", "firmware", "inventory.json", "osv", "kev.json",
                 "network.json", "parameters.json", "as_of.txt")  # fmt: skip


def _known_input(name: str) -> bool:
    return name in _KNOWN_INPUTS or name.startswith(("sbom.", "vex."))


def _as_of(case: Case) -> dt.date:
    path = case.inputs / "as_of.txt"
    return dt.date.fromisoformat(path.read_text(encoding="utf-8").strip()) if path.is_file() else NOW.date()


def _sbom_file(case: Case) -> Path | None:
    found = sorted(case.inputs.glob("sbom.*"))
    return found[0] if found else None


def case_dossier(case: Case, artefacts: Mapping[str, Any]) -> Dossier:
    if case.has_input("dossier.yaml"):
        data = yaml.safe_load((case.inputs / "dossier.yaml").read_text(encoding="utf-8"))
        data["artefacts"] = dict(artefacts)
        return Dossier.model_validate(data)
    if case.has_input("dossier.patch.yaml"):
        patch = yaml.safe_load((case.inputs / "dossier.patch.yaml").read_text(encoding="utf-8")) or {}
        return Dossier.model_validate(dossier_data(base="example", patch=patch, artefacts=dict(artefacts) or None))
    return Dossier.model_validate(dossier_data(artefacts=dict(artefacts) or None))


def _vulndb(case: Case, work: Path) -> Path:
    path = work / "vulndb.sqlite"
    with VulnDb(path) as db:
        for name in ("osv", "kev.json"):
            if case.has_input(name):
                db.import_path(case.inputs / name)
    return path


Recordings = Callable[[str], Mapping[str, Any]]


def load_recording(name: str) -> Mapping[str, Any]:
    """``network/__recordings__/<name>.json``: what the probe saw on a simulated device (or how it failed)."""
    data: dict[str, Any] = json.loads((RECORDINGS / f"{name}.json").read_text(encoding="utf-8"))
    return data


def _network(case: Case, recordings: Recordings) -> Mapping[str, Any]:
    data: dict[str, Any] = json.loads((case.inputs / "network.json").read_text(encoding="utf-8"))
    return recordings(data["recording"]) if "recording" in data else data


def observations_from(data: Mapping[str, Any]) -> NetworkObservations:
    return TypeAdapter(NetworkObservations).validate_python(data)


def case_evidence(case: Case, work: Path, recordings: Recordings = load_recording) -> Evidence:
    """Evidence as an assessment would collect it: the real collectors on the case's artefacts, recorded
    evidence added as it is."""
    artefacts: dict[str, Any] = {}
    collectors: list[Collector] = []
    base_dir = case.inputs
    if case.has_input("firmware"):
        image = build_image(case.inputs / "firmware")
        artefacts["firmware"] = str(image)  # absolute: the collector joins it to the base dir
        collectors.append(FirmwareCollector())
    sbom = _sbom_file(case)
    if sbom is not None:
        artefacts["sbom"] = sbom.name
        artefacts["vex"] = [path.name for path in sorted(case.inputs.glob("vex.*"))]
        collectors.append(SbomCollector())
        if case.has_input("osv") or case.has_input("kev.json"):
            artefacts["vulndb"] = str(_vulndb(case, work))
            collectors.append(VulnerabilityCollector())
    evidence = Evidence(dossier=case_dossier(case, artefacts), base_dir=base_dir, as_of=_as_of(case))
    collect(evidence, collectors, NullProgressReporter())
    _check_firmware_artefact(evidence)
    if case.has_input("inventory.json"):
        raw = json.loads((case.inputs / "inventory.json").read_text(encoding="utf-8"))
        evidence.add(TypeAdapter(FirmwareInventory).validate_python(raw))
    if case.has_input("network.json"):
        _add_network(evidence, _network(case, recordings))
    return evidence


def _check_firmware_artefact(evidence: Evidence) -> None:
    """The collector records the digest of the image it scanned, the one the inventory names."""
    inventory = evidence.get(FirmwareInventory)
    if inventory is not None:
        assert [a.sha256 for a in evidence.artefacts if a.kind == "firmware"] == [inventory.sha256]


def _add_network(evidence: Evidence, data: Mapping[str, Any]) -> None:
    if "failure" in data:
        failure = data["failure"]
        evidence.fail(NetworkObservations, ErrorReason(failure["reason"]), failure["detail"])
    else:
        evidence.add(observations_from(data["observations"]))


def run_case(
    case: Case, checks: Sequence[type[Check]], work: Path, recordings: Recordings = load_recording
) -> CheckAttempt:
    """Run the case's check on its evidence, with its parameters, inside the attempt envelope. ``recordings``
    loads a recorded network probe by name (the live tests pass a fresh probe instead)."""
    known = {check.ID: check for check in checks}
    assert case.check_id in known, f"{case.id}: no built-in check {case.check_id!r}"
    parameters = case.parameters()
    evidence = case_evidence(case, work, recordings)
    return run_check(known[case.check_id].with_parameters(parameters), evidence, parameters)


# -- expected output ----------------------------------------------------------------------------------------------


def finding_row(finding: Finding) -> dict[str, Any]:
    return {
        "verdict": str(finding.verdict),
        "severity": str(finding.severity),
        "locations": [str(loc) for loc in finding.locations],
        "message": finding.message,
    }


def finding_matches(want: Mapping[str, Any], got: Finding) -> bool:
    return (
        str(got.verdict) == want["verdict"]
        and str(got.severity) == want["severity"]
        and (
            any(fnmatch(str(loc), want["location"]) for loc in got.locations)
            if "location" in want
            else not got.locations
        )
        and want["message"] in got.message
    )


def one_to_one(wanted: Sequence[Mapping[str, Any]], got: Sequence[Finding]) -> bool:
    """Is there a pairing of every expected finding with a distinct finding, covering every finding?
    (Bipartite matching by augmenting paths: a few findings at most, so no cleverness needed.)"""
    if len(wanted) != len(got):
        return False
    pair_of: dict[int, int] = {}  # finding index -> expected index

    def place(w: int, seen: set[int]) -> bool:
        for g, finding in enumerate(got):
            if g in seen or not finding_matches(wanted[w], finding):
                continue
            seen.add(g)
            if g not in pair_of or place(pair_of[g], seen):
                pair_of[g] = w
                return True
        return False

    return all(place(w, set()) for w in range(len(wanted)))


def assert_outcome(attempt: CheckAttempt, expected: Mapping[str, Any], label: str) -> None:
    """The attempt is what ``expected`` says, and keeps the promises every check makes."""
    got = [finding_row(f) for f in attempt.findings]
    detail = f"{label}: got {attempt.status} {attempt.verdict} ({attempt.reason}: {attempt.detail}) {json.dumps(got, indent=1)}"
    assert str(attempt.status) == expected.get("status", "completed"), detail
    assert str(attempt.verdict) == expected["verdict"], detail
    if "reason" in expected:
        assert str(attempt.reason) == expected["reason"], detail
    for want in expected["findings"]:
        assert set(want) <= FINDING_KEYS and {"verdict", "severity", "message"} <= set(want), f"{label}: {want}"
    assert one_to_one(expected["findings"], attempt.findings), detail
    for finding in attempt.findings:
        if finding.verdict in (Verdict.FAIL, Verdict.ERROR):
            assert finding.locations, f"{label}: a failing finding names where it was seen: {finding.message}"
            assert finding.remediation, f"{label}: a failing finding says how to fix it: {finding.message}"


def verdicts_by_check(cases: Sequence[Case]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for case in cases:
        out.setdefault(case.check_id, set()).add(case.expected()["verdict"])
    return out


def is_slow(case: Case) -> bool:
    """Cases that build and unpack a firmware image."""
    return case.has_input("firmware")
