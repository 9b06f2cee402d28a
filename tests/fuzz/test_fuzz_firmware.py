"""Fuzz the firmware text and key parsers: files inside a hostile image, so random bytes must never raise.

Covered: passwd/shadow (``accounts.parse_accounts`` + ``crack``), boot services (inittab, rc scripts, systemd
units, inetd, xinetd), package databases (dpkg, opkg, apk) and os-release, config-credential scanning, PEM
blocks, DER keys and certificates, dropbear host keys, the byte scanner, cpio/tar headers and mode strings.
"""

from __future__ import annotations

import datetime as dt
import io
import tarfile
import tempfile
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from fuzz_support import clean_call, fuzz, mutated_bytes, mutated_text, scratch_file, time_limit
from hypothesis import given
from hypothesis import strategies as st
from tests.support import NOW

from cybersafe.evidence.firmware import accounts, components, configcreds, keys, metadata, services
from cybersafe.evidence.firmware.packagedb import PackageDatabases
from cybersafe.evidence.firmware.patterns import ByteScanner, redact

PACKAGE_DB_FILES = [
    "var/lib/dpkg/status", "usr/lib/opkg/status", "lib/apk/db/installed", "var/lib/dpkg/info/busybox.list",
    "var/lib/dpkg/status.d/busybox", "usr/lib/opkg/info/busybox.control",
]  # fmt: skip
NOTHING: tuple[type[BaseException], ...] = ()  # these parsers may raise nothing at all

# bytes decoded the way scan.py reads text files
texts = st.binary(max_size=400).map(lambda b: b.decode("utf-8", "replace"))
lines_text = st.lists(
    st.one_of(
        st.text(max_size=60),
        st.lists(st.text(alphabet=st.characters(blacklist_characters=":\n"), max_size=12), max_size=9).map(":".join),
    ),
    max_size=8,
).map("\n".join)

PASSWD = "root:x:0:0:root:/root:/bin/sh\nadmin:$1$abc$XXXXXXXXXXXXXXXXXXXXXX:1000:1000::/home/admin:/bin/ash\n"
SHADOW = "root:$6$salt$hash:19000:0:99999:7:::\nuser::19000::::::\nnobody:*:1::::::\nd:abcdefghijklm:1::::::\n"
INITTAB = (
    "::sysinit:/etc/init.d/rcS\nttyS0::respawn:/bin/sh\n::respawn:/usr/sbin/telnetd -F\nconsole::askfirst:-/bin/ash\n"
)
RCS = "#!/bin/sh\nmount -a\n/usr/sbin/telnetd -l /bin/login &\nbusybox httpd -p 80\nstart-stop-daemon -S -x dropbear\n"
UNIT = "[Unit]\nDescription=x\n[Service]\nExecStart=-/usr/sbin/in.telnetd -debug\nExecStartPre=/bin/true\n"
INETD = "telnet stream tcp nowait root /usr/sbin/telnetd telnetd\nftp stream tcp nowait root /usr/sbin/ftpd ftpd -w\n"
XINETD = "service telnet\n{\n  disable = no\n  server = /usr/sbin/in.telnetd\n}\nservice tftp\n{\n disable = yes\n}\n"
PROCD = "start_service() {\n  procd_open_instance\n  procd_set_param command /usr/sbin/telnetd -F\n}\n"
DPKG = "Package: busybox\nStatus: install ok installed\nVersion: 1:1.36.1-1\nArchitecture: armhf\n\nPackage: x\nVersion: 2\n"
OPKG = "Package: dropbear\nVersion: 2022.83-1\nStatus: install user installed\nArchitecture: mipsel_24kc\n"
APK = "C:Q1abc=\nP:busybox\nV:1.36.1-r5\nA:x86_64\n\nP:musl\nV:1.2.4-r2\n"
CONFIG = (
    'admin_password = "S3cretPass"\n<password>hunter22</password>\n{"api_key": "abcd1234efgh"}\nwpa_psk=mywifipass\n'
)

BOOT_FILES = [
    ("etc/inittab", INITTAB),
    ("etc/init.d/rcS", RCS),
    ("etc/init.d/S50telnet", RCS),
    ("etc/rc.d/S10boot", PROCD),
    ("etc/systemd/system/multi-user.target.wants/telnet.service", UNIT),
    ("lib/systemd/system/telnet.socket", UNIT),
    ("etc/inetd.conf", INETD),
    ("etc/xinetd.d/telnet", XINETD),
    ("etc/xinetd.conf", XINETD),
]


@fuzz(150)
@given(lines_text, lines_text)
def test_accounts_random_lines(passwd: str, shadow: str) -> None:
    parsed = accounts.parse_accounts(
        [accounts.PasswdFile("etc/passwd", passwd)], [accounts.PasswdFile("etc/shadow", shadow)]
    )
    clean_call(lambda: accounts.crack(parsed, 0.005), NOTHING)


