"""Start, pin, watch and stop the benchmark's server processes.

The machine has two cores. Where it can (two usable CPUs and ``taskset``), the server
under test (the gateway or the baseline proxy) runs alone on one core, and the sample
backend, wrk and this harness share the other::

    layout = CpuLayout.choose()
    with ServerProcess.start(
        "backend", [sys.executable, "-m", "sample_backend", "--port", "8001"],
        port=8001, cpu=layout.load, log_path=Path("backend.log"),
    ) as backend:
        print(backend.rss_kib(), backend.cpu_seconds())

Memory is read from ``/proc/PID/status`` (``VmRSS`` now, ``VmHWM`` the peak so far) and
CPU time from ``/proc/PID/stat``; :class:`Sampler` polls several processes during a run.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

__all__ = ["CpuLayout", "Sampler", "ServerProcess", "core_times", "free_port"]

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port nobody listens on right now (on 127.0.0.1)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class CpuLayout:
    """Which core the server under test gets, and which the load side shares."""

    server: int | None
    load: int | None
    taskset: str | None

    @classmethod
    def choose(cls) -> CpuLayout:
        """Pin when two CPUs are usable and ``taskset`` exists; otherwise do not pin."""
        cpus = sorted(os.sched_getaffinity(0))
        taskset = shutil.which("taskset")
        if len(cpus) < 2 or taskset is None:
            return cls(None, None, None)
        return cls(server=cpus[1], load=cpus[0], taskset=taskset)

    @property
    def pinned(self) -> bool:
        return self.taskset is not None

    def prefix(self, cpu: int | None) -> list[str]:
        """``taskset -c CPU`` to put in front of a command, or nothing."""
        if self.taskset is None or cpu is None:
            return []
        return [self.taskset, "-c", str(cpu)]

    def pin_self(self) -> None:
        """Keep this harness (and the CLI commands it runs) off the server's core."""
        if self.load is not None:
            os.sched_setaffinity(0, {self.load})

    def describe(self) -> str:
        if not self.pinned:
            return (
                f"not pinned ({len(os.sched_getaffinity(0))} usable CPU(s) or no taskset):"
                " every process shares every core"
            )
        return (
            f"gateway or baseline pinned alone to core {self.server}; the sample backend,"
            f" wrk and this harness share core {self.load}"
        )


def core_times() -> dict[int, tuple[int, int]]:
    """Busy and total jiffies of each core since boot (``/proc/stat``), whoever used them."""
    times = {}
    with open("/proc/stat", encoding="ascii") as stat:
        for line in stat:
            name, *values = line.split()
            if name.startswith("cpu") and name != "cpu":
                user, nice, system, idle, iowait, irq, softirq, steal = map(int, values[:8])
                total = user + nice + system + idle + iowait + irq + softirq + steal
                times[int(name[3:])] = (total - idle - iowait, total)
    return times


def _read_status_kib(pid: int, field_name: str) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field_name} for process {pid}")


@dataclass
class ServerProcess:
    """A server subprocess listening on a port, with its log in a file."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @classmethod
    def start(
        cls,
        name: str,
        argv: Sequence[str],
        *,
        port: int,
        log_path: Path,
        cpu_prefix: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        health_path: str | None = None,
        timeout: float = 30.0,
    ) -> ServerProcess:
        """Start ``argv`` (behind ``cpu_prefix``) and wait until it answers on ``port``."""
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                [*cpu_prefix, *argv],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=dict(env) if env is not None else None,
                cwd=cwd,
            )
        server = cls(name, process, port, log_path)
        try:
            server._wait_ready(health_path, timeout)
        except BaseException:
            server.stop()
            raise
        return server

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait_ready(self, health_path: str | None, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode} before listening:\n{tail}"
                )
            try:
                if health_path is None:
                    socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                else:
                    # Always http://127.0.0.1:<port>: no other scheme can get here.
                    health = self.url + health_path
                    with urllib.request.urlopen(health, timeout=1) as answer:  # noqa: S310
                        answer.read()
            except OSError:
                time.sleep(0.05)
            else:
                return
        raise RuntimeError(f"{self.name} did not answer on port {self.port} in {timeout:.0f} s")

    def rss_kib(self) -> int:
        """Resident memory now (``VmRSS``), KiB."""
        return _read_status_kib(self.pid, "VmRSS")

    def peak_rss_kib(self) -> int:
        """The highest resident memory of the process's life so far (``VmHWM``), KiB."""
        return _read_status_kib(self.pid, "VmHWM")

    def cpu_seconds(self) -> float:
        """User plus system CPU time used so far."""
        with open(f"/proc/{self.pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        # After the command name: state is field 3, utime 14 and stime 15 (1-based).
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM, then SIGKILL if it has not exited within ``timeout`` seconds."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


@dataclass
class Sampler:
    """Polls the resident memory of some processes while a run lasts; keeps each one's peak.

    Also records each process's CPU time over the run, as a share of one core, and how
    busy each core was (every process on the machine, not only ours)::

        with Sampler([gateway, backend]) as sampler:
            run_load()
        sampler.peak_rss_kib[gateway.pid], sampler.cpu_share[gateway.pid], sampler.core_busy[0]
    """

    processes: Sequence[ServerProcess]
    interval: float = 0.1
    peak_rss_kib: dict[int, int] = field(default_factory=dict)
    cpu_share: dict[int, float] = field(default_factory=dict)
    core_busy: dict[int, float] = field(default_factory=dict)
    _cores_start: dict[int, tuple[int, int]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _cpu_start: dict[int, float] = field(default_factory=dict)
    _wall_start: float = 0.0

    def _sample(self) -> None:
        for process in self.processes:
            rss = process.rss_kib()
            self.peak_rss_kib[process.pid] = max(rss, self.peak_rss_kib.get(process.pid, 0))

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> Self:
        self._wall_start = time.monotonic()
        self._cpu_start = {process.pid: process.cpu_seconds() for process in self.processes}
        self._cores_start = core_times()
        self._sample()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()
        wall = max(time.monotonic() - self._wall_start, 1e-9)
        for process in self.processes:
            used = process.cpu_seconds() - self._cpu_start[process.pid]
            self.cpu_share[process.pid] = used / wall
        for core, (busy, total) in core_times().items():
            busy_start, total_start = self._cores_start.get(core, (0, 0))
            if total > total_start:
                self.core_busy[core] = (busy - busy_start) / (total - total_start)
