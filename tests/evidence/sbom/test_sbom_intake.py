"""What real producers write is read: every CycloneDX 1.x and SPDX 2.x version, lenient timestamps, one odd
field left out with a recorded problem; large CycloneDX JSON read as a stream within the stated limits."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packageurl import PackageURL

from cybersafe.errors import SbomError
from cybersafe.evidence.sbom import load_sbom, parse
from cybersafe.evidence.sbom._fields import _PLAIN_PURL, parse_timestamp, valid_purl


def _cdx(version: str, **extra: object) -> dict[str, object]:
    return {
        "bomFormat": "CycloneDX",
        "specVersion": version,
        "metadata": {"timestamp": "2024-02-15T10:23:45.123456789Z", "component": {"type": "firmware", "name": "fw"}},
        "components": [
            {"type": "library", "name": "zlib", "version": "1.3", "purl": "pkg:generic/zlib@1.3", "bom-ref": "z"},
            {"type": "library", "name": "busybox", "version": "1.36.1", "bom-ref": "b"},
        ],
        "dependencies": [{"ref": "b", "dependsOn": ["z"]}],
        **extra,
    }


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7"])
def test_every_cyclonedx_1x_json_version_is_read(tmp_path: Path, version: str) -> None:
    path = tmp_path / "bom.json"
    path.write_text(json.dumps(_cdx(version)))
    doc = load_sbom(path)
    assert doc.spec_version == version
    assert [c.display for c in doc.components] == ["zlib@1.3", "busybox@1.36.1"]
    assert doc.dependencies == {"b": ("z",)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Trivy writes nanoseconds; Python's own parser stops at microseconds.
        ("2024-02-15T10:23:45.123456789Z", dt.datetime(2024, 2, 15, 10, 23, 45, 123456, tzinfo=dt.UTC)),
        ("2024-02-15T10:23:45.1+02:00", dt.datetime(2024, 2, 15, 8, 23, 45, 100000, tzinfo=dt.UTC)),
        ("2024-02-15T10:23:45+0200", dt.datetime(2024, 2, 15, 8, 23, 45, tzinfo=dt.UTC)),
        ("2024-02-15 10:23:45", dt.datetime(2024, 2, 15, 10, 23, 45, tzinfo=dt.UTC)),
        ("2024-02-15", dt.datetime(2024, 2, 15, tzinfo=dt.UTC)),
        ("2024-13-15T10:23:45Z", None),
        ("redacted", None),
    ],
)
def test_lenient_timestamps(text: str, expected: dt.datetime | None) -> None:
    assert parse_timestamp(text) == expected


def test_nanosecond_timestamp_is_read(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_text(json.dumps(_cdx("1.6")))
    assert load_sbom(path).timestamp == dt.datetime(2024, 2, 15, 10, 23, 45, 123456, tzinfo=dt.UTC)


def test_an_invalid_purl_is_left_out_and_recorded(tmp_path: Path) -> None:
    # Given one component whose purl does not parse; When read; Then the rest is read and the problem named
    data = _cdx("1.5")
    data["components"][0]["purl"] = "pkg:bad"  # type: ignore[index]
    path = tmp_path / "bom.json"
    path.write_text(json.dumps(data))
    doc = load_sbom(path)
    assert doc.components[0].purl is None and doc.components[0].name == "zlib"
    assert doc.problems == ("components[0].purl: not a valid purl 'pkg:bad'; ignored",)


def test_an_unreadable_timestamp_is_absent_and_recorded(tmp_path: Path) -> None:
    data = _cdx("1.6")
    data["metadata"]["timestamp"] = "last Tuesday"  # type: ignore[index]
    path = tmp_path / "bom.json"
    path.write_text(json.dumps(data))
    doc = load_sbom(path)
    assert doc.timestamp is None
    assert doc.problems == ("metadata.timestamp: not a date-time 'last Tuesday'; treated as absent",)


TRIVY_SPDX22_TAG_VALUE = """\
SPDXVersion: SPDX-2.2
DataLicense: CC0-1.0
SPDXID: SPDXRef-DOCUMENT
DocumentName: alpine:3.16
DocumentNamespace: http://aquasecurity.github.io/trivy/container_image/alpine:3.16-0e1f
Creator: Organization: aquasecurity
Creator: Tool: trivy-0.38.1
Created: 2023-03-02T11:12:13.123456789Z