@fuzz(150)
@given(mutated_text(PASSWD), mutated_text(SHADOW))
def test_accounts_mutated(passwd: str, shadow: str) -> None:
    parsed = accounts.parse_accounts(
        [accounts.PasswdFile("etc/passwd", passwd)], [accounts.PasswdFile("etc/shadow", shadow)]
    )
    clean_call(lambda: accounts.crack(parsed, 0.005), NOTHING)


@fuzz(150)
@given(st.sampled_from(["", "$1$", "$5$", "$6$", "$y$", "$2b$", "$2a$10$"]), st.text(max_size=40))
def test_crack_any_hash_field(prefix: str, rest: str) -> None:
    # Given a shadow entry whose hash field is any text behind a known prefix (what the crack loop feeds crypt)
    parsed = accounts.parse_accounts([], [accounts.PasswdFile("etc/shadow", f"root:{prefix}{rest}:1::::::")])
    clean_call(lambda: accounts.crack(parsed, 0.005), NOTHING)


@fuzz(200)
@given(st.sampled_from([rel for rel, _ in BOOT_FILES]), texts, st.sets(st.text(max_size=10), max_size=3))
def test_services_random(rel: str, text: str, links: set[str]) -> None:
    services.find_services([services.BootFile(rel, rel, text)], links)


@fuzz(200)
@given(st.sampled_from(BOOT_FILES).flatmap(lambda f: st.tuples(st.just(f[0]), mutated_text(f[1], max_mutations=5))))
def test_services_mutated(item: tuple[str, str]) -> None:
    rel, text = item
    services.find_services([services.BootFile(rel, rel, text)], {"telnet.service"})


@fuzz(200)
@given(
    st.sampled_from(PACKAGE_DB_FILES),
    st.one_of(texts, st.sampled_from([DPKG, OPKG, APK]).flatmap(lambda t: mutated_text(t, max_mutations=5))),
    st.one_of(st.none(), st.text(max_size=12)),
)
def test_package_databases(rel: str, text: str, distro: str | None) -> None:
    def read() -> None:
        databases = PackageDatabases(distro)
        databases.add_data(rel, "/" + rel, text.encode("utf-8", "surrogatepass"))
        databases.components()

    clean_call(read, NOTHING)


@fuzz(100)
@given(texts)
def test_os_release(text: str) -> None:
    components.distro_from_os_release(text)


@fuzz(200)
@given(
    st.sampled_from(["etc/config", "www/cgi-bin/x.sh", "etc/wpa_supplicant.conf", "opt/app/settings.json"]),
    st.one_of(st.binary(max_size=400), mutated_bytes(CONFIG.encode(), max_mutations=5)),
)
def test_config_credentials(rel: str, data: bytes) -> None:
    for found in configcreds.find_credentials(rel, rel, data):
        assert found.line >= 1


@fuzz(100)
@given(st.text(max_size=60))
def test_config_path_any_text(rel: str) -> None:
    configcreds.is_config_path(rel)


# --- keys ------------------------------------------------------------------------------------------------


def _cert(key: object) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "device.example")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())  # type: ignore[attr-defined]
        .serial_number(7)
        .not_valid_before(dt.datetime(2020, 1, 1))
        .not_valid_after(dt.datetime(2030, 1, 1))
    )
    return builder.sign(key, None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256())  # type: ignore[arg-type]


_EC = ec.generate_private_key(ec.SECP256R1())
_RSA = rsa.generate_private_key(public_exponent=65537, key_size=1024)
_ED = ed25519.Ed25519PrivateKey.generate()
PEMS = {
    "pem-certificate": _cert(_EC).public_bytes(serialization.Encoding.PEM),
    "pem-public-key": _RSA.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ),
    "pem-private-key": _RSA.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ),
    "pem-openssh-key": _ED.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    ),
}
DERS = [
    _cert(_EC).public_bytes(serialization.Encoding.DER),
    _cert(_ED).public_bytes(serialization.Encoding.DER),
    _EC.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
]
DROPBEAR = b"\x00\x00\x00\x07ssh-rsa\x00\x00\x00\x03\x01\x00\x01\x00\x00\x00\x81\x00" + b"\xc3" * 128


@pytest.mark.parametrize("label", sorted(PEMS))
def test_pem_seeds_parse(label: str) -> None:
    found = keys.parse_pem("x", PEMS[label], 0, label, NOW)
    assert found is not None


@fuzz(300)
@given(st.sampled_from(sorted(PEMS)).flatmap(lambda k: st.tuples(st.just(k), mutated_bytes(PEMS[k], max_mutations=3))))
def test_pem_mutated(item: tuple[str, bytes]) -> None:
    label, data = item
    clean_call(lambda: keys.parse_pem("x", data, 0, label, NOW), NOTHING)


