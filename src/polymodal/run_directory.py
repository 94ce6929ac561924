"""The run directory of ``polymodal fit``: never silently mixed with, or lost to, another run.

A directory that already holds a run (checkpoints or ``metrics.json``) is
not reused by accident: ``fit`` refuses it unless the user resumes it
(``--ckpt_path last``, which needs its ``last.ckpt``) or replaces it
(``--overwrite``, which removes the files a run writes there and nothing
else). ``polymodal test`` writes next to the run, in ``<run>/test``, so the
fit's own ``metrics.json`` is never overwritten.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from polymodal.errors import PolymodalError

RUN_FILES = ("metrics.json", "metrics.csv", "config.yaml", "hparams.yaml")
RUN_FOLDERS = ("checkpoints",)


def holds_run(out: Path) -> bool:
    return any((out / name).exists() for name in (*RUN_FILES, *RUN_FOLDERS))


def prepare_run_directory(out: Path, ckpt_path: str | None, overwrite: bool) -> None:
    """Check ``out`` against the resume and overwrite choices; clear an old run on ``overwrite``."""
    if out.exists() and not out.is_dir():
        raise PolymodalError(f"--out {out}: is a file, not a directory")
    if ckpt_path == "last":
        if overwrite:
            raise PolymodalError("--ckpt_path last resumes a run, --overwrite replaces it: choose one")
        if not (out / "checkpoints" / "last.ckpt").is_file():
            raise PolymodalError(f"--ckpt_path last: {out} holds no run to resume (no checkpoints/last.ckpt)")
        return
    if not holds_run(out):
        return
    if not overwrite:
        raise PolymodalError(f"--out {out} already holds a run; resume it with --ckpt_path last, "
                             f"replace it with --overwrite, or choose another --out")
    for name in RUN_FOLDERS:
        shutil.rmtree(out / name, ignore_errors=True)
    for name in RUN_FILES:
        (out / name).unlink(missing_ok=True)
