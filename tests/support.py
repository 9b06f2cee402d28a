"""What every test shares: the fixed clock, the dossier builder, a free loopback port and the golden-file updater.

Import it as ``from tests.support import ...``; nothing here is a fixture, so plain helpers and benchmarks
can use it too.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import socket
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import yaml

from cybersafe.dossier.model import Dossier
from cybersafe.results import Assessment

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_DOSSIER = REPO / "examples" / "smart-camera" / "dossier.yaml"

# The one instant the suite runs at: assessments, labels, reports and check cases are judged as of it.
NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
NOW_ISO = NOW.isoformat()
TODAY = NOW.date()

LOOPBACK = "127.0.0.1"

# The smallest valid product; tests add what they need with ``dossier(...)``.
MINIMAL_PRODUCT: dict[str, Any] = {"manufacturer": {"name": "ACME"}, "name": "Acme Cam", "model": "C2"}

Base = Literal["minimal", "example"]


def merge(base: Any, patch: Any) -> Any:
    """``base`` deep-merged with ``patch``: mappings merge key by key, a ``None`` value removes the key, anything
    else replaces. Neither argument is changed."""
    if isinstance(base, Mapping) and isinstance(patch, Mapping):
        out = dict(base)
        for key, value in patch.items():
            if value is None:
                out.pop(key, None)
            else:
                out[key] = merge(base.get(key), value)
        return out
    return copy.deepcopy(patch)


def dossier_data(*, base: Base = "minimal", patch: Mapping[str, Any] | None = None, **top: Any) -> dict[str, Any]:
    """The wire form of a test dossier.

    ``base``: ``minimal`` (a product and nothing else) or ``example`` (examples/smart-camera/dossier.yaml, without
    its artefacts, which name files beside it). Then ``patch`` is deep-merged (``None`` removes), then each keyword
    replaces a top-level key (``markets=["eu"]``, ``artefacts={...}``, ``declarations={...}``).
    """
    if base == "example":
        data: dict[str, Any] = yaml.safe_load(EXAMPLE_DOSSIER.read_text(encoding="utf-8"))
        data.pop("artefacts", None)
    else:
        data = {"schema": "cybersafe/dossier/v1", "product": copy.deepcopy(MINIMAL_PRODUCT)}
    data = merge(data, patch or {})
    for key, value in top.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = copy.deepcopy(value)
    return data


def dossier(*, base: Base = "minimal", patch: Mapping[str, Any] | None = None, **top: Any) -> Dossier:
    """A validated test dossier; see ``dossier_data``."""
    return Dossier.model_validate(dossier_data(base=base, patch=patch, **top))


def with_dossier(assessment: Assessment, change: Mapping[str, Any] | Callable[[dict[str, Any]], None]) -> Assessment:
    """A copy of ``assessment`` whose dossier is changed: ``change`` is a patch deep-merged into it (``None`` removes
    a key) or a function that edits its wire form in place (to replace a whole table, say)."""
    data = json.loads(assessment.to_json())
    if callable(change):
        change(data["dossier"])
    else:
        data["dossier"] = merge(data["dossier"], change)
    return Assessment.model_validate(data)


def free_port(kind: int = socket.SOCK_STREAM, host: str = LOOPBACK) -> int:
    """A port on the loopback interface that nothing listens on right now (TCP by default, ``SOCK_DGRAM`` for UDP)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class ClosedPort:
    """A TCP port on the loopback interface that stays closed until ``close``: a socket is bound to it and does not
    listen, so a connection is refused, and no other process can listen on it meanwhile. A port ``free_port`` only
    found free can be taken by anything else on the machine (another suite's SSH server, on a shared machine) before
    a probe reaches it, and the probe then reports a service where the test expects a closed port."""

    def __init__(self, host: str = LOOPBACK) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # no SO_REUSEADDR: nobody else may bind it
        self._sock.bind((host, 0))
        self.port = int(self._sock.getsockname()[1])

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> ClosedPort:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


UPDATE_GOLDEN_VARIABLE = "CYBERSAFE_UPDATE_GOLDEN"


def updating_golden() -> bool:
    """True when the run was asked to rewrite golden files (``CYBERSAFE_UPDATE_GOLDEN=1``)."""
    return os.environ.get(UPDATE_GOLDEN_VARIABLE) == "1"


def check_golden(path: Path, actual: str) -> None:
    """``actual`` equals the committed golden file ``path``; with ``CYBERSAFE_UPDATE_GOLDEN=1`` the file is
    rewritten first (review the diff, then commit it)."""
    if updating_golden():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.is_file(), f"golden file {path} missing: run with {UPDATE_GOLDEN_VARIABLE}=1"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, (
        f"{path.name} differs from its golden file; if intended, rerun with {UPDATE_GOLDEN_VARIABLE}=1 and review the diff"
    )
