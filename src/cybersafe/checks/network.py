"""Checks on what the running device exposes over the network.

Every finding names the host, the port, the protocol and what the probe saw (banner, reply, suite,
algorithm). A part of the probe that did not finish (a timeout, a tool that failed) makes the check
inconclusive for that service, never a pass. A probe that did not see the device it was meant to see (none
of the declared ports answered, a declared service is absent, nothing answered and nothing is declared, or
the probe's budget ran out) turns every pass and not_applicable of a network check into inconclusive with
that reason: silence from a switched-off device is not evidence of a secure one. Fails stay fails.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from abc import abstractmethod
from collections.abc import Iterable, Sequence

from cybersafe.checks.interface import OBSERVES, Check, Finding, Location
from cybersafe.evidence.interface import Evidence
from cybersafe.evidence.network.model import (
    ACCEPTED,
    GRANTED,
    LOCKED,
    LOCKED_OUT,
    NOT_THROTTLED,
    REFUSED,
    REJECTED,
    THROTTLED,
    UNCONFIRMED,
    AccessWithoutCredentials,
    CredentialTest,
    DeclaredPort,
    HostObservations,
    NetworkObservations,
    OpenPort,
    SshResult,
    ThrottleObservation,
    TlsResult,
)
from cybersafe.evidence.network.policy import default_policy
from cybersafe.verdict import Severity, Verdict

_SHOWN = 8
LOGIN_SERVICES = ("telnet", "ftp", "ssh", "http-basic")
CLEARTEXT_LOGIN = ("telnet", "ftp", "rlogin", "rsh", "rexec", "pop3", "imap")


def _loc(host: HostObservations, port: int, protocol: str) -> Location:
    return Location(host=host.address, port=port, protocol=protocol)


def _url(host: HostObservations, port: int, protocol: str) -> str:
    return str(_loc(host, port, protocol))


def _login_loc(host: HostObservations, port: int, protocol: str) -> tuple[str, list[Location]]:
    """URL and location of a login service; HTTP basic auth is named by its scheme (http or https)."""
    if protocol == "http-basic":
        found = host.port(port)
        scheme = found.service if found is not None and found.service in ("http", "https") else "http"
        return f"{_url(host, port, scheme)} (HTTP basic auth)", [_loc(host, port, scheme)]
    return _url(host, port, protocol), [_loc(host, port, protocol)]


def _some(items: Iterable[str], limit: int = _SHOWN) -> str:
    values = list(items)
    text = ", ".join(values[:limit])
    return text + (f" and {len(values) - limit} more" if len(values) > limit else "")


def _hosts(evidence: Evidence) -> tuple[NetworkObservations, tuple[HostObservations, ...]]:
    observations = evidence.require(NetworkObservations)
    return observations, tuple(h for h in observations.hosts if h.reachability.reachable)


def _incomplete(host: HostObservations, prefix: str) -> list[str]:
    return [text for text in host.reachability.incomplete if text.startswith(prefix)]


def _scan_summary(host: HostObservations) -> str:
    r = host.reachability
    text = f"{r.ports_scanned} TCP ports of {host.address} scanned: {r.open_ports} open, {r.closed_ports} closed"
    if r.filtered_ports:
        text += f", {r.filtered_ports} silent (filtered)"
    return text


def _declared_label(declared: DeclaredPort, host: HostObservations) -> str:
    probed = "" if declared.port in host.ports_probed else ", not probed"
    return f"{declared.port}/{declared.protocol} ({declared.service}{probed})"


def device_gap(observations: NetworkObservations, host: HostObservations) -> str | None:
    """Why the probe of ``host`` cannot support a pass: the device it saw is not (all of) the declared one."""
    declared = observations.declared_ports
    tcp = [d for d in declared or () if d.protocol == "tcp"]
    open_tcp = {p.port for p in host.open_ports if p.protocol == "tcp"}
    absent = [d for d in tcp if d.port not in open_tcp]
    gaps: list[str] = []
    if tcp and len(absent) == len(tcp):
        gaps.append(
            f"{host.address} answered on none of its declared ports ({_some(_declared_label(d, host) for d in tcp)}): "
            "the device may be switched off, still starting, or at another address"
        )
    elif absent:
        noun = "service" if len(absent) == 1 else "services"
        gaps.append(
            f"declared {noun} {_some(_declared_label(d, host) for d in absent)} not found open on {host.address}"
        )
    elif declared is None and not host.open_ports:
        gaps.append(
            f"no service answered ({_scan_summary(host)}) and the dossier declares no network ports: a "
            "switched-off device or a wrong address cannot be ruled out"
        )
    if host.reachability.budget_stop:
        gaps.append(host.reachability.budget_stop)
    return "; ".join(gaps) or None


class _HostCheck(Check):
    """A network check judged host by host; a device gap keeps any pass or not_applicable from standing."""

    REQUIRES = (NetworkObservations,)

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        observations, hosts = _hosts(evidence)
        findings: list[Finding] = []
        for host in hosts:
            judged = self.judge_host(observations, host)
            gap = device_gap(observations, host)
            findings.extend(judged if gap is None else [self._under_gap(f, gap) for f in judged])
        return findings or [self.inconclusive("the probe reached no host")]

    @abstractmethod
    def judge_host(self, observations: NetworkObservations, host: HostObservations) -> list[Finding]:
        """The findings for one reachable host."""

    def _under_gap(self, finding: Finding, gap: str) -> Finding:
        if finding.verdict not in (Verdict.PASS, Verdict.NOT_APPLICABLE):
            return finding
        return dataclasses.replace(
            finding,
            verdict=Verdict.INCONCLUSIVE,
            message=f"{gap}; so this cannot count as {finding.verdict}: {finding.message}",
            facts={**finding.facts, "device_gap": gap, "seen": str(finding.verdict)},
        )


def _ports_of(host: HostObservations, service: str) -> list[OpenPort]:
    return [p for p in host.open_ports if p.protocol == "tcp" and p.service == service]


def _login_ports(host: HostObservations) -> list[tuple[int, str]]:
    """Login services the probe recognised: telnet, FTP, SSH with passwords, HTTP basic auth."""
    found: list[tuple[int, str]] = []
    for port in host.open_ports:
        if port.protocol != "tcp":
            continue
        if port.service in ("telnet", "ftp"):
            found.append((port.port, port.service))
        elif port.service == "ssh":
            result = next((s for s in host.ssh if s.port == port.port), None)
            methods = result.auth_methods if result is not None else None
            if methods is None or {"password", "keyboard-interactive"} & set(methods):
                found.append((port.port, "ssh"))
    found.extend(dict.fromkeys((page.port, "http-basic") for page in host.http if page.auth_scheme == "Basic"))
    return found


def _access_of(host: HostObservations) -> dict[tuple[int, str], AccessWithoutCredentials]:
    return {(a.port, a.protocol): a for a in host.access}


# Declared service names by what they promise on the wire: TLS, or the clear (compared with what the probe saw).
TLS_SERVICES = frozenset(
    {"https", "tls", "ssl", "mqtts", "secure-mqtt", "ftps", "imaps", "pop3s", "smtps", "submissions", "ldaps",
     "ipps", "wss", "rtsps", "amqps", "coaps", "dtls", "sips", "xmpps", "dot"}
)  # fmt: skip
CLEARTEXT_SERVICES = frozenset(
    {"http", "telnet", "ftp", "mqtt", "rtsp", "imap", "pop3", "smtp", "ws", "rlogin", "rsh", "rexec", "ldap",
     "amqp", "coap", "sip", "xmpp"}
)  # fmt: skip
# HTTP replies of a service that refuses a client for now: a locked-out login cannot be told from no login
LOCKED_HTTP = (429, 503)


SSH_SERVICES = frozenset({"ssh", "sftp", "scp"})


def declared_kind(service: str) -> str | None:
    """``tls``, ``ssh`` or ``cleartext`` for a declared service name, None when the name does not say."""
    name = service.strip().lower()
    if name in TLS_SERVICES:
        return "tls"
    if name in SSH_SERVICES:
        return "ssh"
    return "cleartext" if name in CLEARTEXT_SERVICES else None


def observed_kind(port: OpenPort) -> str | None:
    """``tls``, ``ssh`` or ``cleartext`` as the probe saw the service; None when it could not tell (a guess
    from the port number alone, an unknown protocol)."""
    if port.tls:
        return "tls"
    if port.service == "ssh":
        return "ssh"
    if port.service in CLEARTEXT_SERVICES and port.basis != "port-number":
        return "cleartext"
    return None


def _declared(observations: NetworkObservations, port: int) -> DeclaredPort | None:
    return next((d for d in observations.declared_ports or () if d.port == port and d.protocol == "tcp"), None)


def _unrecognised_logins(
    observations: NetworkObservations, host: HostObservations, logins: list[tuple[int, str]]
) -> list[tuple[OpenPort, str]]:
    """Open TCP ports where the probe found no login it could try although one is there or may be: the dossier
    declares the port authenticated, or the service answered as locked out (HTTP 429/503). A locked-out or
    unrecognised login must not read as no login service."""
    with_login = {port for port, _ in logins}
    out: list[tuple[OpenPort, str]] = []
    for port in host.open_ports:
        if port.protocol != "tcp" or port.port in with_login:
            continue
        pages = [p for p in host.http if p.port == port.port]
        locked = [p for p in pages if p.status in LOCKED_HTTP]
        declared = _declared(observations, port.port)
        if locked:
            out.append((port, f"it answered {_some(f'{p.path} -> {p.status_line}' for p in locked)}: a locked-out "
                              "login service cannot be told apart from no login service"))  # fmt: skip
        elif declared is not None and declared.authenticated and port.service != "ssh":
            seen = _some(f"{p.path} -> {p.status_line}" for p in pages) or f"{port.service} ({port.basis})"
            out.append((port, f"the dossier declares it authenticated ({declared.service}), but the probe found no "
                              f"login it could try there (saw: {seen})"))  # fmt: skip
    return out


# What a login service that asks for a password shows about the product, whatever its dossier declares
# (dossier/facts.py, reconcile_facts): it uses passwords and authenticates its users.
PASSWORD_LOGIN: dict[str, bool] = {"uses_passwords": True, "user_authentication": True}


def _observing(finding: Finding, facts: dict[str, bool]) -> Finding:
    """``finding`` with the condition facts its evidence establishes (``OBSERVES``)."""
    return dataclasses.replace(finding, facts={**finding.facts, OBSERVES: {**finding.facts.get(OBSERVES, {}), **facts}})


def _asks_for_password(host: HostObservations, port: int, protocol: str, test: CredentialTest | None) -> bool:
    """Whether the probe saw this login service ask for a password: an HTTP Basic challenge, SSH offering
    password methods, or a telnet/FTP login that judged a password (accepted or rejected it)."""
    if protocol == "http-basic":
        return True
    if protocol == "ssh":
        result = next((s for s in host.ssh if s.port == port), None)
        if result is not None and result.auth_methods is not None:
            return bool({"password", "keyboard-interactive"} & set(result.auth_methods))
    return test is not None and any(a.outcome in (ACCEPTED, REJECTED) for a in test.attempts)


class DefaultCredentialsCheck(_HostCheck):
    ID = "network.default-credentials"
    TITLE = "No login service on the device accepts a well-known default credential (EN 303 645 5.1-1)"
    SEVERITY = Severity.CRITICAL
    REMEDIATION = (
        "Remove universal default passwords: use a unique per-device password or make the user set one before "
        "any network service is usable (EN 303 645 5.1-1, 5.1-2; UK PSTI Schedule 1 para 1)."
    )

    def judge_host(self, observations: NetworkObservations, host: HostObservations) -> list[Finding]:
        logins = _login_ports(host)
        unknown = [
            self.inconclusive(f"{_url(host, port.port, port.service)}: no default credential was tried: {why}",
                              locations=[_loc(host, port.port, port.service)])
            for port, why in _unrecognised_logins(observations, host, logins)
        ]  # fmt: skip
        if not logins:
            return unknown or [
                self.not_applicable(
                    f"no login service (telnet, FTP, SSH with passwords, HTTP basic auth) found: {_scan_summary(host)}"
                )
            ]
        tested = {(t.port, t.protocol): t for t in host.credentials}
        access = _access_of(host)
        findings: list[Finding] = list(unknown)
        for port, protocol in logins:
            url, where = _login_loc(host, port, protocol)
            opened = access.get((port, protocol)) if protocol == "telnet" else None
            if opened is not None and opened.outcome in (GRANTED, UNCONFIRMED):
                findings.append(self._open_telnet(url, where, opened))
            else:
                test = tested.get((port, protocol))
                judged = self._judge_test(observations, url, where, test)
                if _asks_for_password(host, port, protocol, test):
                    seen = {**PASSWORD_LOGIN, **({"preinstalled_passwords": True} if test and test.accepted else {})}
                    judged = [_observing(f, seen) for f in judged]
                findings.extend(judged)
        return findings

    def _open_telnet(self, url: str, where: list[Location], opened: AccessWithoutCredentials) -> Finding:
        if opened.outcome == GRANTED:
            return self.failed(
                f"{url} grants a shell without asking for any credential, so every default credential works: "
                f"{opened.evidence}",
                locations=where,
                facts={"reply": opened.evidence},
            )
        return self.inconclusive(
            f"{url} shows a prompt without a login; no credential could be tried: {opened.evidence}", locations=where
        )

    def _judge_test(
        self, observations: NetworkObservations, url: str, where: list[Location], test: CredentialTest | None
    ) -> list[Finding]:
        if test is None or not test.attempts:
            return [
                self.inconclusive(
                    f"{url}: default credentials were not tried (attempt budget 0 or probe stopped)", locations=where
                )
            ]
        if test.accepted:
            return [
                self.failed(
                    f"{url} accepted the default login {a.username!r} / {a.password!r}: {a.evidence}",
                    locations=where,
                    facts={"username": a.username, "password": a.password, "reply": a.evidence},
                )
                for a in test.accepted
            ]
        rejected = [a for a in test.attempts if a.outcome == REJECTED]
        if not rejected:
            first = test.attempts[0]
            return [
                self.inconclusive(
                    f"{url}: no default credential could be judged ({first.outcome}: {first.evidence})",
                    locations=where,
                )
            ]
        facts = {"tried": len(test.attempts), "rejected": len(rejected), "list_size": test.list_size,
                 "budget": test.budget}  # fmt: skip
        source = observations.credentials_source
        if len(rejected) >= test.list_size:
            return [
                self.passed(
                    f"{url} rejected all {test.list_size} default credentials of {source}; reply: {rejected[-1].evidence}",
                    locations=where,
                    facts=facts,
                )
            ]
        # A sample is not the list: the rest may hold the one that works (a lockout keeps the probe out as well)
        why = test.note or (
            f"stopped at the attempt budget of {test.budget} per service (credentials_budget)"
            if len(test.attempts) >= test.budget
            else "the probe stopped"
        )
        locked_out = bool(test.note and "refused further attempts" in test.note)
        if locked_out:
            locked = next((a for a in test.attempts if a.outcome == LOCKED), None)
            why = (
                f"the service locked the probe out after {len(rejected)} failed logins"
                + (f" ({locked.evidence})" if locked is not None else "")
                + ", which is its brute-force protection (network.brute-force-protection) and keeps the rest untried"
            )
        if locked_out:
            remedy = "try the whole list with the lockout off"
        elif test.note and "credentials_time_s" in test.note:
            remedy = "allow the list more time (--credentials-time, artefacts.device.credentials_time_s)"
        else:
            remedy = "try the whole list"
        return [
            self.inconclusive(
                f"{url} rejected {len(rejected)} of the {test.list_size} default credentials of {source} "
                f"({_some(f'{a.username}/{a.password}' for a in rejected)}), but {test.list_size - len(rejected)} "
                f"were not tried or not judged: {why}; a sample is not a pass ({remedy}, or record the lab's "
                "result in manual_results)",
                locations=where,
                facts={**facts, "stopped": why},
            )
        ]


class LoginWithoutCredentialsCheck(_HostCheck):
    ID = "network.login-without-credentials"
    TITLE = "No network service grants a shell or a session without credentials (telnet without login, anonymous FTP, SSH 'none')"
    SEVERITY = Severity.CRITICAL
    REMEDIATION = (
        "Require authentication on every login service: run telnetd (if at all) with a login program, never with "
        "a shell (busybox telnetd -l /bin/sh); disable anonymous FTP (vsftpd anonymous_enable=NO); never permit "
        "SSH's 'none' method or empty passwords (EN 303 645 5.1-1, 5.5-5; CRA Annex I Part I (2)(d))."
    )

    _SERVICES = ("telnet", "ftp", "ssh")

    def judge_host(self, observations: NetworkObservations, host: HostObservations) -> list[Finding]:
        services = [p for p in host.open_ports if p.protocol == "tcp" and p.service in self._SERVICES]
        if not services:
            return [self.not_applicable(f"no telnet, FTP or SSH service found: {_scan_summary(host)}")]
        access = _access_of(host)
        return [self._judge(host, port, access.get((port.port, port.service))) for port in services]

    def _judge(self, host: HostObservations, port: OpenPort, seen: AccessWithoutCredentials | None) -> Finding:
        url, where = _url(host, port.port, port.service), [_loc(host, port.port, port.service)]
        if seen is None:
            return self.inconclusive(
                f"{url}: access without credentials was not tried (credential tests turned off, SSH audit off, or "
                "the probe stopped)",
                locations=where,
            )
        facts = {"method": seen.method, "outcome": seen.outcome, "reply": seen.evidence}
        if seen.outcome == GRANTED:
            anonymous = port.service == "ftp"
            return self.failed(
                f"{url} let the probe in without credentials ({seen.method}): {seen.evidence}",
                locations=where,
                facts=facts,
                severity=Severity.HIGH if anonymous else Severity.CRITICAL,
            )
        if seen.outcome == REFUSED:  # it asked for credentials: the product authenticates its users
            return self.passed(f"{url} refused access without credentials ({seen.method}): {seen.evidence}",
                               locations=where, facts={**facts, OBSERVES: {"user_authentication": True}})  # fmt: skip
        return self.inconclusive(
            f"{url}: access without credentials could not be judged ({seen.method}, {seen.outcome}): {seen.evidence}",
            locations=where,
            facts=facts,
        )


class BruteForceProtectionCheck(_HostCheck):
    ID = "network.brute-force-protection"
    TITLE = "Repeated failed logins over the network are throttled or locked out (EN 303 645 5.1-5)"
    SEVERITY = Severity.HIGH
    REMEDIATION = (
        "Limit failed authentication attempts on every network login: an increasing delay between attempts or a "
        "temporary lockout after a few failures (EN 303 645 5.1-5; NIST IR 8425 Interface Access Control)."
    )

    def judge_host(self, observations: NetworkObservations, host: HostObservations) -> list[Finding]:
        logins = _login_ports(host)
        unknown = [
            self.inconclusive(f"{_url(host, port.port, port.service)}: repeated failed logins were not tried: {why}",
                              locations=[_loc(host, port.port, port.service)])
            for port, why in _unrecognised_logins(observations, host, logins)
        ]  # fmt: skip
        if not logins:
            return unknown or [self.not_applicable(f"no network login service found: {_scan_summary(host)}")]
        seen = {(o.port, o.protocol): o for o in host.throttling}
        access = _access_of(host)
        findings: list[Finding] = list(unknown)
        for port, protocol in logins:
            url, where = _login_loc(host, port, protocol)
            observation = seen.get((port, protocol))
            opened = access.get((port, protocol)) if protocol == "telnet" else None
            if observation is None and opened is not None and opened.outcome in (GRANTED, UNCONFIRMED):
                findings.append(
                    self.inconclusive(
                        f"{url}: no login to protect: the service grants a prompt without credentials "
                        "(judged by network.login-without-credentials)",
                        locations=where,
                    )
                )
            elif observation is None:
                findings.append(self.inconclusive(f"{url}: repeated failed logins were not tried", locations=where))
            else:
                findings.append(self._judge(url, where, observation))
        return findings

    def _judge(self, url: str, where: list[Location], observation: ThrottleObservation) -> Finding:
        facts = {
            "attempts": observation.attempts,
            "outcome": observation.outcome,
            "first_latency_s": observation.first_latency_s,
            "last_latency_s": observation.last_latency_s,
            "baseline_s": observation.baseline_s,
            "fixed_delay_s": observation.fixed_delay_s,
        }
        if observation.outcome == LOCKED_OUT:
            return self.passed(f"{url} locked out repeated failed logins: {observation.evidence}", locations=where,
                               facts=facts)  # fmt: skip
        if observation.outcome == THROTTLED:
            return self.passed(f"{url} throttled repeated failed logins: {observation.evidence}", locations=where,
                               facts=facts)  # fmt: skip
        if observation.outcome == NOT_THROTTLED:
            return self.failed(f"{url}: {observation.evidence}", locations=where, facts=facts)
        return self.inconclusive(
            f"{url}: brute-force protection undetermined: {observation.evidence}", locations=where, facts=facts
        )


class _TlsCheck(_HostCheck):
    """Shared walk over the TLS results; subclasses judge one result."""

    def judge_host(self, observations: NetworkObservations, host: HostObservations) -> list[Finding]:
        tls_ports = [p for p in host.open_ports if p.tls]
        promised = [
            (p, d)
            for p in host.open_ports
            if not p.tls and (d := _declared(observations, p.port)) is not None and declared_kind(d.service) == "tls"
        ]
        gaps = [
            self.inconclusive(
                f"{_url(host, p.port, p.service)} is declared {d.service} (TLS), but the probe found no TLS there "
                f"({p.service}, {p.basis}): no TLS to judge (the contradiction is network.undeclared-services')",
                locations=[_loc(host, p.port, p.service)],
            )
            for p, d in promised
        ]
        if not tls_ports and not host.tls:
            return gaps or [self.not_applicable(f"no TLS service found: {_scan_summary(host)}")]
        scanned = {r.port for r in host.tls}
        unscanned = [p for p in tls_ports if p.port not in scanned]
        handshakes = {p.port: p.tls_error for p in tls_ports if p.tls_error}
        findings = [
            self._with_handshake(f, handshakes.get(result.port))
            for result in host.tls
            for f in self.judge(observations, host, result)
        ]
        if unscanned:
            why = _some(p.tls_error for p in unscanned if p.tls_error)
            findings.append(
                self.inconclusive(
                    f"TLS ports {_some(str(p.port) for p in unscanned)} of {host.address} were not scanned"
                    + (f" ({why})" if why else "")
                )
            )
        return findings + gaps

    @abstractmethod
    def judge(self, observations: NetworkObservations, host: HostObservations, result: TlsResult) -> list[Finding]:
        """The findings of one TLS result under this check's rule."""

    @staticmethod
    def _with_handshake(finding: Finding, handshake: str | None) -> Finding:
        """An inconclusive finding on a port whose handshake failed says so (a huge or malformed chain)."""
        if handshake is None or finding.verdict is not Verdict.INCONCLUSIVE:
            return finding
        return dataclasses.replace(finding, message=f"{finding.message}; the probe's own handshake: {handshake}")


