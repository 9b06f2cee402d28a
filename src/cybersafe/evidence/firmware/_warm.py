"""A warm start for the extraction child, for processes that scan many images (a batch worker).

Every cold extraction child spends 0.5 to 0.9 s importing unblob and lief before it unpacks anything. A batch
worker instead starts one *zygote* once: a process that has imported them and waits. For each extraction it
forks a child that is the cold child in every other respect (``_unblob_child.main`` with the same argument,
work directory, environment and stderr file; a session and process group of its own, so the parent's
supervision, budgets and group kill are unchanged). The zygote itself runs nothing of an image, so no image can
leave state in it; it reaps its children and reports their exit codes. When it is gone or does not answer,
extraction falls back to the cold start.

Protocol (zygote stdin/stdout, one JSON object per line): request ``{"id", "args", "cwd", "env", "stderr"}``,
reply ``{"id", "pid"}``; when a child ends, ``{"pid", "code"}``.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

_START_TIMEOUT_S = 30.0  # the zygote's imports, on a loaded machine
_REPLY_TIMEOUT_S = 10.0
_INTERNAL_ERROR = 3


class Zygote:
    """The parent's handle on one zygote process."""

    def __init__(self) -> None:
        env = dict(os.environ, PYTHONWARNINGS="ignore")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", __name__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._out = self._proc.stdout.fileno()
        os.set_blocking(self._out, False)
        self._buffer = b""
        self._codes: dict[int, int] = {}
        self._lock = threading.Lock()
        self._next = 0
        if self._read_until(lambda msg: msg.get("ready") is True, _START_TIMEOUT_S) is None:
            self.close()
            raise OSError("the extraction zygote did not start")

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    def spawn(self, args: str, cwd: Path, env: dict[str, str], stderr: Path) -> WarmChild:
        """A forked extraction child; raises OSError when the zygote cannot give one."""
        with self._lock:
            self._next += 1
            request = {"id": self._next, "args": args, "cwd": str(cwd), "env": env, "stderr": str(stderr)}
            try:
                stdin = self._proc.stdin
                assert stdin is not None
                stdin.write(json.dumps(request).encode() + b"\n")
                stdin.flush()
            except (OSError, ValueError) as exc:
                raise OSError(f"the extraction zygote is gone: {exc}") from None
            ident = self._next
            reply = self._read_until(lambda msg: msg.get("id") == ident, _REPLY_TIMEOUT_S)
        if reply is None or not isinstance(reply.get("pid"), int):
            # whatever it may still have forked must not extract beside the cold start that replaces it: the
            # zygote goes, with its group (a child that has no session of its own yet is in it)
            self.close()
            raise OSError("the extraction zygote did not fork a child")
        return WarmChild(self, reply["pid"])

    def exit_code(self, pid: int) -> int | None:
        with self._lock:
            self._read_until(lambda msg: False, 0.0)
            if pid not in self._codes and not self.alive:
                return -signal.SIGKILL  # its reaper is gone: the child cannot report any more
            return self._codes.get(pid)

    def close(self) -> None:
        """End the zygote (and with it any child it still runs)."""
        for pipe in (self._proc.stdin, self._proc.stdout):
            with contextlib.suppress(OSError, ValueError):
                if pipe is not None:
                    pipe.close()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._proc.pid, signal.SIGKILL)
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            self._proc.wait(timeout=5)

    def _read_until(self, wanted: Any, timeout: float) -> dict[str, Any] | None:
        """Read the replies that arrive within ``timeout``, noting exit codes; the first ``wanted`` one, or None."""
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self._buffer:
                line, self._buffer = self._buffer.split(b"\n", 1)
                message = json.loads(line)
                if "code" in message:
                    self._codes[int(message["pid"])] = int(message["code"])
                if wanted(message):
                    return dict(message)
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._out], [], [], max(0.0, left))
            if not ready:
                return None
            try:
                data = os.read(self._out, 65536)
            except BlockingIOError:
                continue
            if not data:  # the zygote ended
                return None
            self._buffer += data


class WarmChild:
    """The part of ``subprocess.Popen`` the supervision uses, for a child the zygote forked."""

    def __init__(self, zygote: Zygote, pid: int) -> None:
        self._zygote = zygote
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self._zygote.exit_code(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"extraction child {self.pid}", timeout or 0.0)
            time.sleep(0.005)
        return code


_ZYGOTE: list[Zygote] = []  # at most one per process, started by ``enable``
_ENABLED = threading.Event()


def enable() -> None:
    """Use a warm start for this process's extractions from now on (it starts on the first one)."""
    _ENABLED.set()


def disable() -> None:
    """Cold starts again, and this process's zygote (if any) ended."""
    _ENABLED.clear()
    _close()
    _ZYGOTE.clear()


def zygote() -> Zygote | None:
    """This process's zygote when warm starts are enabled, started on first use; None when it cannot start."""
    if not _ENABLED.is_set():
        return None
    if _ZYGOTE and _ZYGOTE[0].alive:
        return _ZYGOTE[0]
    for old in _ZYGOTE:
        old.close()
    _ZYGOTE.clear()
    try:
        _ZYGOTE.append(Zygote())
    except OSError:
        _ENABLED.clear()  # a machine where it cannot start: cold starts, as before
        return None
    return _ZYGOTE[0]


@atexit.register
def _close() -> None:
    for running in _ZYGOTE:
        running.close()


# --- the zygote process ------------------------------------------------------------------------------


def _serve() -> int:
    from cybersafe.evidence.firmware import _unblob_child as child

    child.preload()
    replies = os.dup(1)  # fd 1 is the children's /dev/null from here on
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 1)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    live: set[int] = set()

    def reply(message: dict[str, Any]) -> None:
        os.write(replies, json.dumps(message).encode() + b"\n")

    reply({"ready": True})
    buffer = b""
    while True:
        try:
            ready, _, _ = select.select([0, wake_r], [], [])
        except InterruptedError:
            continue
        if wake_r in ready:
            os.read(wake_r, 4096)
        _reap(live, reply)
        if 0 not in ready:
            continue
        data = os.read(0, 65536)
        if not data:  # the parent is gone: so are the extractions it supervised
            for pid in live:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
            return 0
        buffer += data
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            request = json.loads(line)
            # the pid is handed out only once the child leads its own session and group: a group kill the parent
            # sends at once must not miss it
            settled_r, settled_w = os.pipe()
            pid = os.fork()
            if pid == 0:
                for fd in (replies, wake_r, wake_w, settled_r):
                    os.close(fd)
                _child(request, null, settled_w)  # never returns
            os.close(settled_w)
            os.read(settled_r, 1)  # a byte once it has its session; end of file if it died first
            os.close(settled_r)
            live.add(pid)
            reply({"id": request["id"], "pid": pid})


def _reap(live: set[int], reply: Any) -> None:
    while live:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        live.discard(pid)
        reply({"pid": pid, "code": os.waitstatus_to_exitcode(status)})


def _child(request: dict[str, Any], null: int, settled: int) -> None:
    """In the forked child: become what a cold start would have been, run the extraction, exit."""
    code = _INTERNAL_ERROR
    try:
        os.setsid()
        os.write(settled, b"s")
        os.close(settled)
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.dup2(null, 0)
        os.dup2(null, 1)
        err = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(err, 2)
        os.close(err)
        from cybersafe.evidence.firmware import _unblob_child as child

        code = child.main([request["args"]])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else _INTERNAL_ERROR
    except BaseException:  # noqa: BLE001 - reported on stderr, as a cold child's traceback would be
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    sys.exit(_serve())
