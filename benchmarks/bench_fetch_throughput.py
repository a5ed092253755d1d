"""Benchmark (b) of issue 3: fetch_open_documents throughput against a raw ``requests`` replay.

    python benchmarks/bench_fetch_throughput.py [--shipments 2000] [--workers 3,1] [--repeat 1]

For every worker count (default: the library default 3, and 1), in this one run:

1. **fetch**: a fresh sandbox (``--bulk N``: exactly N small one-PDF shipments, no default
   mailbox), a new :class:`bipro_ruv.Client`, and the wall time of
   ``client.fetch_open_documents(inbox, workers=w)`` (login, listShipments, then per
   shipment getShipment -> durable store -> acknowledgeShipment). Every shipment must come
   back acknowledged, with its document on disk.
2. **replay**: a fresh sandbox again (a fetch empties the mailbox), and the same HTTP
   exchanges sent with plain ``requests``: one STS login POST, one listShipments POST, then
   getShipment + acknowledgeShipment per shipment from string-template envelopes, over one
   keep-alive ``requests.Session``, with a ``ThreadPoolExecutor`` of the same ``w`` workers,
   each body read fully. No parsing beyond regexes for the token and the IDs, no files.
3. **replay+store** (unless ``--no-durable-baseline``): the replay plus the least durable store
   per shipment before its acknowledgement (folder, temp file, fsync, rename, folder fsyncs):
   what the disk alone costs any crash-safe fetch.

ratio = fetch / replay for the same worker count; goal (issue 3): <= 1.3, judged for the first
worker count (the library default). With ``--repeat`` the runs rotate which contender goes first
and the medians are compared. Each run also records this process's CPU time
(``time.process_time``: client side only, the sandbox is another process), the 1-minute load
average and the CPU time stolen by other virtual machines, since other work on the machine skews
wall times. Before any timing, a small warm-up fetch parses the WSDLs and imports everything
(one-time per-process costs). Inboxes are removed only at the very end (see the README).

If a ratio is above the goal (or with ``--profile always``), further fetches with ``workers=1``
run under cProfile (one thread, so the profile holds all client work; tables with file:line,
``.prof`` file) and pyinstrument if installed (wall-time call tree, ``.txt`` file), both
written to ``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # the helper module sits next to this script
    RESULTS_DIR,
    SandboxProcess,
    Table,
    environment,
    load_average,
    print_table,
    raw_login,
    sandbox_credentials,
    sandbox_endpoints,
    soap_headers,
    steal_seconds,
    steal_since,
    transfer_envelope,
    write_result,
)

GOAL_RATIO = 1.3
REPO = Path(__file__).resolve().parent.parent

# -- the raw replay ---------------------------------------------------------------------------------

_ID = re.compile(rb"<(?:[\w.-]+:)?ID>([^<]+)</")
_STATUS_OK = re.compile(rb"StatusID>\s*OK\s*<")


def _store_durably(store_dir: Path, shipment_id: str, body: bytes) -> None:
    """The least a fetch must do on disk before acknowledging, without any journal or parsing:
    a folder for the shipment (made durable in its parent), the reply body written to a
    temporary file, fsync'ed, renamed into that folder, and the rename made durable."""
    folder = store_dir / re.sub(r"[^A-Za-z0-9_-]", "_", shipment_id)
    folder.mkdir()
    fd, temp = tempfile.mkstemp(dir=store_dir, prefix=".part-")
    try:
        os.write(fd, body)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(temp, folder / "reply.bin")
    for directory in (folder, store_dir):
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def replay(base_url: str, workers: int, store_dir: Path | None = None) -> dict[str, Any]:
    """Login, listShipments, then getShipment + acknowledgeShipment per shipment; raw requests.

    With ``store_dir``, each getShipment body is stored durably before its acknowledgement
    (:func:`_store_durably`): the floor any crash-safe fetch pays on this disk.
    """
    sts_url, transfer_url, version = sandbox_endpoints(base_url)
    session = requests.Session()
    load, steal = load_average(), steal_seconds()
    cpu = time.process_time()
    started = time.perf_counter()

    token = raw_login(session, sts_url)

    def envelope(operation: str, fields: str) -> bytes:
        return transfer_envelope(operation, token, version, fields)

    listed = session.post(
        transfer_url,
        data=envelope("listShipments", ""),
        headers=soap_headers("listShipments"),
        timeout=(10, 60),
    )
    ids = [value.decode() for value in _ID.findall(listed.content)]
    get_headers, ack_headers = soap_headers("getShipment"), soap_headers("acknowledgeShipment")

    def one(shipment_id: str) -> tuple[int, int]:
        fields = f"<tran:ID>{escape(shipment_id)}</tran:ID>"
        got = session.post(
            transfer_url, data=envelope("getShipment", fields), headers=get_headers, timeout=(10, 60)
        )
        body = got.content
        if store_dir is not None:
            _store_durably(store_dir, shipment_id, body)
        acked = session.post(
            transfer_url, data=envelope("acknowledgeShipment", fields), headers=ack_headers, timeout=(10, 60)
        )
        ok = got.status_code == 200 and _STATUS_OK.search(body) is not None
        ok = ok and acked.status_code == 200 and _STATUS_OK.search(acked.content) is not None
        return int(ok), len(body)

    if workers == 1:
        outcomes = [one(shipment_id) for shipment_id in ids]
    else:
        with ThreadPoolExecutor(workers) as pool:
            outcomes = list(pool.map(one, ids))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    session.close()
    return {
        "wall_s": elapsed,
        "client_cpu_s": cpu,
        "load_before_after": (load, load_average()),
        "steal_s": steal_since(steal),
        "shipments": len(ids),
        "ok": sum(ok for ok, _ in outcomes),
        "get_body_bytes": sum(size for _, size in outcomes),
        "requests": 2 + 2 * len(ids),
    }


