"""The scheme catalogs, crosswalks and recognition arrangements are data: check them as data.

Only the YAML files, their JSON Schemas and the dossier model (for declaration paths) are used, so these tests hold
whatever the state of the loader and the evaluator.
"""

from __future__ import annotations

import json
import re
import typing
from collections import Counter
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from pydantic import BaseModel

from cybersafe.dossier.model import Declarations

DATA = Path(__file__).resolve().parents[2] / "src" / "cybersafe" / "schemes" / "data"
CATALOG_FILES = sorted((DATA / "catalogs").glob("*.yaml"))
CROSSWALK_FILES = sorted((DATA / "crosswalks").glob("*.yaml"))
ARRANGEMENTS = DATA / "arrangements.yaml"


class _NoDatesLoader(yaml.SafeLoader):
    """Like the project's loader: timestamps stay strings."""


_NoDatesLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _load(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_NoDatesLoader)


@cache
def _validator(kind: str) -> Draft202012Validator:
    schema = json.loads((DATA / "schemas" / f"{kind}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@cache
def _catalogs() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for path in CATALOG_FILES:
        doc = _load(path)
        out[f"{doc['scheme']['id']}@{doc['scheme']['version']}"] = doc
    return out


def _ids(key: str) -> list[str]:
    return [req["id"] for req in _catalogs()[key]["requirements"]]


def _leaves(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, list):
        for child in node:
            yield from _leaves(child)
    elif isinstance(node, dict) and "check" in node:
        yield node["check"]  # a check with parameters
    elif isinstance(node, dict):
        for children in node.values():
            yield from _leaves(children)


def _condition_facts(cond: Any) -> Iterator[str]:
    if isinstance(cond, str):
        yield cond
    elif isinstance(cond, dict):
        for value in cond.values():
            yield from (
                _condition_facts(value)
                if not isinstance(value, list)
                else (f for v in value for f in _condition_facts(v))
            )


def _all_requirements() -> Iterator[tuple[str, dict[str, Any]]]:
    for key, doc in _catalogs().items():
        for req in doc["requirements"]:
            yield key, req


def _declaration_path_exists(path: str) -> bool:
    model: type[BaseModel] | None = Declarations
    for part in path.split("."):
        if model is None or part not in model.model_fields:
            return False
        annotation = model.model_fields[part].annotation
        model = None
        stack: list[Any] = [annotation]
        while stack:  # unwrap Optional[...] / list[...] to the nested model, if any
            current = stack.pop()
            if isinstance(current, type) and issubclass(current, BaseModel):
                model = current
            stack.extend(typing.get_args(current))
    return True


# ---------------------------------------------------------------------------------------------- schema validity


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in CATALOG_FILES])
def test_catalog_validates_against_schema(path: Path) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in _validator("catalog").iter_errors(_load(path))]
    assert errors == []


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in CROSSWALK_FILES])
def test_crosswalk_validates_against_schema(path: Path) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in _validator("crosswalk").iter_errors(_load(path))]
    assert errors == []


def test_arrangements_validate_against_schema() -> None:
    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in _validator("arrangements").iter_errors(_load(ARRANGEMENTS))
    ]
    assert errors == []


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in [*CATALOG_FILES, *CROSSWALK_FILES, ARRANGEMENTS]])
def test_dates_are_quoted_strings(path: Path) -> None:
    # Given the project's loader keeps timestamps as strings
    # When the same file is read by a plain safe_load (which turns bare dates into date objects)
    # Then both readings agree: every date is written as a quoted string
    assert yaml.safe_load(path.read_text(encoding="utf-8")) == _load(path)


# ---------------------------------------------------------------------------------------------- catalogs


