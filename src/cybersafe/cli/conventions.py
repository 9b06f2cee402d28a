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

import contextlib
import functools
import importlib
import inspect
import os
import re
import tomllib
from collections.abc import Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any, ClassVar

import typer.main
from typer.core import TyperArgument, TyperGroup, TyperOption

from cybersafe.errors import InputError

CONFIG_NAME = "cybersafe.toml"
MAX_CONFIG_BYTES = 1024 * 1024  # a settings file written by people
ENV_PREFIX = "CYBERSAFE"


class LazyGroup(TyperGroup):
    """A group whose commands are imported when they are run or listed: click's lazy-loading pattern
    (https://click.palletsprojects.com/en/stable/complex/#lazily-loading-subcommands), with the names in help
    order held by ``FAMILIES`` (command name -> the module of ``cybersafe.cli`` whose ``register(app)`` defines it).

    ``commands`` is a mapping that knows every name and imports a family the first time one of its commands is
    looked up, so click, Typer's help and typo suggestions, and the config file all see the whole tree, and
    ``cybersafe firmware scan`` imports the firmware family only. Every command gets its env vars, human
    metavars and exit codes epilog (``humanize``) as it loads."""

    FAMILIES: ClassVar[Mapping[str, str]] = {}
    PATH: ClassVar[tuple[str, ...]] = ()  # where the group sits in the tree (the root: the empty path)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        commands = LazyCommands(self.FAMILIES, self.PATH)
        commands.update(self.commands)  # any registered on the group itself
        self.commands = commands
        humanize(self, self.PATH)

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        with one_line_usage_errors():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        with one_line_usage_errors():
            return super().invoke(ctx)


class LazyCommands(MutableMapping[str, Any]):
    """A group's commands by name, in help order; looking one up imports its family (once per process)."""

    def __init__(self, families: Mapping[str, str], path: tuple[str, ...]) -> None:
        self._families = dict(families)
        self._path = path
        self._loaded: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._loaded:
            self._loaded[name] = family_command(self._families[name], (*self._path, name))
        return self._loaded[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._families.setdefault(name, "")
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self._families[name]
        self._loaded.pop(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self._families  # without importing anything

    def __iter__(self) -> Iterator[str]:
        return iter(self._families)

    def __len__(self) -> int:
        return len(self._families)


@functools.cache
def family_group(module: str) -> Any:
    """The commands ``cybersafe.cli.<module>`` registers, as a click group (built once: registering twice
    would add every command twice to the family's own sub-apps)."""
    holder = typer.Typer()
    importlib.import_module(f"cybersafe.cli.{module}").register(holder)
    return typer.main.get_group(holder)


def family_command(module: str, path: tuple[str, ...]) -> Any:
    """The command at ``path`` as the family ``module`` defines it (a group's commands from several families are
    each found under the same path in their own family), humanized for that path."""
    command = family_group(module)
    for name in path:
        command = command.commands[name]
    humanize(command, path)
    return command


def walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command of the tree with its path (the root has the empty path); imports every family."""
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from walk(sub, (*path, name))


def _built(command: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    """The commands of the tree already built: a lazy group's commands are humanized as each loads."""
    yield path, command
    commands = getattr(command, "commands", {})
    if not isinstance(commands, LazyCommands):
        for name, sub in commands.items():
            yield from _built(sub, (*path, name))


_NO_ENV = frozenset({"help", "version", "install_completion", "show_completion"})
# Words for the values of common options; any other option shows its own name in capitals.
_METAVARS = {"now": "DATE", "out": "DIR", "output": "FILE", "timestamp": "DATE", "aware_at": "DATE"}


EXIT_CODES_EPILOG = (
    "Exit codes: 0 success; 1 findings at or above the gate (--fail-on) or not met; "
    "2 bad input or usage (one line naming the input); 3 a bug in cybersafe."
)


def humanize(root: Any, where: tuple[str, ...] = ()) -> None:
    """Env vars on every option, help that shows words (``FILE``, ``DATE``) instead of Python types, and the
    exit codes at the end of every command's help, for ``root`` (at ``where`` in the tree) and what it holds."""
    for path, command in _built(root, where):
        if command.help:
            command.help = reflow(command.help)
        if path and not hasattr(command, "commands") and EXIT_CODES_EPILOG not in (command.epilog or ""):
            command.epilog = f"{command.epilog}\n\n{EXIT_CODES_EPILOG}" if command.epilog else EXIT_CODES_EPILOG
        for param in command.params:
            if isinstance(param, TyperOption) and param.name and param.name not in _NO_ENV:
                if param.envvar is None:
                    param.envvar = "_".join((ENV_PREFIX, *path, _long_name(param))).upper().replace("-", "_")
                param.show_envvar = True
            if param.metavar is None and isinstance(param, TyperOption | TyperArgument):
                param.metavar = _metavar(param)


_LIST_ITEM = re.compile(r"(?:[-*\u2022]|\d+[.)]|\(\w{1,3}\)) ")


def reflow(text: str) -> str:
    """Help as the terminal can wrap it: the lines of each paragraph joined, except where a list item starts.

    Docstrings are wrapped for the source (110 columns); Typer keeps those breaks after the first paragraph, so
    at 80 columns every line broke twice ("... and only for a" / "scheme that ..."). A paragraph that starts
    with ``\b`` is Click's mark for text kept as written.
    """
    paragraphs = []
    for paragraph in inspect.cleandoc(text).split("\n\n"):
        if paragraph.startswith("\b"):
            paragraphs.append(paragraph)
            continue
        lines: list[str] = []
        for line in paragraph.splitlines():
            if lines and not _LIST_ITEM.match(line.lstrip()) and not line.startswith(" "):
                lines[-1] = f"{lines[-1]} {line.strip()}"
            else:
                lines.append(line.rstrip())
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


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

# Typer vendors Click (typer._click) in some versions: its UsageError is found from a class Typer exports.
_USAGE_ERROR: type[Exception] = next(k for k in typer.BadParameter.__mro__ if k.__name__ == "UsageError")


@contextlib.contextmanager
def one_line_usage_errors() -> Iterator[None]:
    """A usage error (bad choice, missing argument, unknown option, unknown command) as one line on stderr,
    like every other bad input, instead of Click's usage line, hint and box; exit code 2 is Click's own.
    (Wrapping the root's parsing and invocation, rather than replacing Typer's error printer, keeps Typer's
    Rich help machinery out of every command that does not fail.)"""
    try:
        yield
    except _USAGE_ERROR as error:
        if "NoArgsIsHelpError" in {k.__name__ for k in type(error).__mro__}:
            raise
        from rich.markup import escape

        from cybersafe.cli._common import err_console

        ctx: Any = getattr(error, "ctx", None)
        hint = f" (see {ctx.command_path} --help)" if ctx is not None else ""
        message = " ".join(error.format_message().split())  # type: ignore[attr-defined]
        err_console.print(f"[bold red]error:[/] {escape(message)}{escape(hint)}", highlight=False, soft_wrap=True)
        raise typer.Exit(getattr(error, "exit_code", 2)) from None


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
