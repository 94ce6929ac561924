"""``polymodal data``: dataset tools (``prepare``, ``download``).

Each subcommand is a typed function read through jsonargparse: its options
are checked against the signature, and ``--config FILE.yaml`` sets any of them.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from jsonargparse import ActionConfigFile, ArgumentParser

from polymodal.data.download import FSDD_DIGEST, FSDD_URL, download_fsdd


def download(name: Literal["fsdd"], *, to: Path, url: str = FSDD_URL, digest: str = FSDD_DIGEST) -> int:
    """Download and verify a dataset.

    Args:
        name: fsdd: the Free Spoken Digit Dataset
        to: folder to hold recordings/ (then --data.root DIR)
        url: archive URL (default: the pinned upstream commit)
        digest: expected recordings digest (SHA-256)
    """
    root = download_fsdd(to, url, digest)
    print(f"FSDD verified in {root}; train with --dataset av-digits --data.root {root}")
    return 0


def function_parser(function: Callable[..., Any], aliases: Mapping[str, str] | None = None) -> ArgumentParser:
    """The options of ``function`` (required parameters positional, keyword-only ones as options), ``--config``,
    and hidden alternative spellings (``{"--frame-size": "frame_size"}``)."""
    parser = ArgumentParser(description=(function.__doc__ or "").split("\n\n")[0], exit_on_error=False)
    parser.add_argument("--config", action=ActionConfigFile, help="a YAML file of these options")
    parser.add_function_arguments(function, as_positional=True)
    for alias, dest in (aliases or {}).items():
        parser.add_argument(alias, dest=dest, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


def data_main(argv: Sequence[str]) -> int:
    """``polymodal data prepare NAME SRC --out DIR`` or ``polymodal data download fsdd --to DIR``."""
    from polymodal.data.benchmarks.cli import PREPARE_ALIASES, prepare

    functions = {"prepare": prepare, "download": download}
    parser = ArgumentParser(prog="polymodal data", description="Dataset tools.", exit_on_error=False)
    commands = parser.add_subcommands(dest="command")
    commands.add_subcommand("prepare", function_parser(prepare, PREPARE_ALIASES),
                            help="prepare a raw audio-visual release into model-ready clips")
    commands.add_subcommand("download", function_parser(download), help="download and verify a dataset")
    config = parser.parse_args(list(argv))
    options = config[config.command].as_dict()
    options.pop("config", None)
    return functions[config.command](**options)
