"""The built-in list of known default credentials (credentials_defaults.txt), shared by firmware and network."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def default_credentials() -> tuple[tuple[str, str], ...]:
    """(user, password) pairs of the built-in list, in file order, without duplicates."""
    return parse_credentials(
        resources.files("cybersafe.evidence").joinpath("credentials_defaults.txt").read_text("utf-8")
    )


def parse_credentials(text: str) -> tuple[tuple[str, str], ...]:
    """``user:password`` lines (``user:`` is an empty password), ``#`` comments, duplicates dropped."""
    seen: set[tuple[str, str]] = set()
    out: list[tuple[str, str]] = []
    for raw in text.splitlines():
        if not raw or raw.startswith("#") or ":" not in raw:
            continue
        user, password = raw.split(":", 1)
        if (user, password) not in seen:
            seen.add((user, password))
            out.append((user, password))
    return tuple(out)


@cache
def default_passwords() -> tuple[str, ...]:
    """Unique passwords in order of first appearance (the empty password excluded)."""
    out: dict[str, None] = {}
    for _, password in default_credentials():
        if password:
            out.setdefault(password, None)
    return tuple(out)
