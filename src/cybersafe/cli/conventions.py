"""What every command shares, set once on the command tree: settings from a config file and from
``CYBERSAFE_*`` environment variables, human metavars in help, and the root options.

Precedence, highest first: the command line, the environment variable, the config file, the default.

Exit codes, the same for every command and shown at the end of every command's ``--help``: 0 success; 1 findings
at or above the gate (``--fail-on``) or a requirement or check not met; 2 bad input or usage, one line naming the
input (a usage error is one line too, not Click's box); 3 a bug in cybersafe.

- Environment: every option of every command has one, ``CYBERSAFE_<COMMAND>_<OPTION>`` (``CYBERSAFE_ASSESS_NOW``,
  ``CYBERSAFE_SBOM_VULNS_FAIL_ON``), shown in ``--help``.
- Config file (TOML): ``--config FILE``, else ``CYBERSAFE_CONFIG``, else ``./cybersafe.toml``, else
  ``cybersafe.toml`` in the user config directory. A table per command path, keys are option names::

      [assess]
      now = "2026-12-05"
      fail-on = "high"

      [sbom.vulns]
      db = "/var/lib/cybersafe/vulndb.sqlite"

  An unknown table or key is a one-line error naming the file and the key.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from typer import rich_utils
from typer.core import TyperArgument, TyperGroup, TyperOption

from cybersafe.errors import InputError

CONFIG_NAME = "cybersafe.toml"
MAX_CONFIG_BYTES = 1024 * 1024  # a settings file written by people
ENV_PREFIX = "CYBERSAFE"


class HumanGroup(TyperGroup):
    """The root group: once its tree is built, every option gets its env var and a human metavar."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        humanize(self)


def walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command of the tree with its path (the root has the empty path)."""
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from walk(sub, (*path, name))


_NO_ENV = frozenset({"help", "version", "install_completion", "show_completion"})
# Words for the values of common options; any other option shows its own name in capitals.
_METAVARS = {"now": "DATE", "out": "DIR", "output": "FILE", "timestamp": "DATE", "aware_at": "DATE"}


EXIT_CODES_EPILOG = (
    "Exit codes: 0 success; 1 findings at or above the gate (--fail-on) or not met; "
    "2 bad input or usage (one line naming the input); 3 a bug in cybersafe."
)


def humanize(root: Any) -> None:
    """Env vars on every option, help that shows words (``FILE``, ``DATE``) instead of Python types, and the
    exit codes at the end of every command's help."""
    for path, command in walk(root):
        if path and not hasattr(command, "commands") and EXIT_CODES_EPILOG not in (command.epilog or ""):
            command.epilog = f"{command.epilog}\n\n{EXIT_CODES_EPILOG}" if command.epilog else EXIT_CODES_EPILOG
        for param in command.params:
            if isinstance(param, TyperOption) and param.name and param.name not in _NO_ENV:
                if param.envvar is None:
                    param.envvar = "_".join((ENV_PREFIX, *path, _long_name(param))).upper().replace("-", "_")
                param.show_envvar = True
            if param.metavar is None and isinstance(param, TyperOption | TyperArgument):
                param.metavar = _metavar(param)


def _long_name(param: TyperOption) -> str:
    longs = [o for o in param.opts if o.startswith("--")]
    return longs[0][2:] if longs else str(param.name)


def _metavar(param: TyperOption | TyperArgument) -> str:
    if isinstance(param, TyperOption) and (param.is_flag or param.count):
        return ""
    descriptor = param.type_descriptor
    if descriptor.is_choice:
        return "|".join(str(getattr(c, "value", c)) for c in descriptor.choices or ())
    name = _METAVARS.get(param.name or "", (param.name or "value").upper().replace("_", "-"))
    return f"{name}..." if param.nargs == -1 else name


def _type_column(self: TyperOption | TyperArgument, ctx: Any) -> str | None:
    """Typer prints Python types (``<bool>`` beside every flag, ``<path>``); show the metavar, or nothing."""
    if isinstance(self, TyperOption) and (self.is_flag or self.count):
        return None
    if isinstance(self, TyperArgument):
        return None  # the argument's name (DOSSIER) already says what goes there
    return self.metavar if self.metavar is not None else _metavar(self)


# Typer builds its parameter classes itself, so the help column is set on the classes, once, here.
TyperOption.display_type_rich = _type_column  # type: ignore[method-assign]
TyperArgument.display_type_rich = _type_column  # type: ignore[method-assign, assignment]

_rich_format_error = rich_utils.rich_format_error


def one_line_usage_error(error: Any) -> None:
    """A usage error (bad choice, missing argument, unknown option) as one line on stderr, like every other
    bad input, instead of Click's usage line, hint and box; exit code 2 is Click's own."""
    # Typer vendors Click (typer._click) in some versions: the class is recognised by name, not identity.
    names = {k.__name__ for k in type(error).__mro__}
    if "UsageError" not in names or "NoArgsIsHelpError" in names:
        _rich_format_error(error)
        return
    from rich.markup import escape

    from cybersafe.cli._common import err_console

    ctx = error.ctx
    hint = f" (see {ctx.command_path} --help)" if ctx is not None else ""
    message = " ".join(error.format_message().split())
    err_console.print(f"[bold red]error:[/] {escape(message)}{escape(hint)}", highlight=False, soft_wrap=True)


rich_utils.rich_format_error = one_line_usage_error  # type: ignore[assignment]


def config_path(given: Path | None) -> Path | None:
    """The config file in force: the one given, ./cybersafe.toml, or the user's; None when there is none."""
    if given is not None:
        return given
    env = os.environ.get(f"{ENV_PREFIX}_CONFIG")
    if env:
        return Path(env)
    local = Path.cwd() / CONFIG_NAME
    if local.is_file():
        return local
    from platformdirs import user_config_dir

    user = Path(user_config_dir("cybersafe")) / CONFIG_NAME
    return user if user.is_file() else None


def load_config(path: Path, root: Any) -> dict[str, Any]:
    """The config file as click's ``default_map``, every table and key checked against the command tree."""
    from cybersafe import safeio

    text = safeio.read_text(path, MAX_CONFIG_BYTES, what="a config file", field="--config")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", file=path) from None
    return _default_map(data, root, path, ())


def _default_map(table: dict[str, Any], command: Any, path: Path, where: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    # A setting is named like its option on the command line (``fail-on`` for --fail-on).
    options = {_long_name(p): p.name for p in command.params if isinstance(p, TyperOption) and p.name not in _NO_ENV}
    subcommands = getattr(command, "commands", {})
    for key, value in table.items():
        dotted = ".".join((*where, key))
        if isinstance(value, dict) and key in subcommands:
            out[key] = _default_map(value, subcommands[key], path, (*where, key))
        elif key in options and not isinstance(value, dict):
            out[options[key]] = value
        else:
            known = sorted([*options, *subcommands])
            raise InputError(f"unknown setting (known here: {', '.join(known) or 'none'})", file=path, field=dotted)
    return out
