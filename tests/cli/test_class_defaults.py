"""A task or dataset chosen on the command line gets its own defaults, not the default class's."""

from __future__ import annotations

from polymodal.cli_args import expand_short_forms
from polymodal.runner import configured, default_classes


def test_task_and_dataset_keep_their_own_defaults() -> None:
    args = expand_short_forms(["--task", "contrastive", "--objective", "confu", "--dataset", "xor",
                               "--data.train_size", "64", "--data.val_size", "32", "--data.test_size", "32"])
    cli = configured(args)
    assert cli.model.hparams.lr == 1e-4 and cli.model.hparams.min_lr == 1e-6  # ContrastiveTask's, not 1e-3 / 0
    assert cli.datamodule.batch_size == 256  # the XOR data's default, not the npz loader's 64


def test_groups_chosen_by_a_config_file(tmp_path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("model:\n  class_path: polymodal.tasks.ContrastiveTask\n")
    assert set(default_classes("fit", ["--config", str(config)])) == {"data"}
    assert default_classes("fit", [f"--config={config}", "--data", "X"]) == {}
    assert set(default_classes("fit", ["--model.lr", "0.1"])) == {"model", "data"}