def test_every_catalog_file_is_named_after_its_scheme_and_version() -> None:
    # The file name is the scheme's key with separators flattened: one file per scheme version, findable by id.
    for path in CATALOG_FILES:
        scheme = _load(path)["scheme"]
        flat = f"{scheme['id']}-{scheme['version']}".replace("/", "-").replace("@", "-")
        assert path.stem == flat, f"{path.name}: expected {flat}.yaml"
    assert len(_catalogs()) == len(CATALOG_FILES), "one scheme version per file"


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in CATALOG_FILES])
def test_catalog_file_name_is_id_and_version(path: Path) -> None:
    scheme = _load(path)["scheme"]
    assert path.name == f"{scheme['id']}-{scheme['version'].replace('/', '-')}.yaml"


def test_exactly_one_current_version_per_scheme() -> None:
    current = Counter(doc["scheme"]["id"] for doc in _catalogs().values() if doc["scheme"]["current"])
    all_ids = {doc["scheme"]["id"] for doc in _catalogs().values()}
    assert {scheme: current[scheme] for scheme in all_ids} == dict.fromkeys(all_ids, 1)


@pytest.mark.parametrize("key", sorted(_catalogs()))
def test_requirement_ids_unique_per_scheme(key: str) -> None:
    duplicates = [rid for rid, n in Counter(_ids(key)).items() if n > 1]
    assert duplicates == []


@pytest.mark.parametrize("key", sorted(_catalogs()))
def test_levels_named_by_requirements_exist(key: str) -> None:
    level_ids = {level["id"] for level in _catalogs()[key]["scheme"].get("levels", [])}
    unknown = [
        (req["id"], lv)
        for req in _catalogs()[key]["requirements"]
        for lv in req.get("levels", [])
        if lv not in level_ids
    ]
    assert unknown == []


def test_unmodelled_schemes_have_no_requirements() -> None:
    for key, doc in _catalogs().items():
        if not doc["scheme"]["modelled"]:
            assert doc["requirements"] == [], key


def test_conditions_use_only_the_facts_their_scheme_declares() -> None:
    # (the loader refuses the catalog otherwise; this says which, for every file at once)
    unknown = [
        (key, req["id"], fact)
        for key, req in _all_requirements()
        if "condition" in req
        for fact in _condition_facts(req["condition"])
        if fact not in _catalogs()[key]["scheme"].get("conditions", {})
    ]
    assert unknown == []


def test_conditional_requirements_explain_their_condition() -> None:
    missing = [
        (key, req["id"]) for key, req in _all_requirements() if "condition" in req and "condition_text" not in req
    ]
    assert missing == []


def test_unconfirmed_facts_carry_a_note() -> None:
    missing = [
        (key, req["id"])
        for key, req in _all_requirements()
        if req.get("confidence", "confirmed") != "confirmed" and "confidence_note" not in req
    ]
    assert missing == []


def test_every_requirement_states_its_confidence() -> None:
    assert [(key, req["id"]) for key, req in _all_requirements() if "confidence" not in req] == []


# --- counts the sources give


def test_en_303_645_v3_1_3_has_78_provisions_and_no_void_ids() -> None:
    ids = _ids("etsi-en-303-645@3.1.3")
    assert len(ids) == 78
    assert ids[0] == "5.0-1" and ids[-1] == "6-8"
    assert not {"4-1", "5.3-4", "5.3-6", "5.3-15", "5.6-4", "5.13-1", "6-3"} & set(ids)
    assert {"5.1-2A", "5.3-4A", "5.3-4B", "5.3-6A", "5.3-6B", "5.3-15A", "5.3-15B", "5.6-4A", "5.6-4B"} <= set(ids)
    assert {"5.13-1A", "5.13-1B", "6-3A", "6-3B", "6-6", "6-7", "6-8"} <= set(ids)
    assert sum(1 for i in ids if i.startswith("6-")) == 9


def test_en_303_645_v3_1_3_status_marked_as_inferred() -> None:
    reqs = _catalogs()["etsi-en-303-645@3.1.3"]["requirements"]
    assert {req["confidence"] for req in reqs} <= {"secondary", "unconfirmed"}
    assert all("Table B.1" in req["confidence_note"] for req in reqs)


