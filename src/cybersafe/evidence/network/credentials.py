"""Default credentials on telnet, SSH, FTP and HTTP basic auth: one login attempt per protocol, and the budget.

EN 303 645 5.1-1 (no universal default password). Every service gets a small attempt budget from the shared
list (``evidence/credentials_defaults.txt``, also read by the firmware scanner). Whether repeated failures
are throttled is ``throttle.py``; access without any credential is ``access.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import ssl
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from cybersafe import safeio
from cybersafe.evidence.defaults import default_credentials, parse_credentials
from cybersafe.evidence.network.http import basic_auth, http_get
from cybersafe.evidence.network.model import (
    ACCEPTED,
    ATTEMPT_ERROR,
    LOCKED,
    REJECTED,
    CredentialAttempt,
    CredentialTest,
)
from cybersafe.evidence.network.session import ProbeSession, printable
from cybersafe.evidence.network.telnet import TelnetClient, last_line

MAX_CREDENTIALS_BYTES = 4 * 1024 * 1024
LOCK_WORDS = re.compile(r"(?i)too many|locked|lockout|try again later|temporarily|blocked|banned|wait \d+")
_REJECT_WORDS = re.compile(r"(?i)incorrect|invalid|fail|denied|wrong|bad password|not allowed|unauthori[sz]ed")
LOGIN_PROMPT = re.compile(r"(?i)(login|username|user name|user)\s*:\s*$")
PASSWORD_PROMPT = re.compile(r"(?i)password\s*:\s*$")
_SHELL = re.compile(r"(?i)([#$>%]\s*$)|welcome|last login|busybox|built-in shell")
ANY_PROMPT = re.compile(r"(?i)(login|username|user name|user|password)\s*:\s*$")
_AFTER_PASSWORD = re.compile(
    r"(?i)([#$>%]\s*$)|welcome|last login|built-in shell|(login|username|user name|user)\s*:\s*$"
)


@dataclass(frozen=True, slots=True)
class Credential:
    username: str
    password: str


def load_default_credentials(path: Path | None = None) -> tuple[Credential, ...]:
    """The list shared with the firmware scanner, or a list of the same format at ``path``."""
    if path is None:
        pairs = default_credentials()
    else:
        pairs = parse_credentials(safeio.read_text(path, MAX_CREDENTIALS_BYTES, what="a credential list"))
    return tuple(Credential(user, password) for user, password in pairs)


# --- one login attempt per protocol: returns (outcome, evidence) ------------------------------------------------


async def telnet_login(session: ProbeSession, port: int, cred: Credential) -> tuple[str, str]:
    timeout = session.settings.read_timeout
    async with session.connect(port) as (reader, writer):
        telnet = TelnetClient(session, reader, writer)
        first = await telnet.read_until(ANY_PROMPT, timeout, anywhere=LOCK_WORDS)
        last = last_line(first)
        if LOCK_WORDS.search(first):
            return LOCKED, printable(last.encode("latin-1"))
        if LOGIN_PROMPT.search(last):
            await telnet.send_line(cred.username)
            prompt = await telnet.read_until(PASSWORD_PROMPT, timeout, anywhere=LOCK_WORDS)
            if not PASSWORD_PROMPT.search(prompt.rstrip()):
                return _judge_telnet(prompt, no_password_prompt=True)
        elif not PASSWORD_PROMPT.search(last):
            return ATTEMPT_ERROR, f"no login prompt: {printable(first.encode('latin-1'), 80)!s}"
        await telnet.send_line(cred.password)
        reply = await telnet.read_until(_AFTER_PASSWORD, session.settings.login_timeout, anywhere=LOCK_WORDS)
        return _judge_telnet(reply, no_password_prompt=False)


def _judge_telnet(reply: str, *, no_password_prompt: bool) -> tuple[str, str]:
    text = reply.strip()
    shown = printable(text.encode("latin-1"), 100)
    if LOCK_WORDS.search(text):
        return LOCKED, shown
    if _REJECT_WORDS.search(text) or LOGIN_PROMPT.search(text) or PASSWORD_PROMPT.search(text):
        return REJECTED, shown
    if text and _SHELL.search(text):
        return ACCEPTED, shown
    if not text:
        return (
            (ATTEMPT_ERROR, "no reply after the user name") if no_password_prompt else (REJECTED, "connection closed")
        )
    return ATTEMPT_ERROR, f"unrecognised reply: {shown}"


async def ftp_login(session: ProbeSession, port: int, cred: Credential) -> tuple[str, str]:
    timeout = session.settings.read_timeout
    async with session.connect(port) as (reader, writer):
        greeting = await ftp_reply(reader, timeout)
        if greeting.startswith("421"):
            return LOCKED, greeting
        if not greeting.startswith("220"):
            return ATTEMPT_ERROR, f"greeting: {greeting or 'none'}"
        await session.send(writer, f"USER {cred.username}\r\n".encode("latin-1"))
        reply = await ftp_reply(reader, timeout)
        if reply.startswith("331"):
            await session.send(writer, f"PASS {cred.password}\r\n".encode("latin-1"))
            reply = await ftp_reply(reader, session.settings.login_timeout)
        with contextlib.suppress(OSError):
            writer.write(b"QUIT\r\n")  # a courtesy: not waited for
        if reply.startswith("230"):
            return ACCEPTED, reply
        if reply.startswith("421") or LOCK_WORDS.search(reply):
            return LOCKED, reply
        if reply.startswith("530"):
            return REJECTED, reply
        return ATTEMPT_ERROR, f"reply: {reply or 'none'}"


async def ftp_reply(reader: asyncio.StreamReader, timeout: float) -> str:
    """One (possibly multi-line) FTP reply, as its last line."""
    lines: list[str] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        try:
            raw = await asyncio.wait_for(reader.readline(), remaining)
        except TimeoutError:
            break
        if not raw:
            break
        line = raw.decode("latin-1").rstrip("\r\n")
        lines.append(line)
        if re.match(r"^\d{3} ", line) or re.fullmatch(r"\d{3}", line):
            break
    return printable(lines[-1].encode("latin-1"), 120) if lines else ""


def make_http_login(path: str, *, tls: bool) -> Callable[[ProbeSession, int, Credential], Awaitable[tuple[str, str]]]:
    async def http_login(session: ProbeSession, port: int, cred: Credential) -> tuple[str, str]:
        response = await http_get(
            session,
            port,
            path,
            tls=tls,
            authorization=basic_auth(cred.username, cred.password),
            timeout=session.settings.login_timeout,
        )
        if response.status == 401:
            return REJECTED, response.status_line
        if response.status in (429, 503) or (
            response.status == 403 and LOCK_WORDS.search(response.body.decode("latin-1"))
        ):
            return LOCKED, response.status_line
        if 200 <= response.status < 400:
            return ACCEPTED, response.status_line
        return ATTEMPT_ERROR, response.status_line

    return http_login


class SshLogin:
    """Password logins through the OpenSSH client (SSH_ASKPASS), one subprocess per attempt."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="cybersafe-ssh-")
        self.askpass = Path(self._dir.name) / "askpass.sh"
        self.askpass.write_text('#!/bin/sh\nprintf "%s\\n" "$CYBERSAFE_SSH_PASSWORD"\n', encoding="utf-8")
        self.askpass.chmod(0o700)

    def close(self) -> None:
        self._dir.cleanup()

    async def __call__(self, session: ProbeSession, port: int, cred: Credential) -> tuple[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "SSH_ASKPASS": str(self.askpass),
            "SSH_ASKPASS_REQUIRE": "force",
            "DISPLAY": "cybersafe:0",
            "CYBERSAFE_SSH_PASSWORD": cred.password,
            "HOME": self._dir.name,  # never the user's keys, config or known_hosts
        }
        args = [
            "ssh", "-F", "/dev/null", "-T",
            "-o", "BatchMode=no", "-o", "PubkeyAuthentication=no", "-o", "GSSAPIAuthentication=no",
            "-o", "PreferredAuthentications=password,keyboard-interactive",
            "-o", "NumberOfPasswordPrompts=1", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            "-o", f"ConnectTimeout={max(1, round(session.settings.connect_timeout))}",
            "-p", str(port), "-l", cred.username, session.address, "exit",
        ]  # fmt: skip
        async with session.slot():
            code, output = await run_tool(args, env=env, timeout=session.settings.login_timeout + 10)
        line = printable(output.strip().splitlines()[-1].encode(), 120) if output.strip() else ""
        if code is None:
            return ATTEMPT_ERROR, "ssh client timed out"
        if code != 255:
            return ACCEPTED, f"logged in (remote exit status {code})"
        if LOCK_WORDS.search(output) or "connection reset" in output.lower() or "closed by remote" in output.lower():
            return LOCKED, line
        if "permission denied" in output.lower():
            return REJECTED, line
        return ATTEMPT_ERROR, line or "ssh exited 255"


