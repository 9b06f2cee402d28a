"""Per-file facts one scan hands the next (``assess --baseline``), so a new release re-analyses only its changed files.

What the analysers find in one file (secrets, keys, component banners, ELF hardening, credentials of a
configuration file) is a function of its bytes, its path as displayed (``/etc/app.conf``: which names its
place in its file system) and of what every file's facts depend on alike: the scan budget, the day key
expiry is judged on, and the versions of cybersafe and of the libraries the analysers use. The memo records
the facts of every file analysed in full, keyed by its display path; the file's sha256 comes from the
assessment's ``firmware_files``. A file is reused only when its path and sha256 match and the memo was made
under the same budget, day and versions (``key``); anything else is analysed again, so a damaged or foreign
memo costs time, never a finding.

``u`` marks a file of the root file system that unblob searched in the direct route and found nothing in:
unblob is deterministic, so the same bytes need not be searched again (``_unblob_child``).

``q`` (a file of an image that is one whole SquashFS, scanned in the direct route without gaps) is the file's
locator (``squashfs.SquashfsReader.locator``: a digest of the compressed bytes that hold it) and says that
unblob needs nothing from it (it is plain, or ``u``). A delta run of a release that is again one SquashFS tells
the files it knows by their locators, without unpacking the image (``reuse.py``).

``x`` (such a file of such an image that unblob decompressed as a whole into one plain file: a ``.gz`` changelog
of a Debian package) is ``[sha256, handler, name, size]``: the compressed file's sha256, the chunk's handler, and
the name and size of the one file unblob wrote from it, which it then searched and found nothing in. The same
bytes give the same output (unblob is deterministic), whose facts the memo holds under ``<path>!/<name>``; a delta
run then neither decompresses nor searches it (``reuse.py``). Its ``q`` then says only where the bytes sit. A
record a full scan does not write (a file-system handler, a carved chunk's name) is not followed; a well-formed one
is trusted as the memo's facts are (the baseline is an assessment the user made).

Wire form (``InputsOut.firmware_memo``): ``{"key": str, "files": {display path: facts}}``; facts is a
dict with ``s`` (secrets), ``k`` (keys), ``b`` (banners: ``[name, version]``), ``e`` (ELF hardening), ``c``
(credentials; present for configuration files only), ``u``, ``q`` and ``x``, each left out when empty. A file
with ``x`` is no file the assessment lists (``firmware_files`` lists what was decompressed from it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cybersafe import inputs
from cybersafe.evidence.firmware.model import Confidence, Credential, ElfHardening, KeyMaterial, Secret


def memo_key(budget: str, day: str) -> str:
    """What every file's facts depend on besides the file: a memo made under another key is not used."""
    return inputs.sha256_json(
        [budget, day, inputs.tool_fingerprint(), inputs.library_versions(inputs.LIBRARIES["firmware"])]
    )


@dataclass(frozen=True)
class FileFacts:
    """The facts of one file, as the analysers found them (paths are set to the display path on reuse)."""

    secrets: tuple[Secret, ...] = ()
    keys: tuple[KeyMaterial, ...] = ()
    banners: tuple[tuple[str, str | None], ...] = ()
    elf: ElfHardening | None = None
    credentials: tuple[Credential, ...] | None = None  # None: not a configuration file, or not recorded
    unblob_found_nothing: bool = False

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.secrets:
            out["s"] = [_without_path(s) for s in self.secrets]
        if self.keys:
            out["k"] = [_without_path(k) for k in self.keys]
        if self.banners:
            out["b"] = [list(b) for b in self.banners]
        if self.elf is not None:
            out["e"] = _without_path(self.elf)
        if self.credentials is not None:
            out["c"] = [_without_path(c) for c in self.credentials]
        if self.unblob_found_nothing:
            out["u"] = 1
        return out

    @classmethod
    def from_wire(cls, data: Mapping[str, Any], path: str) -> FileFacts:
        """Raises (KeyError, TypeError, ValueError) on a malformed entry: the caller then analyses the file."""
        if data.keys() <= _PLAIN_KEYS:  # most files of an image: analysed, nothing found (by unblob either)
            return _NOTHING_UNBLOB if data.get("u") else _NOTHING
        return cls(
            secrets=tuple(
                Secret(**{**s, "path": path, "confidence": Confidence(s["confidence"])}) for s in data.get("s", ())
            ),
            keys=tuple(
                KeyMaterial(**{**k, "path": path, "weak_reasons": tuple(k.get("weak_reasons", ()))})
                for k in data.get("k", ())
            ),
            banners=tuple(
                (str(name), None if version is None else str(version)) for name, version in data.get("b", ())
            ),
            elf=ElfHardening(**{**data["e"], "path": path}) if "e" in data else None,
            credentials=tuple(Credential(**{**c, "path": path}) for c in data["c"]) if "c" in data else None,
            unblob_found_nothing=bool(data.get("u")),
        )

    @classmethod
    def of(
        cls,
        secrets: tuple[Secret, ...],
        keys: tuple[KeyMaterial, ...],
        banners: tuple[tuple[str, str | None], ...],
        elf: ElfHardening | None,
        credentials: tuple[Credential, ...] | None,
        unblob_found_nothing: bool,
    ) -> FileFacts:
        """``FileFacts(...)``, one shared value for a file in which nothing was found (most files; it is frozen)."""
        if not (secrets or keys or banners or elf is not None or credentials is not None):
            return _NOTHING_UNBLOB if unblob_found_nothing else _NOTHING
        return cls(secrets, keys, banners, elf, credentials, unblob_found_nothing)


