"""Dossier loading: the example validates; every kind of bad input is one precise line."""

from __future__ import annotations

from pathlib import Path

import pytest

from cybersafe.checks import builtin_check_ids
from cybersafe.dossier.facts import derive_facts
from cybersafe.dossier.loader import load_dossier
from cybersafe.dossier.model import Dossier
from cybersafe.errors import DossierError
from cybersafe.schemes.catalog import default_catalog

MINIMAL = """\
schema: cybersafe/dossier/v1
product:
  manufacturer: {name: M}
  name: P
  model: X1
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "dossier.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_dossier_loads(example_dossier_path: Path) -> None:
    dossier = load_dossier(example_dossier_path, builtin_check_ids())
    assert dossier.product.model == "NL-CAM2"
    # the components are three: "companion app (Android, iOS)" is one item, not two halves of a YAML flow list
    assert dossier.product.components == ["device", "companion app (Android, iOS)", "Nordlicht cloud service"]
    facts = derive_facts(dossier)
    assert facts["uses_passwords"] is True
    assert facts["network_updates"] is True
    assert facts["external_sensors"] is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(MINIMAL + "markets: [us\n", "dossier.yaml:7: malformed YAML", id="malformed-yaml"),
        pytest.param(MINIMAL + "colour: red\n", "dossier.yaml:6: colour: unknown field", id="unknown-field"),
        pytest.param(
            MINIMAL + "declarations:\n  support_period:\n    end: 2031-02-30\n",
            "dossier.yaml:8: declarations.support_period.end:",
            id="bad-date",
        ),
        pytest.param(
            MINIMAL + "artefacts:\n  firmware: missing.bin\n",
            "dossier.yaml:7: artefacts.firmware: file not found: missing.bin",
            id="missing-file",
        ),
        pytest.param(
            MINIMAL + "manual_results:\n  - {id: firmware.no-such-check, verdict: pass, by: lab, at: '2026-01-01'}\n",
            "dossier.yaml:7: manual_results[0].id: unknown check id 'firmware.no-such-check'",
            id="unknown-check-id",
        ),
        pytest.param(
            MINIMAL + "facts: {flies: true}\n", "dossier.yaml:6: facts.flies: unknown fact", id="unknown-fact"
        ),
        pytest.param(MINIMAL.replace("v1", "v9"), "dossier.yaml:1: schema: expected schema", id="wrong-schema"),
        pytest.param(
            MINIMAL.replace("  model: X1\n", ""), "dossier.yaml:3: product.model: required field", id="missing"
        ),
        pytest.param("", "dossier.yaml:1: empty document", id="empty"),
        pytest.param(
            MINIMAL + "artefacts:\n  device: {host: 127.0.0.1, ports: [443, 70000]}\n",
            "dossier.yaml:7: artefacts.device.ports[1]: Input should be less than or equal to 65535",
            id="port-out-of-range",
        ),
        pytest.param(
            MINIMAL + "declarations:\n  support_period:\n    end: 2031-12-31\n    start: 2032-01-01\n",
            "dossier.yaml:9: declarations.support_period.start: Value error, the support period starts (2032-01-01) "
            "after it ends (2031-12-31)",
            id="support-starts-after-it-ends",
        ),
        pytest.param(
            MINIMAL + "markets: [us]\nmarkets: [eu]\n", "dossier.yaml:7: markets: duplicate key", id="dup-key"
        ),
    ],
)
def test_bad_input_is_one_line_naming_file_line_and_field(tmp_path: Path, text: str, expected: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(DossierError) as info:
        load_dossier(path, builtin_check_ids(), known_facts=default_catalog().condition_facts())
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(tmp_path / expected.split(":", 1)[0]))
    assert expected.split("/", 1)[-1] in message.replace(str(tmp_path) + "/", "")


def test_not_utf8_and_directory(tmp_path: Path) -> None:
    path = tmp_path / "dossier.yaml"
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(DossierError, match="not UTF-8"):
        load_dossier(path)
    with pytest.raises(DossierError, match="is a directory"):
        load_dossier(tmp_path)


def test_json_schema_is_published_and_current() -> None:
    from cybersafe.dossier.schema import dossier_json_schema, published_schema_path

    published = published_schema_path().read_text(encoding="utf-8")
    import json

    assert json.loads(published) == dossier_json_schema(), "run: cybersafe dev write-schemas"


def test_wire_round_trip(example_dossier_path: Path) -> None:
    dossier = load_dossier(example_dossier_path)
    assert Dossier.model_validate(dossier.wire()) == dossier
