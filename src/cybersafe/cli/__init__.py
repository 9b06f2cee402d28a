"""The cybersafe command line (Typer + Rich): a thin adapter over the core; the only place that prints.

Root options: ``--version``, ``-q/--quiet``, ``-v/--verbose``, ``--config FILE``. Every option of every
command can also come from ``CYBERSAFE_<COMMAND>_<OPTION>`` or the config file (cli/conventions.py).
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, ClassVar, NoReturn

from cybersafe import gcpolicy
from cybersafe.cli._prestart import start_from_argv

# A firmware scan starts unpacking before the rest of the command line loads (see _prestart).
start_from_argv(sys.argv)

# The rest comes after the early start, on purpose.
import typer  # noqa: E402

from cybersafe.cli._common import EXIT_BAD_INPUT, err_console, set_verbosity  # noqa: E402
from cybersafe.cli.conventions import LazyGroup  # noqa: E402


class RootGroup(LazyGroup):
    """Every command of ``cybersafe`` in help order, with the family module (``cybersafe.cli.<module>``) that
    defines it: a command imports its own family only (tests/cli/test_lazy.py checks this against the families)."""

    FAMILIES: ClassVar[Mapping[str, str]] = {
        "assess": "core",
        "schemes": "core",
        "crosswalk": "core",
        "recognize": "core",
        "demo": "core",
        "probe": "network",
        "report": "report",
        "paperwork": "report",
        "verify": "label",
        "batch": "fleet",
        "diff": "fleet",
        "scheme": "core",
        "firmware": "firmware",
        "sbom": "sbom_group",
        "vulndb": "sbom",
        "watch": "sbom",
        "label": "label",
        "keys": "label",
        "registry": "registry",
    }


app = typer.Typer(
    name="cybersafe",
    help="Assess an IoT product once and see its verdict for every labelling scheme.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    cls=RootGroup,
)


def _version(value: bool) -> None:
    if value:
        from cybersafe.version import tool_version

        typer.echo(f"cybersafe {tool_version()}")
        raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Only results and errors: no progress, no notes.")
    ] = False,
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More detail: -v notes and timings, -vv debug logs.")
    ] = 0,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            metavar="FILE",
            envvar="CYBERSAFE_CONFIG",
            help="Settings file (TOML); default ./cybersafe.toml, else cybersafe.toml in the user config directory.",
        ),
    ] = None,
) -> None:
    """Assess an IoT product once and see its verdict for every labelling scheme."""
    from cybersafe.cli.conventions import config_path, load_config
    from cybersafe.errors import CybersafeError

    set_verbosity(quiet=quiet, verbose=verbose)
    path = config_path(config)
    if path is not None:
        try:
            ctx.default_map = load_config(path, ctx.command)
        except CybersafeError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None


def _quiet_native_leak_reports() -> None:
    # lief's bindings report objects still alive at interpreter exit; they are the process's own, not leaks
    # anyone can act on, and they drown the output of every firmware command.
    lief = sys.modules.get("lief")
    if lief is not None:
        lief.disable_leak_warning()


def main() -> None:
    atexit.register(_quiet_native_leak_reports)
    gcpolicy.for_assessments()
    try:
        app()
    except SystemExit as done:
        _exit_now(done.code)
    _exit_now(0)


def _exit_now(code: object) -> NoReturn:
    """Leave as a normal exit would, without the interpreter's final teardown of every module and object (lief's
    bindings, the catalog, pydantic's schemas): 0.15 s of every command. Non-daemon threads are waited for and
    the exit handlers run, in the interpreter's own order, and the output is flushed; then the process ends."""
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # SystemExit("message"): printed, status 1, as Python does
        print(code, file=sys.stderr)
        status = 1
    threading._shutdown()  # type: ignore[attr-defined]  # what finalisation does first
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (cybersafe ... | head): nothing left to say
            status = status or 1
    os._exit(status)
