"""Benchmarks of issue 9, point 5: large documents, inline base64 and MTOM.

    python benchmarks/bench_large_documents.py [--mtom-mb 200] [--inline-mb 60] [--repeat 7]

**memory**: ``Client.get_shipment("GROSS-0001", directory)`` in a fresh child process per case,
the sandbox in another process, measured as in ``bench_mtom_memory.py`` (baseline RSS, ``VmHWM``
reset, one call, peak = max(VmHWM, the parent's samples), growth = peak - baseline):

* ``inline``: sandbox ``--inline --large-bytes <inline>``: a ``text/xml`` reply with the
  document as base64 text inside ``allg:Daten`` (servers that do not use MTOM);
* ``mtom``: sandbox ``--large-bytes <mtom>``: the same as an MTOM/XOP attachment (issue 3's
  figure, reported beside it).

Goals: growth <= 64 MiB for both (issue 9 for 60 MB inline, issue 3 for 200 MB MTOM), the
stored file's SHA-256 equal to the sandbox's.

**time**: against the MTOM sandbox, in this process, ``--repeat`` rounds (default 7) of two
contenders, their order alternating from round to round, after one untimed warm-up run of each:

* ``bipro_ruv``: ``Client.get_shipment`` with a logged-in client (the file streamed to disk,
  fsync'ed, checked against its Pruefsumme, moved into place);
* ``raw``: ``requests.post`` of the same getShipment envelope (string template, a token from a
  raw STS login before the clock starts), ``stream=True``, ``iter_content`` into a file with one
  ``hashlib.sha256`` over the bytes; no parsing. Its file is fsync'ed after the clock stops
  (so no dirty pages slow the next run): that time is reported as ``raw+fsync``, the least a
  crash-safe download of this reply costs on this disk (not judged).

Goal (issue 9): median(bipro_ruv) <= 2 x median(raw). The exit status is 0 when every judged
goal is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # the helper module sits next to this script
    LARGE_SHIPMENT_ID,
    MEMORY_HEADERS,
    MIB,
    SandboxProcess,
    Table,
    child_get_shipment,
    code_under_test,
    environment,
    load_average,
    memory_cells,
    print_table,
    process_cpu_seconds,
    raw_login,
    run_measured_child,
    sandbox_credentials,
    sandbox_endpoints,
    sha256_file,
    soap_headers,
    steal_seconds,
    steal_since,
    stored_file_check,
    transfer_envelope,
    write_child_result,
    write_result,
)

GOAL_GROWTH_BYTES = 64 * MIB
GOAL_TIME_RATIO = 2.0
PARTS = ("memory", "time")
CONTENDERS = ("bipro_ruv", "raw")


def expected_document(size: int) -> tuple[int, str]:
    """(size, SHA-256) of the sandbox's large document of ``size`` bytes."""
    from bipro_ruv.sandbox.content.mailbox import large_document_shipment

    document = large_document_shipment(size, shipment_id=LARGE_SHIPMENT_ID).documents[0]
    return document.size, document.sha256


# -- memory ----------------------------------------------------------------------------------------


def measure_memory(
    base_url: str, work_dir: Path, expected: tuple[int, str], options: argparse.Namespace
) -> dict[str, Any]:
    """getShipment in a fresh child (see ``_common.child_get_shipment``), sampled from here."""
    target = Path(tempfile.mkdtemp(prefix="memory-", dir=work_dir))
    command = [sys.executable, str(Path(__file__).resolve()), "--child", "--url", base_url]
    command += ["--dir", str(target)]
    try:
        record = run_measured_child(
            command, sample_interval=options.sample_ms / 1000, timeout=options.timeout
        )
    finally:
        shutil.rmtree(target, ignore_errors=True)
    record["file_check"] = stored_file_check(record, *expected)
    growth = record["growth"]
    record["goal_met"] = (
        growth is not None
        and growth <= GOAL_GROWTH_BYTES
        and record["outcome"] == "returned"
        and record["file_check"] == "sha256 OK"
    )
    return record


# -- time ------------------------------------------------------------------------------------------


class Stopwatch:
    """Wall and CPU time of this process, CPU time of the sandbox process, CPU stolen by other
    virtual machines and the load average, between :meth:`start` and :meth:`stop`."""

    def __init__(self, sandbox_pid: int) -> None:
        self.sandbox_pid = sandbox_pid

    def start(self) -> Stopwatch:
        self.load = load_average()
        self.steal = steal_seconds()
        self.sandbox_cpu = process_cpu_seconds(self.sandbox_pid)
        self.cpu = time.process_time()
        self.started = time.perf_counter()
        return self

    def stop(self) -> dict[str, Any]:
        wall = time.perf_counter() - self.started
        cpu = time.process_time() - self.cpu
        sandbox_cpu = process_cpu_seconds(self.sandbox_pid)
        return {
            "wall_s": wall,
            "client_cpu_s": cpu,
            "sandbox_cpu_s": (
                None if sandbox_cpu is None or self.sandbox_cpu is None else sandbox_cpu - self.sandbox_cpu
            ),
            "steal_s": steal_since(self.steal),
            "load_before_after": (self.load, load_average()),
        }