def test_en_303_645_v2_1_1_has_68_provisions() -> None:
    ids = _ids("etsi-en-303-645@2.1.1")
    assert len(ids) == 68
    assert {"4-1", "5.3-4", "5.3-6", "5.3-15", "5.6-4", "5.13-1", "6-1", "6-2", "6-3", "6-4", "6-5"} <= set(ids)
    assert not any(re.search(r"[A-Z]$", i) for i in ids)
    assert "5.0-1" not in ids


def test_en_303_645_v2_1_1_condition_numbers_map_to_facts() -> None:
    reqs = {req["id"]: req for req in _catalogs()["etsi-en-303-645@2.1.1"]["requirements"]}
    assert reqs["5.1-1"]["condition"] == "uses_passwords"
    assert reqs["5.1-5"]["condition"] == {"not": "constrained_device"}
    assert reqs["5.3-10"]["condition"] == {"all": ["network_updates", "update_mechanism"]}
    assert reqs["5.3-14"]["condition"] == {"all": [{"not": "software_updatable"}, "constrained_device"]}
    assert reqs["5.3-6"]["condition"] == {
        "all": [{"any": ["automatic_updates_supported", "update_notifications_supported"]}, "update_mechanism"]
    }
    assert reqs["5.6-4"]["condition"] == "debug_interface_physically_accessible"


def test_cra_annex_i_counts() -> None:
    ids = _ids("eu-cra@2024/2847")
    part1 = [i for i in ids if i.startswith("Annex I Part I (2)")]
    assert part1 == [f"Annex I Part I (2)({letter})" for letter in "abcdefghijklm"]
    assert "Annex I Part I (1)" in ids
    assert [i for i in ids if i.startswith("Annex I Part II")] == [f"Annex I Part II ({n})" for n in range(1, 9)]
    annex2 = [i for i in ids if i.startswith("Annex II ")]
    assert annex2 == [f"Annex II {n}" for n in range(1, 8)] + [f"Annex II 8({c})" for c in "abcdef"] + ["Annex II 9"]
    assert {"Art. 13(8)", "Art. 13(19)", "Art. 14(1)", "Art. 14(2)(a)", "Art. 14(2)(b)", "Art. 14(2)(c)"} <= set(ids)
    assert {"Art. 14(3)", "Art. 14(8)"} <= set(ids)


def test_cra_product_classes() -> None:
    classes = {c["id"]: c for c in _catalogs()["eu-cra@2024/2847"]["product_classes"]}
    assert list(classes) == ["default", "important-class-i", "important-class-ii", "critical"]
    assert [len(classes[c]["categories"]) for c in classes] == [0, 19, 4, 3]
    assert "annex-iii-class-i-17" in {cat["id"] for cat in classes["important-class-i"]["categories"]}
    module_a = {c: any(r["id"] == "module-a" for r in classes[c]["routes"]) for c in classes}
    assert module_a == {"default": True, "important-class-i": True, "important-class-ii": False, "critical": False}


def test_ir_8425_has_ten_outcomes_and_registry_items() -> None:
    reqs = _catalogs()["us-ctm@ir8425-2022"]["requirements"]
    outcomes = [r["group"] for r in reqs if not r["id"].startswith("8.222")]
    assert list(dict.fromkeys(outcomes)) == [
        "Asset Identification",
        "Product Configuration",
        "Data Protection",
        "Interface Access Control",
        "Software Update",
        "Cybersecurity State Awareness",
        "Documentation",
        "Information and Query Reception",
        "Information Dissemination",
        "Product Education and Awareness",
    ]
    assert len(outcomes) == 37
    registry = [r for r in reqs if r["id"].startswith("8.222")]
    assert [r["id"] for r in registry] == [f"8.222(b)({n})" for n in range(1, 11)]
    assert {r["applies_to"] for r in registry} == {"label-data"}
    assert not _catalogs()["us-ctm@ir8425-2022"]["scheme"].get("levels")


