"""Hostile input: SBOM, VEX and OSV parsers either read a document or raise their one-line error; never crash."""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cybersafe.errors import SbomError
from cybersafe.evidence.sbom import load_sbom
from cybersafe.evidence.vulndb.osv import OsvRecordError, parse_osv
from cybersafe.evidence.vulndb.vex import load_vex

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12))
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
component = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["library", "firmware", 3, None]),
        "name": st.one_of(st.text(max_size=8), st.integers()),
        "version": values,
        "purl": st.sampled_from(["pkg:pypi/x@1", "pkg:bad", "pkg:generic/a%ZZ", 5]),
        "bom-ref": values,
        "hashes": values,
        "components": st.lists(st.dictionaries(st.sampled_from(["name", "type"]), st.text(max_size=4)), max_size=2),
    },
)
cdx = st.fixed_dictionaries(
    {"bomFormat": st.just("CycloneDX"), "specVersion": st.sampled_from(["1.4", "1.5", "1.6", "2.0"])},
    optional={
        "components": st.one_of(st.lists(component, max_size=3), values),
        "metadata": values,
        "dependencies": values,
    },
)
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _write(doc: object) -> Path:
    path = Path(tempfile.mkdtemp()) / "doc.json"
    path.write_text(json.dumps(doc))
    return path


@SETTINGS
@given(cdx)
def test_cyclonedx_json_never_crashes(doc):
    try:
        load_sbom(_write(doc))
    except SbomError as exc:
        assert "\n" not in str(exc)


@SETTINGS
@given(
    st.fixed_dictionaries(
        {"spdxVersion": st.just("SPDX-2.3")}, optional={"packages": values, "SPDXID": values, "relationships": values}
    )
)
def test_spdx_json_never_crashes(doc):
    try:
        load_sbom(_write(doc))
    except SbomError as exc:
        assert "\n" not in str(exc)


@SETTINGS
@given(st.one_of(
    st.fixed_dictionaries({"@context": st.just("https://openvex.dev/ns/v0.2.0")}, optional={"statements": values}),
    st.fixed_dictionaries({"bomFormat": st.just("CycloneDX")}, optional={"vulnerabilities": values, "components": values}),
    st.fixed_dictionaries({"document": st.just({"csaf_version": "2.0"})}, optional={"vulnerabilities": values, "product_tree": values}),
))  # fmt: skip
def test_vex_never_crashes(doc):
    try:
        load_vex(_write(doc))
    except SbomError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({"id": values, "modified": values}, optional={"affected": values, "aliases": values,
                                                                          "severity": values, "database_specific": values}))  # fmt: skip
def test_osv_record_never_crashes(record):
    with contextlib.suppress(OsvRecordError):  # the only exception allowed
        parse_osv(record)
