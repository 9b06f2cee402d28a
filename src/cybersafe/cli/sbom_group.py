"""The shared ``cybersafe sbom`` command group: SBOM reading and matching (cli/sbom.py) and generation
from firmware (the firmware family) add their commands to ``sbom_app``."""

from __future__ import annotations

import typer

sbom_app = typer.Typer(
    name="sbom",
    help="Software bills of materials: check minimum elements, list vulnerabilities, export VEX, generate.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(sbom_app)