##### Package: musl

PackageName: musl
SPDXID: SPDXRef-Package-5b2f
PackageVersion: 1.2.3-r2
PackageSupplier: NOASSERTION
FilesAnalyzed: false
PackageLicenseConcluded: MIT
PackageLicenseDeclared: MIT
ExternalRef: PACKAGE-MANAGER purl pkg:apk/alpine/musl@1.2.3-r2?distro=3.16.3
PackageAttributionText: PkgID: musl@1.2.3-r2

Relationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-ContainerImage-4a1
"""


def test_trivy_spdx22_tag_value_without_download_location_is_read(tmp_path: Path) -> None:
    # spdx-tools refused this ("Package.__init__() missing 1 required positional argument"): a package
    # without PackageDownloadLocation, as Trivy 0.3x wrote them, with a nanosecond timestamp.
    path = tmp_path / "trivy.spdx"
    path.write_text(TRIVY_SPDX22_TAG_VALUE)
    doc = load_sbom(path)
    assert doc.label == "SPDX 2.2 tag-value"
    (musl,) = doc.components
    assert (musl.name, musl.version, musl.purl) == ("musl", "1.2.3-r2", "pkg:apk/alpine/musl@1.2.3-r2?distro=3.16.3")
    assert musl.licenses == ("MIT",)
    assert doc.tools == ("trivy-0.38.1",) and doc.authors == ("aquasecurity",)
    assert doc.timestamp == dt.datetime(2023, 3, 2, 11, 12, 13, 123456, tzinfo=dt.UTC)


def test_deeply_nested_xml_components_are_read_without_recursion(tmp_path: Path) -> None:
    path = tmp_path / "bom.xml"
    path.write_text(
        "<bom xmlns='http://cyclonedx.org/schema/bom/1.6'><components>"
        + "<component type='library'><name>c</name><components>" * 3000
        + "</components></component>" * 3000
        + "</components></bom>"
    )
    assert len(load_sbom(path).components) == 3000


def test_a_fifo_or_device_is_refused_not_waited_on(tmp_path: Path) -> None:
    from cybersafe.errors import VulnDbError
    from cybersafe.evidence.vulndb import VulnDb, load_vex

    fifo = tmp_path / "bom.json"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.json"
    zero.symlink_to("/dev/zero")
    for path in (fifo, zero):
        with pytest.raises(SbomError, match="not a regular file"):
            load_sbom(path)
        with pytest.raises(SbomError, match="not a regular file"):
            load_vex(path)
        with VulnDb(tmp_path / "db.sqlite") as db, pytest.raises(VulnDbError, match="not a regular file"):
            db.import_path(path)


# --- large documents: a stream, and limits named in one line ----------------------------------------------


def _big(tmp_path: Path, n: int) -> Path:
    comps = [
        {"type": "library", "bom-ref": f"r{i}", "name": f"p{i}", "version": "1.0", "purl": f"pkg:npm/p{i}@1.0"}
        for i in range(n)
    ]
    data = {"components": comps, **{k: v for k, v in _cdx("1.6").items() if k != "components"}}
    data["dependencies"] = [{"ref": "r0", "dependsOn": ["r1", "r2"]}]
    path = tmp_path / "big.cdx.json"
    path.write_text(json.dumps(data))  # components before metadata: the header needs a second pass
    return path


def test_streamed_read_equals_whole_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _big(tmp_path, 500)
    whole = load_sbom(path)
    monkeypatch.setattr(parse, "STREAM_FROM", 1024)
    streamed = load_sbom(path)
    assert streamed == whole
    assert streamed.primary is not None and streamed.timestamp is not None and len(streamed.components) == 500


def test_too_many_components_are_refused_naming_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cybersafe.evidence.sbom import cyclonedx

    monkeypatch.setattr(cyclonedx, "MAX_COMPONENTS", 100)
    monkeypatch.setattr(parse, "STREAM_FROM", 1024)
    with pytest.raises(SbomError) as err:
        load_sbom(_big(tmp_path, 500))
    assert str(err.value).endswith("components: more than 100 components (the limit for one SBOM)")


def test_too_large_a_file_is_refused_naming_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse, "MAX_BYTES", 1024)
    with pytest.raises(SbomError, match=r"big.cdx.json: larger than 1024 bytes \(the limit for an SBOM\)"):
        load_sbom(_big(tmp_path, 50))


def test_broken_json_in_a_stream_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _big(tmp_path, 50)
    path.write_bytes(path.read_bytes()[:-40])
    monkeypatch.setattr(parse, "STREAM_FROM", 1024)
    with pytest.raises(SbomError, match="not valid JSON") as err:
        load_sbom(path)
    assert "\n" not in str(err.value)


@settings(max_examples=300, deadline=None)
@given(st.from_regex(_PLAIN_PURL, fullmatch=True))
def test_the_purl_fast_path_accepts_only_what_packageurl_accepts(purl: str) -> None:
    PackageURL.from_string(purl)  # raises if the shortcut ever let an invalid purl through


@pytest.mark.parametrize("purl", ["pkg:bad", "pkg:npm/", "npm/x@1", "pkg:c2+x/a", "pkg:npm/a?9k=v"])
def test_invalid_purls_are_still_refused(purl: str) -> None:
    assert not valid_purl(purl)


def test_github_dependency_graph_export_as_the_api_returns_it(tmp_path: Path) -> None:
    # The shape GitHub's REST API documents for "Export a software bill of materials": SPDX 2.3 in {"sbom": ...}
    # (written for this test; no licensed real export was found to ship in the corpus).
    sbom = {
        "SPDXID": "SPDXRef-DOCUMENT",
        "spdxVersion": "SPDX-2.3",
        "creationInfo": {"created": "2026-10-01T08:15:24Z", "creators": ["Tool: GitHub.com-Dependency-Graph"]},
        "name": "com.github.acme/cam-app",
        "dataLicense": "CC0-1.0",
        "documentDescribes": ["SPDXRef-com.github.acme-cam-app"],
        "documentNamespace": "https://github.com/acme/cam-app/dependency_graph/sbom-0123456789abcdef",
        "packages": [
            {"SPDXID": "SPDXRef-com.github.acme-cam-app", "name": "com.github.acme/cam-app", "versionInfo": "",
             "downloadLocation": "git+https://github.com/acme/cam-app", "filesAnalyzed": False,
             "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                               "referenceLocator": "pkg:github/acme/cam-app"}]},
            {"SPDXID": "SPDXRef-pypi-jinja2-3.1.2", "name": "pypi:jinja2", "versionInfo": "3.1.2",
             "downloadLocation": "NOASSERTION", "filesAnalyzed": False, "licenseConcluded": "BSD-3-Clause",
             "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                               "referenceLocator": "pkg:pypi/jinja2@3.1.2"}]},
        ],
        "relationships": [
            {"relationshipType": "DEPENDS_ON", "spdxElementId": "SPDXRef-com.github.acme-cam-app",
             "relatedSpdxElement": "SPDXRef-pypi-jinja2-3.1.2"},
        ],
    }  # fmt: skip
    path = tmp_path / "sbom.json"
    path.write_text(json.dumps({"sbom": sbom}))
    doc = load_sbom(path)
    assert doc.primary is not None and doc.primary.name == "com.github.acme/cam-app"
    assert [(c.name, c.purl) for c in doc.components] == [("pypi:jinja2", "pkg:pypi/jinja2@3.1.2")]
    assert doc.dependencies == {"SPDXRef-com.github.acme-cam-app": ("SPDXRef-pypi-jinja2-3.1.2",)}
    assert doc.tools == ("GitHub.com-Dependency-Graph",)
