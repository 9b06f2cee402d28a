"""Declared versus observed: a manufacturer's SBOM against what the firmware inventory found.

Takes plain purl lists so it does not depend on the firmware model's shape. Components are compared by
package identity (type, namespace, name; case-folded, qualifiers ignored), then by version.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from packageurl import PackageURL


@dataclass(frozen=True, slots=True)
class VersionMismatch:
    package: str  # identity without version, e.g. pkg:generic/busybox
    declared: tuple[str, ...]
    observed: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"package": self.package, "declared": list(self.declared), "observed": list(self.observed)}


@dataclass(frozen=True, slots=True)
class SbomComparison:
    undeclared: tuple[str, ...]  # observed purls whose package the SBOM does not list
    not_observed: tuple[str, ...]  # declared purls the inventory did not see (informational)
    version_mismatches: tuple[VersionMismatch, ...]
    matched: int  # packages present in both with an agreeing version
    unparsable: tuple[str, ...]  # inputs that are not purls

    @property
    def consistent(self) -> bool:
        return not self.undeclared and not self.version_mismatches

    def as_dict(self) -> dict[str, Any]:
        return {
            "undeclared": list(self.undeclared),
            "not_observed": list(self.not_observed),
            "version_mismatches": [m.as_dict() for m in self.version_mismatches],
            "matched": self.matched,
            "unparsable": list(self.unparsable),
        }


def package_identity(purl: str) -> tuple[str, str | None] | None:
    """``("pkg:type/namespace/name", version)`` or None when the text is not a purl."""
    try:
        parsed = PackageURL.from_string(purl)
    except ValueError:
        return None
    name = parsed.name.lower()
    if parsed.type == "pypi":
        name = name.replace("_", "-").replace(".", "-")
    namespace = (parsed.namespace or "").lower()
    ident = f"pkg:{parsed.type}/{namespace + '/' if namespace else ''}{name}"
    return ident, parsed.version


def _index(purls: Iterable[str], bad: list[str]) -> dict[str, dict[str | None, str]]:
    out: dict[str, dict[str | None, str]] = {}
    for purl in purls:
        ident = package_identity(purl)
        if ident is None:
            bad.append(purl)
            continue
        out.setdefault(ident[0], {})[ident[1]] = purl
    return out


def _namespaced_alias(ident: str, want: dict[str, dict[str | None, str]]) -> str | None:
    """The declared identity a namespace-less generic purl stands for, when exactly one matches its name.

    A firmware scan finds ``pkg:generic/nl-camd`` (a package database or banner knows no vendor namespace);
    the manufacturer declares ``pkg:generic/nordlicht/nl-camd``. Same component, not an undeclared one.
    """
    if not ident.startswith("pkg:generic/") or ident.count("/") != 1:
        return None
    name = ident.split("/", 1)[1]
    candidates = [w for w in want if w.startswith("pkg:generic/") and w.rsplit("/", 1)[1] == name]
    return candidates[0] if len(candidates) == 1 else None


# Package types whose versions carry a packaging revision after the last '-' (and maybe an epoch before ':').
_REVISIONED = ("pkg:deb/", "pkg:rpm/", "pkg:apk/", "pkg:alpm/", "pkg:generic/")
_REVISION = re.compile(r"^r?\d[\w.+~]*$")


def _agree(ident: str, declared: set[str], observed: set[str]) -> bool:
    """Versions agree when one is the same, or when the declared one is the upstream release of an observed
    package version (``1.35.0`` for the opkg package ``1.35.0-4``, ``9.2p1`` for the Debian ``1:9.2p1-2``)."""
    if declared & observed:
        return True
    if not ident.startswith(_REVISIONED):
        return False  # npm/PyPI/Go: what follows '-' is a pre-release, a different version
    for version in observed:
        upstream, _, revision = version.split(":", 1)[-1].rpartition("-")
        if upstream and _REVISION.match(revision) and upstream in declared:
            return True
    return False


def compare_declared_observed(declared: Iterable[str], observed: Iterable[str]) -> SbomComparison:
    bad: list[str] = []
    want = _index(declared, bad)
    seen = _index(observed, bad)
    for ident in list(seen):
        alias = _namespaced_alias(ident, want) if ident not in want else None
        if alias is not None:
            seen.setdefault(alias, {}).update(seen.pop(ident))
    undeclared: list[str] = []
    mismatches: list[VersionMismatch] = []
    matched = 0
    for ident in sorted(seen):
        versions = seen[ident]
        if ident not in want:
            undeclared.extend(sorted(versions.values()))
            continue
        observed_versions = {v for v in versions if v}
        declared_versions = {v for v in want[ident] if v}
        if observed_versions and declared_versions and not _agree(ident, declared_versions, observed_versions):
            mismatches.append(
                VersionMismatch(ident, tuple(sorted(declared_versions)), tuple(sorted(observed_versions)))
            )
        else:
            matched += 1
    not_observed = sorted(p for ident in want if ident not in seen for p in want[ident].values())
    return SbomComparison(tuple(undeclared), tuple(not_observed), tuple(mismatches), matched, tuple(bad))
