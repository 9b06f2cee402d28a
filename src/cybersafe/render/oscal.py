"""OSCAL Assessment Results (1.1.2) JSON from an assessment.

Mapping (documented in the README, "Reports and scheme paperwork"):

- one ``result`` for the assessment, ``start``/``end`` = the assessment's ``generated_at``;
- one ``observation`` per check attempt (method ``TEST``; ``EXAMINE`` for ``declaration.*`` checks and
  for declarations read from the dossier), per manual result (``TEST``), with each finding of the check
  as ``relevant-evidence`` (verdict, severity, message, locations);
- one ``finding`` per requirement of every modelled scheme, target ``objective-id`` = ``<scheme>_<id>``
  (OSCAL tokens must start with a letter), status ``satisfied`` for pass and not_applicable,
  ``not-satisfied`` for fail, inconclusive and error, with the cybersafe verdict as the status reason and
  as a property; ``related-observations`` point at the observations of its verified_by leaves;
- ``reviewed-controls``: one control selection per scheme, listing its requirements and linking to the
  back-matter resource that names the catalog (scheme, version, sha256);
- ``local-definitions`` (document level) name the catalogs in prose; the result's local definitions hold
  the product as a component and the artefacts, with their sha256, as inventory items.

UUIDs are version 5, derived from the assessment digest and the object's identity, so the same
assessment always gives the same document; ``metadata.last-modified`` is the injected ``now``.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import regex

from cybersafe.render._view import location_text
from cybersafe.results import Assessment, CheckAttemptOut, RequirementResultOut, SchemeResultOut

OSCAL_VERSION = "1.1.2"
NS = "https://cybersafe.dev/ns/oscal"
_ROOT = uuid.uuid5(uuid.NAMESPACE_URL, "https://cybersafe.dev/oscal/assessment-results")
_SATISFIED = {"pass", "not_applicable"}


def token(text: str) -> str:
    """An OSCAL token (``^(\\p{L}|_)(\\p{L}|\\p{N}|[.\\-_])*$``) that stays readable: "5.1-1" -> "_5.1-1"."""
    cleaned = str(regex.sub(r"[^\p{L}\p{N}._\-]", "_", text))
    return cleaned if regex.match(r"^(\p{L}|_)", cleaned) else "_" + cleaned


def control_id(scheme: SchemeResultOut, req: RequirementResultOut) -> str:
    return token(f"{scheme.scheme}_{req.id}")


class _Ids:
    def __init__(self, assessment: Assessment) -> None:
        self._seed = uuid.uuid5(_ROOT, assessment.digest())

    def __call__(self, *parts: str) -> str:
        return str(uuid.uuid5(self._seed, "|".join(parts)))


def _prop(name: str, value: str, **extra: str) -> dict[str, str]:
    return {"name": name, "ns": NS, "value": value, **extra}


def _method(ref: str, kind: str) -> str:
    if kind == "declaration" or ref.startswith("declaration."):
        return "EXAMINE"
    return "TEST"


def _check_observation(ids: _Ids, attempt: CheckAttemptOut, product_uuid: str, collected: str) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for f in attempt.findings:
        counts[f.verdict] = counts.get(f.verdict, 0) + 1
    summary = ", ".join(f"{n} {v}" for v, n in sorted(counts.items())) or "no findings"
    description = f"Check {attempt.check_id} ({attempt.title}): attempt {attempt.status}, verdict {attempt.verdict}; "
    description += f"findings: {summary}."
    if attempt.detail:
        description += f" {attempt.detail}"
    obs: dict[str, Any] = {
        "uuid": ids("observation", "check", attempt.key),
        "title": f"{attempt.key}: {attempt.title}",
        "description": description,
        "props": [
            _prop("check-id", token(attempt.check_id)),
            _prop("verdict", attempt.verdict),
            _prop("attempt-status", attempt.status),
            _prop("severity", attempt.severity),
        ],
        "methods": [_method(attempt.check_id, "check")],
        "subjects": [{"subject-uuid": product_uuid, "type": "component"}],
        "collected": collected,
    }
    evidence = []
    for f in attempt.findings:
        where = "; ".join(location_text(loc) for loc in f.locations)
        text = f"{f.verdict} ({f.severity}): {f.message}" + (f" [at {where}]" if where else "")
        evidence.append({"description": text})
    if evidence:
        obs["relevant-evidence"] = evidence
    if attempt.remediation:
        obs["remarks"] = f"Remediation: {attempt.remediation}"
    return obs


def _leaf_observation(
    ids: _Ids, kind: str, ref: str, verdict: str, product_uuid: str, collected: str
) -> dict[str, Any]:
    what = (
        "Declaration in the product dossier" if kind == "declaration" else "Manual test result recorded in the dossier"
    )
    label = ref if ref.startswith(f"{kind}:") else f"{kind}:{ref}"
    return {
        "uuid": ids("observation", kind, ref),
        "title": label,
        "description": f"{what}: {label}; verdict {verdict}.",
        "props": [_prop("verdict", verdict), _prop("evidence-kind", kind)],
        "methods": [_method(ref, kind)],
        "subjects": [{"subject-uuid": product_uuid, "type": "component"}],
        "collected": collected,
    }


def _finding(
    ids: _Ids, scheme: SchemeResultOut, req: RequirementResultOut, observation_of: dict[tuple[str, str], str]
) -> dict[str, Any]:
    key = f"{scheme.scheme}@{scheme.version}"
    description = req.reason.rstrip(".") + "."
    if req.missing:
        description += " Missing: " + "; ".join(req.missing) + "."
    props = [
        _prop("scheme", token(key)),
        _prop("verdict", req.verdict),
        _prop("obligation", req.obligation),
        _prop("required", "true" if req.required else "false"),
    ]
    if req.levels:
        props.append(_prop("levels", ",".join(req.levels)))
    finding: dict[str, Any] = {
        "uuid": ids("finding", key, req.id),
        "title": f"{scheme.short_title} {req.id}: {req.title}",
        "description": description,
        "props": props,
        "target": {
            "type": "objective-id",
            "target-id": control_id(scheme, req),
            "title": req.title,
            "status": {
                "state": "satisfied" if req.verdict in _SATISFIED else "not-satisfied",
                "reason": token(req.verdict),
            },
        },
    }
    related = []
    for leaf in req.evidence:
        obs = observation_of.get((leaf.kind, leaf.ref))
        if obs is not None and obs not in related:
            related.append(obs)
    if related:
        finding["related-observations"] = [{"observation-uuid": u} for u in related]
    if req.source:
        finding["remarks"] = f"Source: {req.source}"
    return finding


def build_oscal(assessment: Assessment, *, now: dt.datetime) -> dict[str, Any]:
    ids = _Ids(assessment)
    product = assessment.dossier.get("product", {})
    product_name = f"{product.get('name', 'product')} {product.get('model', '')}".strip()
    manufacturer = product.get("manufacturer", {}).get("name")
    plan_uuid = ids("resource", "assessment-plan")
    resources, catalog_resources = _resources(ids, assessment, plan_uuid)
    result = _result(ids, assessment, product_name, manufacturer, catalog_resources)
    catalogs_text = ", ".join(f"{c.scheme} {c.version} (sha256 {c.sha256})" for c in assessment.catalogs)
    return {
        "assessment-results": {
            "uuid": ids("assessment-results"),
            "metadata": _metadata(ids, assessment, product_name, manufacturer, now),
            "import-ap": {
                "href": f"#{plan_uuid}",
                "remarks": "The assessment plan is the cybersafe dossier with the catalogs in back-matter.",
            },
            "local-definitions": {
                "remarks": "Control and objective ids are <scheme>_<requirement id> from the cybersafe scheme "
                f"catalogs: {catalogs_text or 'none'}.",
            },
            "results": [result],
            "back-matter": {"resources": resources},
        }
    }


def _resources(ids: _Ids, assessment: Assessment, plan_uuid: str) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The back-matter: the assessment plan stand-in and one resource per scheme catalog, with its digest."""
    catalog_resources: dict[str, str] = {}
    resources: list[dict[str, Any]] = [
        {
            "uuid": plan_uuid,
            "title": "Assessment plan: the product dossier and the scheme catalogs",
            "description": "cybersafe assesses from a product dossier against scheme catalogs; there is no "
            "separate OSCAL assessment plan document.",
        }
    ]
    for cat in assessment.catalogs:
        key = f"{cat.scheme}@{cat.version}"
        res_uuid = ids("resource", "catalog", key)
        catalog_resources[key] = res_uuid
        resources.append(
            {
                "uuid": res_uuid,
                "title": f"cybersafe scheme catalog {key}",
                "props": [_prop("scheme", token(cat.scheme)), _prop("scheme-version", cat.version)],
                "rlinks": [
                    {
                        "href": f"https://cybersafe.dev/catalogs/{cat.scheme}/{cat.version}",
                        "hashes": [{"algorithm": "SHA-256", "value": cat.sha256}],
                    }
                ],
            }
        )
    return resources, catalog_resources


