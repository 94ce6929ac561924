"""The reference-protocol configs: every option exists, and one config of each kind trains a step."""

import importlib
import inspect
import json
from pathlib import Path

import pytest
import yaml

from polymodal.balance import resolve_balancer
from polymodal.cli import main

from .conftest import write_affect

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
DATASETS = ("cremad", "ave", "kinetics-sounds", "ucf101", "mosei", "mosi", "avmnist")
TINY = ["--max_epochs", "1", "--trainer.limit_train_batches", "1", "--trainer.limit_val_batches", "1",
        "--trainer.limit_test_batches", "1", "--trainer.val_check_interval", "1", "--trainer.enable_progress_bar",
        "false", "--trainer.num_sanity_val_steps", "0"]


def load_class(path: str):
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("path", sorted(p for d in DATASETS for p in (CONFIGS / d).glob("*.yaml")), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_config_options_exist(path):
    config = yaml.safe_load(path.read_text())
    for section in ("model", "data"):
        cls = load_class(config[section]["class_path"])
        unknown = set(config[section]["init_args"]) - set(inspect.signature(cls).parameters)
        assert not unknown, f"{path.name}: {cls.__name__} has no option {sorted(unknown)}"
    args = config["model"]["init_args"]
    if "balancer" in args:
        resolve_balancer(args["balancer"])
    assert config["seed_everything"] == 109


def test_cremad_mcr_config_trains_a_step(prepared, tmp_path):
    out = tmp_path / "run"
    assert main(["fit", "--config", str(CONFIGS / "cremad" / "mcr.yaml"), "--data.root", str(prepared("cremad")),
                 "--data.frame_size", "16", "--model.encoder_options.width", "4", "--data.batch_size", "4",
                 "--data.val_fraction", "0.5", "--data.num_workers", "0", *TINY, "--out", str(out)]) == 0
    assert "test/acc" in json.loads((out / "metrics.json").read_text())


def test_mosei_confu_config_trains_a_step(tmp_path):
    write_affect(tmp_path / "mosei" / "mosei_senti_data.pkl")
    out = tmp_path / "run"
    assert main(["fit", "--config", str(CONFIGS / "mosei" / "confu.yaml"), "--data.root", str(tmp_path / "mosei"),
                 "--data.batch_size", "8", *TINY, "--out", str(out)]) == 0
    assert any(key.startswith("test/retrieval/") for key in json.loads((out / "metrics.json").read_text()))