@fuzz(100)
@given(st.sampled_from(sorted(PEMS)), st.binary(max_size=300))
def test_pem_random_body(label: str, body: bytes) -> None:
    data = b"-----BEGIN X-----\n" + body + b"\n-----END X-----\n"
    clean_call(lambda: keys.parse_pem("x", data, 0, label, NOW), NOTHING)


@fuzz(300)
@given(
    st.sampled_from(["fw/cert.der", "fw/key.key", "etc/dropbear/dropbear_rsa_host_key"]),
    st.one_of(st.binary(max_size=300), st.sampled_from([*DERS, DROPBEAR]).flatmap(mutated_bytes)),
)
def test_key_files(rel: str, data: bytes) -> None:
    clean_call(lambda: keys.parse_key_file(rel, rel, data, NOW), NOTHING)


# --- byte scanner, archive headers ---------------------------------------------------------------------

_SCANNER = ByteScanner()


@fuzz(150)
@given(st.one_of(st.binary(max_size=2000), mutated_bytes(CONFIG.encode() + PEMS["pem-private-key"])))
def test_byte_scanner(data: bytes) -> None:
    for match in _SCANNER.scan(data):
        assert 0 <= match.start <= match.end <= len(data)
        redact(match.text)


def _newc(name: str, body: bytes, mode: int = 0o100644) -> bytes:
    fields = [1, mode, 0, 0, 1, 0, len(body), 0, 0, 0, 0, len(name) + 1, 0]
    head = b"070701" + b"".join(b"%08X" % f for f in fields)
    out = head + name.encode() + b"\x00"
    out += b"\x00" * (-len(out) % 4) + body
    return out + b"\x00" * (-len(out) % 4)


CPIO = _newc("bin/busybox", b"\x7fELF", 0o104755) + _newc("etc/passwd", PASSWD.encode()) + _newc("TRAILER!!!", b"")


def _tar() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in (("etc/passwd", PASSWD.encode()), ("bin/sh", b"#!")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o4755
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_cpio_seed_parses(tmp_path: Path) -> None:
    (tmp_path / "c.cpio").write_bytes(CPIO)
    assert metadata.cpio_metadata(tmp_path / "c.cpio") == {
        "bin/busybox": (0o104755, 0, 0),
        "etc/passwd": (0o100644, 0, 0),
    }


@fuzz(200)
@given(st.one_of(mutated_bytes(CPIO, max_mutations=3), st.binary(max_size=300).map(lambda b: b"070707" + b)))
def test_cpio_headers(data: bytes) -> None:
    with scratch_file("chunk.cpio", data) as path, time_limit(2):
        clean_call(lambda: metadata.cpio_metadata(path), NOTHING)


@fuzz(100)
@given(st.one_of(st.just(None), st.binary(max_size=1)).flatmap(lambda _: mutated_bytes(_tar(), max_mutations=3)))
def test_tar_headers(data: bytes) -> None:
    with scratch_file("chunk.tar", data) as path:
        clean_call(lambda: metadata.tar_metadata(path), NOTHING)


@fuzz(200)
@given(st.text(alphabet="-dlcbpsrwxSTt?", min_size=10, max_size=10))
def test_mode_strings(text: str) -> None:
    assert 0 <= metadata.parse_mode_string(text) <= 0o177777


# --- regressions: bugs this fuzzing found, fixed in src while it was written ------------------------------


def test_regression_crypt_nul() -> None:
    # A NUL in a shadow hash field used to make accounts.crack raise ValueError (crypt)
    parsed = accounts.parse_accounts([], [accounts.PasswdFile("etc/shadow", "root:$1$\x00ab:1::::::")])
    cracked, _complete = accounts.crack(parsed, 1.0)
    assert [a.name for a in cracked] == ["root"]
    assert cracked[0].matched_password is None


def test_regression_der_unknown_sig_alg() -> None:
    # A DER certificate with an unknown signature OID used to make keys.parse_key_file raise UnsupportedAlgorithm
    der = DERS[0]
    ecdsa_sha256 = bytes.fromhex("06082a8648ce3d040302")
    assert ecdsa_sha256 in der
    keys.parse_key_file("fw/cert.der", "fw/cert.der", der.replace(ecdsa_sha256, ecdsa_sha256[:-1] + b"\x09"), NOW)


def test_regression_cpio_negative_size() -> None:
    # Negative odc sizes ('-00046') used to make metadata.cpio_metadata loop forever
    # odc header: magic, dev, ino, mode, uid, gid, nlink, rdev, mtime(11), namesize(6), filesize(11)
    header = b"070707" + b"000000" * 2 + b"100644" + b"000000" * 4 + b"0" * 11 + b"-00046" + b"-0000000046"
    assert len(header) == 76
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.cpio"
        path.write_bytes(header)
        with time_limit(3):
            metadata.cpio_metadata(path)
