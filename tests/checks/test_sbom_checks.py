"""sbom.* checks beyond their integration cases (tests/integration/sbom/): what the cases cannot show."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.integration.cases import INTEGRATION
from tests.support import dossier

from cybersafe.checks.interface import run_check
from cybersafe.checks.software import SbomMinimumElementsCheck
from cybersafe.evidence.interface import Evidence, NullProgressReporter
from cybersafe.evidence.sbom import SbomCollector, SbomDocument, load_sbom
from cybersafe.evidence.vulndb import VulnerabilityCollector, VulnerabilityReport

INCOMPLETE_SBOM = INTEGRATION / "sbom" / "sbom.minimum-elements" / "every-baseline-fails" / "__input__"


def test_the_baselines_come_from_the_requirement_never_from_the_markets() -> None:
    # Given the same SBOM in a dossier for Germany, one for the EU and one for no market
    verdicts = {}
    for markets in (["de"], ["eu"], []):
        evidence = Evidence(
            dossier=dossier(artefacts={"sbom": "sbom.cdx.json"}, markets=markets), base_dir=INCOMPLETE_SBOM
        )
        evidence.add(load_sbom(INCOMPLETE_SBOM / "sbom.cdx.json"))
        # When the check runs with and without the BSI baseline asked
        for baselines in (("ntia-2021",), ("bsi-tr-03183-2",)):
            attempt = run_check(SbomMinimumElementsCheck(baselines=baselines), evidence)
            verdicts[(tuple(markets), baselines)] = (attempt.verdict, [f.message for f in attempt.findings])
    # Then the markets change nothing, and BSI is judged only where a requirement asks for it
    for baselines in (("ntia-2021",), ("bsi-tr-03183-2",)):
        assert len({str(verdicts[(m, baselines)]) for m in (("de",), ("eu",), ())}) == 1
    assert not any("BSI" in m for m in verdicts[((), ("ntia-2021",))][1])
    assert any("BSI" in m for m in verdicts[((), ("bsi-tr-03183-2",))][1])


def test_unreadable_sbom_makes_the_collector_fail_with_bad_input(tmp_path: Path) -> None:
    (tmp_path / "bom.json").write_text("{")
    with pytest.raises(Exception) as err:
        SbomCollector().collect(dossier(artefacts={"sbom": "bom.json"}), tmp_path, NullProgressReporter())
    assert getattr(err.value, "reason", None) == "bad_input"
    assert "bom.json:1: not valid JSON" in str(err.value)


def test_collector_applies_only_with_artefacts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CYBERSAFE_VULNDB", raising=False)
    assert not SbomCollector().applies(dossier(artefacts={}))
    assert SbomCollector().applies(dossier(artefacts={"sbom": "x.json"}))
    assert not VulnerabilityCollector().applies(dossier(artefacts={"sbom": "x.json"}))
    monkeypatch.setenv("CYBERSAFE_VULNDB", "/nonexistent.sqlite")
    assert VulnerabilityCollector().applies(dossier(artefacts={"sbom": "x.json"}))
    assert SbomDocument in SbomCollector.PRODUCES and VulnerabilityReport in VulnerabilityCollector.PRODUCES
