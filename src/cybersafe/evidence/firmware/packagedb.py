"""Package databases inside a firmware image: dpkg (status and status.d), opkg, apk and rpm (SQLite).

Each database gives components (name, version, architecture, maintainer, licence) and, where it records them,
the files each package owns (dpkg ``info/*.list`` and ``status.d/*.md5sums``, opkg ``info/*.list``, apk
``F:``/``R:`` lines, rpm file names). Ownership lets a version banner found in a file join the package that
ships the file, and lets a finding about a binary name its package.

rpm keeps its database in SQLite (Fedora 33+, openSUSE), Berkeley DB (``Packages``, older releases) or its
own ndb format (``Packages.db``). The SQLite form is read with the standard library; the other two are
recorded as not read (a gap in the components area), never guessed.
"""

from __future__ import annotations

import contextlib
import sqlite3
import stat
import struct
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from packageurl import PackageURL

from cybersafe.evidence.firmware.model import Area, Component, ComponentEvidence, Confidence, NotExamined

MAX_DB_BYTES = 64 * 1024 * 1024
MAX_LIST_BYTES = 4 * 1024 * 1024
_DPKG_STATUS = "var/lib/dpkg/status"
_DPKG_STATUS_D = "var/lib/dpkg/status.d/"
_DPKG_INFO = "var/lib/dpkg/info/"
_OPKG_STATUS = ("usr/lib/opkg/status", "var/lib/opkg/status")
_OPKG_INFO = ("usr/lib/opkg/info/", "var/lib/opkg/info/")
_APK = "lib/apk/db/installed"
_RPM_SQLITE = ("var/lib/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite")
_SQLITE_DIRS = tuple(db.rpartition("/")[0] + "/" for db in _RPM_SQLITE)
_RPM_UNREAD = {
    "var/lib/rpm/Packages": "Berkeley DB",
    "usr/lib/sysimage/rpm/Packages": "Berkeley DB",
    "var/lib/rpm/Packages.db": "ndb",
    "usr/lib/sysimage/rpm/Packages.db": "ndb",
}


def next_to_sqlite(rel: str) -> bool:
    """A file beside an SQLite package database (its journal or WAL, which SQLite reads with it)."""
    return rel.startswith(_SQLITE_DIRS)


def is_database_path(rel: str) -> bool:
    """True for every file this module reads (``rel``: path inside its file system)."""
    return (
        rel in (_DPKG_STATUS, _APK)
        or (rel.startswith(_DPKG_STATUS_D) and "/" not in rel[len(_DPKG_STATUS_D) :])
        or (rel.startswith(_DPKG_INFO) and rel.endswith(".list"))
        or rel in _OPKG_STATUS
        or (rel.startswith(_OPKG_INFO) and rel.endswith((".control", ".list")))
        or rel in _RPM_SQLITE
        or rel in _RPM_UNREAD
    )


@dataclass
class _Package:
    manager: str  # dpkg / opkg / apk / rpm
    name: str
    version: str | None
    arch: str | None
    maintainer: str | None
    licenses: tuple[str, ...]
    source: str  # display path of the database
    root: str  # display prefix of the file system it belongs to


