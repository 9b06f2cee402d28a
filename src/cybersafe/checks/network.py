"""Checks on what the running device exposes over the network (issue 5).

Every finding names the host, the port, the protocol and what the probe saw (banner, reply, suite,
algorithm). A part of the probe that did not finish (a timeout, a tool that failed) makes the check
inconclusive for that service, never a pass.
"""

from __future__ import annotations

import datetime as dt
from abc import abstractmethod
from collections.abc import Iterable, Sequence

from cybersafe.checks.interface import Check, Finding, Location
from cybersafe.evidence.interface import Evidence
from cybersafe.evidence.network.model import (
    LOCKED_OUT,
    NOT_THROTTLED,
    REJECTED,
    THROTTLED,
    HostObservations,
    NetworkObservations,
    OpenPort,
    TlsResult,
)
from cybersafe.evidence.network.policy import default_policy
from cybersafe.verdict import Severity

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


class DefaultCredentialsCheck(Check):
    ID = "network.default-credentials"
    TITLE = "No login service on the device accepts a well-known default credential (EN 303 645 5.1-1)"
    SEVERITY = Severity.CRITICAL
    REQUIRES = (NetworkObservations,)
    REMEDIATION = (
        "Remove universal default passwords: use a unique per-device password or make the user set one before "
        "any network service is usable (EN 303 645 5.1-1, 5.1-2; UK PSTI Schedule 1 para 1)."
    )

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        observations, hosts = _hosts(evidence)
        findings: list[Finding] = []
        for host in hosts:
            logins = _login_ports(host)
            tested = {(t.port, t.protocol): t for t in host.credentials}
            for port, protocol in logins:
                test = tested.get((port, protocol))
                url, where = _login_loc(host, port, protocol)
                if test is None or not test.attempts:
                    findings.append(
                        self.inconclusive(
                            f"{url}: default credentials were not tried (attempt budget 0 or probe stopped)",
                            locations=where,
                        )
                    )
                    continue
                accepted = test.accepted
                if accepted:
                    for attempt in accepted:
                        findings.append(
                            self.failed(
                                f"{url} accepted the default login {attempt.username!r} / {attempt.password!r}: {attempt.evidence}",
                                locations=where,
                                facts={
                                    "username": attempt.username,
                                    "password": attempt.password,
                                    "reply": attempt.evidence,
                                },
                            )
                        )
                    continue
                rejected = [a for a in test.attempts if a.outcome == REJECTED]
                if not rejected:
                    reason = test.attempts[0].evidence
                    findings.append(
                        self.inconclusive(
                            f"{url}: no default credential could be judged ({test.attempts[0].outcome}: {reason})",
                            locations=where,
                        )
                    )
                    continue
                note = f"; {test.note}" if test.note else ""
                findings.append(
                    self.passed(
                        f"{url} rejected the first {len(rejected)} of {test.list_size} default credentials of "
                        f"{observations.credentials_source} ({_some(f'{a.username}/{a.password}' for a in rejected)}){note}; "
                        f"reply: {rejected[-1].evidence}",
                        locations=where,
                        facts={"tried": len(test.attempts), "budget": test.budget},
                    )
                )
            if not logins:
                findings.append(
                    self.not_applicable(
                        f"no login service (telnet, FTP, SSH with passwords, HTTP basic auth) found: {_scan_summary(host)}"
                    )
                )
        return findings or [self.inconclusive("the probe reached no host")]


class BruteForceProtectionCheck(Check):
    ID = "network.brute-force-protection"
    TITLE = "Repeated failed logins over the network are throttled or locked out (EN 303 645 5.1-5)"
    SEVERITY = Severity.HIGH
    REQUIRES = (NetworkObservations,)
    REMEDIATION = (
        "Limit failed authentication attempts on every network login: an increasing delay between attempts or a "
        "temporary lockout after a few failures (EN 303 645 5.1-5; NIST IR 8425 Interface Access Control)."
    )

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        _observations, hosts = _hosts(evidence)
        findings: list[Finding] = []
        for host in hosts:
            logins = _login_ports(host)
            seen = {(o.port, o.protocol): o for o in host.throttling}
            for port, protocol in logins:
                url, where = _login_loc(host, port, protocol)
                observation = seen.get((port, protocol))
                if observation is None:
                    findings.append(self.inconclusive(f"{url}: repeated failed logins were not tried", locations=where))
                    continue
                facts = {
                    "attempts": observation.attempts,
                    "outcome": observation.outcome,
                    "first_latency_s": observation.first_latency_s,
                    "last_latency_s": observation.last_latency_s,
                }
                if observation.outcome == LOCKED_OUT:
                    findings.append(
                        self.passed(
                            f"{url} locked out repeated failed logins: {observation.evidence}",
                            locations=where,
                            facts=facts,
                        )
                    )
                elif observation.outcome == THROTTLED:
                    findings.append(
                        self.passed(
                            f"{url} throttled repeated failed logins: {observation.evidence}",
                            locations=where,
                            facts=facts,
                        )
                    )
                elif observation.outcome == NOT_THROTTLED:
                    findings.append(self.failed(f"{url}: {observation.evidence}", locations=where, facts=facts))
                else:
                    findings.append(
                        self.inconclusive(
                            f"{url}: brute-force protection undetermined: {observation.evidence}",
                            locations=where,
                            facts=facts,
                        )
                    )
            if not logins:
                findings.append(self.not_applicable(f"no network login service found: {_scan_summary(host)}"))
        return findings or [self.inconclusive("the probe reached no host")]


