"""Meta-test (unblob's test_missing_handlers_integrations_tests): every built-in check has an integration case."""

from __future__ import annotations

from pathlib import Path

from cybersafe.checks import BUILTIN_CHECKS

INTEGRATION = Path(__file__).parent / "integration"


def test_every_builtin_check_has_an_integration_case() -> None:
    missing = []
    for check in BUILTIN_CHECKS:
        family = check.ID.split(".", 1)[0]
        case_dir = INTEGRATION / family / check.ID
        if not case_dir.is_dir() or not any(case_dir.iterdir()):
            missing.append(str(case_dir.relative_to(INTEGRATION)))
    assert not missing, f"checks without an integration case: {missing}"