class TlsLegacyProtocolCheck(_TlsCheck):
    ID = "network.tls-legacy-protocol"
    TITLE = "TLS services accept only TLS 1.2 and 1.3 (EN 303 645 5.5-1; RFC 8996)"
    SEVERITY = Severity.HIGH
    REMEDIATION = (
        "Disable SSL 2.0/3.0, TLS 1.0 and TLS 1.1 on every TLS service; offer TLS 1.2 and TLS 1.3 only (RFC 8996)."
    )

    def judge(self, observations: NetworkObservations, host: HostObservations, result: TlsResult) -> list[Finding]:
        policy = default_policy()
        url = _url(host, result.port, "tls")
        where = [_loc(host, result.port, "tls")]
        legacy = policy.legacy_protocols(result)
        if legacy:
            counts = {p: sum(1 for s in result.cipher_suites if s.protocol == p) for p in (v.subject for v in legacy)}
            return [
                self.failed(
                    f"{url} accepts {_some(f'{p} ({n} suites)' for p, n in counts.items())}; policy {policy.label} allows "
                    f"{', '.join(policy.spec.tls.allowed_protocols)}",
                    locations=where,
                    facts={"accepted_protocols": list(result.protocols), "policy": policy.label},
                )
            ]
        missing = [t for t in result.incomplete if "cipher suites" in t]
        if missing or (not result.completed and not result.protocols):
            return [
                self.inconclusive(f"{url}: protocol scan incomplete: {result.error or _some(missing)}", locations=where)
            ]
        return [
            self.passed(
                f"{url} accepts only {', '.join(result.protocols) or 'no protocol'} (sslyze tried SSL 2.0 to TLS 1.3; policy {policy.label})",
                locations=where,
                facts={"accepted_protocols": list(result.protocols)},
            )
        ]


