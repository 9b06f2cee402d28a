"""network.* checks on hand-built observations: a positive and a negative case per check, plus the edge verdicts.

The live probe against real servers is tested in tests/evidence/network/ and the integration cases in
tests/integration/network/; here every verdict branch is reached without a socket.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from tests.support import NOW_ISO, dossier

from cybersafe.checks import BUILTIN_CHECKS
from cybersafe.checks.interface import run_check
from cybersafe.checks.network import (
    CHECKS,
    BruteForceProtectionCheck,
    CleartextServicesCheck,
    DefaultCredentialsCheck,
    HttpCleartextLoginCheck,
    LoginWithoutCredentialsCheck,
    SshPasswordAuthCheck,
    SshWeakAlgorithmsCheck,
    TlsCertificateCheck,
    TlsLegacyProtocolCheck,
    TlsWeakCipherCheck,
    UnauthenticatedDisclosureCheck,
    UndeclaredServicesCheck,
)
from cybersafe.evidence.interface import Evidence
from cybersafe.evidence.network.model import (
    AccessWithoutCredentials,
    CertificateObservation,
    CipherSuiteObservation,
    CleartextService,
    CredentialAttempt,
    CredentialTest,
    DeclaredPort,
    Disclosure,
    HostObservations,
    HttpObservation,
    NetworkObservations,
    OpenPort,
    Reachability,
    SshAlgorithm,
    SshResult,
    ThrottleObservation,
    TlsResult,
    UdpAnswer,
)
from cybersafe.verdict import AttemptStatus, ErrorReason, Verdict

ADDRESS = "127.0.0.1"
PROBED_AT = NOW_ISO


def _reach(**kw: Any) -> Reachability:
    base = {"reachable": True, "ports_scanned": 10, "open_ports": 1, "closed_ports": 9, "filtered_ports": 0,
            "connections": 20, "udp_datagrams": 2, "duration_s": 1.0}  # fmt: skip
    base.update(kw)
    return Reachability(**base)


def host(**kw: Any) -> HostObservations:
    kw.setdefault("reachability", _reach())
    return HostObservations(host=ADDRESS, address=ADDRESS, **kw)


def evidence_of(*hosts: HostObservations, declared: tuple[DeclaredPort, ...] | None = None) -> Evidence:
    evidence = Evidence(dossier=dossier())
    evidence.add(NetworkObservations(target=ADDRESS, hosts=hosts, probed_at=PROBED_AT, declared_ports=declared))
    return evidence


def verdicts(check: Any, evidence: Evidence) -> list[str]:
    attempt = run_check(check(), evidence)
    assert attempt.status is AttemptStatus.COMPLETED, attempt.detail
    return [str(f.verdict) for f in attempt.findings]


def attempt(
    user: str, password: str, outcome: str, evidence: str = "reply", elapsed: float = 0.05
) -> CredentialAttempt:
    return CredentialAttempt(user, password, outcome, elapsed, evidence)


TELNET = OpenPort(23, "tcp", "telnet", "banner", "login: ")
FTP = OpenPort(21, "tcp", "ftp", "banner", "220 ready")
SSH = OpenPort(22, "tcp", "ssh", "banner", "SSH-2.0-OpenSSH_9.2p1")
HTTP = OpenPort(80, "tcp", "http", "http-response", "HTTP/1.0 401")
HTTPS = OpenPort(443, "tcp", "https", "http-response", "HTTP/1.0 200", tls=True)

STRONG_SUITE = CipherSuiteObservation("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLSv1.2", 128, True)
GOOD_CERT = CertificateObservation(
    "CN=cam", "CN=cam", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", "EC", 256, "sha256", True, False
)


# --- default credentials --------------------------------------------------------------------------------------


class TestDefaultCredentials:
    def test_accepted_default_login_fails_and_quotes_the_reply(self) -> None:
        # Given a telnet service that accepted admin/admin
        test = CredentialTest(
            23, "telnet", 5, 100, (attempt("root", "x", "rejected"), attempt("admin", "admin", "accepted", "# "))
        )
        # When the check runs
        result = run_check(DefaultCredentialsCheck(), evidence_of(host(open_ports=(TELNET,), credentials=(test,))))
        # Then it fails, naming host, port, protocol and the credential
        finding = result.findings[0]
        assert result.verdict is Verdict.FAIL
        assert "telnet://127.0.0.1:23" in finding.message and "'admin' / 'admin'" in finding.message
        assert finding.locations[0].port == 23 and finding.locations[0].protocol == "telnet"

    def test_the_whole_list_rejected_passes_with_the_count(self) -> None:
        # Given an FTP service that rejected every entry of a three-entry list
        test = CredentialTest(
            21, "ftp", 3, 3, tuple(attempt("root", p, "rejected", "530 Login incorrect") for p in "abc")
        )
        # When the check runs
        result = run_check(DefaultCredentialsCheck(), evidence_of(host(open_ports=(FTP,), credentials=(test,))))
        # Then it passes and says the whole list was tried
        assert result.verdict is Verdict.PASS
        assert result.findings[0].message == (
            "ftp://127.0.0.1:21 rejected all 3 default credentials of credentials_defaults.txt; reply: 530 Login incorrect"
        )

    def test_a_sample_cut_by_the_attempt_budget_is_inconclusive_and_says_how_much_was_tried(self) -> None:
        # Given an FTP service that rejected the first 5 of 102 credentials, where the attempt budget was 5
        test = CredentialTest(21, "ftp", 5, 102, tuple(attempt("root", p, "rejected", "530") for p in "abcde"))
        # When the check runs
        result = run_check(DefaultCredentialsCheck(), evidence_of(host(open_ports=(FTP,), credentials=(test,))))
        # Then the sample is no pass: inconclusive, with what was tried, of how many, and why it stopped
        assert result.verdict is Verdict.INCONCLUSIVE
        message = result.findings[0].message
        assert "rejected 5 of the 102 default credentials" in message and "97 were not tried or not judged" in message
        assert "stopped at the attempt budget of 5 per service (credentials_budget)" in message
        assert result.findings[0].facts["tried"] == 5 and result.findings[0].facts["list_size"] == 102

    def test_a_lockout_before_the_end_of_the_list_is_inconclusive_not_pass(self) -> None:
        # Given a web login that rejected five credentials and then locked the probe out
        tried = tuple(attempt("root", p, "rejected", "HTTP/1.0 401") for p in "abcde")
        locked = attempt("admin", "admin", "locked", "HTTP/1.0 429 Too Many Requests")
        test = CredentialTest(
            443, "http-basic", 102, 102, (*tried, locked), "stopped: the service refused further attempts"
        )
        page = HttpObservation(443, True, "/", 401, "HTTP/1.0 401", auth_scheme="Basic", auth_header="Basic")
        # When the check runs
        result = run_check(
            DefaultCredentialsCheck(), evidence_of(host(open_ports=(HTTPS,), http=(page,), credentials=(test,)))
        )
        # Then it is inconclusive, naming the lockout as the reason the rest was not tried
        assert result.verdict is Verdict.INCONCLUSIVE
        assert (
            "the service locked the probe out after 5 failed logins (HTTP/1.0 429 Too Many Requests)"
            in result.findings[0].message
        )

    def test_each_stop_names_its_own_remedy(self) -> None:
        # Given a slow FTP login whose list was stopped at the time allowance, and one locked out
        slow = CredentialTest(
            21, "ftp", 102, 102, tuple(attempt("root", p, "rejected", "530") for p in "abc"),
            "stopped: failed logins are answered in about 0.3 s each, so the other 99 would take past the 15 s a "
            "service is given (credentials_time_s)",
        )  # fmt: skip
        locked = CredentialTest(
            21, "ftp", 102, 102, (attempt("root", "a", "rejected", "530"), attempt("root", "b", "locked", "421")),
            "stopped: the service refused further attempts",
        )  # fmt: skip
        # When the check runs on each
        messages = [
            run_check(DefaultCredentialsCheck(), evidence_of(host(open_ports=(FTP,), credentials=(t,))))
            .findings[0]
            .message
            for t in (slow, locked)
        ]
        # Then the slow one is told to allow more time (there was no lockout), the locked one to lift the lockout
        assert (
            "(allow the list more time (--credentials-time, artefacts.device.credentials_time_s), or record"
            in messages[0]
        )
        assert "lockout" not in messages[0]
        assert "(try the whole list with the lockout off, or record the lab's result in manual_results)" in messages[1]

    @pytest.mark.parametrize(
        "attempts",
        [
            pytest.param((), id="not-tried"),
            pytest.param((attempt("root", "x", "error", "timed out"),), id="only-errors"),
            pytest.param((attempt("root", "x", "locked", "421"),), id="locked-at-once"),
        ],
    )
    def test_nothing_judged_is_inconclusive(self, attempts: tuple[CredentialAttempt, ...]) -> None:
        tests = (CredentialTest(21, "ftp", 3, 100, attempts),) if attempts else ()
        assert verdicts(DefaultCredentialsCheck, evidence_of(host(open_ports=(FTP,), credentials=tests))) == [
            "inconclusive"
        ]

    def test_no_login_service_is_not_applicable(self) -> None:
        assert verdicts(DefaultCredentialsCheck, evidence_of(host(open_ports=(HTTPS,)))) == ["not_applicable"]

    def test_ssh_with_keys_only_is_not_a_login_service(self) -> None:
        ssh = SshResult(22, True, auth_methods=("publickey",), auth_methods_evidence="Permission denied (publickey)")
        assert verdicts(DefaultCredentialsCheck, evidence_of(host(open_ports=(SSH,), ssh=(ssh,)))) == ["not_applicable"]


# --- brute force ------------------------------------------------------------------------------------------------


class TestBruteForce:
    @pytest.mark.parametrize(
        ("outcome", "expected"),
        [
            pytest.param("locked_out", "pass", id="locked-out"),
            pytest.param("throttled", "pass", id="throttled"),
            pytest.param("not_throttled", "fail", id="not-throttled"),
            pytest.param("undetermined", "inconclusive", id="undetermined"),
        ],
    )
    def test_outcome_maps_to_verdict(self, outcome: str, expected: str) -> None:
        observation = ThrottleObservation(23, "telnet", 10, outcome, 0.05, 0.05, "10 rejected")
        assert verdicts(
            BruteForceProtectionCheck, evidence_of(host(open_ports=(TELNET,), throttling=(observation,)))
        ) == [expected]

    def test_login_service_without_observation_is_inconclusive(self) -> None:
        assert verdicts(BruteForceProtectionCheck, evidence_of(host(open_ports=(TELNET,)))) == ["inconclusive"]

    def test_no_login_service_is_not_applicable(self) -> None:
        assert verdicts(BruteForceProtectionCheck, evidence_of(host(open_ports=(HTTPS,)))) == ["not_applicable"]


# --- TLS --------------------------------------------------------------------------------------------------------


def tls_host(result: TlsResult) -> HostObservations:
    return host(open_ports=(HTTPS,), tls=(result,))


class TestTls:
    def test_legacy_protocol_fails_and_names_the_versions(self) -> None:
        result = TlsResult(
            443,
            True,
            protocols=("TLSv1.0", "TLSv1.2"),
            cipher_suites=(dataclasses.replace(STRONG_SUITE, protocol="TLSv1.0"), STRONG_SUITE),
        )
        attempt_ = run_check(TlsLegacyProtocolCheck(), evidence_of(tls_host(result)))
        assert attempt_.verdict is Verdict.FAIL
        assert "TLSv1.0 (1 suites)" in attempt_.findings[0].message
        assert attempt_.findings[0].locations[0].protocol == "tls"

    def test_modern_protocols_pass(self) -> None:
        result = TlsResult(443, True, protocols=("TLSv1.2", "TLSv1.3"), cipher_suites=(STRONG_SUITE,))
        assert verdicts(TlsLegacyProtocolCheck, evidence_of(tls_host(result))) == ["pass"]

    def test_incomplete_protocol_scan_is_inconclusive(self) -> None:
        result = TlsResult(
            443,
            False,
            "TLSv1.0 cipher suites: timeout",
            protocols=("TLSv1.2",),
            incomplete=("TLSv1.0 cipher suites: timeout",),
        )
        assert verdicts(TlsLegacyProtocolCheck, evidence_of(tls_host(result))) == ["inconclusive"]

    def test_tls_port_without_scan_is_inconclusive_and_no_tls_is_not_applicable(self) -> None:
        assert verdicts(TlsLegacyProtocolCheck, evidence_of(host(open_ports=(HTTPS,)))) == ["inconclusive"]
        assert verdicts(TlsWeakCipherCheck, evidence_of(host(open_ports=(TELNET,)))) == ["not_applicable"]

    @pytest.mark.parametrize(
        ("suite", "reason"),
        [
            pytest.param(
                CipherSuiteObservation("TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLSv1.2", 168, False), "3DES", id="3des"
            ),
            pytest.param(CipherSuiteObservation("TLS_RSA_WITH_RC4_128_SHA", "TLSv1.2", 128, False), "RC4", id="rc4"),
            pytest.param(CipherSuiteObservation("TLS_RSA_WITH_NULL_SHA256", "TLSv1.2", 0, False), "NULL", id="null"),
            pytest.param(
                CipherSuiteObservation("TLS_RSA_EXPORT_WITH_DES40_CBC_SHA", "TLSv1.2", 40, False), "export", id="export"
            ),
            pytest.param(
                CipherSuiteObservation("TLS_ECDH_anon_WITH_AES_128_CBC_SHA", "TLSv1.2", 128, True),
                "anonymous",
                id="anon",
            ),
            pytest.param(
                CipherSuiteObservation("TLS_RSA_WITH_AES_128_GCM_SHA256", "TLSv1.2", 128, False),
                "forward secrecy",
                id="no-fs",
            ),
        ],
    )
    def test_weak_suite_fails_with_the_reason(self, suite: CipherSuiteObservation, reason: str) -> None:
        result = TlsResult(443, True, protocols=("TLSv1.2",), cipher_suites=(STRONG_SUITE, suite))
        attempt_ = run_check(TlsWeakCipherCheck(), evidence_of(tls_host(result)))
        assert attempt_.verdict is Verdict.FAIL
        assert suite.name in attempt_.findings[0].message and reason in attempt_.findings[0].message

    def test_strong_suites_pass(self) -> None:
        result = TlsResult(443, True, protocols=("TLSv1.2",), cipher_suites=(STRONG_SUITE,), certificate=GOOD_CERT)
        assert verdicts(TlsWeakCipherCheck, evidence_of(tls_host(result))) == ["pass"]

    @pytest.mark.parametrize(
        ("cert", "reason"),
        [
            pytest.param(dataclasses.replace(GOOD_CERT, not_after="2026-06-01T00:00:00Z"), "expired", id="expired"),
            pytest.param(
                dataclasses.replace(GOOD_CERT, not_before="2026-12-24T00:00:00Z"),
                "not valid before",
                id="not-yet-valid",
            ),
            pytest.param(dataclasses.replace(GOOD_CERT, key_type="RSA", key_size=1024), "1024 bits", id="rsa-1024"),
            pytest.param(dataclasses.replace(GOOD_CERT, key_size=192), "EC key of 192", id="ec-192"),
            pytest.param(dataclasses.replace(GOOD_CERT, signature_hash="sha1"), "sha1", id="sha1"),
        ],
    )
    def test_bad_certificate_fails(self, cert: CertificateObservation, reason: str) -> None:
        result = TlsResult(443, True, protocols=("TLSv1.2",), cipher_suites=(STRONG_SUITE,), certificate=cert)
        attempt_ = run_check(TlsCertificateCheck(), evidence_of(tls_host(result)))
        assert attempt_.verdict is Verdict.FAIL
        assert reason in attempt_.findings[0].message

    def test_good_certificate_passes_and_missing_one_is_inconclusive(self) -> None:
        good = TlsResult(443, True, protocols=("TLSv1.2",), cipher_suites=(STRONG_SUITE,), certificate=GOOD_CERT)
        assert verdicts(TlsCertificateCheck, evidence_of(tls_host(good))) == ["pass"]
        missing = dataclasses.replace(good, certificate=None, completed=False, error="certificate: timeout")
        assert verdicts(TlsCertificateCheck, evidence_of(tls_host(missing))) == ["inconclusive"]


# --- SSH --------------------------------------------------------------------------------------------------------


class TestSsh:
    def test_weak_algorithms_fail_with_names(self) -> None:
        algorithms = (
            SshAlgorithm("kex", "diffie-hellman-group1-sha1"),
            SshAlgorithm("enc", "aes128-ctr"),
            SshAlgorithm("key", "rsa-sha2-256", key_size=1024),
            SshAlgorithm("mac", "hmac-md5"),
        )
        result = SshResult(22, True, banner="SSH-2.0-dropbear", algorithms=algorithms, auth_methods=("publickey",))
        attempt_ = run_check(SshWeakAlgorithmsCheck(), evidence_of(host(open_ports=(SSH,), ssh=(result,))))
        message = attempt_.findings[0].message
        assert attempt_.verdict is Verdict.FAIL
        assert "diffie-hellman-group1-sha1" in message and "hmac-md5" in message and "1024-bit RSA host key" in message
        assert "aes128-ctr" not in message

    def test_modern_algorithms_pass(self) -> None:
        algorithms = (
            SshAlgorithm("kex", "curve25519-sha256"),
            SshAlgorithm("key", "ssh-ed25519", key_size=256),
            SshAlgorithm("enc", "chacha20-poly1305@openssh.com"),
            SshAlgorithm("mac", "hmac-sha2-256-etm@openssh.com"),
        )
        result = SshResult(22, True, banner="SSH-2.0-OpenSSH_9.2p1", algorithms=algorithms, auth_methods=("publickey",))
        assert verdicts(SshWeakAlgorithmsCheck, evidence_of(host(open_ports=(SSH,), ssh=(result,)))) == ["pass"]

    def test_incomplete_audit_is_inconclusive_and_no_ssh_not_applicable(self) -> None:
        result = SshResult(22, False, "ssh-audit timed out")
        assert verdicts(SshWeakAlgorithmsCheck, evidence_of(host(open_ports=(SSH,), ssh=(result,)))) == ["inconclusive"]
        assert verdicts(SshPasswordAuthCheck, evidence_of(host(open_ports=(HTTPS,)))) == ["not_applicable"]

    @pytest.mark.parametrize(
        ("methods", "expected"),
        [
            pytest.param(("publickey", "password"), "fail", id="password"),
            pytest.param(("publickey", "keyboard-interactive"), "fail", id="keyboard-interactive"),
            pytest.param(("none",), "fail", id="no-authentication"),
            pytest.param(("publickey",), "pass", id="keys-only"),
            pytest.param(None, "inconclusive", id="unknown"),
        ],
    )
    def test_password_authentication(self, methods: tuple[str, ...] | None, expected: str) -> None:
        result = SshResult(22, True, auth_methods=methods, auth_methods_evidence=f"Permission denied ({methods})")
        assert verdicts(SshPasswordAuthCheck, evidence_of(host(open_ports=(SSH,), ssh=(result,)))) == [expected]


# --- cleartext, HTTP login, undeclared services, disclosure ---------------------------------------------------------


class TestCleartextAndHttp:
    def test_telnet_and_ftp_fail_each(self) -> None:
        services = (CleartextService(23, "telnet", "login: "), CleartextService(21, "ftp", "220 ready"))
        attempt_ = run_check(CleartextServicesCheck(), evidence_of(host(open_ports=(TELNET, FTP), cleartext=services)))
        assert [str(f.verdict) for f in attempt_.findings] == ["fail", "fail"]
        assert "220 ready" in attempt_.findings[1].message

    def test_plain_http_alone_is_not_a_cleartext_login_service(self) -> None:
        services = (CleartextService(80, "http", "HTTP/1.0 200"),)
        attempt_ = run_check(CleartextServicesCheck(), evidence_of(host(open_ports=(HTTP, SSH), cleartext=services)))
        assert attempt_.verdict is Verdict.PASS
        assert "network.http-cleartext-login" in attempt_.findings[0].message

    @pytest.mark.parametrize(
        ("page", "expected"),
        [
            pytest.param(
                HttpObservation(
                    80, False, "/", 401, "HTTP/1.0 401", auth_scheme="Basic", auth_header='Basic realm="x"'
                ),
                "fail",
                id="basic-auth",
            ),
            pytest.param(
                HttpObservation(
                    80,
                    False,
                    "/login",
                    200,
                    "HTTP/1.0 200",
                    login_form=True,
                    login_form_evidence="<input type=password>",
                ),
                "fail",
                id="login-form",
            ),
            pytest.param(HttpObservation(80, False, "/", 301, "HTTP/1.0 301 Moved"), "pass", id="redirect-only"),
        ],
    )
    def test_http_login_in_the_clear(self, page: HttpObservation, expected: str) -> None:
        assert verdicts(HttpCleartextLoginCheck, evidence_of(host(open_ports=(HTTP,), http=(page,)))) == [expected]

    def test_http_login_unread_page_is_inconclusive_and_https_only_not_applicable(self) -> None:
        unread = host(open_ports=(HTTP,), reachability=_reach(incomplete=("http://127.0.0.1:80/: TimeoutError",)))
        assert verdicts(HttpCleartextLoginCheck, evidence_of(unread)) == ["inconclusive"]
        assert verdicts(HttpCleartextLoginCheck, evidence_of(host(open_ports=(HTTPS,)))) == ["not_applicable"]

    def test_undeclared_service_fails_and_declared_ones_pass(self) -> None:
        observed = host(open_ports=(SSH, HTTPS, OpenPort(1900, "udp", "ssdp", "udp-answer")))
        declared = (DeclaredPort(443, "tcp", "https"), DeclaredPort(22, "tcp", "ssh"))
        attempt_ = run_check(UndeclaredServicesCheck(), evidence_of(observed, declared=declared))
        assert [str(f.verdict) for f in attempt_.findings] == ["fail"]
        assert attempt_.findings[0].locations[0].port == 1900
        everything = (*declared, DeclaredPort(1900, "udp", "ssdp"))
        attempt_ = run_check(UndeclaredServicesCheck(), evidence_of(observed, declared=everything))
        assert attempt_.verdict is Verdict.PASS and "every open service is declared" in attempt_.findings[0].message
        # a declared TCP service that is not open keeps the pass from standing (the device is not all there)
        absent = (*everything, DeclaredPort(8443, "tcp", "https"))
        attempt_ = run_check(UndeclaredServicesCheck(), evidence_of(observed, declared=absent))
        assert attempt_.verdict is Verdict.INCONCLUSIVE and "declared service 8443/tcp" in attempt_.findings[0].message

    def test_port_declared_https_and_authenticated_that_serves_open_plain_http_is_a_contradiction(self) -> None:
        # Given port 8080 declared `service: https, authenticated: true`, and a device that serves a page there over
        # plain HTTP without asking for any credential
        plain = OpenPort(8080, "tcp", "http", "http-response", "HTTP/1.0 200 OK")
        page = HttpObservation(8080, False, "/", 200, "HTTP/1.0 200 OK", title="admin config")
        observed = host(open_ports=(plain,), http=(page,))
        declared = (DeclaredPort(8080, "tcp", "https", authenticated=True),)
        evidence = evidence_of(observed, declared=declared)
        # When the undeclared-services check compares them
        attempt_ = run_check(UndeclaredServicesCheck(), evidence)
        # Then the TLS promise fails with what the probe saw, and the authentication promise is inconclusive
        assert [str(f.verdict) for f in attempt_.findings] == ["fail", "inconclusive"]
        assert attempt_.findings[0].message == (
            "http://127.0.0.1:8080 is declared https (TLS) but speaks in the clear: http identified by http-response, "
            "saw: HTTP/1.0 200 OK"
        )
        assert "declared authenticated, but served / -> HTTP/1.0 200 OK without asking" in attempt_.findings[1].message
        # and the TLS and login checks do not read "not applicable" on a port that promised both
        for check in (TlsLegacyProtocolCheck, TlsWeakCipherCheck, TlsCertificateCheck, DefaultCredentialsCheck,
                      BruteForceProtectionCheck):  # fmt: skip
            assert verdicts(check, evidence) == ["inconclusive"], check.ID

    def test_declared_encrypted_service_the_probe_cannot_identify_is_inconclusive(self) -> None:
        # Given port 8883 declared mqtts, where the probe saw only an open port it could not identify
        unknown = OpenPort(8883, "tcp", "unknown", "port-number")
        evidence = evidence_of(host(open_ports=(unknown,)), declared=(DeclaredPort(8883, "tcp", "mqtts"),))
        # When the check runs
        attempt_ = run_check(UndeclaredServicesCheck(), evidence)
        # Then it cannot pass: whether the port speaks TLS is not known
        assert attempt_.verdict is Verdict.INCONCLUSIVE
        assert "declared mqtts (TLS); the probe could not tell whether it speaks TLS" in attempt_.findings[0].message

    def test_declared_ssh_that_is_telnet_and_declared_authenticated_telnet_that_grants_a_shell_fail(self) -> None:
        # Given port 22 declared ssh that speaks telnet, and port 23 declared authenticated that grants a shell
        telnet22 = OpenPort(22, "tcp", "telnet", "banner", "login: ")
        shell = AccessWithoutCredentials(23, "telnet", "connect and wait for a prompt", "granted", "# ")
        observed = host(open_ports=(telnet22, TELNET), access=(shell,))
        declared = (DeclaredPort(22, "tcp", "ssh"), DeclaredPort(23, "tcp", "telnet", authenticated=True))
        # When the check runs
        attempt_ = run_check(UndeclaredServicesCheck(), evidence_of(observed, declared=declared))
        # Then both contradictions fail, each on its port
        assert [(str(f.verdict), f.locations[0].port) for f in attempt_.findings] == [("fail", 22), ("fail", 23)]
        assert "declared ssh (SSH) but speaks in the clear" in attempt_.findings[0].message
        assert "declared authenticated but let the probe in without credentials" in attempt_.findings[1].message

    def test_a_web_service_answering_locked_out_is_not_read_as_no_login_service(self) -> None:
        # Given a second probe of a device that locked its web login after the first: 429 on the landing page
        locked = HttpObservation(443, True, "/", 429, "HTTP/1.0 429 Too Many Requests")
        evidence = evidence_of(host(open_ports=(HTTPS,), http=(locked,)))
        # When the login checks run
        # Then they are inconclusive and say why, never not_applicable ("no login service")
        for check in (DefaultCredentialsCheck, BruteForceProtectionCheck):
            attempt_ = run_check(check(), evidence)
            assert attempt_.verdict is Verdict.INCONCLUSIVE, check.ID
            assert (
                "a locked-out login service cannot be told apart from no login service" in attempt_.findings[0].message
            )

    def test_undeclared_without_declaration_is_inconclusive(self) -> None:
        assert verdicts(UndeclaredServicesCheck, evidence_of(host(open_ports=(SSH,)), declared=None)) == [
            "inconclusive"
        ]

    def test_disclosure_fails_and_clean_web_passes(self) -> None:
        leak = Disclosure(80, "http", "/config", "password-field", "wifi_psk=hu***")
        attempt_ = run_check(
            UnauthenticatedDisclosureCheck(), evidence_of(host(open_ports=(HTTP,), disclosures=(leak,)))
        )
        assert attempt_.verdict is Verdict.FAIL and "http://127.0.0.1:80/config" in attempt_.findings[0].message
        clean = host(open_ports=(HTTP,), http=(HttpObservation(80, False, "/", 200, "HTTP/1.0 200"),),
                     udp=(UdpAnswer(5353, "mdns", "PTR", "model=x"),))  # fmt: skip
        assert verdicts(UnauthenticatedDisclosureCheck, evidence_of(clean)) == ["pass"]

    def test_disclosure_not_applicable_without_web_or_discovery(self) -> None:
        assert verdicts(UnauthenticatedDisclosureCheck, evidence_of(host(open_ports=(SSH,)))) == ["not_applicable"]


# --- every check: the envelope ----------------------------------------------------------------------------------


@pytest.mark.parametrize("check", [pytest.param(c, id=c.ID) for c in CHECKS])
def test_unreachable_device_is_inconclusive_never_pass(check: Any) -> None:
    # Given the collector failed because the device did not answer
    evidence = Evidence(dossier=dossier())
    evidence.fail(NetworkObservations, ErrorReason.PROBE_UNREACHABLE, "device 127.0.0.1 is unreachable")
    # When the check runs inside its envelope
    result = run_check(check(), evidence)
    # Then the attempt is an error with the probe reason, which reads as inconclusive
    assert result.status is AttemptStatus.ERROR and result.reason is ErrorReason.PROBE_UNREACHABLE
    assert result.verdict is Verdict.INCONCLUSIVE


@pytest.mark.parametrize("check", [pytest.param(c, id=c.ID) for c in CHECKS])
def test_no_reachable_host_is_inconclusive(check: Any) -> None:
    silent = host(reachability=_reach(reachable=False, open_ports=0, closed_ports=0, filtered_ports=10))
    assert verdicts(check, evidence_of(silent)) == ["inconclusive"]


def test_the_network_module_holds_exactly_the_builtin_network_family() -> None:
    ids = [c.ID for c in CHECKS]
    assert ids and len(ids) == len(set(ids))
    assert set(ids) == {c.ID for c in BUILTIN_CHECKS if c.ID.startswith("network.")}
    assert all((NetworkObservations,) == c.REQUIRES for c in CHECKS)


# --- access without credentials -------------------------------------------------------------------------------


class TestLoginWithoutCredentials:
    @pytest.mark.parametrize(
        ("port", "access", "expected"),
        [
            pytest.param(TELNET, AccessWithoutCredentials(23, "telnet", "wait", "granted", "# "), "fail", id="shell"),
            pytest.param(
                FTP, AccessWithoutCredentials(21, "ftp", "USER anonymous", "granted", "230"), "fail", id="anon"
            ),
            pytest.param(
                FTP, AccessWithoutCredentials(21, "ftp", "USER anonymous", "refused", "530"), "pass", id="ftp-ok"
            ),
            pytest.param(
                TELNET, AccessWithoutCredentials(23, "telnet", "wait", "unconfirmed", "> "), "inconclusive", id="prompt"
            ),
            pytest.param(
                TELNET, AccessWithoutCredentials(23, "telnet", "wait", "error", "x"), "inconclusive", id="error"
            ),
            pytest.param(TELNET, None, "inconclusive", id="not-tried"),
        ],
    )
    def test_outcome_maps_to_verdict(
        self, port: OpenPort, access: AccessWithoutCredentials | None, expected: str
    ) -> None:
        observed = host(open_ports=(port,), access=(access,) if access else ())
        assert verdicts(LoginWithoutCredentialsCheck, evidence_of(observed)) == [expected]

    def test_anonymous_ftp_is_high_and_a_shell_critical(self) -> None:
        observed = host(
            open_ports=(TELNET, FTP),
            access=(
                AccessWithoutCredentials(23, "telnet", "wait", "granted", "shell"),
                AccessWithoutCredentials(21, "ftp", "USER anonymous", "granted", "230 Login successful."),
            ),
        )
        result = run_check(LoginWithoutCredentialsCheck(), evidence_of(observed))
        assert {f.locations[0].protocol: str(f.severity) for f in result.findings} == {
            "telnet": "critical",
            "ftp": "high",
        }

    def test_no_login_service_is_not_applicable(self) -> None:
        assert verdicts(LoginWithoutCredentialsCheck, evidence_of(host(open_ports=(HTTPS,)))) == ["not_applicable"]

    def test_shell_without_login_fails_default_credentials_too(self) -> None:
        # Given a telnet service that ran our command without any login
        shell = AccessWithoutCredentials(23, "telnet", "wait", "granted", "printed cybersafe-42049-probe")
        observed = host(open_ports=(TELNET,), access=(shell,))
        # Then every default credential works: default-credentials fails, brute force has nothing to judge
        result = run_check(DefaultCredentialsCheck(), evidence_of(observed))
        assert result.verdict is Verdict.FAIL and "without asking for any credential" in result.findings[0].message
        assert verdicts(BruteForceProtectionCheck, evidence_of(observed)) == ["inconclusive"]


# --- a device that is not (all) there ---------------------------------------------------------------------------


def _passing_host(**kw: Any) -> HostObservations:
    ssh = SshResult(22, True, banner="SSH-2.0-x", algorithms=(SshAlgorithm("kex", "curve25519-sha256"),),
                    auth_methods=("publickey",), auth_methods_evidence="Permission denied (publickey)")  # fmt: skip
    return host(open_ports=(SSH,), ssh=(ssh,), ports_probed=(22, 443), **kw)


@pytest.mark.parametrize("check", [pytest.param(c, id=c.ID) for c in CHECKS])
def test_switched_off_device_makes_every_check_inconclusive(check: Any) -> None:
    # Given a host that answered with closed ports only, while the dossier declares 443 and 22
    closed = host(reachability=_reach(open_ports=0, closed_ports=10), ports_probed=(22, 443))
    declared = (DeclaredPort(443, "tcp", "https"), DeclaredPort(22, "tcp", "ssh"))
    # When the check runs
    result = run_check(check(), evidence_of(closed, declared=declared))
    # Then it is inconclusive, and says why: never a pass, never not_applicable
    assert result.verdict is Verdict.INCONCLUSIVE
    assert all(
        "answered on none of its declared ports (443/tcp (https), 22/tcp (ssh))" in f.message for f in result.findings
    )


@pytest.mark.parametrize("check", [pytest.param(c, id=c.ID) for c in CHECKS])
def test_silent_device_without_declarations_is_inconclusive(check: Any) -> None:
    closed = host(reachability=_reach(open_ports=0, closed_ports=10))
    result = run_check(check(), evidence_of(closed, declared=None))
    assert result.verdict is Verdict.INCONCLUSIVE
    assert any("no service answered" in f.message or "declares no network" in f.message for f in result.findings)


def test_silent_device_that_declares_no_port_stays_not_applicable() -> None:
    # The dossier says the device listens on nothing, and nothing answered: the declaration is corroborated.
    closed = host(reachability=_reach(open_ports=0, closed_ports=10))
    assert verdicts(TlsLegacyProtocolCheck, evidence_of(closed, declared=())) == ["not_applicable"]


def test_absent_declared_service_makes_passes_inconclusive_and_keeps_fails() -> None:
    # Given SSH seen and judged, but the declared HTTPS service absent
    declared = (DeclaredPort(443, "tcp", "https"), DeclaredPort(22, "tcp", "ssh"))
    evidence = evidence_of(_passing_host(), declared=declared)
    # Then the SSH pass does not stand, and the reason names the absent service
    result = run_check(SshPasswordAuthCheck(), evidence)
    assert result.verdict is Verdict.INCONCLUSIVE
    assert "declared service 443/tcp (https) not found open" in result.findings[0].message
    assert result.findings[0].facts["seen"] == "pass"
    # And a fail found on what was there still fails
    weak = dataclasses.replace(_passing_host().ssh[0], auth_methods=("password",))
    failing = dataclasses.replace(_passing_host(), ssh=(weak,))
    assert run_check(SshPasswordAuthCheck(), evidence_of(failing, declared=declared)).verdict is Verdict.FAIL


def test_probe_cut_by_its_budget_never_passes() -> None:
    stop = "probe budget of 60 s used up during TLS scan; not run: SSH audit, HTTP, logins"
    cut = _passing_host(reachability=_reach(budget_stop=stop, incomplete=(stop,)))
    declared = (DeclaredPort(22, "tcp", "ssh"),)
    result = run_check(SshPasswordAuthCheck(), evidence_of(cut, declared=declared))
    assert result.verdict is Verdict.INCONCLUSIVE and stop in result.findings[0].message


def test_tls_port_whose_handshake_failed_is_inconclusive_not_not_applicable() -> None:
    # Given a port that answered in TLS but whose handshake failed, and whose scan failed too
    port = OpenPort(
        443, "tcp", "tls", "tls-handshake", None, True, tls_error="TLS handshake failed: EXCESSIVE_MESSAGE_SIZE"
    )
    failed = TlsResult(443, False, "TLS connectivity: could not find a TLS version and cipher suite")
    for check in (TlsLegacyProtocolCheck, TlsWeakCipherCheck, TlsCertificateCheck):
        assert verdicts(check, evidence_of(host(open_ports=(port,), tls=(failed,)))) == ["inconclusive"]
        # and without any scan result (the budget stopped before the TLS scan) it says why
        attempt_ = run_check(check(), evidence_of(host(open_ports=(port,))))
        assert attempt_.verdict is Verdict.INCONCLUSIVE and "EXCESSIVE_MESSAGE_SIZE" in attempt_.findings[0].message
