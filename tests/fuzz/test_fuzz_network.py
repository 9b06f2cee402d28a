"""Fuzz the pure parsers of what a probed device sends back (``cybersafe.evidence.network``).

A device under test is hostile input: HTTP responses, banners, SSDP and mDNS answers, telnet streams and
ssh-audit's report of the server must never raise out of the parser (``parse_response`` may raise
``ValueError``: its callers catch exactly that), and every text shown to the user is one line.
"""

from __future__ import annotations

import struct
from typing import Any

import pytest
from fuzz_support import clean_call, fuzz, json_values, mutated, mutated_bytes
from hypothesis import given
from hypothesis import strategies as st

from cybersafe.evidence.network.credentials import _judge_telnet
from cybersafe.evidence.network.http import _same_host_path, find_disclosures, observe, parse_response
from cybersafe.evidence.network.scan import classify_banner
from cybersafe.evidence.network.session import parse_ports, printable
from cybersafe.evidence.network.ssh import parse_audit
from cybersafe.evidence.network.telnet import TelnetClient
from cybersafe.evidence.network.udp import mdns_answer, mdns_query, ssdp_answer, ssdp_location

HTTP = (
    b"HTTP/1.1 302 Found\r\nServer: lighttpd/1.4\r\nLocation: http://127.0.0.1:8080/login\r\n"
    b'WWW-Authenticate: Basic realm="cam"\r\n\r\n<html><title>Cam</title><input type="password" name=p>'
    b"password=admin123 -----BEGIN RSA PRIVATE KEY-----</html>"
)
SSDP = (
    b"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nST: upnp:rootdevice\r\n"
    b"LOCATION: http://127.0.0.1:49152/desc.xml\r\nSERVER: Linux/3.10 UPnP/1.0\r\n\r\n"
)
# a DNS response: one PTR, one TXT, one A, one SRV record, with name compression
MDNS = (
    struct.pack("!HHHHHH", 0, 0x8400, 0, 4, 0, 0)
    + b"\x05_http\x04_tcp\x05local\x00"
    + struct.pack("!HHIH", 12, 1, 120, 6)
    + b"\x03cam\xc0\x0c"
    + b"\xc0\x0c"
    + struct.pack("!HHIH", 16, 1, 120, 8)
    + b"\x07path=/x"
    + b"\xc0\x0c"
    + struct.pack("!HHIH", 1, 1, 120, 4)
    + b"\x7f\x00\x00\x01"
    + b"\xc0\x0c"
    + struct.pack("!HHIH", 33, 1, 120, 8)
    + b"\x00\x00\x00\x00\x00\x50\xc0\x0c"
)
AUDIT: dict[str, Any] = {
    "banner": {"raw": "SSH-2.0-dropbear_2019.78"},
    "kex": [{"algorithm": "diffie-hellman-group1-sha1", "notes": {"fail": ["weak"], "warn": []}}],
    "key": [{"algorithm": "ssh-rsa", "keysize": 1024, "notes": {"warn": ["small"]}}],
    "enc": [{"algorithm": "aes128-ctr", "notes": {}}],
    "mac": [{"algorithm": "hmac-sha1", "notes": {"warn": ["sha1"]}}],
}
ADDRESS = "127.0.0.1"


def test_seeds_parse() -> None:
    response = parse_response(HTTP)
    assert response.status == 302
    assert observe(8080, False, "/", response).login_form
    assert find_disclosures(8080, "http", "/", response.body)
    answer = ssdp_answer(SSDP)
    assert answer is not None
    assert ssdp_location(answer, ADDRESS) == (49152, "/desc.xml", False)
    parsed = mdns_answer(MDNS)
    assert parsed is not None
    assert len(parsed.fields) == 4
    assert mdns_answer(mdns_query()) is None  # a query is not a response
    assert len(parse_audit(22, AUDIT, None, None).algorithms) == 4


@fuzz(300)
@given(st.one_of(st.binary(max_size=400), mutated_bytes(HTTP, max_mutations=5)))
def test_http_response(data: bytes) -> None:
    response = clean_call(lambda: parse_response(data), (ValueError,), one_line=False)
    if response is None:
        return
    assert "\n" not in response.status_line
    seen = observe(80, False, "/", response)
    for text in (seen.status_line, seen.login_form_evidence or "", seen.title or ""):
        assert "\n" not in text and "\r" not in text
    find_disclosures(80, "http", "/", response.body)
    location = response.header("Location")
    if location:
        clean_call(lambda: _same_host_path(location, ADDRESS, 80), ())


