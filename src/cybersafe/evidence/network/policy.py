"""The versioned cryptography policy (``data/policy.yaml``) and the comparisons the network checks make.

The file is data with a version; a report quotes ``id@version`` so two reports judged by the same rules
can be recognised. Loading validates it strictly (unknown keys are errors naming file, line and field).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cybersafe.errors import InputError
from cybersafe.evidence.network.model import CertificateObservation, CipherSuiteObservation, SshAlgorithm, TlsResult
from cybersafe.yamlio import first_pydantic_error, load_yaml

POLICY_FILE = Path(__file__).with_name("data") / "policy.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Rule(_Strict):
    pattern: str
    reason: str


class _Tls(_Strict):
    allowed_protocols: list[str]
    forbidden_cipher_patterns: list[_Rule]
    require_forward_secrecy: bool
    min_symmetric_key_bits: int = Field(ge=0)


class _Certificate(_Strict):
    min_rsa_bits: int = Field(ge=0)
    min_dsa_bits: int = Field(ge=0)
    min_ec_bits: int = Field(ge=0)
    forbidden_signature_hashes: list[str]
    require_trusted_chain: bool


class _SshForbidden(_Strict):
    kex: list[_Rule] = Field(default_factory=list)
    key: list[_Rule] = Field(default_factory=list)
    enc: list[_Rule] = Field(default_factory=list)
    mac: list[_Rule] = Field(default_factory=list)


class _Ssh(_Strict):
    forbidden_algorithms: _SshForbidden
    min_rsa_host_key_bits: int = Field(ge=0)


class _PolicyFile(_Strict):
    id: str
    version: str
    sources: list[str] = Field(default_factory=list)
    tls: _Tls
    certificate: _Certificate
    ssh: _Ssh


@dataclass(frozen=True, slots=True)
class Violation:
    subject: str  # suite, protocol, algorithm or certificate field
    reason: str


@dataclass(frozen=True)
class NetworkPolicy:
    id: str
    version: str
    spec: _PolicyFile

    @property
    def label(self) -> str:
        return f"{self.id}@{self.version}"

    # TLS ---------------------------------------------------------------------------------------------------
    def legacy_protocols(self, result: TlsResult) -> list[Violation]:
        allowed = set(self.spec.tls.allowed_protocols)
        return [
            Violation(p, f"{p} is not allowed (policy allows {', '.join(sorted(allowed))})")
            for p in result.protocols
            if p not in allowed
        ]

    def weak_suites(self, result: TlsResult) -> list[tuple[CipherSuiteObservation, str]]:
        out: list[tuple[CipherSuiteObservation, str]] = []
        for suite in result.cipher_suites:
            reason = self.suite_problem(suite)
            if reason is not None:
                out.append((suite, reason))
        return out

    def suite_problem(self, suite: CipherSuiteObservation) -> str | None:
        for rule in self.spec.tls.forbidden_cipher_patterns:
            if re.search(rule.pattern, suite.name):
                return rule.reason
        if suite.key_size and suite.key_size < self.spec.tls.min_symmetric_key_bits:
            return f"{suite.key_size}-bit key, below {self.spec.tls.min_symmetric_key_bits}"
        if self.spec.tls.require_forward_secrecy and not suite.forward_secrecy:
            return "no forward secrecy (static RSA or static DH key exchange)"
        return None

    # Certificate -------------------------------------------------------------------------------------------
    def certificate_problems(self, cert: CertificateObservation, at: dt.datetime) -> list[Violation]:
        rules = self.spec.certificate
        out: list[Violation] = []
        not_before = _parse_time(cert.not_before)
        not_after = _parse_time(cert.not_after)
        if at > not_after:
            out.append(Violation("not_after", f"expired on {cert.not_after}"))
        if at < not_before:
            out.append(Violation("not_before", f"not valid before {cert.not_before}"))
        minimum = {"RSA": rules.min_rsa_bits, "DSA": rules.min_dsa_bits, "EC": rules.min_ec_bits}.get(cert.key_type, 0)
        if cert.key_size < minimum:
            out.append(Violation("key", f"{cert.key_type} key of {cert.key_size} bits, below {minimum}"))
        if cert.signature_hash and cert.signature_hash.lower() in {h.lower() for h in rules.forbidden_signature_hashes}:
            out.append(Violation("signature", f"signed with {cert.signature_hash}"))
        if rules.require_trusted_chain and not cert.trusted:
            out.append(Violation("chain", "does not chain to a trusted root"))
        return out

    # SSH ---------------------------------------------------------------------------------------------------
    def ssh_problem(self, algorithm: SshAlgorithm) -> str | None:
        rules: list[_Rule] = getattr(self.spec.ssh.forbidden_algorithms, algorithm.kind, [])
        for rule in rules:
            if re.fullmatch(rule.pattern, algorithm.name):
                return rule.reason
        if (
            algorithm.kind == "key"
            and algorithm.key_size is not None
            and "rsa" in algorithm.name
            and algorithm.key_size < self.spec.ssh.min_rsa_host_key_bits
        ):
            return f"{algorithm.key_size}-bit RSA host key, below {self.spec.ssh.min_rsa_host_key_bits}"
        return None


def _parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def load_policy(path: Path) -> NetworkPolicy:
    document = load_yaml(path)
    try:
        spec = _PolicyFile.model_validate(document.data)
    except ValidationError as exc:
        errors: list[Mapping[str, Any]] = [dict(e) for e in exc.errors()]
        raise first_pydantic_error(errors, document, InputError) from None
    for section, rules in (
        ("tls.forbidden_cipher_patterns", spec.tls.forbidden_cipher_patterns),
        ("ssh.forbidden_algorithms", [*spec.ssh.forbidden_algorithms.kex, *spec.ssh.forbidden_algorithms.key,
                                      *spec.ssh.forbidden_algorithms.enc, *spec.ssh.forbidden_algorithms.mac]),
    ):  # fmt: skip
        for rule in rules:
            try:
                re.compile(rule.pattern)
            except re.error as exc:
                raise InputError(f"bad pattern {rule.pattern!r}: {exc}", file=path, field=section) from None
    return NetworkPolicy(spec.id, spec.version, spec)


@functools.cache
def default_policy() -> NetworkPolicy:
    return load_policy(POLICY_FILE)
