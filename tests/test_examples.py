"""The scripts in ``examples/`` run as an MVP vendor would run them after copying."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_file_documents_by_contract_files_each_contract_and_prints_its_links(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "vertraege"
    result = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "file_documents_by_contract.py"),
            "--inbox",
            str(inbox),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    offline = [line.split()[-1] for line in lines if line.strip().startswith("offline:")]
    online = [line.split()[1] for line in lines if line.strip().startswith("online:")]
    assert "https://online.ruv.de/makler/vertrag?vsnr=18560093318" in offline
    # The merged contract is two contracts: under Condor (5339) and under R+V (5438).
    assert sum("/portal/vertrag?vsnr=18560093318" in url for url in online) == 2
    assert len(offline) == len(online) == 7
    # Shipment ids (the file name prefix) change with the sandbox's date; the folders do not.
    [condor] = (out / "5339").rglob("*.pdf")
    assert condor.parent == out / "5339" / "18560093318"
    assert condor.name.endswith("_Nachtrag_18560093318_Condor.pdf")
    assert len(list((out / "5438" / "44090312655").iterdir())) == 2
    assert len(list((out / "ohne-Vertrag").glob("*_Kfz-Anforderungsschreiben_*.pdf"))) == 1
    filed = [path for path in out.rglob("*") if path.is_file()]
    assert sorted(path.read_bytes() for path in filed) == sorted(
        path.read_bytes() for path in inbox.rglob("*") if path.is_file() and ".bipro-ruv" not in path.parts
    )
