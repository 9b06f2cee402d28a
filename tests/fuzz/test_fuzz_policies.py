"""Fuzz the policy and list files a user may substitute for the packaged ones.

``cybersafe.evidence.network.policy.load_policy`` and ``cybersafe.evidence.vulndb.policy.load_policy`` take a
path, and ``cybersafe.evidence.network.credentials.load_default_credentials`` a credential list. Today the
CLI only passes the packaged files, so the bugs below are latent; the property is the house rule anyway:
load, or raise ``InputError`` with one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from fuzz_support import assert_one_line, clean_call, fuzz, mutated, mutated_text, scratch_file
from hypothesis import assume, given
from hypothesis import strategies as st

from cybersafe.errors import InputError
from cybersafe.evidence.network import policy as network_policy
from cybersafe.evidence.network.credentials import load_default_credentials
from cybersafe.evidence.vulndb import policy as vulndb_policy

NETWORK_TEXT = network_policy.POLICY_FILE.read_text(encoding="utf-8")
VULNDB_TEXT = (Path(vulndb_policy.__file__).with_name("policy.yaml")).read_text(encoding="utf-8")


def _dump(data: Any) -> str:
    try:
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, UnicodeError):
        assume(False)
        raise


@fuzz(40)
@given(st.one_of(mutated(yaml.safe_load(NETWORK_TEXT), max_mutations=3).map(_dump), mutated_text(NETWORK_TEXT)))
def test_network_policy(text: str) -> None:
    with scratch_file("policy.yaml", text) as path:
        clean_call(lambda: network_policy.load_policy(path), (InputError,))


@fuzz(30)
@given(st.text(max_size=40))
def test_network_policy_any_pattern(pattern: str) -> None:
    # Given a forbidden-cipher pattern that is any text (compiled with re at load time)
    data = yaml.safe_load(NETWORK_TEXT)
    data["tls"]["forbidden_cipher_patterns"][0]["pattern"] = pattern
    with scratch_file("policy.yaml", _dump(data)) as path:
        clean_call(lambda: network_policy.load_policy(path), (InputError,))


@fuzz(100)
@given(mutated(yaml.safe_load(VULNDB_TEXT), max_mutations=3).map(_dump))
def test_vulndb_policy_mutated_structure(text: str) -> None:
    with scratch_file("policy.yaml", text) as path:
        clean_call(lambda: vulndb_policy.load_policy(path), (InputError,))


@fuzz(100)
@given(st.binary(max_size=200))
def test_credential_list(data: bytes) -> None:
    with scratch_file("creds.txt", data.decode("utf-8", "replace")) as path:
        for cred in load_default_credentials(path):
            assert "\n" not in cred.username + cred.password


# --- regression tests of bugs found by fuzzing (fixed; they run as plain tests) --------------------------


def test_bug_vulndb_policy_malformed_yaml(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("fail_at_or_above: [", encoding="utf-8")
    with pytest.raises(InputError) as info:
        vulndb_policy.load_policy(path)
    assert_one_line(info.value)
