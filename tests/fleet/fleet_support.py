"""Products for the fleet tests: the example camera laid out with real artefacts, and variants of each artefact.

Firmware images are built from the example's rootfs with Debian's static busybox and dropbear and a camera
daemon compiled here (cybersafe.demo.product), then changed the way a new release changes them: a service
started at boot, a configuration value, a password hash. The vulnerability database is imported from the
example's OSV records and CISA KEV file; variants add an advisory.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import shutil
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from cybersafe.evidence.vulndb.store import VulnDb
from tests.support import REPO

EXAMPLE = REPO / "examples" / "smart-camera"
NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 29)  # the wall-clock date injected into assessments (firmware:date)

# A release's changes to the example's root file system.
FIRMWARE_CHANGES: dict[str, Callable[[Path], None]] = {
    "telnetd": lambda root: _append(root / "etc/inittab", "::respawn:/usr/sbin/telnetd -F -l /bin/sh\n"),
    "config": lambda root: _replace(root / "etc/nordlicht/camd.json", "}", ', "upload_interval_s": 600}', last=True),
    "hostname": lambda root: (root / "etc/hostname").write_text("nl-cam2-b\n"),
    # "admin" is on the public default-password list: the universal-default-password check must fail
    "admin-password": lambda root: _replace(root / "etc/shadow", "admin:!:", f"admin:{_md5crypt('admin')}:"),
}

# Edits of dossier sections, as a manufacturer makes them between two assessments.
DOSSIER_CHANGES: dict[str, Callable[[dict[str, Any]], None]] = {
    "support-ended": lambda d: d["declarations"]["support_period"].update(end="2026-06-30"),
    "updates-manual": lambda d: d["declarations"]["update"].update(automatic=False, automatic_by_default=False),
    "universal-password": lambda d: d["declarations"]["authentication"].update(default_password_approach="universal"),
    "ics-dropped": lambda d: d["ics"].pop("5.3-14"),
    "eu-only": lambda d: d.update(markets=["eu"]),
    "telnet-declared": lambda d: d["declarations"]["interfaces"]["network_ports"].append(
        {"port": 23, "service": "telnet", "purpose": "factory test", "authenticated": False}
    ),
    "manual-dropped": lambda d: d["manual_results"].pop(0),
    "new-version": lambda d: d["product"].update(firmware_version="2.4.2"),
    "no-disclosure-contact": lambda d: d["declarations"]["vulnerability_disclosure"].pop("contact"),
}

SBOM_CHANGES: dict[str, Callable[[dict[str, Any]], None]] = {
    "busybox-fixed": lambda b: _component(b, "busybox").update(version="1.36.1", purl="pkg:generic/busybox@1.36.1"),
    "openssl-added": lambda b: b["components"].append(
        {
            "type": "library",
            "bom-ref": "openssl",
            "name": "openssl",
            "version": "3.0.2",
            "purl": "pkg:generic/openssl@3.0.2",
        }
    ),
}

EXTRA_ADVISORY = {
    "schema_version": "1.7.5",
    "id": "x_NL-EXAMPLE-2026-0003",
    "modified": "2026-11-20T00:00:00Z",
    "published": "2026-11-20T00:00:00Z",
    "summary": "EXAMPLE DATA, not a real vulnerability: nl-camd upload handler overflow",
    "details": "Fictional advisory for the fleet tests.",
    "affected": [
        {
            "package": {"ecosystem": "generic", "name": "nl-camd", "purl": "pkg:generic/nordlicht/nl-camd"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.4.2"}]}],
        }
    ],
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
}


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def _replace(path: Path, old: str, new: str, *, last: bool = False) -> None:
    text = path.read_text(encoding="utf-8")
    index = text.rindex(old) if last else text.index(old)
    path.write_text(text[:index] + new + text[index + len(old) :], encoding="utf-8")


def _md5crypt(password: str) -> str:
    try:
        import crypt_r as crypt
    except ImportError:  # pragma: no cover
        import crypt  # type: ignore[no-redef]
    return str(crypt.crypt(password, "$1$nlcamsal$"))


def _component(bom: dict[str, Any], name: str) -> dict[str, Any]:
    component: dict[str, Any] = next(c for c in bom["components"] if c["name"] == name)
    return component


@cache
def firmware(cache_dir: Path, changes: tuple[str, ...] = ()) -> Path:
    """The example firmware with ``changes`` applied, built once per session and change set."""
    from cybersafe.demo.product import build_example_firmware

    name = "-".join(changes) or "base"
    out = cache_dir / f"fw-{name}.img"
    if out.is_file():
        return out
    source = cache_dir / f"src-{name}"
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(EXAMPLE / "firmware", source, symlinks=True)
    for change in changes:
        FIRMWARE_CHANGES[change](source / "rootfs")
    return build_example_firmware(source, out)


@cache
def vulndb(cache_dir: Path, extra: bool = False) -> Path:
    """The example's OSV records and KEV catalog in a database file (plus one advisory with ``extra``)."""
    out = cache_dir / f"vulndb{'-extra' if extra else ''}.sqlite"
    if out.is_file():
        return out
    when = NOW.isoformat()
    with VulnDb(out) as db:
        db.import_path(EXAMPLE / "vulndb", now=when)
        db.import_path(EXAMPLE / "kev.json", now=when)
        if extra:
            record = cache_dir / "extra-advisory.json"
            record.write_text(json.dumps(EXTRA_ADVISORY), encoding="utf-8")
            db.import_path(record, now=when)
    return out


