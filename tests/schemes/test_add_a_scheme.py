"""Adding a scheme is one YAML file: no Python edit, no enum, no list of ids.

The toy scheme below lives in a temporary catalog directory; the bundled catalog is read with it through
``--catalog`` and the example product is assessed against it, judged on its market, and labelled in the
style its YAML names.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml
from tests.support import EXAMPLE_DOSSIER, NOW, dossier_data
from typer.testing import CliRunner

from cybersafe.cli import app

TOY = """
schema: cybersafe/catalog/v1
scheme:
  id: xx-toy-label
  version: "1"
  title: Toy labelling scheme of a market the bundled catalog does not know
  short_title: Toy label
  jurisdiction: xx
  markets: [xx]
  kind: label
  modelled: true
  current: true
  label: {name: Toy Security Label, style: levelled}
  dates: {published: "2026-01-01", applies_from: "2026-01-01", confidence: unconfirmed, note: a test fixture}
  source: {document: tests/schemes/test_add_a_scheme.py}
  levels:
    - {id: "1", title: Level 1, description: passwords and updates}
    - {id: "2", title: Level 2, description: level 1 and the support period}
requirements:
  - id: T-1
    title: A vulnerability disclosure policy is published
    text: The manufacturer publishes how to report vulnerabilities.
    obligation: mandatory
    levels: ["1"]
    source: {document: toy, clause: "1"}
    verified_by: requirement:etsi-en-303-645@3.1.3:5.2-1
  - id: T-2
    title: Five years of support
    text: The support period is at least five years.
    obligation: mandatory
    levels: ["2"]
    source: {document: toy, clause: "2"}
    verified_by: {check: declaration.support-period, with: {min_years: 5}}
"""

runner = CliRunner()


def _catalog_dir(tmp_path: Path, text: str = TOY) -> Path:
    directory = tmp_path / "catalog"
    directory.mkdir()
    (directory / "xx-toy-label-1.yaml").write_text(text, encoding="utf-8")
    return directory


def _dossier_for_market(tmp_path: Path, market: str) -> Path:
    # the example's declarations only (the shared builder drops the artefacts): this is about the catalog
    data = dossier_data(base="example", markets=[market])
    shutil.copytree(EXAMPLE_DOSSIER.parent / "evidence", tmp_path / "evidence")  # the lab's manual evidence
    path = tmp_path / "dossier.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _assess(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["assess", *args, "--now", NOW.isoformat(), "--format", "json"])
    return result.exit_code, result.stdout, result.stderr


def test_a_scheme_added_as_one_yaml_file_is_assessed_and_judged_on_its_market(tmp_path: Path) -> None:
    # Given one YAML file in a catalog directory, and the example product sold in market "xx"
    catalog = _catalog_dir(tmp_path)
    dossier = _dossier_for_market(tmp_path, "xx")
    # When the product is assessed with the extra catalog
    code, out, err = _assess(str(dossier), "--catalog", str(catalog))
    # Then the toy scheme is evaluated with every bundled one, and the verdict is judged on it
    assert code in (0, 1), err
    results = {s["scheme"]: s for s in json.loads(out)["schemes"]}
    toy = results["xx-toy-label"]
    assert toy["kind"] == "label" and toy["markets"] == ["xx"]
    assert toy["label"] == {"name": "Toy Security Label", "style": "levelled"}
    assert toy["status"] == "meets" and toy["highest_level"] == "2", toy
    assert code == 0, "judged on the market's scheme only, which is met"
    # and the requirement reference and the parameterised check both fed it
    checks = {c["check_id"]: c for c in json.loads(out)["checks"] if c.get("parameters") == {"min_years": 5}}
    assert "declaration.support-period" in checks
    assert "xx-toy-label@1:T-2" in checks["declaration.support-period"]["feeds"]


def test_a_market_no_scheme_decides_is_a_one_line_error(tmp_path: Path) -> None:
    dossier = _dossier_for_market(tmp_path, "xx")
    code, _, err = _assess(str(dossier))
    assert code == 2
    assert "markets" in err and "no scheme in the catalog decides market 'xx'" in err
    assert len(err.strip().splitlines()) == 1


def test_a_bad_reference_in_an_added_scheme_names_the_requirement(tmp_path: Path) -> None:
    catalog = _catalog_dir(tmp_path, TOY.replace("min_years: 5", "min_yeras: 5"))
    code, _, err = _assess(str(EXAMPLE_DOSSIER), "--catalog", str(catalog))
    assert code == 2
    assert "xx-toy-label@1:T-2" in err and "no parameter 'min_yeras'" in err


def test_schemes_lists_the_added_scheme(tmp_path: Path) -> None:
    result = runner.invoke(app, ["schemes", "--catalog", str(_catalog_dir(tmp_path)), "--format", "json"])
    assert result.exit_code == 0
    rows = {row["id"]: row for row in json.loads(result.stdout)}
    assert rows["xx-toy-label"]["dates"]["applies_from"] == "2026-01-01"
