"""Ecosystem-aware versions and OSV range evaluation: edge cases and properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cybersafe.evidence.vulndb.versions import LibVersion, compile_range, parse_version, version_in_list


def affected(scheme: str, kind: str, events: list[tuple[str, str]], version: str) -> bool:
    rng = compile_range(scheme, kind, events)
    return rng.contains(parse_version("semver" if kind == "SEMVER" else scheme, version)[0])


CASES = [
    # pre-releases
    pytest.param("pypi", "ECOSYSTEM", [("introduced", "0"), ("fixed", "2.0")], "2.0rc1", True, id="pypi-rc-before-fix"),
    pytest.param("pypi", "ECOSYSTEM", [("introduced", "2.0")], "2.0rc1", False, id="pypi-rc-before-introduced"),
    pytest.param("pypi", "ECOSYSTEM", [("introduced", "0"), ("fixed", "2.0")], "2.0.post1", False, id="pypi-post"),
    pytest.param(
        "npm", "SEMVER", [("introduced", "0"), ("fixed", "2.0.0")], "2.0.0-rc.1", True, id="semver-prerelease"
    ),
    pytest.param(
        "npm", "SEMVER", [("introduced", "1.0.0"), ("fixed", "2.0.0")], "2.0.0", False, id="semver-fixed-exact"
    ),
    pytest.param("npm", "SEMVER", [("introduced", "0"), ("fixed", "1.10.0")], "1.9.0", True, id="semver-numeric"),
    # Debian epochs and tildes
    pytest.param("deb", "ECOSYSTEM", [("introduced", "0"), ("fixed", "1:1.0-1")], "2.0-1", True, id="deb-epoch-wins"),
    pytest.param(
        "deb", "ECOSYSTEM", [("introduced", "0"), ("fixed", "1.2-1")], "1.2~rc1-1", True, id="deb-tilde-sorts-before"
    ),
    pytest.param(
        "deb",
        "ECOSYSTEM",
        [("introduced", "0"), ("fixed", "2.36-9+deb12u3")],
        "2.36-9+deb12u4",
        False,
        id="deb-security-update",
    ),
    pytest.param(
        "deb", "ECOSYSTEM", [("introduced", "0"), ("fixed", "2.36-9+deb12u3")], "2.36-9", True, id="deb-before-update"
    ),
    # Alpine
    pytest.param(
        "apk", "ECOSYSTEM", [("introduced", "0"), ("fixed", "1.2.13-r1")], "1.2.13-r0", True, id="apk-release"
    ),
    pytest.param("apk", "ECOSYSTEM", [("introduced", "0"), ("fixed", "1.36.1-r2")], "1.36.1-r10", False, id="apk-r10"),
    # last_affected vs fixed
    pytest.param(
        "pypi", "ECOSYSTEM", [("introduced", "1.0"), ("last_affected", "1.5")], "1.5", True, id="last-affected-incl"
    ),
    pytest.param("pypi", "ECOSYSTEM", [("introduced", "1.0"), ("fixed", "1.5")], "1.5", False, id="fixed-excl"),
    pytest.param(
        "pypi", "ECOSYSTEM", [("introduced", "1.0"), ("last_affected", "1.5")], "1.5.1", False, id="after-last"
    ),
    # unbounded ranges
    pytest.param("pypi", "ECOSYSTEM", [("introduced", "0")], "999.0", True, id="unbounded-from-zero"),
    pytest.param("pypi", "ECOSYSTEM", [("introduced", "3.0")], "2.9", False, id="unbounded-below"),
    # several introduced/fixed pairs in one range
    pytest.param(
        "npm",
        "SEMVER",
        [("introduced", "1.0.0"), ("fixed", "1.2.0"), ("introduced", "2.0.0"), ("fixed", "2.1.0")],
        "1.5.0",
        False,
        id="between-pairs",
    ),
    pytest.param(
        "npm",
        "SEMVER",
        [("introduced", "2.0.0"), ("fixed", "2.1.0"), ("introduced", "1.0.0"), ("fixed", "1.2.0")],
        "2.0.5",
        True,
        id="pairs-out-of-order",
    ),
    # limit
    pytest.param("generic", "ECOSYSTEM", [("introduced", "0"), ("limit", "2.0")], "2.1", False, id="limit-excludes"),
    pytest.param("generic", "ECOSYSTEM", [("introduced", "0"), ("limit", "2.0")], "1.9", True, id="limit-includes"),
    pytest.param("generic", "ECOSYSTEM", [("introduced", "0"), ("limit", "*")], "9.9", True, id="limit-star"),
    # generic ordering (libversion), where univers' GenericVersion compares strings
    pytest.param(
        "generic", "ECOSYSTEM", [("introduced", "0"), ("fixed", "1.4")], "1.36.1", False, id="generic-numeric"
    ),
    pytest.param(
        "generic", "ECOSYSTEM", [("introduced", "0"), ("fixed", "1.1.1u")], "1.1.1t", True, id="openssl-letter"
    ),
    pytest.param(
        "generic", "ECOSYSTEM", [("introduced", "0"), ("fixed", "4.2.8p18")], "4.2.8p17", True, id="ntp-patch"
    ),
    pytest.param("generic", "ECOSYSTEM", [("introduced", "0"), ("fixed", "4.2.8p18")], "4.2.8", True, id="ntp-base"),
    pytest.param("golang", "SEMVER", [("introduced", "0"), ("fixed", "1.2.3")], "v1.2.2", True, id="go-v-prefix"),
]


@pytest.mark.parametrize(("scheme", "kind", "events", "version", "expected"), CASES)
def test_osv_range_edge_cases(scheme, kind, events, version, expected):
    assert affected(scheme, kind, events, version) is expected


def test_libversion_ordering():
    order = ["1.0alpha1", "1.0beta2", "1.0rc1", "1.0", "1.0p1", "1.0.1", "1.1", "1.10", "2.0"]
    parsed = [LibVersion(v) for v in order]
    assert parsed == sorted(parsed)
    assert LibVersion("1.0") == LibVersion("1.0.0")
    assert hash(LibVersion("1.0")) == hash(LibVersion("1.0.0"))


def test_explicit_version_list_compares_exact_text():
    # OSV "versions" are the ecosystem's exact strings (osv.dev compares them as text)
    assert version_in_list("golang", "v1.2.3", ["1.2.3"])
    assert version_in_list("generic", "1.36.1", ["1.36.0", "1.36.1"])
    assert not version_in_list("pypi", "1.0.1", ["1.0"])


def test_invalid_version_falls_back_and_says_so():
    version, exact = parse_version("deb", "not a version!!")
    assert isinstance(version, LibVersion) and not exact


semver = st.tuples(st.integers(0, 30), st.integers(0, 30), st.integers(0, 30)).map(lambda t: "{}.{}.{}".format(*t))


@settings(max_examples=200, deadline=None)
@given(semver, semver, semver)
def test_property_introduced_fixed_is_half_open_interval(a, b, v):
    # For introduced=lo and fixed=hi (lo < hi): affected exactly when lo <= v < hi.
    lo, hi = sorted((a, b), key=lambda s: tuple(map(int, s.split("."))))
    key = lambda s: tuple(map(int, s.split(".")))  # noqa: E731
    if key(lo) == key(hi):
        return
    got = affected("npm", "SEMVER", [("introduced", lo), ("fixed", hi)], v)
    assert got is (key(lo) <= key(v) < key(hi))


@settings(max_examples=200, deadline=None)
@given(semver, semver, semver)
def test_property_last_affected_is_closed_interval(a, b, v):
    key = lambda s: tuple(map(int, s.split(".")))  # noqa: E731
    lo, hi = sorted((a, b), key=key)
    got = affected("npm", "SEMVER", [("introduced", lo), ("last_affected", hi)], v)
    assert got is (key(lo) <= key(v) <= key(hi))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["introduced", "fixed"]), semver), min_size=1, max_size=6), semver)
def test_property_event_order_does_not_matter(events, v):
    forward = affected("npm", "SEMVER", events, v)
    backward = affected("npm", "SEMVER", list(reversed(events)), v)
    # events at the same version are ambiguous in OSV; compare only when all versions differ
    if len({e[1] for e in events}) == len(events):
        assert forward is backward


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(st.integers(0, 99).map(str), st.sampled_from(["rc", "beta", "p", "a", "patch"])),
        min_size=1,
        max_size=5,
    ).map(".".join),
    st.lists(st.integers(0, 99).map(str), min_size=1, max_size=5).map(".".join),
)
def test_property_libversion_is_a_total_order(a, b):
    x, y = LibVersion(a), LibVersion(b)
    assert (x < y) + (y < x) + (x == y) == 1


deb_part = st.text(alphabet="0123456789.+~abz", min_size=1, max_size=8).filter(lambda s: s[0].isdigit())
deb_version = st.builds(
    lambda epoch, upstream, revision: f"{epoch}{upstream}{revision}",
    st.sampled_from(["", "1:", "2:"]),
    deb_part,
    st.one_of(st.just(""), st.text(alphabet="0123456789.+~abu", min_size=1, max_size=6).map(lambda r: "-" + r)),
)


@settings(max_examples=300, deadline=None)
@given(deb_version, deb_version)
def test_property_debian_key_orders_like_univers(a, b):
    # Our native dpkg key must order exactly as univers' DebianVersion (which it replaces for speed).
    from univers.versions import DebianVersion

    try:
        ua, ub = DebianVersion(a), DebianVersion(b)
    except Exception:  # not a valid Debian version: nothing to compare
        return
    ka, kb = parse_version("deb", a)[0], parse_version("deb", b)[0]
    assert (ua < ub) is (ka < kb)
    assert (ub < ua) is (kb < ka)


@settings(max_examples=300, deadline=None)
@given(semver, semver, semver, st.sampled_from(["fixed", "last_affected"]), st.booleans())
def test_property_fast_path_agrees_with_compiled_range(a, b, v, closing, from_zero):
    # The matcher's shortcut for [introduced, fixed|last_affected] must agree with the sorted evaluation.
    from cybersafe.evidence.vulndb.match import _two_events

    events = [("introduced", "0" if from_zero else a), (closing, b)]
    version = parse_version("npm", v)[0]
    fast = _two_events("npm", events, version)
    full = compile_range("npm", "ECOSYSTEM", events).contains(version)
    if fast is not None:  # None: unusual order, the compiled path decides
        assert fast[0] is full