# -- the library ------------------------------------------------------------------------------------


def fetch(
    base_url: str, workers: int, work_dir: Path, wrap: Callable[[Callable[[], Any]], Any] | None = None
) -> dict[str, Any]:
    """``fetch_open_documents`` into a new inbox; wall time of that call only."""
    from bipro_ruv import Client
    from bipro_ruv.transfer.models import Outcome

    username, password = sandbox_credentials()
    # The inbox stays until the whole benchmark is done (main() removes work_dir): deleting
    # thousands of files makes the next thousands of file creations slow for minutes on
    # some file systems (ext4 without a journal skips recently deleted inodes one by one),
    # which would charge the benchmark's own clean-up to the next timed fetch.
    inbox = Path(tempfile.mkdtemp(prefix="inbox-", dir=work_dir))
    with Client(username, password, base_url=base_url) as client:

        def call() -> Any:
            return client.fetch_open_documents(inbox, workers=workers)

        load, steal = load_average(), steal_seconds()
        cpu = time.process_time()
        started = time.perf_counter()
        report = call() if wrap is None else wrap(call)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
        logins = client.logins
    files = sum(1 for doc in report.documents if doc.path.is_file())
    return {
        "wall_s": elapsed,
        "client_cpu_s": cpu,
        "load_before_after": (load, load_average()),
        "steal_s": steal_since(steal),
        "shipments": len(report.results),
        "ok": report.count(Outcome.ACKNOWLEDGED),
        "failures": len(report.failures),
        "documents_on_disk": files,
        "logins": logins,
    }


def _sandbox_args(shipments: int) -> list[str]:
    return ["--bulk", str(shipments), "--mailbox", "empty"]


def warm_up(work_dir: Path) -> float:
    """One small fetch: WSDLs parsed, modules imported, SQLite loaded (per-process costs)."""
    started = time.perf_counter()
    with SandboxProcess(_sandbox_args(3)) as sandbox:
        result = fetch(sandbox.base_url, 1, work_dir)
        replay(sandbox.base_url, 1)  # nothing left to fetch; warms requests/urllib3 the same way
    if result["ok"] != 3:
        raise RuntimeError(f"warm-up fetch failed: {result}")
    return time.perf_counter() - started


