"""Services started at boot: inittab, init.d/rc scripts, systemd units, inetd/xinetd, OpenWrt procd.

Only services that are enabled count: an inittab entry, a line of a boot script that runs (rcS, rc.local, an
``S??`` script or one linked from rc?.d / OpenWrt's rc.d), an enabled systemd unit (linked in a ``.wants``
directory), an uncommented inetd line, an xinetd service not ``disable = yes``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from cybersafe.evidence.firmware.model import Service

_DAEMONS: dict[str, tuple[str, str]] = {
    "telnetd": ("telnetd", "cleartext-login"),
    "utelnetd": ("telnetd", "cleartext-login"),
    "in.telnetd": ("telnetd", "cleartext-login"),
    "ftpd": ("ftpd", "cleartext-login"),
    "vsftpd": ("ftpd", "cleartext-login"),
    "proftpd": ("ftpd", "cleartext-login"),
    "pure-ftpd": ("ftpd", "cleartext-login"),
    "bftpd": ("ftpd", "cleartext-login"),
    "in.ftpd": ("ftpd", "cleartext-login"),
    "tftpd": ("tftpd", "cleartext-login"),
    "in.tftpd": ("tftpd", "cleartext-login"),
    "atftpd": ("tftpd", "cleartext-login"),
    "udpsvd": ("tftpd", "cleartext-login"),  # busybox's way of running tftpd
    "rlogind": ("rlogind", "cleartext-login"),
    "in.rlogind": ("rlogind", "cleartext-login"),
    "rshd": ("rshd", "cleartext-login"),
    "in.rshd": ("rshd", "cleartext-login"),
    "rexecd": ("rexecd", "cleartext-login"),
    "in.rexecd": ("rexecd", "cleartext-login"),
    "gdbserver": ("gdbserver", "debug"),
    "miniupnpd": ("upnpd", "upnp"),
    "upnpd": ("upnpd", "upnp"),
    "dropbear": ("ssh", "remote-login"),
    "sshd": ("ssh", "remote-login"),
}
_INETD_NAMES = {"telnet": "telnetd", "ftp": "ftpd", "tftp": "tftpd", "login": "rlogind", "shell": "rshd"}
_SHELLS = ("sh", "ash", "bash", "hush", "-sh", "-ash", "-bash")
_SERIAL = re.compile(r"^(?:tty(?:S|AMA|MSM|HS|MFD|O|PS|SAC)\d*|console|ttyUSB\d*|ttyGS\d*|)$")
_SYSTEMD_EXEC = re.compile(r"^\s*Exec(?:Start|StartPre)\s*=\s*[-@+!:]*(.+)$")
_PROCD = re.compile(r"procd_set_param\s+command\s+(.+)$")


@dataclass(frozen=True, slots=True)
class BootFile:
    rel: str  # path relative to the root of its file system
    display: str
    text: str


def _daemon(command: str) -> tuple[str, str] | None:
    tokens = command.replace(";", " ").replace("&", " ").replace("|", " ").split()
    for i, token in enumerate(tokens):
        base = PurePosixPath(token.strip("\"'")).name
        if base == "busybox" and i + 1 < len(tokens):
            base = tokens[i + 1]
        if base in _DAEMONS:
            return _DAEMONS[base]
        if base in ("start-stop-daemon", "busybox", "exec", "nohup", "env", "sudo"):
            continue
    return None


def _script_lines(text: str) -> list[tuple[int, str]]:
    out = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        out.append((lineno, line))
    return out


def _from_script(bfile: BootFile, mechanism: str) -> list[Service]:
    out: list[Service] = []
    for lineno, line in _script_lines(bfile.text):
        if line.startswith(("echo ", "printf ", "logger ", "killall ", "kill ", "pkill ", "test ", "[ ")):
            continue
        procd = _PROCD.search(line)
        command = procd.group(1) if procd else line
        found = _daemon(command)
        if found:
            out.append(Service(found[0], found[1], "procd" if procd else mechanism, bfile.display, lineno, line))
    return out


def _from_inittab(bfile: BootFile) -> list[Service]:
    out: list[Service] = []
    for lineno, line in _script_lines(bfile.text):
        parts = line.split(":", 3)
        if len(parts) != 4:
            continue
        tty, _, action, process = parts
        found = _daemon(process)
        if found:
            out.append(Service(found[0], found[1], "inittab", bfile.display, lineno, line))
            continue
        program = process.split()[0] if process.split() else ""
        base = PurePosixPath(program.lstrip("-")).name
        shell_on_console = base in {s.lstrip("-") for s in _SHELLS}
        getty_shell = base in ("getty", "agetty") and ("-n" in process.split() and "-l" in process.split())
        login_root = base == "login" and "-f" in process.split()
        if (
            action in ("respawn", "askfirst", "once", "wait", "sysinit")
            and _SERIAL.match(tty)
            and (shell_on_console or getty_shell or login_root)
        ):
            out.append(Service("serial-shell", "debug", "inittab", bfile.display, lineno, line))
    return out


def _from_inetd(bfile: BootFile) -> list[Service]:
    out: list[Service] = []
    for lineno, line in _script_lines(bfile.text):
        fields = line.split()
        if len(fields) < 6:
            continue
        found = _daemon(" ".join(fields[5:])) or (
            _DAEMONS.get(_INETD_NAMES.get(fields[0], "")) if fields[0] in _INETD_NAMES else None
        )
        if found:
            out.append(Service(found[0], found[1], "inetd", bfile.display, lineno, line))
    return out


def _from_xinetd(bfile: BootFile) -> list[Service]:
    out: list[Service] = []
    for block in re.finditer(r"service\s+(\S+)\s*\{([^}]*)\}", bfile.text):
        body = block.group(2)
        if re.search(r"(?m)^\s*disable\s*=\s*yes", body):
            continue
        server = re.search(r"(?m)^\s*server\s*=\s*(\S+)", body)
        found = _daemon(server.group(1)) if server else None
        found = found or _DAEMONS.get(_INETD_NAMES.get(block.group(1), ""))
        if found:
            lineno = bfile.text.count("\n", 0, block.start()) + 1
            out.append(Service(found[0], found[1], "xinetd", bfile.display, lineno, f"service {block.group(1)}"))
    return out


def _from_systemd(bfile: BootFile) -> list[Service]:
    out: list[Service] = []
    for lineno, raw in enumerate(bfile.text.splitlines(), 1):
        match = _SYSTEMD_EXEC.match(raw)
        if match:
            found = _daemon(match.group(1))
            if found:
                out.append(Service(found[0], found[1], "systemd", bfile.display, lineno, raw.strip()))
    return out


def is_boot_path(rel: str) -> bool:
    return rel.startswith(("etc/init", "etc/rc", "etc/inetd", "etc/xinetd", "etc/systemd/", "lib/systemd/system/"))


def find_services(files: list[BootFile], enabled_links: set[str]) -> list[Service]:
    """``enabled_links``: names of init.d scripts or systemd units linked from rc?.d/S* or *.wants/."""
    out: list[Service] = []
    for bfile in files:
        rel = bfile.rel
        name = PurePosixPath(rel).name
        if rel == "etc/inittab":
            out.extend(_from_inittab(bfile))
        elif rel in ("etc/inetd.conf",):
            out.extend(_from_inetd(bfile))
        elif rel.startswith("etc/xinetd.d/") or rel == "etc/xinetd.conf":
            out.extend(_from_xinetd(bfile))
        elif rel.endswith((".service", ".socket")) and ("systemd/system" in rel):
            if ".wants/" in rel or name in enabled_links:
                out.extend(_from_systemd(bfile))
        elif rel in ("etc/init.d/rcS", "etc/rc.local", "etc/rcS", "etc/init.d/rc.local", "etc/rc.d/rc.local"):
            out.extend(_from_script(bfile, "init.d"))
        elif rel.startswith(("etc/init.d/", "etc/rc.d/", "etc/rcS.d/")) or re.match(r"etc/rc\d\.d/", rel):
            if re.match(r"[SK]\d\d", name) and name.startswith("K"):
                continue
            if re.match(r"S\d\d", name) or name in enabled_links or rel.startswith(("etc/rc", "etc/rcS.d/")):
                out.extend(_from_script(bfile, "init.d"))
    return _dedupe(out)


def _dedupe(services: list[Service]) -> list[Service]:
    seen: set[tuple[str, str, int]] = set()
    out = []
    for service in services:
        key = (service.name, service.path, service.line)
        if key not in seen:
            seen.add(key)
            out.append(service)
    return out
