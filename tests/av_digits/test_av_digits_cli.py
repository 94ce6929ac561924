"""av-digits through the command line: an end-to-end fit on the shipped FSDD copy, and every config."""

import json
from pathlib import Path

import pytest

from polymodal.cli import main
from polymodal.cli_args import dataset_arguments

SHARED_FSDD = Path("/work/shared/data/fsdd")
CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs" / "av-digits").glob("*.yaml"))
QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"]
TINY_AUDIO = ["--data.n_fft", "64", "--data.hop", "32", "--data.seconds", "0.25", "--data.max_per_class", "1"]


@pytest.mark.skipif(not (SHARED_FSDD / "recordings").is_dir(), reason="the shared FSDD copy is not on this machine")
def test_fit_mcr_on_fsdd_writes_fused_and_unimodal_accuracy(tmp_path):
    code = main(["fit", "--dataset", "av-digits", "--data.root", str(SHARED_FSDD), "--data.max_per_class", "2",
                 "--method", "mcr", "--encoder", "resnet18", "--encoder_options.width", "4", "--max_epochs", "1",
                 "--out", str(tmp_path), *QUIET])
    assert code == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert {"test/acc", "test/acc/audio", "test/acc/image"} <= set(metrics)


def test_hard_variant_and_modality_selection_reach_the_data_options():
    args = dataset_arguments("av-digits:hard:audio+image")
    assert args[:2] == ["--data", "polymodal.data.av_digits.AvDigitsDataModule"]
    assert "--data.image_energy" in args and args[-2:] == ["--data.modalities", "[audio,image]"]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
def test_config_runs_one_batch(config: Path, fsdd_root, tmp_path) -> None:
    code = main(["fit", "--config", str(config), "--data.root", str(fsdd_root), *TINY_AUDIO,
                 "--trainer.fast_dev_run", "true", "--out", str(tmp_path), *QUIET])
    assert code == 0
    assert (tmp_path / "metrics.json").is_file()
