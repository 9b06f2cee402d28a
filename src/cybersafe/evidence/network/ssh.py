"""SSH: algorithms with ssh-audit (subprocess, ``-j``), authentication methods with the OpenSSH client.

ssh-audit has no stable Python API; its exit code is 3 when it reports failures, which is a result, not a
crash (feasibility.md section 5). Its connection-rate test opens dozens of connections, so it is skipped:
the probe is rate-limited by design.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from cybersafe.evidence.network.credentials import run_tool
from cybersafe.evidence.network.model import SshAlgorithm, SshResult
from cybersafe.evidence.network.session import ProbeSession, printable

_AUDIT_OK = (0, 1, 2, 3)  # ssh-audit: 0 good, 1 warnings, 2 ... , 3 failures reported


def ssh_audit_command() -> list[str]:
    """ssh-audit beside the running interpreter (the venv), else on PATH."""
    beside = Path(sys.executable).with_name("ssh-audit")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("ssh-audit")
    return [found] if found else [sys.executable, "-m", "ssh_audit"]


async def audit_ssh(session: ProbeSession, port: int) -> SshResult:
    timeout = max(1, round(session.settings.read_timeout))
    args = [*ssh_audit_command(), "-j", "--skip-rate-test", "-t", str(timeout), "-p", str(port), session.address]
    methods, methods_line = await auth_methods(session, port)
    try:
        async with session.slot():
            code, output = await run_tool(args, env=_plain_env(), timeout=session.settings.subprocess_timeout)
    except OSError as exc:
        reason = f"ssh-audit could not run: {exc.strerror or exc}"
        return SshResult(port, False, reason, auth_methods=methods, auth_methods_evidence=methods_line)
    if code is None:
        return SshResult(port, False, "ssh-audit timed out", auth_methods=methods, auth_methods_evidence=methods_line)
    try:
        data = json.loads(output[output.index("{") :]) if "{" in output else None
    except (ValueError, RecursionError):
        data = None
    if code not in _AUDIT_OK or not isinstance(data, dict):
        reason = printable(output.strip().encode(), 160) or f"exit status {code}"
        return SshResult(port, False, f"ssh-audit: {reason}", auth_methods=methods, auth_methods_evidence=methods_line)
    return parse_audit(port, data, methods, methods_line)


def parse_audit(
    port: int, data: dict[str, Any], methods: tuple[str, ...] | None, methods_line: str | None
) -> SshResult:
    algorithms: list[SshAlgorithm] = []
    for kind in ("kex", "key", "enc", "mac"):
        entries = data.get(kind) or []
        if not isinstance(entries, list):
            # not ssh-audit's shape: the algorithm list is unknown, so the audit did not complete (never a pass)
            reason = f"ssh-audit: unexpected report: {kind!r} is a {type(entries).__name__}, not a list"
            return SshResult(port, False, reason, auth_methods=methods, auth_methods_evidence=methods_line)
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("algorithm"), str):
                continue
            notes = entry.get("notes")
            if not isinstance(notes, dict):
                notes = {}
            size = entry.get("keysize")
            algorithms.append(
                SshAlgorithm(
                    kind=kind,
                    name=entry["algorithm"],
                    key_size=size if isinstance(size, int) else None,
                    audit_fail=_notes(notes.get("fail")),
                    audit_warn=_notes(notes.get("warn")),
                )
            )
    banner = data.get("banner")
    raw = banner.get("raw") if isinstance(banner, dict) else None
    return SshResult(
        port,
        True,
        banner=str(raw) if raw is not None else None,
        algorithms=tuple(algorithms),
        auth_methods=methods,
        auth_methods_evidence=methods_line,
    )


def _notes(value: Any) -> tuple[str, ...]:
    """ssh-audit notes are a list of texts; a single non-empty value of another type still counts as one note."""
    if not value:
        return ()
    if isinstance(value, list):
        return tuple(str(n) for n in value)
    return (str(value),)


_METHODS = re.compile(r"Permission denied \(([a-z0-9@.,-]+)\)")


async def auth_methods(session: ProbeSession, port: int) -> tuple[tuple[str, ...] | None, str | None]:
    """Ask for the 'none' method: the server answers with the methods it accepts (RFC 4252 5.2)."""
    with tempfile.TemporaryDirectory(prefix="cybersafe-ssh-") as home:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home}
        args = [
            "ssh", "-F", "/dev/null", "-T", "-o", "BatchMode=yes", "-o", "PreferredAuthentications=none",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            "-o", f"ConnectTimeout={max(1, round(session.settings.connect_timeout))}",
            "-p", str(port), "-l", "cybersafe-probe", session.address, "exit",
        ]  # fmt: skip
        try:
            async with session.slot():
                code, output = await run_tool(args, env=env, timeout=session.settings.read_timeout + 10)
        except OSError as exc:
            return None, f"ssh client could not run: {exc.strerror or exc}"
    if code is None:
        return None, "ssh client timed out"
    match = _METHODS.search(output)
    if match is None:
        if code == 0:  # no authentication at all: the 'none' method succeeded
            return ("none",), "the server accepted the 'none' authentication method"
        return None, printable(output.strip().encode(), 120) or None
    line = printable(match.group(0).encode(), 160)
    return tuple(m for m in match.group(1).split(",") if m), line


def _plain_env() -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NO_COLOR": "1"}
    for key in ("LANG", "LC_ALL", "PYTHONPATH"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env