def _observations(
    ids: _Ids, assessment: Assessment, product_uuid: str
) -> tuple[list[dict[str, Any]], dict[tuple[str, str], str]]:
    """One observation per check attempt and per declaration or manual result read, and how to find each."""
    collected = assessment.generated_at.isoformat()
    observations: list[dict[str, Any]] = []
    observation_of: dict[tuple[str, str], str] = {}
    for attempt in assessment.checks:
        obs = _check_observation(ids, attempt, product_uuid, collected)
        observations.append(obs)
        observation_of[("check", attempt.key)] = obs["uuid"]
    for scheme in assessment.schemes:
        for req in scheme.requirements:
            for leaf in req.evidence:
                if leaf.kind in ("declaration", "manual") and (leaf.kind, leaf.ref) not in observation_of:
                    obs = _leaf_observation(ids, leaf.kind, leaf.ref, leaf.verdict, product_uuid, collected)
                    observations.append(obs)
                    observation_of[(leaf.kind, leaf.ref)] = obs["uuid"]
    return observations, observation_of


def _selections_and_findings(
    ids: _Ids,
    assessment: Assessment,
    catalog_resources: dict[str, str],
    observation_of: dict[tuple[str, str], str],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    findings: list[dict[str, Any]] = []
    selections: list[dict[str, Any]] = []
    for scheme in assessment.schemes:
        key = f"{scheme.scheme}@{scheme.version}"
        if not scheme.requirements:
            continue
        selection: dict[str, Any] = {
            "description": f"{scheme.title} ({key}): status {scheme.status}",
            "props": [_prop("scheme", token(key)), _prop("scheme-status", scheme.status)],
            "include-controls": [{"control-id": control_id(scheme, r)} for r in scheme.requirements],
        }
        if key in catalog_resources:
            selection["links"] = [{"href": f"#{catalog_resources[key]}", "rel": "reference"}]
        selections.append(selection)
        findings.extend(_finding(ids, scheme, r, observation_of) for r in scheme.requirements)
    return selections, findings


def _result(
    ids: _Ids,
    assessment: Assessment,
    product_name: str,
    manufacturer: str | None,
    catalog_resources: dict[str, str],
) -> dict[str, Any]:
    collected = assessment.generated_at.isoformat()
    product = assessment.dossier.get("product", {})
    product_uuid = ids("component", "product")
    observations, observation_of = _observations(ids, assessment, product_uuid)
    selections, findings = _selections_and_findings(ids, assessment, catalog_resources, observation_of)
    result: dict[str, Any] = {
        "uuid": ids("result"),
        "title": f"cybersafe assessment of {product_name}",
        "description": "Automated checks, declarations and manual results evaluated against every scheme.",
        "start": collected,
        "end": collected,
        "props": [
            _prop("scheme-status", s.status, **{"class": token(f"{s.scheme}@{s.version}")}) for s in assessment.schemes
        ],
        "local-definitions": {
            "components": [
                {
                    "uuid": product_uuid,
                    "type": "this-system",
                    "title": product_name,
                    "description": f"{product_name}" + (f" by {manufacturer}" if manufacturer else ""),
                    "props": [
                        _prop("firmware-version", str(product.get("firmware_version", "not declared"))),
                    ],
                    "status": {"state": "operational"},
                }
            ],
        },
        "reviewed-controls": {
            "description": "Requirements of every modelled scheme, as cybersafe catalogs identify them.",
            "control-selections": selections or [{"description": "no modelled scheme", "include-all": {}}],
        },
    }
    inventory = _inventory(ids, assessment, product_uuid)
    if inventory:
        result["local-definitions"]["inventory-items"] = inventory
    if observations:
        result["observations"] = observations
    if findings:
        result["findings"] = findings
    return result


def _inventory(ids: _Ids, assessment: Assessment, product_uuid: str) -> list[dict[str, Any]]:
    return [
        {
            "uuid": ids("inventory", a.kind, a.name),
            "description": f"{a.kind}: {a.name}",
            "props": [_prop("artefact-kind", token(a.kind))]
            + ([_prop("sha256", a.sha256)] if a.sha256 else [])
            + ([_prop("size", str(a.size))] if a.size is not None else []),
            "implemented-components": [{"component-uuid": product_uuid}],
        }
        for a in assessment.artefacts
    ]


def _metadata(
    ids: _Ids, assessment: Assessment, product_name: str, manufacturer: str | None, now: dt.datetime
) -> dict[str, Any]:
    parties = []
    if manufacturer:
        parties.append({"uuid": ids("party", "manufacturer"), "type": "organization", "name": manufacturer})
    lab = assessment.dossier.get("assessment", {}).get("lab")
    if lab:
        parties.append({"uuid": ids("party", "lab"), "type": "organization", "name": lab})
    metadata: dict[str, Any] = {
        "title": f"Assessment results: {product_name}",
        "last-modified": now.isoformat(),
        "version": f"sha256:{assessment.digest()}",
        "oscal-version": OSCAL_VERSION,
        "props": [_prop("generator", f"{assessment.tool.name} {assessment.tool.version}")],
    }
    if parties:
        metadata["parties"] = parties
    return metadata


class OscalRenderer:
    def render(self, assessment: Assessment, *, now: dt.datetime) -> bytes:
        return (json.dumps(build_oscal(assessment, now=now), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
