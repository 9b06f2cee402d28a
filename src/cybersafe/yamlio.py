"""YAML in, with the line of every value kept, so a bad field is reported as ``file:line: field: why``.

Only safe YAML: plain mappings, sequences and scalars (dates stay ISO strings and are parsed by the
pydantic models, so a bad date is reported like any other bad field). Duplicate keys are errors.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cybersafe import safeio
from cybersafe.errors import InputError

Loc = tuple[str | int, ...]

_MAX_BYTES = 16 * 1024 * 1024  # a dossier or catalog is text written by people; refuse absurd inputs
_MAX_NODES = 100_000  # aliases can multiply a small text into a huge document ("billion laughs")
_MAX_DEPTH = 200


class _NoDatesLoader(yaml.SafeLoader):
    """Safe loader that keeps timestamps as strings (pydantic validates them, with a field name)."""


_NoDatesLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

# libyaml composes about ten times faster than the pure-Python composer (the catalog is read on every run);
# its nodes carry the same marks. The pure-Python composer stays the reference: any error is reported
# from it, so messages do not depend on whether libyaml is installed.
_FastLoader: type[Any] | None = None
if hasattr(yaml, "CSafeLoader"):

    class _CNoDatesLoader(yaml.CSafeLoader):
        """The same resolvers as ``_NoDatesLoader``, composed by libyaml."""

    _CNoDatesLoader.yaml_implicit_resolvers = _NoDatesLoader.yaml_implicit_resolvers
    _FastLoader = _CNoDatesLoader


@dataclass
class LocatedDocument:
    """A parsed YAML document and the line (1-based) where each value starts."""

    file: str
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line_of(self, loc: Iterable[str | int]) -> int | None:
        """The line of the deepest known node on ``loc`` (a missing field is reported at its parent)."""
        path = tuple(loc)
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]


def load_yaml(path: Path, error: type[InputError] = InputError) -> LocatedDocument:
    """Read a YAML file; any problem raises ``error`` naming the file, the line and the field."""
    text = safeio.read_text(path, _MAX_BYTES, what="a YAML document", error=error)
    return parse_yaml(text, str(path), error)


def _one_line(text: object) -> str:
    """pyyaml messages carry multi-line marks and keys may hold control characters: one line, always."""
    return " ".join(str(text).split())


def safe_load(text: str) -> Any:
    """``yaml.safe_load`` for the package's own data files (read on every run): libyaml where installed; an
    error is raised by the pure-Python loader, so its message does not depend on libyaml."""
    if hasattr(yaml, "CSafeLoader"):
        try:
            return yaml.load(text, Loader=yaml.CSafeLoader)
        except (yaml.YAMLError, RecursionError, ValueError):
            pass
    return yaml.safe_load(text)


def _compose(text: str) -> yaml.Node | None:
    if _FastLoader is not None:
        try:
            return yaml.compose(text, Loader=_FastLoader)
        except (yaml.YAMLError, RecursionError, ValueError):
            pass  # composed again below, for the reference message
    return yaml.compose(text, Loader=_NoDatesLoader)


def parse_yaml(text: str, file: str, error: type[InputError] = InputError) -> LocatedDocument:
    try:
        node = _compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        context = ""
        if exc.context and exc.context_mark is not None and exc.context_mark is not mark:
            context = f" ({exc.context} started at line {exc.context_mark.line + 1})"
        problem = _one_line(f"{exc.problem or exc.context}{context}")
        raise error(f"malformed YAML: {problem}", file=file, line=line) from None
    except yaml.YAMLError as exc:
        raise error(f"malformed YAML: {_one_line(exc)}", file=file) from None
    except RecursionError:
        raise error("malformed YAML: nested too deeply", file=file) from None
    doc = LocatedDocument(file=file, data=None)
    if node is None:
        raise error("empty document", file=file, line=1)
    doc.data = _construct(node, (), doc, error, _Walk())
    return doc


@dataclass
class _Walk:
    nodes: int = 0
    path: set[int] = field(default_factory=set)  # ids of the nodes being built: an alias back to one is a cycle
    scalars: _NoDatesLoader = field(default_factory=lambda: _NoDatesLoader(""))  # one constructor per document


def _construct(node: yaml.Node, loc: Loc, doc: LocatedDocument, error: type[InputError], walk: _Walk) -> Any:
    doc.lines.setdefault(loc, node.start_mark.line + 1)
    walk.nodes += 1
    line = node.start_mark.line + 1
    if walk.nodes > _MAX_NODES:
        raise error(f"more than {_MAX_NODES:,} values (an alias bomb?)", file=doc.file, line=line)
    if len(loc) > _MAX_DEPTH:
        raise error(f"nested more than {_MAX_DEPTH} levels deep", file=doc.file, line=line)
    if id(node) in walk.path:
        raise error("recursive YAML alias", file=doc.file, line=line, field=_dotted(loc) or None)
    if not isinstance(node, yaml.MappingNode | yaml.SequenceNode):
        return _scalar(node, doc, error, walk.scalars)
    walk.path.add(id(node))
    try:
        return _construct_collection(node, loc, doc, error, walk)
    finally:
        walk.path.discard(id(node))


def _construct_collection(
    node: yaml.MappingNode | yaml.SequenceNode, loc: Loc, doc: LocatedDocument, error: type[InputError], walk: _Walk
) -> Any:
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise error("YAML merge keys are not supported", file=doc.file, line=key_node.start_mark.line + 1)
            key = _scalar(key_node, doc, error, walk.scalars)
            if not isinstance(key, str | int | float | bool):
                raise error("mapping keys must be scalars", file=doc.file, line=key_node.start_mark.line + 1)
            name = str(key)
            if name in out:
                raise error(
                    "duplicate key", file=doc.file, line=key_node.start_mark.line + 1, field=_dotted((*loc, name))
                )
            out[name] = _construct(value_node, (*loc, name), doc, error, walk)
        return out
    return [_construct(child, (*loc, i), doc, error, walk) for i, child in enumerate(node.value)]


def _scalar(node: yaml.Node, doc: LocatedDocument, error: type[InputError], loader: _NoDatesLoader) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise error("expected a scalar", file=doc.file, line=node.start_mark.line + 1)
    try:
        # the safe constructor for the node's tag, without the per-document caches construct_object keeps
        constructor = loader.yaml_constructors.get(node.tag) or loader.yaml_constructors[None]
        return constructor(loader, node)
    except (yaml.YAMLError, ValueError, TypeError, AttributeError, OverflowError) as exc:
        # e.g. "!!int x" or "!!timestamp x": an explicit tag whose constructor rejects the text
        problem = exc.problem if isinstance(exc, yaml.MarkedYAMLError) and exc.problem else exc
        raise error(
            f"bad scalar {node.tag}: {_one_line(problem)}", file=doc.file, line=node.start_mark.line + 1
        ) from None


def _dotted(loc: Iterable[str | int]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            name = _one_line(part) if any(c.isspace() and c != " " for c in str(part)) else str(part)
            text += f".{name}" if text else name
    return text


def dotted(loc: Iterable[str | int]) -> str:
    """``("declarations", "communication", 0, "protocol")`` -> ``declarations.communication[0].protocol``."""
    return _dotted(loc)


def first_pydantic_error(errors: list[Mapping[str, Any]], doc: LocatedDocument, error: type[InputError]) -> InputError:
    """Turn the first pydantic validation error into one precise line."""
    first = errors[0]
    loc = tuple(p for p in first.get("loc", ()) if not (isinstance(p, str) and p.startswith(("function-", "union["))))
    message = str(first.get("msg", "invalid value"))
    if first.get("type") == "extra_forbidden":
        message = "unknown field"
    elif first.get("type") == "missing":
        message = "required field is missing"
    extra = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return error(message + extra, file=doc.file, line=doc.line_of(loc), field=dotted(loc) or None)
