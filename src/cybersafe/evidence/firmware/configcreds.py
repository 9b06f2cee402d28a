"""Passwords assigned in configuration files and scripts (web configs, JSON/INI/XML, wpa_supplicant, shell).

Few false positives by construction: only files that look like configuration or scripts, only assignments
to password-like keys, never comments, documentation, variables, format strings or obvious placeholders.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from cybersafe.evidence.defaults import default_passwords
from cybersafe.evidence.firmware.model import Credential
from cybersafe.evidence.firmware.patterns import redact

MAX_CONFIG_BYTES = 512 * 1024

_CONFIG_SUFFIXES = frozenset(
    {".conf", ".cfg", ".ini", ".json", ".xml", ".sh", ".yaml", ".yml", ".env", ".properties", ".lua", ".cnf", ".config"}
)
_CONFIG_DIRS = ("etc/", "www/", "usr/etc/", "opt/", "var/", "usr/www/", "webroot/", "data/")
_SKIP_PARTS = ("usr/share/doc/", "usr/share/man/", "usr/share/info/", "usr/include/", "/examples/", "/example/")
_KEY = r"(?:password|passwd|pass|pwd|passphrase|wpa_passphrase|psk|secret|api_?key|auth_?key|token|community)"
_ASSIGN = re.compile(
    rf"""(?ix)
    (?:^|[\s{{,;"'<])
    (?P<key>[\w.\-]*{_KEY})
    ["']?\s*(?:[:=]|=>)\s*
    (?P<q>["']?)(?P<value>[^"'\s,;<>{{}}]{{3,128}})(?P=q)
    """
)
_XML = re.compile(rf"(?i)<(?P<key>[\w.\-]*{_KEY})>(?P<value>[^<>\s]{{3,128}})</(?P=key)>")
_PLACEHOLDER = re.compile(
    r"(?i)^(?:x+|\*+|\.+|-+|none|null|nil|true|false|yes|no|on|off|example\w*|sample\w*|your\w*|"
    r"changeme_?here|placeholder|dummy|redacted|secret|password|passwd|undefined|empty|required|optional|"
    r"string|str|text|value|default|<.*>|\d{1,2})$"
)
_COMMENT = ("#", "//", ";", "--", "<!--", "*", "rem ")
_KEY_SUFFIX_SKIP = ("_file", "_path", "_len", "_length", "_min", "_max", "_type", "_dir", "_cmd", "_prompt", "_hint")


def is_config_path(rel: str) -> bool:
    lowered = rel.lower()
    if any(part in f"/{lowered}" for part in _SKIP_PARTS):
        return False
    name = PurePosixPath(lowered).name
    if name.endswith((".md", ".rst", ".txt", ".html", ".htm", ".1", ".5", ".8")):
        return False
    suffix = PurePosixPath(name).suffix
    if suffix in _CONFIG_SUFFIXES or "wpa_supplicant" in name or "hostapd" in name:
        return True
    return lowered.startswith(_CONFIG_DIRS) and suffix == ""


def find_credentials(rel: str, display: str, data: bytes) -> list[Credential]:
    if b"\x00" in data[:8192]:
        return []
    text = data.decode("utf-8", "replace")
    defaults = set(default_passwords())
    out: list[Credential] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.lower().startswith(_COMMENT) or len(stripped) > 1024:
            continue
        for match in (*_ASSIGN.finditer(line), *_XML.finditer(line)):
            key, value = match.group("key"), match.group("value")
            if key.lower().endswith(_KEY_SUFFIX_SKIP) or _is_placeholder(value):
                continue
            kind = "psk" if "psk" in key.lower() or "passphrase" in key.lower() else "password"
            if any(t in key.lower() for t in ("token", "api", "auth", "secret", "community")):
                kind = "token"
            out.append(
                Credential(
                    path=display,
                    line=lineno,
                    key=key,
                    preview=redact(value),
                    kind=kind,
                    in_default_list=value in defaults,
                )
            )
    return out


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
