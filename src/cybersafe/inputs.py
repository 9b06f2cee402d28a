"""What each check attempt was computed from, input by input, so a later run can tell what changed.

An input has a name and a digest. Names:

- ``as_of``: the assessment date, when the check reads it;
- ``dossier:<section>``: a section of the dossier the check read (``dossier:declarations.update``,
  ``dossier:ics``), found by recording its reads while it runs; ``dossier:*`` when it called a method of the
  dossier, so the whole dossier counts;
- ``collectors``: the collectors of the run (a kind none of them produces reads as absent);
- the inputs of each evidence kind the check requires or fetched, given by the collector that produces it:
  ``firmware``, ``firmware:budget``, ``firmware:date`` (the day certificate expiry is judged on: the scan
  uses the clock), ``sbom``, ``vex``, ``vulndb`` (the database version), ``device`` (the device artefact and
  the declared interfaces), ``device:date`` (a probe observes a live device on a day), and ``<kind>:tools``,
  the versions of the libraries that collector's facts depend on (unblob, lief ...).

A check is a deterministic function of what it reads: given the same value for every input it read, it
reads the same inputs again and returns the same findings. That is what lets ``assess --baseline`` reuse an
attempt whose inputs are unchanged (cybersafe/delta.py). Evidence a check reads outside these inputs (the
problem list, the artefact list, the base directory) marks its attempt as never reusable.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import functools
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar, cast

from pydantic import BaseModel

from cybersafe import safeio
from cybersafe.dossier.model import Dossier
from cybersafe.errors import CybersafeError
from cybersafe.evidence.interface import Collector, Evidence
from cybersafe.version import tool_version

T = TypeVar("T")

ABSENT = "absent"
UNREUSABLE_PREFIXES = ("evidence:", "collector:")  # reads no digest can stand for
# Libraries whose output a collector's evidence depends on: a new version may find other facts in the same bytes.
LIBRARIES = {
    "firmware": ("unblob", "lief", "pyperscan"),
    "vulndb": ("univers",),
    "device": ("sslyze", "ssh-audit"),
}


@dataclass(frozen=True)
class Source:
    """The inputs of the evidence one collector produces, and how its records are recognised."""

    inputs: tuple[str, ...]
    problems: tuple[str, ...]  # Problem.source values (or their prefix before a dot) this collector records
    artefacts: tuple[str, ...]  # Artefact.kind values it records


# One entry per built-in collector NAME (a test keeps this in step with BUILTIN_COLLECTORS). A collector with
# no entry here is never skipped and the checks reading its evidence are never reused.
SOURCES: dict[str, Source] = {
    "firmware": Source(
        ("firmware", "firmware:budget", "firmware:date", "firmware:tools"), ("firmware",), ("firmware",)
    ),
    "sbom": Source(("sbom",), ("sbom",), ("sbom",)),
    "vulnerabilities": Source(("sbom", "vex", "vulndb", "vulndb:tools"), ("vulnerabilities",), ()),
    # A device runs its firmware: a new image means a new device, whatever the dossier says.
    "device": Source(("device", "firmware", "device:date", "device:tools"), ("device", "network"), ("device",)),
}


def tool_fingerprint() -> str:
    """The cybersafe version (the libraries a collector depends on are inputs of its own: ``firmware:tools``)."""
    return f"cybersafe {tool_version()}"


@functools.cache
def library_versions(names: tuple[str, ...]) -> str:
    """Per process: reading a package's metadata costs ~1 ms, and an installed version does not change under a
    running process."""
    parts = []
    for name in names:
        try:
            parts.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name} absent")
    return "; ".join(parts)


def sha256_json(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def sha256_path(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in safeio.blocks(handle):
            digest.update(block)
    return digest.hexdigest()


def reusable_name(name: str) -> bool:
    return not name.startswith(UNREUSABLE_PREFIXES)


class _SectionReads:
    """A read-only view of a dossier (or one of its sections) that notes which section each read touches."""

    __slots__ = ("_depth", "_path", "_reads", "_real")

    def __init__(self, real: BaseModel, path: str, reads: set[str], depth: int) -> None:
        self._real = real
        self._path = path
        self._reads = reads
        self._depth = depth

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._real, name)
        here = f"{self._path}.{name}" if self._path else name
        if name.startswith(("_", "model_")) or callable(value):
            # A method may read anything of its object: the whole object counts as read.
            self._reads.add("dossier:" + (self._path or "*"))
            return value
        if self._depth > 0 and isinstance(value, BaseModel):
            return _SectionReads(value, here, self._reads, self._depth - 1)
        self._reads.add("dossier:" + here)
        return value


class RecordingEvidence(Evidence):
    """One check's view of the evidence bundle: the same items, with every read noted in ``reads``."""

    def __init__(self, base: Evidence, reads: set[str]) -> None:  # no super().__init__: the view shares base's state
        object.__setattr__(self, "_reads", reads)
        object.__setattr__(self, "_base", base)
        self.items = base.items
        self.failures = base.failures
        self.problems = base.problems
        self.artefacts = base.artefacts
        self.base_dir = base.base_dir
        self.as_of = base.as_of
        self.dossier = cast(Dossier, _SectionReads(base.dossier, "", reads, 1))

    def __getattribute__(self, name: str) -> Any:
        if name in ("problems", "artefacts", "base_dir"):
            object.__getattribute__(self, "_reads").add(f"evidence:{name}")
        elif name == "as_of":
            object.__getattribute__(self, "_reads").add("as_of")
        return object.__getattribute__(self, name)

    def get(self, kind: type[T]) -> T | None:
        reads: set[str] = object.__getattribute__(self, "_reads")
        item = object.__getattribute__(self, "items").get(kind)
        if not isinstance(item, kind):
            return None
        if isinstance(item, Dossier):
            return cast(T, _SectionReads(item, "", reads, 1))
        reads.add(f"kind:{kind.__name__}")
        return item