class _TlsCheck(Check):
    """Shared walk over the TLS results; subclasses judge one result."""

    REQUIRES = (NetworkObservations,)

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        observations, hosts = _hosts(evidence)
        findings: list[Finding] = []
        for host in hosts:
            if not host.tls:
                tls_ports = [p for p in host.open_ports if p.tls]
                if tls_ports:
                    findings.append(
                        self.inconclusive(
                            f"TLS ports {_some(str(p.port) for p in tls_ports)} of {host.address} were not scanned"
                        )
                    )
                else:
                    findings.append(self.not_applicable(f"no TLS service found: {_scan_summary(host)}"))
                continue
            for result in host.tls:
                findings.extend(self.judge(observations, host, result))
        return findings or [self.inconclusive("the probe reached no host")]

    @abstractmethod
    def judge(self, observations: NetworkObservations, host: HostObservations, result: TlsResult) -> list[Finding]:
        """The findings of one TLS result under this check's rule."""


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


class SshWeakAlgorithmsCheck(Check):
    ID = "network.ssh-weak-algorithms"
    TITLE = "SSH services offer no weak key exchange, host key, cipher or MAC algorithm (EN 303 645 5.5-1)"
    SEVERITY = Severity.HIGH
    REQUIRES = (NetworkObservations,)
    REMEDIATION = (
        "Remove SHA-1 and 1024-bit key exchanges, ssh-rsa/ssh-dss host-key signatures, 3DES/RC4/Blowfish/CBC-era "
        "ciphers and MD5 or truncated MACs; use RSA host keys of 2048 bits or more, or Ed25519 (RFC 9142)."
    )

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        _observations, hosts = _hosts(evidence)
        policy = default_policy()
        findings: list[Finding] = []
        for host in hosts:
            if not host.ssh:
                findings.append(self.not_applicable(f"no SSH service found: {_scan_summary(host)}"))
                continue
            for result in host.ssh:
                url = _url(host, result.port, "ssh")
                where = [_loc(host, result.port, "ssh")]
                if not result.completed:
                    findings.append(
                        self.inconclusive(f"{url}: SSH audit did not complete: {result.error}", locations=where)
                    )
                    continue
                weak = [(a, why) for a in result.algorithms if (why := policy.ssh_problem(a)) is not None]
                if weak:
                    findings.append(
                        self.failed(
                            f"{url} ({result.banner}) offers {len(weak)} algorithms that policy {policy.label} forbids: "
                            f"{_some((f'{a.kind} {a.name} ({why})' for a, why in weak), 6)}",
                            locations=where,
                            facts={
                                "weak": [f"{a.kind} {a.name}: {why}" for a, why in weak],
                                "ssh_audit_fail": sorted(
                                    {f"{a.kind} {a.name}: {n}" for a in result.algorithms for n in a.audit_fail}
                                ),
                            },
                        )
                    )
                else:
                    findings.append(
                        self.passed(
                            f"{url} ({result.banner}): all {len(result.algorithms)} offered algorithms meet policy {policy.label}",
                            locations=where,
                            facts={
                                "ssh_audit_fail": sorted(
                                    {f"{a.kind} {a.name}: {n}" for a in result.algorithms for n in a.audit_fail}
                                )
                            },
                        )
                    )
        return findings or [self.inconclusive("the probe reached no host")]


