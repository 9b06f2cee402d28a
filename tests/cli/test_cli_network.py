"""``cybersafe probe``: refusals, bad options and an unreachable device give one line and exit 2."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from cybersafe.cli import app
from cybersafe.evidence.network.manual import MANUAL_TESTS

runner = CliRunner()


@pytest.fixture
def dropping_port() -> Iterator[int]:
    """A listener whose accept queue is full: further SYNs are dropped, as by an absent or filtered device."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(2):
        filler = socket.socket()
        filler.settimeout(0.3)
        with contextlib.suppress(OSError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for filler in fillers:
        filler.close()
    listener.close()


@pytest.mark.parametrize(
    ("target", "phrase"),
    [
        pytest.param("127.0.0.0/29", "range of 8 addresses; name one device, or pass --allow-multiple", id="cidr"),
        pytest.param("224.0.0.251", "multicast address, not one device", id="multicast"),
    ],
)
def test_target_that_is_not_one_host_is_refused(target: str, phrase: str) -> None:
    result = runner.invoke(app, ["probe", target, "--ports", "22", "--only-ports"])
    assert result.exit_code == 2
    assert phrase in " ".join(result.stderr.split())
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_bad_ports_option_is_refused() -> None:
    result = runner.invoke(app, ["probe", "127.0.0.1", "--ports", "22,99999"])
    assert result.exit_code == 2
    assert "bad port" in result.stderr


def test_only_ports_needs_ports() -> None:
    result = runner.invoke(app, ["probe", "127.0.0.1", "--only-ports"])
    assert result.exit_code == 2


@pytest.mark.slow
def test_unreachable_device_is_one_clear_line(dropping_port: int) -> None:
    # Given a device that answers on no port
    result = runner.invoke(
        app,
        ["probe", "127.0.0.1", "--ports", str(dropping_port), "--only-ports", "--timeout", "0.4", "--format", "json"],
    )
    # Then one line names the device and the reason; nothing on stdout
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "unreachable" in lines[0] and "127.0.0.1" in lines[0]
    assert result.stdout == ""


def test_help_lists_the_manual_ts_103_701_tests() -> None:
    result = runner.invoke(app, ["probe", "--help"], env={"COLUMNS": "400"})
    assert result.exit_code == 0
    for test in MANUAL_TESTS:
        assert test.test_case in result.stdout
    assert "--allow-multiple" in result.stdout
