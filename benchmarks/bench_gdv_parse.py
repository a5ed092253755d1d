"""Benchmark (d) of issue 11, point 4: speed and memory of the GDV parser on a large file.

    python benchmarks/bench_gdv_parse.py [--size-mb 100] [--runs 3] [--big-factor 3] [--quick] [--pure]

The parser decodes fields with the compiled decoder (``bipro_ruv/gdv/_speedups.c``, built at
install time) when it is built; ``--pure`` measures the pure-Python decoder instead. The first
line of the output says which one ran.

The file is generated once with ``bipro_ruv.sandbox.content.gdv_writer.write_gdv`` (Bestand and
Inkasso, VU 5339 and 5438, ``distinct=1.0``: every contract drawn afresh) into ``--work-dir`` and
reused while its parameters (in its name) stay the same. Its Satzart mix is counted with a plain
byte loop, not with the parser.

(a) Speed, each contender in a FRESH child process, ``--runs`` rounds, in every round each parser
run paired with a bare run right before or after it (the order alternates between rounds):

* ``bare``: 1 MiB chunks, decoded as ISO-8859-15, split on LF, ``line[:4]`` and ``line[13:30]``
  sliced per record (the least any reader does);
* ``stream``: ``for contract in GdvReader(path): n += len(contract.records)``; the reader decodes
  every field of every supported record eagerly, so this IS the full parse (there is no lazy view);
* ``parse``: ``bipro_ruv.gdv.parse(path)``: the whole file in memory, grouped by contract; the
  clock stops when ``parse`` returns, with the ``GdvFile`` alive (as the caller holds it). Freeing it
  afterwards is timed apart and reported ("freeing the parsed file"), not counted.

Records are 256-byte records (``reader.records`` / ``GdvFile.records``). Goals (issue 11):
>= 150,000 records/s and <= 10x the bare loop, for ``stream`` and ``parse``.

(b) Memory, each in a fresh child: RSS after importing ``bipro_ruv.gdv`` (baseline), kernel peak
(``VmHWM``) reset, then the whole file streamed, or parsed with the result kept alive until the
peak is read; the parent samples the child's RSS as a cross-check. growth = peak - baseline.
Goals: streaming growth <= 64 MiB at the default size AND at ``--big-factor`` times it (flat);
``parse`` growth <= 3x the file size.

If the GDV's own sample file (``musterdatei_041222.txt``) is found, its data records repeated
between one Vorsatz and one Nachsatz to the same size give one more (unjudged) speed line: real,
repetitive data. The Nachsatz counts are then wrong: warnings, expected.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # the helper module sits next to this script
    MEMORY_HEADERS,
    MIB,
    Table,
    environment,
    load_average,
    measure_call,
    memory_cells,
    print_table,
    run_measured_child,
    steal_seconds,
    steal_since,
    write_child_result,
    write_result,
)

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SAMPLE = REPO.parent / "shared" / "fixtures" / "gdv" / "musterdatei_041222.txt"
VU_NUMBERS = ("5339", "5438")
KIND: Literal["both"] = "both"
ENCODING = "iso-8859-15"

GOAL_RECORDS_PER_S = 150_000
GOAL_RATIO_TO_BARE = 10.0
GOAL_STREAM_GROWTH_BYTES = 64 * MIB
GOAL_PARSE_GROWTH_FACTOR = 3.0
# For scale only, from issue 11 (gdv.xport 7.2.4 on this kind of machine; not measured here).
XPORT_STREAM_RECORDS_PER_S = 5_200
XPORT_OBJECTS_RECORDS_PER_S = 3_800
XPORT_MEMORY_FACTOR = 9

PARSERS = ("stream", "parse")
CONTENDERS = ("bare", *PARSERS)
WARM_UP_BYTES = MIB


# -- what is measured (run inside the children) ----------------------------------------------------


def run_bare(path: Path) -> dict[str, Any]:
    """Split the records and slice Satzart and VSNR: nothing else."""
    records = 0  # lines with a Satzart
    keyed = 0  # lines with something in the VSNR columns
    rest = ""
    with path.open("rb") as source:
        while chunk := source.read(MIB):
            lines = (rest + chunk.decode(ENCODING)).split("\n")
            rest = lines.pop()
            for line in lines:
                satzart = line[:4]
                vsnr = line[13:30]
                if satzart:
                    records += 1
                if vsnr:
                    keyed += 1
    if rest:
        records += 1
        keyed += bool(rest[13:30])
    return {"records": records, "keyed": keyed}


def run_stream(path: Path) -> dict[str, Any]:
    from bipro_ruv.gdv import GdvReader

    reader = GdvReader(path)
    contracts = 0
    datensaetze = 0
    for contract in reader:
        contracts += 1
        datensaetze += len(contract.records)
    return {
        "records": reader.records,
        "contracts_yielded": contracts,
        "datensaetze": datensaetze,
        "warnings": len(reader.warnings),
        "suppressed_warnings": reader.suppressed_warnings,
    }


def describe_parsed(parsed: Any) -> dict[str, Any]:
    return {
        "records": parsed.records,
        "contracts": len(parsed),
        "warnings": len(parsed.warnings),
        "suppressed_warnings": parsed.suppressed_warnings,
    }


def run_parse(path: Path) -> dict[str, Any]:
    """The parsed file is handed back alive (``_keep``): the clock stops before it is freed."""
    from bipro_ruv.gdv import parse

    parsed = parse(path)
    return {**describe_parsed(parsed), "_keep": parsed}


RUNNERS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "bare": run_bare,
    "stream": run_stream,
    "parse": run_parse,
}


def warm_up(path: Path) -> None:
    """Parse the first MiB (whole lines) once, so the one-time set-up (the layouts, built on first
    use) is not timed; the bare child reads the same bytes."""
    from bipro_ruv.gdv import parse

    with path.open("rb") as source:
        head = source.read(WARM_UP_BYTES)
    head = head[: head.rfind(b"\n") + 1]
    parse(head)  # no Nachsatz: warnings, ignored


def child_timed(kind: str, path: Path, warm: bool) -> dict[str, Any]:
    import bipro_ruv.gdv  # imported before the clock starts, by every contender

    if warm:
        warm_up(path)
    gc.collect()
    cpu_started = time.process_time()
    started = time.perf_counter()
    result = RUNNERS[kind](path)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    kept = result.pop("_keep", None)
    if kept is not None:
        # What the caller pays when it drops the GdvFile: reported, not part of the parse.
        freeing = time.perf_counter()
        del kept
        result["free_s"] = time.perf_counter() - freeing
    decoder = "compiled" if bipro_ruv.gdv.ACCELERATED else "pure Python"
    return {"kind": kind, "wall_s": wall, "cpu_s": cpu, "decoder": decoder, **result}


def child_memory(kind: str, path: Path) -> dict[str, Any]:
    import bipro_ruv.gdv as gdv

    if kind == "stream":
        measured = measure_call(lambda: run_stream(path))
        record: dict[str, Any] = measured["record"]
        if measured["value"] is not None:
            record.update(measured["value"])
        return record
    # measure_call holds the GdvFile (its return value) until after it has read the peak and
    # rss_after: rss_after - baseline is what the parsed file keeps.
    measured = measure_call(lambda: gdv.parse(path))
    record = measured["record"]
    if measured["value"] is not None:
        record.update(describe_parsed(measured["value"]))
    return record


def run_child(options: argparse.Namespace) -> None:
    path = Path(options.file)
    if options.child.startswith("memory-"):
        write_child_result(child_memory(options.child.removeprefix("memory-"), path))
    else:
        write_child_result(child_timed(options.child, path, options.warm_up))


# -- the files -------------------------------------------------------------------------------------


def generated_file(work_dir: Path, size: int, seed: int, distinct: float, regenerate: bool) -> Path:
    """The write_gdv file of these parameters, generated unless it is already there."""
    from bipro_ruv.sandbox.content.gdv_writer import write_gdv

    name = f"gdv-{KIND}-{'_'.join(VU_NUMBERS)}-{size}B-seed{seed}-distinct{distinct:g}.txt"
    path = work_dir / name
    if path.exists() and not regenerate:
        print(f"reusing {path} ({path.stat().st_size:,} bytes)", flush=True)
        return path
    print(f"generating {path} ({size / 1e6:.0f} MB, distinct={distinct:g}) ...", flush=True)
    started = time.perf_counter()
    partial = path.with_name(path.name + ".part")
    write_gdv(partial, size_bytes=size, kind=KIND, vu_numbers=VU_NUMBERS, seed=seed, distinct=distinct)
    os.replace(partial, path)  # a killed run leaves no complete-looking file behind
    print(f"  {path.stat().st_size:,} bytes in {time.perf_counter() - started:.1f} s", flush=True)
    return path


def sample_file(work_dir: Path, sample: Path, size: int, regenerate: bool) -> Path:
    """The sample's data records repeated between its Vorsatz and its Nachsatz to ``size`` bytes."""
    data = sample.read_bytes()
    digest = hashlib.sha256(data).hexdigest()[:12]
    path = work_dir / f"gdv-{sample.stem}-{digest}-{size}B.txt"
    if path.exists() and not regenerate:
        print(f"reusing {path} ({path.stat().st_size:,} bytes)", flush=True)
        return path
    lines = [line.rstrip(b"\r") for line in data.split(b"\n") if line.strip()]
    vorsatz = [line for line in lines if line[:4] == b"0001"]
    nachsatz = [line for line in lines if line[:4] == b"9999"][:1]
    body = [line for line in lines if line[:4] not in (b"0001", b"9999")]
    if not vorsatz or not body:
        raise SystemExit(f"{sample}: no Vorsatz or no data records")
    block = b"".join(line + b"\n" for line in body)
    partial = path.with_name(path.name + ".part")
    with partial.open("wb") as target:
        written = target.write(b"".join(line + b"\n" for line in vorsatz))
        while written < size:
            written += target.write(block)
        target.write(b"".join(line + b"\n" for line in nachsatz))
    os.replace(partial, path)
    print(f"built {path} ({path.stat().st_size:,} bytes) from {sample.name}", flush=True)
    return path


