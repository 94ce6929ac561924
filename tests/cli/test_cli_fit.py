"""End-to-end CLI: fit → metrics.json → test from the checkpoint, resume, determinism, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from polymodal.cli import main

QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"]


def write_split(path: Path, n: int, rng: np.random.Generator, classes: int = 3) -> Path:
    y = rng.integers(0, classes, n)
    audio = (rng.normal(size=(n, 6)) + y[:, None]).astype(np.float32)
    video = rng.normal(size=(n, 4)).astype(np.float32)
    np.savez(path, audio=audio, video=video, y=y)
    return path


@pytest.fixture(scope="module")
def npz(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("npz")
    rng = np.random.default_rng(0)
    return {s: write_split(root / f"{s}.npz", n, rng) for s, n in [("train", 240), ("val", 60), ("test", 90)]}


def fit(npz: dict[str, Path], out: Path, *extra: str) -> int:
    return main(["fit", "--data.train", str(npz["train"]), "--data.val", str(npz["val"]),
                 "--data.test", str(npz["test"]), "--method", "multiloss", "--fusion", "late",
                 "--max_epochs", "3", "--seed", "0", "--out", str(out), *QUIET, *extra])


def test_fit_writes_metrics_and_test_reproduces_them(npz, tmp_path) -> None:
    assert fit(npz, tmp_path / "run") == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    for key in ["test/acc", "test/f1_macro", "test/acc/audio", "test/acc/video"]:
        assert 0.0 <= metrics[key] <= 1.0, key
    assert metrics["test/acc/audio"] > 0.6 > metrics["test/acc/video"]  # audio carries the label
    for name in ["config.yaml", "metrics.csv", "checkpoints/best.ckpt", "checkpoints/last.ckpt"]:
        assert (tmp_path / "run" / name).is_file(), name
    ckpt = tmp_path / "run" / "checkpoints" / "best.ckpt"
    assert main(["test", "--ckpt", str(ckpt), "--data.test", str(npz["test"]), "--out", str(tmp_path / "eval")]) == 0
    again = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    for key in ["test/acc", "test/f1_macro", "test/acc/audio", "test/acc/video"]:
        assert again[key] == pytest.approx(metrics[key], abs=1e-6), key


def test_same_seed_same_metrics(npz, tmp_path) -> None:
    fit(npz, tmp_path / "a")
    fit(npz, tmp_path / "b")
    a = json.loads((tmp_path / "a" / "metrics.json").read_text())
    b = json.loads((tmp_path / "b" / "metrics.json").read_text())
    assert a == b


def test_resume_from_last_checkpoint_continues_training(npz, tmp_path) -> None:
    out = tmp_path / "run"
    fit(npz, out)
    first = torch.load(out / "checkpoints" / "last.ckpt", weights_only=True)
    assert first["epoch"] == 2
    assert fit(npz, out, "--ckpt_path", "last", "--trainer.max_epochs", "5") == 0
    resumed = torch.load(out / "checkpoints" / "last.ckpt", weights_only=True)
    assert resumed["epoch"] == 4
    assert resumed["global_step"] == first["global_step"] * 5 // 3


def test_config_file_with_dotted_override(npz, tmp_path) -> None:
    config = tmp_path / "run.yaml"
    config.write_text(
        "model:\n  class_path: polymodal.tasks.SupervisedTask\n  init_args:\n    balancer: joint\n    fusion: gated\n"
        f"data:\n  class_path: polymodal.data.NpzDataModule\n  init_args:\n    train: {npz['train']}\n"
        f"    test: {npz['test']}\ntrainer:\n  max_epochs: 5\n"
    )
    out = tmp_path / "run"
    assert main(["fit", "--config", str(config), "--trainer.max_epochs", "1", "--out", str(out), *QUIET]) == 0
    assert torch.load(out / "checkpoints" / "last.ckpt", weights_only=True)["epoch"] == 0
    resolved = (out / "config.yaml").read_text()
    assert "fusion: gated" in resolved and "max_epochs: 1" in resolved


def test_python_dash_m_runs_the_same_cli() -> None:
    result = subprocess.run([sys.executable, "-m", "polymodal", "fit", "--method", "nope",
                             "--data.train", "x.npz"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("polymodal: error:")


def test_per_step_state_reaches_the_csv_log(npz, tmp_path) -> None:
    out = tmp_path / "run"
    assert main(["fit", "--data.train", str(npz["train"]), "--method", "mlb", "--max_epochs", "2", "--out", str(out),
                 "--trainer.log_every_n_steps", "2", *QUIET]) == 0
    import csv

    rows = list(csv.DictReader((out / "metrics.csv").open()))
    logged = [r for r in rows if r.get("train/k/audio")]
    assert len(logged) >= 3
    assert {"train/s/video", "train/fused", "train/uni/audio"} <= set(rows[0])
    assert all(0.0 < float(r["train/k/audio"]) < 2.0 for r in logged)
    assert all(int(r["step"]) % 2 == 0 for r in logged)
