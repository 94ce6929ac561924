"""A fit stopped after some epochs and resumed with ``--ckpt_path last`` ends exactly as an uninterrupted one."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch

from polymodal.cli import main
from polymodal.runner import PolymodalCLI

QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"]


def write_split(path: Path, n: int, rng: np.random.Generator) -> Path:
    y = rng.integers(0, 3, n)
    np.savez(path, audio=(rng.normal(size=(n, 6)) + y[:, None]).astype(np.float32),
             video=rng.normal(size=(n, 4)).astype(np.float32), y=y)
    return path


def write_triples(path: Path, n: int, rng: np.random.Generator) -> Path:
    """2-bit XOR triples: one-hot bits plus noise."""
    a, b = rng.integers(0, 2, (n, 2)), rng.integers(0, 2, (n, 2))
    arrays = {m: (np.eye(2)[s].reshape(n, -1) + 0.1 * rng.normal(size=(n, 4))).astype(np.float32)
              for m, s in {"m0": a, "m1": b, "m2": a ^ b}.items()}
    np.savez(path, **arrays, y=(a ^ b) @ np.array([1, 2]))
    return path


@pytest.fixture(scope="module")
def classification(tmp_path_factory) -> list[str]:
    root, rng = tmp_path_factory.mktemp("npz"), np.random.default_rng(0)
    files = {s: write_split(root / f"{s}.npz", n, rng) for s, n in [("train", 96), ("val", 32), ("test", 32)]}
    return [f"--data.{s}={p}" for s, p in files.items()] + ["--data.batch_size", "16"]


@pytest.fixture(scope="module")
def triples(tmp_path_factory) -> list[str]:
    root, rng = tmp_path_factory.mktemp("triples"), np.random.default_rng(1)
    files = {s: write_triples(root / f"{s}.npz", n, rng) for s, n in [("train", 64), ("val", 16), ("test", 16)]}
    return [f"--data.{s}={p}" for s, p in files.items()] + ["--data.batch_size", "16", "--task", "contrastive",
                                                             "--objective", "confu", "--model.fusion_hidden_dim", "16",
                                                             "--model.embed_dim", "16", "--model.linear_probe", "false"]


class Interrupt(L.Callback):
    """Ctrl-C at a training batch."""

    def __init__(self, epoch: int, batch: int) -> None:
        self.epoch, self.batch = epoch, batch

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if (trainer.current_epoch, batch_idx) == (self.epoch, self.batch):
            raise KeyboardInterrupt


def fit(out: Path, data: list[str], *extra: str, exit_code: int = 0) -> None:
    assert main(["fit", *data, "--seed", "3", "--out", str(out), *QUIET, *extra]) == exit_code


def interrupted_fit(monkeypatch, out: Path, data: list[str], *extra: str, epoch: int, batch: int) -> None:
    """A fit stopped by Ctrl-C at ``batch`` of ``epoch``."""
    instantiate = PolymodalCLI.instantiate_trainer

    def with_interrupt(cli, **kwargs):
        trainer = instantiate(cli, **kwargs)
        trainer.callbacks.append(Interrupt(epoch, batch))
        return trainer

    with monkeypatch.context() as patch:
        patch.setattr(PolymodalCLI, "instantiate_trainer", with_interrupt)
        fit(out, data, *extra, exit_code=130)


def rows(out: Path) -> list[dict[str, str]]:
    with (out / "metrics.csv").open() as file:
        return list(csv.DictReader(file))


def assert_same_run(whole: Path, resumed: Path) -> None:
    """Same test metrics, final weights and ``metrics.csv``, with every epoch's validation row once."""
    assert json.loads((resumed / "metrics.json").read_text()) == json.loads((whole / "metrics.json").read_text())
    last = [torch.load(run / "checkpoints" / "last.ckpt", weights_only=True) for run in (whole, resumed)]
    assert [checkpoint["epoch"] for checkpoint in last] == [3, 3]  # written at every epoch's end
    weights = [checkpoint["state_dict"] for checkpoint in last]
    assert weights[0].keys() == weights[1].keys()
    for name, value in weights[0].items():
        assert torch.allclose(value.float(), weights[1][name].float()), name
    assert [int(row["epoch"]) for row in rows(resumed) if row.get("val/loss")] == [0, 1, 2, 3]
    assert rows(resumed) == rows(whole)


def test_fit_resumed_after_it_ended_continues_as_an_uninterrupted_one(classification, tmp_path) -> None:
    """2 epochs, then 2 more from ``last.ckpt``: shuffled batches and the fusion head's dropout continue where
    they stopped, and the test row of the first fit leaves ``metrics.csv``."""
    options = [*classification, "--method", "joint", "--fusion", "mid_mlp", "--fusion_options.dropout", "0.3"]
    fit(tmp_path / "whole", options, "--max_epochs", "4")
    fit(tmp_path / "resumed", options, "--max_epochs", "2")
    assert any(row.get("test/acc") for row in rows(tmp_path / "resumed"))
    fit(tmp_path / "resumed", options, "--max_epochs", "2", "--ckpt_path", "last", "--trainer.max_epochs", "4")
    assert_same_run(tmp_path / "whole", tmp_path / "resumed")


@pytest.mark.parametrize("task", ["mcr", "contrastive"])
def test_interrupted_fit_resumes_exactly(task, request, tmp_path, monkeypatch) -> None:
    """Stopped in the third of 4 epochs and resumed from the end of the second: MCR's first epoch after its
    unimodal stage (random permutations) and the contrastive task's cosine learning-rate decay, dropout and
    shuffling go on as without the stop, and the rows logged in the lost part of the third epoch are dropped."""
    if task == "mcr":
        options = [*request.getfixturevalue("classification"), "--method", "mcr", "--fusion", "late"]
    else:
        options = request.getfixturevalue("triples")
    options += ["--max_epochs", "4", "--trainer.log_every_n_steps", "1"]
    fit(tmp_path / "whole", options)
    interrupted_fit(monkeypatch, tmp_path / "resumed", options, epoch=2, batch=2)
    stop = torch.load(tmp_path / "resumed" / "checkpoints" / "last.ckpt", weights_only=True)["global_step"]
    assert any(int(row["step"]) >= stop for row in rows(tmp_path / "resumed"))  # logged after last.ckpt
    fit(tmp_path / "resumed", options, "--ckpt_path", "last")
    assert_same_run(tmp_path / "whole", tmp_path / "resumed")
