"""``polymodal data``: dataset tools (``prepare``, ``download``)."""

from __future__ import annotations

import argparse

from polymodal.data.download import FSDD_DIGEST, FSDD_URL, download_fsdd


def data_main(argv: list[str]) -> int:
    """``polymodal data prepare NAME SRC --out DIR`` or ``polymodal data download fsdd --to DIR``."""
    from polymodal.data.benchmarks.cli import add_prepare_parser, run_prepare

    parser = argparse.ArgumentParser(prog="polymodal data", description="Dataset tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    add_prepare_parser(commands)
    download = commands.add_parser("download", help="download and verify a dataset")
    download.add_argument("name", choices=["fsdd"], help="fsdd: the Free Spoken Digit Dataset")
    download.add_argument("--to", required=True, help="folder to hold recordings/ (then --data.root DIR)")
    download.add_argument("--url", default=FSDD_URL, help="archive URL (default: the pinned upstream commit)")
    download.add_argument("--digest", default=FSDD_DIGEST, help="expected recordings digest (SHA-256)")
    args = parser.parse_args(argv)
    if args.command == "prepare":
        return run_prepare(args)
    root = download_fsdd(args.to, args.url, args.digest)
    print(f"FSDD verified in {root}; train with --dataset av-digits --data.root {root}")
    return 0
