"""``cybersafe`` leaves without the interpreter's final teardown (0.15 s of every command), but otherwise as a
normal exit does: non-daemon threads finish, exit handlers run, output is flushed, the status is kept."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import atexit, sys, threading, time
from pathlib import Path
from cybersafe.cli import _exit_now
out = Path(sys.argv[1])
def late():
    time.sleep(0.2)
    (out / "thread").write_text("done")
threading.Thread(target=late).start()
atexit.register(lambda: (out / "atexit").write_text("ran"))
sys.stdout.write("unflushed")
_exit_now(eval(sys.argv[2]))
"""


@pytest.mark.parametrize(("code", "status", "stderr"), [("None", 0, ""), ("3", 3, ""), ("'bye'", 1, "bye\n")])
def test_exit_now_keeps_what_a_normal_exit_does(tmp_path: Path, code: str, status: int, stderr: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), code], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == status, done.stderr
    assert done.stdout == "unflushed"
    assert done.stderr == stderr
    assert (tmp_path / "thread").read_text() == "done"  # the non-daemon thread was waited for
    assert (tmp_path / "atexit").read_text() == "ran"


def test_the_command_line_keeps_its_exit_codes() -> None:
    exe = Path(sys.executable).with_name("cybersafe")
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=False, timeout=60)
    assert (version.returncode, version.stdout.startswith("cybersafe ")) == (0, True)
    typo = subprocess.run([str(exe), "frimware"], capture_output=True, text=True, check=False, timeout=60)
    assert typo.returncode == 2
    assert typo.stderr.count("\n") == 1 and "Did you mean 'firmware'" in typo.stderr
