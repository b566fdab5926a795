"""Run the sample backend as a child process for the demo, and stop it again.

::

    backend = BackendProcess.start(log_path=Path(".demo/backend.log"), username="u", password="p")
    backend.url  # "http://127.0.0.1:54321", read from its "listening on" line
    backend.stop()
"""

from __future__ import annotations

import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Self

__all__ = ["BackendError", "BackendProcess", "free_port", "sample_backend_command"]

_READY = re.compile(r"sample backend listening on (https?://\S+)")


class BackendError(RuntimeError):
    """The sample backend did not start."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def sample_backend_command(port: int, username: str, password: str) -> list[str]:
    # `--name=value`: a random password may begin with "-", which argparse would take for
    # an option (secrets.token_urlsafe does, one time in 64).
    return [
        sys.executable,
        "-m",
        "sample_backend",
        "--port",
        str(port),
        f"--username={username}",
        f"--password={password}",
    ]


def _pump(stream: IO[str], lines: queue.Queue[str | None], log_path: Path) -> None:
    # Drains the child's output for its whole life, or a full pipe would block it.
    with log_path.open("a", encoding="utf-8") as log:
        for line in stream:
            log.write(line)
            log.flush()
            lines.put(line)
    lines.put(None)


def _tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join("    " + line for line in text.splitlines()[-lines:])


def _wait_until_ready(process: subprocess.Popen[str], log_path: Path, timeout: float) -> str:
    assert process.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(process.stdout, lines, log_path), daemon=True).start()
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=remaining)
        except queue.Empty:
            break
        if line is None:
            process.wait()
            raise BackendError(
                f"The sample backend exited (status {process.returncode}) before it was ready; "
                f"see {log_path}:\n{_tail(log_path)}"
            )
        if match := _READY.search(line):
            return match.group(1).rstrip("/")
    raise BackendError(f"The sample backend did not start within {timeout:g} s; see {log_path}.")


class BackendProcess:
    """A started sample backend; ``url`` is where it listens."""

    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process = process
        self.url = url

    @classmethod
    def start(
        cls,
        *,
        log_path: Path,
        username: str,
        password: str,
        command: Sequence[str] | None = None,
        timeout: float = 20.0,
    ) -> Self:
        """Start it and wait for its ready line; raises :class:`BackendError` otherwise."""
        argv = list(command or sample_backend_command(free_port(), username, password))
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            # Its own session: the terminal's Ctrl-C reaches the demo, which stops it in order.
            start_new_session=True,
        )
        try:
            return cls(process, _wait_until_ready(process, log_path, timeout))
        except BaseException:
            cls(process, "").stop()
            raise

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate it (kill it if it does not stop within ``timeout``)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
