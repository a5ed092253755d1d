"""Shared helpers of the benchmark scripts (not a test module, not part of the package).

* :class:`SandboxProcess`: ``python -m bipro_ruv.sandbox`` as a child process, waited for
  until it prints ``READY <base_url>``, stopped with SIGTERM (then SIGKILL).
* Raw SOAP with plain ``requests`` (the baselines): string-template envelopes
  (:func:`transfer_envelope`), the headers bipro_ruv sends (:func:`soap_headers`), an STS
  login that reads the token with a regex (:func:`raw_login`), the endpoint URLs
  (:func:`sandbox_endpoints`).
* RSS measurement: :func:`rss_bytes` of any process, :class:`RssSampler` (samples another
  process from a thread of this one, so the measured process is not slowed by it and its
  GIL does not delay the samples), :func:`reset_peak_rss` / :func:`peak_rss_bytes`
  (Linux ``VmHWM``, reset through ``/proc/self/clear_refs``: the kernel's true peak).
* Calls measured in a fresh child process: :func:`measure_call` (baseline RSS, ``VmHWM``
  reset, one call, peak; run inside the child), :func:`run_measured_child` (starts the child,
  samples it from outside, reads its ``RESULT`` line, computes peak and growth), and
  :func:`child_get_shipment` (the bipro_ruv contender: ``Client.get_shipment`` of
  ``GROSS-0001``).
* Machine noise: :func:`load_average`, :func:`steal_seconds` / :func:`steal_since`; CPU time of
  another process (the sandbox): :func:`process_cpu_seconds`.
* :func:`environment` (what the figures were measured on, with :func:`code_under_test`:
  which bipro_ruv, which commit, which files changed since), :func:`write_result` (JSON
  into ``benchmarks/results/``, which is git-ignored) and :func:`print_table`.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, unescape

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
MIB = 1 << 20
LARGE_SHIPMENT_ID = "GROSS-0001"  # the sandbox's shipment of --large-bytes


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


# -- raw SOAP with plain requests (the baselines) ---------------------------------------------------

_SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
_WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
_PASSWORD_TEXT = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"
)

STS_TEMPLATE = (
    "<?xml version='1.0' encoding='utf-8'?>"
    f'<soap:Envelope xmlns:soap="{_SOAP}"><soap:Header>'
    f'<wsse:Security xmlns:wsse="{_WSSE}"><wsse:UsernameToken>'
    "<wsse:Username>{username}</wsse:Username>"
    f'<wsse:Password Type="{_PASSWORD_TEXT}">{{password}}</wsse:Password>'
    "</wsse:UsernameToken></wsse:Security></soap:Header><soap:Body>"
    '<wst:RequestSecurityToken xmlns:wst="http://schemas.xmlsoap.org/ws/2005/02/trust">'
    "<wst:TokenType>http://schemas.xmlsoap.org/ws/2005/02/sc/sct</wst:TokenType>"
    "<wst:RequestType>http://schemas.xmlsoap.org/ws/2005/02/trust/Issue</wst:RequestType>"
    "</wst:RequestSecurityToken></soap:Body></soap:Envelope>"
)

TRANSFER_TEMPLATE = (
    "<?xml version='1.0' encoding='utf-8'?>"
    f'<soap:Envelope xmlns:soap="{_SOAP}"><soap:Header>'
    f'<wsse:Security xmlns:wsse="{_WSSE}">'
    '<wsc:SecurityContextToken xmlns:wsc="http://schemas.xmlsoap.org/ws/2005/02/sc">'
    "<wsc:Identifier>{token}</wsc:Identifier></wsc:SecurityContextToken></wsse:Security>"
    "</soap:Header><soap:Body>"
    '<tran:{operation} xmlns:tran="http://www.bipro.net/namespace/transfer"><tran:Request>'
    '<nac:BiPROVersion xmlns:nac="http://www.bipro.net/namespace/nachrichten">{version}</nac:BiPROVersion>'
    "{fields}</tran:Request></tran:{operation}></soap:Body></soap:Envelope>"
)

_IDENTIFIER = re.compile(rb"<(?:[\w.-]+:)?Identifier>([^<]+)</")


def soap_headers(operation: str) -> dict[str, str]:
    """The HTTP headers bipro_ruv sends (``SoapEndpoint.headers``), so the server does the same work."""
    return {
        "Content-Type": "text/xml; charset=utf-8",
        "SOAPAction": f'"urn:{operation}"',
        "Accept": "text/xml, multipart/related",
    }


def sandbox_endpoints(base_url: str) -> tuple[str, str, str]:
    """(STS URL, transfer URL, transfer BiPROVersion) of the R+V profile bound to ``base_url``."""
    from bipro_ruv.profiles import get_profile

    profile = get_profile("ruv").with_base_url(base_url)
    assert profile.sts is not None
    assert profile.transfer is not None
    return profile.sts.url, profile.transfer.url, profile.transfer.bipro_version


def raw_login(session: Any, sts_url: str) -> str:
    """STS login with a string template on a ``requests.Session``; the SCT identifier (plain text)."""
    username, password = sandbox_credentials()
    login = session.post(
        sts_url,
        data=STS_TEMPLATE.format(username=escape(username), password=escape(password)).encode(),
        headers=soap_headers("RequestSecurityToken"),
        timeout=(10, 60),
    )
    match = _IDENTIFIER.search(login.content)
    if login.status_code != 200 or match is None:
        raise RuntimeError(f"raw login failed: HTTP {login.status_code}")
    return unescape(match.group(1).decode())


def transfer_envelope(operation: str, token: str, version: str, fields: str = "") -> bytes:
    """A transfer-service request (``fields``: the XML inside ``tran:Request`` after BiPROVersion)."""
    return TRANSFER_TEMPLATE.format(
        operation=operation, token=escape(token), version=version, fields=fields
    ).encode()


# -- machine noise ---------------------------------------------------------------------------------


def load_average() -> float | None:
    """1-minute load average: other work on the machine skews wall times (recorded with each run)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def steal_seconds() -> float | None:
    """CPU time (s, all CPUs) the hypervisor gave to other guests so far (Linux /proc/stat);
    its growth during a run says how much a virtual machine's neighbours slowed it."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def steal_since(start: float | None) -> float | None:
    end = steal_seconds()
    return None if start is None or end is None else round(end - start, 2)


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


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of ``pid`` so far (e.g. of the sandbox, to see what a reply cost it)."""
    if psutil is not None:
        times = psutil.Process(pid).cpu_times()
        return float(times.user + times.system)
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    except (OSError, IndexError, ValueError):
        return None


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


