"""Shared helpers of the benchmark scripts (not a test module, not part of the package).

* :class:`SandboxProcess`: ``python -m bipro_ruv.sandbox`` as a child process, waited for
  until it prints ``READY <base_url>``, stopped with SIGTERM (then SIGKILL).
* RSS measurement: :func:`rss_bytes` of any process, :class:`RssSampler` (samples another
  process from a thread of this one, so the measured process is not slowed by it and its
  GIL does not delay the samples), :func:`reset_peak_rss` / :func:`peak_rss_bytes`
  (Linux ``VmHWM``, reset through ``/proc/self/clear_refs``: the kernel's true peak).
* :func:`environment` (what the figures were measured on), :func:`write_result` (JSON
  into ``benchmarks/results/``, which is git-ignored) and :func:`print_table`.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
MIB = 1 << 20


# -- sandbox ---------------------------------------------------------------------------------------


def sandbox_credentials() -> tuple[str, str]:
    """Username and password of the sandbox (the defaults of ``SandboxConfig``: public, sandbox-only)."""
    from bipro_ruv.sandbox import SandboxConfig

    config = SandboxConfig()
    return config.username, config.password


class SandboxProcess:
    """``python -m bipro_ruv.sandbox --port 0 <args>`` in its own process.

    ``with SandboxProcess(["--bulk", "2000"]) as sandbox: sandbox.base_url``
    """

    def __init__(self, args: Sequence[str] = (), *, ready_timeout: float = 120.0) -> None:
        self.args = ["--port", "0", *args]
        self.ready_timeout = ready_timeout
        self.process: subprocess.Popen[str] | None = None
        self.base_url = ""

    def start(self) -> SandboxProcess:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bipro_ruv.sandbox", *self.args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=None,  # the sandbox's own errors go to our stderr
            text=True,
        )
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self._stdout().readline()), daemon=True)
        reader.start()
        reader.join(self.ready_timeout)
        if not line or not line[0].startswith("READY "):
            self.stop()
            got = line[0].strip() if line else f"nothing within {self.ready_timeout:.0f} s"
            raise RuntimeError(f"sandbox {' '.join(self.args)} did not start: {got}")
        self.base_url = line[0].split(maxsplit=1)[1].strip()
        return self

    def _stdout(self) -> Any:
        assert self.process is not None
        assert self.process.stdout is not None
        return self.process.stdout

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        if process.stdout is not None:
            process.stdout.close()

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- memory ----------------------------------------------------------------------------------------

try:
    import psutil
except ImportError:  # pragma: no cover - psutil is in the "bench" extra
    psutil = None

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes(pid: int | None = None) -> int:
    """Current resident set size of ``pid`` (default: this process)."""
    pid = os.getpid() if pid is None else pid
    if psutil is not None:
        return int(psutil.Process(pid).memory_info().rss)
    with open(f"/proc/{pid}/statm", "rb") as statm:
        return int(statm.read().split()[1]) * _PAGE_SIZE


def _status_kib(field_name: str) -> int | None:
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    match = re.search(rf"^{field_name}:\s+(\d+)\s+kB", text, re.MULTILINE)
    return int(match.group(1)) * 1024 if match else None


def reset_peak_rss() -> bool:
    """Reset this process's ``VmHWM`` to its current RSS (Linux >= 4.0). False if impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def peak_rss_bytes() -> int | None:
    """This process's peak RSS since start or the last :func:`reset_peak_rss` (``VmHWM``)."""
    hwm = _status_kib("VmHWM")
    if hwm is not None:
        return hwm
    import resource

    # ru_maxrss: KiB on Linux, bytes on macOS; never reset.
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(maxrss if sys.platform == "darwin" else maxrss * 1024)


class RssSampler:
    """Samples the RSS of another process every ``interval`` seconds, from a thread of this one.

    Keeps ``(time.monotonic(), rss)`` pairs; :meth:`peak_between` gives the highest sample
    in a window given in ``time.monotonic()`` seconds (system-wide on Linux, so a child can
    report its own start and end times).
    """

    def __init__(self, pid: int, interval: float = 0.001) -> None:
        self.pid = pid
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._statm: int | None = None

    def _read(self) -> int:
        # os.pread on an open /proc/<pid>/statm is cheaper than psutil; same number.
        if self._statm is not None:
            return int(os.pread(self._statm, 128, 0).split()[1]) * _PAGE_SIZE
        return rss_bytes(self.pid)

    def _run(self) -> None:
        try:
            self._statm = os.open(f"/proc/{self.pid}/statm", os.O_RDONLY)
        except OSError:
            self._statm = None
        try:
            while not self._stop.is_set():
                try:
                    self.samples.append((time.monotonic(), self._read()))
                except (OSError, ValueError, IndexError):
                    break  # the process ended
                time.sleep(self.interval)
        finally:
            if self._statm is not None:
                os.close(self._statm)

    def start(self) -> RssSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def peak_between(self, start: float, end: float) -> tuple[int | None, int]:
        """(highest RSS, number of samples) among the samples taken in ``[start, end]``."""
        window = [rss for when, rss in self.samples if start <= when <= end]
        return (max(window) if window else None), len(window)


# -- reporting -------------------------------------------------------------------------------------


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _filesystem(path: Path) -> str | None:
    """File system type of ``path`` (Linux ``/proc/mounts``), e.g. ext4 or tmpfs."""
    try:
        mounts = [line.split() for line in Path("/proc/mounts").read_text().splitlines()]
    except OSError:
        return None
    resolved = str(path.resolve())
    best: tuple[int, str] | None = None
    for fields in mounts:
        if len(fields) < 3:
            continue
        mount_point = fields[1]
        inside = resolved == mount_point or resolved.startswith(mount_point.rstrip("/") + "/")
        if inside and (best is None or len(mount_point) > best[0]):
            best = (len(mount_point), fields[2])
    return best[1] if best else None


def environment(work_dir: Path | None = None) -> dict[str, Any]:
    """Where the figures come from: CPU count, Python, platform, library versions."""
    memory = None
    if psutil is not None:
        memory = int(psutil.virtual_memory().total)
    env: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_bytes": memory,
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "versions": {
            name: _version(name)
            for name in ("bipro-ruv", "zeep", "requests", "urllib3", "lxml", "requests-toolbelt", "psutil")
        },
    }
    if work_dir is not None:
        env["work_dir_filesystem"] = _filesystem(work_dir)
    return env


def write_result(name: str, data: dict[str, Any]) -> Path:
    """Write ``data`` as ``benchmarks/results/<name>-<UTC time>.json`` and return the path."""
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"{name}-{stamp}.json"
    payload = {"benchmark": name, "utc": stamp, **data}
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    return path


@dataclass
class Table:
    headers: Sequence[str]
    rows: list[Sequence[object]] = field(default_factory=list)

    def add(self, *row: object) -> None:
        self.rows.append(row)

    def render(self) -> str:
        cells = [[str(item) for item in self.headers]] + [
            ["-" if item is None else str(item) for item in row] for row in self.rows
        ]
        widths = [max(len(row[index]) for row in cells) for index in range(len(self.headers))]
        lines = []
        for number, row in enumerate(cells):
            lines.append("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))
            if number == 0:
                lines.append("  ".join("-" * width for width in widths))
        return "\n".join(lines)


def print_table(table: Table) -> None:
    print(table.render(), flush=True)


def mib(value: int | None) -> str | None:
    return None if value is None else f"{value / MIB:.1f}"