def test_psti_has_three_schedule_1_requirements_with_deemed_routes() -> None:
    reqs = {r["id"]: r for r in _catalogs()["uk-psti@2023-1007"]["requirements"]}
    schedule = [i for i in reqs if i.startswith("Schedule 1")]
    assert schedule == ["Schedule 1 para 1", "Schedule 1 para 2", "Schedule 1 para 3"]
    deemed = {"Schedule 1 para 1": "5.1-1", "Schedule 1 para 2": "5.2-1", "Schedule 1 para 3": "5.3-13"}
    for rid, provision in deemed.items():
        assert "any" in str(reqs[rid]["verified_by"])  # the direct route OR deemed compliance
        assert f"requirement:etsi-en-303-645@2.1.1:{provision}" in set(_leaves(reqs[rid]["verified_by"]))
    # para 3's deemed compliance stays subject to para 3(3): equal prominence where the product is offered
    assert reqs["Schedule 1 para 3"]["verified_by"]["all"][1] == "declaration.support-period-published"


def test_cls_has_four_cumulative_levels_and_level_2_is_the_mandatory_en_provisions() -> None:
    doc = _catalogs()["sg-cls@1.4"]
    levels = doc["scheme"]["levels"]
    assert [lv["id"] for lv in levels] == ["1", "2", "3", "4"]
    assert all(lv.get("cumulative", True) for lv in levels)
    assert [lv["assessment"] for lv in levels] == ["self-declaration", "self-declaration", "third-party", "third-party"]
    mandatory_en = {
        r["id"] for r in _catalogs()["etsi-en-303-645@3.1.3"]["requirements"] if r["obligation"] == "conditional"
    } | {r["id"] for r in _catalogs()["etsi-en-303-645@3.1.3"]["requirements"] if r["obligation"] == "mandatory"}
    level2 = {
        leaf.rsplit(":", 1)[1]
        for r in doc["requirements"]
        if r.get("levels") == ["2"]
        for leaf in _leaves(r["verified_by"])
    }
    assert level2 == mandatory_en


def test_en_18031_requirement_ids_per_part() -> None:
    # The requirement lists of a public technical-documentation template that follows the standards (Zealience
    # v1.3); families per part agree with Espressif's EN 18031 mapping (RLM, NMM, TCM: -1; LGM: -2, -3; DLM,
    # UNM: -2). AUM-2 is numbered AUM-2-1 in parts 2 and 3.
    common_head = [
        "AUM-3",
        "AUM-4",
        "AUM-5-1",
        "AUM-5-2",
        "AUM-6",
        "SUM-1",
        "SUM-2",
        "SUM-3",
        "SSM-1",
        "SSM-2",
        "SSM-3",
        "SCM-1",
        "SCM-2",
        "SCM-3",
        "SCM-4",
    ]
    cck_gec = ["CCK-1", "CCK-2", "CCK-3", "GEC-1", "GEC-2", "GEC-3", "GEC-4", "GEC-5", "GEC-6"]
    lgm = ["LGM-1", "LGM-2", "LGM-3", "LGM-4"]
    assert _ids("eu-red-en-18031-1@2024") == [
        "ACM-1",
        "ACM-2",
        "AUM-1-1",
        "AUM-1-2",
        "AUM-2",
        *common_head,
        "RLM-1",
        "NMM-1",
        "TCM-1",
        *cck_gec,
        "CRY-1",
    ]
    assert _ids("eu-red-en-18031-2@2024") == [
        "ACM-1",
        "ACM-2",
        "ACM-3",
        "ACM-4",
        "ACM-5",
        "ACM-6",
        "AUM-1-1",
        "AUM-1-2",
        "AUM-2-1",
        "AUM-2-2",
        *common_head,
        *lgm,
        "DLM-1",
        "UNM-1",
        "UNM-2",
        *cck_gec,
        "GEC-7",
        "CRY-1",
    ]
    assert _ids("eu-red-en-18031-3@2024") == [
        "ACM-1", "ACM-2", "AUM-1-1", "AUM-1-2", "AUM-1-3", "AUM-2-1", "AUM-2-2", *common_head, *lgm, *cck_gec,
        "GEC-8", "CRY-1"
    ]  # fmt: skip


