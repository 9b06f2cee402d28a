"""The severity policy for "known vulnerability with a fix available", read from ``policy.yaml``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from cybersafe.errors import InputError
from cybersafe.yamlio import load_yaml, parse_yaml

SEVERITIES = ("none", "low", "medium", "high", "critical")
CONFIDENCES = ("low", "medium", "high")


@dataclass(frozen=True, slots=True)
class FixPolicy:
    fail_at_or_above: str
    unknown_severity_as: str
    report_only_confidence: str
    finding_severity: dict[str, str]
    source: str

    def effective(self, severity: str) -> str:
        return self.unknown_severity_as if severity not in SEVERITIES else severity

    def as_params(self) -> dict[str, str]:
        """The thresholds as check parameters (the defaults a catalog may override)."""
        return {
            "fail_at_or_above": self.fail_at_or_above,
            "unknown_severity_as": self.unknown_severity_as,
            "report_only_confidence": self.report_only_confidence,
        }

    def with_params(self, params: Mapping[str, Any]) -> FixPolicy:
        """This policy with the thresholds a catalog passed; a value outside its range raises ``ValueError``."""
        for key, allowed in (
            ("fail_at_or_above", SEVERITIES),
            ("unknown_severity_as", SEVERITIES),
            ("report_only_confidence", CONFIDENCES),
        ):
            if key in params and params[key] not in allowed:
                raise ValueError(f"{key} must be one of {', '.join(allowed)}, not {params[key]!r}")
        merged = {**self.as_params(), **{k: str(v) for k, v in params.items() if k in self.as_params()}}
        return replace(
            self,
            fail_at_or_above=merged["fail_at_or_above"],
            unknown_severity_as=merged["unknown_severity_as"],
            report_only_confidence=merged["report_only_confidence"],
        )

    def fails(self, severity: str, confidence: str) -> bool:
        if CONFIDENCES.index(confidence) <= CONFIDENCES.index(self.report_only_confidence):
            return False
        return SEVERITIES.index(self.effective(severity)) >= SEVERITIES.index(self.fail_at_or_above)


def load_policy(path: str | Path | None = None) -> FixPolicy:
    """The packaged policy, or the one at ``path``; a bad file raises ``InputError`` (file, line, field)."""
    if path is None:
        text = resources.files("cybersafe.evidence.vulndb").joinpath("policy.yaml").read_text(encoding="utf-8")
        doc = parse_yaml(text, "cybersafe/evidence/vulndb/policy.yaml")
    else:
        doc = load_yaml(Path(path))  # malformed YAML, alias bombs, deep nesting: one-line InputError
    source = doc.file
    data: Any = doc.data
    if not isinstance(data, dict):
        raise InputError("not a mapping", file=source, line=doc.line_of(()))
    for key, allowed in (
        ("fail_at_or_above", SEVERITIES),
        ("unknown_severity_as", SEVERITIES),
        ("report_only_confidence", CONFIDENCES),
    ):
        if data.get(key) not in allowed:
            raise InputError(f"must be one of {', '.join(allowed)}", file=source, line=doc.line_of((key,)), field=key)
    mapping = data.get("finding_severity")
    if not isinstance(mapping, dict):
        raise InputError(
            "must be a mapping", file=source, line=doc.line_of(("finding_severity",)), field="finding_severity"
        )
    return FixPolicy(
        fail_at_or_above=data["fail_at_or_above"],
        unknown_severity_as=data["unknown_severity_as"],
        report_only_confidence=data["report_only_confidence"],
        finding_severity={str(k): str(v) for k, v in mapping.items()},
        source=source,
    )