def satzart_mix(path: Path) -> Counter[str]:
    """Records per Satzart (with the Sparte for 0210-0299), by a plain byte loop (not the parser)."""
    counts: Counter[str] = Counter()
    rest = b""
    with path.open("rb") as source:
        while chunk := source.read(MIB):
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            for line in lines:
                _count_line(counts, line)
    _count_line(counts, rest)
    return counts


def _count_line(counts: Counter[str], line: bytes) -> None:
    line = line.rstrip(b"\r")
    if not line:
        return
    satzart = line[:4]
    if b"0210" <= satzart <= b"0299":
        satzart += b"." + line[10:13]
    counts[satzart.decode("ascii", "replace")] += 1


# -- parent ----------------------------------------------------------------------------------------


def child_command(kind: str, path: Path, options: argparse.Namespace) -> list[str]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--file", str(path)]
    if options.warm_up:
        command.append("--warm-up")
    return command


def timed_child(kind: str, path: Path, options: argparse.Namespace) -> dict[str, Any]:
    steal = steal_seconds()
    load = load_average()
    completed = subprocess.run(
        child_command(kind, path, options),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=options.timeout,
        check=False,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT ")]
    if completed.returncode != 0 or not lines:
        raise RuntimeError(
            f"{kind} child failed (exit {completed.returncode}): "
            f"{(completed.stdout + completed.stderr)[-2000:]}"
        )
    record: dict[str, Any] = json.loads(lines[-1][len("RESULT ") :])
    record["steal_s"] = steal_since(steal)
    record["load_1min_before"] = load
    record["records_per_s"] = record["records"] / record["wall_s"] if record["wall_s"] else None
    return record


def measure_speed(label: str, path: Path, options: argparse.Namespace) -> dict[str, Any]:
    """``--runs`` rounds; per round each parser next to its own bare run, the order alternating."""
    runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in CONTENDERS}
    pair_ratios: dict[str, list[float]] = {kind: [] for kind in PARSERS}
    for number in range(options.runs):
        for kind in PARSERS:
            order = ("bare", kind) if number % 2 == 0 else (kind, "bare")
            pair: dict[str, dict[str, Any]] = {}
            for contender in order:
                record = timed_child(contender, path, options)
                record["round"] = number + 1
                runs[contender].append(record)
                pair[contender] = record
            ratio = pair[kind]["wall_s"] / pair["bare"]["wall_s"]
            pair_ratios[kind].append(ratio)
            print(
                f"  {label} round {number + 1}: bare {pair['bare']['wall_s']:.3f} s, "
                f"{kind} {pair[kind]['wall_s']:.3f} s ({ratio:.1f}x)",
                flush=True,
            )
    summary: dict[str, Any] = {"file": str(path), "file_bytes": path.stat().st_size, "runs": runs}
    for kind in CONTENDERS:
        walls = [record["wall_s"] for record in runs[kind]]
        records = runs[kind][0]["records"]
        median = statistics.median(walls)
        summary[kind] = {
            "median_s": median,
            "min_s": min(walls),
            "max_s": max(walls),
            "median_cpu_s": statistics.median(record["cpu_s"] for record in runs[kind]),
            "records": records,
            "records_per_s": records / median,
            "records_agree": len({record["records"] for record in runs[kind]}) == 1,
        }
    for kind in PARSERS:
        summary[kind]["pair_ratios"] = pair_ratios[kind]
        summary[kind]["ratio_to_bare"] = statistics.median(pair_ratios[kind])
        summary[kind]["ratio_of_medians"] = summary[kind]["median_s"] / summary["bare"]["median_s"]
        for key in ("warnings", "suppressed_warnings", "contracts", "contracts_yielded", "datensaetze"):
            if key in runs[kind][0]:
                summary[kind][key] = runs[kind][0][key]
        if "free_s" in runs[kind][0]:
            summary[kind]["median_free_s"] = statistics.median(record["free_s"] for record in runs[kind])
    return summary


