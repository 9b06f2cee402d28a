"""Real servers on 127.0.0.1 for the network probe tests: weak and strong TLS, SSH, telnet, FTP, HTTP, SSDP, mDNS.

Every server binds 127.0.0.1 on a free high port. Small asyncio servers (telnet, FTP, SSDP, mDNS, a telnet
option flooder) run on one background event loop; HTTP(S) servers run in threads; openssl s_server, sshd,
busybox telnetd and vsftpd are subprocesses from the Debian packages. ``Device`` groups the servers that make
up one simulated product.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import http.server
import os
import shutil
import socket
import ssl
import struct
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from tests.support import free_port

HOST = "127.0.0.1"
IAC, WILL, WONT, DO, DONT = 255, 251, 252, 253, 254
ECHO, SGA = 1, 3


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {HOST}:{port} after {timeout} s")


# --- certificates ---------------------------------------------------------------------------------------------


def write_certificate(directory: Path, name: str, *, weak: bool) -> tuple[Path, Path]:
    """weak: RSA 1024, expired 30 days ago; strong: EC P-256, valid for a year, SHA-256."""
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    key = (
        rsa.generate_private_key(public_exponent=65537, key_size=1024)
        if weak
        else ec.generate_private_key(ec.SECP256R1())
    )
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    start, end = (
        (now - dt.timedelta(days=400), now - dt.timedelta(days=30))
        if weak
        else (now - dt.timedelta(days=1), now + dt.timedelta(days=365))
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


# --- subprocess servers ---------------------------------------------------------------------------------------


@dataclass
class Process:
    popen: subprocess.Popen[bytes]
    port: int

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(5)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)


def start_openssl_weak(directory: Path) -> Process:
    """openssl s_server offering TLS 1.0-1.3 and every cipher (TLS 1.0/1.1 need @SECLEVEL=0)."""
    cert, key = write_certificate(directory, "weak-device", weak=True)
    port = free_port()
    popen = subprocess.Popen(
        ["openssl", "s_server", "-accept", f"{HOST}:{port}", "-cert", str(cert), "-key", str(key),
         "-cipher", "ALL:@SECLEVEL=0", "-quiet", "-naccept", "1000000", "-www"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_for_port(port)
    return Process(popen, port)


SSHD_WEAK = """\
KexAlgorithms +diffie-hellman-group1-sha1,diffie-hellman-group14-sha1
Ciphers +3des-cbc,aes128-cbc
MACs +hmac-md5,hmac-sha1
HostKeyAlgorithms +ssh-rsa
PubkeyAcceptedAlgorithms +ssh-rsa
PasswordAuthentication yes
KbdInteractiveAuthentication no
"""

SSHD_STRONG = """\
KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org
Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com
MACs hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com
HostKeyAlgorithms ssh-ed25519
PasswordAuthentication no
KbdInteractiveAuthentication no
"""


def start_sshd(directory: Path, *, weak: bool) -> Process:
    sshd = shutil.which("sshd") or "/usr/sbin/sshd"
    name = "weak" if weak else "strong"
    keys = []
    if weak:
        rsa_key = directory / f"sshd_{name}_rsa"
        subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "1024", "-N", "", "-f", str(rsa_key)], check=True)
        keys.append(rsa_key)
    ed_key = directory / f"sshd_{name}_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(ed_key)], check=True)
    keys.append(ed_key)
    port = free_port()
    config = directory / f"sshd_{name}.conf"
    config.write_text(
        f"ListenAddress {HOST}\nPort {port}\n"
        + "".join(f"HostKey {k}\n" for k in keys)
        + f"PidFile {directory / f'sshd_{name}.pid'}\nUsePAM no\nPermitRootLogin no\nMaxStartups 100\n"
        + (SSHD_WEAK if weak else SSHD_STRONG),
        encoding="utf-8",
    )
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # privilege-separation directory sshd insists on
    popen = subprocess.Popen(
        [sshd, "-D", "-e", "-f", str(config)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_for_port(port)
    return Process(popen, port)


# --- asyncio servers on one background loop -------------------------------------------------------------------


class LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="test-servers", daemon=True)
        self.thread.start()
        self.closers: list[Callable[[], None]] = []

    def run(self, coroutine: object) -> object:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(10)  # type: ignore[arg-type]

    def stop(self) -> None:
        async def close_all() -> None:
            for close in self.closers:
                close()
            await asyncio.sleep(0.1)  # let the transports finish closing

        self.run(close_all())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@dataclass
class LoginPolicy:
    accepted: set[tuple[str, str]] = field(default_factory=set)
    lockout_after: int | None = None  # failures before every further attempt is refused
    failures: int = 0

    def check(self, user: str, password: str) -> str:
        if self.lockout_after is not None and self.failures >= self.lockout_after:
            return "locked"
        if (user, password) in self.accepted:
            return "ok"
        self.failures += 1
        return "bad"


def _strip_telnet(data: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(data):
        if data[i] == IAC:
            i += 3 if i + 1 < len(data) and data[i + 1] in (WILL, WONT, DO, DONT) else 2
            continue
        out.append(data[i])
        i += 1
    return bytes(out)


async def _read_line(reader: asyncio.StreamReader) -> str:
    try:
        data = await asyncio.wait_for(reader.readuntil(b"\n"), 10)
    except asyncio.IncompleteReadError as exc:
        data = exc.partial
    return _strip_telnet(data).decode("latin-1").strip("\r\n\x00 ")


def telnet_handler(policy: LoginPolicy) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], object]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            writer.write(bytes([IAC, WILL, ECHO, IAC, WILL, SGA]) + b"\r\nBusyBox v1.36 test-camera\r\n")
            if policy.lockout_after is not None and policy.failures >= policy.lockout_after:
                writer.write(b"Too many failed logins, try again later\r\n")
                return
            writer.write(b"camera login: ")
            await writer.drain()
            user = await _read_line(reader)
            writer.write(b"Password: ")
            await writer.drain()
            password = await _read_line(reader)
            result = policy.check(user, password)
            if result == "ok":
                writer.write(b"\r\n\r\nBusyBox v1.36 built-in shell (ash)\r\n# ")
            elif result == "locked":
                writer.write(b"\r\nToo many failed logins, try again later\r\n")
            else:
                writer.write(b"\r\nLogin incorrect\r\n")
            await writer.drain()
            await asyncio.sleep(0.05)
        except (TimeoutError, OSError):
            pass
        finally:
            writer.close()

    return handle


def ftp_handler(policy: LoginPolicy) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], object]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if policy.lockout_after is not None and policy.failures >= policy.lockout_after:
                writer.write(b"421 Too many failed logins, try later\r\n")
                await writer.drain()
                return
            writer.write(b"220 test-camera FTP server ready\r\n")
            await writer.drain()
            user = ""
            while True:
                line = (await asyncio.wait_for(reader.readline(), 10)).decode("latin-1").strip()
                if not line:
                    return
                verb, _, arg = line.partition(" ")
                verb = verb.upper()
                if verb == "USER":
                    user = arg
                    writer.write(b"331 Password required\r\n")
                elif verb == "PASS":
                    result = policy.check(user, arg)
                    if result == "ok":
                        writer.write(b"230 Login successful\r\n")
                    elif result == "locked":
                        writer.write(b"421 Too many failed logins, try later\r\n")
                        await writer.drain()
                        return
                    else:
                        writer.write(b"530 Login incorrect\r\n")
                elif verb == "QUIT":
                    writer.write(b"221 Goodbye\r\n")
                    await writer.drain()
                    return
                else:
                    writer.write(b"502 Command not implemented\r\n")
                await writer.drain()
        except (TimeoutError, OSError):
            pass
        finally:
            writer.close()

    return handle


async def start_tcp(
    handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], object],
) -> tuple[asyncio.Server, int]:
    server = await asyncio.start_server(handler, HOST, 0)  # type: ignore[arg-type]
    port = int(server.sockets[0].getsockname()[1])
    return server, port


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, reply: Callable[[bytes], bytes | None]) -> None:
        self.reply = reply
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        answer = self.reply(data)
        if answer is not None and self.transport is not None:
            self.transport.sendto(answer, addr)


async def start_udp(reply: Callable[[bytes], bytes | None]) -> tuple[asyncio.DatagramTransport, int]:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: _Udp(reply), local_addr=(HOST, 0))
    port = int(transport.get_extra_info("sockname")[1])
    return transport, port  # type: ignore[return-value]


def ssdp_reply(location: str) -> Callable[[bytes], bytes | None]:
    def reply(data: bytes) -> bytes | None:
        if not data.startswith(b"M-SEARCH"):
            return None
        return (
            "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\n"
            f"LOCATION: {location}\r\nSERVER: Linux/4.9 UPnP/1.0 test-camera/1.0\r\n"
            "ST: upnp:rootdevice\r\nUSN: uuid:1234::upnp:rootdevice\r\n\r\n"
        ).encode()

    return reply


def _dns_name(name: str) -> bytes:
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\x00"


def mdns_reply(data: bytes) -> bytes | None:
    """A DNS-SD answer: one PTR to _http._tcp.local plus a TXT record with the model."""
    if len(data) < 12:
        return None
    header = struct.pack("!HHHHHH", 0, 0x8400, 0, 2, 0, 0)
    ptr_target = _dns_name("_http._tcp.local")
    ptr = _dns_name("_services._dns-sd._udp.local") + struct.pack("!HHIH", 12, 1, 120, len(ptr_target)) + ptr_target
    txt_data = b"".join(bytes([len(t)]) + t for t in (b"model=test-camera", b"fw=1.0.3"))
    txt = _dns_name("camera._http._tcp.local") + struct.pack("!HHIH", 16, 1, 120, len(txt_data)) + txt_data
    return header + ptr + txt


# --- HTTP(S) servers in threads -------------------------------------------------------------------------------


@dataclass
class HttpConfig:
    basic_auth: LoginPolicy | None = None  # protects "/"
    pages: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)  # path -> (status, type, body), no auth
    redirect_to: str | None = None  # every request answered with 301 to this URL
    landing: bytes = b"<html><head><title>Camera</title></head><body>ok</body></html>"


class _Handler(http.server.BaseHTTPRequestHandler):
    config: HttpConfig
    server_version = "test-camera-httpd/1.0"
    sys_version = ""

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        config = self.config
        if config.redirect_to is not None:
            self._send(301, "text/plain", b"moved", [("Location", config.redirect_to)])
            return
        if self.path in config.pages:
            status, kind, body = config.pages[self.path]
            self._send(status, kind, body)
            return
        if self.path != "/":
            self._send(404, "text/plain", b"not found")
            return
        policy = config.basic_auth
        if policy is not None:
            header = self.headers.get("Authorization", "")
            if not header.startswith("Basic "):
                self._send(
                    401, "text/html", b"<html>login required</html>", [("WWW-Authenticate", 'Basic realm="camera"')]
                )
                return
            user, _, password = base64.b64decode(header[6:]).decode("latin-1").partition(":")
            result = policy.check(user, password)
            if result == "locked":
                self._send(429, "text/plain", b"too many failed logins")
                return
            if result == "bad":
                self._send(
                    401, "text/html", b"<html>login required</html>", [("WWW-Authenticate", 'Basic realm="camera"')]
                )
                return
        self._send(200, "text/html", config.landing)

    def _send(self, status: int, kind: str, body: bytes, headers: list[tuple[str, str]] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers or []:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    tls: ssl.SSLContext | None = None

    def handle_error(self, request: object, client_address: object) -> None:
        return  # scanners and TLS probes hang up mid-request on purpose

    def finish_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        if self.tls is None:
            super().finish_request(request, client_address)  # type: ignore[arg-type]
            return
        request.settimeout(5)
        try:
            wrapped = self.tls.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        try:
            super().finish_request(wrapped, client_address)  # type: ignore[arg-type]
        finally:
            wrapped.close()


@dataclass
class HttpServer:
    server: _Server
    thread: threading.Thread
    port: int

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def start_http(config: HttpConfig, tls: ssl.SSLContext | None = None) -> HttpServer:
    handler = type("Handler", (_Handler,), {"config": config})
    server = _Server((HOST, 0), handler)
    server.tls = tls
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    return HttpServer(server, thread, int(server.server_address[1]))


def strong_tls_context(directory: Path) -> ssl.SSLContext:
    cert, key = write_certificate(directory, "strong-device", weak=False)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("ECDHE+AESGCM:ECDHE+CHACHA20")
    context.load_cert_chain(cert, key)
    return context


# --- a blackhole: a listener whose accept queue is full, so further SYNs are dropped ------------------------------


@dataclass
class Blackhole:
    listener: socket.socket
    fillers: list[socket.socket]
    port: int

    def stop(self) -> None:
        for sock in self.fillers:
            sock.close()
        self.listener.close()


def start_blackhole() -> Blackhole:
    listener = socket.socket()
    listener.bind((HOST, 0))
    listener.listen(0)
    port = int(listener.getsockname()[1])
    fillers = []
    for _ in range(2):  # one fills the queue; the second proves it
        sock = socket.socket()
        sock.settimeout(0.5)
        with contextlib.suppress(OSError):
            sock.connect((HOST, port))
        fillers.append(sock)
    return Blackhole(listener, fillers, port)


def tools_available() -> list[str]:
    """Binaries the live tests need (the Makefile installs them: openssh-server, openssh-client, openssl,
    busybox-static, vsftpd)."""
    missing = [tool for tool in ("openssl", "ssh", "ssh-keygen", "busybox") if shutil.which(tool) is None]
    for daemon in ("sshd", "vsftpd"):
        if shutil.which(daemon) is None and not os.path.exists(f"/usr/sbin/{daemon}"):
            missing.append(daemon)
    return missing


# --- the open device: busybox telnetd with a shell, vsftpd, a TLS port with a huge certificate chain --------------


def start_busybox_telnetd(program: str) -> Process:
    """Debian's busybox telnetd on loopback, running ``program`` for each connection (``/bin/sh``: no login)."""
    port = free_port()
    popen = subprocess.Popen(
        ["busybox", "telnetd", "-F", "-b", f"{HOST}", "-p", str(port), "-l", program],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_for_port(port)
    return Process(popen, port)


VSFTPD_COMMON = """\
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
background=NO
write_enable=NO
seccomp_sandbox=NO
xferlog_enable=NO
pasv_enable=NO
"""


def start_vsftpd(directory: Path, *, anonymous: bool, delay_failed_login: int = 0) -> Process:
    """Debian's vsftpd with a config in ``directory``: anonymous read-only, or local (PAM) logins only,
    answering each failed login after ``delay_failed_login`` seconds (vsftpd's own setting)."""
    name = "anonymous" if anonymous else "local"
    empty = directory / f"vsftpd-{name}-empty"
    root = directory / f"vsftpd-{name}-root"
    for folder in (empty, root):
        folder.mkdir(mode=0o755, exist_ok=True)
    port = free_port()
    settings = (
        f"anonymous_enable=YES\nlocal_enable=NO\nanon_root={root}\nftp_username=daemon\n"
        if anonymous
        else f"anonymous_enable=NO\nlocal_enable=YES\npam_service_name=vsftpd\ndelay_failed_login={delay_failed_login}\n"
    )
    config = directory / f"vsftpd-{name}.conf"
    config.write_text(VSFTPD_COMMON + f"listen_port={port}\nsecure_chroot_dir={empty}\n" + settings, encoding="utf-8")
    vsftpd = shutil.which("vsftpd") or "/usr/sbin/vsftpd"
    popen = subprocess.Popen(
        [vsftpd, str(config)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_for_port(port)
    return Process(popen, port)


def write_huge_chain(directory: Path, count: int = 400) -> tuple[Path, Path, Path]:
    """A leaf and ``count`` extra certificates (about 600 bytes each): a chain far past the 100 KiB that
    OpenSSL clients accept by default."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)

    def certificate(serial: int) -> bytes:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"huge-chain-{serial}"),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "x" * 60)])  # fmt: skip
        built = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(serial + 1).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256())
        )  # fmt: skip
        return built.public_bytes(serialization.Encoding.PEM)

    leaf, chain, key_path = directory / "huge-leaf.pem", directory / "huge-chain.pem", directory / "huge-leaf.key"
    leaf.write_bytes(certificate(0))
    chain.write_bytes(b"".join(certificate(i) for i in range(1, count)))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return leaf, chain, key_path


def start_openssl_huge_chain(directory: Path) -> Process:
    leaf, chain, key = write_huge_chain(directory)
    port = free_port()
    popen = subprocess.Popen(
        ["openssl", "s_server", "-accept", f"{HOST}:{port}", "-cert", str(leaf), "-key", str(key),
         "-cert_chain", str(chain), "-quiet", "-naccept", "1000000", "-www"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_for_port(port)
    return Process(popen, port)


def malformed_tls_handler() -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], object]:
    """Answers a ClientHello with a TLS handshake record whose ServerHello is cut short and garbled."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await asyncio.wait_for(reader.read(4096), 5)
            body = b"\x02\x00\x00\x30" + b"\x03\x03" + b"\xee" * 20  # ServerHello claiming 48 bytes, 22 sent
            writer.write(b"\x16\x03\x03" + len(body).to_bytes(2, "big") + body)
            writer.write(b"\x16\x03\x03\x00\x04\x0b\xff\xff\xff")  # a Certificate message of 16 MiB
            await writer.drain()
            await asyncio.sleep(1)
        except (TimeoutError, OSError):
            pass
        finally:
            writer.close()

    return handle


def telnet_flood_handler() -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], object]:
    """A hostile telnet peer: floods option negotiation for up to 30 s and never reads what it is sent."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        options = bytes(range(256))
        try:
            for round_ in range(20000):
                command = DO if round_ % 2 else WILL
                writer.write(b"".join(bytes([IAC, command, o]) for o in options))
                await asyncio.wait_for(writer.drain(), 30)
        except (TimeoutError, OSError):
            pass
        finally:
            writer.close()

    return handle
