"""Shared pieces of the command line: output format, JSON on stdout, one-line errors and exit codes.

Only the cli package prints or exits. Exit codes: 0 meets all requested schemes / success, 1 does not
meet / findings, 2 bad input or any cybersafe error (one line, no traceback).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import sys
from collections.abc import Callable, Iterable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from cybersafe.errors import CybersafeError, InputError

if TYPE_CHECKING:
    from cybersafe.schemes.catalog import Catalog

P = ParamSpec("P")
R = TypeVar("R")

EXIT_OK = 0
EXIT_NOT_MET = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3  # a bug in cybersafe; CYBERSAFE_DEBUG=1 shows the traceback


def _width(stream: Any) -> int | None:
    """A terminal's own width; piped into a file or a CI log, 200 columns (or $COLUMNS), never Rich's 80,
    so tables are not squeezed into one-word columns."""
    if stream.isatty():
        return None
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) >= 80 else 200


console = Console(width=_width(sys.stdout))
err_console = Console(stderr=True, width=_width(sys.stderr))


def set_verbosity(*, quiet: bool, verbose: int) -> None:
    """-q: results and errors only (no progress, no notes); -v: notes and timings; -vv: debug logs too."""
    import logging

    console.quiet = quiet and sys.stdout.isatty() is not False and quiet
    VERBOSITY["quiet"], VERBOSITY["verbose"] = quiet, verbose
    level = logging.DEBUG if verbose >= 2 else logging.INFO if verbose == 1 else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr, force=True)


VERBOSITY: dict[str, Any] = {"quiet": False, "verbose": 0}


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


FORMAT_OPTION = typer.Option(OutputFormat.TABLE, "--format", "-f", help="table for people, json for scripts")


def check_output(output: Path | None, field: str = "--output") -> None:
    """Refuse, before any work, an ``-o FILE`` that names a directory or lies in a directory that does not
    exist (``-`` and None are stdout)."""
    if output is None or str(output) == "-":
        return
    if output.is_dir():
        raise InputError("is a directory; -o names the file to write", file=output, field=field)
    parent = output.parent
    if not parent.is_dir():
        what = "is not a directory" if parent.exists() else "does not exist"
        raise InputError(f"the directory {parent} {what}", file=output, field=field)


def check_out_dir(out: Path | None, field: str = "--out") -> None:
    """Refuse, before any work, an ``--out DIR`` that names an existing file (a missing directory is made)."""
    if out is not None and out.exists() and not out.is_dir():
        raise InputError("is a file; --out names a directory to write into", file=out, field=field)


def write_document(output: Path | None, data: str | bytes, *, summary: dict[str, Any], fmt: OutputFormat) -> None:
    """One document: to stdout when ``output`` is None or ``-``, else to the file, saying so (as JSON with
    ``--format json``). The convention of every command that writes one document (``-o FILE``)."""
    if output is None or str(output) == "-":
        if isinstance(data, bytes):
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        else:
            sys.stdout.write(data)
        return
    check_output(output)
    if isinstance(data, bytes):
        output.write_bytes(data)
    else:
        output.write_text(data, encoding="utf-8")
    if fmt is OutputFormat.JSON:
        emit_json({"output": str(output), **summary})
    else:
        details = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in summary.items())
        console.print(f"wrote {output}" + (f" ({details})" if details else ""), highlight=False)


class FailOn(StrEnum):
    """The CI gate: exit 1 when a failing finding is at or above this severity (grype --fail-on)."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    NONE = "none"


FAIL_ON_HELP = (
    "Exit 1 when a failing finding is at or above this severity; none: never on findings "
    "(exit 2 stays bad input, 3 a bug)."
)


def fail_on_option(what: str) -> Any:
    """``--fail-on``: ``what`` says what is judged against the gate (the command's own words)."""
    return typer.Option(
        "--fail-on",
        help=f"Judge the exit code on severity: exit 1 when {what} at or above this severity; none: never "
        "(exit 2 stays bad input, 3 a bug). Default: the command's own rule (see above).",
    )


def gate(failing: Iterable[Any], fail_on: FailOn) -> bool:
    """Whether failing findings (anything with a ``severity``) trip the gate."""
    return trips((str(f.severity) for f in failing), fail_on)


