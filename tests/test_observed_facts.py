"""Condition facts: what the evidence observed wins over what the dossier declares (dossier/facts.py).

A declaration (``authentication.uses_passwords: false``) must never make a requirement not applicable when a
check observed the opposite (a login service that asked for and accepted a default password).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cybersafe.assess import AssessmentRun, assess_dossier
from cybersafe.dossier.facts import reconcile_facts
from cybersafe.dossier.model import Dossier
from cybersafe.evidence.interface import CollectorResult, ProgressReporter
from cybersafe.evidence.network.model import (
    CredentialAttempt,
    CredentialTest,
    DeclaredPort,
    HostObservations,
    HttpObservation,
    NetworkObservations,
    OpenPort,
    Reachability,
)
from cybersafe.verdict import Verdict
from tests.support import NOW, NOW_ISO, dossier

ADDRESS = "127.0.0.1"
HTTPS = OpenPort(8443, "tcp", "https", "http-response", "HTTP/1.0 401", tls=True)
CHALLENGE = HttpObservation(8443, True, "/", 401, "HTTP/1.0 401 Unauthorized", auth_scheme="Basic",
                            auth_header='Basic realm="cam"')  # fmt: skip


def _observations(*attempts: CredentialAttempt) -> NetworkObservations:
    reach = Reachability(True, 10, 1, 9, 0, 20, 0, 1.0)
    test = CredentialTest(8443, "http-basic", len(attempts), len(attempts), attempts)
    host = HostObservations(ADDRESS, ADDRESS, reach, open_ports=(HTTPS,), http=(CHALLENGE,), credentials=(test,))
    return NetworkObservations(ADDRESS, (host,), NOW_ISO, declared_ports=(DeclaredPort(8443, "tcp", "https"),))


class _Probe:
    """A collector that hands the assessment fixed network observations (no socket)."""

    NAME = "device"
    PRODUCES = (NetworkObservations,)

    def __init__(self, observations: NetworkObservations) -> None:
        self.observations = observations

    def applies(self, dossier: Dossier) -> bool:
        return True

    def collect(self, dossier: Dossier, base_dir: Path, progress: ProgressReporter) -> CollectorResult:
        return CollectorResult(items=[self.observations])


def _assess(authentication: dict[str, Any], observations: NetworkObservations) -> AssessmentRun:
    d = dossier(base="example", patch={"declarations": {"authentication": authentication}})
    return assess_dossier(d, now=NOW, collectors=[_Probe(observations)], scheme_refs=["etsi-en-303-645", "sg-cls"])


def _requirement(run: AssessmentRun, scheme: str, rid: str) -> Any:
    result = next(r for r in run.results if r.scheme.id == scheme)
    return next(r for r in result.requirements if r.requirement.id == rid)


def test_a_declaration_contradicted_by_a_device_accepting_a_default_password_does_not_make_5_1_1_not_applicable() -> (
    None
):
    # Given a dossier that says the product uses no passwords, and a device that asked for a password over HTTP
    # basic auth and accepted admin/admin
    observations = _observations(CredentialAttempt("admin", "admin", "accepted", 0.01, "HTTP/1.0 200 OK"))
    # When the product is assessed
    run = _assess({"uses_passwords": False}, observations)
    # Then EN 303 645 5.1-1 applies and fails on the device's evidence, and its reason names the contradiction
    req = _requirement(run, "etsi-en-303-645", "5.1-1")
    assert req.verdict is Verdict.FAIL
    assert req.reason.startswith("condition contradicted by the evidence: the dossier gives uses_passwords: false")
    assert "network.default-credentials observed uses_passwords: true" in req.reason
    # and Singapore CLS level 1 (unique default passwords) and level 2's 5.1-1 fail with it, never not_applicable
    assert _requirement(run, "sg-cls", "L1 unique default passwords").verdict is Verdict.FAIL
    assert _requirement(run, "sg-cls", "L2 5.1-1").verdict is Verdict.FAIL
    assert next(r for r in run.results if r.scheme.id == "sg-cls").highest_level is None
    assert run.facts is not None and run.facts["uses_passwords"] is True and run.facts["preinstalled_passwords"]


def test_a_declaration_the_evidence_agrees_with_is_not_called_a_contradiction() -> None:
    # Given a dossier that says the product uses passwords, and a device that rejected the default login
    observations = _observations(CredentialAttempt("admin", "admin", "rejected", 0.01, "HTTP/1.0 401"))
    # When the product is assessed
    run = _assess({"uses_passwords": True}, observations)
    # Then 5.1-1 carries no contradiction note
    assert "contradicted" not in _requirement(run, "etsi-en-303-645", "5.1-1").reason


def test_a_fact_derived_from_a_contradicted_declaration_becomes_unknown() -> None:
    # Given preinstalled_passwords derived from a declared uses_passwords: false, and an observed password login
    declared = {"uses_passwords": False, "preinstalled_passwords": False, "wireless": True}
    observed = {"uses_passwords": (True, "network.default-credentials", "asks for HTTP basic auth")}
    # When the facts are reconciled
    facts, contradictions = reconcile_facts(declared, observed)
    # Then the observation wins, the derived fact is unknown (never guessed), and both carry the contradiction
    assert facts == {"uses_passwords": True, "wireless": True}
    assert set(contradictions) == {"uses_passwords", "preinstalled_passwords"}
    assert str(contradictions["preinstalled_passwords"]).endswith("preinstalled_passwords, derived from it, is unknown")
    # and a fact the dossier states explicitly is the dossier's word, not derived: it stays
    facts, _ = reconcile_facts(declared, observed, stated=frozenset({"preinstalled_passwords"}))
    assert facts["preinstalled_passwords"] is False


def test_every_network_check_that_sees_a_password_login_reports_it_as_observed() -> None:
    from cybersafe.checks.interface import observed_facts, run_check
    from cybersafe.checks.network import HttpCleartextLoginCheck, LoginWithoutCredentialsCheck, SshPasswordAuthCheck
    from cybersafe.evidence.interface import Evidence
    from cybersafe.evidence.network.model import AccessWithoutCredentials, SshResult

    # Given a device with a login form over plain HTTP, SSH offering passwords, and an FTP that refused anonymous
    reach = Reachability(True, 10, 3, 7, 0, 20, 0, 1.0)
    http = OpenPort(80, "tcp", "http", "http-response", "HTTP/1.0 200")
    ssh = OpenPort(22, "tcp", "ssh", "banner", "SSH-2.0-OpenSSH_9.2")
    ftp = OpenPort(21, "tcp", "ftp", "banner", "220 ready")
    form = HttpObservation(
        80, False, "/", 200, "HTTP/1.0 200 OK", login_form=True, login_form_evidence="<input type=password>"
    )
    host = HostObservations(
        ADDRESS, ADDRESS, reach, open_ports=(http, ssh, ftp), http=(form,),
        ssh=(SshResult(22, True, auth_methods=("publickey", "password"), auth_methods_evidence="publickey,password"),),
        access=(AccessWithoutCredentials(21, "ftp", "USER anonymous", "refused", "530 Login incorrect."),),
    )  # fmt: skip
    evidence = Evidence(dossier=dossier())
    evidence.add(NetworkObservations(ADDRESS, (host,), NOW_ISO))
    # When the checks run, each on its own
    seen = {
        check.ID: set(observed_facts([run_check(check(), evidence)]))
        for check in (HttpCleartextLoginCheck, SshPasswordAuthCheck, LoginWithoutCredentialsCheck)
    }
    # Then each reports what it saw: a password login shows passwords and user authentication, a refused
    # anonymous login shows user authentication only
    assert seen == {
        "network.http-cleartext-login": {"uses_passwords", "user_authentication"},
        "network.ssh-password-auth": {"uses_passwords", "user_authentication"},
        "network.login-without-credentials": {"user_authentication"},
    }
