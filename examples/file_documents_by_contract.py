"""File R+V's documents per contract and show each contract's portal deep link.

    python examples/file_documents_by_contract.py [--inbox DIR] [--out DIR]

Runs against the built-in sandbox, so it needs no credentials. For production, replace the
sandbox block with ``Client.from_settings(Settings.from_env())`` (or your own
``Client(username, password)``) and keep the rest.

1. ``fetch_open_documents`` stores every open document durably in the inbox, then
   acknowledges it (rerunnable after a crash: nothing is lost or stored twice);
2. ``ContractIndex.from_journal`` joins them per (VU-Nummer, VSNR): after the Condor
   merger the same number under 5339 and 5438 is two contracts;
3. each document is hard-linked (or copied) to ``<out>/<VU>/<VSNR>/``; documents without a
   contract (commission lists, GDV files) go to ``<out>/ohne-Vertrag/``;
4. each contract's deep link is printed: offline from the profile's URL templates and
   online from the insurer's Norm 440 ``getLinks``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

from bipro_ruv import Client
from bipro_ruv.contracts import ContractIndex
from bipro_ruv.sandbox import Sandbox
from bipro_ruv.transfer.models import Document


def file_document(document: Document, folder: Path) -> Path:
    """Hard-link ``document`` into ``folder`` (copy across file systems); skip if already there."""
    folder.mkdir(parents=True, exist_ok=True)
    # The shipment id keeps names unique: two shipments may both send "Nachtrag.pdf".
    target = folder / f"{document.shipment_id}_{document.file_name}"
    if not target.exists():
        try:
            os.link(document.path, target)
        except OSError:
            shutil.copy2(document.path, target)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inbox", type=Path, help="fetched documents and journal (default: temporary)")
    parser.add_argument("--out", type=Path, help="documents filed per contract (default: temporary)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bipro-ruv-example-") as scratch:
        inbox = args.inbox or Path(scratch, "inbox")
        out = args.out or Path(scratch, "vertraege")

        # Production: `with Client.from_settings(Settings.from_env()) as client:` instead of these two.
        with (
            Sandbox() as sandbox,
            Client(sandbox.username, sandbox.password, base_url=sandbox.base_url) as client,
        ):
            report = client.fetch_open_documents(inbox)
            print(f"Fetched {len(report.documents)} documents into {report.inbox}")
            for failure in report.failures:
                print(f"  not done: shipment {failure.shipment_id}: {failure.error}")

            index = ContractIndex.from_journal(inbox)
            for entry in index:
                folder = out / entry.vu_number / str(entry.vsnr)
                for document in entry.documents:
                    file_document(document, folder)
                offline = client.deep_link(entry.vsnr)
                # A real getLinks URL may carry a one-time session token: open it, never store it.
                online = client.deep_link(entry.vsnr, online=True)
                print(f"\nVU {entry.vu_number}, contract {entry.vsnr.formatted}")
                print(f"  filed in: {folder} ({len(entry.documents)} documents)")
                print(f"  offline:  {offline.url}")
                print(f"  online:   {online.url}  ({online.source.value}, ZielID {online.target})")
            for document in index.unassigned:
                file_document(document, out / "ohne-Vertrag")
            print(f"\n{len(index.unassigned)} documents without a contract filed in {out / 'ohne-Vertrag'}")


if __name__ == "__main__":
    main()
