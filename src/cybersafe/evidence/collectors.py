"""The built-in collectors, in the order they run (the SBOM before vulnerability matching)."""

from __future__ import annotations

from collections.abc import Callable

from cybersafe.evidence.interface import Collector

BUILTIN_COLLECTORS: tuple[Callable[[], Collector], ...] = ()