class TlsWeakCipherCheck(_TlsCheck):
    ID = "network.tls-weak-cipher"
    TITLE = "TLS services accept no weak cipher suite and always use forward secrecy (EN 303 645 5.5-1)"
    SEVERITY = Severity.HIGH
    REMEDIATION = (
        "Offer only AEAD suites with ephemeral (EC)DHE key exchange: no NULL, EXPORT, RC4, DES/3DES, anonymous "
        "or static-RSA suites (NIST SP 800-52r2; BSI TR-02102-2)."
    )

    def judge(self, observations: NetworkObservations, host: HostObservations, result: TlsResult) -> list[Finding]:
        policy = default_policy()
        url = _url(host, result.port, "tls")
        where = [_loc(host, result.port, "tls")]
        weak = policy.weak_suites(result)
        if weak:
            return [
                self.failed(
                    f"{url} accepts {len(weak)} cipher suites that policy {policy.label} forbids: "
                    f"{_some((f'{s.name} [{s.protocol}] ({why})' for s, why in weak), 5)}",
                    locations=where,
                    facts={"weak_suites": [f"{s.protocol} {s.name}: {why}" for s, why in weak], "policy": policy.label},
                )
            ]
        if not result.completed:
            return [self.inconclusive(f"{url}: cipher-suite scan incomplete: {result.error}", locations=where)]
        return [
            self.passed(
                f"{url}: all {len(result.cipher_suites)} accepted suites meet policy {policy.label} "
                f"(forward secrecy, no NULL/EXPORT/RC4/3DES): {_some(s.name for s in result.cipher_suites)}",
                locations=where,
            )
        ]


