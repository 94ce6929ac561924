"""``polymodal fit ... --trainer.strategy ddp --trainer.devices 2 --trainer.accelerator cpu`` for the
supervised and contrastive tasks (the sleep task: ``tests/sleep_eval/test_sleep_ddp.py``).

Each run writes one ``metrics.json``; evaluating its best checkpoint again on
one process gives the same test metrics, so under DDP every test sample was
scored exactly once (the test splits have an odd size, which padding would
show).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cli_ddp import fit_ddp_then_test_single


def write_splits(root: Path, modalities: int, sizes: dict[str, int]) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    paths = {}
    for split, n in sizes.items():
        y = rng.integers(0, 3, n)
        arrays = {f"m{i}": (rng.normal(size=(n, 6)) + (i + 1) * y[:, None]).astype(np.float32) for i in range(modalities)}
        paths[split] = root / f"{split}.npz"
        np.savez(paths[split], **arrays, y=y)
    return paths


def data_args(paths: dict[str, Path]) -> list[str]:
    return [arg for split, path in paths.items() for arg in (f"--data.{split}", str(path))]


def test_supervised_mlb_over_two_processes(tmp_path) -> None:
    paths = write_splits(tmp_path, 2, {"train": 96, "val": 31, "test": 41})
    ddp, single = fit_ddp_then_test_single(
        [*data_args(paths), "--method", "mlb", "--max_epochs", "2", "--data.batch_size", "16", "--seed", "0"],
        ["--data.test", str(paths["test"])], tmp_path)
    assert set(ddp) >= {"test/acc", "test/f1_macro", "test/acc/m0", "test/acc/m1"}
    for key in ("test/acc", "test/f1_macro", "test/acc/m0", "test/acc/m1"):
        assert ddp[key] == pytest.approx(single[key], abs=1e-6), key
    assert abs(ddp["test/acc"] * 41 - round(ddp["test/acc"] * 41)) < 1e-4


def test_contrastive_confu_over_two_processes(tmp_path) -> None:
    paths = write_splits(tmp_path, 3, {"train": 96, "val": 31, "test": 41})
    options = ["--model.embed_dim", "8", "--model.fusion_hidden_dim", "16"]
    ddp, single = fit_ddp_then_test_single(
        [*data_args(paths), "--task", "contrastive", "--objective", "confu", "--max_epochs", "2",
         "--data.batch_size", "16", "--seed", "0", *options],
        ["--data.train", str(paths["train"]), "--data.test", str(paths["test"])], tmp_path)
    retrieval = [k for k in single if k.startswith("test/retrieval/")]
    assert "test/retrieval/m0+m1->m2/R@1" in retrieval
    for key in retrieval:
        assert ddp[key] == pytest.approx(single[key], abs=1e-6), key
    probes = [k for k in single if k.startswith("test/probe/")]
    assert probes and set(probes) <= set(ddp)
    for key in probes:  # probes fit on the same embeddings gathered in another order
        assert ddp[key] == pytest.approx(single[key], abs=0.05), key