@dataclass
class InputDigester:
    """Digests of the named inputs of one assessment, computed once each, from the files the dossier names."""

    dossier: Dossier
    base_dir: Path
    collectors: tuple[Collector, ...]
    as_of: dt.date
    today: dt.date
    cache: dict[str, str] = field(default_factory=dict)
    # files another part of the run hashes anyway (the firmware image, for its scan): path -> its (sha256, size), or
    # a future holding it or why it could not be read; the file's input digest takes it instead of reading again
    hashed: dict[Path, concurrent.futures.Future[tuple[str, int]] | tuple[str, int]] = field(default_factory=dict)
    # inputs known to differ from any recorded digest without computing theirs (an image of another size)
    changed: set[str] = field(default_factory=set)

    @cached_property
    def kind_inputs(self) -> dict[str, tuple[str, ...]]:
        """Evidence kind name -> the input names it stands for (from the collector that produces it)."""
        out: dict[str, tuple[str, ...]] = {Dossier.__name__: ()}
        for collector in self.collectors:
            source = SOURCES.get(collector.NAME)
            names = source.inputs if source is not None else (f"collector:{collector.NAME}",)
            for kind in collector.PRODUCES:
                out[kind.__name__] = names
        return out

    @cached_property
    def _wire(self) -> dict[str, Any]:
        return self.dossier.model_dump(mode="json", by_alias=False)

    def expand(self, names: Iterable[str]) -> tuple[str, ...]:
        """Recorded names with each ``kind:<Name>`` replaced by the inputs of that evidence kind."""
        out: set[str] = set()
        for name in names:
            if name.startswith("kind:"):
                # A kind no collector of this run produces is absent: which collectors ran is the input.
                out.update(self.kind_inputs.get(name[5:], ("collectors",)))
            else:
                out.add(name)
        return tuple(sorted(out))

    def digest(self, name: str) -> str:
        if name not in self.cache:
            self.cache[name] = self._compute(name)
        return self.cache[name]

    def differs(self, name: str, recorded: str) -> bool:
        """Whether the input is no longer the one ``recorded`` digests; one known to have changed is not read."""
        return name in self.changed or self.digest(name) != recorded

    def digests(self, names: Iterable[str]) -> dict[str, str]:
        return {name: self.digest(name) for name in names}

    def _compute(self, name: str) -> str:
        if name.startswith("dossier:"):
            return self._section(name[8:])
        if name.startswith(UNREUSABLE_PREFIXES):
            return "not recorded"
        artefacts = self.dossier.artefacts
        simple: dict[str, Any] = {
            "as_of": self.as_of.isoformat,
            "firmware": lambda: self._file(artefacts.firmware),
            "firmware:budget": self._budget,
            "firmware:date": lambda: self._when(artefacts.firmware, self.today.isoformat()),
            "device:date": lambda: self._when(artefacts.device, self.today.isoformat()),
            "firmware:tools": lambda: self._when(artefacts.firmware, library_versions(LIBRARIES["firmware"])),
            "device:tools": lambda: self._when(artefacts.device, library_versions(LIBRARIES["device"])),
            "vulndb:tools": lambda: self._when(
                None if self.digest("vulndb") == ABSENT else "db", library_versions(LIBRARIES["vulndb"])
            ),
            "sbom": lambda: self._file(artefacts.sbom),
            "vex": lambda: sha256_json([[vex, self._file(vex)] for vex in artefacts.vex]) if artefacts.vex else ABSENT,
            "collectors": lambda: ", ".join(sorted(c.NAME for c in self.collectors)),
            "vulndb": self._vulndb,
            "device": self._device,
        }
        compute = simple.get(name)
        return str(compute()) if compute is not None else "unknown input"

    @staticmethod
    def _when(artefact: object, value: str) -> str:
        """``value`` when the dossier names the artefact it qualifies, else absent (nothing depends on it)."""
        return value if artefact is not None else ABSENT

    def _section(self, path: str) -> str:
        value: Any = self._wire
        if path != "*":
            for part in path.split("."):
                value = value.get(part) if isinstance(value, dict) else None
        return sha256_json(value)

    def _file(self, relative: str | None) -> str:
        """The file's content digest with the path a collector reads it at (findings name the file)."""
        if relative is None:
            return ABSENT
        path = self.base_dir / relative
        sha256 = self._hashed_elsewhere(path)
        if sha256 is not None:
            return sha256_json([str(path), sha256])
        try:
            return sha256_json([str(path), sha256_path(path)]) if path.is_file() else f"missing: {relative}"
        except OSError as exc:
            return f"unreadable: {relative}: {exc.strerror or exc}"

    def _hashed_elsewhere(self, path: Path) -> str | None:
        """The sha256 another part of the run took of ``path``; None when none did or it could not read the file
        (the file is then read here, so the digest records what is wrong with it)."""
        known = self.hashed.get(path)
        if known is None:
            return None
        try:
            return (known.result() if isinstance(known, concurrent.futures.Future) else known)[0]
        except (CybersafeError, OSError):
            return None

    def _budget(self) -> str:
        for collector in self.collectors:
            budget = getattr(collector, "budget", None)
            if collector.NAME == "firmware" and budget is not None:
                return str(getattr(budget, "name", budget))
        return "default"

    def _vulndb(self) -> str:
        from cybersafe.errors import CybersafeError
        from cybersafe.evidence.vulndb.store import ENV_VAR, VulnDb

        if self.dossier.artefacts.sbom is None:
            return ABSENT  # the vulnerability collector only runs for an SBOM
        relative = self.dossier.artefacts.vulndb
        path = self.base_dir / relative if relative else Path(os.environ[ENV_VAR]) if os.environ.get(ENV_VAR) else None
        if path is None or not path.is_file():
            return ABSENT if path is None else f"missing: {path}"
        try:
            with VulnDb(path, read_only=True) as db:
                return sha256_json([str(path), db.version()])
        except CybersafeError as exc:
            return f"unreadable: {exc}"

    def _device(self) -> str:
        wire = self._wire
        device = (wire.get("artefacts") or {}).get("device")
        if device is None:
            return ABSENT
        return sha256_json({"device": device, "interfaces": (wire.get("declarations") or {}).get("interfaces")})