class TlsCertificateCheck(_TlsCheck):
    ID = "network.tls-certificate"
    TITLE = "TLS certificates are within their validity period, with a strong key and signature"
    SEVERITY = Severity.MEDIUM
    REMEDIATION = (
        "Serve a certificate that is currently valid, with an RSA key of at least 2048 bits or an EC key of at "
        "least 256 bits, signed with SHA-256 or better; renew it before it expires."
    )

    def judge(self, observations: NetworkObservations, host: HostObservations, result: TlsResult) -> list[Finding]:
        policy = default_policy()
        url = _url(host, result.port, "tls")
        where = [_loc(host, result.port, "tls")]
        cert = result.certificate
        if cert is None:
            return [
                self.inconclusive(
                    f"{url}: no certificate was received ({result.error or 'certificate scan failed'})", locations=where
                )
            ]
        at = dt.datetime.fromisoformat(observations.probed_at.replace("Z", "+00:00"))
        facts = {
            "subject": cert.subject,
            "issuer": cert.issuer,
            "not_before": cert.not_before,
            "not_after": cert.not_after,
            "key": f"{cert.key_type} {cert.key_size}",
            "signature_hash": cert.signature_hash,
            "self_signed": cert.self_signed,
            "trusted": cert.trusted,
        }
        problems = policy.certificate_problems(cert, at)
        if problems:
            return [
                self.failed(
                    f"{url} certificate {cert.subject!r}: {'; '.join(p.reason for p in problems)} (probed {observations.probed_at})",
                    locations=where,
                    facts=facts,
                )
            ]
        origin = (
            "self-signed" if cert.self_signed else ("trusted chain" if cert.trusted else f"issued by {cert.issuer}")
        )
        return [
            self.passed(
                f"{url} certificate {cert.subject!r} ({origin}) is valid {cert.not_before} to {cert.not_after} at "
                f"{observations.probed_at}, {cert.key_type} {cert.key_size} bits, {cert.signature_hash or 'no'} signature hash",
                locations=where,
                facts=facts,
            )
        ]