async def run_tool(args: list[str], *, env: dict[str, str] | None = None, timeout: float) -> tuple[int | None, str]:
    """Run a trusted tool; (exit code or None on timeout, stdout+stderr). The tool's whole process group is
    killed on a timeout and when the probe budget cancels the wait."""
    process = await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        return None, ""
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await asyncio.shield(process.wait())
    return process.returncode, out.decode("utf-8", "replace")


# --- the attempt budget ----------------------------------------------------------------------------------------

LoginFunction = Callable[[ProbeSession, int, Credential], Awaitable[tuple[str, str]]]


async def attempt_login(session: ProbeSession, login: LoginFunction, port: int, cred: Credential) -> CredentialAttempt:
    started = time.monotonic()
    try:
        outcome, evidence = await login(session, port, cred)
    except ConnectionRefusedError:
        outcome, evidence = LOCKED, "connection refused after earlier attempts"
    except ConnectionResetError:
        outcome, evidence = LOCKED, "connection reset by the device"
    except TimeoutError:
        outcome, evidence = ATTEMPT_ERROR, "timed out"
    except (OSError, ssl.SSLError, ValueError, EOFError) as exc:
        outcome, evidence = ATTEMPT_ERROR, f"{type(exc).__name__}: {exc}"[:120]
    return CredentialAttempt(cred.username, cred.password, outcome, round(time.monotonic() - started, 3), evidence)


