"""Real producers' SBOMs (tests/evidence/sbom/corpus, each with its provenance and licence): how many are read.

The corpus holds small public SBOMs written by syft, Trivy, cdxgen, cyclonedx-py, Microsoft sbom-tool, tern,
the CycloneDX and SPDX example repositories and spdx-tools' own test data, in every CycloneDX 1.x and SPDX 2.x
version they use. SPDX 3 documents are in it too: they must be refused with the one line that says why.
Where cyclonedx-python-lib or spdx-tools can read a document, our components must equal theirs.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from packageurl import PackageURL

from cybersafe.errors import SbomError
from cybersafe.evidence.sbom import SbomDocument, load_sbom

CORPUS = Path(__file__).parent / "corpus"
PROVENANCE = json.loads((CORPUS / "PROVENANCE.json").read_text(encoding="utf-8"))
FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "PROVENANCE.json")
SPDX3 = {p for p in FILES if ".spdx3." in p.name}
TARGET = 0.95


def _key(path: Path) -> str:
    return path.relative_to(CORPUS).as_posix()


def test_every_sbom_has_its_provenance_and_licence() -> None:
    assert sorted(PROVENANCE) == [_key(p) for p in FILES]
    for entry in PROVENANCE.values():
        assert entry["repository"].startswith("https://github.com/")
        assert len(entry["commit"]) == 40 and entry["path"] and entry["licence"]


def test_corpus_stays_small() -> None:
    assert sum(p.stat().st_size for p in FILES) < 4 * 1024 * 1024


def test_real_producers_sboms_are_read(capsys: pytest.CaptureFixture[str]) -> None:
    read: list[Path] = []
    refused: dict[Path, str] = {}
    for path in FILES:
        try:
            load_sbom(path)
        except SbomError as exc:
            refused[path] = str(exc)
        else:
            read.append(path)
    producers = Counter(_key(p).split("/", 1)[0] for p in read)
    with capsys.disabled():
        print(
            f"\nSBOM corpus: {len(read)} of {len(FILES)} read ({len(read) / len(FILES):.1%}); "
            f"{len(FILES) - len(SPDX3)} CycloneDX / SPDX 2 documents, {len(SPDX3)} SPDX 3 refused by design; by "
            f"producer: {', '.join(f'{k} {v}' for k, v in sorted(producers.items()))}"
        )
    in_scope = [p for p in FILES if p not in SPDX3]
    assert len([p for p in read if p in in_scope]) / len(in_scope) >= TARGET, refused
    assert set(refused) - SPDX3 == set(), refused
    for path in SPDX3:
        assert "SPDX 3" in refused[path] and "\n" not in refused[path]


def _canonical(purl: str | None) -> str | None:
    if purl is None:
        return None
    try:
        return PackageURL.from_string(purl).to_string()
    except ValueError:
        return None


def _ours(doc: SbomDocument) -> Counter[tuple[str, str | None, str | None]]:
    return Counter((c.name, c.version, _canonical(c.purl)) for c in doc.all_components())


def _cyclonedx_lib(path: Path) -> Counter[tuple[str, str | None, str | None]]:
    import defusedxml.ElementTree as DET
    from cyclonedx.model.bom import Bom

    text = path.read_text(encoding="utf-8")
    bom: Any = Bom.from_json(json.loads(text)) if text.lstrip().startswith("{") else Bom.from_xml(DET.fromstring(text))
    found: list[Any] = []
    stack = list(bom.components)
    while stack:
        comp = stack.pop()
        found.append(comp)
        stack.extend(comp.components or ())
    if bom.metadata.component is not None:
        found.append(bom.metadata.component)
    return Counter((c.name, c.version or None, _canonical(c.purl.to_string()) if c.purl else None) for c in found)


def _spdx_lib(path: Path) -> Counter[tuple[str, str | None, str | None]]:
    from spdx_tools.spdx.parser.parse_anything import parse_file

    doc = parse_file(str(path))  # type: ignore[no-untyped-call]
    out: Counter[tuple[str, str | None, str | None]] = Counter()
    for pkg in doc.packages:
        purl = next((r.locator for r in pkg.external_references if r.reference_type == "purl"), None)
        out[(pkg.name, pkg.version or None, _canonical(purl))] += 1
    return out


def test_components_equal_the_reference_libraries_wherever_they_read_the_document() -> None:
    compared = 0
    for path in FILES:
        if path in SPDX3:
            continue
        doc = load_sbom(path)
        reader = _cyclonedx_lib if doc.format == "cyclonedx" else _spdx_lib
        if doc.format == "spdx" and path.suffix not in (".json", ".spdx"):
            continue  # spdx-tools chooses its parser by file extension
        try:
            expected = reader(path)
        except Exception:  # the reference library refuses this document: nothing to compare
            continue
        assert _ours(doc) == expected, path
        compared += 1
    assert compared >= 80