def _ssh_results(check: Check, host: HostObservations) -> tuple[list[SshResult], list[Finding]]:
    """The SSH results of a host, and inconclusive findings for SSH ports that were not audited."""
    audited = {r.port for r in host.ssh}
    missing = [p for p in _ports_of(host, "ssh") if p.port not in audited]
    gaps = [
        check.inconclusive(f"{_url(host, p.port, 'ssh')}: the SSH service was not audited",
                           locations=[_loc(host, p.port, "ssh")])
        for p in missing
    ]  # fmt: skip
    return list(host.ssh), gaps


class SshWeakAlgorithmsCheck(_HostCheck):
    ID = "network.ssh-weak-algorithms"
    TITLE = "SSH services offer no weak key exchange, host key, cipher or MAC algorithm (EN 303 645 5.5-1)"
    SEVERITY = Severity.HIGH
    REMEDIATION = (
        "Remove SHA-1 and 1024-bit key exchanges, ssh-rsa/ssh-dss host-key signatures, 3DES/RC4/Blowfish/CBC-era "
        "ciphers and MD5 or truncated MACs; use RSA host keys of 2048 bits or more, or Ed25519 (RFC 9142)."
    )

    def judge_host(self, observations: NetworkObservations, host: HostObservations) -> list[Finding]:
        results, gaps = _ssh_results(self, host)
        if not results and not gaps:
            return [self.not_applicable(f"no SSH service found: {_scan_summary(host)}")]
        return [self._judge(host, result) for result in results] + gaps

    def _judge(self, host: HostObservations, result: SshResult) -> Finding:
        policy = default_policy()
        url = _url(host, result.port, "ssh")
        where = [_loc(host, result.port, "ssh")]
        if not result.completed:
            return self.inconclusive(f"{url}: SSH audit did not complete: {result.error}", locations=where)
        audit_fail = sorted({f"{a.kind} {a.name}: {n}" for a in result.algorithms for n in a.audit_fail})
        weak = [(a, why) for a in result.algorithms if (why := policy.ssh_problem(a)) is not None]
        if weak:
            return self.failed(
                f"{url} ({result.banner}) offers {len(weak)} algorithms that policy {policy.label} forbids: "
                f"{_some((f'{a.kind} {a.name} ({why})' for a, why in weak), 6)}",
                locations=where,
                facts={"weak": [f"{a.kind} {a.name}: {why}" for a, why in weak], "ssh_audit_fail": audit_fail},
            )
        return self.passed(
            f"{url} ({result.banner}): all {len(result.algorithms)} offered algorithms meet policy {policy.label}",
            locations=where,
            facts={"ssh_audit_fail": audit_fail},
        )