def make_product(
    where: Path,
    *,
    cache_dir: Path,
    firmware_changes: tuple[str, ...] | None = (),
    dossier_changes: tuple[str, ...] = (),
    sbom_changes: tuple[str, ...] = (),
    vex: bool = True,
    extra_advisory: bool = False,
    bare: bool = False,
) -> Path:
    """The example product in ``where`` with the given changes; ``firmware_changes=None``: no firmware; ``bare``:
    the image is its SquashFS alone, without the U-Boot header (a delta run reads such an image in place)."""
    where.mkdir(parents=True, exist_ok=True)
    data = yaml.safe_load((EXAMPLE / "dossier.yaml").read_text(encoding="utf-8"))
    for change in dossier_changes:
        DOSSIER_CHANGES[change](data)
    bom = json.loads((EXAMPLE / "sbom.cdx.json").read_text(encoding="utf-8"))
    for change in sbom_changes:
        SBOM_CHANGES[change](bom)
    (where / "sbom.cdx.json").write_text(json.dumps(bom, indent=1), encoding="utf-8")
    artefacts: dict[str, Any] = {"sbom": "sbom.cdx.json", "vulndb": "vulndb.sqlite"}
    shutil.copyfile(vulndb(cache_dir, extra_advisory), where / "vulndb.sqlite")
    if vex:
        shutil.copyfile(EXAMPLE / "vex.openvex.json", where / "vex.openvex.json")
        artefacts["vex"] = ["vex.openvex.json"]
    if firmware_changes is not None:
        image = firmware(cache_dir, tuple(sorted(firmware_changes)))
        if bare:  # the legacy U-Boot header is 64 bytes; the SquashFS (padded to 4 KiB) follows it to the end
            (where / "firmware.img").write_bytes(image.read_bytes()[64:])
        else:
            shutil.copyfile(image, where / "firmware.img")
        artefacts["firmware"] = "firmware.img"
    if (EXAMPLE / "evidence").is_dir():
        shutil.copytree(EXAMPLE / "evidence", where / "evidence", dirs_exist_ok=True)
    data["artefacts"] = artefacts
    path = where / "dossier.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def verdicts(assessment: Any) -> dict[str, Any]:
    """Everything a verdict is made of: attempts' status and verdict, requirement verdicts, scheme statuses."""
    return {
        "checks": {c.key: (str(c.status), str(c.verdict)) for c in assessment.checks},
        "requirements": {
            f"{s.scheme}@{s.version}:{r.id}": str(r.verdict) for s in assessment.schemes for r in s.requirements
        },
        "schemes": {f"{s.scheme}@{s.version}": (str(s.status), s.highest_level) for s in assessment.schemes},
        "markets": {m.market: str(m.status) for m in assessment.markets},
    }


def without(data: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    out = copy.deepcopy(dict(data))
    for key in keys:
        out.pop(key, None)
    return out
