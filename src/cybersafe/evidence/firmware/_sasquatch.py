"""A ``sasquatch`` shim over Debian's ``unsquashfs`` (feasibility.md section 1).

unblob extracts every SquashFS through ``sasquatch``, which neither Debian nor PyPI ships. Debian's
``unsquashfs`` (4.5+) accepts the same ``-no-exit-code -f -d`` options; the shim drops the endianness
switches ``-le``/``-be``. Standard little-endian SquashFS 4 works; vendor big-endian or LZMA-variant
SquashFS does not (README: unsupported). The shim goes into a private bin dir that only the unblob child
process has on its PATH.
"""

from __future__ import annotations

from pathlib import Path

SHIM = """#!/bin/sh
# cybersafe: sasquatch shim over Debian unsquashfs (drops -le/-be)
for a in "$@"; do
  shift
  case "$a" in -le|-be) ;; *) set -- "$@" "$a" ;; esac
done
exec unsquashfs "$@"
"""


def install_shim(bin_dir: Path) -> Path:
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name in ("sasquatch", "sasquatch-v4be"):
        target = bin_dir / name
        target.write_text(SHIM)
        target.chmod(0o755)
    return bin_dir
