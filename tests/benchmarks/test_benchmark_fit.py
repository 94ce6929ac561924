"""One training step of ``polymodal fit --dataset NAME --data.root DIR`` on every benchmark fixture."""

import json

import pytest

from polymodal.cli import main

from .conftest import write_affect, write_avmnist

FAST = ["--max_epochs", "1", "--trainer.limit_train_batches", "1", "--trainer.limit_val_batches", "1",
        "--trainer.limit_test_batches", "1", "--trainer.enable_progress_bar", "false", "--trainer.num_sanity_val_steps", "0"]
AV = ["--encoder", "resnet18", "--encoder_options.width", "4", "--data.frame_size", "16", "--data.batch_size", "4"]


@pytest.mark.parametrize("name, options", [
    ("cremad", ["--data.val_fraction", "0.5"]),
    ("ave", ["--data.audio_steps", "188"]),
    ("kinetics-sounds", ["--data.val_fraction", "0.5"]),
    ("ucf101", []),
])
def test_fit_prepared_audio_visual(prepared, tmp_path, name, options):
    out = tmp_path / "run"
    assert main(["fit", "--dataset", name, "--data.root", str(prepared(name)), *AV, *options, *FAST,
                 "--method", "multiloss", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert 0.0 <= metrics["test/acc"] <= 1.0 and "test/acc/audio" in metrics


@pytest.mark.parametrize("name, file, options", [
    ("mosei", "mosei_senti_data.pkl", ["--data.target", "regression"]),
    ("mosi", "mosi_raw.pkl", ["--data.target", "binary"]),
])
def test_fit_affect(tmp_path, name, file, options):
    write_affect(tmp_path / "data" / file)
    out = tmp_path / "run"
    assert main(["fit", "--dataset", name, "--data.root", str(tmp_path / "data"), *options, *FAST,
                 "--encoder", "mlp", "--data.batch_size", "8", "--method", "joint", "--out", str(out)]) == 0
    assert "test/loss" in json.loads((out / "metrics.json").read_text())


def test_fit_avmnist(tmp_path):
    write_avmnist(tmp_path / "avmnist")
    out = tmp_path / "run"
    assert main(["fit", "--dataset", "avmnist", "--data.root", str(tmp_path / "avmnist"), "--data.val_size", "10",
                 "--encoder", "resnet18", "--encoder_options.width", "4", "--data.batch_size", "8", *FAST,
                 "--method", "mlb", "--out", str(out)]) == 0
    assert "test/acc/image" in json.loads((out / "metrics.json").read_text())


def test_missing_root_is_one_line_error(tmp_path, capsys):
    assert main(["fit", "--dataset", "cremad", "--data.root", str(tmp_path / "nowhere"), *FAST]) == 2
    assert "manifest.json: no such file" in capsys.readouterr().err
