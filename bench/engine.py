"""Engine throughput: evaluate generated dossiers against every scheme, on one core.

Target (issue 2): >= 2,000 dossiers/s. Rates are given in process CPU time (one core; the machine is shared,
so wall time is printed too). Measured in the same run:

- engine: `assess_dossier` as `cybersafe assess` runs it (declaration checks once each, every scheme);
- engine without the summary memo: every requirement evaluated in full for every dossier;
- baseline: the naive way, re-running every check for every requirement that names it, scheme by scheme
  (what testing each scheme separately costs), on a sample of the same dossiers.

    python bench/engine.py [--dossiers 10000] [--baseline 500]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from pathlib import Path
from typing import Any

import yaml

from cybersafe.assess import assess_dossier, needed_checks, run_checks
from cybersafe.checks import BUILTIN_CHECKS
from cybersafe.checks.interface import run_check
from cybersafe.dossier.facts import derive_facts
from cybersafe.dossier.model import Dossier
from cybersafe.evidence.interface import Evidence
from cybersafe.schemes.catalog import default_catalog
from cybersafe.schemes.evaluate import Evaluator, all_of, any_of
from cybersafe.schemes.interface import AllOf, Leaf, LeafKind, Node
from cybersafe.schemes.memo import SummaryMemo
from cybersafe.verdict import Verdict

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "smart-camera" / "dossier.yaml"
NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)


def generate(count: int, seed: int = 7) -> list[Dossier]:
    """Variations of the example: markets, passwords, updates, support end, sensors, data, ICS."""
    base = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    base.pop("artefacts", None)
    base["manual_results"] = []
    base["declarations"]["labels_held"] = []
    rnd = random.Random(seed)
    out = []
    for i in range(count):
        data: dict[str, Any] = yaml.safe_load(yaml.safe_dump(base)) if i == 0 else _clone(base)
        d = data["declarations"]
        data["markets"] = rnd.sample(["us", "eu", "uk", "sg"], k=rnd.randint(1, 4))
        d["authentication"]["default_password_approach"] = rnd.choice(
            ["user-defined", "unique-per-device", "universal", "none"]
        )
        d["authentication"]["uses_passwords"] = d["authentication"]["default_password_approach"] != "none"
        d["update"]["automatic"] = rnd.random() < 0.8
        d["update"]["signed"] = rnd.random() < 0.9
        d["update"]["timeliness_days"] = rnd.choice([14, 30, 90, 180])
        d["support_period"]["end"] = f"{rnd.randint(2026, 2034)}-{rnd.randint(1, 12):02d}-01"
        if rnd.random() < 0.3:
            d.pop("sensors")
        if rnd.random() < 0.2:
            d["personal_data"] = {"processes_personal_data": False}
        if rnd.random() < 0.3:
            d.pop("vulnerability_disclosure")
        data["product"]["model"] = f"GEN-{i:05d}"
        out.append(Dossier.model_validate(data))
    return out


def _clone(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _clone(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_clone(v) for v in data]
    return data


def naive(dossier: Dossier) -> int:
    """Scheme by scheme, requirement by requirement, every check re-run where it is named."""
    catalog = default_catalog()
    checks = {c.ID: c for c in BUILTIN_CHECKS}
    evidence = Evidence(dossier=dossier, as_of=NOW.date())
    evaluator = Evaluator(catalog, {}, dossier, derive_facts(dossier))
    runs = 0

    def tree(node: Node) -> Verdict:
        nonlocal runs
        if isinstance(node, Leaf):
            if node.kind is LeafKind.CHECK and node.ref in checks:
                runs += 1
                return run_check(checks[node.ref](), evidence).verdict
            if node.kind is LeafKind.REQUIREMENT:
                req = catalog.requirement(node.ref)
                return tree(req.verified_by) if req.verified_by is not None else Verdict.INCONCLUSIVE
            return evaluator.leaf(node).verdict
        verdicts = [tree(c) for c in node.children]
        return all_of(verdicts) if isinstance(node, AllOf) else any_of(verdicts)

    for scheme in catalog.current_schemes():
        for req in scheme.requirements:
            if req.verified_by is not None:
                tree(req.verified_by)
    return runs


def full(dossier: Dossier, catalog: Any, schemes: Any) -> None:
    """The engine with every requirement evaluated in full (no summary memo)."""
    evidence = Evidence(dossier=dossier, as_of=NOW.date())
    attempts = run_checks(BUILTIN_CHECKS, evidence, needed_checks(catalog, schemes))
    evaluator = Evaluator(catalog, attempts, dossier, derive_facts(dossier))
    evaluator.schemes(schemes)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dossiers", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=500)
    args = parser.parse_args()
    catalog = default_catalog()
    schemes = catalog.current_schemes()
    started = time.perf_counter()
    dossiers = generate(args.dossiers)
    generated = time.perf_counter() - started
    wanted = len(needed_checks(catalog, schemes))

    memo = SummaryMemo(catalog)  # batch work opts in to the summary memo
    assess_dossier(dossiers[0], now=NOW, catalog=catalog, plans=False, memo=memo)  # warm the per-catalog look-ups
    wall, cpu = time.perf_counter(), time.process_time()
    statuses = 0
    for dossier in dossiers:
        run = assess_dossier(dossier, now=NOW, catalog=catalog, plans=False, memo=memo)
        statuses += len(run.results)
    engine_cpu, engine_wall = time.process_time() - cpu, time.perf_counter() - wall
    engine_rate = len(dossiers) / engine_cpu
    verdicts = sum(len(s.requirements) for s in schemes)

    sample = dossiers[: args.baseline]
    cpu = time.process_time()
    for dossier in sample:
        full(dossier, catalog, schemes)
    full_rate = len(sample) / (time.process_time() - cpu)

    cpu = time.process_time()
    naive_runs = sum(naive(d) for d in sample)
    baseline = time.process_time() - cpu
    baseline_rate = len(sample) / baseline

    print(
        f"schemes: {len(schemes)} ({sum(len(s.requirements) for s in schemes)} requirements); checks needed: {wanted}"
    )
    print(f"generated {len(dossiers)} dossiers in {generated:.1f} s")
    print(
        f"engine: {len(dossiers)} dossiers in {engine_cpu:.2f} s CPU ({engine_wall:.2f} s wall) = "
        f"{engine_rate:,.0f} dossiers/s on one core (target >= 2,000)"
    )
    print(f"        {verdicts} requirement verdicts and {statuses // len(dossiers)} scheme statuses per dossier")
    print(f"engine without the summary memo: {full_rate:,.0f} dossiers/s")
    print(
        f"baseline (naive, check re-run per requirement): {len(sample)} dossiers in {baseline:.2f} s = "
        f"{baseline_rate:,.0f} dossiers/s, {naive_runs / len(sample):.0f} check runs per dossier"
    )
    print(
        f"ratio: engine is {engine_rate / baseline_rate:.1f}x the naive baseline ({full_rate / baseline_rate:.1f}x without the memo)"
    )


if __name__ == "__main__":
    main()
