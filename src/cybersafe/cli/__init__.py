"""The cybersafe command line (Typer + Rich): a thin adapter over the core; the only place that prints."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="cybersafe",
    help="Assess an IoT product once and see its verdict for every labelling scheme.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    # Each family registers its commands here; the import order is the help order.
    from cybersafe.cli import core

    core.register(app)
    from cybersafe.cli import firmware as firmware_cli

    firmware_cli.register(app)
    from cybersafe.cli import sbom as sbom_cli
    from cybersafe.cli import sbom_group

    sbom_group.register(app)
    sbom_cli.register(app)
    from cybersafe.cli import network as network_cli

    network_cli.register(app)
    from cybersafe.cli import report as report_cli

    report_cli.register(app)
    from cybersafe.cli import label as label_cli

    label_cli.register(app)
    from cybersafe.cli import registry as registry_cli

    registry_cli.register(app)


_register()


def main() -> None:
    app()
