"""Default credentials on telnet, SSH, FTP and HTTP basic auth, and whether repeated failures are throttled.

EN 303 645 5.1-1 (no universal default password) and 5.1-5 (brute force is made impracticable). Every
service gets a small attempt budget from the shared list (``evidence/credentials_defaults.txt``, also read
by the firmware scanner); then a run of wrong passwords shows whether the service slows down or locks out.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import ssl
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from cybersafe.evidence.defaults import default_credentials, parse_credentials
from cybersafe.evidence.network.http import basic_auth, http_get
from cybersafe.evidence.network.model import (
    ACCEPTED,
    ATTEMPT_ERROR,
    LOCKED,
    LOCKED_OUT,
    NOT_THROTTLED,
    REJECTED,
    THROTTLED,
    UNDETERMINED,
    CredentialAttempt,
    CredentialTest,
    ThrottleObservation,
)
from cybersafe.evidence.network.scan import IAC
from cybersafe.evidence.network.session import ProbeSession, printable

_LOCK_WORDS = re.compile(r"(?i)too many|locked|lockout|try again later|temporarily|blocked|banned|wait \d+")
_REJECT_WORDS = re.compile(r"(?i)incorrect|invalid|fail|denied|wrong|bad password|not allowed|unauthori[sz]ed")
_LOGIN_PROMPT = re.compile(r"(?i)(login|username|user name|user)\s*:\s*$")
_PASSWORD_PROMPT = re.compile(r"(?i)password\s*:\s*$")
_SHELL = re.compile(r"(?i)([#$>%]\s*$)|welcome|last login|busybox|built-in shell")
_ANY_PROMPT = re.compile(r"(?i)(login|username|user name|user|password)\s*:\s*$")
_AFTER_PASSWORD = re.compile(
    r"(?i)([#$>%]\s*$)|welcome|last login|built-in shell|(login|username|user name|user)\s*:\s*$"
)


@dataclass(frozen=True, slots=True)
class Credential:
    username: str
    password: str


def load_default_credentials(path: Path | None = None) -> tuple[Credential, ...]:
    """The list shared with the firmware scanner, or a list of the same format at ``path``."""
    pairs = default_credentials() if path is None else parse_credentials(path.read_text(encoding="utf-8"))
    return tuple(Credential(user, password) for user, password in pairs)


# --- one login attempt per protocol: returns (outcome, evidence) ------------------------------------------------


class _Telnet:
    """Just enough telnet: refuse every option, strip negotiation, collect text."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.text = ""

    def _strip(self, data: bytes) -> str:
        out = bytearray()
        i = 0
        while i < len(data):
            byte = data[i]
            if byte == IAC and i + 1 < len(data):
                command = data[i + 1]
                if command in (251, 252, 253, 254) and i + 2 < len(data):  # WILL WONT DO DONT
                    option = data[i + 2]
                    if command == 253:
                        self.writer.write(bytes([IAC, 252, option]))  # DO -> WONT
                    elif command == 251:
                        self.writer.write(bytes([IAC, 254, option]))  # WILL -> DONT
                    i += 3
                    continue
                if command == 250:  # subnegotiation: skip to IAC SE
                    end = data.find(bytes([IAC, 240]), i)
                    i = len(data) if end < 0 else end + 2
                    continue
                i += 2
                continue
            out.append(byte)
            i += 1
        return out.decode("latin-1")

    async def read_until(self, pattern: re.Pattern[str], timeout: float) -> str:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        collected = ""
        while True:
            tail = collected.rstrip("\x00").rstrip(" ")
            if pattern.search(tail) or _LOCK_WORDS.search(collected):
                return collected
            remaining = deadline - loop.time()
            if remaining <= 0:
                return collected
            try:
                chunk = await asyncio.wait_for(self.reader.read(1024), remaining)
            except TimeoutError:
                return collected
            if not chunk:
                return collected
            collected += self._strip(chunk)
            await self.writer.drain()

    async def send(self, line: str) -> None:
        self.writer.write(line.encode("latin-1") + b"\r\n")
        await self.writer.drain()


async def telnet_login(session: ProbeSession, port: int, cred: Credential) -> tuple[str, str]:
    timeout = session.settings.read_timeout
    async with session.connect(port) as (reader, writer):
        telnet = _Telnet(reader, writer)
        first = await telnet.read_until(_ANY_PROMPT, timeout)
        last = first.strip().splitlines()[-1] if first.strip() else ""
        if _LOCK_WORDS.search(first):
            return LOCKED, printable(last.encode("latin-1"))
        if _LOGIN_PROMPT.search(last):
            await telnet.send(cred.username)
            prompt = await telnet.read_until(_PASSWORD_PROMPT, timeout)
            if not _PASSWORD_PROMPT.search(prompt.rstrip()):
                return _judge_telnet(prompt, no_password_prompt=True)
        elif not _PASSWORD_PROMPT.search(last):
            return ATTEMPT_ERROR, f"no login prompt: {printable(first.encode('latin-1'), 80)!s}"
        await telnet.send(cred.password)
        reply = await telnet.read_until(_AFTER_PASSWORD, timeout)
        return _judge_telnet(reply, no_password_prompt=False)


