"""Start unpacking a firmware image while the command line is still loading.

``cybersafe firmware scan IMAGE`` and ``cybersafe sbom generate IMAGE`` spend about 0.4 s importing the
command line before they run, and the unpacker (unblob in a child process, ``evidence/firmware/unpack.py``)
spends about as long importing itself. So the extraction is started first thing, from the raw arguments,
and the command adopts it when it runs with the same image and budget; in every other case (``--help``, an
option this reader does not know, a typo that Typer rejects) the early child is killed and its work dir
removed at exit. Nothing is decided here: Typer still parses and validates every argument.
"""

from __future__ import annotations

import atexit
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cybersafe.evidence.firmware.unpack import Extraction

_COMMANDS = {("firmware", "scan"), ("sbom", "generate")}
_BUDGET_OPTIONS = ("--budget", "-b")
_OTHER_VALUE_OPTIONS = ("--format", "-f", "--output", "-o", "--fail-on")


@dataclass
class _Early:
    image: Path
    budget: str
    extraction: Extraction


_early: _Early | None = None


def start_from_argv(argv: list[str]) -> None:
    """Start the extraction when ``argv`` is a firmware scan or SBOM generation of one regular file."""
    global _early  # noqa: PLW0603 - one early extraction per process, adopted or discarded once
    if not argv or Path(argv[0]).name != "cybersafe":
        return
    args = _skip_root_options(argv[1:])
    if len(args) < 3 or (args[0], args[1]) not in _COMMANDS:
        return
    parsed = _image_and_budget(args[2:])
    if parsed is None:
        return
    from cybersafe import safeio
    from cybersafe.evidence.firmware.budget import budget_for
    from cybersafe.evidence.firmware.unpack import Extraction

    image, budget = parsed
    try:
        limits = budget_for(budget)
    except ValueError:
        return
    if safeio.describe(image) != "a regular file":
        return
    workdir = Path(tempfile.mkdtemp(prefix="cybersafe-fw-"))
    workdir.chmod(0o700)
    extraction = Extraction(image, workdir, limits)
    extraction.start()
    _early = _Early(image.resolve(), budget, extraction)
    atexit.register(_discard)


def take(image: Path, budget: str) -> Extraction | None:
    """The early extraction if it is of ``image`` within ``budget``; otherwise it is stopped and None."""
    global _early
    early, _early = _early, None
    if early is None:
        return None
    if early.image == image.resolve() and early.budget == budget:
        return early.extraction
    _stop(early)
    return None


def _discard() -> None:
    global _early  # noqa: PLW0603
    if _early is not None:
        _stop(_early)
        _early = None


def _stop(early: _Early) -> None:
    from cybersafe.evidence.firmware.unpack import remove_tree

    early.extraction.abort()
    remove_tree(early.extraction.workdir)


def _skip_root_options(args: list[str]) -> list[str]:
    """The arguments after the root options (``-q``, ``-v``, ``--config FILE``); a budget set in the config file
    or the environment shows at adoption as a different budget, and the early child is stopped."""
    i = 0
    while i < len(args) and args[i].startswith("-"):
        if args[i] == "--config":
            i += 1
        elif not (args[i] in ("--quiet", "--verbose") or args[i].startswith("--config=") or _short_flags(args[i])):
            return []
        i += 1
    return args[i:]


def _short_flags(arg: str) -> bool:
    return len(arg) > 1 and arg[0] == "-" and arg[1] != "-" and set(arg[1:]) <= {"q", "v"}


def _image_and_budget(args: list[str]) -> tuple[Path, str] | None:
    """(IMAGE, budget) from the arguments after the command, or None when they hold anything unexpected."""
    image: str | None = None
    budget = "standard"
    pending: str | None = None
    for arg in args:
        if pending is not None:
            budget = arg if pending in _BUDGET_OPTIONS else budget
            pending = None
        elif arg.startswith("-"):
            name, has_value, value = arg.partition("=")
            if name not in (*_BUDGET_OPTIONS, *_OTHER_VALUE_OPTIONS):
                return None
            if has_value:
                budget = value if name in _BUDGET_OPTIONS else budget
            else:
                pending = name
        elif image is None:
            image = arg
        else:
            return None
    if image is None or pending is not None:
        return None
    return Path(image), budget
