"""Benchmark: OSV import and SBOM matching at scale, against a naive per-component scan (same run).

Generates 300,000 OSV records across eight ecosystems as per-ecosystem all.zip dumps (the real download
format) and a CycloneDX 1.6 SBOM of 10,000 components drawn from the same packages; then, each phase in a
fresh child process so its peak RSS is its own:

- import: ``VulnDb.import_path`` of every all.zip into an empty SQLite file;
- match: ``load_sbom`` + ``match_components`` (the time the targets speak of is matching);
- naive: the baseline, a per-component scan of every record (json in memory, same range evaluation);
  run on a sample of components and extrapolated to all of them, because the full scan would take hours.

Usage: ``python bench/vulns.py [--records 300000] [--components 10000] [--naive-sample 20] [--out FILE]``.
Targets (issue 4): match <= 2 s, import <= 60 s, peak RSS <= 1 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ECOSYSTEMS = [
    # (OSV ecosystem, purl type, purl namespace, name pattern, range type)
    ("PyPI", "pypi", "", "py-pkg-{}", "ECOSYSTEM"),
    ("npm", "npm", "", "js-pkg-{}", "SEMVER"),
    ("Debian:12", "deb", "debian", "libdeb{}", "ECOSYSTEM"),
    ("Alpine:v3.18", "apk", "alpine", "apk{}", "ECOSYSTEM"),
    ("Go", "golang", "github.com/org{}", "mod", "SEMVER"),
    ("Maven", "maven", "org.example{}", "artifact", "ECOSYSTEM"),
    ("crates.io", "cargo", "", "crate-{}", "SEMVER"),
    ("OSS-Fuzz", "generic", "", "native{}", "ECOSYSTEM"),
]
PACKAGES_PER_ECOSYSTEM = 6000


def _version(rnd: random.Random, eco: str) -> str:
    base = f"{rnd.randint(0, 12)}.{rnd.randint(0, 20)}.{rnd.randint(0, 20)}"
    if eco.startswith("Debian"):
        return f"{base}-{rnd.randint(1, 4)}"
    if eco.startswith("Alpine"):
        return f"{base}-r{rnd.randint(0, 5)}"
    return base


def _key(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.replace("-r", ".").replace("-", ".").split("."))


def _osv_name(eco: str, ns: str, pattern: str, i: int) -> tuple[str, str | None]:
    if eco == "Go":
        return f"{ns.format(i)}/mod", None
    if eco == "Maven":
        return f"{ns.format(i)}:artifact", None
    if eco == "OSS-Fuzz":
        return pattern.format(i), f"pkg:generic/{pattern.format(i)}"
    return pattern.format(i), None


def generate(root: Path, records: int, components: int, seed: int = 4) -> dict[str, float]:
    rnd = random.Random(seed)
    started = time.perf_counter()
    per = records // len(ECOSYSTEMS)
    for e, (eco, _ptype, ns, pattern, kind) in enumerate(ECOSYSTEMS):
        with zipfile.ZipFile(root / f"{eco.split(':')[0]}-all.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
            for n in range(per if e < len(ECOSYSTEMS) - 1 else records - per * (len(ECOSYSTEMS) - 1)):
                ident = f"GHSA-{e}{n:07d}"
                name, purl = _osv_name(eco, ns, pattern, rnd.randrange(PACKAGES_PER_ECOSYSTEM))
                lo, hi = sorted((_version(rnd, eco), _version(rnd, eco)), key=_key)
                events = [{"introduced": "0" if rnd.random() < 0.3 else lo}]
                events.append({"fixed": hi} if rnd.random() < 0.8 else {"last_affected": hi})
                package = {"ecosystem": eco, "name": name, **({"purl": purl} if purl else {})}
                affected: dict[str, object] = {"package": package, "ranges": [{"type": kind, "events": events}]}
                if rnd.random() < 0.2:
                    affected["versions"] = [_version(rnd, eco) for _ in range(5)]
                record = {
                    "schema_version": "1.7.5",
                    "id": ident,
                    "modified": "2026-01-01T00:00:00Z",
                    "published": "2025-06-01T00:00:00Z",
                    "aliases": [f"CVE-2025-{e}{n:06d}"],
                    "summary": f"Generated advisory {n} for {name}",
                    "details": "Lorem ipsum " * 20,
                    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
                    "affected": [affected],
                    "references": [{"type": "ADVISORY", "url": f"https://example.com/{ident}"}],
                }
                z.writestr(f"{ident}.json", json.dumps(record))
    comps = []
    for i in range(components):
        eco, ptype, ns, pattern, _kind = ECOSYSTEMS[i % len(ECOSYSTEMS)]
        n = rnd.randrange(PACKAGES_PER_ECOSYSTEM)
        version = _version(rnd, eco)
        if eco == "Go":
            purl = f"pkg:golang/{ns.format(n)}/mod@v{version}"
        elif eco == "Maven":
            purl = f"pkg:maven/{ns.format(n)}/artifact@{version}"
        else:
            name = pattern.format(n)
            purl = f"pkg:{ptype}/{ns + '/' if ns else ''}{name}@{version}"
        comps.append({"type": "library", "bom-ref": f"c{i}", "name": f"c{i}", "version": version, "purl": purl})
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {
            "timestamp": "2026-01-01T00:00:00Z",
            "component": {"type": "firmware", "name": "fw", "bom-ref": "root"},
        },
        "components": comps,
        "dependencies": [{"ref": "root", "dependsOn": [c["bom-ref"] for c in comps]}],
    }
    (root / "sbom.json").write_text(json.dumps(bom))
    return {"generate_s": time.perf_counter() - started}


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_import(root: Path) -> dict[str, float]:
    from cybersafe.evidence.vulndb import VulnDb

    started, cpu = time.perf_counter(), time.process_time()
    with VulnDb(root / "db.sqlite") as db:
        added = sum(r.added for z in sorted(root.glob("*-all.zip")) for r in db.import_path(z))
    took, took_cpu = time.perf_counter() - started, time.process_time() - cpu
    started = time.perf_counter()
    with VulnDb(root / "db.sqlite") as db:
        unchanged = sum(r.unchanged for z in sorted(root.glob("*-all.zip")) for r in db.import_path(z))
    return {
        "import_s": took,
        "import_cpu_s": took_cpu,
        "records": added,
        "reimport_s": time.perf_counter() - started,
        "reimport_unchanged": unchanged,
        "import_peak_mib": _peak_mib(),
    }


def phase_match(root: Path) -> dict[str, float]:
    from cybersafe.evidence.sbom import load_sbom
    from cybersafe.evidence.vulndb import VulnDb, match_components

    started = time.perf_counter()
    doc = load_sbom(root / "sbom.json")
    parsed = time.perf_counter() - started
    with VulnDb(root / "db.sqlite", create=False) as db:
        started, cpu = time.perf_counter(), time.process_time()
        report = match_components(db, doc.components, source="bench")
        took, took_cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "sbom_parse_s": parsed,
        "match_s": took,
        "match_cpu_s": took_cpu,
        "matches": len(report.matches),
        "components": len(doc.components),
        "match_peak_mib": _peak_mib(),
    }


def phase_naive(root: Path, sample: int) -> dict[str, float]:
    """Baseline: keep every record in memory and scan all of them for each component."""
    from packageurl import PackageURL

    from cybersafe.evidence.sbom import load_sbom
    from cybersafe.evidence.vulndb.osv import ecosystem_key, purl_key
    from cybersafe.evidence.vulndb.versions import compile_range, parse_version, scheme_for

    started = time.perf_counter()
    records = []
    for z in sorted(root.glob("*-all.zip")):
        with zipfile.ZipFile(z) as archive:
            records.extend(json.loads(archive.read(i)) for i in archive.infolist())
    load_s = time.perf_counter() - started
    comps = load_sbom(root / "sbom.json").components[:sample]
    started = time.perf_counter()
    hits = 0
    for comp in comps:
        purl = PackageURL.from_string(str(comp.purl))
        key, scheme = purl_key(purl), scheme_for(purl.type)
        for record in records:
            for aff in record["affected"]:
                pkg = aff["package"]
                rkey = (
                    purl_key(PackageURL.from_string(pkg["purl"]))
                    if "purl" in pkg
                    else ecosystem_key(pkg["ecosystem"], pkg["name"])
                )
                if rkey != key:
                    continue
                version = parse_version(scheme, str(comp.version))[0]
                for r in aff.get("ranges", []):
                    if compile_range(scheme, r["type"], [(k, v) for e in r["events"] for k, v in e.items()]).contains(
                        parse_version("semver", str(comp.version))[0] if r["type"] == "SEMVER" else version
                    ):
                        hits += 1
    per_component = (time.perf_counter() - started) / len(comps)
    return {
        "naive_load_s": load_s,
        "naive_per_component_s": per_component,
        "naive_sample": len(comps),
        "naive_peak_mib": _peak_mib(),
    }


def _child(phase: str, root: Path, extra: list[str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--phase", phase, "--root", str(root), *extra],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=300_000)
    parser.add_argument("--components", type=int, default=10_000)
    parser.add_argument("--naive-sample", type=int, default=20)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--phase", default=None)
    parser.add_argument("--root", type=Path, default=None)
    args = parser.parse_args()
    if args.phase:
        result = {
            "import": lambda: phase_import(args.root),
            "match": lambda: phase_match(args.root),
            "naive": lambda: phase_naive(args.root, args.naive_sample),
        }[args.phase]()
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory(prefix="cybersafe-bench-") as tmp:
        root = Path(tmp)
        figures = generate(root, args.records, args.components)
        figures["zip_mib"] = sum(p.stat().st_size for p in root.glob("*.zip")) / 2**20
        figures.update(_child("import", root, []))
        figures["db_mib"] = (root / "db.sqlite").stat().st_size / 2**20
        figures.update(_child("match", root, []))
        figures.update(_child("naive", root, ["--naive-sample", str(args.naive_sample)]))
    load = os.getloadavg()
    naive_total = figures["naive_per_component_s"] * figures["components"] + figures["naive_load_s"]
    speedup = naive_total / figures["match_s"]
    lines = [
        f"records: {figures['records']:,} OSV records in 8 per-ecosystem all.zip dumps ({figures['zip_mib']:.0f} MiB)",
        f"sbom: {figures['components']:,} components, CycloneDX 1.6 JSON; parse {figures['sbom_parse_s']:.2f} s",
        f"machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end "
        "(wall times are inflated by other work on the machine; CPU times are this process's own)",
        f"import: {figures['import_s']:.1f} s wall, {figures['import_cpu_s']:.1f} s CPU (target <= 60 s), peak RSS {figures['import_peak_mib']:.0f} MiB, "
        f"database {figures['db_mib']:.0f} MiB",
        f"re-import (idempotent, {figures['reimport_unchanged']:,} unchanged): {figures['reimport_s']:.1f} s",
        f"match: {figures['match_s']:.2f} s wall, {figures['match_cpu_s']:.2f} s CPU for {figures['matches']:,} "
        "matches (target <= 2 s), "
        f"peak RSS {figures['match_peak_mib']:.0f} MiB (target <= 1024 MiB)",
        f"naive baseline: load {figures['naive_load_s']:.1f} s + {figures['naive_per_component_s']:.3f} s per component "
        f"(measured on {figures['naive_sample']} components) = {naive_total:,.0f} s extrapolated for "
        f"{figures['components']:,}, peak RSS {figures['naive_peak_mib']:.0f} MiB",
        f"ratio: indexed match is {speedup:,.0f}x faster than the naive scan",
    ]
    print("\n".join(lines))
    if args.out:
        args.out.write_text("\n".join(f"- {line}" for line in lines) + "\n")


if __name__ == "__main__":
    main()
