"""``polymodal data``: dataset tools (``prepare``, ``download``).

Each subcommand is a typed function read through jsonargparse: its options
are checked against the signature, and ``--config FILE.yaml`` sets any of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from polymodal.commands import Subcommand, run_subcommand
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


def data_main(argv: Sequence[str]) -> int:
    """``polymodal data prepare NAME SRC --out DIR`` or ``polymodal data download fsdd --to DIR``."""
    from polymodal.data.benchmarks.cli import PREPARE_ALIASES, prepare

    return run_subcommand("polymodal data", "Dataset tools.", {
        "prepare": Subcommand(prepare, "prepare a raw audio-visual release into model-ready clips", PREPARE_ALIASES),
        "download": Subcommand(download, "download and verify a dataset"),
    }, argv)