class SshPasswordAuthCheck(_HostCheck):
    ID = "network.ssh-password-auth"
    TITLE = "SSH services do not offer password authentication"
    SEVERITY = Severity.MEDIUM
    REMEDIATION = (
        "Offer public-key authentication only (PasswordAuthentication no, KbdInteractiveAuthentication no); if "
        "passwords must stay, make them unique per device and rate-limit failures (EN 303 645 5.1-1, 5.1-5)."
    )

    def judge_host(self, observations: NetworkObservations, host: HostObservations) -> list[Finding]:
        results, gaps = _ssh_results(self, host)
        if not results and not gaps:
            return [self.not_applicable(f"no SSH service found: {_scan_summary(host)}")]
        return [self._judge(host, result) for result in results] + gaps

    def _judge(self, host: HostObservations, result: SshResult) -> Finding:
        url = _url(host, result.port, "ssh")
        where = [_loc(host, result.port, "ssh")]
        methods = result.auth_methods
        if methods is None:
            return self.inconclusive(
                f"{url}: the offered authentication methods could not be read ({result.auth_methods_evidence or 'no reply'})",
                locations=where,
            )
        if "none" in methods:
            return self.failed(
                f"{url} lets a client in without any authentication: {result.auth_methods_evidence}",
                locations=where,
                severity=Severity.CRITICAL,
            )
        if {"password", "keyboard-interactive"} & set(methods):
            return self.failed(
                f"{url} offers password authentication: server replied {result.auth_methods_evidence!r}",
                locations=where,
                facts={"methods": list(methods), OBSERVES: PASSWORD_LOGIN},
            )
        return self.passed(
            f"{url} offers only {', '.join(methods)}: server replied {result.auth_methods_evidence!r}",
            locations=where,
            facts={"methods": list(methods)},
        )


