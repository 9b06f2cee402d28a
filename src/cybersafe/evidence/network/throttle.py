"""Repeated failed logins on one service: locked out, throttled, or not (EN 303 645 5.1-5); facts only.

Two kinds of throttling are recognised. A delay that grows: later failures are answered much later than the
first ones. A fixed delay: every failed login is answered at least ``FIXED_DELAY_MIN_S`` later than the same
service answers without any credential (its baseline: the login prompt, the FTP greeting, the HTTP 401, the
SSH method list), measured on the same device in the same run, so a slow device is not mistaken for a
throttling one. Without a baseline a slow reply stays undetermined.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable

from cybersafe.evidence.network.credentials import (
    ANY_PROMPT,
    Credential,
    LoginFunction,
    attempt_login,
    ftp_reply,
)
from cybersafe.evidence.network.http import http_get
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
    ThrottleObservation,
)
from cybersafe.evidence.network.session import ProbeSession
from cybersafe.evidence.network.ssh import auth_methods
from cybersafe.evidence.network.telnet import TelnetClient

FIXED_DELAY_MIN_S = 1.0  # a failed login answered at least this much later than the baseline is throttled
FIXED_DELAY_FAILURES = 3  # failed logins that must all show the delay
BASELINE_ROUNDS = 3

# One exchange with the service that sends no credential; returns when the service has answered.
BaselineFunction = Callable[[ProbeSession, int], Awaitable[None]]


async def telnet_baseline(session: ProbeSession, port: int) -> None:
    async with session.connect(port) as (reader, writer):
        text = await TelnetClient(session, reader, writer).read_until(ANY_PROMPT, session.settings.read_timeout)
    if not ANY_PROMPT.search(text.rstrip("\x00 ")):
        raise ValueError("no login prompt")


async def ftp_baseline(session: ProbeSession, port: int) -> None:
    async with session.connect(port) as (reader, writer):
        greeting = await ftp_reply(reader, session.settings.read_timeout)
        writer.write(b"QUIT\r\n")  # a courtesy: not waited for
    if not greeting[:1].isdigit():
        raise ValueError("no FTP greeting")


async def ssh_baseline(session: ProbeSession, port: int) -> None:
    methods, line = await auth_methods(session, port)
    if methods is None:
        raise ValueError(line or "no method list")


def http_baseline(path: str, *, tls: bool) -> BaselineFunction:
    async def baseline(session: ProbeSession, port: int) -> None:
        await http_get(session, port, path, tls=tls)

    return baseline


async def measure_baseline(session: ProbeSession, baseline: BaselineFunction | None, port: int) -> float | None:
    """Median time of ``BASELINE_ROUNDS`` exchanges without a credential; None when one fails."""
    if baseline is None:
        return None
    times: list[float] = []
    for _ in range(BASELINE_ROUNDS):
        started = time.monotonic()
        try:
            await baseline(session, port)
        except (OSError, TimeoutError, ValueError, EOFError):
            return None
        times.append(time.monotonic() - started)
    return round(statistics.median(times), 3)


async def observe_throttling(
    session: ProbeSession,
    login: LoginFunction,
    port: int,
    protocol: str,
    username: str,
    prior: tuple[CredentialAttempt, ...] = (),
    baseline_s: float | None = None,
) -> ThrottleObservation:
    """Wrong passwords in a row; locked_out, throttled (a growing or a fixed delay), or not_throttled.

    ``prior`` are the failed default-credential attempts just made on the same service: they count as the
    start of the run, and a lockout they already met ends it, as does a fixed delay they already show.
    """
    attempts = [a for a in prior if a.outcome in (REJECTED, LOCKED)]
    if any(a.outcome == LOCKED for a in attempts) or fixed_delay(attempts, baseline_s) is not None:
        return judge_throttling(port, protocol, attempts, baseline_s)
    if prior and all(a.outcome == ATTEMPT_ERROR for a in prior):
        return judge_throttling(port, protocol, list(prior), baseline_s)
    for index in range(session.settings.throttle_attempts):
        cred = Credential(username, f"cybersafe-wrong-{index}-x9")
        attempt = await attempt_login(session, login, port, cred)
        attempts.append(attempt)
        if attempt.outcome in (LOCKED, ACCEPTED) or fixed_delay(attempts, baseline_s) is not None:
            break
    return judge_throttling(port, protocol, attempts, baseline_s)


def fixed_delay(attempts: list[CredentialAttempt], baseline_s: float | None) -> tuple[float, float] | None:
    """(least, median) delay of the failed logins over the baseline, when every one shows the delay."""
    failed = [a.elapsed_s for a in attempts if a.outcome == REJECTED]
    if baseline_s is None or len(failed) < FIXED_DELAY_FAILURES:
        return None
    least = min(failed) - baseline_s
    if least < FIXED_DELAY_MIN_S:
        return None
    return round(least, 2), round(statistics.median(failed) - baseline_s, 2)


def judge_throttling(
    port: int, protocol: str, attempts: list[CredentialAttempt], baseline_s: float | None = None
) -> ThrottleObservation:
    latencies = [a.elapsed_s for a in attempts]
    first = statistics.median(latencies[:3]) if latencies else 0.0
    last = statistics.median(latencies[-3:]) if latencies else 0.0

    def observation(
        outcome: str, evidence: str, count: int = len(attempts), delay: float | None = None
    ) -> ThrottleObservation:
        return ThrottleObservation(port, protocol, count, outcome, first, last, evidence, baseline_s, delay)

    locked = next((a for a in attempts if a.outcome == LOCKED), None)
    if locked is not None:
        number = attempts.index(locked) + 1
        return observation(
            LOCKED_OUT, f"attempt {number} refused after {number - 1} failures: {locked.evidence}", count=number
        )
    if any(a.outcome == ACCEPTED for a in attempts):
        return observation(UNDETERMINED, "a wrong password was accepted: no authentication")
    errors = sum(1 for a in attempts if a.outcome == ATTEMPT_ERROR)
    if not attempts or errors * 2 > len(attempts):
        detail = attempts[-1].evidence if attempts else "no attempt made"
        return observation(UNDETERMINED, f"{errors} of {len(attempts)} attempts failed to complete: {detail}")
    if len(latencies) >= 6 and last >= max(3 * first, first + 1.0):
        return observation(
            THROTTLED, f"replies slowed from {first:.2f} s to {last:.2f} s over {len(attempts)} failed logins"
        )
    return _judge_delay(attempts, baseline_s, observation)


def _judge_delay(
    attempts: list[CredentialAttempt],
    baseline_s: float | None,
    observation: Callable[..., ThrottleObservation],
) -> ThrottleObservation:
    rejected = [a.elapsed_s for a in attempts if a.outcome == REJECTED]
    typical = statistics.median(rejected) if rejected else 0.0
    delay = fixed_delay(attempts, baseline_s)
    if delay is not None:
        least, median = delay
        return observation(
            THROTTLED,
            f"each of {len(rejected)} failed logins was answered at least {least:.1f} s later than the service "
            f"answers without a credential ({baseline_s:.2f} s): a fixed delay of about {median:.1f} s per "
            "failed login (it slows each connection; parallel connections were not tried)",
            delay=median,
        )
    if baseline_s is None and rejected and min(rejected) >= FIXED_DELAY_MIN_S:
        return observation(
            UNDETERMINED,
            f"each failed login took {min(rejected):.1f} s or more, but the service's reply time without a "
            "credential could not be measured: a fixed delay cannot be told from a slow device",
        )
    compared = f" (without a credential: {baseline_s:.2f} s)" if baseline_s is not None else ""
    return observation(
        NOT_THROTTLED,
        f"{len(rejected)} wrong passwords rejected in a row, each in about {typical:.2f} s{compared}, "
        "with no lockout or slow-down",
    )