def _judge_telnet(reply: str, *, no_password_prompt: bool) -> tuple[str, str]:
    text = reply.strip()
    shown = printable(text.encode("latin-1"), 100)
    if _LOCK_WORDS.search(text):
        return LOCKED, shown
    if _REJECT_WORDS.search(text) or _LOGIN_PROMPT.search(text) or _PASSWORD_PROMPT.search(text):
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
        greeting = await _ftp_reply(reader, timeout)
        if greeting.startswith("421"):
            return LOCKED, greeting
        if not greeting.startswith("220"):
            return ATTEMPT_ERROR, f"greeting: {greeting or 'none'}"
        writer.write(f"USER {cred.username}\r\n".encode("latin-1"))
        await writer.drain()
        reply = await _ftp_reply(reader, timeout)
        if reply.startswith("331"):
            writer.write(f"PASS {cred.password}\r\n".encode("latin-1"))
            await writer.drain()
            reply = await _ftp_reply(reader, timeout)
        with contextlib.suppress(OSError):
            writer.write(b"QUIT\r\n")
        if reply.startswith("230"):
            return ACCEPTED, reply
        if reply.startswith("421") or _LOCK_WORDS.search(reply):
            return LOCKED, reply
        if reply.startswith("530"):
            return REJECTED, reply
        return ATTEMPT_ERROR, f"reply: {reply or 'none'}"


async def _ftp_reply(reader: asyncio.StreamReader, timeout: float) -> str:
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
        response = await http_get(session, port, path, tls=tls, authorization=basic_auth(cred.username, cred.password))
        if response.status == 401:
            return REJECTED, response.status_line
        if response.status in (429, 503) or (
            response.status == 403 and _LOCK_WORDS.search(response.body.decode("latin-1"))
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
            code, output = await run_tool(args, env=env, timeout=session.settings.read_timeout + 10)
        line = printable(output.strip().splitlines()[-1].encode(), 120) if output.strip() else ""
        if code is None:
            return ATTEMPT_ERROR, "ssh client timed out"
        if code != 255:
            return ACCEPTED, f"logged in (remote exit status {code})"
        if _LOCK_WORDS.search(output) or "connection reset" in output.lower() or "closed by remote" in output.lower():
            return LOCKED, line
        if "permission denied" in output.lower():
            return REJECTED, line
        return ATTEMPT_ERROR, line or "ssh exited 255"


async def run_tool(args: list[str], *, env: dict[str, str] | None = None, timeout: float) -> tuple[int | None, str]:
    """Run a trusted tool; (exit code or None on timeout, stdout+stderr)."""
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
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        return None, ""
    return process.returncode, out.decode("utf-8", "replace")


# --- budgets and the 5.1-5 observation --------------------------------------------------------------------------

LoginFunction = Callable[[ProbeSession, int, Credential], Awaitable[tuple[str, str]]]


async def _attempt(session: ProbeSession, login: LoginFunction, port: int, cred: Credential) -> CredentialAttempt:
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
    budget = session.settings.credentials_budget
    attempts: list[CredentialAttempt] = []
    note = None
    for cred in credentials[:budget]:
        attempt = await _attempt(session, login, port, cred)
        attempts.append(attempt)
        if attempt.outcome == ACCEPTED:
            note = "stopped at the first accepted credential"
            break
        if attempt.outcome == LOCKED:
            note = "stopped: the service refused further attempts"
            break
    return CredentialTest(port, protocol, budget, len(credentials), tuple(attempts), note)


async def observe_throttling(
    session: ProbeSession,
    login: LoginFunction,
    port: int,
    protocol: str,
    username: str,
    prior: tuple[CredentialAttempt, ...] = (),
) -> ThrottleObservation:
    """Wrong passwords in a row; locked_out, throttled (later attempts much slower), or not_throttled.

    ``prior`` are the failed default-credential attempts just made on the same service: they count as the
    start of the run, and a lockout they already met ends it.
    """
    attempts = [a for a in prior if a.outcome in (REJECTED, LOCKED)]
    if any(a.outcome == LOCKED for a in attempts):
        return judge_throttling(port, protocol, attempts)
    for index in range(session.settings.throttle_attempts):
        cred = Credential(username, f"cybersafe-wrong-{index}-x9")
        attempt = await _attempt(session, login, port, cred)
        attempts.append(attempt)
        if attempt.outcome in (LOCKED, ACCEPTED):
            break
    return judge_throttling(port, protocol, attempts)


def judge_throttling(port: int, protocol: str, attempts: list[CredentialAttempt]) -> ThrottleObservation:
    latencies = [a.elapsed_s for a in attempts]
    first = statistics.median(latencies[:3]) if latencies else 0.0
    last = statistics.median(latencies[-3:]) if latencies else 0.0
    locked = next((a for a in attempts if a.outcome == LOCKED), None)
    errors = sum(1 for a in attempts if a.outcome == ATTEMPT_ERROR)
    rejected = sum(1 for a in attempts if a.outcome == REJECTED)
    if locked is not None:
        number = attempts.index(locked) + 1
        return ThrottleObservation(
            port, protocol, number, LOCKED_OUT, first, last,
            f"attempt {number} refused after {number - 1} failures: {locked.evidence}",
        )  # fmt: skip
    if any(a.outcome == ACCEPTED for a in attempts):
        return ThrottleObservation(
            port, protocol, len(attempts), UNDETERMINED, first, last, "a wrong password was accepted: no authentication"
        )
    if not attempts or errors * 2 > len(attempts):
        detail = attempts[-1].evidence if attempts else "no attempt made"
        return ThrottleObservation(
            port, protocol, len(attempts), UNDETERMINED, first, last, f"{errors} of {len(attempts)} attempts failed to complete: {detail}"
        )  # fmt: skip
    if len(latencies) >= 6 and last >= max(3 * first, first + 1.0):
        return ThrottleObservation(
            port, protocol, len(attempts), THROTTLED, first, last,
            f"replies slowed from {first:.2f} s to {last:.2f} s over {len(attempts)} failed logins",
        )  # fmt: skip
    return ThrottleObservation(
        port, protocol, len(attempts), NOT_THROTTLED, first, last,
        f"{rejected} wrong passwords rejected in a row, each in about {last:.2f} s, with no lockout or slow-down",
    )  # fmt: skip