# ---------------------------------------------------------------------------------------------- verified_by leaves


def test_requirement_leaves_resolve() -> None:
    catalogs = _catalogs()
    unresolved = []
    for key, req in _all_requirements():
        for leaf in _leaves(req.get("verified_by", [])):
            if not leaf.startswith("requirement:"):
                continue
            target_key, _, target_id = leaf.removeprefix("requirement:").partition(":")
            if target_key not in catalogs or target_id not in _ids(target_key):
                unresolved.append((key, req["id"], leaf))
    assert unresolved == []


def test_declaration_leaves_name_dossier_declarations() -> None:
    bad = [
        (key, req["id"], leaf)
        for key, req in _all_requirements()
        for leaf in [*_leaves(req.get("verified_by", [])), *_leaves(req.get("decision_tree", {}))]
        if leaf.startswith("declaration:") and not _declaration_path_exists(leaf.removeprefix("declaration:"))
    ]
    assert bad == []


# ---------------------------------------------------------------------------------------------- crosswalks


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in CROSSWALK_FILES])
def test_crosswalk_endpoints_exist(path: Path) -> None:
    doc = _load(path)
    assert path.stem == doc["id"]
    assert doc["from"] in _catalogs() and doc["to"] in _catalogs()
    sources, targets = set(_ids(doc["from"])), set(_ids(doc["to"]))
    missing = [(e["from"], e["to"]) for e in doc["edges"] if e["from"] not in sources or e["to"] not in targets]
    assert missing == []
    pairs = Counter((e["from"], e["to"]) for e in doc["edges"])
    assert [pair for pair, n in pairs.items() if n > 1] == []


def test_derived_crosswalks_are_marked_derived() -> None:
    for path in CROSSWALK_FILES:
        doc = _load(path)
        if doc["authority"] == "derived":
            assert {e["confidence"] for e in doc["edges"]} == {"derived"}, path.name


def test_version_crosswalk_matches_source_counts() -> None:
    doc = _load(DATA / "crosswalks" / "etsi-en-303-645-v2-1-1-to-v3-1-3.yaml")
    counts = Counter(e["relationship"] for e in doc["edges"])
    # 79 source rows less the 5 'no-relationship' rows for provisions new in V3.1.3 (no V2.1.1 endpoint)
    assert counts == {"equal": 42, "intersects-with": 20, "subset-of": 6, "superset-of": 6}
    assert {e["from"] for e in doc["edges"]} == set(_ids("etsi-en-303-645@2.1.1"))


# ---------------------------------------------------------------------------------------------- arrangements


def test_arrangement_parties_and_levels_exist() -> None:
    schemes: dict[str, set[str]] = {}
    for doc in _catalogs().values():
        schemes.setdefault(doc["scheme"]["id"], set()).update(lv["id"] for lv in doc["scheme"].get("levels", []))
    problems: list[tuple[str, ...]] = []
    for arrangement in _load(ARRANGEMENTS)["arrangements"]:
        for party in arrangement["parties"]:
            if party not in schemes:
                problems.append((arrangement["id"], party))
        for rec in arrangement["recognitions"]:
            for scheme, level in ((rec["holder"], rec.get("holder_level")), (rec["target"], rec.get("target_level"))):
                if scheme not in arrangement["parties"]:
                    problems.append((arrangement["id"], scheme))
                if level is not None and level not in schemes.get(scheme, set()):
                    problems.append((arrangement["id"], scheme, level))
    assert problems == []


def test_proposed_or_unconfirmed_arrangements_recognise_nothing() -> None:
    for arrangement in _load(ARRANGEMENTS)["arrangements"]:
        if arrangement["status"] == "proposed" or arrangement["confidence"] == "unconfirmed":
            assert {rec["scope"] for rec in arrangement["recognitions"]} == {"none"}, arrangement["id"]