def measure_memory(kind: str, path: Path, options: argparse.Namespace) -> dict[str, Any]:
    record = run_measured_child(
        child_command(f"memory-{kind}", path, options),
        sample_interval=options.sample_ms / 1000,
        timeout=options.timeout,
    )
    record["file_bytes"] = path.stat().st_size
    record["kind"] = kind
    return record


def speed_misses(summary: dict[str, Any], kind: str) -> list[str]:
    """The parts of the speed goal ``kind`` misses (none: met)."""
    figures = summary[kind]
    misses = []
    if figures["records_per_s"] < GOAL_RECORDS_PER_S:
        misses.append("records/s")
    if figures["ratio_to_bare"] > GOAL_RATIO_TO_BARE:
        misses.append("x bare")
    if figures["records"] != summary["bare"]["records"]:
        misses.append("record count")
    return misses


def memory_goal(record: dict[str, Any]) -> bool:
    if record["outcome"] != "returned" or record["growth"] is None:
        return False
    if record["kind"] == "stream":
        return bool(record["growth"] <= GOAL_STREAM_GROWTH_BYTES)
    return bool(record["growth"] <= GOAL_PARSE_GROWTH_FACTOR * record["file_bytes"])


def print_mix(mix: Counter[str]) -> None:
    total = sum(mix.values())
    table = Table(["Satzart[.Sparte]", "records", "share"])
    for key in sorted(mix):
        table.add(key, f"{mix[key]:,}", f"{100 * mix[key] / total:.1f} %")
    table.add("total", f"{total:,}", "100.0 %")
    print_table(table)