@dataclass(frozen=True)
class ScannedFiles:
    """What an assessment records of the scanned image's files: path -> sha256, the per-file facts (wire form of
    ``evidence/firmware/memo.FileMemo``) and how many files took theirs from a baseline (None: no image)."""

    digests: dict[str, str] = field(default_factory=dict)
    memo: dict[str, Any] | None = None
    reused: int | None = None
    written: int | None = None  # files written out to be read (fewer than all: the image was read in place)


def scanned_files(evidence: Evidence) -> ScannedFiles:
    from cybersafe.evidence.firmware.model import FirmwareInventory

    inventory = evidence.get(FirmwareInventory)
    if inventory is None:
        return ScannedFiles()
    return ScannedFiles(
        digests={f.path: f.sha256 for f in inventory.files},
        memo=inventory.file_facts.to_wire() if inventory.file_facts is not None else None,
        reused=inventory.stats.get("reused_files", 0),
        written=inventory.stats.get("written_files", len(inventory.files)),
    )


@dataclass
class RunInputs:
    """The inputs of one assessment run, as ``InputsOut`` puts them on the wire."""

    tool: str
    digests: dict[str, str]
    reads: dict[str, tuple[str, ...]]  # attempt key -> input names
    firmware_files: dict[str, str] = field(default_factory=dict)
    firmware_memo: dict[str, Any] | None = None  # wire form of evidence/firmware/memo.FileMemo


def run_inputs(
    digester: InputDigester,
    reads: Mapping[str, Iterable[str]],
    files: Mapping[str, str],
    tool: str,
    memo: dict[str, Any] | None = None,
) -> RunInputs:
    expanded = {key: digester.expand([*names, "collectors"]) for key, names in reads.items()}
    used = sorted({name for names in expanded.values() for name in names})
    return RunInputs(
        tool=tool, digests=digester.digests(used), reads=expanded, firmware_files=dict(files), firmware_memo=memo
    )
