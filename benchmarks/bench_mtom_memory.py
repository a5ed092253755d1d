"""Benchmark (a) of issue 3: peak memory of getShipment with one large MTOM attachment.

    python benchmarks/bench_mtom_memory.py [--size-mb 200] [--contenders bipro_ruv,zeep]

The sandbox runs in its own process with ``--large-bytes <size>`` (shipment ``GROSS-0001``,
one ``application/octet-stream`` attachment of pseudo-random bytes). Each contender runs
in its OWN fresh child process, so peaks cannot mix:

* ``bipro_ruv``: ``Client.get_shipment("GROSS-0001", directory)`` (streams to disk);
* ``zeep``: plain ``zeep.Client(wsdl/transfer.wsdl)`` with default settings and transport,
  ``service.getShipment(...)`` with the SCT in ``_soapheaders``: zeep reads the whole reply,
  splits it with requests-toolbelt's ``MultipartDecoder`` and puts the attachment back into
  the tree as base64 (``process_xop``). zeep may then fail to deserialize our lax XSD; the
  memory is measured until the call returns or raises, and the outcome is reported.

Each child warms up first (login, one listShipments, WSDL parsed), then records its RSS
(baseline), resets the kernel's peak counter (``VmHWM``), makes the one call, and reads
``VmHWM`` again. The parent samples the child's RSS from outside every ``--sample-ms``
as a cross-check. Peak = max(VmHWM, highest sample); growth = peak - baseline.
Goal (issue 3): growth of bipro_ruv <= 64 MiB for a 200 MB attachment (constant memory).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import shutil
import sys
import tempfile
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
    environment,
    measure_call,
    memory_cells,
    print_table,
    raw_login,
    run_measured_child,
    sandbox_endpoints,
    stored_file_check,
    write_child_result,
    write_result,
)

SHIPMENT_ID = LARGE_SHIPMENT_ID
GOAL_GROWTH_BYTES = 64 * MIB
CONTENDERS = ("bipro_ruv", "zeep")
REPO = Path(__file__).resolve().parent.parent
XMIME_NS = "http://www.w3.org/2005/05/xmlmime"


# -- child processes -------------------------------------------------------------------------------


def child_zeep(options: argparse.Namespace) -> dict[str, Any]:
    import zeep
    from lxml import etree

    identifier = sys.stdin.readline().strip()  # the token, from the parent (not on the command line)
    wsse = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
    wsc = "http://schemas.xmlsoap.org/ws/2005/02/sc"
    security = etree.Element(f"{{{wsse}}}Security", nsmap={"wsse": wsse})
    sct = etree.SubElement(security, f"{{{wsc}}}SecurityContextToken", nsmap={"wsc": wsc})
    etree.SubElement(sct, f"{{{wsc}}}Identifier").text = identifier

    class Capture(zeep.Plugin):
        """Keeps a reference to the reply tree after process_xop (no copy), to check the attachment."""

        envelope: Any = None

        def ingress(self, envelope: Any, http_headers: Any, operation: Any) -> Any:
            self.envelope = envelope
            return envelope, http_headers

    capture = Capture()
    client = zeep.Client(str(REPO / "wsdl" / "transfer.wsdl"), plugins=[capture])  # zeep's defaults
    binding = "{urn:bipro-ruv:wsdl:transfer}TransferServiceBinding"
    service = client.create_service(binding, options.transfer_url)
    warm_up = "returned"
    try:
        service.listShipments(Request={"BiPROVersion": options.bipro_version}, _soapheaders=[security])
    except Exception as exc:  # noqa: BLE001 - zeep may not deserialize the list; only the warm-up matters
        warm_up = f"raised {type(exc).__name__}"
    capture.envelope = None
    measured = measure_call(
        lambda: service.getShipment(
            Request={"BiPROVersion": options.bipro_version, "ID": SHIPMENT_ID}, _soapheaders=[security]
        )
    )
    record: dict[str, Any] = measured["record"]
    record["warm_up_listShipments"] = warm_up
    record["returned_type"] = type(measured["value"]).__name__ if measured["value"] is not None else None
    record["multipart_processed"] = capture.envelope is not None
    if capture.envelope is not None:
        daten = capture.envelope.find(f".//{{{'http://www.bipro.net/namespace/allgemein'}}}Daten")
        if daten is None:  # any namespace
            daten = next((e for e in capture.envelope.iter() if etree.QName(e).localname == "Daten"), None)
        if daten is not None and daten.text:
            data = base64.b64decode(daten.text)
            record["decoded_size"] = len(data)
            record["decoded_sha256"] = hashlib.sha256(data).hexdigest()
            record["decoded_last_bytes_hex"] = data[-4:].hex()
    return record


def run_child(options: argparse.Namespace) -> None:
    if options.child == "bipro_ruv":
        write_child_result(child_get_shipment(options.url, Path(options.dir)))
    else:
        write_child_result(child_zeep(options))


# -- parent ----------------------------------------------------------------------------------------


def expected_document(size: int) -> dict[str, Any]:
    """SHA-256 of the sandbox's document, and of it without its last byte (zeep's known defect)."""
    from bipro_ruv.sandbox.content.mailbox import large_document_shipment

    document = large_document_shipment(size, shipment_id=SHIPMENT_ID).documents[0]
    digest = hashlib.sha256()
    prefix: str | None = None
    last = b""
    for chunk, is_last in _iter_with_last(document.produce()):
        if is_last and chunk:
            digest.update(chunk[:-1])
            prefix = digest.copy().hexdigest()
            last = chunk[-1:]
            digest.update(last)
        else:
            digest.update(chunk)
    if digest.hexdigest() != document.sha256:
        raise RuntimeError("sandbox document hash is not reproducible")
    return {
        "size": document.size,
        "sha256": document.sha256,
        "sha256_without_last_byte": prefix,
        "last_byte_hex": last.hex(),
    }


def _iter_with_last(chunks: Any) -> Any:
    iterator = iter(chunks)
    try:
        previous = next(iterator)
    except StopIteration:
        return
    for chunk in iterator:
        yield previous, False
        previous = chunk
    yield previous, True


def _file_check(contender: str, record: dict[str, Any], expected: dict[str, Any]) -> str:
    if contender == "bipro_ruv":
        return stored_file_check(record, expected["size"], expected["sha256"])
    if "decoded_size" not in record:
        return "attachment not reached" if not record.get("multipart_processed") else "no Daten"
    size = record["decoded_size"]
    if record["decoded_sha256"] == expected["sha256"]:
        return f"{size} bytes, sha256 OK"
    if size == expected["size"] - 1 and record["decoded_sha256"] == expected["sha256_without_last_byte"]:
        return f"{size} bytes: ONE BYTE SHORT (last byte 0x{expected['last_byte_hex']} dropped)"
    return f"{size} bytes, sha256 MISMATCH (expected {expected['size']})"


def measure_contender(
    contender: str, base_url: str, work_dir: Path, sample_interval: float, timeout: float
) -> dict[str, Any]:
    target = Path(tempfile.mkdtemp(prefix=f"{contender}-", dir=work_dir))
    command = [sys.executable, str(Path(__file__).resolve()), "--child", contender, "--url", base_url]
    command += ["--dir", str(target)]
    stdin_text = ""
    if contender == "zeep":
        sts_url, transfer_url, version = sandbox_endpoints(base_url)
        with requests.Session() as session:
            identifier = raw_login(session, sts_url)
        command += ["--transfer-url", transfer_url, "--bipro-version", version]
        stdin_text = identifier + "\n"
    try:
        return run_measured_child(
            command, stdin_text=stdin_text, sample_interval=sample_interval, timeout=timeout
        )
    finally:
        shutil.rmtree(target, ignore_errors=True)


def run_parent(options: argparse.Namespace) -> int:
    size = int(options.size_mb * 1_000_000)
    contenders = [name.strip() for name in options.contenders.split(",") if name.strip()]
    unknown = set(contenders) - set(CONTENDERS)
    if unknown:
        raise SystemExit(f"unknown contender(s) {sorted(unknown)}; choose from {CONTENDERS}")
    work_root = Path(options.work_dir) if options.work_dir else Path(tempfile.gettempdir())
    work_dir = Path(tempfile.mkdtemp(prefix="bipro-bench-mtom-", dir=work_root))
    print(f"attachment: {size} bytes ({size / MIB:.1f} MiB); computing the expected sha256 ...", flush=True)
    expected = expected_document(size)
    results: dict[str, Any] = {}
    try:
        with SandboxProcess(["--large-bytes", str(size)]) as sandbox:
            for contender in contenders:
                print(f"{contender}: getShipment {SHIPMENT_ID} in a fresh process ...", flush=True)
                results[contender] = measure_contender(
                    contender, sandbox.base_url, work_dir, options.sample_ms / 1000, options.timeout
                )
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)

    table = Table(
        [
            "contender",
            *MEMORY_HEADERS,
            "growth/attachment",
            "wall s",
            "samples",
            "attachment",
        ]
    )
    for contender, record in results.items():
        record["file_check"] = _file_check(contender, record, expected)
        growth = record["growth"]
        table.add(
            contender,
            *memory_cells(record),
            None if growth is None else f"{growth / size:.2f}x",
            f"{record['wall_s']:.2f}",
            record["samples"],
            record["file_check"],
        )
    print()
    print_table(table)
    for contender, record in results.items():
        if record["outcome"] != "returned":
            print(f"{contender}: {record['outcome']}")
    verdict = None
    if "bipro_ruv" in results and results["bipro_ruv"]["growth"] is not None:
        growth = results["bipro_ruv"]["growth"]
        verdict = growth <= GOAL_GROWTH_BYTES and results["bipro_ruv"]["file_check"] == "sha256 OK"
        print(
            f"\ngoal: bipro_ruv growth <= {GOAL_GROWTH_BYTES // MIB} MiB and a correct file: "
            f"{'MET' if verdict else 'NOT MET'} ({growth / MIB:.1f} MiB)"
        )
    path = write_result(
        "mtom_memory",
        {
            "attachment_bytes": size,
            "expected": expected,
            "goal_growth_bytes": GOAL_GROWTH_BYTES,
            "goal_met": verdict,
            "sample_interval_ms": options.sample_ms,
            "environment": environment(work_root),
            "results": results,
        },
    )
    print(f"JSON: {path}")
    return 0 if verdict in (True, None) else 1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mb", type=float, default=200.0, help="attachment size in MB (10^6 bytes)")
    parser.add_argument("--contenders", default=",".join(CONTENDERS), help="comma-separated: bipro_ruv,zeep")
    parser.add_argument("--sample-ms", type=float, default=1.0, help="parent's RSS sampling interval, ms")
    parser.add_argument("--work-dir", help="where downloaded files go (default: the system temp dir)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per contender")
    # internal: the child side
    parser.add_argument("--child", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    parser.add_argument("--transfer-url", help=argparse.SUPPRESS)
    parser.add_argument("--bipro-version", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        run_child(options)
        return 0
    return run_parent(options)


if __name__ == "__main__":
    sys.exit(main())
