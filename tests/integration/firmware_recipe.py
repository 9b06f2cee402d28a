"""Build one small firmware image from a case's recipe: ``__input__/firmware/`` of a firmware integration case.

A recipe directory holds:

- ``recipe.yaml``: how to build (the ``Recipe`` model below: which file system, which Debian packages to unpack,
  which C programs to compile with or without hardening, which keys and certificates to generate, which modes
  to set, which values to fill in);
- ``rootfs/``: files copied into the image as they are (``/etc/passwd``, ``/etc/inittab`` ...). Files get mode 0644
  (0755 when executable in git); ``modes`` in the recipe sets anything else (setuid, world-writable);
- ``src/``: C sources named by ``compile``;
- ``archives/``: directories packed as tarballs nested in the image (``archives`` in the recipe).

``@@NAME@@`` in a rootfs file or a C source is replaced by ``values[NAME]``, the concatenation of its parts: fake
tokens are split so that no secret scanner flags the repository, and so is a private key never committed
(keys and certificates are generated at build time; certificates relative to the build time).

Images are cached by the digest of the recipe directory and of this file (``$CYBERSAFE_FW_IMAGE_CACHE`` or a
directory under the system temp dir), so a session builds each one once.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from tests.evidence.firmware.build_images import _cert, _compile, _dpkg_list, _dpkg_status, _key_pem, image_cache_dir
from tests.evidence.firmware.debs import deb

Pack = Literal["squashfs-xz", "squashfs-gzip", "ext4"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Compile(_Strict):
    source: str  # file in src/
    to: str  # path inside the image
    hardened: bool  # -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE -pie -z relro -z now, or the opposite


class RsaKey(_Strict):
    to: str
    bits: int


class Certificate(_Strict):
    to: str
    expired: bool = False  # expired 30 days before the build, else valid for ten years
    public_key_to: str | None = None  # also write the certificate's public key (PEM) here


class Archive(_Strict):
    to: str  # path inside the image of a .tar.gz
    source: str  # directory in archives/ whose entries are packed (their names are the archive's top level)


class Recipe(_Strict):
    pack: Pack = "squashfs-xz"
    debs: tuple[str, ...] = ()  # Debian packages unpacked into the root (docs and man pages left out)
    remove: tuple[str, ...] = ()  # paths removed after the packages are unpacked
    values: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    compile: tuple[Compile, ...] = ()
    archives: tuple[Archive, ...] = ()  # tarballs nested in the image, packed from archives/
    rsa_keys: tuple[RsaKey, ...] = ()
    certificates: tuple[Certificate, ...] = ()
    dropbear_keys: tuple[str, ...] = ()  # Ed25519 host keys made by dropbearkey
    directories: dict[str, str] = Field(default_factory=dict)  # path -> octal mode, created if absent
    modes: dict[str, str] = Field(default_factory=dict)  # path -> octal mode


def load_recipe(directory: Path) -> Recipe:
    raw = yaml.safe_load((directory / "recipe.yaml").read_text(encoding="utf-8")) or {}
    return Recipe.model_validate(raw)


def _digest(directory: Path) -> str:
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(directory)).encode() + b"\0")
        digest.update(b"x" if os.access(path, os.X_OK) else b"-")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:24]


def cases_cache_dir() -> Path:
    """Beside the shared images' directory of the same builder version (``build_all`` renames a whole directory
    into place, so nothing else may live inside it)."""
    shared = image_cache_dir()
    return shared.with_name(f"{shared.name}-cases")


def build_image(directory: Path, cache: Path | None = None) -> Path:
    """The image the recipe in ``directory`` describes, built once into the cache; returns its path."""
    recipe = load_recipe(directory)
    out_dir = cache or cases_cache_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{_digest(directory)}.img"
    if target.is_file():
        return target
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        root = work / "root"
        root.mkdir()
        _populate(root, directory, recipe)
        partial = out_dir / f".{target.name}.{os.getpid()}"
        _pack(root, partial, recipe.pack)
        partial.replace(target)  # atomic: a concurrent run sees the whole image or none
    return target


def _populate(root: Path, directory: Path, recipe: Recipe) -> None:
    if recipe.debs:
        _unpack_debs(root, recipe.debs)
    for rel in recipe.remove:
        (root / rel).unlink()
    _copy_tree(directory / "rootfs", root, recipe.values)
    for archive in recipe.archives:
        _tar_gz(directory / "archives" / archive.source, root / archive.to)
    for item in recipe.compile:
        source = _fill((directory / "src" / item.source).read_text(encoding="utf-8"), recipe.values)
        _compile(source, root / item.to, hardened=item.hardened)
    for key in recipe.rsa_keys:
        _write(root, key.to, _key_pem(key.bits), 0o600)
    for cert in recipe.certificates:
        pem, public = _cert(expired=cert.expired, sha1=False)
        _write(root, cert.to, pem)
        if cert.public_key_to:
            _write(root, cert.public_key_to, public)
    for rel in recipe.dropbear_keys:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["dropbearkey", "-t", "ed25519", "-f", str(root / rel)], check=True, capture_output=True)
    for rel, mode in recipe.directories.items():
        (root / rel).mkdir(parents=True, exist_ok=True)
        (root / rel).chmod(int(mode, 8))
    for rel, mode in recipe.modes.items():
        (root / rel).chmod(int(mode, 8))


def _unpack_debs(root: Path, names: tuple[str, ...]) -> None:
    """The packages' files and the dpkg database that owns them (status and one ``info/<name>.list`` each)."""
    debs = [deb(name) for name in names]
    for package in debs:
        subprocess.run(["dpkg-deb", "-x", str(package), str(root)], check=True, capture_output=True)
        _write(root, f"var/lib/dpkg/info/{package.name.split('_', 1)[0]}.list", _dpkg_list(package).encode())
    for junk in ("usr/share/doc", "usr/share/man"):
        shutil.rmtree(root / junk, ignore_errors=True)
    _write(root, "var/lib/dpkg/status", _dpkg_status(debs).encode())


def _fill(text: str, values: dict[str, tuple[str, ...]]) -> str:
    for name, parts in values.items():
        text = text.replace(f"@@{name}@@", "".join(parts))
    return text


def _copy_tree(source: Path, root: Path, values: dict[str, tuple[str, ...]]) -> None:
    if not source.is_dir():
        return
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if path.is_dir():
            (root / rel).mkdir(parents=True, exist_ok=True)
            (root / rel).chmod(0o755)
            continue
        data = path.read_bytes()
        if b"@@" in data:
            data = _fill(data.decode("utf-8"), values).encode("utf-8")
        _write(root, str(rel), data, 0o755 if os.access(path, os.X_OK) else 0o644)


def _tar_gz(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(target, "w:gz") as tar:
        for entry in sorted(source.iterdir()):
            tar.add(entry, arcname=entry.name)


def _write(root: Path, rel: str, data: bytes, mode: int = 0o644) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)


def _pack(root: Path, target: Path, pack: Pack) -> None:
    if pack == "ext4":
        command = ["mkfs.ext4", "-q", "-F", "-E", "root_owner=0:0", "-d", str(root), str(target), "8M"]
    else:
        compression = pack.removeprefix("squashfs-")
        command = ["mksquashfs", str(root), str(target), "-comp", compression, "-all-root", "-noappend", "-quiet",
                   "-no-progress"]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)