def trips(severities: Iterable[str], fail_on: FailOn) -> bool:
    """Whether any of ``severities`` (``Severity`` values) is at or above the gate; a value that is no
    severity is an error, never a pass."""
    if fail_on is FailOn.NONE:
        return False
    from cybersafe.verdict import Severity

    floor = Severity(fail_on.value).rank
    return any(Severity(s).rank >= floor for s in severities)


CATALOG_OPTION = typer.Option(
    "--catalog",
    metavar="DIR",
    envvar="CYBERSAFE_CATALOG",
    help="Extra catalog directory (scheme YAML files, crosswalks, arrangements) read with the bundled one; repeatable.",
)


def catalog_for(extra: list[Path] | None) -> Catalog:
    """The bundled catalog, or the bundled one plus extra directories, checked against the built-in checks."""
    from cybersafe.checks import BUILTIN_CHECKS
    from cybersafe.schemes.catalog import default_catalog, load_catalog

    if not extra:
        return default_catalog()
    catalog = load_catalog(extra=extra)
    catalog.validate_references(BUILTIN_CHECKS)
    return catalog


def emit_json(data: Any) -> None:
    """JSON on stdout, nothing else, so scripts can pipe it."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    from rich.markup import escape

    # The message is data (file names, SBOM elements, "cybersafe[firmware]"), never markup.
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Every cybersafe error becomes one line on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except CybersafeError as exc:
            fail(str(exc))
        except typer.BadParameter as exc:
            fail(exc.format_message())
        except ImportError as exc:
            from cybersafe.extras import missing_extra

            hint = missing_extra(exc)
            if hint is None:
                raise
            fail(hint)
        except OSError as exc:
            # The environment said no (a file in the way, no permission, a port in use): the user's to fix.
            where = f"{exc.filename}: " if exc.filename else ""
            fail(f"{where}{exc.strerror or exc}")
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as exc:
            if os.environ.get("CYBERSAFE_DEBUG"):
                raise
            fail(
                f"internal error (a bug in cybersafe, please report it): {type(exc).__name__}: {exc}; "
                "set CYBERSAFE_DEBUG=1 for the traceback",
                EXIT_INTERNAL,
            )

    return wrapper


class RichProgress:
    """The core's ProgressReporter drawn with Rich on stderr (stdout stays clean for JSON)."""

    def __init__(self) -> None:
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[detail]}"),
            console=err_console,
            transient=True,
            # Bars are for a terminal; in a CI log they leave only a blank line before the result or error.
            disable=not err_console.is_terminal,
        )
        self._tasks: dict[str, TaskID] = {}
        self._progress.start()

    def start(self, task: str, total: int | None = None) -> None:
        self._tasks[task] = self._progress.add_task(task, total=total, detail="")

    def advance(self, task: str, amount: int = 1, detail: str | None = None) -> None:
        if task not in self._tasks:
            self.start(task)
        self._progress.update(self._tasks[task], advance=amount, detail=(detail or "")[:60])

    def finish(self, task: str) -> None:
        if task in self._tasks:
            self._progress.remove_task(self._tasks.pop(task))

    def note(self, text: str) -> None:
        """A step of a longer job, printed above the progress bars."""
        self._progress.console.print(f"[bold cyan]>[/] {text}")

    def close(self) -> None:
        self._progress.stop()


def parse_now(value: str | None, field: str = "--now") -> dt.datetime:
    """``--now`` (or the option ``field`` names): an ISO 8601 date or date-time (UTC when no zone is given);
    default: now."""
    if value is None:
        return dt.datetime.now(dt.UTC).replace(microsecond=0)
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"not an ISO 8601 date or date-time: {value!r}", field=field) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def attempt_json(attempt: Any) -> dict[str, Any]:
    """A check attempt as the JSON output of `firmware scan` and `probe` shows it; ``parameters`` only for a run
    a requirement asked for with its own (``firmware.binary-hardening`` judging NX only)."""
    parameters = {n: list(v) if isinstance(v, tuple) else v for n, v in attempt.parameters}
    return {
        "check": attempt.check_id,
        **({"parameters": parameters} if parameters else {}),
        "status": str(attempt.status),
        "verdict": str(attempt.verdict),
        "reason": str(attempt.reason) if attempt.reason else None,
        "detail": attempt.detail,
        "findings": [
            {
                "verdict": str(f.verdict),
                "severity": str(f.severity),
                "message": f.message,
                "locations": [loc.as_dict() for loc in f.locations],
                "facts": dict(f.facts),
                "remediation": f.remediation,
            }
            for f in attempt.findings
        ],
    }
