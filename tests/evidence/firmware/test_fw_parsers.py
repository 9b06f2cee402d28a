"""The small parsers of the firmware inventory: boot services, config credentials, byte scanner, accounts,
file modes, keys. Parsers of untrusted input are fuzzed: they never raise."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import crypt_r
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cybersafe.evidence.defaults import default_credentials, default_passwords
from cybersafe.evidence.firmware import configcreds, keys, services
from cybersafe.evidence.firmware.accounts import PasswdFile, crack, hash_algorithm, parse_accounts
from cybersafe.evidence.firmware.metadata import cpio_metadata, jffs2_metadata, parse_mode_string
from cybersafe.evidence.firmware.model import CrackStatus
from cybersafe.evidence.firmware.patterns import ByteScanner, redact


def _boot(rel: str, text: str) -> services.BootFile:
    return services.BootFile(rel, "/" + rel, text)


@pytest.mark.parametrize(
    ("files", "links", "expected"),
    [
        pytest.param(
            [("etc/inetd.conf", "telnet stream tcp nowait root /usr/sbin/telnetd telnetd\n")],
            set(),
            [("telnetd", "inetd", 1)],
            id="inetd",
        ),
        pytest.param(
            [("etc/inetd.conf", "#telnet stream tcp nowait root /usr/sbin/telnetd telnetd\n")],
            set(),
            [],
            id="inetd-commented",
        ),
        pytest.param(
            [("etc/xinetd.d/tftp", "service tftp\n{\n  disable = no\n  server = /usr/sbin/in.tftpd\n}\n")],
            set(),
            [("tftpd", "xinetd", 1)],
            id="xinetd",
        ),
        pytest.param(
            [("etc/xinetd.d/tftp", "service tftp\n{\n  disable = yes\n  server = /usr/sbin/in.tftpd\n}\n")],
            set(),
            [],
            id="xinetd-disabled",
        ),
        pytest.param(
            [("lib/systemd/system/telnet.service", "[Service]\nExecStart=/usr/sbin/telnetd -F\n")],
            {"telnet.service"},
            [("telnetd", "systemd", 2)],
            id="systemd-enabled",
        ),
        pytest.param(
            [("lib/systemd/system/telnet.service", "[Service]\nExecStart=/usr/sbin/telnetd -F\n")],
            set(),
            [],
            id="systemd-not-enabled",
        ),
        pytest.param(
            [
                (
                    "etc/init.d/telnet",
                    "start_service() {\n procd_open_instance\n"
                    " procd_set_param command /usr/sbin/telnetd -F -l /bin/login\n}\n",
                )
            ],
            {"telnet"},
            [("telnetd", "procd", 3)],
            id="openwrt-procd",
        ),
        pytest.param(
            [("etc/init.d/S50ftp", "#!/bin/sh\nbusybox tcpsvd 0 21 ftpd -w /\n")],
            set(),
            [("ftpd", "init.d", 2)],
            id="busybox-applet",
        ),
        pytest.param(
            [("etc/inittab", "ttyS0::respawn:/sbin/getty -L ttyS0 115200 vt100\n")],
            set(),
            [],
            id="getty-with-login-is-fine",
        ),
        pytest.param(
            [("etc/inittab", "console::askfirst:-/bin/sh\n")],
            set(),
            [("serial-shell", "inittab", 1)],
            id="askfirst-shell",
        ),
    ],
)
def test_boot_services(files: list[tuple[str, str]], links: set[str], expected: list[tuple[str, str, int]]) -> None:
    found = services.find_services([_boot(rel, text) for rel, text in files], links)

    assert [(s.name, s.mechanism, s.line) for s in found] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param('admin_password = "S3cr3tPass"\n', [("admin_password", "password")], id="ini"),
        pytest.param('{"wifi": {"psk": "hunter2hunter2"}}\n', [("psk", "psk")], id="json"),
        pytest.param("<api_key>a8f5f167f44f4964e6c998dee827110c</api_key>\n", [("api_key", "token")], id="xml"),
        pytest.param("password = ${ADMIN_PASSWORD}\n", [], id="variable"),
        pytest.param("password = <your password here>\n", [], id="placeholder"),
        pytest.param("# password = hunter2\n", [], id="comment"),
        pytest.param("password_file = /etc/secret\n", [], id="file-reference"),
        pytest.param("password = example\n", [], id="example"),
        pytest.param('printf "password: %s" "$1"\n', [], id="format-string"),
    ],
)
def test_config_credentials_have_few_false_positives(text: str, expected: list[tuple[str, str]]) -> None:
    found = configcreds.find_credentials("etc/app.conf", "/etc/app.conf", text.encode())

    assert [(c.key, c.kind) for c in found] == expected


def test_config_paths() -> None:
    assert configcreds.is_config_path("etc/app.conf")
    assert configcreds.is_config_path("etc/config/network")
    assert not configcreds.is_config_path("usr/share/doc/app/README.md")
    assert not configcreds.is_config_path("usr/bin/app")


def test_byte_scanner_finds_tokens_in_binaries_and_skips_embedded_runs() -> None:
    scanner = ByteScanner()
    data = b"\x00\x01AKIAQ3EGRDHM2XWJ7TPN\x00" + b"xAKIAQ3EGRDHM2XWJ7TPNy" + b"\x00BusyBox v1.36.1 (2024)\x00"

    matches = scanner.scan(data)

    assert [(m.rule.name, m.start) for m in matches if m.rule.kind == "secret"] == [("aws-access-key-id", 2)]
    assert [(m.rule.name, m.groups) for m in matches if m.rule.kind == "signature"] == [
        ("busybox:version:0", (b"1.36.1",))
    ]


def test_redaction_never_shows_the_whole_value() -> None:
    assert redact("hunter2") == "*******"
    assert redact(b"AKIAQ3EGRDHM2XWJ7TPN") == "AKIA…PN (20 chars)"


@pytest.mark.parametrize(
    ("field", "algorithm"),
    [
        pytest.param("", "empty", id="empty"),
        pytest.param("!", "locked", id="locked"),
        pytest.param("*", "locked", id="star"),
        pytest.param("abJnggxhB/yWI", "des", id="des"),
        pytest.param("$1$salt$hash", "md5crypt", id="md5"),
        pytest.param("$5$salt$hash", "sha256crypt", id="sha256"),
        pytest.param("$6$salt$hash", "sha512crypt", id="sha512"),
        pytest.param("$2b$05$abcdefghijklmnopqrstuv", "bcrypt", id="bcrypt"),
        pytest.param("$y$j9T$salt$hash", "yescrypt", id="yescrypt"),
        pytest.param("{SSHA}xyz", "unknown", id="unknown"),
    ],
)
def test_hash_algorithms(field: str, algorithm: str) -> None:
    assert hash_algorithm(field) == algorithm


def test_cracking_stops_at_its_budget_and_says_so() -> None:
    # Given a sha512crypt hash with many rounds and no time at all
    passwd = PasswdFile("/etc/passwd", "root:x:0:0::/root:/bin/sh\n")
    shadow = PasswdFile("/etc/shadow", "root:$6$rounds=900000$salt$abc:1::::::\n")

    accounts, complete = crack(parse_accounts([passwd], [shadow]), 0.0)

    assert not complete
    assert accounts[0].crack_status is CrackStatus.NOT_TESTED


def test_a_hash_tried_once_is_not_tried_again_in_the_same_process() -> None:
    # Given a default password hashed with many rounds (about 0.1 s a try), on two products' root accounts
    field = crypt_r.crypt("vizxv", "$6$rounds=50000$reusedsalt$")
    assert field is not None
    parsed = parse_accounts([], [PasswdFile("/etc/shadow", f"root:{field}:1::::::\n")])
    first, _ = crack(parsed, 30.0)
    # When the second product (or the next release) is cracked with no time at all
    again, complete = crack(parse_accounts([], [PasswdFile("/etc/shadow", f"root:{field}:1::::::\n")]), 0.0)
    # Then it has the first one's answer instead of "not tested"
    assert first[0].matched_password == again[0].matched_password == "vizxv" and complete
    assert again[0].crack_status is CrackStatus.MATCHED


def test_default_list_has_mirai_and_vendor_defaults() -> None:
    pairs = default_credentials()
    assert ("root", "xc3511") in pairs and ("root", "vizxv") in pairs and ("pi", "raspberry") in pairs
    assert ("root", "") in pairs  # Mirai's "(none)"
    assert "" not in default_passwords()


@pytest.mark.parametrize(
    ("text", "mode"),
    [
        pytest.param("-rwsr-xr-x", 0o104755, id="setuid"),
        pytest.param("drwxrwxrwt", 0o041777, id="sticky"),
        pytest.param("-rwSr--r--", 0o104644, id="setuid-no-exec"),
        pytest.param("lrwxrwxrwx", 0o120777, id="symlink"),
    ],
)
def test_mode_strings(text: str, mode: int) -> None:
    assert parse_mode_string(text) == mode


def test_cpio_newc_headers(tmp_path: Path) -> None:
    def entry(name: str, mode: int, data: bytes = b"") -> bytes:
        fields = [1, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name) + 1, 0]
        head = b"070701" + b"".join(f"{v:08x}".encode() for v in fields) + name.encode() + b"\x00"
        head += b"\x00" * (-len(head) % 4)
        return head + data + b"\x00" * (-len(data) % 4)

    archive = entry("bin/su", 0o104755, b"x") + entry("tmp", 0o041777) + entry("TRAILER!!!", 0)
    path = tmp_path / "a.cpio"
    path.write_bytes(archive)

    assert cpio_metadata(path) == {"bin/su": (0o104755, 0, 0), "tmp": (0o041777, 0, 0)}


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=4096))
def test_untrusted_parsers_never_raise(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.getbasetemp() / "fuzz.bin"
    path.write_bytes(b"070701" + data)
    cpio_metadata(path)
    path.write_bytes(b"\x85\x19\x01\xe0" + data)
    jffs2_metadata(path)
    ByteScanner().scan(data)
    configcreds.find_credentials("etc/x.conf", "/etc/x.conf", data)
    services.find_services([_boot("etc/inittab", data.decode("latin-1"))], set())
    keys.parse_key_file("etc/dropbear/dropbear_rsa_host_key", "/x", data, dt.datetime.now(dt.UTC))
    keys.parse_key_file("etc/ssl/x.der", "/x", data, dt.datetime.now(dt.UTC))
    keys.parse_pem(
        "/x",
        b"-----BEGIN CERTIFICATE-----\n" + data + b"\n-----END CERTIFICATE-----",
        0,
        "pem-certificate",
        dt.datetime.now(dt.UTC),
    )
    parse_accounts([PasswdFile("/etc/passwd", data.decode("latin-1"))], [])


# Regressions for bugs the fuzz suite (tests/fuzz/test_fuzz_firmware.py) found.


def test_nul_in_a_hash_is_unsupported_not_a_crash() -> None:
    parsed = parse_accounts([], [PasswdFile("/etc/shadow", "root:$1$\x00ab:1::::::")])

    accounts, complete = crack(parsed, 1.0)

    assert complete and accounts[0].crack_status is CrackStatus.UNSUPPORTED


def test_negative_cpio_sizes_do_not_loop(tmp_path: Path) -> None:
    header = b"070707" + b"000000" * 2 + b"100644" + b"000000" * 4 + b"0" * 11 + b"-00046" + b"-0000000046"
    path = tmp_path / "c.cpio"
    path.write_bytes(header)

    assert cpio_metadata(path) is None


def test_certificate_with_unknown_signature_oid_is_still_described() -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    ecdsa_sha256 = bytes.fromhex("06082a8648ce3d040302")
    der = cert.public_bytes(serialization.Encoding.DER).replace(ecdsa_sha256, ecdsa_sha256[:-1] + b"\x09")

    found = keys.parse_key_file("etc/cert.der", "/etc/cert.der", der, now)

    assert found is not None and found.kind == "certificate" and found.signature_algorithm == "unknown"


STOP_ONLY = """#!/bin/sh
case "$1" in
  start)
    echo "telnet is off"
    ;;
  stop|force-stop)
    killall telnetd
    start-stop-daemon --stop --exec /usr/sbin/telnetd
    /usr/sbin/telnetd -K
    ;;