class SshPasswordAuthCheck(Check):
    ID = "network.ssh-password-auth"
    TITLE = "SSH services do not offer password authentication"
    SEVERITY = Severity.MEDIUM
    REQUIRES = (NetworkObservations,)
    REMEDIATION = (
        "Offer public-key authentication only (PasswordAuthentication no, KbdInteractiveAuthentication no); if "
        "passwords must stay, make them unique per device and rate-limit failures (EN 303 645 5.1-1, 5.1-5)."
    )

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        _observations, hosts = _hosts(evidence)
        findings: list[Finding] = []
        for host in hosts:
            if not host.ssh:
                findings.append(self.not_applicable(f"no SSH service found: {_scan_summary(host)}"))
                continue
            for result in host.ssh:
                url = _url(host, result.port, "ssh")
                where = [_loc(host, result.port, "ssh")]
                methods = result.auth_methods
                if methods is None:
                    findings.append(
                        self.inconclusive(
                            f"{url}: the offered authentication methods could not be read ({result.auth_methods_evidence or 'no reply'})",
                            locations=where,
                        )
                    )
                elif "none" in methods:
                    findings.append(
                        self.failed(
                            f"{url} lets a client in without any authentication: {result.auth_methods_evidence}",
                            locations=where,
                            severity=Severity.CRITICAL,
                        )
                    )
                elif {"password", "keyboard-interactive"} & set(methods):
                    findings.append(
                        self.failed(
                            f"{url} offers password authentication: server replied {result.auth_methods_evidence!r}",
                            locations=where,
                            facts={"methods": list(methods)},
                        )
                    )
                else:
                    findings.append(
                        self.passed(
                            f"{url} offers only {', '.join(methods)}: server replied {result.auth_methods_evidence!r}",
                            locations=where,
                            facts={"methods": list(methods)},
                        )
                    )
        return findings or [self.inconclusive("the probe reached no host")]


class CleartextServicesCheck(Check):
    ID = "network.cleartext-services"
    TITLE = "No cleartext remote-login or file-transfer service is exposed (telnet, FTP, r-services, POP3/IMAP)"
    SEVERITY = Severity.HIGH
    REQUIRES = (NetworkObservations,)
    REMEDIATION = (
        "Disable telnet, FTP, rlogin/rsh/rexec and cleartext mail protocols; use SSH, SFTP or TLS-protected "
        "equivalents (EN 303 645 5.5-1, 5.6-1; CRA Annex I (2)(e))."
    )

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        _observations, hosts = _hosts(evidence)
        findings: list[Finding] = []
        for host in hosts:
            bad = [c for c in host.cleartext if c.protocol in CLEARTEXT_LOGIN]
            for service in bad:
                findings.append(
                    self.failed(
                        f"{_url(host, service.port, service.protocol)} speaks {service.protocol} in the clear; the probe saw: {service.evidence}",
                        locations=[_loc(host, service.port, service.protocol)],
                        facts={"protocol": service.protocol, "evidence": service.evidence},
                    )
                )
            if not bad:
                plain_http = [c.port for c in host.cleartext if c.protocol == "http"]
                extra = (
                    f"; plain HTTP on {_some(map(str, plain_http))} is judged by network.http-cleartext-login"
                    if plain_http
                    else ""
                )
                services = _some(f"{p.port}/{p.service}" for p in host.open_ports if p.protocol == "tcp") or "none"
                findings.append(
                    self.passed(
                        f"no telnet, FTP, r-service or cleartext mail service: {_scan_summary(host)} (open: {services}){extra}"
                    )
                )
        return findings or [self.inconclusive("the probe reached no host")]


