"""Passwords assigned in configuration files, scripts and code (INI/conf, shell, JSON, XML, JavaScript, PHP, Lua).

Few false positives by construction: only files that look like configuration, scripts or web code; only
assignments to password-like keys; never documentation, variables, format strings or placeholders. Comments
are never assignments: a line's trailing comment is cut off by the file's grammar before it is read (``#``
after white space in INI, conf and shell; ``//``, ``/*``, ``#`` in PHP, ``--`` in Lua), so
``secret = $x::secret # pass:insta`` assigns a variable, not ``pass``. In JavaScript, JSON, PHP and Lua only
string constants count (``DEFAULT_PASSWORD = 'x'``, ``$password = "x";``, ``local token = "x"``), never an
expression such as ``password = this.password``.

Values that upstream packages ship as public demo settings in their stock configuration files
(``stock_credentials.yaml``, each with its source) are kept with that source: reported for information only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import PurePosixPath

from cybersafe import yamlio
from cybersafe.evidence.defaults import default_passwords
from cybersafe.evidence.firmware.model import Credential
from cybersafe.evidence.firmware.patterns import redact

MAX_CONFIG_BYTES = 512 * 1024

_CODE_SUFFIXES = frozenset({".js", ".mjs", ".cjs", ".ts", ".php", ".inc", ".lua", ".json"})
_CONFIG_SUFFIXES = (
    frozenset({".conf", ".cfg", ".ini", ".xml", ".sh", ".yaml", ".yml", ".env", ".properties", ".cnf", ".config"})
    | _CODE_SUFFIXES
)
_CONFIG_DIRS = ("etc/", "www/", "usr/etc/", "opt/", "var/", "usr/www/", "webroot/", "data/")
_SKIP_PARTS = ("usr/share/doc/", "usr/share/man/", "usr/share/info/", "usr/include/", "/examples/", "/example/")
_KEY = r"(?:password|passwd|pass|pwd|passphrase|wpa_passphrase|psk|secret|api_?key|auth_?key|token|community)"
_ASSIGN = re.compile(
    rf"""(?ix)
    (?:^|[\s{{,;"'<$(])
    (?P<key>[\w.\-]*{_KEY})
    ["']?\s*(?:[:=]|=>)\s*
    (?P<q>["']?)(?P<value>[^"'\s,;<>{{}}]{{3,128}})(?P=q)
    """
)
_ANY_KEY = re.compile(_KEY, re.IGNORECASE)  # both patterns need such a key: a line without one is skipped unparsed
_XML = re.compile(rf"(?i)<(?P<key>[\w.\-]*{_KEY})>(?P<value>[^<>\s]{{3,128}})</(?P=key)>")
_PLACEHOLDER = re.compile(
    r"(?i)^(?:x+|\*+|\.+|-+|none|null|nil|true|false|yes|no|on|off|example\w*|sample\w*|your\w*|"
    r"changeme_?here|placeholder|dummy|redacted|secret|password|passwd|undefined|empty|required|optional|"
    r"string|str|text|value|default|<.*>|\d{1,2})$"
)
_COMMENT = ("#", "//", ";", "--", "<!--", "*", "/*", "rem ")
_KEY_SUFFIX_SKIP = ("_file", "_path", "_len", "_length", "_min", "_max", "_type", "_dir", "_cmd", "_prompt", "_hint")


@lru_cache(maxsize=1 << 16)  # asked twice per file of a scan (what to read, what to parse), and per release
def is_config_path(rel: str) -> bool:
    lowered = rel.lower()
    rooted = f"/{lowered}"
    if any(part in rooted for part in _SKIP_PARTS):
        return False
    name = lowered.rpartition("/")[2]  # as PurePosixPath's name and suffix, without building one per file
    if name.endswith((".md", ".rst", ".txt", ".html", ".htm", ".1", ".5", ".8", ".min.js.map", ".map")):
        return False
    dot = name.rfind(".")
    suffix = name[dot:] if 0 < dot < len(name) - 1 else ""
    if suffix in _CONFIG_SUFFIXES or "wpa_supplicant" in name or "hostapd" in name:
        return True
    return lowered.startswith(_CONFIG_DIRS) and suffix == ""


@dataclass(frozen=True, slots=True)
class StockValue:
    file: str  # file name the value ships in
    key: str
    value: str
    source: str


@cache
def stock_values() -> tuple[StockValue, ...]:
    text = resources.files("cybersafe.evidence.firmware").joinpath("stock_credentials.yaml").read_text("utf-8")
    data = yamlio.safe_load(text)
    return tuple(StockValue(str(v["file"]), str(v["key"]), str(v["value"]), str(v["source"])) for v in data["values"])


def _stock(rel: str, key: str, value: str) -> str | None:
    name = PurePosixPath(rel).name
    for stock in stock_values():
        if stock.file == name and stock.key.lower() == key.lower() and stock.value == value:
            return stock.source
    return None


def _grammar(rel: str) -> str:
    suffix = PurePosixPath(rel.lower()).suffix
    if suffix in (".js", ".mjs", ".cjs", ".ts", ".json"):
        return "js"
    if suffix in (".php", ".inc"):
        return "php"
    if suffix == ".lua":
        return "lua"
    if suffix == ".xml":
        return "xml"
    return "conf"  # INI, conf, shell, env, properties, YAML, UCI


def _without_comment(line: str, grammar: str) -> str:
    """The line with its trailing comment cut off (outside quotes), by the file's comment syntax."""
    markers = {"conf": ("#",), "js": ("//", "/*"), "php": ("//", "#", "/*"), "lua": ("--",), "xml": ("<!--",)}[grammar]
    quote: str | None = None
    for i, char in enumerate(line):
        if quote is not None:
            if char == quote and line[i - 1 : i] != "\\":
                quote = None
            continue
        if char in ("'", '"'):
            quote = char
            continue
        for marker in markers:
            # in INI/conf/shell a comment starts at the line start or after white space (a#b is a value)
            if line.startswith(marker, i) and (grammar != "conf" or i == 0 or line[i - 1] in " \t"):
                return line[:i]
    return line


def find_credentials(rel: str, display: str, data: bytes) -> list[Credential]:
    if b"\x00" in data[:8192]:
        return []
    text = data.decode("utf-8", "replace")
    grammar = _grammar(rel)
    code = grammar in ("js", "php", "lua")
    defaults = set(default_passwords())
    out: list[Credential] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or len(stripped) > 1024 or not _ANY_KEY.search(line) or stripped.lower().startswith(_COMMENT):
            continue
        body = _without_comment(line, grammar)
        for match in (*_ASSIGN.finditer(body), *_XML.finditer(body)):
            key, value = match.group("key"), match.group("value")
            if key.lower().endswith(_KEY_SUFFIX_SKIP) or _is_placeholder(value):
                continue
            if code and match.re is _ASSIGN and not match.group("q"):
                continue  # code: a constant is a quoted string; anything else is an expression
            out.append(_credential(rel, display, lineno, key, value, value in defaults))
    return out


def _credential(rel: str, display: str, lineno: int, key: str, value: str, default: bool) -> Credential:
    lowered = key.lower()
    kind = "psk" if "psk" in lowered or "passphrase" in lowered else "password"
    if any(t in lowered for t in ("token", "api", "auth", "secret", "community")):
        kind = "token"
    return Credential(
        path=display,
        line=lineno,
        key=key,
        preview=redact(value),
        kind=kind,
        in_default_list=default,
        stock_source=_stock(rel, key, value),
    )


def _is_placeholder(value: str) -> bool:
    if _PLACEHOLDER.match(value):
        return True
    # variables, command substitutions, format strings, references to other files or settings
    return (
        value.startswith(("$", "%", "/", "@", "{", "(", "`", "&"))
        or "${" in value
        or "%s" in value
        or value.endswith(("(", ")"))
        or value.lower() in ("changeme", "password123example")
    )
