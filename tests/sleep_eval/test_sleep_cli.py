"""End to end from EDF + XML files: ``sleep prepare``, ``fit --config``, ``test --conditions``, ``bench sleep``."""

import csv
import json
from pathlib import Path

from polymodal.cli import main

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "sleep" / "core.yaml"
TINY = '{"d_model": 8, "depth": 1, "heads": 2, "ffn_dim": 16, "head_hidden": 8}'
SPLIT = ["--data.test_fraction", "0.2", "--data.val_fraction", "0.2"]


def test_prepare_fit_test_with_conditions(tiny_source, tmp_path, capsys):
    cache, run = tmp_path / "cache", tmp_path / "run"
    assert main(["sleep", "prepare", str(tiny_source), "--layout", "nsrr", "--out", str(cache)]) == 0
    assert main(["fit", "--config", str(CONFIG), "--data.cache_dir", str(cache), "--out", str(run),
                 "--trainer.max_epochs", "1", "--trainer.enable_progress_bar", "false", "--model.sizes", TINY,
                 "--data.seq_len", "5", *SPLIT]) == 0
    checkpoint = run / "checkpoints" / "best.ckpt"
    conditions = ["both", "eeg_only", "eog_only", "eeg_gauss_snr0", "eog_dropseg"]
    assert main(["test", "--ckpt", str(checkpoint), "--data.cache_dir", str(cache), "--data.seq_len", "5", *SPLIT,
                 "--conditions", ",".join(conditions), "--out", str(tmp_path / "test")]) == 0
    metrics = json.loads((tmp_path / "test" / "metrics.json").read_text())
    for condition in conditions:
        for key in ("kappa", "acc", "f1_macro"):
            assert 0.0 <= metrics[f"test/{condition}/acc"] <= 1.0
            assert -1.0 <= metrics[f"test/{condition}/{key}"] <= 1.0
    with (tmp_path / "test" / "per_night.csv").open() as handle:
        assert {row["condition"] for row in csv.DictReader(handle)} == set(conditions)
    assert (tmp_path / "test" / "plots" / "kappa_vs_noise.png").is_file()
    capsys.readouterr()
    assert main(["test", "--ckpt", str(checkpoint), "--data.cache_dir", str(cache), "--data.seq_len", "5",
                 *SPLIT, "--conditions", "eeg_hiss"]) == 2
    assert "unknown corruption 'hiss'" in capsys.readouterr().err


def test_bench_sleep_runs_and_resumes(tiny_source, tmp_path, capsys):
    args = ["bench", "sleep", "--source", str(tiny_source), "--out", str(tmp_path / "bench"), "--models", "core,eeg",
            "--conditions", "both,eog_only,eeg_gauss_snr0,eeg_flat", "--max_epochs", "1", "--sizes", TINY,
            "--seq_len", "5", "--test_fraction", "0.2"]
    assert main(args) == 0
    with (tmp_path / "bench" / "results.csv").open() as handle:
        rows = {row["model"]: row for row in csv.DictReader(handle)}
    assert rows["core"]["status"] == rows["eeg"]["status"] == "ok"
    assert rows["core"]["eog_only/kappa"] != "" and rows["eeg"]["eog_only/kappa"] == ""  # not applicable
    assert rows["eeg"]["eeg_gauss_snr0/kappa"] != ""
    assert float(rows["core"]["train_seq_per_s"]) > 0
    assert (tmp_path / "bench" / "kappa_vs_noise.png").is_file()
    report = (tmp_path / "bench" / "results.md").read_text()
    assert "| core |" in report and "eeg_flat equals eog_only" in report
    assert rows["core"]["eeg_flat/kappa"] == rows["core"]["eog_only/kappa"]  # a flat EEG is an absent EEG
    finished = (tmp_path / "bench" / "runs" / "core" / "seed0" / "result.json").stat().st_mtime_ns
    assert main(args) == 0
    assert (tmp_path / "bench" / "runs" / "core" / "seed0" / "result.json").stat().st_mtime_ns == finished
