"""The installed version of cybersafe, read from the package metadata when asked."""

from __future__ import annotations

import functools


@functools.cache  # reading package metadata costs milliseconds, and it does not change under a running process
def tool_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("cybersafe")
    except metadata.PackageNotFoundError:  # running from a source tree without installation
        return "0+unknown"