class CleartextServicesCheck(_HostCheck):
    ID = "network.cleartext-services"
    TITLE = "No cleartext remote-login or file-transfer service is exposed (telnet, FTP, r-services, POP3/IMAP)"
    SEVERITY = Severity.HIGH
    REMEDIATION = (
        "Disable telnet, FTP, rlogin/rsh/rexec and cleartext mail protocols; use SSH, SFTP or TLS-protected "
        "equivalents (EN 303 645 5.5-1, 5.6-1; CRA Annex I (2)(e))."
    )

    def judge_host(self, observations: NetworkObservations, host: HostObservations) -> list[Finding]:
        bad = [c for c in host.cleartext if c.protocol in CLEARTEXT_LOGIN]
        if bad:
            return [
                self.failed(
                    f"{_url(host, service.port, service.protocol)} speaks {service.protocol} in the clear; the probe saw: {service.evidence}",
                    locations=[_loc(host, service.port, service.protocol)],
                    facts={"protocol": service.protocol, "evidence": service.evidence},
                )
                for service in bad
            ]
        plain_http = [c.port for c in host.cleartext if c.protocol == "http"]
        extra = (
            f"; plain HTTP on {_some(map(str, plain_http))} is judged by network.http-cleartext-login"
            if plain_http
            else ""
        )
        services = _some(f"{p.port}/{p.service}" for p in host.open_ports if p.protocol == "tcp") or "none"
        return [
            self.passed(
                f"no telnet, FTP, r-service or cleartext mail service: {_scan_summary(host)} (open: {services}){extra}"
            )
        ]


class HttpCleartextLoginCheck(_HostCheck):
    ID = "network.http-cleartext-login"
    TITLE = "No login page or HTTP authentication is served over plain HTTP"
    SEVERITY = Severity.HIGH
    REMEDIATION = (
        "Serve the web interface over HTTPS only and redirect plain HTTP to it; never ask for credentials "
        "(login form, Basic or Digest authentication) without TLS (EN 303 645 5.5-1, 5.5-5)."
    )

    def judge_host(self, observations: NetworkObservations, host: HostObservations) -> list[Finding]:
        plain = [p for p in _ports_of(host, "http") if not p.tls]
        if not plain:
            return [self.not_applicable(f"no plain-HTTP service found: {_scan_summary(host)}")]
        return [finding for port in plain for finding in self._judge_port(host, port)]

    def _judge_port(self, host: HostObservations, port: OpenPort) -> list[Finding]:
        url = _url(host, port.port, "http")
        where = [_loc(host, port.port, "http")]
        pages = [p for p in host.http if p.port == port.port and not p.tls]
        out: list[Finding] = []
        for page in pages:
            if page.auth_scheme:
                out.append(
                    self.failed(
                        f"{url}{page.path} asks for {page.auth_scheme} authentication over plain HTTP: "
                        f"{page.status_line}, WWW-Authenticate: {page.auth_header}",
                        locations=where,
                        facts={"path": page.path, "auth": page.auth_header, OBSERVES: PASSWORD_LOGIN},
                    )
                )
            elif page.login_form:
                out.append(
                    self.failed(
                        f"{url}{page.path} serves a login form over plain HTTP: {page.login_form_evidence}",
                        locations=where,
                        facts={"path": page.path, "title": page.title, OBSERVES: PASSWORD_LOGIN},
                    )
                )
        if out:
            return out
        gaps = _incomplete(host, f"http://{host.address}:{port.port}")
        if gaps or not pages:
            return [
                self.inconclusive(
                    f"{url}: the landing page could not be read ({_some(gaps) or 'no response'})", locations=where
                )
            ]
        seen = ", ".join(f"{p.path} -> {p.status_line}" for p in pages)
        return [self.passed(f"{url} asks for no credentials in the clear ({seen})", locations=where)]


