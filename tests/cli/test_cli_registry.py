"""`cybersafe registry ...` and `verify` as CI and newcomers meet them: --format json everywhere, ports and
database files refused in one line with exit 2, a server's validation errors shown as one line naming the field,
never a raw pydantic list or ``[Errno N]``; `verify --log-key` pins the log key and `--witness-quorum` counts."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from cybersafe.cli import app

runner = CliRunner()


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert "[Errno" not in lines[0] and "Traceback" not in err and "[{" not in lines[0], err
    return lines[0]


def _commands(group: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


def test_every_registry_command_and_verify_take_format_json() -> None:
    root: Any = typer.main.get_command(app)
    registry = root.commands["registry"]
    commands = [*_commands(registry, ("registry",)), (("verify",), root.commands["verify"])]
    assert len(commands) >= 21
    for path, command in commands:
        formats = [p for p in command.params if "--format" in getattr(p, "opts", [])]
        assert formats, f"{' '.join(path)} has no --format"
        choices = formats[0].type_descriptor.choices or ()
        assert "json" in [str(getattr(c, "value", c)) for c in choices], path


@pytest.mark.parametrize("port", ["99999", "0", "-1", "65536"])
def test_serve_refuses_a_port_out_of_range(tmp_path: Path, port: str) -> None:
    db = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    code, out, err = _run("registry", "serve", "--port", port, "--db", db)
    assert code == 2, out + err
    assert f"--port: {port} is not a TCP port (1-65535)" in _one_error_line(err)
    assert not (tmp_path / "r.sqlite3").exists()  # refused before anything was made
    code, _, err = _run("registry", "witness", "serve", "--port", port, "--key", "k", "--name", "w", "--log", "l",
                        "--state", str(tmp_path / "s"))  # fmt: skip
    assert code == 2 and "is not a TCP port" in _one_error_line(err)


def test_serve_refuses_a_port_in_use_naming_the_address(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code, out, err = _run("registry", "serve", "--port", str(port), "--db", f"sqlite:///{tmp_path / 'r.db'}")
        assert code == 2, out + err
        line = _one_error_line(err)
        assert f"cannot listen on 127.0.0.1:{port}: address already in use" in line
        assert "registry on" not in out  # nothing announced


@pytest.mark.parametrize("what", ["text file", "directory", "missing directory"])
def test_a_db_that_is_no_sqlite_database_is_named(tmp_path: Path, what: str) -> None:
    target = tmp_path / "registry.db"
    if what == "text file":
        target.write_text("hello, not a database\n" * 100)
    elif what == "directory":
        target.mkdir()
    else:
        target = tmp_path / "nowhere" / "registry.db"
    for args in (("registry", "log-key"), ("registry", "token", "create", "--role", "admin")):
        code, out, err = _run(*args, "--db", f"sqlite:///{target}")
        assert code == 2, out + err
        line = _one_error_line(err)
        assert f"--db: {target}: " in line
        if what == "text file":
            assert "not a SQLite database" in line


def test_a_db_that_is_no_url_is_named(tmp_path: Path) -> None:
    code, _, err = _run("registry", "log-key", "--db", "postgres is here")
    assert code == 2 and "postgres is here" in _one_error_line(err)


class _FastApi422(BaseHTTPRequestHandler):
    """Answers as FastAPI does to a body that fails validation: a list of pydantic errors."""

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        detail = [
            {"type": "date_from_datetime_parsing", "loc": ["body", "support_end"],
             "msg": "Input should be a valid date or datetime, input is too short", "input": "soon"},
            {"type": "missing", "loc": ["body", "x"], "msg": "Field required", "input": {}},
        ]  # fmt: skip
        body = json.dumps({"detail": detail}).encode()
        self.send_response(422)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


def test_a_servers_validation_errors_are_one_line_naming_the_field() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FastApi422)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        code, _, err = _run("registry", "support", "7", "--support-end", "soon", "--token", "t", "--url", url)
    finally:
        server.shutdown()
        server.server_close()
    assert code == 2
    line = _one_error_line(err)
    assert "HTTP 422: support_end: Input should be a valid date" in line and "(and 1 more)" in line
    assert "date_from_datetime_parsing" not in line


def test_registry_errors_from_the_environment_have_no_errno(tmp_path: Path) -> None:
    code, _, err = _run("registry", "publish", str(tmp_path), "--token", "t")
    assert code == 2 and str(tmp_path) in _one_error_line(err)
    code, _, err = _run("registry", "revoke", "CSL-X", "--reason", "r", "--token", "t", "--url", "http://127.0.0.1:9")
    assert code == 2 and "cannot reach the registry" in _one_error_line(err)
