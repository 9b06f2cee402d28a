"""sbom.* checks: driven by tests/integration/sbom/<check-id>/ (inputs, case.json, expected.json) plus the
pass / inconclusive paths that a failing case cannot show."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from tests._sbom_builders import kev_catalog, write_cyclonedx

from cybersafe.checks import BUILTIN_CHECKS
from cybersafe.checks.interface import run_check
from cybersafe.dossier.model import Dossier
from cybersafe.evidence.firmware.model import Area, Component, Confidence, FirmwareInventory, NotExamined
from cybersafe.evidence.interface import Evidence, NullProgressReporter
from cybersafe.evidence.sbom import SbomCollector, SbomDocument, load_sbom
from cybersafe.evidence.vulndb import VulnDb, VulnerabilityCollector, VulnerabilityReport
from cybersafe.verdict import AttemptStatus, Verdict

CASES = Path(__file__).resolve().parent.parent / "integration" / "sbom"
SBOM_CHECKS = {c.ID: c for c in BUILTIN_CHECKS if c.ID.startswith("sbom.")}


def dossier(artefacts: dict, markets: list[str] | None = None) -> Dossier:
    return Dossier.model_validate(
        {
            "schema": "cybersafe/dossier/v1",
            "product": {"manufacturer": {"name": "ACME"}, "name": "Acme Cam", "model": "C2"},
            "markets": markets or [],
            "artefacts": artefacts,
        }
    )


def collect(case_dir: Path, tmp_path: Path) -> Evidence:
    """Run the real collectors on a case directory, as an assessment would."""
    case = json.loads((case_dir / "case.json").read_text())
    artefacts: dict = {"sbom": case["sbom"], "vex": case.get("vex", [])}
    if "osv" in case:
        db_path = tmp_path / "vulndb.sqlite"
        with VulnDb(db_path) as db:
            db.import_path(case_dir / case["osv"])
            if "kev" in case:
                db.import_path(case_dir / case["kev"])
        artefacts["vulndb"] = str(db_path)  # absolute: pathlib's "/" keeps it
    d = dossier(artefacts, case.get("markets"))
    evidence = Evidence(dossier=d, base_dir=case_dir, as_of=dt.date.fromisoformat(case.get("as_of", "2026-01-05")))
    for collector in (SbomCollector(), VulnerabilityCollector()):
        if collector.applies(d):
            for item in collector.collect(d, case_dir, NullProgressReporter()).items:
                evidence.add(item)
    if "inventory" in case:
        data = json.loads((case_dir / case["inventory"]).read_text())
        comps = tuple(Component(**{**c, "confidence": Confidence(c["confidence"])}) for c in data["components"])
        evidence.add(FirmwareInventory(image="fw.bin", sha256="0" * 64, size=1, budget="default", components=comps))
    return evidence


def test_every_sbom_check_has_an_integration_case():
    assert set(SBOM_CHECKS) == {
        "sbom.known-exploited-vulnerability",
        "sbom.known-exploitable-vulnerability",
        "sbom.known-vulnerability-with-fix",
        "sbom.minimum-elements",
        "sbom.component-without-version",
        "sbom.undeclared-components",
    }
    assert {p.name for p in CASES.iterdir() if p.is_dir()} == set(SBOM_CHECKS)


@pytest.mark.parametrize("check_id", sorted(SBOM_CHECKS))
def test_integration_case(check_id, tmp_path):
    # Given the case's real input files; When the collectors and the check run
    evidence = collect(CASES / check_id, tmp_path)
    case = json.loads((CASES / check_id / "case.json").read_text())
    parameters = tuple(
        sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in case.get("parameters", {}).items())
    )
    attempt = run_check(SBOM_CHECKS[check_id].with_parameters(parameters), evidence, parameters)
    assert attempt.status is AttemptStatus.COMPLETED, attempt.detail
    expected = json.loads((CASES / check_id / "expected.json").read_text())
    failing = [f for f in attempt.findings if f.verdict is not Verdict.PASS]
    # Then the findings are exactly the expected ones
    assert len(failing) == len(expected), [f.message for f in attempt.findings]
    for finding, want in zip(failing, expected, strict=True):
        assert finding.verdict == want["verdict"]
        assert finding.severity == want["severity"]
        assert any(want["location"] in str(loc) for loc in finding.locations), finding.locations
        assert want["message_contains"] in finding.message
        assert finding.remediation


@pytest.fixture
def clean_evidence(tmp_path):
    """A clean SBOM (1.6, every component versioned) matched against an empty database with a KEV catalog."""
    bom = tmp_path / "bom.json"
    doc = json.loads(write_cyclonedx(bom, "1.6", "json").read_text())
    doc["components"] = [c for c in doc["components"] if c.get("version")]
    bom.write_text(json.dumps(doc))
    (tmp_path / "kev.json").write_text(json.dumps(kev_catalog([("CVE-2000-0001", "2025-06-01")])))
    with VulnDb(tmp_path / "db.sqlite") as db:
        db.import_path(tmp_path / "kev.json")
    d = dossier({"sbom": "bom.json", "vulndb": "db.sqlite"})
    evidence = Evidence(dossier=d, base_dir=tmp_path, as_of=dt.date(2026, 1, 5))
    for collector in (SbomCollector(), VulnerabilityCollector()):
        for item in collector.collect(d, tmp_path, NullProgressReporter()).items:
            evidence.add(item)
    return evidence


@pytest.mark.parametrize(
    ("check_id", "contains"),
    [
        pytest.param("sbom.known-exploited-vulnerability", "none in CISA KEV", id="kev"),
        pytest.param("sbom.known-vulnerability-with-fix", "no known vulnerability with a fixed version", id="fix"),
        pytest.param("sbom.component-without-version", "all 6 components", id="version"),
    ],
)
def test_clean_sbom_passes_with_the_evidence_stated(clean_evidence, check_id, contains):
    attempt = run_check(SBOM_CHECKS[check_id](), clean_evidence)
    assert attempt.verdict is Verdict.PASS
    assert contains in attempt.findings[0].message


def test_no_kev_catalog_is_inconclusive_not_pass(tmp_path):
    (tmp_path / "x.json").write_text("[]")
    with VulnDb(tmp_path / "db.sqlite") as db:
        db.import_path(tmp_path / "x.json")
    write_cyclonedx(tmp_path / "bom.json", "1.6", "json")
    d = dossier({"sbom": "bom.json", "vulndb": "db.sqlite"})
    evidence = Evidence(dossier=d, base_dir=tmp_path)
    evidence.add(VulnerabilityCollector().collect(d, tmp_path, NullProgressReporter()).items[0])
    attempt = run_check(SBOM_CHECKS["sbom.known-exploited-vulnerability"](), evidence)
    assert attempt.verdict is Verdict.INCONCLUSIVE
    assert "no CISA KEV catalog" in attempt.findings[0].message


def test_unversioned_component_makes_the_vulnerability_checks_inconclusive(tmp_path):
    (tmp_path / "kev.json").write_text(json.dumps(kev_catalog([("CVE-2000-0001", "2025-06-01")])))
    with VulnDb(tmp_path / "db.sqlite") as db:
        db.import_path(tmp_path / "kev.json")
    write_cyclonedx(tmp_path / "bom.json", "1.6", "json")  # contains mystery-blob without version
    d = dossier({"sbom": "bom.json", "vulndb": "db.sqlite"})
    evidence = Evidence(dossier=d, base_dir=tmp_path, as_of=dt.date(2026, 1, 5))
    evidence.add(VulnerabilityCollector().collect(d, tmp_path, NullProgressReporter()).items[0])
    for check_id in (
        "sbom.known-exploited-vulnerability",
        "sbom.known-exploitable-vulnerability",
        "sbom.known-vulnerability-with-fix",
    ):
        attempt = run_check(SBOM_CHECKS[check_id](), evidence)
        assert attempt.verdict is Verdict.INCONCLUSIVE
        assert "mystery-blob" in attempt.findings[0].message


def test_the_baselines_come_from_the_requirement_never_from_the_markets(tmp_path):
    # Given the same SBOM in a dossier for Germany and in one for the EU
    evidence = collect(CASES / "sbom.minimum-elements", tmp_path)
    check = SBOM_CHECKS["sbom.minimum-elements"]
    verdicts = {}
    for markets in (["de"], ["eu"], []):
        evidence.dossier = dossier({"sbom": "sbom.cdx.json"}, markets)
        # When the check runs with and without the BSI baseline asked
        for baselines in (("ntia-2021",), ("bsi-tr-03183-2",)):
            attempt = run_check(check(baselines=baselines), evidence)
            verdicts[(tuple(markets), baselines)] = (attempt.verdict, [f.message for f in attempt.findings])
    # Then the markets change nothing, and BSI is judged only where a requirement asks for it
    for baselines in (("ntia-2021",), ("bsi-tr-03183-2",)):
        assert len({str(verdicts[(m, baselines)]) for m in (("de",), ("eu",), ())}) == 1
    assert not any("BSI" in m for m in verdicts[((), ("ntia-2021",))][1])
    assert any("BSI" in m for m in verdicts[((), ("bsi-tr-03183-2",))][1])


def test_undeclared_components_inconclusive_when_inventory_incomplete(tmp_path):
    write_cyclonedx(tmp_path / "bom.json", "1.6", "json")
    evidence = Evidence(dossier=dossier({"sbom": "bom.json"}), base_dir=tmp_path)
    evidence.add(load_sbom(tmp_path / "bom.json"))
    gap = NotExamined(Area.COMPONENTS, "unpack budget reached after 10,000 files")
    comps = (
        Component("busybox", "1.36.1", "pkg:generic/busybox@1.36.1", "version-banner", "/bin/busybox", Confidence.HIGH),
    )
    evidence.add(FirmwareInventory("fw.bin", "0" * 64, 1, "default", components=comps, not_examined=(gap,)))
    attempt = run_check(SBOM_CHECKS["sbom.undeclared-components"](), evidence)
    assert attempt.verdict is Verdict.INCONCLUSIVE and "unpack budget" in attempt.findings[0].message
    evidence.add(FirmwareInventory("fw.bin", "0" * 64, 1, "default", components=comps))
    assert run_check(SBOM_CHECKS["sbom.undeclared-components"](), evidence).verdict is Verdict.PASS


def test_unreadable_sbom_makes_the_collector_fail_with_bad_input(tmp_path):
    (tmp_path / "bom.json").write_text("{")
    with pytest.raises(Exception) as err:
        SbomCollector().collect(dossier({"sbom": "bom.json"}), tmp_path, NullProgressReporter())
    assert err.value.reason == "bad_input"
    assert "bom.json:1: not valid JSON" in str(err.value)


def test_collector_applies_only_with_artefacts(monkeypatch):
    monkeypatch.delenv("CYBERSAFE_VULNDB", raising=False)
    assert not SbomCollector().applies(dossier({}))
    assert SbomCollector().applies(dossier({"sbom": "x.json"}))
    assert not VulnerabilityCollector().applies(dossier({"sbom": "x.json"}))
    monkeypatch.setenv("CYBERSAFE_VULNDB", "/nonexistent.sqlite")
    assert VulnerabilityCollector().applies(dossier({"sbom": "x.json"}))
    assert SbomDocument in SbomCollector.PRODUCES and VulnerabilityReport in VulnerabilityCollector.PRODUCES
