"""SARIF 2.1.0 log for code-scanning tools.

- One run, tool driver ``cybersafe``; one rule per check id with its title, remediation as help text, a
  default level from its severity, and ``properties.requirements``: every requirement, in every scheme, the
  check feeds.
- One result per failing or errored finding. Failing findings are ``kind: fail`` with a level from the
  finding's severity (critical/high -> error, medium -> warning, low/info -> note). Errored findings are
  ``kind: review`` (SARIF requires level ``none`` for any kind other than fail): a check that errored
  needs a person, and must never read as a pass or as a product defect.
- Locations: a path inside the firmware image becomes ``artifactLocation.uri`` (relative, under
  ``uriBaseId: FIRMWARE_ROOT``) with a region (``startLine`` or ``byteOffset``); in an image with several
  roots the container chain leads the path (``squashfs_v4_le@0x40/etc/shadow``); a host:port or an SBOM
  component (purl) becomes a logical location.
- Check attempts that errored without findings are reported as tool execution notifications, so the
  consumer sees that the check did not complete.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
from typing import Any

from cybersafe.results import Assessment, CheckAttemptOut, FindingOut, LocationOut

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FIRMWARE_ROOT = "FIRMWARE_ROOT"
DOSSIER_DIR = "DOSSIER_DIR"  # declaration checks point into the dossier's documents, not into the image
_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}


def _rule(attempt: CheckAttemptOut) -> dict[str, Any]:
    remediation = attempt.remediation or next((f.remediation for f in attempt.findings if f.remediation), None)
    help_text = remediation or "No remediation recorded for this check."
    requirements = sorted(attempt.feeds)
    help_md = f"**Remediation:** {help_text}"
    if requirements:
        help_md += "\n\nRequirements this check feeds:\n" + "\n".join(f"- `{r}`" for r in requirements)
    return {
        "id": attempt.check_id,
        "name": "".join(part.capitalize() for part in attempt.check_id.replace(".", "-").split("-")),
        "shortDescription": {"text": attempt.title},
        "fullDescription": {"text": f"{attempt.title} (cybersafe check {attempt.check_id})."},
        "help": {"text": help_text, "markdown": help_md},
        "defaultConfiguration": {"level": _LEVEL[attempt.severity]},
        "properties": {
            "requirements": requirements,
            "tags": ["security", attempt.check_id.split(".", 1)[0]],
            "security-severity": _SECURITY_SEVERITY[attempt.severity],
        },
    }


def _locations(locations: list[LocationOut], base: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for loc in locations:
        entry: dict[str, Any] = {}
        if loc.path is not None:
            # a partition of a multi-root image is a directory level of its own: squashfs_v4_le@0x40/etc/shadow
            chain = "/".join(loc.container.split(" > ")) + "/" if loc.container else ""
            physical: dict[str, Any] = {
                "artifactLocation": {"uri": urllib.parse.quote(chain + loc.path.lstrip("/")), "uriBaseId": base}
            }
            region: dict[str, Any] = {}
            if loc.line is not None and loc.line >= 1:
                region["startLine"] = loc.line
            if loc.offset is not None and loc.offset >= 0:
                region["byteOffset"] = loc.offset
            if region:
                physical["region"] = region
            entry["physicalLocation"] = physical
        logical: list[dict[str, Any]] = []
        if loc.host is not None:
            name = loc.host if loc.port is None else f"{loc.host}:{loc.port}"
            fqn = f"{loc.protocol}://{name}" if loc.protocol else name
            logical.append({"name": name, "fullyQualifiedName": fqn, "kind": "resource"})
        if loc.component is not None:
            logical.append({"name": loc.component, "fullyQualifiedName": loc.component, "kind": "module"})
        if logical:
            entry["logicalLocations"] = logical
        if entry:
            out.append(entry)
    return out


def _result(attempt: CheckAttemptOut, index: int, finding: FindingOut) -> dict[str, Any]:
    failing = finding.verdict == "fail"
    message = finding.message if failing else f"check error: {finding.message}"
    result: dict[str, Any] = {
        "ruleId": attempt.check_id,
        "ruleIndex": index,
        "kind": "fail" if failing else "review",
        "level": _LEVEL[finding.severity] if failing else "none",
        "message": {"text": message},
        "properties": {"verdict": finding.verdict, "severity": finding.severity},
    }
    if attempt.parameters:
        result["properties"]["parameters"] = attempt.parameters
    base = DOSSIER_DIR if attempt.check_id.startswith("declaration.") else FIRMWARE_ROOT
    locations = _locations(finding.locations, base)
    if locations:
        result["locations"] = locations
    if finding.remediation:
        result["properties"]["remediation"] = finding.remediation
    if finding.facts:
        result["properties"]["facts"] = finding.facts
    return result


def build_sarif(assessment: Assessment, *, now: dt.datetime) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    rule_index: dict[str, int] = {}  # one rule per check id; runs with other parameters share it
    for attempt in assessment.checks:
        index = rule_index.get(attempt.check_id)
        if index is None:
            index = rule_index[attempt.check_id] = len(rules)
            rules.append(_rule(attempt))
        results.extend(_result(attempt, index, f) for f in attempt.findings if f.verdict in ("fail", "error"))
        if attempt.status == "error" and not attempt.findings:
            notifications.append(
                {
                    "level": "error",
                    "message": {"text": f"{attempt.check_id} did not complete ({attempt.reason}): {attempt.detail}"},
                    "descriptor": {"id": attempt.check_id, "index": index},
                    "associatedRule": {"id": attempt.check_id, "index": index},
                }
            )
    firmware = next((a for a in assessment.artefacts if a.kind == "firmware"), None)
    root_text = "Root of the unpacked firmware image"
    if firmware is not None:
        root_text += f" {firmware.name}" + (f" (sha256 {firmware.sha256})" if firmware.sha256 else "")
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": assessment.tool.name,
                "version": assessment.tool.version,
                "informationUri": "https://cybersafe.dev",
                "rules": rules,
            }
        },
        "originalUriBaseIds": {
            FIRMWARE_ROOT: {"description": {"text": root_text}},
            DOSSIER_DIR: {"description": {"text": "Directory of the product dossier"}},
        },
        "invocations": [
            {
                "executionSuccessful": not notifications,
                "endTimeUtc": _utc(assessment.generated_at),
                "toolExecutionNotifications": notifications,
            }
        ],
        "results": results,
        "properties": {
            "assessmentDigest": f"sha256:{assessment.digest()}",
            "reportTime": _utc(now),
            "schemes": {f"{s.scheme}@{s.version}": s.status for s in assessment.schemes},
        },
    }
    artifacts = [
        {"location": {"uri": urllib.parse.quote(a.name)}, "hashes": {"sha-256": a.sha256}, "roles": ["analysisTarget"]}
        for a in assessment.artefacts
        if a.sha256 and a.kind in ("firmware", "sbom")
    ]
    if artifacts:
        run["artifacts"] = artifacts
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SarifRenderer:
    def render(self, assessment: Assessment, *, now: dt.datetime) -> bytes:
        return (json.dumps(build_sarif(assessment, now=now), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