# -- profile ----------------------------------------------------------------------------------------


def _where(filename: str, line: int) -> str:
    path = Path(filename)
    try:
        return f"{path.resolve().relative_to(REPO)}:{line}"
    except ValueError:
        pass
    parts = path.parts
    if "site-packages" in parts:
        return f"{'/'.join(parts[parts.index('site-packages') + 1 :])}:{line}"
    if "lib" in parts and len(parts) > 2:
        return f"{'/'.join(parts[-2:])}:{line}"
    return f"{filename}:{line}"


def _component(filename: str, name: str) -> str:
    """Where self time is spent, coarsely: a bipro_ruv module, a package, a stdlib module or a builtin."""
    if filename == "~":
        return f"builtin {name}"
    path = Path(filename)
    if str(path).startswith(str(REPO / "bipro_ruv")):
        return str(path.relative_to(REPO))
    parts = path.parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1]
    return f"stdlib {path.name}"


def hotspots(stats: pstats.Stats, *, limit: int) -> dict[str, list[dict[str, Any]]]:
    """Top functions by self time (builtins with their costliest caller), bipro_ruv functions by
    cumulative time, and self time summed per component."""
    rows = []
    components: dict[str, float] = {}
    entries = stats.stats.items()  # type: ignore[attr-defined]
    for (filename, line, name), (_cc, ncalls, tottime, cumtime, callers) in entries:
        where = _where(filename, line)
        if filename == "~" and callers:
            caller = max(callers.items(), key=lambda item: item[1][3])[0]
            where = f"builtin, from {_where(caller[0], caller[1])} {caller[2]}"
        rows.append(
            {
                "where": where,
                "function": name,
                "calls": ncalls,
                "self_s": round(tottime, 4),
                "cumulative_s": round(cumtime, 4),
                "ours": filename.startswith(str(REPO / "bipro_ruv")),
            }
        )
        key = _component(filename, name)
        components[key] = components.get(key, 0.0) + tottime
    by_self = sorted(rows, key=lambda row: row["self_s"], reverse=True)[:limit]
    ours = sorted((row for row in rows if row["ours"]), key=lambda row: row["cumulative_s"], reverse=True)
    by_component = sorted(components.items(), key=lambda item: item[1], reverse=True)[:limit]
    return {
        "by_self_time": by_self,
        "bipro_ruv_by_cumulative_time": ours[:limit],
        "self_time_by_component": [
            {"component": key, "self_s": round(value, 4)} for key, value in by_component
        ],
    }


def profile_fetch(shipments: int, work_dir: Path, limit: int, profilers: list[str]) -> dict[str, Any]:
    """Fetches with workers=1 under cProfile (file:line tables) and pyinstrument (wall-time tree)."""
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    result: dict[str, Any] = {}
    if "cprofile" in profilers:
        profiler = cProfile.Profile()
        with SandboxProcess(_sandbox_args(shipments)) as sandbox:
            fetched = fetch(sandbox.base_url, 1, work_dir, wrap=lambda call: profiler.runcall(call))
        prof_path = RESULTS_DIR / f"fetch_profile-{stamp}.prof"
        profiler.dump_stats(prof_path)
        stats = pstats.Stats(profiler, stream=io.StringIO())
        result["cprofile"] = {
            "fetch": fetched,
            "total_s": fetched["wall_s"],
            "prof_file": str(prof_path),
            **hotspots(stats, limit=limit),
        }
    if "pyinstrument" in profilers:
        try:
            from pyinstrument import Profiler
        except ImportError:
            print("pyinstrument is not installed; skipped (pip install pyinstrument)")
        else:
            sampler = Profiler(interval=0.001)

            def run(call: Callable[[], Any]) -> Any:
                sampler.start()
                try:
                    return call()
                finally:
                    sampler.stop()

            with SandboxProcess(_sandbox_args(shipments)) as sandbox:
                fetched = fetch(sandbox.base_url, 1, work_dir, wrap=run)
            tree_path = RESULTS_DIR / f"fetch_pyinstrument-{stamp}.txt"
            tree_path.write_text(sampler.output_text(unicode=False, color=False), encoding="utf-8")
            result["pyinstrument"] = {
                "fetch": fetched,
                "total_s": fetched["wall_s"],
                "tree_file": str(tree_path),
            }
    return result


