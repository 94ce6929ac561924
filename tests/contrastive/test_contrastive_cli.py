"""``polymodal fit --task contrastive`` on .npz triples, the configs, and ``polymodal bench contrastive``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from polymodal.bench.contrastive import run_contrastive
from polymodal.cli import main
from polymodal.errors import PolymodalError
from polymodal.runner import configured
from polymodal.tasks.contrastive import ContrastiveTask

QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"]
CONFIGS = sorted(Path(__file__).resolve().parents[2].joinpath("configs", "contrastive").glob("*.yaml"))


def write_triples(path: Path, n: int, rng: np.random.Generator) -> Path:
    """2-bit XOR triples, one-hot bits plus noise, with content keys ``k_<m>``."""
    a, b = rng.integers(0, 2, (n, 2)), rng.integers(0, 2, (n, 2))
    symbols = {"m0": a, "m1": b, "m2": a ^ b}
    arrays = {m: (np.eye(2)[s].reshape(n, -1) + 0.1 * rng.normal(size=(n, 4))).astype(np.float32)
              for m, s in symbols.items()}
    keys = {f"k_{m}": s @ np.array([1, 2]) for m, s in symbols.items()}
    np.savez(path, **arrays, **keys, y=keys["k_m2"])
    return path


def test_fit_contrastive_on_npz_triples_writes_retrieval_metrics(tmp_path):
    rng = np.random.default_rng(0)
    files = {s: write_triples(tmp_path / f"{s}.npz", n, rng) for s, n in [("train", 96), ("val", 32), ("test", 40)]}
    out = tmp_path / "run"
    assert main(["fit", "--task", "contrastive", "--objective", "confu", "--data.train", str(files["train"]),
                 "--data.val", str(files["val"]), "--data.test", str(files["test"]), "--max_epochs", "2",
                 "--seed", "0", "--out", str(out), *QUIET]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    directions = {"m0->m1", "m1->m0", "m0->m2", "m2->m0", "m1->m2", "m2->m1", "m0+m1->m2", "m0+m2->m1", "m1+m2->m0"}
    for direction in directions:
        for name in ("R@1", "R@5", "R@10", "MRR"):
            assert 0.0 <= metrics[f"test/retrieval/{direction}/{name}"] <= 1.0
        recalls = [metrics[f"test/retrieval/{direction}/R@{k}"] for k in (1, 5, 10)]
        assert recalls == sorted(recalls) and metrics[f"test/retrieval/{direction}/MRR"] >= recalls[0]
    assert (out / "checkpoints" / "best.ckpt").is_file()


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
def test_config_builds_its_objective_on_xor(config, tmp_path):
    """``<objective>.yaml``: the reference protocol; ``confu_rotated.yaml``: the same on rotated XOR with embedding 64."""
    cli = configured(["--config", str(config), "--data.init_args.train_size", "64", "--data.init_args.val_size",
                     "16", "--data.init_args.test_size", "16", "--out", str(tmp_path)])
    objective, _, variant = config.stem.partition("_")
    assert isinstance(cli.model, ContrastiveTask)
    assert cli.model.objective.name == objective == yaml.safe_load(config.read_text())["model"]["init_args"]["objective"]
    assert cli.model.data_info.modalities == ("m0", "m1", "m2") and cli.trainer.max_epochs == 60
    assert cli.model.hparams.lr == 1e-4 and cli.model.hparams.fusion_hidden_dim == 512
    assert cli.datamodule.batch_size == 256 and cli.datamodule.rotate == (variant == "rotated")
    assert cli.model.hparams.embed_dim == (64 if variant == "rotated" else 16)


TINY = '{"xor": {"bits": 2, "train_size": 128, "val_size": 32, "test_size": 32}, ' \
       '"latin-square": {"num_symbols": 3, "train_size": 96, "val_size": 24, "test_size": 24}}'


def bench(out: Path, *extra: str) -> int:
    return run_contrastive(["--objectives", "confu,pairwise", "--datasets", "xor,latin-square",
                            "--xor_probabilities", "1.0,0.5", "--seeds", "1", "--max_epochs", "1",
                            "--batch_size", "32", "--fusion_hidden_dim", "16", "--data_options", TINY,
                            "--out", str(out), *extra])


def test_bench_contrastive_writes_rows_table_and_xor_figure_and_skips_finished_runs(tmp_path, monkeypatch):
    out = tmp_path / "bench"
    assert bench(out, "--objective_options", '{"pairwise": {"no_such_option": 1}}') == 0
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert [(r["dataset"], r["objective"]) for r in rows] == [
        ("xor p̂=1", "confu"), ("xor p̂=1", "pairwise"), ("xor p̂=0.5", "confu"), ("xor p̂=0.5", "pairwise"),
        ("latin-square", "confu"), ("latin-square", "pairwise")]
    assert [r["status"] for r in rows] == ["ok", "failed"] * 3  # a failed run is a row, not a crash
    assert "no_such_option" in rows[1]["error"]
    for row in rows[::2]:
        for metric in ("1->1/R@1", "1->1/MRR", "2->1/R@1", "2->1/R@5", "12->3/R@1", "13->2/R@1", "23->1/R@1"):
            assert 0.0 <= float(row[metric]) <= 1.0
    table = (out / "results.md").read_text()
    assert "## xor p̂=0.5\n" in table and "| confu |" in table and "## Failed runs" in table
    assert "| m0+m2->m1 R@1 |" in table.split("## latin-square")[0]  # named as in the XOR figure
    assert (out / "xor_accuracy.png").stat().st_size > 0
    # a rerun with the same OUT reuses finished runs instead of training them again
    monkeypatch.setattr("polymodal.bench.grid.fit_and_test",
                        lambda *args: pytest.fail("a finished run was trained again"))
    first = (out / "runs" / "xor-p1" / "confu" / "seed0" / "result.json").read_text()
    assert bench(out, "--objectives", "confu") == 0
    assert (out / "runs" / "xor-p1" / "confu" / "seed0" / "result.json").read_text() == first


@pytest.mark.parametrize("argv, message", [
    (["--objectives", "confu,clap"], "unknown objective 'clap'"),
    (["--datasets", "xor,nope"], "unknown dataset 'nope'"),
    (["--data_options", '{"xor": {"xor_probability": 0.3}}'], "--xor_probabilities"),
])
def test_bench_contrastive_rejects_bad_names_before_training(argv, message, tmp_path):
    with pytest.raises(PolymodalError, match=message):
        run_contrastive(["--out", str(tmp_path), *argv])


def test_fit_reports_linear_probes_on_labelled_data(tmp_path) -> None:
    from polymodal.cli import main

    rng = np.random.default_rng(0)

    def split(n: int) -> str:
        y = rng.integers(0, 3, n)
        path = tmp_path / f"split{n}.npz"
        np.savez(path, a=(rng.normal(size=(n, 4)) + 2 * y[:, None]).astype(np.float32),
                 b=rng.normal(size=(n, 3)).astype(np.float32), c=rng.normal(size=(n, 2)).astype(np.float32), y=y)
        return str(path)

    out = tmp_path / "run"
    assert main(["fit", "--task", "contrastive", "--objective", "confu", "--data.train", split(200),
                 "--data.test", split(100), "--max_epochs", "1", "--out", str(out),
                 "--trainer.enable_progress_bar", "false"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    probes = {k: v for k, v in metrics.items() if k.startswith("test/probe/")}
    assert set(probes) == {f"test/probe/{n}/acc" for n in ("a", "b", "c", "a+b", "a+c", "b+c")}
    assert probes["test/probe/a/acc"] > 0.8 > probes["test/probe/b/acc"]  # only `a` carries the label


def unlabelled_triples(path: Path, n: int, rng: np.random.Generator) -> str:
    """Three modalities and content keys, no ``y``."""
    bits = rng.integers(0, 2, (n, 2))
    arrays = {m: (np.eye(2)[bits].reshape(n, -1) + 0.1 * rng.normal(size=(n, 4))).astype(np.float32)
              for m in ("m0", "m1", "m2")}
    np.savez(path, **arrays, k_m2=bits @ np.array([1, 2]))
    return str(path)


def test_fit_contrastive_without_labels_trains_and_retrieves_without_probes(tmp_path) -> None:
    rng = np.random.default_rng(0)
    train, test = (unlabelled_triples(tmp_path / f"{s}.npz", n, rng) for s, n in [("train", 64), ("test", 24)])
    out = tmp_path / "run"
    assert main(["fit", "--task", "contrastive", "--objective", "confu", "--data.train", train,
                 "--data.test", test, "--max_epochs", "1", "--out", str(out), *QUIET]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert 0.0 <= metrics["test/retrieval/m0+m1->m2/R@1"] <= 1.0 and 0.0 <= metrics["test/retrieval/m0->m1/MRR"] <= 1.0
    assert not any(k.startswith("test/probe/") for k in metrics)
    best = out / "checkpoints" / "best.ckpt"
    assert not ContrastiveTask.load_from_checkpoint(best, weights_only=True).data_info.labelled
    assert main(["test", "--ckpt_path", str(best), "--data.test", test, "--out", str(tmp_path / "test")]) == 0
    tested = json.loads((tmp_path / "test" / "metrics.json").read_text())
    assert tested["test/retrieval/m0+m1->m2/R@1"] == metrics["test/retrieval/m0+m1->m2/R@1"]
    labelled = str(write_triples(tmp_path / "labelled.npz", 16, rng))  # ignored by a model trained without labels
    assert main(["test", "--ckpt_path", str(best), "--data.test", labelled, "--out", str(tmp_path / "labelled")]) == 0


@pytest.mark.parametrize("task", ["supervised", "contrastive"])
def test_unlabelled_data_is_one_line_where_targets_are_needed(task, tmp_path, capsys) -> None:
    rng = np.random.default_rng(0)
    unlabelled = unlabelled_triples(tmp_path / "train.npz", 32, rng)
    labelled = write_triples(tmp_path / "test.npz", 16, rng)
    test = labelled if task == "contrastive" else unlabelled
    assert main(["fit", "--task", task, "--data.train", unlabelled, "--data.test", str(test), "--max_epochs", "1",
                 "--out", str(tmp_path / "run"), *QUIET]) == 2
    expected = ("test.npz has targets" if task == "contrastive" else
                "the supervised task needs targets; the data has none (no 'y' array)")
    assert expected in capsys.readouterr().err