def run_bipro_ruv(client: Any, work_dir: Path, sandbox_pid: int, expected: tuple[int, str]) -> dict[str, Any]:
    """One timed ``Client.get_shipment`` into a new directory; the stored file checked afterwards."""
    target = Path(tempfile.mkdtemp(prefix="bipro_ruv-", dir=work_dir))
    try:
        watch = Stopwatch(sandbox_pid).start()
        outcome, documents = "returned", []
        try:
            _shipment, documents = client.get_shipment(LARGE_SHIPMENT_ID, target)
        except Exception as exc:  # noqa: BLE001 - a failing contender is a result, reported as such
            outcome = f"raised {type(exc).__module__}.{type(exc).__name__}: {str(exc)[:300]}"
        record = watch.stop()
        record["outcome"] = outcome
        if documents:
            record["stored_size"] = documents[0].path.stat().st_size
            record["stored_sha256"] = sha256_file(documents[0].path)
        record["check"] = stored_file_check(record, *expected)
    finally:
        shutil.rmtree(target, ignore_errors=True)
    return record


def run_raw(
    base_url: str, work_dir: Path, sandbox_pid: int, expected: tuple[int, str], chunk_size: int
) -> dict[str, Any]:
    """The same getShipment with plain requests, streamed into a file with one SHA-256."""
    sts_url, transfer_url, version = sandbox_endpoints(base_url)
    path = work_dir / "raw-reply.bin"
    with requests.Session() as session:
        token = raw_login(session, sts_url)  # before the clock starts, as bipro_ruv's client has one
        body = transfer_envelope("getShipment", token, version, f"<tran:ID>{LARGE_SHIPMENT_ID}</tran:ID>")
        watch = Stopwatch(sandbox_pid).start()
        digest = hashlib.sha256()
        size = 0
        with (
            session.post(
                transfer_url, data=body, headers=soap_headers("getShipment"), stream=True, timeout=(10, 300)
            ) as response,
            path.open("wb") as out,
        ):
            for chunk in response.iter_content(chunk_size):
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
            out.flush()
            record = watch.stop()
            synced = time.perf_counter()
            os.fsync(out.fileno())
            record["fsync_s"] = time.perf_counter() - synced
            status, content_type = response.status_code, response.headers.get("Content-Type", "")
    path.unlink()
    record["outcome"] = "returned"
    record["reply_bytes"] = size
    record["reply_sha256"] = digest.hexdigest()
    # No parsing: the reply is taken as right when it is a 200 multipart at least the document's size.
    ok = status == 200 and content_type.startswith("multipart/") and size > expected[0]
    record["check"] = "reply OK" if ok else f"HTTP {status} {content_type[:40]}, {size} bytes"
    return record


