"""Accounts from passwd/shadow files and their hashes tested against the default-password list.

Verification uses ``crypt_r`` (the stdlib ``crypt`` module, kept alive for 3.13; feasibility.md section 4),
which goes through libxcrypt: DES, md5crypt, sha256crypt, sha512crypt, bcrypt and yescrypt. The total time
is bounded by the budget; hashes not fully tried are ``not_tested`` and make the check inconclusive.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, replace

from cybersafe.evidence.defaults import default_credentials, default_passwords
from cybersafe.evidence.firmware.model import Account, CrackStatus

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt_r

_NO_LOGIN_SHELLS = ("nologin", "false", "/dev/null", "sync", "halt", "shutdown")
_DES_CHARS = frozenset("./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True, slots=True)
class PasswdFile:
    path: str
    text: str


def hash_algorithm(field: str) -> str:
    if field == "":
        return "empty"
    if field[0] in "!*" or field in ("x", "LK", "NP"):
        return "locked"
    prefixes = {"$1$": "md5crypt", "$5$": "sha256crypt", "$6$": "sha512crypt", "$y$": "yescrypt"}
    for prefix, name in prefixes.items():
        if field.startswith(prefix):
            return name
    if field[:4] in ("$2a$", "$2b$", "$2y$"):
        return "bcrypt"
    if len(field) == 13 and set(field) <= _DES_CHARS:
        return "des"
    return "unknown"


def parse_accounts(passwd_files: Iterable[PasswdFile], shadow_files: Iterable[PasswdFile]) -> list[tuple[Account, str]]:
    """Accounts with their password field (kept apart: the hash is the product's secret, not a fact)."""
    shadow: dict[str, tuple[str, str, int]] = {}  # user -> (hash, path, line)
    for sfile in shadow_files:
        for lineno, raw in enumerate(sfile.text.splitlines(), 1):
            parts = raw.split(":")
            if len(parts) >= 2 and parts[0] and not raw.startswith("#"):
                shadow.setdefault(parts[0], (parts[1], sfile.path, lineno))
    accounts: list[tuple[Account, str]] = []
    seen: set[str] = set()
    for pfile in passwd_files:
        for lineno, raw in enumerate(pfile.text.splitlines(), 1):
            parts = raw.split(":")
            if len(parts) < 7 or not parts[0] or raw.startswith("#") or parts[0] in seen:
                continue
            seen.add(parts[0])
            field, source, line = parts[1], pfile.path, lineno
            if field == "x" and parts[0] in shadow:
                field, source, line = shadow[parts[0]]
            elif field == "x":
                field = "!"  # shadowed, but no shadow entry: nobody can log in with a password
            algorithm = hash_algorithm(field)
            shell = parts[6].strip()
            login = algorithm != "locked" and not any(shell.endswith(s) for s in _NO_LOGIN_SHELLS)
            status = CrackStatus.NO_HASH if algorithm in ("empty", "locked") else CrackStatus.NOT_TESTED
            accounts.append(
                (
                    Account(
                        name=parts[0],
                        uid=_int(parts[2]),
                        gid=_int(parts[3]),
                        home=parts[5],
                        shell=shell,
                        source=source,
                        line=line,
                        hash_algorithm=algorithm,
                        login_capable=login,
                        crack_status=status,
                        matched_password=None,
                    ),
                    field,
                )
            )
    # shadow-only entries (busybox images sometimes ship no passwd)
    for name, (field, path, line) in shadow.items():
        if name in seen:
            continue
        algorithm = hash_algorithm(field)
        accounts.append(
            (
                Account(
                    name=name,
                    uid=None,
                    gid=None,
                    home="",
                    shell="",
                    source=path,
                    line=line,
                    hash_algorithm=algorithm,
                    login_capable=algorithm != "locked",
                    crack_status=CrackStatus.NO_HASH if algorithm in ("empty", "locked") else CrackStatus.NOT_TESTED,
                ),
                field,
            )
        )
    return accounts


# (hash field, the user's own defaults) -> the default it matched, or None when none did. Per process: the same
# hash recurs on several accounts, in every release of a product and across a product line, and a worker
# re-assessing them need not try the list again. Only fully tried hashes are kept; the lists are fixed data.
_TRIED: dict[tuple[str, tuple[str, ...]], str | None] = {}
_TRIED_MAX = 65_536


def _remember(key: tuple[str, tuple[str, ...]], found: str | None) -> None:
    if len(_TRIED) >= _TRIED_MAX:
        _TRIED.pop(next(iter(_TRIED)))
    _TRIED[key] = found


def crack(accounts: list[tuple[Account, str]], seconds: float) -> tuple[list[Account], bool]:
    """Try the default list on every hash; returns the accounts and whether every hash was fully tried."""
    deadline = time.monotonic() + seconds
    words = default_passwords()
    user_words: dict[str, list[str]] = {}
    for user, password in default_credentials():
        if password:
            user_words.setdefault(user, []).append(password)
    complete = True
    out: list[Account] = []
    for account, field in accounts:
        if account.crack_status is not CrackStatus.NOT_TESTED:
            out.append(account)
            continue
        if account.hash_algorithm == "unknown":
            out.append(replace(account, crack_status=CrackStatus.UNSUPPORTED))
            continue
        # the user's own defaults first, then the rest of the list: the words tried depend on the user too
        own = tuple(user_words.get(account.name, ()))
        key = (field, own)
        if key in _TRIED:
            found = _TRIED[key]
            status = CrackStatus.MATCHED if found is not None else CrackStatus.NOT_MATCHED
            out.append(replace(account, crack_status=status, matched_password=found))
            continue
        ordered = list(dict.fromkeys([*own, *words]))
        found, finished, supported = None, True, True
        for word in ordered:
            if time.monotonic() > deadline:
                finished = False
                break
            try:
                result = crypt_r.crypt(word, field)
            except (OSError, ValueError):  # ValueError: a NUL byte in a hostile hash field
                supported = False
                break
            if result is None:
                supported = False
                break
            if result == field:
                found = word
                break
        if not supported:
            out.append(replace(account, crack_status=CrackStatus.UNSUPPORTED))
        elif found is not None:
            _remember(key, found)
            out.append(replace(account, crack_status=CrackStatus.MATCHED, matched_password=found))
        elif finished:
            _remember(key, None)
            out.append(replace(account, crack_status=CrackStatus.NOT_MATCHED))
        else:
            complete = False
            out.append(account)
    return out, complete


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None