# -- one call measured in a fresh child process ----------------------------------------------------


def measure_call(call: Callable[[], Any]) -> dict[str, Any]:
    """Inside the child: baseline RSS, ``VmHWM`` reset, the one call, peak.

    Returns ``{"value": <what the call returned or None>, "record": {...}}``; an exception
    is part of the result (``outcome``), not an error of the benchmark.
    """
    gc.collect()
    baseline = rss_bytes()
    hwm_reset = reset_peak_rss()
    started = time.monotonic()
    outcome = "returned"
    value: Any = None
    try:
        value = call()
    except Exception as exc:  # noqa: BLE001 - what the contender raises is part of the result
        outcome = f"raised {type(exc).__module__}.{type(exc).__name__}: {str(exc)[:300]}"
    ended = time.monotonic()
    peak = peak_rss_bytes()
    return {
        "value": value,
        "record": {
            "outcome": outcome,
            "baseline_rss": baseline,
            "peak_rss_vmhwm": peak if hwm_reset else None,
            "vmhwm_reset": hwm_reset,
            "rss_after": rss_bytes(),
            "wall_s": ended - started,
            "t_start": started,
            "t_end": ended,
        },
    }


def write_child_result(record: dict[str, Any]) -> None:
    """The child's last stdout line, read by :func:`run_measured_child`."""
    sys.stdout.write("RESULT " + json.dumps(record) + "\n")
    sys.stdout.flush()