class UndeclaredServicesCheck(_HostCheck):
    ID = "network.undeclared-services"
    TITLE = "Every open port and answering service is declared in the dossier (EN 303 645 5.6-1)"
    SEVERITY = Severity.MEDIUM
    REMEDIATION = (
        "Disable network services the product does not need, or declare each one (port, protocol, purpose) in "
        "declarations.interfaces.network_ports (EN 303 645 5.6-1, 5.6-3; CRA Annex I (2)(j))."
    )

    def judge_host(self, observations: NetworkObservations, host: HostObservations) -> list[Finding]:
        declared = observations.declared_ports
        observed = list(host.open_ports)
        listing = _some(f"{p.port}/{p.protocol} ({p.service})" for p in observed) or "none"
        if declared is None:
            return [
                self.inconclusive(
                    f"the dossier declares no network interfaces (declarations.interfaces), so observed services "
                    f"cannot be compared; open on {host.address}: {listing}",
                    facts={"observed": [f"{p.port}/{p.protocol}" for p in observed]},
                )
            ]
        allowed = {(d.port, d.protocol) for d in declared}
        undeclared = [p for p in observed if (p.port, p.protocol) not in allowed]
        findings = [
            self.failed(
                f"{_url(host, port.port, port.service)} ({port.protocol}) is open but not declared: {port.service} "
                f"identified by {port.basis}{f', saw: {port.banner}' if port.banner else ''}",
                locations=[_loc(host, port.port, port.protocol)],
                facts={"port": port.port, "protocol": port.protocol, "service": port.service},
            )
            for port in undeclared
        ]
        for port in observed:
            found = _declared(observations, port.port) if port.protocol == "tcp" else None
            if found is not None:
                findings.extend(self._as_declared(host, port, found))
        if findings:
            return findings
        seen = {(p.port, p.protocol) for p in observed}
        absent = [f"{d.port}/{d.protocol}" for d in declared if (d.port, d.protocol) not in seen]
        note = f"; declared but not seen open: {_some(absent)}" if absent else ""
        return [
            self.passed(
                f"every open service is declared ({listing}) and behaves as declared (TLS or cleartext, "
                f"authentication where the probe could tell); {_scan_summary(host)}{note}"
            )
        ]

    def _as_declared(self, host: HostObservations, port: OpenPort, declared: DeclaredPort) -> list[Finding]:
        """A declared port compared with what the probe saw: TLS or the clear, and authentication."""
        url, where = _url(host, port.port, port.service), [_loc(host, port.port, port.protocol)]
        facts = {"port": port.port, "declared": declared.service, "observed": port.service, "basis": port.basis}
        saw = f"{port.service} identified by {port.basis}{f', saw: {port.banner}' if port.banner else ''}"
        out: list[Finding] = []
        promised, kind = declared_kind(declared.service), observed_kind(port)
        channel = {"tls": "TLS", "ssh": "SSH"}.get(promised or "")
        if channel is not None and kind == "cleartext":
            out.append(self.failed(f"{url} is declared {declared.service} ({channel}) but speaks in the clear: {saw}",
                                   locations=where, facts=facts))  # fmt: skip
        elif channel is not None and kind is None:
            out.append(self.inconclusive(f"{url} is declared {declared.service} ({channel}); the probe could not "
                                         f"tell whether it speaks {channel}: {saw}", locations=where,
                                         facts=facts))  # fmt: skip
        if declared.authenticated:
            out.extend(self._authenticated(host, port, declared, url, where))
        return out

    def _authenticated(
        self, host: HostObservations, port: OpenPort, declared: DeclaredPort, url: str, where: list[Location]
    ) -> list[Finding]:
        """A port declared authenticated: a service that let the probe in without credentials contradicts it;
        a web page served without asking for any is as far as the probe can tell."""
        opened = [a for a in host.access if a.port == port.port and a.outcome == GRANTED]
        if opened:
            a = opened[0]
            return [self.failed(f"{url} is declared authenticated but let the probe in without credentials "
                                f"({a.method}): {a.evidence}", locations=where,
                                facts={"port": port.port, "declared_authenticated": True, "method": a.method})]  # fmt: skip
        pages = [p for p in host.http if p.port == port.port]
        asks = [p for p in pages if p.auth_scheme or p.login_form or p.status in (401, 403)]
        served = [p for p in pages if 200 <= p.status < 300 and not p.auth_scheme and not p.login_form]
        if served and not asks:
            shown = _some(f"{p.path} -> {p.status_line}" for p in served)
            return [self.inconclusive(f"{url} is declared authenticated, but served {shown} without asking for "
                                      "credentials and showed no login: the probe cannot tell where it authenticates",
                                      locations=where, facts={"port": port.port, "declared_authenticated": True})]  # fmt: skip
        return []


class UnauthenticatedDisclosureCheck(_HostCheck):
    ID = "network.unauthenticated-disclosure"
    TITLE = "No security-relevant information is served without authentication (EN 303 645 5.6-2)"
    SEVERITY = Severity.HIGH
    REMEDIATION = (
        "Require authentication for configuration, credential and identity data; remove secrets and serial "
        "numbers from unauthenticated pages and discovery answers (EN 303 645 5.6-2, 5.5-4)."
    )

    def judge_host(self, observations: NetworkObservations, host: HostObservations) -> list[Finding]:
        if host.disclosures:
            return [
                self.failed(
                    f"{_url(host, item.port, item.protocol)}{item.source if item.source.startswith('/') else ' ' + item.source} "
                    f"reveals {item.marker} without authentication: {item.excerpt}",
                    locations=[_loc(host, item.port, item.protocol)],
                    facts={"marker": item.marker, "source": item.source, "excerpt": item.excerpt},
                )
                for item in host.disclosures
            ]
        web = [p for p in host.open_ports if p.service in ("http", "https")]
        if not web and not host.udp:
            return [self.not_applicable(f"no web or discovery service answered: {_scan_summary(host)}")]
        gaps = _incomplete(host, "http") + _incomplete(host, "upnp") + _incomplete(host, "udp")
        if gaps:
            return [self.inconclusive(f"part of the web or discovery probe did not finish: {_some(gaps)}")]
        answers = _some(f"{a.protocol}: {a.summary[:60]}" for a in host.udp) or "no SSDP or mDNS answer"
        return [
            self.passed(
                f"nothing security-relevant was served without authentication on {len(web)} web ports "
                f"({len(host.http)} landing pages and the well-known configuration paths fetched); discovery: {answers}"
            )
        ]


CHECKS: tuple[type[Check], ...] = (
    DefaultCredentialsCheck,
    LoginWithoutCredentialsCheck,
    BruteForceProtectionCheck,
    TlsLegacyProtocolCheck,
    TlsWeakCipherCheck,
    TlsCertificateCheck,
    SshWeakAlgorithmsCheck,
    SshPasswordAuthCheck,
    CleartextServicesCheck,
    HttpCleartextLoginCheck,
    UndeclaredServicesCheck,
    UnauthenticatedDisclosureCheck,
)
