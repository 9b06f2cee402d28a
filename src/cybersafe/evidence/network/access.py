"""Access without any credential: a telnet shell with no login, anonymous FTP, SSH's 'none' method; facts only.

A telnet service that shows a shell prompt without asking for a login is confirmed by one harmless command
whose output differs from its echo (``echo`` of an arithmetic expansion): the probe reports a shell only
when the shell ran it. Anonymous FTP is one ``USER anonymous`` login with an e-mail-like password, the
form RFC 1635 describes. SSH's answer to the 'none' method comes from the SSH audit (``ssh.py``).
"""

from __future__ import annotations

import re
import ssl

from cybersafe.evidence.network.credentials import ANY_PROMPT, LOCK_WORDS, Credential, ftp_login
from cybersafe.evidence.network.model import (
    ACCEPTED,
    ATTEMPT_ERROR,
    GRANTED,
    LOCKED,
    REFUSED,
    REJECTED,
    UNCONFIRMED,
    AccessWithoutCredentials,
    SshResult,
)
from cybersafe.evidence.network.session import ProbeSession, printable
from cybersafe.evidence.network.telnet import TelnetClient, last_line

_SHELL_PROMPT = re.compile(r"[#$>%]\s*$")
_PROMPT = re.compile(r"(?i)((login|username|user name|user|password)\s*:|[#$>%])\s*$")  # login or shell
_FACTORS = (6007, 7)
PROBE_COMMAND = f"echo cybersafe-$(( {_FACTORS[0]} * {_FACTORS[1]} ))-probe"
PROBE_OUTPUT = f"cybersafe-{_FACTORS[0] * _FACTORS[1]}-probe"  # the echo of the command never contains it
ANONYMOUS = Credential("anonymous", "cybersafe-probe@example.invalid")

TELNET_METHOD = "connected, sent no credential, waited for a prompt"
FTP_METHOD = "USER anonymous"
SSH_METHOD = "SSH 'none' authentication method"


async def telnet_access(session: ProbeSession, port: int) -> AccessWithoutCredentials:
    def seen(outcome: str, evidence: str) -> AccessWithoutCredentials:
        return AccessWithoutCredentials(port, "telnet", TELNET_METHOD, outcome, evidence)

    timeout = session.settings.read_timeout
    try:
        async with session.connect(port) as (reader, writer):
            telnet = TelnetClient(session, reader, writer)
            first = await telnet.read_until(_PROMPT, timeout, anywhere=LOCK_WORDS)
            prompt = last_line(first)
            shown = printable(prompt.encode("latin-1"), 80)
            if ANY_PROMPT.search(prompt.rstrip("\x00 ")):
                return seen(REFUSED, f"asked for credentials: {shown}")
            if not _SHELL_PROMPT.search(prompt.rstrip("\x00")):
                return seen(
                    ATTEMPT_ERROR, f"neither a login nor a shell prompt: {printable(first.encode('latin-1'), 80)}"
                )
            await telnet.send_line(PROBE_COMMAND)
            reply = await telnet.read_until(re.compile(re.escape(PROBE_OUTPUT)), timeout)
            if PROBE_OUTPUT in reply:
                await telnet.send_line("exit")
                return seen(
                    GRANTED, f"a shell without any login: prompt {shown!r}; `{PROBE_COMMAND}` printed {PROBE_OUTPUT}"
                )
            answer = printable(reply.encode("latin-1"), 80)
            return seen(UNCONFIRMED, f"prompt {shown!r} without a login, but `{PROBE_COMMAND}` did not run: {answer}")
    except (OSError, TimeoutError, EOFError, ValueError) as exc:
        return seen(ATTEMPT_ERROR, f"{type(exc).__name__}: {exc}"[:120])


async def ftp_access(session: ProbeSession, port: int) -> AccessWithoutCredentials:
    try:
        outcome, evidence = await ftp_login(session, port, ANONYMOUS)
    except (OSError, TimeoutError, EOFError, ValueError, ssl.SSLError) as exc:
        outcome, evidence = ATTEMPT_ERROR, f"{type(exc).__name__}: {exc}"[:120]
    judged = {ACCEPTED: GRANTED, REJECTED: REFUSED}.get(outcome, ATTEMPT_ERROR)
    if outcome == LOCKED:
        evidence = f"the service refused the attempt: {evidence}"
    return AccessWithoutCredentials(port, "ftp", FTP_METHOD, judged, evidence)


def ssh_access(result: SshResult) -> AccessWithoutCredentials:
    methods = result.auth_methods
    evidence = result.auth_methods_evidence or "no reply"
    if methods is None:
        outcome = ATTEMPT_ERROR
    elif "none" in methods:
        outcome = GRANTED
    else:
        outcome = REFUSED
    return AccessWithoutCredentials(result.port, "ssh", SSH_METHOD, outcome, evidence)
