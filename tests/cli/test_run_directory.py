"""Reruns and resumes never mix or lose runs; an interrupted fit says how to resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from polymodal import SupervisedTask
from polymodal.cli import main

QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"]


@pytest.fixture(scope="module")
def npz(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("npz")
    rng = np.random.default_rng(0)
    paths = {}
    for split, n in (("train", 60), ("test", 30)):
        y = rng.integers(0, 3, n)
        paths[split] = root / f"{split}.npz"
        np.savez(paths[split], a=(rng.normal(size=(n, 4)) + y[:, None]).astype("float32"), y=y,
                 b=rng.normal(size=(n, 3)).astype("float32"))
    return paths


def fit(npz: dict[str, Path], out: Path, *extra: str) -> int:
    return main(["fit", "--data.train", str(npz["train"]), "--data.test", str(npz["test"]), "--max_epochs", "1",
                 "--out", str(out), *QUIET, *extra])


def test_a_finished_run_is_not_overwritten_by_accident(npz, tmp_path, capsys) -> None:
    out = tmp_path / "run"
    assert fit(npz, out) == 0
    best = (out / "checkpoints" / "best.ckpt").read_bytes()
    capsys.readouterr()
    assert fit(npz, out, "--seed", "3") == 2
    assert "already holds a run" in capsys.readouterr().err
    assert (out / "checkpoints" / "best.ckpt").read_bytes() == best
    assert fit(npz, out, "--seed", "3", "--overwrite") == 0
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["best.ckpt", "last.ckpt"]  # no best-v1


def test_resume_needs_a_run_and_out_must_be_a_directory(npz, tmp_path, capsys) -> None:
    assert fit(npz, tmp_path / "empty", "--ckpt_path", "last") == 2
    assert "holds no run to resume" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    assert fit(npz, tmp_path / "file") == 2
    assert "is a file" in capsys.readouterr().err


def test_test_without_out_keeps_the_fit_metrics(npz, tmp_path) -> None:
    out = tmp_path / "run"
    assert fit(npz, out) == 0
    fitted = (out / "metrics.json").read_text()
    assert main(["test", "--ckpt", str(out / "checkpoints" / "best.ckpt"), "--data.test", str(npz["test"])]) == 0
    assert (out / "metrics.json").read_text() == fitted
    assert json.loads((out / "test" / "metrics.json").read_text())["test/acc"] == json.loads(fitted)["test/acc"]


def test_an_interrupted_fit_exits_130_and_says_how_to_resume(npz, tmp_path, monkeypatch, capsys) -> None:
    def interrupted(self, batch, batch_idx):
        raise KeyboardInterrupt

    monkeypatch.setattr(SupervisedTask, "training_step", interrupted)
    out = tmp_path / "run"
    assert main(["fit", "--data.train", str(npz["train"]), "--max_epochs", "2", "--out", str(out),
                 "--trainer.enable_progress_bar", "false"]) == 130
    assert not (out / "metrics.json").exists()
    assert f"resume with the same command and --ckpt_path last (run directory {out})" in capsys.readouterr().err


def test_sigterm_during_fit_exits_130_and_says_how_to_resume(npz, tmp_path) -> None:
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    process = subprocess.Popen([sys.executable, "-m", "polymodal", "fit", "--data.train", str(npz["train"]),
                                "--max_epochs", "100000", "--out", str(out), *QUIET],
                               stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    while not (out / "checkpoints" / "last.ckpt").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err[-2000:]
    assert "resume with the same command and --ckpt_path last" in err
    assert not (out / "metrics.json").exists()
