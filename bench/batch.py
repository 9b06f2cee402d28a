"""Fleet scale on Dask: batch assessment, delta re-assessment and the nightly re-match, measured in one run.

(a) batch: N distinct generated products (each its own firmware image of real Debian binaries and generated
    files, its own accounts, services, keys and SBOM, its own dossier) assessed by ``run_batch`` on a local
    cluster of 1 and then 2 workers: products per minute and the scaling efficiency (rate with 2 / 2 x rate
    with 1). Target: efficiency >= 0.8.
(b) delta: a product of ~500 files, full assessment of its next release (1 % of the files changed, two of them: binaries
    rebuilt, configuration files edited) against ``assess --baseline`` of the same release, its baseline read from
    its JSON file as the command does (in one process with the catalog loaded, as a batch worker holds it): time
    ratio (target <= 0.2), with where the time goes; the same with the changed binaries carrying appended bytes instead
    (unblob must search those); end to end as ``batch`` runs a product (the inputs' key, the baseline read from
    its assessment.json, the new one digested and written); in a batch worker (warm extraction start); for
    a release whose firmware is unchanged (a dossier section changed); and (``b-debian``, also part of ``b``) for an
    image of real Debian 12 packages whose release updates one package (its binary and changelog.Debian.gz).
(c) watch: a product store of N SBOMs of 200 components each, re-matched against 300,000 OSV records by
    ``run_watch``: the first night (baselines made) and the next one (after 1,000 new advisories) on 2 workers,
    and the same night on a subset with 1 and 2 workers for the scaling efficiency. Target: >= 8,000 components
    per second per worker.

The machine is shared with other agents while this runs: wall-time rates move with their load, so each figure
is compared with its baseline measured in the same run, and the load average is printed with it.

    python bench/batch.py [--only a,b,b-debian,c] [--products 100] [--sboms 100000] [--subset 10000] [--out FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import hashlib
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

import vulns  # noqa: E402  (the OSV generator of bench/vulns.py)
from cybersafe.fleet.batch import BatchOptions, products_from_paths, run_batch  # noqa: E402
from cybersafe.fleet.cluster import ClusterSpec  # noqa: E402

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
EXAMPLE = REPO / "examples" / "smart-camera"
EPOCH = 1767225600


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f} on {os.cpu_count()} cores"


# --- generated products ------------------------------------------------------------------------------


def _elf_pool(limit: int = 400) -> list[Path]:
    pool = []
    for path in sorted(Path("/usr/bin").iterdir()):
        if path.is_symlink() or not path.is_file() or not 2_000 < path.stat().st_size < 1_500_000:
            continue
        with path.open("rb") as handle:
            if handle.read(4) == b"\x7fELF":
                pool.append(path)
        if len(pool) >= limit:
            break
    return pool


def _crypt(password: str, method: str) -> str:
    try:
        import crypt_r as crypt
    except ImportError:  # pragma: no cover
        import crypt  # type: ignore[no-redef,unused-ignore]
    salt = {"md5": "$1$benchslt$", "sha512": "$6$benchsaltbench$"}[method]
    return str(crypt.crypt(password, salt))


def _accounts(root: Path, rnd: random.Random) -> None:
    passwd = ["root:x:0:0:root:/root:/bin/sh", "daemon:x:1:1:daemon:/:/bin/false"]
    shadow = [f"root:{_crypt(f'pw-{rnd.random()}', 'sha512')}:19700:0:99999:7:::", "daemon:*:19700:0:99999:7:::"]
    if rnd.random() < 0.2:  # a universal default password from the public list
        passwd.append("admin:x:1000:1000:admin:/home/admin:/bin/sh")
        shadow.append(f"admin:{_crypt('admin', 'md5')}:19700:0:99999:7:::")
    if rnd.random() < 0.1:
        passwd.append("support:x:1001:1001::/home/support:/bin/sh")
        shadow.append("support::19700:0:99999:7:::")
    (root / "etc/passwd").write_text("\n".join(passwd) + "\n")
    (root / "etc/shadow").write_text("\n".join(shadow) + "\n")


def _services(root: Path, rnd: random.Random) -> None:
    lines = ["::sysinit:/etc/init.d/rcS", f"::respawn:/usr/bin/app{rnd.randrange(1000)} --config /etc/app/main.conf"]
    if rnd.random() < 0.15:
        lines.append("::respawn:/usr/sbin/telnetd -F -l /bin/sh")
    if rnd.random() < 0.5:
        lines.append("::respawn:/usr/sbin/dropbear -F -s")
    (root / "etc/inittab").write_text("\n".join(lines) + "\n")
    rcs = root / "etc/init.d/rcS"
    rcs.write_text("#!/bin/sh\nmount -a\nifup -a\n")
    rcs.chmod(0o755)


def _keys(root: Path, rnd: random.Random) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"device-{rnd.randrange(10**6)}")])
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(2025, 1, 1, tzinfo=dt.UTC) if rnd.random() < 0.1 else dt.datetime(2036, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(rnd.randrange(1, 10**9)).not_valid_before(start).not_valid_after(end).sign(key, hashes.SHA256())
    )  # fmt: skip
    (root / "etc/ssl/certs").mkdir(parents=True, exist_ok=True)
    (root / "etc/ssl/certs/device.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if rnd.random() < 0.2:
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        (root / "etc/ssl/private").mkdir(parents=True, exist_ok=True)
        (root / "etc/ssl/private/device.key").write_bytes(pem)


def _text_files(root: Path, rnd: random.Random, count: int) -> list[Path]:
    out = []
    for i in range(count):
        folder = root / rnd.choice(["etc/app", "usr/share/app", "www", "etc/config"])
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"file{i}.{rnd.choice(['conf', 'json', 'sh', 'html', 'txt'])}"
        body = "\n".join(
            f"key_{rnd.randrange(10**6)} = value_{rnd.randrange(10**9)}" for _ in range(rnd.randint(5, 80))
        )
        path.write_text(body + "\n")
        out.append(path)
    return out


def build_rootfs(root: Path, rnd: random.Random, pool: list[Path], binaries: int, texts: int) -> None:
    for folder in ("etc/init.d", "bin", "usr/bin", "usr/sbin", "home", "tmp"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for src in rnd.sample(pool, min(binaries, len(pool))):
        shutil.copyfile(src, root / "usr/bin" / src.name)
        (root / "usr/bin" / src.name).chmod(0o755)
    _accounts(root, rnd)
    _services(root, rnd)
    _keys(root, rnd)
    _text_files(root, rnd, texts)
    (root / "etc/os-release").write_text(f'ID=benchos\nVERSION_ID="{rnd.randint(1, 9)}.{rnd.randint(0, 9)}"\n')


def pack(root: Path, image: Path, rnd: random.Random) -> None:
    for path in root.rglob("*"):
        if not path.is_symlink():
            os.utime(path, (EPOCH, EPOCH))
    comp = rnd.choice(["gzip", "xz"])
    squashfs = image.with_suffix(".sqfs")
    subprocess.run(
        ["mksquashfs", str(root), str(squashfs), "-comp", comp, "-all-root", "-noappend", "-quiet", "-no-progress"],
        check=True, capture_output=True,
    )  # fmt: skip
    if rnd.random() < 0.5:  # behind a U-Boot legacy header, as many vendors ship it
        subprocess.run(
            ["mkimage", "-A", "arm", "-O", "linux", "-T", "filesystem", "-C", "none", "-n", image.stem, "-d",
             str(squashfs), str(image)],
            check=True, capture_output=True,
        )  # fmt: skip
        squashfs.unlink()
    else:
        squashfs.rename(image)


def _sbom(rnd: random.Random, name: str, count: int) -> dict[str, Any]:
    comps = []
    for i in range(count):
        eco, ptype, ns, pattern, _ = vulns.ECOSYSTEMS[rnd.randrange(len(vulns.ECOSYSTEMS))]
        purl = _purl(eco, ptype, ns, pattern, rnd.randrange(vulns.PACKAGES_PER_ECOSYSTEM), _component_version(rnd, eco))
        comps.append({"type": "library", "bom-ref": f"c{i}", "name": purl.split("/")[-1].split("@")[0],
                      "version": purl.rsplit("@", 1)[1], "purl": purl, "supplier": {"name": "vendor"}})  # fmt: skip
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {"timestamp": "2026-11-01T00:00:00Z", "authors": [{"name": "bench"}],
                     "component": {"type": "firmware", "name": name, "version": "1.0", "bom-ref": "root"}},
        "components": comps,
        "dependencies": [{"ref": "root", "dependsOn": [c["bom-ref"] for c in comps]}],
    }  # fmt: skip


def _component_version(rnd: random.Random, eco: str) -> str:
    """Mostly releases newer than every generated advisory; one component in fifty is an affected one."""
    if rnd.random() < 0.02:
        return vulns._version(rnd, eco)
    return {"Debian:12": "99.0.0-1", "Alpine:v3.18": "99.0.0-r1"}.get(eco, "99.0.0")


def _purl(eco: str, ptype: str, ns: str, pattern: str, n: int, version: str) -> str:
    if eco == "Go":
        return f"pkg:golang/{ns.format(n)}/mod@v{version}"
    if eco == "Maven":
        return f"pkg:maven/{ns.format(n)}/artifact@{version}"
    return f"pkg:{ptype}/{ns + '/' if ns else ''}{pattern.format(n)}@{version}"


_SECTIONS = ("update", "vulnerability_disclosure", "interfaces", "personal_data", "resilience", "process", "sensors")


def make_dossier(where: Path, rnd: random.Random, index: int, vulndb: Path) -> Path:
    data = yaml.safe_load((EXAMPLE / "dossier.yaml").read_text(encoding="utf-8"))
    product = data["product"]
    product.update(
        name=f"Bench Device {index}",
        model=f"BD-{index:04d}",
        firmware_version=f"{rnd.randint(1, 5)}.{rnd.randint(0, 20)}",
    )
    data["markets"] = sorted(rnd.sample(["us", "eu", "uk", "sg"], rnd.randint(1, 4)))
    declarations = data["declarations"]
    for section in _SECTIONS:
        if rnd.random() < 0.15:
            declarations.pop(section, None)
    declarations["support_period"]["end"] = f"{rnd.randint(2026, 2034)}-{rnd.randint(1, 12):02d}-28"
    if rnd.random() < 0.2:
        declarations["authentication"]["default_password_approach"] = "universal"
    data["manual_results"] = [m for m in data["manual_results"] if rnd.random() < 0.7]
    data["artefacts"] = {"firmware": "firmware.img", "sbom": "sbom.cdx.json", "vulndb": os.path.relpath(vulndb, where)}
    (where / "sbom.cdx.json").write_text(json.dumps(_sbom(rnd, product["name"], rnd.randint(20, 60))))
    shutil.copytree(EXAMPLE / "evidence", where / "evidence", dirs_exist_ok=True)  # the manual results' files
    path = where / "dossier.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def make_products(root: Path, count: int, vulndb: Path, seed: int = 16) -> list[Path]:
    rnd = random.Random(seed)
    pool = _elf_pool()
    out = []
    for i in range(count):
        where = root / f"p{i:03d}"
        dossier = where / "dossier.yaml"
        if not dossier.is_file():
            where.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory() as tmp:
                build_rootfs(Path(tmp) / "root", rnd, pool, rnd.randint(15, 60), rnd.randint(20, 120))
                pack(Path(tmp) / "root", where / "firmware.img", rnd)
            make_dossier(where, rnd, i, vulndb)
        out.append(dossier)
    return out


def small_vulndb(root: Path) -> Path:
    from cybersafe.evidence.vulndb.store import VulnDb

    path = root / "vulndb.sqlite"
    if not path.is_file():
        root.mkdir(parents=True, exist_ok=True)
        vulns.generate(root, 5_000, 10)
        with VulnDb(path) as db:
            for dump in sorted(root.glob("*-all.zip")):
                db.import_path(dump, now=NOW.isoformat())
    return path


# --- (a) batch ---------------------------------------------------------------------------------------


def bench_batch(cache: Path, count: int, worker_counts: list[int]) -> dict[int, dict[str, Any]]:
    products_dir = cache / "products"
    products_dir.mkdir(parents=True, exist_ok=True)
    vulndb = small_vulndb(cache / "batch-vulndb")
    started = time.perf_counter()
    dossiers = make_products(products_dir, count, vulndb)
    print(f"(a) {count} products generated in {time.perf_counter() - started:.0f} s", flush=True)
    products = products_from_paths(dossiers)
    runs: dict[int, dict[str, Any]] = {}
    for workers in worker_counts:
        out = cache / f"batch-out-{workers}"
        shutil.rmtree(out, ignore_errors=True)
        before = load()
        cpu0 = os.times()
        summary = run_batch(products, BatchOptions(now=NOW, force=True), out, ClusterSpec(workers=workers))
        cpu1 = os.times()
        failed = [r.error for r in summary.results if r.outcome == "failed"]
        busy = sum(r.duration_s for r in summary.results)
        runs[workers] = {
            "wall_s": summary.wall_s,
            "products_per_min": 60 * count / summary.wall_s,
            "task_s_sum": busy,
            "children_cpu_s": (cpu1.children_user + cpu1.children_system) - (cpu0.children_user + cpu0.children_system),
            "failed": len(failed),
            "load_before": before,
            "load_after": load(),
        }
        print(f"(a) {workers} worker(s): {runs[workers]}", flush=True)
        if failed:
            print("    failed:", failed[:3], flush=True)
    return runs


# --- (b) delta ---------------------------------------------------------------------------------------


def _measure(fn: Any) -> tuple[float, float, Any]:
    wall, cpu0, kids0 = time.perf_counter(), time.process_time(), os.times()
    result = fn()
    kids1 = os.times()
    children = (kids1.children_user + kids1.children_system) - (kids0.children_user + kids0.children_system)
    return time.perf_counter() - wall, time.process_time() - cpu0 + children, result


def bench_delta(cache: Path, files: int, repeats: int) -> dict[str, Any]:
    from cybersafe.assess import assess
    from cybersafe.results import load_assessment
    from cybersafe.schemes.catalog import default_catalog
    from cybersafe.to_wire import to_assessment

    rnd = random.Random(7)
    vulndb = small_vulndb(cache / "batch-vulndb")
    where = cache / "delta-product"
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    root = where / "rootfs"
    build_rootfs(root, rnd, _elf_pool(), files // 5, files - files // 5)
    total = sum(1 for p in root.rglob("*") if p.is_file())
    pack(root, where / "firmware.img", random.Random(1))
    dossier = make_dossier(where, rnd, 9999, vulndb)
    default_catalog()  # loaded once, as a batch worker holds it

    def run(baseline: Any = None) -> Any:
        return to_assessment(assess(dossier, now=NOW, baseline=baseline))

    def delta_run(baseline_file: Path) -> Any:
        """As `assess --baseline OLD.json` runs: the baseline is read from its file (a delta cannot do without)."""
        return run(load_assessment(baseline_file))

    from cybersafe.fleet.batch import BatchOptions, Product, assess_product, input_key

    old = run()
    baseline_file = where / "baseline-assessment.json"
    baseline_file.write_bytes(written := (old.to_json() + "\n").encode())
    product, options = Product("delta-product", dossier.resolve()), BatchOptions(now=NOW)
    last_key = input_key(product, options)  # what batch stored with the baseline: its re-run key
    # the next release: 1 % of the files changed. A release rebuilds the binaries it changes (each replaced by
    # another real, plain ELF file here) and edits configuration files (a line appended).
    pristine = where / "rootfs-release-1"
    shutil.copytree(root, pristine, symlinks=True)
    pool = _elf_pool()
    # 1 % of the files, two of them binaries (the image's share of binaries is a fifth: a heavier change than a
    # random pick, and one that needs the ELF analysis on either route)
    files = sorted(p for p in root.rglob("*") if p.is_file())
    binaries = [p for p in files if p.read_bytes()[:4] == b"\x7fELF"]
    count = max(3, total // 100)
    changed = rnd.sample(binaries, 2) + rnd.sample([p for p in files if p not in binaries], count - 2)
    for path in changed:
        if path.read_bytes()[:4] == b"\x7fELF":
            path.write_bytes(rnd.choice([q for q in pool if q.name != path.name]).read_bytes())
        else:
            with path.open("ab") as handle:
                handle.write(f"\n# release 2 {rnd.random()}\n".encode())
    pack(root, where / "firmware.img", random.Random(1))
    fulls, deltas = [], []
    for _ in range(repeats):
        fulls.append(_measure(run))
        deltas.append(_measure(lambda: delta_run(baseline_file)))
    new_delta = deltas[-1][2]
    # the two runs end to end as `batch` makes them (fleet/batch.py, assess_product): the inputs' key, the
    # baseline read from its assessment.json (delta only), the assessment, its digest and its JSON written
    recorded = (hashlib.sha256(written).hexdigest(), old.digest())  # what batch records with the file it writes

    def batch_run(baseline: Path | None) -> Any:
        """A delta as a re-run makes it (the last run's key and record given), or a product's first, full run."""
        if baseline is None:
            result = assess_product(product, options, None, None)
        else:
            result = assess_product(product, options, last_key, str(baseline), recorded)
        if result.outcome != "assessed" or (baseline is not None) != (result.delta is not None):
            raise SystemExit(f"bench: the batch path did not run as intended: {result.outcome} {result.error}")
        return result

    end_to_end = [
        (_measure(lambda: batch_run(None)), _measure(lambda: batch_run(baseline_file))) for _ in range(repeats)
    ]
    scan = _measure(lambda: _scan_only(where / "firmware.img"))
    # the same two runs as a batch worker makes them: extraction children forked from a warm zygote
    from cybersafe.evidence.firmware import _warm

    _warm.enable()
    run()  # starts the zygote
    warm = [(_measure(run), _measure(lambda: delta_run(baseline_file))) for _ in range(repeats)]
    warm_batch = [
        (_measure(lambda: batch_run(None)), _measure(lambda: batch_run(baseline_file))) for _ in range(repeats)
    ]
    _warm.disable()
    # the same files changed, but the binaries with bytes appended instead of rebuilt: unblob must search them
    appended_root = where / "rootfs-appended"
    shutil.copytree(pristine, appended_root, symlinks=True)
    for path in changed:
        with (appended_root / path.relative_to(root)).open("ab") as handle:
            handle.write(f"\n# release 2 {rnd.random()}\n".encode())
    appended_image = where / "firmware-appended.img"
    pack(appended_root, appended_image, random.Random(1))
    shutil.copyfile(where / "firmware.img", where / "firmware-rebuilt.img")
    shutil.copyfile(appended_image, where / "firmware.img")
    appended = [(_measure(run), _measure(lambda: delta_run(baseline_file))) for _ in range(repeats)]
    shutil.copyfile(where / "firmware-rebuilt.img", where / "firmware.img")
    # and a release whose firmware did not change: a dossier section (the support period) did
    data = yaml.safe_load(dossier.read_text(encoding="utf-8"))
    data["declarations"]["support_period"]["end"] = "2035-06-30"
    dossier.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    release_file = where / "release-2-assessment.json"
    release_file.write_text(new_delta.to_json() + "\n", encoding="utf-8")
    same_fw = [(_measure(run), _measure(lambda: delta_run(release_file))) for _ in range(repeats)]
    return {
        "files": total,
        "changed_files": len(changed),
        "full_wall_s": statistics.median(f[0] for f in fulls),
        "full_cpu_s": statistics.median(f[1] for f in fulls),
        "delta_wall_s": statistics.median(d[0] for d in deltas),
        "delta_cpu_s": statistics.median(d[1] for d in deltas),
        "delta_rerun": len(new_delta.delta.rerun) if new_delta.delta else None,
        "delta_reused": len(new_delta.delta.reused) if new_delta.delta else None,
        "files_changed_reported": len(new_delta.delta.firmware_files.changed)
        if new_delta.delta and new_delta.delta.firmware_files
        else None,
        "batch_full_wall_s": statistics.median(a[0] for a, _ in end_to_end),
        "batch_delta_wall_s": statistics.median(b[0] for _, b in end_to_end),
        "appended_full_wall_s": statistics.median(a[0] for a, _ in appended),
        "appended_delta_wall_s": statistics.median(b[0] for _, b in appended),
        "warm_full_wall_s": statistics.median(a[0] for a, _ in warm),
        "warm_delta_wall_s": statistics.median(b[0] for _, b in warm),
        "warm_batch_full_wall_s": statistics.median(a[0] for a, _ in warm_batch),
        "warm_batch_delta_wall_s": statistics.median(b[0] for _, b in warm_batch),
        "scan_only_wall_s": scan[0],
        "scan_only_cpu_s": scan[1],
        "scan_extraction_s": scan[2].extraction_s,
        "scan_duration_s": scan[2].duration_s,
        "unchanged_fw_full_wall_s": statistics.median(a[0] for a, _ in same_fw),
        "unchanged_fw_delta_wall_s": statistics.median(b[0] for _, b in same_fw),
        "unchanged_fw_full_cpu_s": statistics.median(a[1] for a, _ in same_fw),
        "unchanged_fw_delta_cpu_s": statistics.median(b[1] for _, b in same_fw),
        "load": load(),
    }


# an image of real Debian 12 packages (their changelogs and docs gzip-compressed, as Debian ships them)
_DEBIAN_PACKAGES = ("libc6", "zlib1g", "libssl3", "openssl", "dropbear-bin", "busybox-static")


def _debian_release_2(root: Path) -> None:
    """What a security update of one package changes in a Debian-based product: its binary rebuilt (another real
    ELF file here), its changelog rewritten and its copyright file edited; and the product's init table and boot
    script edited. Five files of about 540 (1 %)."""
    rnd = random.Random(3)
    doc = root / "usr/share/doc/dropbear-bin"
    (root / "usr/bin/dbclient").write_bytes(rnd.choice(_elf_pool()).read_bytes())
    changelog = doc / "changelog.Debian.gz"
    entry = b"dropbear (2022.83-1+deb12u4) bookworm-security; urgency=high\n\n"
    changelog.write_bytes(gzip.compress(entry + gzip.decompress(changelog.read_bytes()), mtime=0))
    with (doc / "copyright").open("ab") as handle:
        handle.write(b"\nFiles: debian/patches/*\nCopyright: 2026 the security team\n")
    (root / "etc/inittab").write_text("::sysinit:/etc/init.d/rcS\n::respawn:/usr/sbin/dropbear -F -s -w\n")
    with (root / "etc/init.d/rcS").open("a") as handle:
        handle.write("mount -o remount,ro /\n")


def bench_delta_debian(cache: Path, repeats: int) -> dict[str, Any]:
    """(b) on an image of real Debian packages: a full assessment of release 2 against ``assess --baseline``,
    cold and in a batch worker (warm extraction start). unblob decompresses the rewritten changelog. The packages
    come from the test suite's cache (``make test`` downloads them; else ``apt-get download``)."""
    sys.path.insert(0, str(REPO))
    from tests.evidence.firmware.distro_image import build

    from cybersafe.assess import assess
    from cybersafe.evidence.firmware import _warm
    from cybersafe.results import load_assessment
    from cybersafe.schemes.catalog import default_catalog
    from cybersafe.to_wire import to_assessment

    where = cache / "delta-debian"
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    dossier = make_dossier(where, random.Random(5), 9998, small_vulndb(cache / "batch-vulndb"))
    build(where / "firmware.img", _DEBIAN_PACKAGES)
    default_catalog()

    def run(baseline: Path | None = None) -> Any:
        return to_assessment(assess(dossier, now=NOW, baseline=None if baseline is None else load_assessment(baseline)))

    old = run()
    baseline_file = where / "baseline-assessment.json"
    baseline_file.write_text(old.to_json() + "\n", encoding="utf-8")
    build(where / "firmware.img", _DEBIAN_PACKAGES, change=_debian_release_2)
    cold = [(_measure(run), _measure(lambda: run(baseline_file))) for _ in range(repeats)]
    new = cold[-1][1][2]
    _warm.enable()
    run()  # starts the zygote
    warm = [(_measure(run), _measure(lambda: run(baseline_file))) for _ in range(repeats)]
    _warm.disable()
    firmware = new.delta.firmware_files if new.delta else None
    return {
        "files": len(new.inputs.firmware_files),
        "changed_files": len(firmware.changed) + len(firmware.added) + len(firmware.removed) if firmware else None,
        "facts_reused": new.delta.firmware_facts_reused if new.delta else None,
        "full_wall_s": statistics.median(a[0] for a, _ in cold),
        "delta_wall_s": statistics.median(b[0] for _, b in cold),
        "warm_full_wall_s": statistics.median(a[0] for a, _ in warm),
        "warm_delta_wall_s": statistics.median(b[0] for _, b in warm),
        "load": load(),
    }


def _scan_only(image: Path) -> Any:
    from cybersafe.evidence.firmware.budget import budget_for
    from cybersafe.evidence.firmware.scan import scan_image

    return scan_image(image, budget_for("standard"))


# --- (c) watch ---------------------------------------------------------------------------------------


def make_store(path: Path, sboms: int, components: int, seed: int = 11) -> None:
    from cybersafe.evidence.vulndb.watch import ProductStore

    if path.is_file():
        return
    rnd = random.Random(seed)
    tmp = path.with_suffix(".part")
    tmp.unlink(missing_ok=True)
    with ProductStore(tmp, create=True) as store:
        batch = []
        for i in range(sboms):
            raw = json.dumps(_sbom(rnd, f"product-{i}", components), separators=(",", ":")).encode()
            batch.append((f"product-{i:07d}", "sbom.cdx.json", raw, "bench", NOW.isoformat()))
            if len(batch) == 5_000:
                store.conn.executemany(
                    "INSERT INTO products (name, sbom_name, sbom, sbom_sha256, added_at) VALUES (?,?,?,?,?)", batch
                )
                store.conn.commit()
                batch = []
        store.conn.executemany(
            "INSERT INTO products (name, sbom_name, sbom, sbom_sha256, added_at) VALUES (?,?,?,?,?)", batch
        )
        store.conn.commit()
    tmp.rename(path)


def subset(store: Path, target: Path, count: int) -> None:
    shutil.copyfile(store, target)
    conn = sqlite3.connect(target)
    conn.execute("DELETE FROM products WHERE rowid > ?", (count,))
    conn.commit()
    conn.execute("VACUUM")
    conn.close()


def _watch(store: Path, db: Path, workers: int, aware: dt.datetime, update: bool) -> dict[str, Any]:
    from cybersafe.fleet.watch import run_watch

    before = load()
    run = run_watch(store, db, aware, ClusterSpec(workers=workers), update=update)
    kinds: dict[str, int] = {}
    for change in run.result.changes:
        kinds[change.kind] = kinds.get(change.kind, 0) + 1
    return {
        "workers": workers,
        "products": run.result.products,
        "components": run.components,
        "wall_s": run.wall_s,
        "worker_s": run.worker_s,
        "components_per_s": run.components / run.wall_s,
        "components_per_s_per_worker": run.components / run.wall_s / workers,
        "components_per_worker_second": run.components / run.worker_s if run.worker_s else None,
        "changes": kinds,
        "errors": len(run.result.errors),
        "load_before": before,
        "load_after": load(),
    }


def new_advisories(root: Path, count: int, seed: int = 99) -> Path:
    """``count`` more OSV records for packages of the same ecosystems (the next night's advisories)."""
    import zipfile

    rnd = random.Random(seed)
    out = root / "nightly"
    out.mkdir(exist_ok=True)
    path = out / "PyPI-all.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for n in range(count):
            name = f"py-pkg-{rnd.randrange(vulns.PACKAGES_PER_ECOSYSTEM)}"
            record = {
                "schema_version": "1.7.5", "id": f"GHSA-night-{n:05d}", "modified": "2026-11-29T00:00:00Z",
                "published": "2026-11-29T00:00:00Z", "aliases": [f"CVE-2026-9{n:05d}"], "summary": f"new {n}",
                "affected": [{"package": {"ecosystem": "PyPI", "name": name},
                              "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "100.0.0"}]}]}],
            }  # fmt: skip
            archive.writestr(f"{record['id']}.json", json.dumps(record))
    return path


def bench_watch(cache: Path, sboms: int, components: int, records: int, subset_size: int) -> dict[str, Any]:
    from cybersafe.evidence.vulndb.store import VulnDb

    vdb_root = cache / f"watch-vulndb-{records}"
    vdb_root.mkdir(parents=True, exist_ok=True)
    db = vdb_root / "db.sqlite"
    if not db.is_file():
        vulns.generate(vdb_root, records, 10)
        print(f"(c) importing {records} OSV records", flush=True)
        print(vulns.phase_import(vdb_root), flush=True)
    fresh = cache / "watch-db.sqlite"
    shutil.copyfile(db, fresh)
    store = cache / f"watch-store-{sboms}x{components}.sqlite"
    started = time.perf_counter()
    make_store(store, sboms, components)
    print(f"(c) store of {sboms} SBOMs ready ({time.perf_counter() - started:.0f} s)", flush=True)
    work = cache / "watch-run.sqlite"
    shutil.copyfile(store, work)
    out: dict[str, Any] = {"first_night": _watch(work, fresh, 2, NOW - dt.timedelta(days=1), update=True)}
    print(f"(c) first night: {out['first_night']}", flush=True)
    with VulnDb(fresh) as handle:
        handle.import_path(new_advisories(cache, 1_000), now=NOW.isoformat())
    out["next_night"] = _watch(work, fresh, 2, NOW, update=False)
    print(f"(c) next night: {out['next_night']}", flush=True)
    small = cache / "watch-subset.sqlite"
    subset(work, small, subset_size)
    for workers in (1, 2):
        out[f"subset_{workers}"] = _watch(small, fresh, workers, NOW, update=False)
        print(f"(c) subset, {workers} worker(s): {out[f'subset_{workers}']}", flush=True)
    return out


def bench_watch_cpu(cache: Path) -> dict[str, Any]:
    """The subset re-matched in this process, one core: components per CPU-second, the rate a worker reaches on a
    core of its own (the wall-time rates above share 2 cores with other agents)."""
    from cybersafe.evidence.vulndb.store import VulnDb
    from cybersafe.evidence.vulndb.watch import ProductStore

    work = cache / "watch-subset-cpu.sqlite"
    shutil.copyfile(cache / "watch-subset.sqlite", work)
    with VulnDb(cache / "watch-db.sqlite", read_only=True) as db, ProductStore(work) as store:
        wall, cpu = time.perf_counter(), time.process_time()
        result = store.run(db, NOW, update=False)
        cpu = time.process_time() - cpu
        wall = time.perf_counter() - wall
        components = sum(len(json.loads(r[0])["components"]) for r in store.conn.execute("SELECT sbom FROM products"))
    return {
        "products": result.products,
        "components": components,
        "cpu_s": cpu,
        "wall_s": wall,
        "components_per_cpu_s": components / cpu,
        "load": load(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="a,b,c")
    parser.add_argument("--products", type=int, default=100)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--delta-files", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sboms", type=int, default=100_000)
    parser.add_argument("--components", type=int, default=200)
    parser.add_argument("--records", type=int, default=300_000)
    parser.add_argument("--subset", type=int, default=10_000)
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("CYBERSAFE_BENCH_CACHE", tempfile.gettempdir())) / "cybersafe-bench-batch",
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    from cybersafe import gcpolicy

    gcpolicy.for_assessments()  # as the cybersafe program and batch worker processes run (gcpolicy.py)
    parts = set(args.only.split(","))
    figures: dict[str, Any] = {"machine": load()}
    if "a" in parts:
        figures["batch"] = bench_batch(args.cache, args.products, [int(w) for w in args.workers.split(",")])
    if "b" in parts:
        figures["delta"] = bench_delta(args.cache, args.delta_files, args.repeats)
        print(f"(b) {figures['delta']}", flush=True)
    if "b" in parts or "b-debian" in parts:
        figures["delta_debian"] = bench_delta_debian(args.cache, args.repeats)
        print(f"(b) real Debian packages: {figures['delta_debian']}", flush=True)
    if "c" in parts:
        figures["watch"] = bench_watch(args.cache, args.sboms, args.components, args.records, args.subset)
    if "c" in parts or "c-cpu" in parts:
        figures.setdefault("watch", {})["one_core"] = bench_watch_cpu(args.cache)
        print(f"(c) one core, in process: {figures['watch']['one_core']}", flush=True)
    report = summarise(figures)
    print(report)
    if args.out is not None:
        args.out.write_text(report + "\n```json\n" + json.dumps(figures, indent=2, default=str) + "\n```\n")


def summarise(figures: dict[str, Any]) -> str:
    lines = [f"# bench/batch.py ({dt.date.today()}, {figures['machine']} at start)", ""]
    batch = figures.get("batch")
    if batch:
        for workers, run in sorted(batch.items()):
            lines.append(
                f"(a) {workers} worker(s): {run['products_per_min']:.1f} products/min, {run['wall_s']:.0f} s, {run['failed']} failed ({run['load_before']} -> {run['load_after']})"
            )
        if 1 in batch and 2 in batch:
            lines.append(
                f"(a) scaling efficiency 1 -> 2 workers: {batch[2]['products_per_min'] / (2 * batch[1]['products_per_min']):.2f}"
            )
    delta = figures.get("delta")
    if delta:
        lines.append(
            f"(b) {delta['changed_files']} of {delta['files']} files changed (binaries rebuilt, configuration edited), baseline read from its file: delta {delta['delta_wall_s']:.3f} s vs full {delta['full_wall_s']:.3f} s wall = {delta['delta_wall_s'] / delta['full_wall_s']:.3f}x (CPU {delta['delta_cpu_s'] / delta['full_cpu_s']:.3f}x); scan alone {delta['scan_only_wall_s']:.2f} s (unpacking {delta['scan_extraction_s']:.2f} s)"
        )
        lines.append(
            f"(b) end to end as `batch` runs a product (inputs' key, baseline read from its JSON, assessment digested and written): delta {delta['batch_delta_wall_s']:.3f} s vs full {delta['batch_full_wall_s']:.3f} s wall = {delta['batch_delta_wall_s'] / delta['batch_full_wall_s']:.3f}x"
        )
        lines.append(
            f"(b) the changed binaries with bytes appended instead of rebuilt (unblob searches them): delta {delta['appended_delta_wall_s']:.2f} s vs full {delta['appended_full_wall_s']:.2f} s = {delta['appended_delta_wall_s'] / delta['appended_full_wall_s']:.2f}x"
        )
        lines.append(
            f"(b) in a batch worker (warm extraction start): delta {delta['warm_delta_wall_s']:.3f} s vs full {delta['warm_full_wall_s']:.3f} s wall = {delta['warm_delta_wall_s'] / delta['warm_full_wall_s']:.3f}x (wall only: the forked children's CPU goes to the zygote, which this process does not wait for); end to end there: delta {delta['warm_batch_delta_wall_s']:.3f} s vs full {delta['warm_batch_full_wall_s']:.3f} s = {delta['warm_batch_delta_wall_s'] / delta['warm_batch_full_wall_s']:.3f}x"
        )
        lines.append(
            f"(b) unchanged firmware: delta {delta['unchanged_fw_delta_wall_s']:.3f} s vs full {delta['unchanged_fw_full_wall_s']:.2f} s = {delta['unchanged_fw_delta_wall_s'] / delta['unchanged_fw_full_wall_s']:.2f}x (CPU {delta['unchanged_fw_delta_cpu_s'] / delta['unchanged_fw_full_cpu_s']:.2f}x)"
        )
    debian = figures.get("delta_debian")
    if debian:
        lines.append(
            f"(b) real Debian packages, {debian['changed_files']} of {debian['files']} files changed (a package's binary rebuilt, its changelog.Debian.gz rewritten): delta {debian['delta_wall_s']:.3f} s vs full {debian['full_wall_s']:.3f} s = {debian['delta_wall_s'] / debian['full_wall_s']:.3f}x; in a batch worker {debian['warm_delta_wall_s']:.3f} s vs {debian['warm_full_wall_s']:.3f} s = {debian['warm_delta_wall_s'] / debian['warm_full_wall_s']:.3f}x"
        )
    watch = figures.get("watch")
    if watch and "one_core" in watch:
        one = watch["one_core"]
        lines.append(
            f"(c) one core in process: {one['components']} components in {one['cpu_s']:.1f} s CPU = {one['components_per_cpu_s']:.0f} components per CPU-second ({one['wall_s']:.0f} s wall)"
        )
    if watch and "first_night" in watch:
        for name in ("first_night", "next_night", "subset_1", "subset_2"):
            run = watch[name]
            lines.append(
                f"(c) {name}: {run['components']} components, {run['products']} SBOMs, {run['workers']} worker(s): {run['components_per_s_per_worker']:.0f} components/s/worker ({run['wall_s']:.0f} s; {run['changes']})"
            )
        lines.append(
            f"(c) scaling efficiency 1 -> 2 workers: {watch['subset_2']['components_per_s'] / (2 * watch['subset_1']['components_per_s']):.2f}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