@dataclass
class PackageDatabases:
    """Collects the database files of every file system of one image; read once all are added."""

    distro: str | None = None
    packages: dict[tuple[str, str, str], _Package] = field(default_factory=dict)  # (root, manager, name)
    owners: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # display path -> package key
    gaps: list[NotExamined] = field(default_factory=list)
    files_read: int = 0

    def add(self, rel: str, display: str, path: Path) -> None:
        if rel in _RPM_UNREAD:
            self.gaps.append(
                NotExamined(
                    Area.COMPONENTS,
                    f"rpm database in {_RPM_UNREAD[rel]} format is not read (only the SQLite form is)",
                    display,
                )
            )
            return
        data = _read(path, MAX_DB_BYTES if not rel.endswith((".list", ".md5sums")) else MAX_LIST_BYTES)
        if data is not None:
            self.add_data(rel, display, data, path)

    def add_data(self, rel: str, display: str, data: bytes, path: Path | None = None) -> None:
        """Read one database file's content (``path``: where it is, needed for SQLite)."""
        root = display[: len(display) - len(rel) - 1] if display.endswith("/" + rel) else ""
        self.files_read += 1
        try:
            self._dispatch(rel, display, root, path, data)
        except (ValueError, UnicodeError, sqlite3.Error, struct.error) as exc:
            self.gaps.append(NotExamined(Area.COMPONENTS, f"package database could not be read: {exc}", display))

    def _dispatch(self, rel: str, display: str, root: str, path: Path | None, data: bytes) -> None:
        text = data.decode("utf-8", "replace") if not rel.endswith(".sqlite") else ""
        if rel == _DPKG_STATUS or rel in _OPKG_STATUS:
            self._stanzas("dpkg" if rel == _DPKG_STATUS else "opkg", text, display, root)
        elif rel.startswith(_DPKG_STATUS_D):
            name = PurePosixPath(rel).name
            if name.endswith(".md5sums"):
                self._own(root, ("dpkg", name[: -len(".md5sums")]), (ln.split(None, 1)[-1] for ln in text.splitlines()))
            else:
                self._stanzas("dpkg", text, display, root, require_status=False)
        elif rel.endswith(".list"):
            manager = "dpkg" if rel.startswith(_DPKG_INFO) else "opkg"
            name = PurePosixPath(rel).name[: -len(".list")].split(":", 1)[0]
            self._own(root, (manager, name), text.splitlines())
        elif rel.endswith(".control"):
            self._stanzas("opkg", text, display, root, require_status=False)
        elif rel == _APK:
            self._apk(text, display, root)
        elif rel in _RPM_SQLITE and path is not None:
            self._rpm_sqlite(path, display, root)

    def _own(self, root: str, key: tuple[str, str], paths: object) -> None:
        for line in paths:  # type: ignore[attr-defined]
            owned = str(line).strip()
            if owned.startswith("./"):
                owned = owned[1:]
            if not owned or owned in ("/", "/."):
                continue
            if not owned.startswith("/"):
                owned = "/" + owned
            self.owners.setdefault(root + owned, (root, *key))

    def _add_package(self, pkg: _Package) -> None:
        key = (pkg.root, pkg.manager, pkg.name)
        if key not in self.packages:
            self.packages[key] = pkg

    def _stanzas(self, manager: str, text: str, display: str, root: str, *, require_status: bool = True) -> None:
        for stanza in _stanzas(text):
            name, version = stanza.get("Package"), stanza.get("Version")
            if not name:
                continue
            status = stanza.get("Status")
            if status is not None and "installed" not in status.split():
                continue
            if status is None and require_status and manager == "dpkg":
                continue
            lic = stanza.get("License")
            self._add_package(
                _Package(manager, name, version, stanza.get("Architecture"), stanza.get("Maintainer"),
                         (lic,) if lic else (), display, root)
            )  # fmt: skip

    def _apk(self, text: str, display: str, root: str) -> None:
        for block in text.split("\n\n"):
            fields: dict[str, str] = {}
            folder = ""
            files: list[str] = []
            for line in block.splitlines():
                if len(line) < 2 or line[1] != ":":
                    continue
                tag, value = line[0], line[2:].strip()
                if tag == "F":
                    folder = value
                elif tag == "R":
                    files.append(f"/{folder}/{value}" if folder else f"/{value}")
                else:
                    fields.setdefault(tag, value)
            if not fields.get("P"):
                continue
            lic = fields.get("L")
            self._add_package(
                _Package("apk", fields["P"], fields.get("V"), fields.get("A"), fields.get("m"),
                         (lic,) if lic else (), display, root)
            )  # fmt: skip
            self._own(root, ("apk", fields["P"]), files)

    def _rpm_sqlite(self, path: Path, display: str, root: str) -> None:
        uri = f"file:{path}?mode=ro&immutable=1"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
            rows = conn.execute("SELECT blob FROM Packages").fetchall()
        for (blob,) in rows:
            header = rpm_header(bytes(blob))
            name = header.get(_RPM_NAME)
            if not isinstance(name, str):
                continue
            version = _rpm_evr(header)
            arch = header.get(_RPM_ARCH)
            vendor = header.get(_RPM_VENDOR) or header.get(_RPM_PACKAGER)
            lic = header.get(_RPM_LICENSE)
            self._add_package(
                _Package("rpm", name, version, arch if isinstance(arch, str) else None,
                         vendor if isinstance(vendor, str) else None, (lic,) if isinstance(lic, str) else (),
                         display, root)
            )  # fmt: skip
            self._own(root, ("rpm", name), _rpm_files(header))

    def owner(self, display: str) -> Component | None:
        """The package component that owns the file shown at ``display``, if a database lists it."""
        key = self.owner_key(display)
        return self.component(key) if key is not None else None

    def owner_name(self, display: str) -> str | None:
        key = self.owner_key(display)
        return key[2] if key is not None else None

    def owner_key(self, display: str) -> tuple[str, str, str] | None:
        key = self.owners.get(display)
        if key is None:
            # usrmerge: the database says /bin/x, the file is at /usr/bin/x (or the other way round)
            for root, _, _ in set(self.packages):
                if not display.startswith(root + "/"):
                    continue
                inner = display[len(root) :]
                alt = inner[4:] if inner.startswith("/usr/") else "/usr" + inner
                key = self.owners.get(root + alt)
                if key is not None:
                    break
        return key if key is not None and key in self.packages else None

    def component(self, key: tuple[str, str, str]) -> Component:
        pkg = self.packages[key]
        return Component(
            name=pkg.name,
            version=pkg.version,
            purl=self._purl(pkg),
            how_found=f"{pkg.manager}-database",
            path=pkg.source,
            confidence=Confidence.HIGH,
            supplier=pkg.maintainer,
            licenses=pkg.licenses,
            evidence=(ComponentEvidence(f"{pkg.manager}-database", pkg.source, pkg.version),),
        )

    def components(self) -> list[Component]:
        return [self.component(key) for key in sorted(self.packages)]

    def _purl(self, pkg: _Package) -> str:
        qualifiers = {"arch": pkg.arch} if pkg.arch else None
        if pkg.manager == "dpkg":
            return str(PackageURL("deb", self.distro or "debian", pkg.name, pkg.version, qualifiers))
        if pkg.manager == "apk":
            return str(PackageURL("apk", self.distro or "alpine", pkg.name, pkg.version, qualifiers))
        if pkg.manager == "rpm":
            return str(PackageURL("rpm", self.distro, pkg.name, pkg.version, qualifiers))
        return str(
            PackageURL("generic", None, pkg.name, pkg.version, {**(qualifiers or {}), "package_manager": "opkg"})
        )