def _print_hotspots(profile: dict[str, Any]) -> None:
    if "cprofile" in profile:
        data = profile["cprofile"]
        total = data["total_s"]
        print(
            f"\nfetch_open_documents(workers=1) under cProfile: {total:.2f} s (one thread: all client work)"
        )
        for title, key, column in (
            ("top self time", "by_self_time", "self_s"),
            ("bipro_ruv, cumulative", "bipro_ruv_by_cumulative_time", "cumulative_s"),
        ):
            table = Table([title, "function", "calls", "s", "% of run"])
            for row in data[key]:
                table.add(
                    row["where"],
                    row["function"],
                    row["calls"],
                    f"{row[column]:.2f}",
                    f"{row[column] / total:.0%}",
                )
            print()
            print_table(table)
        table = Table(["self time by component", "s", "% of run"])
        for row in data["self_time_by_component"]:
            table.add(row["component"], f"{row['self_s']:.2f}", f"{row['self_s'] / total:.0%}")
        print()
        print_table(table)
        print(f"\npstats file: {data['prof_file']}")
    if "pyinstrument" in profile:
        data = profile["pyinstrument"]
        print(f"pyinstrument wall-time tree ({data['total_s']:.2f} s run): {data['tree_file']}")


# -- main -------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shipments", type=int, default=2000, help="bulk shipments in the sandbox")
    parser.add_argument("--workers", default="3,1", help="comma-separated worker counts (default 3,1)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per contender; the median is reported")
    parser.add_argument("--profile", choices=("auto", "always", "never"), default="auto")
    parser.add_argument(
        "--profiler", default="cprofile,pyinstrument", help="profilers for the hotspot run (comma-separated)"
    )
    parser.add_argument("--top", type=int, default=20, help="hotspot rows to show")
    parser.add_argument("--work-dir", help="where inboxes go (default: the system temp dir)")
    parser.add_argument(
        "--no-durable-baseline",
        dest="durable_baseline",
        action="store_false",
        help="skip the third contender (replay + the least durable store per shipment)",
    )
    options = parser.parse_args()
    worker_counts = [int(value) for value in options.workers.split(",") if value.strip()]
    work_root = Path(options.work_dir) if options.work_dir else Path(tempfile.gettempdir())
    work_dir = Path(tempfile.mkdtemp(prefix="bipro-bench-fetch-", dir=work_root))
    runs: dict[str, Any] = {}
    try:
        warm = warm_up(work_dir)
        print(f"warm-up (WSDL parsing, imports): {warm:.2f} s", flush=True)
        for workers in worker_counts:
            fetches, replays, stores = [], [], []
            contenders = ["fetch", "replay"] + (["replay+store"] if options.durable_baseline else [])
            for number in range(options.repeat):
                # Rotate which goes first, so slow drift on the machine hits all alike.
                order = contenders[number % len(contenders) :] + contenders[: number % len(contenders)]
                for name in order:
                    with SandboxProcess(_sandbox_args(options.shipments)) as sandbox:
                        if name == "fetch":
                            fetches.append(fetch(sandbox.base_url, workers, work_dir))
                        elif name == "replay":
                            replays.append(replay(sandbox.base_url, workers))
                        else:
                            store_dir = Path(tempfile.mkdtemp(prefix="replay-store-", dir=work_dir))
                            stores.append(replay(sandbox.base_url, workers, store_dir))
                line = (
                    f"workers={workers} run {number + 1}/{options.repeat}: "
                    f"fetch {fetches[-1]['wall_s']:.2f} s (client CPU {fetches[-1]['client_cpu_s']:.2f} s), "
                    f"replay {replays[-1]['wall_s']:.2f} s (client CPU {replays[-1]['client_cpu_s']:.2f} s)"
                )
                if stores:
                    line += f", replay+store {stores[-1]['wall_s']:.2f} s"
                steals = [result["steal_s"] for result in (fetches[-1], replays[-1])]
                if None not in steals:
                    line += f"; CPU stolen by other VMs: {steals[0]:.1f} s / {steals[1]:.1f} s"
                print(line, flush=True)
                checks = [("fetch", fetches[-1]), ("replay", replays[-1])]
                checks += [("replay+store", stores[-1])] if stores else []
                for name, result in checks:
                    if result["ok"] != options.shipments or result["shipments"] != options.shipments:
                        raise RuntimeError(
                            f"{name} with workers={workers} did not do every shipment: {result}"
                        )
            fetch_s = statistics.median(result["wall_s"] for result in fetches)
            replay_s = statistics.median(result["wall_s"] for result in replays)
            store_s = statistics.median(result["wall_s"] for result in stores) if stores else None
            runs[str(workers)] = {
                "workers": workers,
                "fetch_s": fetch_s,
                "replay_s": replay_s,
                "ratio": fetch_s / replay_s,
                "replay_store_s": store_s,
                "store_floor_ratio": None if store_s is None else store_s / replay_s,
                "fetch_cpu_s": statistics.median(result["client_cpu_s"] for result in fetches),
                "replay_cpu_s": statistics.median(result["client_cpu_s"] for result in replays),
                "fetch_runs": fetches,
                "replay_runs": replays,
                "replay_store_runs": stores,
            }
        profile = None
        # The goal is judged for the first worker count (the library default).
        judged = runs[str(worker_counts[0])]["ratio"]
        if options.profile == "always" or (options.profile == "auto" and judged > GOAL_RATIO):
            print("\nprofiling a fetch with workers=1 ...", flush=True)
            profilers = [name.strip() for name in options.profiler.split(",") if name.strip()]
            profile = profile_fetch(options.shipments, work_dir, options.top, profilers)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)

    n = options.shipments
    table = Table(
        [
            "workers",
            "fetch s",
            "replay s",
            "ratio",
            "goal",
            "fetch ms/shipment",
            "replay ms/shipment",
            "client CPU ms/shipment fetch",
            "replay",
            "replay+store s",
            "store floor",
            "fetch / floor",
        ]
    )
    for run in runs.values():
        table.add(
            run["workers"],
            f"{run['fetch_s']:.2f}",
            f"{run['replay_s']:.2f}",
            f"{run['ratio']:.2f}x",
            (
                ("met" if run["ratio"] <= GOAL_RATIO else f"NOT MET (> {GOAL_RATIO}x)")
                if run["workers"] == worker_counts[0]
                else "not judged"
            ),
            f"{run['fetch_s'] / n * 1000:.2f}",
            f"{run['replay_s'] / n * 1000:.2f}",
            f"{run['fetch_cpu_s'] / n * 1000:.2f}",
            f"{run['replay_cpu_s'] / n * 1000:.2f}",
            "-" if run["replay_store_s"] is None else f"{run['replay_store_s']:.2f}",
            "-" if run["store_floor_ratio"] is None else f"{run['store_floor_ratio']:.2f}x",
            "-" if run["replay_store_s"] is None else f"{run['fetch_s'] / run['replay_store_s']:.2f}x",
        )
    print(f"\n{n} shipments, median of {options.repeat} run(s) each:\n")
    print_table(table)
    if profile is not None:
        _print_hotspots(profile)
    path = write_result(
        "fetch_throughput",
        {
            "shipments": n,
            "repeat": options.repeat,
            "goal_ratio": GOAL_RATIO,
            "warm_up_s": warm,
            "environment": environment(work_root),
            "runs": runs,
            "profile": profile,
        },
    )
    print(f"\nJSON: {path}")
    return 0 if judged <= GOAL_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
