"""``polymodal fit`` / ``validate`` / ``test``: Lightning CLI plus the run directory.

Every run writes to its output directory (``--out``): the resolved
``config.yaml``, ``checkpoints/`` (best by the task's validation metric, and
``last.ckpt`` for resuming with ``--ckpt_path last``), CSV logs
(``metrics.csv``) and ``metrics.json`` with flat keys such as ``test/acc``.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import torch
import yaml
from lightning.fabric.utilities.rank_zero import rank_zero_only
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.utilities.exceptions import SIGTERMException

from polymodal.callbacks import BestCheckpoint, PatientEarlyStopping
from polymodal.csv_log import ResumableCSVLogger
from polymodal.resume import ExactResume

from polymodal.cli_args import expand_short_forms, pop_flag, pop_option
from polymodal.data.datamodule import MultimodalDataModule
from polymodal.errors import FitInterrupted, PolymodalError
from polymodal.run_directory import prepare_run_directory
from polymodal.eval.metrics import as_floats
from polymodal.eval.summary import print_summary
from polymodal.tasks.registry import DATA_INFO_KEY, TASK_KEY, TASKS

DEFAULT_OUT = "runs/latest"
METRICS_FILE = "metrics.json"


def data_info_of(datamodule: MultimodalDataModule) -> dict[str, Any]:
    return datamodule.info.to_dict()


DEFAULT_CLASSES = {"model": "polymodal.tasks.supervised.SupervisedTask", "data": "polymodal.data.npz.NpzDataModule"}
"""The task and data classes when the command line and its configs name none."""


def chosen_groups(argv: Sequence[str]) -> set[str]:
    """The groups (``model``, ``data``) whose class the arguments or their config files choose.

    A default class is set only for the others: jsonargparse carries a class's
    options over to a class chosen after it, so a default task would hand
    its learning rate to the task the user picked.
    """
    chosen: set[str] = set()
    args = list(argv)
    for i, arg in enumerate(args):
        key, _, value = arg.partition("=")
        if key in ("--model", "--data"):
            chosen.add(key[2:])
        elif key == "--config":
            path = Path(value or (args[i + 1] if i + 1 < len(args) else ""))
            if path.is_file():
                try:
                    content = yaml.safe_load(path.read_text())
                except (yaml.YAMLError, UnicodeDecodeError, ValueError):
                    continue  # the CLI's own parser reports a bad config
                if isinstance(content, dict):
                    chosen |= {group for group in DEFAULT_CLASSES if group in content}
    return chosen


class PolymodalCLI(LightningCLI):
    """Lightning CLI with polymodal's defaults: task and data classes, run directory, linked data info."""

    def __init__(self, *args: Any, default_classes: dict[str, str], **kwargs: Any) -> None:
        self.default_classes = default_classes
        super().__init__(*args, **kwargs)

    def add_arguments_to_parser(self, parser) -> None:
        parser.add_argument("--out", default=DEFAULT_OUT, help="run directory (config, checkpoints, logs, metrics.json)")
        parser.add_argument("--early_stopping", type=int, default=0,
                            help="stop after this many validation epochs without improvement (0: off)")
        parser.set_defaults({group: {"class_path": path} for group, path in self.default_classes.items()})
        parser.link_arguments("data", "model.init_args.data_info", compute_fn=data_info_of, apply_on="instantiate")
        parser.link_arguments("seed_everything", "data.init_args.seed")

    def instantiate_trainer(self, **kwargs: Any) -> L.Trainer:
        out = Path(self.config_init["out"])
        metric, mode = self.model.monitor
        callbacks = list(self.config_init["trainer"].get("callbacks") or [])
        callbacks.append(ExactResume())
        callbacks.append(BestCheckpoint(dirpath=out / "checkpoints", filename="best", monitor=metric,
                                         mode=mode, save_last=True))
        if self.config_init["early_stopping"]:
            callbacks.append(PatientEarlyStopping(metric, mode=mode, patience=self.config_init["early_stopping"]))
        kwargs.setdefault("logger", ResumableCSVLogger(out, name="", version=""))
        return super().instantiate_trainer(default_root_dir=str(out), callbacks=callbacks, **kwargs)


def build_cli(argv: Sequence[str]) -> PolymodalCLI:
    warnings.filterwarnings("ignore", "LightningCLI's args parameter is intended")
    chosen = chosen_groups(argv)
    return PolymodalCLI(
        default_classes={group: path for group, path in DEFAULT_CLASSES.items() if group not in chosen},
        datamodule_class=MultimodalDataModule,
        subclass_mode_data=True,
        subclass_mode_model=True,
        run=False,
        args=list(argv),
        save_config_kwargs={"overwrite": True},
        seed_everything_default=0,
        parser_kwargs={"prog": "polymodal fit", "exit_on_error": False},
    )