esac
"""
START_BRANCH = """#!/bin/sh
DAEMON=/usr/sbin/telnetd
case "$1" in
  start|restart)
    [ -x $DAEMON ] && $DAEMON -l /bin/login
    ;;
  stop) killall telnetd ;;
esac
"""
FUNCTIONS = """#!/bin/sh /etc/rc.common
stop() {
    /usr/sbin/telnetd -l /bin/sh
}
start() {
    grep -q telnetd /etc/inetd.conf || echo telnetd
    start-stop-daemon --start --exec /usr/sbin/utelnetd -- -p 23
}
"""


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param([("etc/init.d/S50telnet", STOP_ONLY)], [], id="stop-branch-starts-nothing"),
        pytest.param([("etc/init.d/S50telnet", START_BRANCH)], [("telnetd", "init.d", 5)], id="start-branch"),
        pytest.param([("etc/init.d/S50telnet", FUNCTIONS)], [("telnetd", "init.d", 7)], id="start-function"),
        pytest.param([("etc/inittab", "::shutdown:/usr/sbin/telnetd -l /bin/sh\n")], [], id="inittab-shutdown"),
        pytest.param(
            [("etc/inittab", "::once:/usr/sbin/telnetd -l /bin/sh\n")], [("telnetd", "inittab", 1)], id="once"
        ),
        pytest.param(
            [("etc/init.d/rcS", "#!/bin/sh\nnohup busybox telnetd -l /bin/login &\n")],
            [("telnetd", "init.d", 2)],
            id="wrappers",
        ),
    ],
)
def test_only_start_paths_start_services(files: list[tuple[str, str]], expected: list[tuple[str, str, int]]) -> None:
    found = services.find_services([_boot(rel, text) for rel, text in files], set())
    assert [(s.name, s.mechanism, s.line) for s in found] == expected


@pytest.mark.slow
@pytest.mark.parametrize(
    ("package", "script", "name", "line"),
    [("vsftpd", "etc/init.d/vsftpd", "ftpd", 48), ("miniupnpd", "etc/init.d/miniupnpd", "upnp-igd", 69)],
)
def test_debian_init_scripts_start_once_and_stop_never(package: str, script: str, name: str, line: int) -> None:
    from tests.evidence.firmware.debs import unpacked

    # Given a real Debian init script (start and stop branches, start-stop-daemon, $DAEMON), linked to start
    text = (unpacked(package) / script).read_text()
    found = services.find_services([_boot(script, text)], {script.rsplit("/", 1)[1]})
    # Then exactly its start line counts
    assert [(s.name, s.line) for s in found] == [(name, line)]
    assert "--start" in found[0].command


@pytest.mark.parametrize(
    ("files", "mode"),
    [
        pytest.param([("etc/miniupnpd.conf", "secure_mode=no\n")], "no", id="conf-no"),
        pytest.param([("etc/miniupnpd.conf", "# secure_mode=yes\next_ifname=eth0\n")], "unset", id="conf-comment"),
        pytest.param([("etc/miniupnpd.conf", "secure_mode=yes\n")], "yes", id="conf-yes"),
        pytest.param([("etc/config/upnpd", "config upnpd config\n\toption secure_mode '1'\n")], "yes", id="uci"),
        pytest.param([], "unknown", id="none"),
    ],
)
def test_upnp_secure_mode_is_read_from_its_configuration(files: list[tuple[str, str]], mode: str) -> None:
    boot = [_boot("etc/init.d/rcS", "#!/bin/sh\n/usr/sbin/miniupnpd -f /etc/miniupnpd.conf\n")]
    boot += [_boot(rel, text) for rel, text in files]
    found = services.find_services(boot, set())
    assert [(s.name, dict(s.settings)["secure_mode"]) for s in found] == [("upnp-igd", mode)]


@pytest.mark.parametrize(
    ("rel", "text", "expected"),
    [
        pytest.param("etc/ssl/openssl.cnf", "secret = $insta::secret # pass:insta\n", [], id="trailing-comment"),
        pytest.param("etc/app.conf", "user = admin # password = hunter22\n", [], id="comment-after-value"),
        pytest.param("etc/app.conf", "psk = abc#defgh\n", [("psk", "psk")], id="hash-inside-value"),
        pytest.param("etc/app.conf", 'password = "a # b c"\n', [], id="quoted-hash-short"),
        pytest.param(
            "www/js/app.js", "const DEFAULT_PASSWORD = 'Adm1n!2020';\n", [("DEFAULT_PASSWORD", "password")], id="js"
        ),
        pytest.param("www/js/app.js", "login({password: this.password});\n", [], id="js-expression"),
        pytest.param("www/js/app.js", "var user = 'x'; // password: 'hunter22'\n", [], id="js-comment"),
        pytest.param("www/api.php", '<?php $db_password = "S3cretDb!"; ?>\n', [("db_password", "password")], id="php"),
        pytest.param("usr/lib/lua/cfg.lua", 'local api_token = "f00dbabe1234"\n', [("api_token", "token")], id="lua"),
        pytest.param("usr/lib/lua/cfg.lua", 'local x = 1 -- password = "hunter22"\n', [], id="lua-comment"),
        pytest.param("www/cfg.json", '{"admin": {"password": "Adm1n!2020"}}\n', [("password", "password")], id="json"),
    ],
)
def test_credentials_by_grammar(rel: str, text: str, expected: list[tuple[str, str]]) -> None:
    found = configcreds.find_credentials(rel, "/" + rel, text.encode())
    assert [(c.key, c.kind) for c in found] == expected


def test_stock_demo_value_is_kept_with_its_source() -> None:
    # Given OpenSSL's stock openssl.cnf line, as Debian ships it
    found = configcreds.find_credentials(
        "etc/ssl/openssl.cnf", "/etc/ssl/openssl.cnf", b"secret = pass:insta # can be used for both\n"
    )
    # Then it is found, and marked as the package's public demo value with its source
    assert [(c.key, c.stock_source is not None) for c in found] == [("secret", True)]
    assert "Insta Demo CA" in (found[0].stock_source or "")
    # and the same value in another file is not stock
    other = configcreds.find_credentials("etc/app.conf", "/etc/app.conf", b"secret = pass:insta\n")
    assert [c.stock_source for c in other] == [None]
