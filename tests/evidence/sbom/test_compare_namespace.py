"""Declared vs observed: a namespace-less generic purl from a firmware scan matches the vendor's namespaced one."""

from __future__ import annotations

from cybersafe.evidence.sbom.compare import compare_declared_observed


def test_observed_generic_without_namespace_matches_declared_namespaced_component() -> None:
    result = compare_declared_observed(
        ["pkg:generic/nordlicht/nl-camd@2.4.1", "pkg:generic/busybox@1.35.0"],
        ["pkg:generic/nl-camd@2.4.1?package_manager=opkg", "pkg:generic/busybox@1.35.0"],
    )
    assert result.undeclared == ()
    assert result.matched == 2


def test_ambiguous_or_other_version_is_still_reported() -> None:
    ambiguous = compare_declared_observed(["pkg:generic/a/tool@1", "pkg:generic/b/tool@1"], ["pkg:generic/tool@1"])
    assert ambiguous.undeclared == ("pkg:generic/tool@1",)
    mismatch = compare_declared_observed(["pkg:generic/nordlicht/nl-camd@2.4.1"], ["pkg:generic/nl-camd@2.4.0"])
    assert [m.package for m in mismatch.version_mismatches] == ["pkg:generic/nordlicht/nl-camd"]


def test_declared_upstream_version_agrees_with_the_package_revision() -> None:
    from cybersafe.evidence.sbom.compare import compare_declared_observed

    # An opkg or Debian package version is the upstream release plus a packaging revision
    result = compare_declared_observed(
        ["pkg:generic/busybox@1.35.0", "pkg:deb/debian/openssh-server@9.2p1"],
        ["pkg:generic/busybox@1.35.0-4?package_manager=opkg", "pkg:deb/debian/openssh-server@1:9.2p1-2%2Bdeb12u10"],
    )
    assert result.consistent and result.matched == 2
    # a different release still disagrees, and an npm pre-release is not a revision
    assert compare_declared_observed(
        ["pkg:generic/busybox@1.36.1"], ["pkg:generic/busybox@1.35.0-4"]
    ).version_mismatches
    assert compare_declared_observed(["pkg:npm/x@1.0.0"], ["pkg:npm/x@1.0.0-1"]).version_mismatches