def write_metrics(out: Path, metrics: dict[str, float]) -> Path:
    """Write ``metrics.json`` (flat keys, sorted) into the run directory."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / METRICS_FILE
    path.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    return path


def run_fit(argv: Sequence[str]) -> dict[str, float]:
    """Train, keep the best validation checkpoint, evaluate it, write ``metrics.json``."""
    args = list(argv)
    ckpt_path = pop_option(args, "--ckpt_path", "--ckpt")
    overwrite = pop_flag(args, "--overwrite")
    cli = build_cli(expand_short_forms(args))
    trainer, task, data = cli.trainer, cli.model, cli.datamodule
    out = Path(cli.config_init["out"])
    if rank_zero_only.rank == 0:  # the other DDP processes start inside fit, after this check
        prepare_run_directory(out, ckpt_path, overwrite)
    fit_or_explain_interruption(trainer, task, data, ckpt_path, argv)
    best = trainer.checkpoint_callback.best_model_path or None
    stage = "test" if data.has_split("test") else "validate"
    results = getattr(trainer, stage)(task, datamodule=data, ckpt_path=best, verbose=False)
    metrics = as_floats(results[0]) if results else {}
    if trainer.is_global_zero:  # under DDP every process runs this function; one writes the results
        path = write_metrics(out, metrics)
        print_summary(metrics, f"best checkpoint: {best}", f"metrics: {path}")
    return metrics


def fit_or_explain_interruption(trainer: L.Trainer, task: L.LightningModule, data: MultimodalDataModule,
                                ckpt_path: str | None, argv: Sequence[str]) -> None:
    """``trainer.fit``; a run stopped by Ctrl-C or SIGTERM ends with how to resume it (exit 130)."""
    try:
        trainer.fit(task, datamodule=data, ckpt_path=ckpt_path)
    except (KeyboardInterrupt, SystemExit, SIGTERMException) as stop:
        if isinstance(stop, SystemExit) and not trainer.interrupted:
            raise
        resume = " ".join(["polymodal fit", *[a for a in argv if a not in ("--overwrite",)], "--ckpt_path", "last"])
        raise FitInterrupted(f"training stopped at epoch {trainer.current_epoch}; resume with: {resume}") from None
    if trainer.interrupted:
        raise FitInterrupted(f"training stopped at epoch {trainer.current_epoch}; resume with --ckpt_path last")


def load_task(ckpt: str) -> L.LightningModule:
    """Any polymodal task from its checkpoint (its class is recorded in the file)."""
    path = Path(ckpt)
    if not path.is_file():
        raise PolymodalError(f"{ckpt}: no such checkpoint")
    try:
        meta = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for a non-checkpoint file
        raise PolymodalError(f"{ckpt}: not a readable checkpoint ({err.__class__.__name__})") from None
    if TASK_KEY not in meta or DATA_INFO_KEY not in meta:
        raise PolymodalError(f"{ckpt}: not a polymodal checkpoint (no task or data info recorded)")
    return TASKS.get(meta[TASK_KEY]).from_checkpoint(path)


def run_evaluate(stage: str, argv: Sequence[str]) -> dict[str, float]:
    """``polymodal test|validate --ckpt CKPT --data.test FILE --out DIR``.

    For a sleep checkpoint, ``--conditions both,eeg_only,...`` evaluates the
    test nights under each condition (:mod:`polymodal.eval.sleep_eval`).
    """
    from jsonargparse import ArgumentParser

    args = list(argv)
    ckpt = pop_option(args, "--ckpt", "--ckpt_path")
    if ckpt is None:
        raise PolymodalError(f"polymodal {stage} needs --ckpt CHECKPOINT")
    conditions = pop_option(args, "--conditions")
    task = load_task(ckpt)
    sleep = TASKS.get("sleep")
    if conditions is not None and (stage != "test" or not isinstance(task, sleep)):
        raise PolymodalError("--conditions applies to `polymodal test` of a sleep-staging checkpoint")
    default_data = "polymodal.data.sleep.SleepDataModule" if isinstance(task, sleep) else "polymodal.data.npz.NpzDataModule"
    parser = ArgumentParser(prog=f"polymodal {stage}", exit_on_error=False)
    parser.add_argument("--config", action="config")
    parser.add_subclass_arguments(MultimodalDataModule, "data", default={"class_path": default_data})
    parser.add_argument("--out", default=str(Path(ckpt).resolve().parent.parent / stage))
    parser.add_argument("--accelerator", default="auto")
    parser.add_argument("--devices", default="auto")
    config = parser.instantiate_classes(parser.parse_args(expand_short_forms(args)))
    data: MultimodalDataModule = config.data
    expected = task.data_info
    if not data.requested_modalities:
        data.requested_modalities = list(expected.modalities)
    check_compatible(expected, data.info)
    split = "test" if stage == "test" else "val"
    if not data.has_split(split):
        raise PolymodalError(f"polymodal {stage}: give the {split} data (--data.{split} FILE)")
    if conditions is not None:
        from polymodal.eval.sleep_report import evaluate_and_plot

        metrics = evaluate_and_plot(task, data, conditions, Path(config.out))
    else:
        trainer = L.Trainer(accelerator=config.accelerator, devices=config.devices, logger=False,
                            default_root_dir=config.out)
        results = getattr(trainer, stage)(task, datamodule=data, verbose=False)
        metrics = as_floats(results[0]) if results else {}
    path = write_metrics(Path(config.out), metrics)
    print_summary(metrics, f"checkpoint: {ckpt}", f"metrics: {path}")
    return metrics


def check_compatible(expected, found) -> None:
    """The evaluation data must have the model's modalities, shapes and class range."""
    for m in expected.modalities:
        if found.shapes[m] != expected.shapes[m]:
            raise PolymodalError(
                f"modality {m!r}: data has per-sample shape {found.shapes[m]}, the model expects {expected.shapes[m]}"
            )
    if expected.num_classes and found.num_classes > expected.num_classes:
        raise PolymodalError(
            f"data has label {found.num_classes - 1}, the model knows {expected.num_classes} classes"
        )
    if bool(expected.num_classes) != bool(found.num_classes):
        raise PolymodalError("data and model disagree on classification vs regression targets")
