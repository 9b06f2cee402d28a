"""Services started at boot: inittab, init.d/rc scripts, systemd units, inetd/xinetd, OpenWrt procd.

Read by structure, so that only start paths count:

- inittab: entries whose action starts a process (sysinit, respawn, once, wait, askfirst, boot, bootwait);
  never shutdown, ctrlaltdel or restart entries;
- boot scripts (rcS, rc.local, ``S??`` scripts, scripts linked from rc?.d or OpenWrt's rc.d): commands run
  at the top level, in a ``start)`` branch of ``case "$1"`` or in a start function (``start()``,
  ``do_start()``, ``start_service()``, ``boot()``); never in a ``stop)`` branch or a stop function, never a
  ``killall``/``kill``/``start-stop-daemon --stop`` line, never a comment, an ``echo`` or a test. A command
  counts when the daemon is the program the line runs (after ``exec``, ``nohup``, ``busybox``, the
  ``--exec`` of ``start-stop-daemon --start``, or a super-server such as ``tcpsvd``), not when its name is
  only an argument (``grep telnetd``); simple ``VAR=value`` assignments are substituted;
- OpenWrt procd: ``procd_set_param command`` inside ``start_service()``;
- systemd: ExecStart of enabled units (linked in a ``.wants`` directory);
- inetd: uncommented lines; xinetd: services not ``disable = yes``.

For a UPnP IGD daemon (miniupnpd) the collector also reads whether its secure mode is on: ``-S`` on the
command line, ``secure_mode=`` in its configuration file, or ``option secure_mode`` in OpenWrt's
/etc/config/upnpd. miniupnpd leaves it off unless told otherwise ("-S sets secure mode").
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, replace
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
    "rlogind": ("rlogind", "cleartext-login"),
    "in.rlogind": ("rlogind", "cleartext-login"),
    "rshd": ("rshd", "cleartext-login"),
    "in.rshd": ("rshd", "cleartext-login"),
    "rexecd": ("rexecd", "cleartext-login"),
    "in.rexecd": ("rexecd", "cleartext-login"),
    "gdbserver": ("gdbserver", "debug"),
    "dropbear": ("ssh", "remote-login"),
    "sshd": ("ssh", "remote-login"),
    # discovery and management services (advertise the device, or let the network reconfigure it)
    "miniupnpd": ("upnp-igd", "discovery"),
    "upnpd": ("upnp-igd", "discovery"),
    "minissdpd": ("ssdp", "discovery"),
    "avahi-daemon": ("mdns", "discovery"),
    "mdnsd": ("mdns", "discovery"),
    "mDNSResponder": ("mdns", "discovery"),
    "umdns": ("mdns", "discovery"),
    "wsdd": ("ws-discovery", "discovery"),
    "wsdd2": ("ws-discovery", "discovery"),
    "minidlna": ("dlna", "discovery"),
    "minidlnad": ("dlna", "discovery"),
    "snmpd": ("snmp", "discovery"),
    "mini_snmpd": ("snmp", "discovery"),
    "cwmpd": ("tr-069", "discovery"),
    "easycwmp": ("tr-069", "discovery"),
    "easycwmpd": ("tr-069", "discovery"),
    "tr69c": ("tr-069", "discovery"),
    "lldpd": ("lldp", "discovery"),
}
_INETD_NAMES = {"telnet": "telnetd", "ftp": "ftpd", "tftp": "tftpd", "login": "rlogind", "shell": "rshd"}
_SHELLS = ("sh", "ash", "bash", "hush", "-sh", "-ash", "-bash")
_SERIAL = re.compile(r"^(?:tty(?:S|AMA|MSM|HS|MFD|O|PS|SAC)\d*|console|ttyUSB\d*|ttyGS\d*|)$")
_SYSTEMD_EXEC = re.compile(r"^\s*Exec(?:Start|StartPre)\s*=\s*[-@+!:]*(.+)$")
_PROCD = re.compile(r"procd_set_param\s+command\s+(.+)$")
_STARTING_ACTIONS = frozenset({"sysinit", "respawn", "once", "wait", "askfirst", "boot", "bootwait"})
_WRAPPERS = frozenset({"exec", "nohup", "env", "sudo", "setsid", "nice", "ionice", "chrt", "taskset", "command"})
_SUPER_SERVERS = frozenset({"tcpsvd", "udpsvd", "inetd", "xinetd", "tcpserver", "s6-tcpserver", "socat"})
_STOP_WORDS = re.compile(r"(?:^|[_-])(?:stop|kill|shutdown|disable|uninstall|remove|restart_pre)(?:$|[_-])")
_FUNCTION = re.compile(
    r"^(?:function\s+)?([A-Za-z_][\w-]*)\s*\(\s*\)\s*\{?\s*$|^function\s+([A-Za-z_][\w-]*)\s*\{?\s*$"
)
_CASE_LABEL = re.compile(r"^\(?\s*([^()]+?)\s*\)(.*)$")
_ASSIGN = re.compile(r"^([A-Za-z_]\w*)=([^\s;&|`$()]*|\"[^\"$`]*\"|'[^']*')\s*$")
_SEGMENTS = re.compile(r"&&|\|\||;|\||&")
_CONDITION_WORDS = ("if ", "elif ", "while ", "until ", "! ")
_LEADING_WORDS = ("then ", "else ", "do ", "{ ", "( ")


@dataclass(frozen=True, slots=True)
class BootFile:
    rel: str  # path relative to the root of its file system
    display: str
    text: str


def _token_base(token: str) -> str:
    return PurePosixPath(token.strip("\"'")).name


def _split(segment: str) -> list[str]:
    try:
        return shlex.split(segment, comments=False, posix=True)
    except ValueError:
        return segment.split()


def _ssd_program(tokens: list[str]) -> str | None:
    """The program ``start-stop-daemon`` starts, or None when it stops one."""
    if any(t in ("--stop", "-K") for t in tokens) or not any(t in ("--start", "-S") for t in tokens):
        return None
    for i, token in enumerate(tokens):
        if token in ("--exec", "-x", "--startas", "-a") and i + 1 < len(tokens):
            return tokens[i + 1]
        if token.startswith(("--exec=", "--startas=")):
            return token.split("=", 1)[1]
    return None


def _program(tokens: list[str]) -> tuple[str, list[str]] | None:
    """The program a simple command runs and its arguments, past assignments and wrappers."""
    i = 0
    while i < len(tokens) and re.match(r"^[A-Za-z_]\w*=", tokens[i]):
        i += 1
    while i < len(tokens):
        base = _token_base(tokens[i])
        if base in _WRAPPERS:
            i += 1
            while i < len(tokens) and tokens[i].startswith("-"):
                i += 1
            continue
        if base == "busybox" and i + 1 < len(tokens):
            i += 1
            continue
        if base == "start-stop-daemon":
            program = _ssd_program(tokens[i:])
            return (program, tokens[i + 1 :]) if program else None
        return tokens[i], tokens[i + 1 :]
    return None


def _daemon(command: str) -> tuple[str, str] | None:
    """The service a command line starts, judged on the program each of its simple commands runs."""
    for raw in _SEGMENTS.split(command):
        segment = raw.strip()
        for word in _LEADING_WORDS:
            if segment.startswith(word):
                segment = segment[len(word) :].strip()
        if not segment or segment.startswith(_CONDITION_WORDS):
            continue
        found = _program(_split(segment))
        if found is None:
            continue
        program, args = found
        base = _token_base(program)
        if base in _DAEMONS:
            return _DAEMONS[base]
        if base in _SUPER_SERVERS:
            for arg in args:
                if _token_base(arg) in _DAEMONS:
                    return _DAEMONS[_token_base(arg)]
            if base == "udpsvd":
                return ("tftpd", "cleartext-login")  # busybox's way of running tftpd
    return None


def _script_lines(text: str) -> list[tuple[int, str]]:
    out = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        out.append((lineno, line))
    return out


class _ScriptReader:
    """Follows functions and ``case`` branches of a boot script, so that only start paths count."""

    def __init__(self) -> None:
        self.function: str | None = None
        self.depth = 0  # brace depth inside the current function
        self.case_depth = 0
        self.branch: str | None = None  # labels of the current case branch
        self.variables: dict[str, str] = {}

    def stopping(self) -> bool:
        if self.function is not None and _STOP_WORDS.search(self.function.lower()):
            return True
        if self.branch is not None:
            labels = [lab.strip().strip("\"'") for lab in self.branch.split("|")]
            return all(_STOP_WORDS.search(lab.lower()) or lab in ("status", "reload") for lab in labels)
        return False

    def feed(self, line: str) -> str | None:
        """Update the structure with one line; the command part to judge, or None."""
        found = _FUNCTION.match(line)
        if found and self.function is None:
            self.function = found.group(1) or found.group(2)
            self.depth = line.count("{") or 0
            return None
        if self.function is not None:
            self.depth += line.count("{") - line.count("}")
            if line == "}" or (self.depth <= 0 and "}" in line and "{" not in line):
                self.function, self.depth = None, 0
                return None
        return self._case(line)

    def _case(self, line: str) -> str | None:
        if re.match(r"^case\s.+\sin\s*$", line):
            self.case_depth += 1
            return None
        if self.case_depth and line in ("esac", "esac;"):
            self.case_depth -= 1
            self.branch = None
            return None
        if self.case_depth and self.branch is None:
            label = _CASE_LABEL.match(line)
            if label and not line.startswith(("if ", "[")):
                self.branch = label.group(1)
                line = label.group(2).strip()
        if self.case_depth and line.endswith(";;"):
            command = line[:-2].strip()
            judged = command if command and not self.stopping() else None
            self.branch = None
            return judged
        return None if self.stopping() else line

    def substitute(self, line: str) -> str:
        assign = _ASSIGN.match(line)
        if assign and self.function is None:
            self.variables[assign.group(1)] = assign.group(2).strip("\"'")
        if "$" not in line:
            return line
        return re.sub(r"\$\{?([A-Za-z_]\w*)\}?", lambda m: self.variables.get(m.group(1), m.group(0)), line)


def _from_script(bfile: BootFile, mechanism: str) -> list[Service]:
    out: list[Service] = []
    reader = _ScriptReader()
    for lineno, line in _script_lines(bfile.text):
        command = reader.feed(line)
        if command is None:
            continue
        command = reader.substitute(command)
        procd = _PROCD.search(command)
        found = _daemon(procd.group(1) if procd else command)
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
        if action not in _STARTING_ACTIONS:
            continue  # shutdown, ctrlaltdel, restart entries start nothing at boot
        found = _daemon(process)
        if found:
            out.append(Service(found[0], found[1], "inittab", bfile.display, lineno, line))
            continue
        words = process.split()
        program = words[0] if words else ""
        base = PurePosixPath(program.lstrip("-")).name
        shell_on_console = base in {s.lstrip("-") for s in _SHELLS}
        getty_shell = base in ("getty", "agetty") and ("-n" in words and "-l" in words)
        login_root = base == "login" and "-f" in words
        if _SERIAL.match(tty) and (shell_on_console or getty_shell or login_root):
            out.append(Service("serial-shell", "debug", "inittab", bfile.display, lineno, line))
    return out


def _from_inetd(bfile: BootFile) -> list[Service]:
    out: list[Service] = []
    for lineno, line in _script_lines(bfile.text):
        fields = line.split()
        if len(fields) < 6:
            continue
        server = fields[5:]
        found = next((_DAEMONS[_token_base(w)] for w in server if _token_base(w) in _DAEMONS), None)
        found = found or (_DAEMONS.get(_INETD_NAMES[fields[0]]) if fields[0] in _INETD_NAMES else None)
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


_UPNP_CONFIGS = ("etc/miniupnpd.conf", "etc/miniupnpd/miniupnpd.conf", "etc/config/upnpd", "var/etc/miniupnpd.conf")


def is_boot_path(rel: str) -> bool:
    return (
        rel.startswith(("etc/init", "etc/rc", "etc/inetd", "etc/xinetd", "etc/systemd/", "lib/systemd/system/"))
        or rel in _UPNP_CONFIGS
    )


def _script_kind(rel: str, name: str, enabled_links: set[str]) -> str | None:
    if rel in ("etc/init.d/rcS", "etc/rc.local", "etc/rcS", "etc/init.d/rc.local", "etc/rc.d/rc.local"):
        return "init.d"
    if rel.startswith(("etc/init.d/", "etc/rc.d/", "etc/rcS.d/")) or re.match(r"etc/rc\d\.d/", rel):
        if re.match(r"K\d\d", name):
            return None
        if re.match(r"S\d\d", name) or name in enabled_links or rel.startswith(("etc/rc", "etc/rcS.d/")):
            return "init.d"
    return None


def find_services(files: list[BootFile], enabled_links: set[str]) -> list[Service]:
    """``enabled_links``: names of init.d scripts or systemd units linked from rc?.d/S* or *.wants/."""
    out: list[Service] = []
    for bfile in files:
        rel = bfile.rel
        name = PurePosixPath(rel).name
        if rel == "etc/inittab":
            out.extend(_from_inittab(bfile))
        elif rel == "etc/inetd.conf":
            out.extend(_from_inetd(bfile))
        elif rel.startswith("etc/xinetd.d/") or rel == "etc/xinetd.conf":
            out.extend(_from_xinetd(bfile))
        elif rel.endswith((".service", ".socket")) and ("systemd/system" in rel):
            if ".wants/" in rel or name in enabled_links:
                out.extend(_from_systemd(bfile))
        elif (kind := _script_kind(rel, name, enabled_links)) is not None:
            out.extend(_from_script(bfile, kind))
    return [_with_upnp_mode(s, files) if s.name == "upnp-igd" else s for s in _dedupe(out)]


def _with_upnp_mode(service: Service, files: list[BootFile]) -> Service:
    """Record whether the UPnP IGD's secure mode is on, and where that was read."""
    words = _split(service.command)
    if "-S" in words or any(w.startswith("-S") and w[2:] in ("1", "") for w in words):
        return replace(service, settings=(("secure_mode", "yes"), ("secure_mode_source", "command line -S")))
    config = next((words[i + 1] for i, w in enumerate(words[:-1]) if w == "-f"), None)
    wanted = [config.lstrip("/")] if config else ["etc/miniupnpd.conf", "etc/miniupnpd/miniupnpd.conf"]
    by_rel = {f.rel: f for f in files}
    for rel in wanted:
        if rel in by_rel:
            value = _conf_value(by_rel[rel].text, "secure_mode")
            return replace(
                service, settings=(("secure_mode", value or "unset"), ("secure_mode_source", by_rel[rel].display))
            )
    uci = by_rel.get("etc/config/upnpd")
    if uci is not None:
        found = re.search(r"(?m)^\s*option\s+secure_mode\s+['\"]?([01])['\"]?", uci.text)
        value = ("yes" if found.group(1) == "1" else "no") if found else "unset"
        return replace(service, settings=(("secure_mode", value), ("secure_mode_source", uci.display)))
    return replace(service, settings=(("secure_mode", "unknown"), ("secure_mode_source", "no configuration found")))


def _conf_value(text: str, key: str) -> str | None:
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if "=" in line and line.split("=", 1)[0].strip() == key:
            return line.split("=", 1)[1].strip().lower() or None
    return None


def _dedupe(services: list[Service]) -> list[Service]:
    seen: set[tuple[str, str, int]] = set()
    out = []
    for service in services:
        key = (service.name, service.path, service.line)
        if key not in seen:
            seen.add(key)
            out.append(service)
    return out