_NOTHING = FileFacts()
_NOTHING_UNBLOB = FileFacts(unblob_found_nothing=True)
_PLAIN_KEYS = frozenset({"q", "u"})  # a file's locator, and "unblob found nothing"


@dataclass(frozen=True, slots=True)
class Decompressed:
    """A file of the root file system unblob decompressed as a whole into one plain file (``x``)."""

    sha256: str  # of the compressed file
    handler: str
    name: str  # of the file written into ``<file>_extract/``
    size: int  # of that file

    def to_wire(self) -> list[Any]:
        return [self.sha256, self.handler, self.name, self.size]

    @classmethod
    def from_wire(cls, data: Any) -> Decompressed | None:
        """None for anything but a well-formed record (the file is then unpacked as usual)."""
        if not (isinstance(data, list) and len(data) == 4):
            return None
        sha256, handler, name, size = data
        valid = (
            isinstance(sha256, str)
            and len(sha256) == 64
            and isinstance(handler, str)
            and handler
            and isinstance(name, str)
            and name not in ("", ".", "..")
            and "/" not in name
            and "\x00" not in name
            and type(size) is int
            and size >= 0
        )
        return cls(sha256, handler, name, size) if valid else None


def _without_path(item: Any) -> dict[str, Any]:
    """The fields of a fact but its path, leaving out those that hold their default (a compact memo)."""
    out = {}
    for f in dataclasses.fields(item):
        value = getattr(item, f.name)
        if f.name != "path" and (f.default is dataclasses.MISSING or value != f.default):
            out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


@dataclass
class FileMemo:
    """The facts of the files of one scan, by display path, with the sha256 each was found in."""

    key: str
    files: dict[str, tuple[str, FileFacts]] = field(default_factory=dict)  # display path -> (sha256, facts)
    locators: dict[str, str] = field(default_factory=dict)  # display path -> SquashFS locator (``q``)
    decompressed: dict[str, Decompressed] = field(default_factory=dict)  # display path -> its output (``x``)

    def get(self, path: str, sha256: str) -> FileFacts | None:
        entry = self.files.get(path)
        return entry[1] if entry is not None and entry[0] == sha256 else None

    def known_plain(self) -> dict[str, str]:
        """Files of the root file system unblob found nothing in: path inside it -> sha256 (``_unblob_child``)."""
        return {
            path[1:]: sha256
            for path, (sha256, facts) in self.files.items()
            if facts.unblob_found_nothing and path.startswith("/")
        }

    def to_wire(self) -> dict[str, Any]:
        files: dict[str, dict[str, Any]] = {}
        for path, (_, facts) in self.files.items():
            files[path] = facts.to_wire()
        for path, packed in self.decompressed.items():
            files[path] = {"x": packed.to_wire()}
        for path, wire in files.items():
            if path in self.locators:
                wire["q"] = self.locators[path]
        return {"key": self.key, "files": dict(sorted(files.items()))}

    @classmethod
    def from_wire(cls, data: Mapping[str, Any] | None, digests: Mapping[str, str]) -> FileMemo | None:
        """The memo an assessment recorded (``digests``: its ``firmware_files``); entries that do not parse are
        left out (those files are analysed again); None when there is no usable memo."""
        if not isinstance(data, Mapping) or not isinstance(data.get("key"), str):
            return None
        memo = cls(key=data["key"])
        files = data.get("files")
        for path, facts in files.items() if isinstance(files, Mapping) else ():
            if not isinstance(facts, Mapping):
                continue
            sha256 = digests.get(path)
            if sha256 is None:  # a file decompressed as a whole is not listed: its record holds its sha256
                packed = Decompressed.from_wire(facts.get("x"))
                if packed is not None and isinstance(path, str):
                    memo.decompressed[path] = packed
                    memo.locators.update(_locator(path, facts))
                continue
            try:
                memo.files[path] = (sha256, FileFacts.from_wire(facts, path))
            except (KeyError, TypeError, ValueError):
                continue
            locator = facts.get("q")
            if isinstance(locator, str) and len(locator) == 64:
                memo.locators[path] = locator
        return memo


def _locator(path: str, facts: Mapping[str, Any]) -> dict[str, str]:
    locator = facts.get("q")
    return {path: locator} if isinstance(locator, str) and len(locator) == 64 else {}