@fuzz(200)
@given(st.text(max_size=60))
def test_redirect_location_any_text(location: str) -> None:
    path = clean_call(lambda: _same_host_path(location, ADDRESS, 80), ())
    assert path is None or path.startswith("/")


@fuzz(200)
@given(st.integers(0, 65535), st.binary(max_size=200))
def test_banners(port: int, banner: bytes) -> None:
    assert classify_banner(port, banner)
    text = printable(banner)
    assert "\n" not in text and "\r" not in text
    assert text.isascii()


@fuzz(300)
@given(st.one_of(st.binary(max_size=300), mutated_bytes(SSDP, max_mutations=5)))
def test_ssdp(data: bytes) -> None:
    answer = ssdp_answer(data)
    if answer is not None:
        assert "\n" not in answer.summary
        found = clean_call(lambda: ssdp_location(answer, ADDRESS), ())
        if found is not None:
            assert 0 <= found[0] <= 65535 and found[1].startswith("/")


@fuzz(300)
@given(st.one_of(st.binary(max_size=300), mutated_bytes(MDNS, max_mutations=4)))
def test_mdns(data: bytes) -> None:
    answer = mdns_answer(data)
    if answer is not None:
        assert "\n" not in answer.summary


@fuzz(200)
@given(st.binary(max_size=300))
def test_telnet_stream(data: bytes) -> None:
    telnet = TelnetClient(None, None, None)  # type: ignore[arg-type]
    text, replies = telnet.strip(data)
    assert len(text) <= len(data)
    # each option request is refused at most once: a flood of negotiation never makes a flood of replies
    again, more = telnet.strip(data)
    assert again == text and more == b"" and len(replies) <= 3 * 512
    assert len(set(zip(replies[1::3], replies[2::3], strict=False))) * 3 == len(replies)
    outcome, shown = _judge_telnet(text, no_password_prompt=False)
    assert outcome and "\n" not in shown


@fuzz(200)
@given(
    st.one_of(
        mutated(AUDIT, max_mutations=3),
        st.dictionaries(st.sampled_from(["kex", "key", "enc", "mac", "banner"]), json_values),
    )
)
def test_ssh_audit_report(data: Any) -> None:
    # ssh-audit reports what the server sent: names, banner and sizes are the device's to choose
    if isinstance(data, dict):
        clean_call(lambda: parse_audit(22, data, None, None), ())


@fuzz(200)
@given(st.text(alphabet="0123456789,- x", max_size=20))
def test_port_lists(text: str) -> None:
    ports = clean_call(lambda: parse_ports(text), (ValueError,), one_line=False)
    assert ports is None or all(1 <= p <= 65535 for p in ports)


# --- reproducers of bugs found (strict xfail: remove the marker and the KNOWN_BUGS entry once fixed) --------
# (the ones below are fixed: they run as plain regression tests)


@pytest.mark.parametrize(
    "location", [pytest.param("http://[::1", id="bracket"), pytest.param("http://127.0.0.1:99999/", id="port")]
)
def test_bug_location_url(location: str) -> None:
    assert _same_host_path(location, ADDRESS, 80) is None


@pytest.mark.parametrize(
    "location", [pytest.param(b"http://[x/", id="bracket"), pytest.param(b"http://127.0.0.1:70000/", id="port")]
)
def test_bug_ssdp_location_url(location: bytes) -> None:
    answer = ssdp_answer(b"HTTP/1.1 200 OK\r\nLOCATION: " + location + b"\r\n\r\n")
    assert answer is not None
    assert ssdp_location(answer, ADDRESS) is None


@pytest.mark.parametrize(
    "report",
    [
        pytest.param({"kex": True}, id="kex"),
        pytest.param({"key": [{"algorithm": "x", "notes": {"fail": 1}}]}, id="notes"),
    ],
)
def test_bug_ssh_audit_shape(report: dict[str, Any]) -> None:
    result = parse_audit(22, report, None, None)
    # a section of another shape: the audit is incomplete (never a pass); a scalar note still counts as a note
    if "kex" in report:
        assert not result.completed
        assert result.error is not None and "'kex'" in result.error
    else:
        assert result.completed
        assert result.algorithms[0].audit_fail == ("1",)
