"""The shared ``cybersafe sbom`` command group: SBOM reading and matching (cli/sbom.py) and generation
from firmware (cli/firmware.py) each register their commands under ``sbom``; this group lists them in help
order and imports only the family of the command that runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import typer

from cybersafe.cli.conventions import LazyGroup


class SbomGroup(LazyGroup):
    FAMILIES: ClassVar[Mapping[str, str]] = {
        "generate": "firmware",
        "check": "sbom",
        "vulns": "sbom",
        "vex": "sbom",
        "compare": "sbom",
    }
    PATH: ClassVar[tuple[str, ...]] = ("sbom",)


def register(app: typer.Typer) -> None:
    app.add_typer(
        typer.Typer(
            name="sbom",
            help="Software bills of materials: check minimum elements, list vulnerabilities, export VEX, generate.",
            no_args_is_help=True,
            cls=SbomGroup,
        )
    )
