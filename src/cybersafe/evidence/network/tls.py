"""TLS with sslyze's Python API: protocol versions, accepted cipher suites and the certificate, per port.

sslyze runs its own thread pool; the probe calls it through ``asyncio.to_thread`` and limits it to a few
connections at a time. Verdicts are not made here: ``policy.py`` compares a ``TlsResult`` with the
versioned policy file, in the checks.
"""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any

from cybersafe.evidence.network.model import CertificateObservation, CipherSuiteObservation, TlsResult

# sslyze scan command -> protocol name in our results
_PROTOCOL_COMMANDS: tuple[tuple[str, str], ...] = (
    ("ssl_2_0_cipher_suites", "SSLv2"),
    ("ssl_3_0_cipher_suites", "SSLv3"),
    ("tls_1_0_cipher_suites", "TLSv1.0"),
    ("tls_1_1_cipher_suites", "TLSv1.1"),
    ("tls_1_2_cipher_suites", "TLSv1.2"),
    ("tls_1_3_cipher_suites", "TLSv1.3"),
)


def scan_tls(address: str, port: int, *, concurrency: int = 5, timeout: float = 5.0) -> TlsResult:
    """Blocking: run the sslyze scan commands the policy needs against one port of the one address."""
    from cryptography.utils import CryptographyDeprecationWarning
    from sslyze.plugins.scan_commands import ScanCommand
    from sslyze.scanner.models import ServerConnectivityStatusEnum, ServerScanRequest, ServerScanStatusEnum
    from sslyze.scanner.scanner import Scanner
    from sslyze.server_setting import ServerNetworkConfiguration, ServerNetworkLocation

    commands = {
        ScanCommand.SSL_2_0_CIPHER_SUITES,
        ScanCommand.SSL_3_0_CIPHER_SUITES,
        ScanCommand.TLS_1_0_CIPHER_SUITES,
        ScanCommand.TLS_1_1_CIPHER_SUITES,
        ScanCommand.TLS_1_2_CIPHER_SUITES,
        ScanCommand.TLS_1_3_CIPHER_SUITES,
        ScanCommand.CERTIFICATE_INFO,
    }
    location = ServerNetworkLocation(hostname=address, port=port, ip_address=address)
    network = ServerNetworkConfiguration(tls_server_name_indication=address, network_timeout=max(1, round(timeout)))
    request = ServerScanRequest(server_location=location, network_configuration=network, scan_commands=commands)
    # Bundled trust-store certificates trip cryptography deprecation warnings; they are not ours to fix.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        scanner = Scanner(per_server_concurrent_connections_limit=max(1, min(concurrency, 5)))
        scanner.queue_scans([request])
        results = list(scanner.get_results())
        if not results:
            return TlsResult(port, False, "sslyze returned no result")
        result = results[0]
        if result.connectivity_status is not ServerConnectivityStatusEnum.COMPLETED:
            reason = str(result.connectivity_error_trace or "") or "TLS connection failed"
            return TlsResult(port, False, f"TLS connectivity: {_one_line(reason)}")
        if result.scan_status is not ServerScanStatusEnum.COMPLETED or result.scan_result is None:
            return TlsResult(port, False, "sslyze did not complete the scan")
        return _convert(port, result.scan_result)


def _convert(port: int, scan: Any) -> TlsResult:
    protocols: list[str] = []
    suites: list[CipherSuiteObservation] = []
    incomplete: list[str] = []
    for attribute, protocol in _PROTOCOL_COMMANDS:
        attempt = getattr(scan, attribute)
        if attempt.result is None:
            incomplete.append(f"{protocol} cipher suites: {_attempt_error(attempt)}")
            continue
        accepted = attempt.result.accepted_cipher_suites
        if accepted:
            protocols.append(protocol)
        for suite in accepted:
            name = suite.cipher_suite.name
            forward = protocol == "TLSv1.3" or "DHE_" in name or suite.ephemeral_key is not None
            suites.append(CipherSuiteObservation(name, protocol, int(suite.cipher_suite.key_size), forward))
    certificate = None
    cert_attempt = scan.certificate_info
    if cert_attempt.result is None:
        incomplete.append(f"certificate: {_attempt_error(cert_attempt)}")
    else:
        certificate = _certificate(cert_attempt.result)
        if certificate is None:
            incomplete.append("certificate: none received")
    return TlsResult(
        port,
        completed=not incomplete,
        error="; ".join(incomplete) or None,
        protocols=tuple(protocols),
        cipher_suites=tuple(suites),
        certificate=certificate,
        incomplete=tuple(incomplete),
    )


def _certificate(info: Any) -> CertificateObservation | None:
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

    deployments = info.certificate_deployments
    if not deployments or not deployments[0].received_certificate_chain:
        return None
    deployment = deployments[0]
    leaf = deployment.received_certificate_chain[0]
    key = leaf.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        key_type, key_size = "RSA", key.key_size
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key_type, key_size = "EC", key.curve.key_size
    elif isinstance(key, ed25519.Ed25519PublicKey):
        key_type, key_size = "Ed25519", 256
    elif isinstance(key, ed448.Ed448PublicKey):
        key_type, key_size = "Ed448", 456
    elif isinstance(key, dsa.DSAPublicKey):
        key_type, key_size = "DSA", key.key_size
    else:
        key_type, key_size = type(key).__name__, 0
    hash_algorithm = leaf.signature_hash_algorithm
    trusted = any(r.was_validation_successful for r in deployment.path_validation_results)
    return CertificateObservation(
        subject=leaf.subject.rfc4514_string(),
        issuer=leaf.issuer.rfc4514_string(),
        not_before=_iso(leaf.not_valid_before_utc),
        not_after=_iso(leaf.not_valid_after_utc),
        key_type=key_type,
        key_size=int(key_size),
        signature_hash=hash_algorithm.name if hash_algorithm is not None else None,
        self_signed=leaf.issuer == leaf.subject,
        trusted=trusted,
    )


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _attempt_error(attempt: Any) -> str:
    reason = getattr(attempt, "error_reason", None)
    trace = getattr(attempt, "error_trace", None)
    text = str(getattr(reason, "name", reason) or "error")
    if trace is not None:
        text += f" ({_one_line(str(trace))})"
    return text


def _one_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return (lines[-1] if lines else text)[:160]
