"""Benchmark: peak memory and time to read a large CycloneDX JSON SBOM, against the previous reader (same run).

Generates CycloneDX 1.6 JSON documents of N components (1,000,000 components is about 107 MB, the size
issue 12 names), then reads each in a fresh child process (``load_sbom``) so its peak RSS is its own:

- ours: this checkout's reader (streamed with ijson above ``parse.STREAM_FROM``);
- baseline: the reader of another checkout given with ``--baseline-src`` (for example the main branch's
  ``src``, which went through cyclonedx-python-lib), on the sizes given with ``--baseline-sizes``, since
  it needs several GiB at one million components.

Usage: ``python bench/sbom.py [--sizes 100000 1000000] [--baseline-src /work/main/src]
[--baseline-sizes 100000] [--out FILE]``. Target (issues 12 and 15): one million components read within
1 GiB of RSS, or refused with a one-line error naming the limit.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
_CHILD = """
import resource, sys, time
sys.path.insert(0, sys.argv[1])
from cybersafe.evidence.sbom.parse import load_sbom
from cybersafe.errors import SbomError
started = time.perf_counter()
try:
    doc = load_sbom(sys.argv[2])
    outcome = f"{len(doc.components)} components"
except SbomError as exc:
    outcome = f"refused: {exc}"
elapsed = time.perf_counter() - started
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{elapsed:.2f}\\t{rss:.0f}\\t{outcome}")
"""


def generate(path: Path, n: int) -> int:
    """A CycloneDX 1.6 document shaped like a package-manager SBOM: name, version, purl, bom-ref, licence."""
    with path.open("w", encoding="utf-8") as out:
        head = {
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
            "version": 1,
            "metadata": {
                "timestamp": "2026-11-30T12:00:00Z",
                "component": {"type": "application", "bom-ref": "root", "name": "big-app", "version": "1.0.0"},
            },
        }
        out.write(json.dumps(head)[:-1] + ', "components": [')
        for i in range(n):
            comp = {
                "type": "library",
                "bom-ref": f"pkg:npm/p{i}@1.{i % 97}.{i % 13}",
                "name": f"p{i}",
                "version": f"1.{i % 97}.{i % 13}",
                "purl": f"pkg:npm/p{i}@1.{i % 97}.{i % 13}",
            }
            out.write(("," if i else "") + json.dumps(comp))
        out.write('], "dependencies": [{"ref": "root", "dependsOn": [')
        out.write(",".join(json.dumps(f"pkg:npm/p{i}@1.{i % 97}.{i % 13}") for i in range(min(n, 1000))))
        out.write("]}]}")
    return path.stat().st_size


def measure(src: Path, sbom: Path) -> tuple[float, float, str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(src), str(sbom)], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        return float("nan"), float("nan"), f"crashed: {done.stderr.strip().splitlines()[-1:]}"
    seconds, rss, outcome = done.stdout.strip().split("\t", 2)
    return float(seconds), float(rss), outcome


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--baseline-src", type=Path, default=None, help="src/ of the checkout to compare with")
    ap.add_argument("--baseline-sizes", type=int, nargs="*", default=[100_000])
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    lines = ["| components | file | reader | time | peak RSS | outcome |", "| --- | --- | --- | --- | --- | --- |"]
    with tempfile.TemporaryDirectory(prefix="cybersafe-bench-sbom-") as tmp:
        for n in args.sizes:
            path = Path(tmp) / f"bom-{n}.cdx.json"
            size = generate(path, n)
            runs = [("ours", SRC)]
            if args.baseline_src is not None and n in args.baseline_sizes:
                runs.append(("baseline", args.baseline_src))
            for label, src in runs:
                started = time.perf_counter()
                seconds, rss, outcome = measure(src, path)
                line = f"| {n:,} | {size / 1e6:.0f} MB | {label} | {seconds:.1f} s | {rss:,.0f} MiB | {outcome[:90]} |"
                print(line, f"(wall incl. start-up {time.perf_counter() - started:.1f} s)", flush=True)
                lines.append(line)
    load = os.getloadavg()
    text = "\n".join(lines) + f"\n\nload average at the end: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}\n"
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