def _spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def _median_or_none(values: Iterable[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return statistics.median(known) if known else None


def measure_time(
    base_url: str, sandbox_pid: int, work_dir: Path, expected: tuple[int, str], options: argparse.Namespace
) -> dict[str, Any]:
    """Warm-up run of each contender, then ``repeat`` rounds in alternating order; medians."""
    from bipro_ruv import Client

    username, password = sandbox_credentials()
    chunk_size = options.raw_chunk_kib * 1024
    with Client(username, password, base_url=base_url) as client:
        client.list_shipments()  # login, WSDL parsed, connection open: per-process costs
        runners: dict[str, Callable[[], dict[str, Any]]] = {
            "bipro_ruv": lambda: run_bipro_ruv(client, work_dir, sandbox_pid, expected),
            "raw": lambda: run_raw(base_url, work_dir, sandbox_pid, expected, chunk_size),
        }
        warm_up = {name: runner() for name, runner in runners.items()}
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in runners}
        for number in range(options.repeat):
            # Alternate which goes first, so slow drift on the machine hits both alike.
            order = list(CONTENDERS) if number % 2 == 0 else list(reversed(CONTENDERS))
            for name in order:
                runs[name].append(runners[name]())
            ours, raw = runs["bipro_ruv"][-1], runs["raw"][-1]
            line = (
                f"round {number + 1}/{options.repeat} ({' then '.join(order)}): "
                f"bipro_ruv {ours['wall_s']:.2f} s (CPU {ours['client_cpu_s']:.2f} s, {ours['check']}), "
                f"raw {raw['wall_s']:.2f} s (CPU {raw['client_cpu_s']:.2f} s, +fsync {raw['fsync_s']:.2f} s)"
            )
            steals = [ours["steal_s"], raw["steal_s"]]
            if None not in steals:
                line += f"; CPU stolen by other VMs {steals[0]:.1f} s / {steals[1]:.1f} s"
            print(line, flush=True)
            if ours["outcome"] != "returned":
                print(f"  bipro_ruv {ours['outcome']}", flush=True)
    ours_wall = [run["wall_s"] for run in runs["bipro_ruv"]]
    raw_wall = [run["wall_s"] for run in runs["raw"]]
    raw_synced = [run["wall_s"] + run["fsync_s"] for run in runs["raw"]]
    median = statistics.median
    all_good = all(
        run["outcome"] == "returned" and run["check"] == "sha256 OK" for run in runs["bipro_ruv"]
    ) and all(run["check"] == "reply OK" for run in runs["raw"])
    ratio = median(ours_wall) / median(raw_wall)
    failures = [run["outcome"] for run in runs["bipro_ruv"] if run["outcome"] != "returned"]
    failures += [run["check"] for run in runs["bipro_ruv"] if run["outcome"] == "returned"]
    failures += [f"raw: {run['check']}" for run in runs["raw"]]
    return {
        "repeat": options.repeat,
        "raw_chunk_bytes": chunk_size,
        "bipro_ruv_s": _spread(ours_wall),
        "raw_s": _spread(raw_wall),
        "raw_fsync_s": _spread(raw_synced),
        "ratio": ratio,
        "ratio_to_raw_fsync": median(ours_wall) / median(raw_synced),
        # Each round's own ratio: the two runs were seconds apart, so slow drift cancels out;
        # their spread shows how much the machine moved the figure.
        "round_ratios": _spread([ours / raw for ours, raw in zip(ours_wall, raw_wall, strict=True)]),
        "bipro_ruv_cpu_s": median(run["client_cpu_s"] for run in runs["bipro_ruv"]),
        "raw_cpu_s": median(run["client_cpu_s"] for run in runs["raw"]),
        "bipro_ruv_sandbox_cpu_s": _median_or_none(run["sandbox_cpu_s"] for run in runs["bipro_ruv"]),
        "raw_sandbox_cpu_s": _median_or_none(run["sandbox_cpu_s"] for run in runs["raw"]),
        "all_runs_correct": all_good,
        "failures": sorted(
            {failure for failure in failures if failure not in ("sha256 OK", "raw: reply OK")}
        ),
        "goal_met": all_good and ratio <= GOAL_TIME_RATIO,
        "warm_up": warm_up,
        "runs": runs,
    }


# -- report ----------------------------------------------------------------------------------------


def print_memory(memory: dict[str, dict[str, Any]], sizes: dict[str, int]) -> None:
    table = Table(["case", "document", *MEMORY_HEADERS, "goal", "wall s", "file"])
    for case, record in memory.items():
        table.add(
            case,
            f"{sizes[case] / 1e6:g} MB",
            *memory_cells(record),
            f"<= {GOAL_GROWTH_BYTES // MIB} MiB: {'met' if record['goal_met'] else 'NOT MET'}",
            f"{record['wall_s']:.2f}",
            record["file_check"],
        )
    print()
    print_table(table)
    for case, record in memory.items():
        if record["outcome"] != "returned":
            print(f"{case}: {record['outcome']}")


def print_time(timing: dict[str, Any], size: int) -> None:
    table = Table(
        ["contender", "median s", "min s", "max s", "MB/s (median)", "client CPU s", "sandbox CPU s"]
    )
    rows = (
        ("bipro_ruv", timing["bipro_ruv_s"], timing["bipro_ruv_cpu_s"], timing["bipro_ruv_sandbox_cpu_s"]),
        ("raw", timing["raw_s"], timing["raw_cpu_s"], timing["raw_sandbox_cpu_s"]),
        ("raw+fsync", timing["raw_fsync_s"], None, None),
    )
    for name, spread, cpu, sandbox_cpu in rows:
        table.add(
            name,
            f"{spread['median']:.2f}",
            f"{spread['min']:.2f}",
            f"{spread['max']:.2f}",
            f"{size / 1e6 / spread['median']:.0f}",
            None if cpu is None else f"{cpu:.2f}",
            None if sandbox_cpu is None else f"{sandbox_cpu:.2f}",
        )
    print(
        f"\ngetShipment of the {size / 1e6:g} MB MTOM reply, median of {timing['repeat']} run(s) each "
        "(CPU columns: medians; the sandbox's CPU time is what it took to produce the reply):\n"
    )
    print_table(table)
    verdict = "met" if timing["goal_met"] else "NOT MET"
    if not timing["all_runs_correct"]:
        verdict += f" (runs failed, so the ratio means nothing: {'; '.join(timing['failures'])[:400]})"
    print(
        f"\nratio bipro_ruv / raw = {timing['ratio']:.2f}x (goal <= {GOAL_TIME_RATIO}x: {verdict}); "
        f"bipro_ruv / raw+fsync = {timing['ratio_to_raw_fsync']:.2f}x (not judged)"
    )
    rounds = timing["round_ratios"]
    print(
        f"per-round ratios bipro_ruv / raw: median {rounds['median']:.2f}x, "
        f"{rounds['min']:.2f}x to {rounds['max']:.2f}x (machine noise; not judged)"
    )


# -- main ------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mtom-mb", type=float, default=200.0, help="MTOM document size, MB (10^6 bytes)")
    parser.add_argument("--inline-mb", type=float, default=60.0, help="inline document size, MB; 0: skip")
    parser.add_argument("--parts", default=",".join(PARTS), help="comma-separated: memory,time")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per contender; medians compared")
    parser.add_argument(
        "--raw-chunk-kib", type=int, default=64, help="iter_content chunk of the raw contender, KiB"
    )
    parser.add_argument("--sample-ms", type=float, default=1.0, help="parent's RSS sampling interval, ms")
    parser.add_argument("--work-dir", help="where downloaded files go (default: the system temp dir)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per memory child")
    # internal: the child side of the memory part
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        write_child_result(child_get_shipment(options.url, Path(options.dir)))
        return 0

    parts = {name.strip() for name in options.parts.split(",") if name.strip()}
    if parts - set(PARTS) or not parts:
        raise SystemExit(f"--parts: choose from {PARTS}")
    if options.repeat < 1:
        raise SystemExit("--repeat must be at least 1")
    sizes = {"mtom": int(options.mtom_mb * 1_000_000), "inline": int(options.inline_mb * 1_000_000)}
    code = code_under_test()
    where = f"bipro_ruv from {code['bipro_ruv_dir']}"
    if "git_head" in code:
        where += f" (commit {code['git_head'][:10]}, {len(code['bipro_ruv_changed'])} file(s) changed since)"
    print(where, flush=True)
    work_root = Path(options.work_dir) if options.work_dir else Path(tempfile.gettempdir())
    work_dir = Path(tempfile.mkdtemp(prefix="bipro-bench-large-", dir=work_root))
    memory: dict[str, dict[str, Any]] = {}
    timing: dict[str, Any] | None = None
    try:
        if "memory" in parts and sizes["inline"]:
            expected = expected_document(sizes["inline"])
            print(f"inline: getShipment of {sizes['inline']} bytes in a fresh process ...", flush=True)
            with SandboxProcess(["--inline", "--large-bytes", str(sizes["inline"])]) as sandbox:
                memory["inline"] = measure_memory(sandbox.base_url, work_dir, expected, options)
        expected = expected_document(sizes["mtom"])
        with SandboxProcess(["--large-bytes", str(sizes["mtom"])]) as sandbox:
            if "memory" in parts:
                print(f"mtom: getShipment of {sizes['mtom']} bytes in a fresh process ...", flush=True)
                memory["mtom"] = measure_memory(sandbox.base_url, work_dir, expected, options)
            if "time" in parts:
                print(f"time: {options.repeat} round(s) of bipro_ruv and raw after a warm-up ...", flush=True)
                timing = measure_time(sandbox.base_url, sandbox.pid, work_dir, expected, options)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)

    if memory:
        print_memory(memory, sizes)
    if timing is not None:
        print_time(timing, sizes["mtom"])
    verdicts = [record["goal_met"] for record in memory.values()]
    verdicts += [timing["goal_met"]] if timing is not None else []
    path = write_result(
        "large_documents",
        {
            "document_bytes": sizes,
            "goal_growth_bytes": GOAL_GROWTH_BYTES,
            "goal_time_ratio": GOAL_TIME_RATIO,
            "goals_met": all(verdicts),
            "sample_interval_ms": options.sample_ms,
            "environment": environment(work_root),
            "memory": memory,
            "time": timing,
        },
    )
    print(f"\ngoals: {'all met' if all(verdicts) else 'NOT all met'}\nJSON: {path}")
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
