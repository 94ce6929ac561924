"""``polymodal bench balance`` end to end on a user npz dataset."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch

from polymodal.bench.balance import run_balance
from polymodal.eval.ensemble import soft_vote


def write(path: Path, n: int, rng: np.random.Generator) -> str:
    y = rng.integers(0, 3, n)
    np.savez(path, a=(rng.normal(size=(n, 5)) + y[:, None]).astype(np.float32),
             b=(rng.normal(size=(n, 4)) + 0.5 * y[:, None]).astype(np.float32), y=y)
    return str(path)


def test_bench_balance_table_failures_ensemble_and_resume(tmp_path) -> None:
    rng = np.random.default_rng(0)
    train, test = write(tmp_path / "toy.npz", 150, rng), write(tmp_path / "toy_test.npz", 60, rng)
    out = tmp_path / "bench"
    args = ["--data.train", train, "--data.test", test, "--methods", "joint,unimodal,ensemble,ogm_ge",
            "--fusion", "mid_mlp", "--seeds", "1", "--max_epochs", "2", "--hidden_dim", "16", "--out", str(out)]
    assert run_balance(args) == 0
    rows = {r["method"]: r for r in csv.DictReader((out / "results.csv").open())}
    assert set(rows) == {"unimodal:a", "unimodal:b", "joint", "ogm_ge", "ensemble"}
    assert rows["ogm_ge"]["status"] == "failed" and "fusion 'mid_mlp'" in rows["ogm_ge"]["error"]
    assert all(rows[m]["status"] == "ok" for m in ("joint", "unimodal:a", "unimodal:b", "ensemble"))
    assert rows["ensemble"]["acc/a"] == rows["unimodal:a"]["acc"]
    members = [torch.load(out / "runs" / "toy" / f"unimodal-{m}" / "seed0" / "predictions.pt") for m in "ab"]
    expected = (soft_vote([p["logits"] for p in members]).argmax(1) == members[0]["targets"]).float().mean()
    assert float(rows["ensemble"]["acc"]) == float(expected)
    report = (out / "results.md").read_text()
    assert "## Failed runs" in report and "ogm_ge" in report
    for figure in ("accuracy.png", "unimodal_accuracy.png"):
        assert (out / figure).stat().st_size > 0
    finished = out / "runs" / "toy" / "joint" / "seed0" / "result.json"
    stamp = finished.stat().st_mtime_ns
    assert run_balance(args) == 0
    assert finished.stat().st_mtime_ns == stamp  # finished runs are skipped


def test_pretrain_finetune_row_starts_from_the_seed_unimodal_runs(tmp_path) -> None:
    rng = np.random.default_rng(0)
    paths = {}
    for split, n in (("train", 90), ("test", 40)):
        y = rng.integers(0, 3, n)
        paths[split] = tmp_path / f"{split}.npz"
        np.savez(paths[split], a=rng.normal(size=(n, 4)) + y[:, None], b=rng.normal(size=(n, 3)), y=y)
    out = tmp_path / "bench"
    assert run_balance(["--data.train", str(paths["train"]), "--data.test", str(paths["test"]),
                        "--methods", "pretrain_finetune", "--seeds", "1", "--max_epochs", "1",
                        "--hidden_dim", "8", "--out", str(out)]) == 0
    rows = {r["method"]: r for r in csv.DictReader((out / "results.csv").open())}
    assert rows["pretrain_finetune"]["status"] == "ok"


def test_encoder_options_reach_every_run(tmp_path) -> None:
    rng = np.random.default_rng(1)
    paths = {}
    for split, n in (("train", 60), ("test", 30)):
        y = rng.integers(0, 3, n)
        paths[split] = tmp_path / f"{split}.npz"
        np.savez(paths[split], a=rng.normal(size=(n, 1, 8, 8)) + y[:, None, None, None], b=rng.normal(size=(n, 8, 8)), y=y)
    out = tmp_path / "bench"
    assert run_balance(["--data.train", str(paths["train"]), "--data.test", str(paths["test"]), "--methods", "joint",
                        "--encoder", "resnet18", "--encoder_options", '{"width": 2}', "--seeds", "1",
                        "--max_epochs", "1", "--out", str(out)]) == 0
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert rows[0]["status"] == "ok"


def test_a_method_with_one_fusion_head_gets_it(tmp_path) -> None:
    rng = np.random.default_rng(1)
    train, test = write(tmp_path / "toy.npz", 90, rng), write(tmp_path / "toy_test.npz", 30, rng)
    out = tmp_path / "bench"
    assert run_balance(["--data.train", train, "--data.test", test, "--methods", "mmcosine", "--seeds", "1",
                        "--max_epochs", "1", "--hidden_dim", "8", "--out", str(out)]) == 0
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert rows[0]["method"] == "mmcosine" and rows[0]["status"] == "ok"