def _read(path: Path, limit: int) -> bytes | None:
    try:
        st = path.lstat()
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return None
        return path.read_bytes()
    except OSError:
        return None


def _stanzas(text: str) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if current:
                out.append(current)
            current = {}
            continue
        if ":" in line and not line.startswith((" ", "\t")):
            key, value = line.split(":", 1)
            current.setdefault(key.strip(), value.strip())
    if current:
        out.append(current)
    return out


# --- rpm header blobs (rpm's lib/header.c format: index entries, then a data store) ---------------------

_RPM_NAME, _RPM_VERSION, _RPM_RELEASE, _RPM_EPOCH = 1000, 1001, 1002, 1003
_RPM_VENDOR, _RPM_LICENSE, _RPM_PACKAGER, _RPM_ARCH = 1011, 1014, 1015, 1022
_RPM_DIRINDEXES, _RPM_BASENAMES, _RPM_DIRNAMES = 1116, 1117, 1118
_RPM_INT32, _RPM_STRING, _RPM_STRING_ARRAY, _RPM_I18NSTRING = 4, 6, 8, 9
_RPM_MAX_ENTRIES = 100_000

RpmValue = str | list[str] | list[int]


def rpm_header(blob: bytes) -> dict[int, RpmValue]:
    """The string and int32 tags of one rpm header blob (as stored in rpmdb.sqlite ``Packages.blob``)."""
    count, size = struct.unpack_from(">II", blob, 0)
    if count > _RPM_MAX_ENTRIES or 8 + 16 * count + size > len(blob):
        raise ValueError("rpm header: index or data size beyond the blob")
    store = 8 + 16 * count
    data = blob[store : store + size]
    out: dict[int, RpmValue] = {}
    for i in range(count):
        tag, kind, offset, n = struct.unpack_from(">iIiI", blob, 8 + 16 * i)
        if offset < 0 or offset >= len(data) or n > _RPM_MAX_ENTRIES:
            continue
        if kind in (_RPM_STRING, _RPM_I18NSTRING):
            out[tag] = _cstrings(data, offset, 1)[0]
        elif kind == _RPM_STRING_ARRAY:
            out[tag] = _cstrings(data, offset, n)
        elif kind == _RPM_INT32 and offset + 4 * n <= len(data):
            out[tag] = list(struct.unpack_from(f">{n}i", data, offset))
    return out


def _cstrings(data: bytes, offset: int, n: int) -> list[str]:
    out = []
    for _ in range(n):
        end = data.find(b"\x00", offset)
        if end < 0:
            break
        out.append(data[offset:end].decode("utf-8", "replace"))
        offset = end + 1
    return out or [""]


def _rpm_evr(header: dict[int, RpmValue]) -> str | None:
    version, release, epoch = header.get(_RPM_VERSION), header.get(_RPM_RELEASE), header.get(_RPM_EPOCH)
    if not isinstance(version, str):
        return None
    evr = f"{version}-{release}" if isinstance(release, str) and release else version
    if isinstance(epoch, list) and epoch and epoch[0]:
        evr = f"{epoch[0]}:{evr}"
    return evr


def _rpm_files(header: dict[int, RpmValue]) -> list[str]:
    names, dirs, index = header.get(_RPM_BASENAMES), header.get(_RPM_DIRNAMES), header.get(_RPM_DIRINDEXES)
    if not (isinstance(names, list) and isinstance(dirs, list) and isinstance(index, list)):
        return []
    out = []
    for name, i in zip(names, index, strict=False):
        if isinstance(i, int) and 0 <= i < len(dirs):
            out.append(f"{dirs[i]}{name}")
    return out