async def try_default_credentials(
    session: ProbeSession, login: LoginFunction, port: int, protocol: str, credentials: tuple[Credential, ...]
) -> CredentialTest:
    """The list, or its first entries up to the attempt budget; stops at an accepted login, a lockout, or two
    attempts in a row that could not be judged (a service that does not behave like a login is not hammered).
    ``note`` says why fewer than the whole list were tried."""
    budget = session.settings.credentials_budget
    budget = len(credentials) if budget is None else budget
    attempts: list[CredentialAttempt] = []
    note = None
    started = time.monotonic()
    allowance = session.settings.credentials_time_s
    for index, cred in enumerate(credentials[:budget]):
        if attempts:  # the time left, projected from three attempts (one may be slow: a first TLS handshake)
            spent = time.monotonic() - started
            left = min(budget, len(credentials)) - index
            if spent > allowance or (len(attempts) >= 3 and spent + left * spent / len(attempts) > allowance):
                note = (
                    f"stopped: failed logins are answered in about {spent / len(attempts):.1f} s each, so the other "
                    f"{left} would take past the {allowance:g} s a service is given (credentials_time_s)"
                )
                break
        attempt = await attempt_login(session, login, port, cred)
        attempts.append(attempt)
        if attempt.outcome == ACCEPTED:
            note = "stopped at the first accepted credential"
            break
        if attempt.outcome == LOCKED:
            note = "stopped: the service refused further attempts"
            break
        if len(attempts) >= 2 and all(a.outcome == ATTEMPT_ERROR for a in attempts[-2:]):
            note = "stopped: two attempts in a row could not be judged"
            break
    if note is None and len(attempts) < len(credentials):
        note = f"stopped at the attempt budget of {budget} per service (credentials_budget)"
    return CredentialTest(port, protocol, budget, len(credentials), tuple(attempts), note)
