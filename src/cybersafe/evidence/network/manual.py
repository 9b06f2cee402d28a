"""ETSI TS 103 701 functional tests with a network angle that the probe does NOT settle on its own.

About half of the tests relevant to a network attacker can be automated with common tools (Kaksonen et al.,
ICISSP 2024); the probe covers those (``partial_checks`` names the checks that contribute evidence). The
rest need a lab: traffic capture of the device's own outbound connections, a crafted update, two devices
to compare, the user interface, or fuzzing. Titles are paraphrases, not ETSI text. Test case ids follow
TS 103 701: ``<provision>-2`` is the functional test case of a provision's test group.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ManualTest:
    test_case: str  # TS 103 701 test case id
    provision: str  # EN 303 645 provision
    title: str  # paraphrase
    why_manual: str
    partial_checks: tuple[str, ...] = ()  # network checks that give part of the evidence

    def as_dict(self) -> dict[str, object]:
        return {
            "test_case": self.test_case,
            "provision": self.provision,
            "title": self.title,
            "why_manual": self.why_manual,
            "partial_checks": list(self.partial_checks),
        }


MANUAL_TESTS: tuple[ManualTest, ...] = (
    ManualTest("5.1-1-2", "5.1-1", "No universal default password on any interface",
               "the probe tries only a short list within a small budget; every account and interface (app, "
               "cloud, local UI) must be checked against the documentation",
               ("network.default-credentials",)),
    ManualTest("5.1-2-2", "5.1-2", "Pre-installed passwords are unique per device and not guessable",
               "needs at least two devices of the model to compare, and the generation mechanism (IXIT 1)"),
    ManualTest("5.1-3-2", "5.1-3", "Authentication mechanisms use best-practice cryptography",
               "application-level authentication protocols (tokens, challenge-response, cloud pairing) are "
               "not visible to a port probe", ("network.tls-weak-cipher", "network.ssh-weak-algorithms")),
    ManualTest("5.1-4-2", "5.1-4", "The user can change the authentication value",
               "needs the user interface or app, operated as the documentation describes"),
    ManualTest("5.1-5-2", "5.1-5", "Brute-force attacks over network interfaces are impracticable",
               "the probe observes lockout or slow-down on the login services it finds; interfaces reached "
               "through an app or cloud API need a tester", ("network.brute-force-protection",)),
    ManualTest("5.3-2-2", "5.3-2", "Software updates are delivered through a secure mechanism",
               "needs an update to be triggered and its transfer captured"),
    ManualTest("5.3-9-2", "5.3-9", "The device checks authenticity and integrity of updates",
               "needs a tampered or unsigned update image offered to the device"),
    ManualTest("5.3-10-2", "5.3-10", "Updates over a network interface are protected by a trust relation",
               "needs the update channel captured or intercepted (machine-in-the-middle)"),
    ManualTest("5.5-1-2", "5.5-1", "Best-practice cryptography on every communication channel",
               "the probe judges the TLS and SSH services the device offers; the device's own outbound "
               "connections (cloud, app, MQTT client) need traffic capture",
               ("network.tls-legacy-protocol", "network.tls-weak-cipher", "network.tls-certificate",
                "network.ssh-weak-algorithms", "network.cleartext-services", "network.http-cleartext-login")),
    ManualTest("5.5-4-2", "5.5-4", "Device functions reached over the network need authentication once initialised",
               "needs knowledge of each API's functions and a tester exercising them unauthenticated",
               ("network.unauthenticated-disclosure", "network.http-cleartext-login")),
    ManualTest("5.5-5-2", "5.5-5", "Security-relevant configuration changes over a network interface need authentication",
               "needs the device's configuration functions exercised without credentials"),
    ManualTest("5.5-6-2", "5.5-6", "Critical security parameters are encrypted in transit",
               "needs traffic capture while parameters are provisioned or exchanged",
               ("network.cleartext-services",)),
    ManualTest("5.5-7-2", "5.5-7", "Critical security parameters are protected on remotely accessible interfaces",
               "needs traffic capture and the IXIT 11 description of each channel"),
    ManualTest("5.6-1-2", "5.6-1", "Unused network and logical interfaces are disabled",
               "the probe compares open ports with the declaration; interfaces that are only enabled in some "
               "states (pairing mode, after reset) need a tester", ("network.undeclared-services",)),
    ManualTest("5.6-2-2", "5.6-2", "In the initialised state, no security-relevant information is disclosed without authentication",
               "the probe fetches a short list of paths and the discovery answers; a full review of every "
               "endpoint needs a tester", ("network.unauthenticated-disclosure",)),
    ManualTest("5.6-4-2", "5.6-4", "Debug interfaces are disabled in software",
               "network debug services (adb, telnet, vendor ports) show up as undeclared or cleartext services; "
               "physical debug ports need the hardware", ("network.undeclared-services", "network.cleartext-services")),
    ManualTest("5.8-1-2", "5.8-1", "Personal data in transit between device and services is protected",
               "needs capture of the device's outbound traffic to its cloud and app"),
    ManualTest("5.9-2-2", "5.9-2", "The device stays functional when the network is lost",
               "needs the network or the cloud service cut during operation"),
    ManualTest("5.9-3-2", "5.9-3", "The device connects in an expected state after a network outage",
               "needs the network restored and the device's reconnection observed"),
    ManualTest("5.13-1-2", "5.13-1", "Data input via network interfaces and APIs is validated",
               "needs protocol fuzzing of each service, beyond a probe's safe budget"),
)  # fmt: skip
