"""A simulated example camera on 127.0.0.1, so `cybersafe demo` can show the network probe end to end.

It behaves like the example product declares: one HTTPS service (TLS 1.2 and 1.3 only, forward-secret
AEAD suites, a valid EC P-256 certificate) whose local interface asks for the owner's password with HTTP
basic auth, and answers repeated failures with HTTP 429 after five in a row (EN 303 645 5.1-5). The owner
password is random per run: no default credential can log in. It listens on a loopback address of its own
(127.77.0.1), so services of this machine bound to 127.0.0.1 do not show up as the device's.
"""

from __future__ import annotations

import datetime as dt
import secrets
import ssl
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

LOCKOUT_AFTER = 5
HOST = "127.77.0.1"
_PAGE = b"""<!doctype html><html lang="en"><head><title>Nordlicht SecureCam 2</title></head>
<body><h1>Nordlicht SecureCam 2</h1><p>Sign in with the owner password you set during onboarding.</p></body></html>
"""


def _certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "securecam.local")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("securecam.local")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "device.crt", directory / "device.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class _Handler(BaseHTTPRequestHandler):
    server_version = "NL-CAM2-web"
    sys_version = ""
    password: ClassVar[str] = ""
    failures: ClassVar[int] = 0
    lock: ClassVar[threading.Lock] = threading.Lock()

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_GET(self) -> None:
        import base64

        header = self.headers.get("Authorization", "")
        supplied = ""
        if header.startswith("Basic "):
            try:
                supplied = base64.b64decode(header[6:]).decode("utf-8", "replace")
            except ValueError:
                supplied = ""
        with self.lock:
            if type(self).failures >= LOCKOUT_AFTER:
                self._reply(429, b"Too many failed logins: locked for 15 minutes\n")
                return
            if supplied == f"admin:{self.password}":
                type(self).failures = 0
                self._reply(200, _PAGE)
                return
            if header:
                type(self).failures += 1
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="NL-CAM2 local interface"')
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(_PAGE)))
        self.end_headers()
        self.wfile.write(_PAGE)

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class SimulatedCamera:
    """``with SimulatedCamera() as camera: camera.port``: an HTTPS device on a free loopback port."""

    def __init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="cybersafe-device-")
        cert, key = _certificate(Path(self._tmp.name))
        handler = type("Handler", (_Handler,), {"password": secrets.token_urlsafe(18), "failures": 0})
        self._server = ThreadingHTTPServer((HOST, 0), handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.set_ciphers("ECDHE+AESGCM:ECDHE+CHACHA20")
        context.load_cert_chain(cert, key)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name="simulated-camera", daemon=True)
        self.port = int(self._server.server_address[1])

    def device_artefact(self) -> dict[str, object]:
        """The dossier's ``artefacts.device`` entry for this simulated device."""
        return {"host": HOST, "ports": [self.port]}

    def __enter__(self) -> SimulatedCamera:
        self._thread.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._tmp.cleanup()
