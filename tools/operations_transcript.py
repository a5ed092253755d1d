"""Write the transcript of docs/operations.md: a scheduled run, by the real commands, against the sandbox.

    python tools/operations_transcript.py [--check]

Starts the built-in sandbox (with its hostile shipments, so the transcript shows failures and the
quarantine) on 127.0.0.1, then runs the installed ``bipro-ruv`` as a cron job would: settings in
the environment, no terminal (stdin is /dev/null), three nights in a row, then the admin's
commands. The output replaces the block between the transcript markers in docs/operations.md.
``--check`` only says whether the commands still end with the exit codes the document shows.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "operations.md"
START, END = "<!-- transcript:start -->", "<!-- transcript:end -->"
WORK = Path(tempfile.gettempdir()) / "bipro-ruv-transcript"


def script() -> str:
    beside = Path(sys.executable).parent / "bipro-ruv"
    found = str(beside) if beside.is_file() else shutil.which("bipro-ruv")
    if not found:
        raise SystemExit("bipro-ruv is not installed (pip install -e .)")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="compare the exit codes only")
    options = parser.parse_args()

    from bipro_ruv.sandbox import Sandbox, SandboxConfig

    shutil.rmtree(WORK, ignore_errors=True)
    inbox = WORK / "inbox"
    (WORK / "state").mkdir(parents=True)
    lines: list[str] = []
    codes: list[int] = []
    with Sandbox(SandboxConfig(hostile=True)) as sandbox:
        settings = {
            "BIPRO_RUV_BASE_URL": sandbox.base_url,
            "BIPRO_RUV_USERNAME": sandbox.username,
            "BIPRO_RUV_PASSWORD": sandbox.password,
            "BIPRO_RUV_INBOX": str(inbox),
            "BIPRO_RUV_STATE_DIR": str(WORK / "state"),
        }
        env = {k: v for k, v in os.environ.items() if not k.startswith("BIPRO_RUV_")}
        env.update(settings, COLUMNS="100", TERM="dumb")
        lines.append("# /etc/bipro-ruv/env (the job's EnvironmentFile; the password shown is the sandbox's)")
        lines.extend(f"{key}={value}" for key, value in settings.items())
        lines.append("")

        def run(comment: str, *args: str) -> None:
            lines.append(f"# {comment}")
            lines.append("$ " + " ".join(["bipro-ruv", *map(shlex.quote, args)]))
            done = subprocess.run(
                [script(), *args],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=300,
                check=False,
            )
            lines.extend(line.rstrip() for line in done.stdout.rstrip("\n").splitlines())
            lines.append(f"[exit {done.returncode}]")
            lines.append("")
            codes.append(done.returncode)

        run("night 1, 02:30, the timer starts the job (-v: one audit line per shipment)", "-v", "fetch")
        run("night 2: the four broken shipments fail again; nothing else is new", "fetch")
        run("night 3: the third failure for the same reason quarantines them", "fetch")
        run("night 4: quarantined shipments are reported, not downloaded again; exit 0", "fetch", "--json")
        run("the admin looks at what needs attention", "shipments", "list")
        run("why one of them is quarantined", "shipments", "show", "HOSTILE-CHECKSUM")
        run(
            "acknowledging needs --confirm: the documents were never stored",
            "shipments",
            "acknowledge",
            "HOSTILE-CHECKSUM",
        )
        run(
            "after getting the letter from the portal",
            "shipments",
            "acknowledge",
            "HOSTILE-CHECKSUM",
            "--confirm",
        )
        run("or let the next night try again", "shipments", "retry", "HOSTILE-NESTED")
    shutil.rmtree(WORK, ignore_errors=True)
    text = "\n".join(lines).replace(str(WORK), "/srv/bipro-ruv")
    document = DOC.read_text(encoding="utf-8")
    before, rest = document.split(START, 1)
    _, after = rest.split(END, 1)
    if options.check:
        shown = [
            int(line[len("[exit ") : -1])
            for line in rest.split(END, 1)[0].splitlines()
            if line.startswith("[exit ")
        ]
        print(f"exit codes now {codes}, in the document {shown}")
        return 0 if codes == shown else 1
    DOC.write_text(f"{before}{START}\n```text\n{text}\n```\n{END}{after}", encoding="utf-8")
    print(f"{DOC}: transcript of {len(codes)} commands written (exit codes {codes})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
