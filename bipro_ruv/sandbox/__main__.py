"""Run the sandbox standalone: ``python -m bipro_ruv.sandbox --port N``.

Prints exactly one line ``READY <base_url>`` to stdout once it listens, then serves
until SIGTERM or SIGINT. Crash tests and benchmarks start it as a child process.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence

from bipro_ruv.sandbox import Sandbox, SandboxConfig


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bipro_ruv.sandbox", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--bulk", type=int, default=0, metavar="N", help="add N small one-PDF shipments")
    parser.add_argument(
        "--large-bytes", type=int, default=None, metavar="N", help="add a document of N bytes"
    )
    parser.add_argument("--hostile", action="store_true", help="add the hostile shipments")
    parser.add_argument("--inline", action="store_true", help="inline base64 instead of MTOM")
    parser.add_argument("--token-lifetime", type=float, default=600.0, metavar="S", help="token lifetime, s")
    parser.add_argument(
        "--mailbox",
        choices=("default", "empty"),
        default=None,
        help="seed the default mailbox (default unless --bulk or --large-bytes is given)",
    )
    parser.add_argument("--verbose", action="store_true", help="log request lines to stderr")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    mailbox = args.mailbox or ("empty" if args.bulk or args.large_bytes else "default")
    config = SandboxConfig(
        port=args.port,
        bulk_shipments=args.bulk,
        large_document_bytes=args.large_bytes,
        hostile=args.hostile,
        mtom=not args.inline,
        token_lifetime_s=args.token_lifetime,
        mailbox=mailbox,
        verbose=args.verbose,
    )
    # SIGTERM ends the process like Ctrl-C: serve_forever() stops cleanly on KeyboardInterrupt.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    sandbox = Sandbox(config).start()
    sys.stdout.write(f"READY {sandbox.base_url}\n")
    sys.stdout.flush()
    sandbox.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
