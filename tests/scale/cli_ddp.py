"""Shared by the CLI DDP tests: run ``python -m polymodal`` as 2 CPU processes, then re-evaluate on one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

DDP = ["--trainer.strategy", "ddp", "--trainer.devices", "2", "--trainer.accelerator", "cpu",
       "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"]


def polymodal(*args: str, timeout: int = 400) -> subprocess.CompletedProcess:
    """``python -m polymodal ARGS`` in a fresh process (Lightning launches the second DDP process itself)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "polymodal", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def fit_ddp_then_test_single(fit_args: list[str], test_args: list[str], out: Path) -> tuple[dict, dict]:
    """Metrics of a 2-process ``fit`` and of a 1-process ``test`` of its best checkpoint."""
    done = polymodal("fit", *fit_args, *DDP, "--out", str(out / "ddp"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(p.name for p in (out / "ddp").glob("**/metrics.json")) == ["metrics.json"]
    ddp = json.loads((out / "ddp" / "metrics.json").read_text())
    done = polymodal("test", "--ckpt", str(out / "ddp" / "checkpoints" / "best.ckpt"), *test_args,
                     "--out", str(out / "single"))
    assert done.returncode == 0, done.stderr[-3000:]
    return ddp, json.loads((out / "single" / "metrics.json").read_text())
