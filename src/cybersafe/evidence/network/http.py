"""A minimal HTTP/1.0 client over the probe session, and what a device's web interface reveals."""

from __future__ import annotations

import base64
import re
import ssl
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from cybersafe.evidence.network.model import Disclosure, HttpObservation
from cybersafe.evidence.network.scan import read_some
from cybersafe.evidence.network.session import ProbeSession, lenient_tls_context, printable

MAX_BODY = 64 * 1024

# Paths that commonly leak configuration on embedded web servers; fetched once each, without credentials.
DISCLOSURE_PATHS: tuple[str, ...] = (
    "/config",
    "/config.json",
    "/cgi-bin/config.exp",
    "/system.ini",
    "/backup",
    "/.env",
    "/etc/passwd",
    "/status",
)

_SECRET = r"(?:pass(?:word|wd)?|pwd|secret|psk|wpa_passphrase|api_?key|token)"

# What counts as security-relevant when served without authentication (EN 303 645 5.6-2).
DISCLOSURE_MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("private-key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("passwd-file", re.compile(r"^[a-z_][a-z0-9_-]*:[^:\s]*:\d+:\d+:", re.MULTILINE)),
    # config files (key=value lines), JSON and XML; never prose like "Password: (hidden)" or script code
    ("password-field", re.compile(rf"(?im)^\s*[\w.-]*{_SECRET}[\w.-]*\s*=\s*[^\s;#]{{3,}}\s*$")),
    ("password-field", re.compile(rf'(?i)"[\w.-]*{_SECRET}[\w.-]*"\s*:\s*"[^"\s]{{3,}}"')),
    ("password-field", re.compile(rf"(?i)<([\w.-]*{_SECRET}[\w.-]*)>[^<\s]{{3,}}</\1>")),
    ("serial-number", re.compile(r"(?i)<serialNumber>\s*[^<\s]+")),
)  # fmt: skip

_LOGIN_FORM = re.compile(r"""(?is)<input[^>]*type\s*=\s*["']?password[^>]*>""")
_TITLE = re.compile(r"(?is)<title[^>]*>(.*?)</title>")


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    status_line: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        lower = name.lower()
        return next((value for key, value in self.headers if key.lower() == lower), None)


@dataclass
class HttpFindings:
    observations: list[HttpObservation] = field(default_factory=list)
    disclosures: list[Disclosure] = field(default_factory=list)


def basic_auth(username: str, password: str) -> str:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return f"Basic {token}"


async def http_get(
    session: ProbeSession,
    port: int,
    path: str,
    *,
    tls: bool,
    authorization: str | None = None,
    timeout: float | None = None,
) -> HttpResponse:
    """One GET, its reply read for at most ``timeout`` (default: the read timeout); raises OSError /
    TimeoutError / ssl.SSLError / ValueError (not HTTP)."""
    host = session.address if ":" not in session.address else f"[{session.address}]"
    lines = [
        f"GET {path} HTTP/1.0",
        f"Host: {host}:{port}",
        "User-Agent: cybersafe-probe",
        "Accept: */*",
        "Connection: close",
    ]
    if authorization:
        lines.append(f"Authorization: {authorization}")
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    async with session.connect(port, tls=lenient_tls_context() if tls else None) as (reader, writer):
        await session.send(writer, request)
        data = await read_some(reader, timeout or session.settings.read_timeout, limit=MAX_BODY)
    return parse_response(data)


def parse_response(data: bytes) -> HttpResponse:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    match = re.match(r"HTTP/\d(?:\.\d)?\s+(\d{3})", lines[0]) if lines else None
    if match is None:
        raise ValueError(f"not an HTTP response: {printable(data[:60])}")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers.append((name.strip(), value.strip()))
    return HttpResponse(int(match.group(1)), printable(lines[0].encode("latin-1"), 120), tuple(headers), body)


def observe(port: int, tls: bool, path: str, response: HttpResponse) -> HttpObservation:
    text = response.body.decode("utf-8", "replace")
    form = _LOGIN_FORM.search(text)
    title = _TITLE.search(text)
    auth = response.header("WWW-Authenticate")
    return HttpObservation(
        port=port,
        tls=tls,
        path=path,
        status=response.status,
        status_line=response.status_line,
        server=response.header("Server"),
        auth_scheme=auth.split()[0].capitalize() if auth else None,
        auth_header=auth,
        login_form=form is not None,
        login_form_evidence=printable(form.group(0).encode(), 160) if form else None,
        title=" ".join(title.group(1).split())[:120] if title else None,
    )


def find_disclosures(port: int, protocol: str, source: str, body: bytes) -> list[Disclosure]:
    text = body[:MAX_BODY].decode("utf-8", "replace")
    found: list[Disclosure] = []
    for marker, pattern in DISCLOSURE_MARKERS:
        match = pattern.search(text)
        if match is not None:
            excerpt = _redact(match.group(0))
            found.append(Disclosure(port, protocol, source, marker, excerpt))
    return found


def _redact(text: str) -> str:
    """Quote enough to locate a secret in a report, never the secret itself."""
    if "PRIVATE KEY" in text:
        return text[:60]
    match = re.search(r"[=:>]", text)
    if match is None:
        return text[:40]
    head, value = text[: match.end()], text[match.end() :].strip().strip('"')
    return f"{head.strip()[:60]}{value[:2]}***"


async def probe_http(session: ProbeSession, port: int, *, tls: bool) -> HttpFindings:
    """The landing page (one same-host redirect followed), then the short disclosure path list."""
    out = HttpFindings()
    protocol = "https" if tls else "http"
    path = "/"
    landing: set[bytes] = set()
    for _hop in range(2):
        try:
            response = await http_get(session, port, path, tls=tls)
        except (OSError, ssl.SSLError, TimeoutError, ValueError) as exc:
            session.note_incomplete(f"{protocol}://{session.address}:{port}{path}: {type(exc).__name__}")
            return out
        out.observations.append(observe(port, tls, path, response))
        landing.add(response.body)
        out.disclosures.extend(find_disclosures(port, protocol, path, response.body))
        location = response.header("Location")
        next_path = _same_host_path(location, session.address, port) if location else None
        if response.status not in (301, 302, 303, 307, 308) or next_path is None or next_path == path:
            break
        path = next_path
    for candidate in DISCLOSURE_PATHS:
        try:
            response = await http_get(session, port, candidate, tls=tls)
        except (OSError, ssl.SSLError, TimeoutError, ValueError):
            continue
        # a catch-all server answers every path with its landing page: that page was judged already
        if 200 <= response.status < 300 and response.body not in landing:
            out.disclosures.extend(find_disclosures(port, protocol, candidate, response.body))
    return out


def _same_host_path(location: str, address: str, port: int) -> str | None:
    """A redirect is followed only when it stays on the probed host and port (a malformed URL: not followed)."""
    try:
        parts = urlsplit(location)
        target_port = parts.port  # ValueError when out of range or not a number
    except ValueError:  # e.g. "http://[::1" (unclosed IPv6 bracket) or "http://host:99999/"
        return None
    if not parts.netloc:
        path = parts.path or "/"
        return path if path.startswith("/") else "/" + path
    if parts.hostname == address and (target_port or (443 if parts.scheme == "https" else 80)) == port:
        return parts.path or "/"
    return None
