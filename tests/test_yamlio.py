"""The libyaml composer is only a faster road to the same document: data, lines and errors agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from cybersafe import yamlio
from cybersafe.errors import InputError

DATA = Path(yamlio.__file__).parent / "schemes" / "data"
FILES = [*sorted(DATA.rglob("*.yaml")), Path(__file__).parents[1] / "examples" / "smart-camera" / "dossier.yaml"]


@pytest.mark.skipif(yamlio._FastLoader is None, reason="PyYAML built without libyaml")
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_libyaml_and_the_reference_composer_give_the_same_document(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = yamlio.load_yaml(path)
    monkeypatch.setattr(yamlio, "_FastLoader", None)
    reference = yamlio.load_yaml(path)
    assert (fast.data, fast.lines) == (reference.data, reference.lines)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: [1, 2\n", "malformed YAML"),
        ("a: 1\na: 2\n", "duplicate key"),
        ("a: !!int x\n", "bad scalar"),
        ("d: 2026-12-05\n", None),
    ],
)
def test_errors_and_dates_read_the_same_with_either_composer(
    text: str, message: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcomes = []
    for fast in (yamlio._FastLoader, None):
        monkeypatch.setattr(yamlio, "_FastLoader", fast)
        try:
            outcomes.append(yamlio.parse_yaml(text, "x.yaml").data)
        except InputError as exc:
            outcomes.append(str(exc))
    assert outcomes[0] == outcomes[1]
    if message is None:
        assert outcomes[0] == {"d": "2026-12-05"}  # dates stay strings: pydantic parses them with a field name
    else:
        assert message in str(outcomes[0])