def run_parent(options: argparse.Namespace) -> int:
    if options.pure:
        os.environ["BIPRO_RUV_PURE_PYTHON"] = "1"  # the children inherit it
    import bipro_ruv.gdv

    if bipro_ruv.gdv.ACCELERATED:
        decoder = "compiled"
    elif options.pure:
        decoder = "pure Python (--pure)"
    else:
        decoder = "pure Python (the compiled decoder is not built: pip install -e . with a C compiler)"
    print(f"GDV field decoder: {decoder}", flush=True)
    if options.quick:
        options.size_mb = 10.0
    if options.runs is None:
        options.runs = 1 if options.quick else 3
    size = int(options.size_mb * 1_000_000)
    work_dir = Path(options.work_dir) if options.work_dir else Path(tempfile.gettempdir()) / "bipro-bench-gdv"
    work_dir.mkdir(parents=True, exist_ok=True)

    main_file = generated_file(work_dir, size, options.seed, options.distinct, options.regenerate)
    big_file = None
    if options.big_factor > 0:
        big_size = int(size * options.big_factor)
        big_file = generated_file(work_dir, big_size, options.seed, options.distinct, options.regenerate)
    sample_path = Path(options.sample_file)
    repeated = sample_file(work_dir, sample_path, size, options.regenerate) if sample_path.is_file() else None
    if repeated is None:
        print(f"no sample file at {sample_path}: the sample line is skipped", flush=True)

    # The byte loop also brings the files into the page cache before anything is timed.
    mix = satzart_mix(main_file)
    sample_mix = satzart_mix(repeated) if repeated is not None else None
    if big_file is not None:
        satzart_mix(big_file)
    total_records = sum(mix.values())
    print(f"\n{main_file.name}: {main_file.stat().st_size:,} bytes, {total_records:,} records\n")
    print_mix(mix)

    print(f"\n(a) speed: {options.runs} round(s), each contender in a fresh process", flush=True)
    speed = {"generated": measure_speed("generated", main_file, options)}
    if repeated is not None:
        speed["sample"] = measure_speed("sample", repeated, options)

    print("\n(b) memory: each in a fresh process", flush=True)
    memory: dict[str, dict[str, Any]] = {}
    cases = [("stream", main_file), ("parse", main_file)]
    if big_file is not None:
        cases.insert(1, ("stream", big_file))
    for kind, path in cases:
        label = f"{kind} {path.stat().st_size / 1e6:.0f} MB"
        print(f"  {label} ...", flush=True)
        memory[label] = measure_memory(kind, path, options)

    # -- report
    print()
    table = Table(["file", "contender", "median s", "min s", "records", "records/s", "x bare", "goal"])
    goals: dict[str, bool] = {}
    for name, summary in speed.items():
        for kind in CONTENDERS:
            figures = summary[kind]
            ratio = None if kind == "bare" else f"{figures['ratio_to_bare']:.1f}x"
            verdict = None
            if kind != "bare" and name == "generated":
                misses = speed_misses(summary, kind)
                summary[kind]["goal_misses"] = misses
                goals[f"speed {kind}"] = not misses
                verdict = f"NOT MET ({', '.join(misses)})" if misses else "MET"
            table.add(
                f"{name} {summary['file_bytes'] / 1e6:.0f} MB",
                kind,
                f"{figures['median_s']:.2f}",
                f"{figures['min_s']:.2f}",
                f"{figures['records']:,}",
                f"{figures['records_per_s']:,.0f}",
                ratio,
                verdict,
            )
    print_table(table)
    print(
        f"goals (generated file, stream and parse): >= {GOAL_RECORDS_PER_S:,} records/s and "
        f"<= {GOAL_RATIO_TO_BARE:g}x bare (x bare: median of the paired ratios)."
    )
    print(
        f"for scale, from issue 11 (not measured here): gdv.xport 7.2.4 ~{XPORT_STREAM_RECORDS_PER_S:,} "
        f"records/s streaming, ~{XPORT_OBJECTS_RECORDS_PER_S:,} records/s with its full object model."
    )
    print(
        "no lazy view: the reader decodes every field of every supported record, so stream is the full parse."
    )
    for name, summary in speed.items():
        if "median_free_s" in summary["parse"]:
            print(
                f"{name}: freeing the parsed file afterwards took {summary['parse']['median_free_s']:.2f} s "
                "(median; not counted in parse)"
            )
        counts = {kind: summary[kind]["records"] for kind in CONTENDERS}
        if len(set(counts.values())) != 1:
            print(f"WARNING {name}: record counts differ: {counts}")
        warnings = {kind: summary[kind].get("warnings") for kind in PARSERS}
        print(f"{name}: parser warnings {warnings}")
    bare_records = speed["generated"]["bare"]["records"]
    if total_records != bare_records:
        print(f"WARNING: the byte loop counts {total_records:,} records, bare {bare_records:,}")

    print()
    table = Table(["case", *MEMORY_HEADERS, "growth/file", "kept MiB", "wall s", "goal"])
    for label, record in memory.items():
        goals[f"memory {label}"] = memory_goal(record)
        growth = record["growth"]
        kept = record["rss_after"] - record["baseline_rss"]
        table.add(
            label,
            *memory_cells(record),
            None if growth is None else f"{growth / record['file_bytes']:.2f}x",
            f"{kept / MIB:.1f}",
            f"{record['wall_s']:.2f}",
            "MET" if goals[f"memory {label}"] else "NOT MET",
        )
    print_table(table)
    print(
        f"goals: stream growth <= {GOAL_STREAM_GROWTH_BYTES // MIB} MiB at every size; parse growth <= "
        f"{GOAL_PARSE_GROWTH_FACTOR:g}x the file (gdv.xport keeps ~{XPORT_MEMORY_FACTOR}x, issue 11). "
        "kept = RSS after the call - baseline (parse: the GdvFile still alive)."
    )
    for label, record in memory.items():
        if record["outcome"] != "returned":
            print(f"{label}: {record['outcome']}")

    met = all(goals.values())
    print(f"\ngoals: {'ALL MET' if met else 'NOT MET: ' + ', '.join(k for k, v in goals.items() if not v)}")
    path = write_result(
        "gdv_parse",
        {
            "parameters": {
                "size_bytes": size,
                "big_factor": options.big_factor,
                "seed": options.seed,
                "distinct": options.distinct,
                "kind": KIND,
                "vu_numbers": VU_NUMBERS,
                "runs": options.runs,
                "warm_up": options.warm_up,
                "sample_ms": options.sample_ms,
            },
            "files": {
                "generated": str(main_file),
                "big": None if big_file is None else str(big_file),
                "sample": None if repeated is None else str(repeated),
            },
            "satzart_mix": dict(sorted(mix.items())),
            "sample_satzart_mix": None if sample_mix is None else dict(sorted(sample_mix.items())),
            "goals": {
                "records_per_s": GOAL_RECORDS_PER_S,
                "ratio_to_bare": GOAL_RATIO_TO_BARE,
                "stream_growth_bytes": GOAL_STREAM_GROWTH_BYTES,
                "parse_growth_factor": GOAL_PARSE_GROWTH_FACTOR,
            },
            "goal_results": goals,
            "goal_met": met,
            "reference_not_measured": {
                "gdv.xport 7.2.4 streaming records/s": XPORT_STREAM_RECORDS_PER_S,
                "gdv.xport 7.2.4 object model records/s": XPORT_OBJECTS_RECORDS_PER_S,
                "gdv.xport memory factor": XPORT_MEMORY_FACTOR,
            },
            "decoder": decoder,
            "speed": speed,
            "memory": memory,
            "environment": environment(work_dir),
        },
    )
    print(f"JSON: {path}")
    if options.clean:
        for file in (main_file, big_file, repeated):
            if file is not None:
                file.unlink(missing_ok=True)
    return 0 if met else 1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mb", type=float, default=100.0, help="file size in MB (10^6 bytes)")
    parser.add_argument("--runs", type=int, help="timed rounds (default 3; 1 with --quick)")
    parser.add_argument(
        "--big-factor",
        type=float,
        default=3.0,
        help="streaming memory also at this multiple of the size (0: skip)",
    )
    parser.add_argument(
        "--distinct", type=float, default=1.0, help="write_gdv distinct (1.0: every contract fresh)"
    )
    parser.add_argument("--seed", type=int, default=0, help="write_gdv seed")
    parser.add_argument(
        "--pure",
        action="store_true",
        help="measure the pure-Python field decoder (sets BIPRO_RUV_PURE_PYTHON=1 for the children)",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 10 MB, one round")
    parser.add_argument(
        "--warm-up",
        action="store_true",
        help="each timed child parses the first MiB once before the clock starts (one-time set-up not timed)",
    )
    parser.add_argument(
        "--work-dir", help="where the files go (default: <temp dir>/bipro-bench-gdv); kept for reuse"
    )
    parser.add_argument("--regenerate", action="store_true", help="write the files even if they exist")
    parser.add_argument("--clean", action="store_true", help="delete the files at the end")
    parser.add_argument(
        "--sample-file", default=str(DEFAULT_SAMPLE), help="the GDV's sample file (skipped if absent)"
    )
    parser.add_argument("--sample-ms", type=float, default=1.0, help="parent's RSS sampling interval, ms")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per child")
    # internal: the child side
    parser.add_argument(
        "--child", choices=[*CONTENDERS, *(f"memory-{kind}" for kind in PARSERS)], help=argparse.SUPPRESS
    )
    parser.add_argument("--file", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        run_child(options)
        return 0
    return run_parent(options)


if __name__ == "__main__":
    sys.exit(main())
