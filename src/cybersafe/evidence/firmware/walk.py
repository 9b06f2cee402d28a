"""Walking an extracted tree without recursion (a hostile image may nest directories thousands deep) and
without following links. Import-free beyond the standard library: the extraction child uses it too."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path


def iter_tree(root: Path) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """(directory, entry) for everything under ``root``, depth first, without recursion or following links."""
    stack = [str(root)]
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as entries:
                for entry in entries:
                    yield current, entry
                    with contextlib.suppress(OSError):
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
        except OSError:
            continue


def regular_files(root: Path) -> Iterator[tuple[str, os.stat_result]]:
    """(path, lstat) of every regular file under ``root``."""
    for _, entry in iter_tree(root):
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):
            yield entry.path, st