class HttpCleartextLoginCheck(Check):
    ID = "network.http-cleartext-login"
    TITLE = "No login page or HTTP authentication is served over plain HTTP"
    SEVERITY = Severity.HIGH
    REQUIRES = (NetworkObservations,)
    REMEDIATION = (
        "Serve the web interface over HTTPS only and redirect plain HTTP to it; never ask for credentials "
        "(login form, Basic or Digest authentication) without TLS (EN 303 645 5.5-1, 5.5-5)."
    )

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        _observations, hosts = _hosts(evidence)
        findings: list[Finding] = []
        for host in hosts:
            plain = [p for p in host.open_ports if p.protocol == "tcp" and p.service == "http" and not p.tls]
            if not plain:
                findings.append(self.not_applicable(f"no plain-HTTP service found: {_scan_summary(host)}"))
                continue
            for port in plain:
                findings.extend(self._judge_port(host, port))
        return findings or [self.inconclusive("the probe reached no host")]

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
                        facts={"path": page.path, "auth": page.auth_header},
                    )
                )
            elif page.login_form:
                out.append(
                    self.failed(
                        f"{url}{page.path} serves a login form over plain HTTP: {page.login_form_evidence}",
                        locations=where,
                        facts={"path": page.path, "title": page.title},
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


class UndeclaredServicesCheck(Check):
    ID = "network.undeclared-services"
    TITLE = "Every open port and answering service is declared in the dossier (EN 303 645 5.6-1)"
    SEVERITY = Severity.MEDIUM
    REQUIRES = (NetworkObservations,)
    REMEDIATION = (
        "Disable network services the product does not need, or declare each one (port, protocol, purpose) in "
        "declarations.interfaces.network_ports (EN 303 645 5.6-1, 5.6-3; CRA Annex I (2)(j))."
    )

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        observations, hosts = _hosts(evidence)
        findings: list[Finding] = []
        declared = observations.declared_ports
        for host in hosts:
            observed = list(host.open_ports)
            listing = _some(f"{p.port}/{p.protocol} ({p.service})" for p in observed) or "none"
            if declared is None:
                findings.append(
                    self.inconclusive(
                        f"the dossier declares no network interfaces (declarations.interfaces), so observed services "
                        f"cannot be compared; open on {host.address}: {listing}",
                        facts={"observed": [f"{p.port}/{p.protocol}" for p in observed]},
                    )
                )
                continue
            allowed = {(d.port, d.protocol) for d in declared}
            undeclared = [p for p in observed if (p.port, p.protocol) not in allowed]
            for port in undeclared:
                findings.append(
                    self.failed(
                        f"{_url(host, port.port, port.service)} ({port.protocol}) is open but not declared: {port.service} "
                        f"identified by {port.basis}{f', saw: {port.banner}' if port.banner else ''}",
                        locations=[_loc(host, port.port, port.protocol)],
                        facts={"port": port.port, "protocol": port.protocol, "service": port.service},
                    )
                )
            if not undeclared:
                absent = [
                    f"{d.port}/{d.protocol}"
                    for d in declared
                    if not any((p.port, p.protocol) == (d.port, d.protocol) for p in observed)
                ]
                note = f"; declared but not seen open: {_some(absent)}" if absent else ""
                findings.append(self.passed(f"every open service is declared ({listing}); {_scan_summary(host)}{note}"))
        return findings or [self.inconclusive("the probe reached no host")]


class UnauthenticatedDisclosureCheck(Check):
    ID = "network.unauthenticated-disclosure"
    TITLE = "No security-relevant information is served without authentication (EN 303 645 5.6-2)"
    SEVERITY = Severity.HIGH
    REQUIRES = (NetworkObservations,)
    REMEDIATION = (
        "Require authentication for configuration, credential and identity data; remove secrets and serial "
        "numbers from unauthenticated pages and discovery answers (EN 303 645 5.6-2, 5.5-4)."
    )

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        _observations, hosts = _hosts(evidence)
        findings: list[Finding] = []
        for host in hosts:
            for item in host.disclosures:
                findings.append(
                    self.failed(
                        f"{_url(host, item.port, item.protocol)}{item.source if item.source.startswith('/') else ' ' + item.source} "
                        f"reveals {item.marker} without authentication: {item.excerpt}",
                        locations=[_loc(host, item.port, item.protocol)],
                        facts={"marker": item.marker, "source": item.source, "excerpt": item.excerpt},
                    )
                )
            if host.disclosures:
                continue
            web = [p for p in host.open_ports if p.service in ("http", "https")]
            if not web and not host.udp:
                findings.append(self.not_applicable(f"no web or discovery service answered: {_scan_summary(host)}"))
                continue
            gaps = _incomplete(host, "http") + _incomplete(host, "upnp") + _incomplete(host, "udp")
            pages = len(host.http)
            if gaps:
                findings.append(self.inconclusive(f"part of the web or discovery probe did not finish: {_some(gaps)}"))
                continue
            answers = _some(f"{a.protocol}: {a.summary[:60]}" for a in host.udp) or "no SSDP or mDNS answer"
            findings.append(
                self.passed(
                    f"nothing security-relevant was served without authentication on {len(web)} web ports "
                    f"({pages} landing pages and the well-known configuration paths fetched); discovery: {answers}"
                )
            )
        return findings or [self.inconclusive("the probe reached no host")]


CHECKS: tuple[type[Check], ...] = (
    DefaultCredentialsCheck,
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