def run_measured_child(
    command: Sequence[str], *, stdin_text: str = "", sample_interval: float, timeout: float
) -> dict[str, Any]:
    """Run a child that calls :func:`measure_call` and :func:`write_child_result`, sampling its
    RSS from here. Adds the sampled peak; peak = max(VmHWM, sampled); growth = peak - baseline."""
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    sampler = RssSampler(process.pid, sample_interval).start()
    try:
        stdout, _ = process.communicate(stdin_text, timeout=timeout)
    finally:
        sampler.stop()
        if process.poll() is None:
            process.kill()
            process.wait()
    lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    if process.returncode != 0 or not lines:
        raise RuntimeError(f"child {command[1:4]} failed (exit {process.returncode}): {stdout[-2000:]}")
    record: dict[str, Any] = json.loads(lines[-1][len("RESULT ") :])
    sampled_peak, samples = sampler.peak_between(record["t_start"], record["t_end"])
    record["peak_rss_sampled"] = sampled_peak
    record["samples"] = samples
    candidates = [value for value in (record["peak_rss_vmhwm"], sampled_peak) if value is not None]
    record["peak_rss"] = max(candidates) if candidates else None
    record["growth"] = None if record["peak_rss"] is None else record["peak_rss"] - record["baseline_rss"]
    return record


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(MIB):
            digest.update(chunk)
    return digest.hexdigest()


def child_get_shipment(base_url: str, directory: Path) -> dict[str, Any]:
    """Inside the child: warm-up (login, WSDL, connection: one listShipments), then
    ``Client.get_shipment(GROSS-0001, directory)`` under :func:`measure_call`; the stored file's
    size and SHA-256 beside the library's own figures."""
    from bipro_ruv import Client

    username, password = sandbox_credentials()
    with Client(username, password, base_url=base_url) as client:
        listed = [item.id for item in client.list_shipments()]
        if LARGE_SHIPMENT_ID not in listed:
            raise SystemExit(f"{LARGE_SHIPMENT_ID} is not in the sandbox mailbox: {listed}")
        measured = measure_call(lambda: client.get_shipment(LARGE_SHIPMENT_ID, directory))
    record: dict[str, Any] = measured["record"]
    if measured["value"] is not None:
        _shipment, documents = measured["value"]
        record["documents"] = len(documents)
        if documents:
            document = documents[0]
            record["stored_size"] = document.path.stat().st_size
            record["stored_sha256"] = sha256_file(document.path)
            record["reported_sha256"] = document.sha256
            record["checksum_verified"] = document.checksum_verified
    return record


def stored_file_check(record: dict[str, Any], size: int, sha256: str) -> str:
    """Verdict on the file a :func:`child_get_shipment` child stored."""
    if "stored_sha256" not in record:
        return "no file"
    if record["stored_sha256"] == sha256 and record["stored_size"] == size:
        return "sha256 OK"
    return f"MISMATCH ({record['stored_size']} bytes)"


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
    env["code"] = code_under_test()
    return env


def code_under_test() -> dict[str, Any]:
    """Which bipro_ruv was measured: its folder, and for a checkout the commit and the files of
    ``bipro_ruv/`` changed since (several people edit one tree; figures of a dirty tree say so)."""
    import bipro_ruv

    package = Path(bipro_ruv.__file__).resolve().parent
    code: dict[str, Any] = {"bipro_ruv_dir": str(package)}
    # --no-optional-locks: a status must not take the index lock others' git commands need.
    git = ["git", "--no-optional-locks", "-C", str(package)]
    try:
        head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        changed = subprocess.run(
            [*git, "status", "--porcelain", "--", "."], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return code
    if head.returncode == 0:
        code["git_head"] = head.stdout.strip()
        code["bipro_ruv_changed"] = [line[3:] for line in changed.stdout.splitlines()]
    return code
    if head.returncode == 0:
        code["git_head"] = head.stdout.strip()
        code["bipro_ruv_changed"] = [line[3:] for line in changed.stdout.splitlines()]
    return code


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


MEMORY_HEADERS = ("outcome", "baseline MiB", "peak MiB", "growth MiB")


def memory_cells(record: dict[str, Any]) -> tuple[str | None, ...]:
    """Table cells under :data:`MEMORY_HEADERS` for a :func:`run_measured_child` record."""
    outcome = record["outcome"].split(":")[0]  # the exception's class; its message is printed below
    return outcome, mib(record["baseline_rss"]), mib(record["peak_rss"]), mib(record["growth"])
