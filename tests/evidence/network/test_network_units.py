"""Pieces of the probe without a server: target safety, parsers of hostile replies, policy, throttle judgement."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cybersafe.errors import InputError, TargetRefused
from cybersafe.evidence.network.credentials import Credential, load_default_credentials, try_default_credentials
from cybersafe.evidence.network.http import find_disclosures, parse_response
from cybersafe.evidence.network.manual import MANUAL_TESTS
from cybersafe.evidence.network.model import CredentialAttempt
from cybersafe.evidence.network.policy import POLICY_FILE, default_policy, load_policy
from cybersafe.evidence.network.probe import WorkAbandoned, in_thread
from cybersafe.evidence.network.scan import classify_banner
from cybersafe.evidence.network.session import ProbeSession, ProbeSettings, RateLimiter, parse_ports, printable
from cybersafe.evidence.network.ssh import parse_audit
from cybersafe.evidence.network.target import resolve_target
from cybersafe.evidence.network.throttle import judge_throttling
from cybersafe.evidence.network.udp import mdns_answer, mdns_query, ssdp_answer, ssdp_location

# --- target: only the host the user names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "named",
    [
        pytest.param("127.0.0.0/30", id="cidr"),
        pytest.param("10.0.0.0/8", id="large-cidr"),
        pytest.param("0.0.0.0", id="unspecified"),
        pytest.param("224.0.0.251", id="multicast"),
        pytest.param("255.255.255.255", id="broadcast"),
        pytest.param("127.0.0.1,127.0.0.2", id="list"),
        pytest.param("127.0.0.*", id="wildcard"),
        pytest.param("", id="empty"),
        pytest.param("::", id="ipv6-unspecified"),
        # IPv6 forms that carry an IPv4 address are judged like that address
        pytest.param("::ffff:0.0.0.0", id="mapped-unspecified"),
        pytest.param("[::ffff:0.0.0.0]", id="mapped-unspecified-brackets"),
        pytest.param("0:0:0:0:0:ffff:0:0", id="mapped-unspecified-hex"),
        pytest.param("::ffff:224.0.0.251", id="mapped-multicast"),
        pytest.param("::ffff:255.255.255.255", id="mapped-broadcast"),
        pytest.param("::ffff:0:0.0.0.0", id="translated-unspecified"),
        pytest.param("64:ff9b::0.0.0.0", id="nat64-unspecified"),
        pytest.param("64:ff9b::e000:fb", id="nat64-multicast"),
        pytest.param("::ffff:0.0.0.0/128", id="mapped-unspecified-as-network"),
        pytest.param("::ffff:10.0.0.0/120", id="mapped-range"),
    ],
)
def test_target_not_one_host_is_refused(named: str) -> None:
    with pytest.raises(TargetRefused):
        resolve_target(named)


def test_ipv4_mapped_addresses_are_probed_as_their_ipv4_host() -> None:
    assert resolve_target("::ffff:10.0.0.1").addresses == ("10.0.0.1",)
    assert resolve_target("[::ffff:127.0.0.1]").addresses == ("127.0.0.1",)
    assert resolve_target("::ffff:7f00:1").addresses == ("127.0.0.1",)
    assert "carries 0.0.0.0" in _refusal("::ffff:0.0.0.0")
    # a range of mapped addresses with the flag: the unspecified one is left out, the rest are IPv4 hosts
    assert resolve_target("::ffff:0.0.0.0/126", allow_multiple=True).addresses == ("0.0.0.1", "0.0.0.2", "0.0.0.3")


def _refusal(named: str) -> str:
    with pytest.raises(TargetRefused) as info:
        resolve_target(named)
    return str(info.value)


def test_explicit_flag_accepts_a_small_range_but_never_a_huge_one() -> None:
    assert resolve_target("127.0.0.0/30", allow_multiple=True).addresses == ("127.0.0.1", "127.0.0.2")
    with pytest.raises(TargetRefused, match="at most 256"):
        resolve_target("10.0.0.0/16", allow_multiple=True)


def test_single_address_forms_are_accepted() -> None:
    assert resolve_target("127.0.0.1").addresses == ("127.0.0.1",)
    assert resolve_target("127.0.0.1/32").addresses == ("127.0.0.1",)
    assert resolve_target("[::1]").addresses == ("::1",)


def test_name_with_several_addresses_is_refused_unless_flagged(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a name that resolves to two addresses (no DNS involved: getaddrinfo is replaced)
    def fake(name: str, *args: Any, **kwargs: Any) -> list[Any]:
        assert name == "camera.test"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 0)) for a in ("127.0.0.5", "127.0.0.6")]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    # When / Then: refused by default, both addresses with the flag
    with pytest.raises(TargetRefused, match="resolves to 2 addresses"):
        resolve_target("camera.test")
    assert resolve_target("camera.test", allow_multiple=True).addresses == ("127.0.0.5", "127.0.0.6")


def test_unresolvable_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake(*args: Any, **kwargs: Any) -> list[Any]:
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    with pytest.raises(TargetRefused, match="does not resolve"):
        resolve_target("nowhere.test")


def test_suite_guard_refuses_packets_beyond_loopback() -> None:
    # The repository-wide fixture (tests/conftest.py) must be active for the network tests.
    with socket.socket() as sock, pytest.raises(PermissionError):
        sock.connect(("192.0.2.1", 80))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock, pytest.raises(PermissionError):
        sock.sendto(b"x", ("192.0.2.1", 1900))


# --- ports, banners, limits ---------------------------------------------------------------------------------------


def test_parse_ports() -> None:
    assert parse_ports("22, 80,8000-8002,22") == (22, 80, 8000, 8001, 8002)
    for bad in ("0", "70000", "90-80", "http"):
        with pytest.raises(ValueError):
            parse_ports(bad)


@pytest.mark.parametrize(
    ("port", "banner", "service"),
    [
        pytest.param(2222, b"SSH-2.0-dropbear_2022.83\r\n", "ssh", id="ssh"),
        pytest.param(9999, b"\xff\xfd\x18\xff\xfd\x20", "telnet", id="telnet-iac"),
        pytest.param(9999, b"\r\nrouter login: ", "telnet", id="telnet-prompt"),
        pytest.param(2121, b"220 ProFTPD Server ready\r\n", "ftp", id="ftp"),
        pytest.param(25, b"220 mail ESMTP Postfix\r\n", "smtp", id="smtp"),
        pytest.param(110, b"+OK POP3 ready\r\n", "pop3", id="pop3"),
        pytest.param(5555, b"\x00\x01garbage", "adb", id="port-name"),
    ],
)
def test_classify_banner(port: int, banner: bytes, service: str) -> None:
    assert classify_banner(port, banner) == service


def test_printable_escapes_and_truncates() -> None:
    assert printable(b"ok\r\n\x00\xff") == "ok\\r\\n\\x00\\xff"
    assert printable(b"a" * 300, 10) == "a" * 10 + "..."


def test_rate_limiter_spaces_starts() -> None:
    # Given a limit of 50 starts per second
    async def starts() -> float:
        limiter = RateLimiter(50)
        began = time.monotonic()
        await asyncio.gather(*(limiter.wait() for _ in range(11)))
        return time.monotonic() - began

    # Then 11 starts take at least 10 intervals of 20 ms
    assert asyncio.run(starts()) >= 0.19


# --- UDP and HTTP parsers: hostile input ----------------------------------------------------------------------------


def test_ssdp_answer_and_location_on_the_probed_host_only() -> None:
    reply = b"HTTP/1.1 200 OK\r\nLOCATION: http://127.0.0.1:8080/desc.xml\r\nSERVER: Linux UPnP/1.0\r\n\r\n"
    answer = ssdp_answer(reply)
    assert answer is not None and answer.protocol == "ssdp"
    assert ssdp_location(answer, "127.0.0.1") == (8080, "/desc.xml", False)
    elsewhere = ssdp_answer(reply.replace(b"127.0.0.1", b"192.0.2.9"))
    assert elsewhere is not None and ssdp_location(elsewhere, "127.0.0.1") is None  # never follows to another host
    assert ssdp_answer(b"garbage") is None


def test_mdns_answer_parses_ptr_and_txt_and_rejects_queries() -> None:
    from _network_servers import mdns_reply

    reply = mdns_reply(mdns_query())
    assert reply is not None
    answer = mdns_answer(reply)
    assert answer is not None and answer.protocol == "mdns"
    assert ("TXT", "camera._http._tcp.local model=test-camera fw=1.0.3") in answer.fields
    assert mdns_answer(mdns_query()) is None  # a query is not an answer


def test_mdns_compression_loop_is_refused() -> None:
    header = bytes.fromhex("0000840000010000" + "00000000")
    looping = header + b"\xc0\x0c"  # a name pointing at itself
    assert mdns_answer(looping) is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_udp_parsers_never_crash(data: bytes) -> None:
    mdns_answer(data)
    ssdp_answer(data)
    mdns_answer(bytes.fromhex("000084000000000100000000") + data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_http_parser_raises_only_value_error(data: bytes) -> None:
    try:
        response = parse_response(b"HTTP/1.1 200 OK\r\n" + data)
    except ValueError:
        return
    assert response.status == 200
    find_disclosures(80, "http", "/", response.body)


@pytest.mark.parametrize(
    ("body", "marker"),
    [
        pytest.param(b"wifi_psk=secret123\n", "password-field", id="ini"),
        pytest.param(b'{"adminPassword": "hunter22"}', "password-field", id="json"),
        pytest.param(b"<Password>abc12</Password>", "password-field", id="xml"),
        pytest.param(b"<serialNumber>SN123</serialNumber>", "serial-number", id="upnp-serial"),
        pytest.param(b"root:x:0:0:root:/root:/bin/sh\n", "passwd-file", id="passwd"),
        pytest.param(b"-----BEGIN RSA PRIVATE KEY-----\nMIIB", "private-key", id="key"),
    ],
)
def test_disclosure_markers_hit_and_redact(body: bytes, marker: str) -> None:
    found = find_disclosures(80, "http", "/x", body)
    assert [d.marker for d in found] == [marker]
    assert "secret123" not in found[0].excerpt and "hunter22" not in found[0].excerpt


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'<input type="password" name="pwd">', id="login-form"),
        pytest.param(b"Password: (hidden)", id="prose"),
        pytest.param(b'var pwd = document.getElementById("x");', id="script"),
    ],
)
def test_disclosure_markers_ignore_harmless_pages(body: bytes) -> None:
    assert find_disclosures(80, "http", "/", body) == []


# --- credentials list, throttle judgement ------------------------------------------------------------------------------


def test_shared_credentials_list_loads_in_order() -> None:
    creds = load_default_credentials()
    assert len(creds) >= 60
    assert (creds[0].username, creds[0].password) == ("root", "xc3511")  # Mirai's first entry
    assert any(c.password == "" for c in creds)  # "user:" lines mean an empty password


def test_credentials_file_of_the_user(tmp_path: Path) -> None:
    path = tmp_path / "creds.txt"
    path.write_text("# comment\nadmin:admin\nbroken-line\nroot:\nadmin:admin\n", encoding="utf-8")
    assert [(c.username, c.password) for c in load_default_credentials(path)] == [("admin", "admin"), ("root", "")]


def _attempts(outcomes: list[str], latencies: list[float]) -> list[CredentialAttempt]:
    return [
        CredentialAttempt("admin", f"x{i}", o, t, f"reply {i}")
        for i, (o, t) in enumerate(zip(outcomes, latencies, strict=True))
    ]


@pytest.mark.parametrize(
    ("outcomes", "latencies", "expected"),
    [
        pytest.param(["rejected"] * 3 + ["locked"], [0.05] * 4, "locked_out", id="locked"),
        pytest.param(["rejected"] * 8, [0.05, 0.05, 0.05, 0.5, 1.0, 2.0, 3.0, 4.0], "throttled", id="slowing"),
        pytest.param(["rejected"] * 8, [0.05] * 8, "not_throttled", id="constant"),
        pytest.param(["error"] * 5 + ["rejected"], [3.0] * 6, "undetermined", id="timeouts"),
        pytest.param(["rejected", "accepted"], [0.05, 0.05], "undetermined", id="wrong-password-accepted"),
    ],
)
def test_judge_throttling(outcomes: list[str], latencies: list[float], expected: str) -> None:
    observation = judge_throttling(23, "telnet", _attempts(outcomes, latencies))
    assert observation.outcome == expected
    if expected == "locked_out":
        assert observation.evidence.startswith("attempt 4 refused after 3 failures")


@pytest.mark.parametrize(
    ("latencies", "baseline", "expected", "delay"),
    [
        pytest.param([3.05, 3.02, 3.1, 3.04], 0.02, "throttled", 3.02, id="fixed-3s"),
        pytest.param([1.2, 1.25, 1.22], 0.1, "throttled", 1.12, id="fixed-1.1s"),
        pytest.param([0.6, 0.62, 0.61, 0.6], 0.05, "not_throttled", None, id="too-short"),
        pytest.param([3.0, 3.0, 0.1, 3.0], 0.02, "not_throttled", None, id="one-fast-failure"),
        pytest.param([2.1, 2.2, 2.0], 1.9, "not_throttled", None, id="slow-device-not-a-delay"),
        pytest.param([3.0, 3.0, 3.0], None, "undetermined", None, id="no-baseline"),
    ],
)
def test_fixed_delay_is_throttling_with_its_length(
    latencies: list[float], baseline: float | None, expected: str, delay: float | None
) -> None:
    # Given failed logins that each took about as long, and the service's reply time without a credential
    observation = judge_throttling(23, "telnet", _attempts(["rejected"] * len(latencies), latencies), baseline)
    # Then a delay of a second or more over the baseline on every failure is throttling, with its length
    assert observation.outcome == expected, observation.evidence
    assert observation.fixed_delay_s == delay
    if delay is not None:
        assert f"fixed delay of about {delay:.1f} s" in observation.evidence


# --- policy and SSH audit parsing -----------------------------------------------------------------------------------


def test_policy_is_versioned() -> None:
    policy = default_policy()
    assert policy.label == "cybersafe-network-policy@2026.1"
    assert policy.spec.tls.allowed_protocols == ["TLSv1.2", "TLSv1.3"]


def test_bad_policy_file_names_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    text = POLICY_FILE.read_text(encoding="utf-8")
    path.write_text(
        text.replace("require_forward_secrecy: true", "require_forward_secrecy: true\n  surprise: 1"), encoding="utf-8"
    )
    with pytest.raises(InputError) as info:
        load_policy(path)
    assert str(path) in str(info.value) and "tls.surprise" in str(info.value) and "unknown field" in str(info.value)


def test_parse_audit_keeps_notes_and_tolerates_junk() -> None:
    data = {
        "banner": {"raw": "SSH-2.0-OpenSSH_9.2p1"},
        "kex": [
            {"algorithm": "diffie-hellman-group1-sha1", "notes": {"fail": ["using small 1024-bit modulus"]}},
            "junk",
            {"x": 1},
        ],
        "key": [{"algorithm": "ssh-rsa", "keysize": 1024, "notes": None}],
        "enc": None,
    }
    result = parse_audit(22, data, ("publickey",), "Permission denied (publickey)")
    assert [(a.kind, a.name, a.key_size) for a in result.algorithms] == [
        ("kex", "diffie-hellman-group1-sha1", None),
        ("key", "ssh-rsa", 1024),
    ]
    assert result.algorithms[0].audit_fail == ("using small 1024-bit modulus",)


def test_manual_tests_name_ts_103_701_cases() -> None:
    ids = [t.test_case for t in MANUAL_TESTS]
    assert len(ids) == len(set(ids)) >= 15
    assert all(t.test_case.startswith(t.provision + "-") for t in MANUAL_TESTS)


def test_blocking_work_that_hangs_is_abandoned_within_its_timeout() -> None:
    # Given blocking work (like a TLS scan) that would take far longer than allowed
    async def main() -> float:
        began = time.monotonic()
        with pytest.raises(WorkAbandoned, match=r"did not finish within 0\.2 s"):
            await in_thread(lambda: time.sleep(3), 0.2)
        return time.monotonic() - began

    # Then the waiting coroutine goes on after the timeout, and the work's own errors still arrive as they are
    assert asyncio.run(main()) < 1.5

    def broken() -> None:
        raise TimeoutError("the library's own timeout")

    with pytest.raises(TimeoutError, match="library's own"):
        asyncio.run(in_thread(broken, 5))


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_ipv4_mapped_form_is_judged_like_its_ipv4_address(value: int) -> None:
    # For every IPv4 address, its IPv4-mapped IPv6 form is refused or probed exactly as the address itself.
    ipv4 = str(ipaddress.IPv4Address(value))

    def outcome(named: str) -> tuple[str, ...] | str:
        try:
            return resolve_target(named).addresses
        except TargetRefused:
            return "refused"

    assert outcome(f"::ffff:{ipv4}") == outcome(ipv4)


# --- how much of the default-credential list is tried ----------------------------------------------------------


def _fake_login(delay: float = 0.0, accept: tuple[str, str] | None = None) -> Any:
    async def login(session: ProbeSession, port: int, cred: Credential) -> tuple[str, str]:
        await asyncio.sleep(delay)
        return ("accepted", "200 OK") if (cred.username, cred.password) == accept else ("rejected", "401")

    return login


def test_by_default_the_whole_list_is_tried_and_the_seventh_entry_is_found() -> None:
    # Given the default settings (no attempt budget) and a service that accepts the list's 7th credential
    creds = load_default_credentials()
    seventh = (creds[6].username, creds[6].password)
    session = ProbeSession("127.0.0.1", ProbeSettings())
    # When the default credentials are tried
    test = asyncio.run(try_default_credentials(session, _fake_login(accept=seventh), 80, "http-basic", creds))
    # Then the probe went past the first five and found it
    assert [(a.username, a.password) for a in test.accepted] == [seventh]
    assert len(test.attempts) == 7 and test.budget == len(creds)
    # and a service that accepts none has every entry tried, with no note
    test = asyncio.run(try_default_credentials(session, _fake_login(), 80, "http-basic", creds))
    assert len(test.attempts) == test.list_size == len(creds) and test.note is None


def test_a_budget_or_a_slow_service_stops_the_list_and_says_why() -> None:
    creds = load_default_credentials()
    # Given an attempt budget of 5
    session = ProbeSession("127.0.0.1", ProbeSettings(credentials_budget=5))
    test = asyncio.run(try_default_credentials(session, _fake_login(), 80, "http-basic", creds))
    # Then five were tried and the note names the budget
    assert len(test.attempts) == 5
    assert test.note == "stopped at the attempt budget of 5 per service (credentials_budget)"
    # Given a service that answers each failed login 50 ms late and a time allowance of 0.2 s per service
    session = ProbeSession("127.0.0.1", ProbeSettings(credentials_time_s=0.2))
    test = asyncio.run(try_default_credentials(session, _fake_login(delay=0.05), 80, "http-basic", creds))
    # Then the list stops before the allowance is spent, and the note says how slow and how many were left
    assert len(test.attempts) == 3
    assert test.note is not None and test.note.startswith("stopped: failed logins are answered in about 0.")
    assert f"the other {len(creds) - len(test.attempts)} would take past the 0.2 s" in test.note


def test_the_dossier_sets_the_credential_budget_and_time_and_leaves_the_whole_list_by_default() -> None:
    from tests.support import dossier

    from cybersafe.evidence.network.collector import settings_for

    # Given a device artefact without and with credential settings
    bare = dossier(artefacts={"device": {"host": "127.0.0.1"}})
    tuned = dossier(artefacts={"device": {"host": "127.0.0.1", "credentials_budget": 20, "credentials_time_s": 90}})
    # When the probe settings are made from them
    # Then the default is the whole list within 60 s per service, and the dossier's values replace both
    assert (settings_for(bare).credentials_budget, settings_for(bare).credentials_time_s) == (None, 60.0)
    assert (settings_for(tuned).credentials_budget, settings_for(tuned).credentials_time_s) == (20, 90.0)
