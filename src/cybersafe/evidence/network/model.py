"""What a network probe of one device saw: facts only, never verdicts.

``NetworkObservations`` is the evidence item the ``device`` collector produces and the ``network.*``
checks read. Every value is a frozen dataclass; every observation keeps the host, the port, the protocol
and the bytes (banner, header, response line) it rests on, so each finding can quote what the probe saw.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Outcomes of one login attempt.
ACCEPTED = "accepted"
REJECTED = "rejected"
LOCKED = "locked"  # the service refused further attempts (lockout, "too many", HTTP 429, FTP 421, reset)
ATTEMPT_ERROR = "error"  # timeout, unexpected reply: says nothing about the credential

# Outcomes of asking a login service for access without any credential.
GRANTED = "granted"  # a shell ran our command, an anonymous FTP login was accepted, SSH's 'none' method succeeded
REFUSED = "refused"  # the service asked for credentials or refused the anonymous login
UNCONFIRMED = "unconfirmed"  # a prompt without a login, but our harmless command showed no effect

# Outcomes of a brute-force (5.1-5) observation.
LOCKED_OUT = "locked_out"
THROTTLED = "throttled"
NOT_THROTTLED = "not_throttled"
UNDETERMINED = "undetermined"


@dataclass(frozen=True, slots=True)
class DeclaredPort:
    """A port the dossier declares (declarations.interfaces.network_ports)."""

    port: int
    protocol: str  # tcp / udp
    service: str
    authenticated: bool | None = None  # the dossier's word: the service asks for authentication (None: not said)


@dataclass(frozen=True, slots=True)
class OpenPort:
    port: int
    protocol: str  # tcp / udp
    service: str  # ssh / telnet / ftp / http / https / tls / smtp / ssdp / mdns / unknown ...
    basis: str  # what the guess rests on: banner / tls-handshake / http-response / port-number / udp-answer
    banner: str | None = None  # first bytes the service sent, escaped and truncated
    tls: bool = False
    tls_error: str | None = None  # the service answered in TLS but our handshake failed (huge or malformed chain)


@dataclass(frozen=True, slots=True)
class CipherSuiteObservation:
    name: str  # IANA name, e.g. TLS_RSA_WITH_3DES_EDE_CBC_SHA
    protocol: str  # TLSv1.2 ...
    key_size: int
    forward_secrecy: bool


@dataclass(frozen=True, slots=True)
class CertificateObservation:
    subject: str
    issuer: str
    not_before: str  # ISO 8601, UTC
    not_after: str
    key_type: str  # RSA / EC / Ed25519 / DSA / other
    key_size: int
    signature_hash: str | None  # sha256 / sha1 / md5 / None (Ed25519)
    self_signed: bool
    trusted: bool  # validates against at least one bundled trust store


@dataclass(frozen=True, slots=True)
class TlsResult:
    port: int
    completed: bool
    error: str | None = None  # why the scan (or part of it) did not complete
    protocols: tuple[str, ...] = ()  # accepted: SSLv2 SSLv3 TLSv1.0 TLSv1.1 TLSv1.2 TLSv1.3
    cipher_suites: tuple[CipherSuiteObservation, ...] = ()
    certificate: CertificateObservation | None = None
    incomplete: tuple[str, ...] = ()  # scan commands that errored, e.g. "TLSv1.0 cipher suites: timeout"


@dataclass(frozen=True, slots=True)
class SshAlgorithm:
    kind: str  # kex / key / enc / mac
    name: str
    key_size: int | None = None
    audit_fail: tuple[str, ...] = ()  # ssh-audit's own "fail" notes, quoted
    audit_warn: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SshResult:
    port: int
    completed: bool
    error: str | None = None
    banner: str | None = None
    algorithms: tuple[SshAlgorithm, ...] = ()
    auth_methods: tuple[str, ...] | None = None  # as the server lists them to an unauthenticated client
    auth_methods_evidence: str | None = None  # the line the client printed


@dataclass(frozen=True, slots=True)
class CleartextService:
    port: int
    protocol: str  # telnet / ftp / http / rlogin / rsh / rexec / pop3 / imap / smtp
    evidence: str  # banner or response line that shows the service speaks in the clear


@dataclass(frozen=True, slots=True)
class HttpObservation:
    port: int
    tls: bool
    path: str
    status: int
    status_line: str
    server: str | None = None
    auth_scheme: str | None = None  # Basic / Digest / ... from WWW-Authenticate
    auth_header: str | None = None
    login_form: bool = False  # an <input type=password> in the page
    login_form_evidence: str | None = None
    title: str | None = None


@dataclass(frozen=True, slots=True)
class Disclosure:
    """Security-relevant information served without authentication (EN 303 645 5.6-2)."""

    port: int
    protocol: str  # http / https / ssdp / mdns / upnp
    source: str  # path or query that returned it
    marker: str  # which rule matched, e.g. "private-key", "password-field", "serial-number"
    excerpt: str


@dataclass(frozen=True, slots=True)
class CredentialAttempt:
    username: str
    password: str
    outcome: str  # accepted / rejected / locked / error
    elapsed_s: float
    evidence: str  # the reply that decided the outcome


@dataclass(frozen=True, slots=True)
class CredentialTest:
    """Default credentials tried on one login service, within the attempt budget."""

    port: int
    protocol: str  # telnet / ssh / ftp / http-basic
    budget: int
    list_size: int
    attempts: tuple[CredentialAttempt, ...] = ()
    note: str | None = None  # why fewer attempts than the budget were made

    @property
    def accepted(self) -> tuple[CredentialAttempt, ...]:
        return tuple(a for a in self.attempts if a.outcome == ACCEPTED)


@dataclass(frozen=True, slots=True)
class ThrottleObservation:
    """Repeated failed logins on one service: was the service throttled or locked out? (5.1-5)"""

    port: int
    protocol: str
    attempts: int  # failed attempts made in a row
    outcome: str  # locked_out / throttled / not_throttled / undetermined
    first_latency_s: float
    last_latency_s: float
    evidence: str
    baseline_s: float | None = None  # the same service's round trip without a credential (median)
    fixed_delay_s: float | None = None  # failed logins answered at least this much later than the baseline


@dataclass(frozen=True, slots=True)
class AccessWithoutCredentials:
    """A login service asked for access without any credential: a shell, an anonymous session, SSH 'none'."""

    port: int
    protocol: str  # telnet / ftp / ssh
    method: str  # what was tried: "connect and wait for a prompt", "USER anonymous", "SSH 'none' method"
    outcome: str  # granted / refused / unconfirmed / error
    evidence: str  # the reply that decided the outcome


@dataclass(frozen=True, slots=True)
class UdpAnswer:
    port: int
    protocol: str  # ssdp / mdns
    query: str  # what was asked
    summary: str
    fields: tuple[tuple[str, str], ...] = ()  # header or record name -> value, in order


@dataclass(frozen=True, slots=True)
class Reachability:
    """How complete the probe is: a check never passes on a probe that did not finish."""

    reachable: bool
    ports_scanned: int
    open_ports: int
    closed_ports: int
    filtered_ports: int  # connect timed out: the device is slow, filtered or absent
    connections: int  # TCP connections opened by the whole probe
    udp_datagrams: int
    duration_s: float
    incomplete: tuple[str, ...] = ()  # parts that did not finish, with the reason
    budget_s: float | None = None  # the probe's wall-clock budget
    budget_stop: str | None = None  # set when the budget ran out: the stage it stopped and what was not run


@dataclass(frozen=True, slots=True)
class HostObservations:
    host: str  # as the user named it
    address: str  # the one address probed
    reachability: Reachability
    open_ports: tuple[OpenPort, ...] = ()
    tls: tuple[TlsResult, ...] = ()
    ssh: tuple[SshResult, ...] = ()
    cleartext: tuple[CleartextService, ...] = ()
    http: tuple[HttpObservation, ...] = ()
    credentials: tuple[CredentialTest, ...] = ()
    throttling: tuple[ThrottleObservation, ...] = ()
    access: tuple[AccessWithoutCredentials, ...] = ()
    udp: tuple[UdpAnswer, ...] = ()
    disclosures: tuple[Disclosure, ...] = ()
    ports_probed: tuple[int, ...] = ()

    def port(self, number: int) -> OpenPort | None:
        return next((p for p in self.open_ports if p.port == number and p.protocol == "tcp"), None)


@dataclass(frozen=True, slots=True)
class NetworkObservations:
    """Evidence: everything the probe saw on the device the user named."""

    target: str  # exactly what the user named
    hosts: tuple[HostObservations, ...]
    probed_at: str  # ISO 8601 UTC: certificates are judged against this instant
    declared_ports: tuple[DeclaredPort, ...] | None = None  # None: the dossier declares no interfaces
    credentials_source: str = "credentials_defaults.txt"
    settings: tuple[tuple[str, str], ...] = field(default=())  # probe settings, for the report

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
